/* One table for the ONNXRUN_* variables: a variable takes either one of a
 * list of words (its value is the word's index) or an integer in a range
 * (sizes may carry a K or M suffix). */
#include "env.h"

#include "cpu.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct env_spec {
    const char *name;
    const char *const *words; /* NULL: an integer in [lo, hi] */
    int64_t lo, hi;
    bool size; /* an integer with an optional K/M suffix (or_cpu_size_from_text) */
    const char *accepts;
} env_spec;

/* In or_isa order: the value is the or_isa. */
static const char *const isa_words[] = {"scalar", "avx2", "avx512", "neon", NULL};
_Static_assert(OR_ISA_SCALAR == 0 && OR_ISA_AVX2 == 1 && OR_ISA_AVX512 == 2 && OR_ISA_NEON == 3,
               "isa_words follows or_isa");

static const env_spec specs[OR_ENV_COUNT] = {
    [OR_ENV_ISA] = {"ONNXRUN_ISA", isa_words, 0, 0, false, "scalar, avx2, avx512 or neon"},
    [OR_ENV_L2_BYTES] = {"ONNXRUN_L2_BYTES", NULL, 1, INT64_MAX, true,
                         "a size in bytes above 0, optionally with a K or M suffix"},
    [OR_ENV_L3_BYTES] = {"ONNXRUN_L3_BYTES", NULL, 1, INT64_MAX, true,
                         "a size in bytes above 0, optionally with a K or M suffix"},
    [OR_ENV_STREAM_R] = {"ONNXRUN_STREAM_R", NULL, 0, 2, false, "0, 1 or 2"},
    [OR_ENV_HUGE_R] = {"ONNXRUN_HUGE_R", NULL, 0, 1, false, "0 or 1"},
    [OR_ENV_R_COPIES] = {"ONNXRUN_R_COPIES", NULL, 1, 8, false, "an integer from 1 to 8"},
    [OR_ENV_RNN_FOLD] = {"ONNXRUN_RNN_FOLD", NULL, 0, 1, false, "0 or 1"},
    [OR_ENV_RNN_TEAM] = {"ONNXRUN_RNN_TEAM", NULL, 0, 4, false, "0, 1, 2, 3 or 4"},
    [OR_ENV_RNN_CHUNK] = {"ONNXRUN_RNN_CHUNK", NULL, 1, INT64_MAX, false,
                          "a step count of 1 or more"},
    [OR_ENV_RNN_PIPE] = {"ONNXRUN_RNN_PIPE", NULL, 0, 1, false, "0 or 1"},
    [OR_ENV_L3_SHARED] = {"ONNXRUN_L3_SHARED", NULL, 0, 1, false, "0 or 1"},
};

static int64_t word_index(const char *const *words, const char *text) {
    for (int64_t i = 0; words[i]; i++)
        if (strcmp(words[i], text) == 0) return i;
    return -1;
}

/* Decimal digits only: no sign, space, leading zero or other base. */
static int64_t decimal(const char *text) {
    if (*text < '0' || *text > '9' || (text[0] == '0' && text[1])) return -1;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    return errno || *end ? -1 : (int64_t)n;
}

static int64_t parse(const env_spec *spec, const char *text) {
    if (spec->words) return word_index(spec->words, text);
    int64_t n = -1;
    if (spec->size) {
        size_t bytes = or_cpu_size_from_text(text);
        n = bytes > 0 && bytes <= (size_t)INT64_MAX ? (int64_t)bytes : -1;
    } else {
        n = decimal(text);
    }
    return n >= spec->lo && n <= spec->hi ? n : -1;
}

int64_t or_env_value(or_env_var var) {
    if ((unsigned)var >= OR_ENV_COUNT) return -1;
    const char *text = getenv(specs[var].name);
    return text && *text ? parse(&specs[var], text) : -1;
}

const char *or_env_name(or_env_var var) {
    return (unsigned)var < OR_ENV_COUNT ? specs[var].name : "?";
}

/* The value as a message shows it: control characters as '?' (a newline
 * would split the message's one line per variable), cut to 64 characters
 * with "..." after. */
static void printable(const char *text, char out[68]) {
    size_t n = 0;
    for (; text[n] && n < 64; n++) {
        unsigned char ch = (unsigned char)text[n];
        out[n] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    strcpy(out + n, text[n] ? "..." : "");
}

int or_env_problems(char *message, size_t size) {
    int count = 0;
    size_t used = 0;
    if (size > 0) message[0] = '\0';
    for (int v = 0; v < OR_ENV_COUNT; v++) {
        const char *text = getenv(specs[v].name);
        if (!text || !*text || parse(&specs[v], text) >= 0) continue;
        count++;
        if (used + 1 >= size) continue;
        char shown[68];
        printable(text, shown);
        int n = snprintf(message + used, size - used, "%s%s='%s' is not %s; ignored",
                         used ? "\n" : "", specs[v].name, shown, specs[v].accepts);
        used = n < 0 ? size - 1 : used + (size_t)n < size ? used + (size_t)n : size - 1;
    }
    return count;
}
