/* The ONNXRUN_* variables: each is parsed in runtime/env.c, a value outside
 * those it accepts counts as unset, and onnxrun_check_environment names it.
 * Every test puts back the caller's settings. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cpu.h"
#include "env.h"
#include "onnxrun.h"
#include "test_env.h"

typedef struct env_case {
    or_env_var var;
    const char *text;
    int64_t want; /* -1: not accepted */
} env_case;

static const env_case cases[] = {
    {OR_ENV_ISA, "scalar", OR_ISA_SCALAR},
    {OR_ENV_ISA, "avx2", OR_ISA_AVX2},
    {OR_ENV_ISA, "avx512", OR_ISA_AVX512},
    {OR_ENV_ISA, "neon", OR_ISA_NEON},
    {OR_ENV_ISA, "AVX2", -1},
    {OR_ENV_ISA, "avx-512", -1},
    {OR_ENV_ISA, "", -1},
    {OR_ENV_L2_BYTES, "512K", 512 << 10},
    {OR_ENV_L2_BYTES, "1m", 1 << 20},
    {OR_ENV_L2_BYTES, "1048576", 1 << 20},
    {OR_ENV_L2_BYTES, "1MB", -1},
    {OR_ENV_L2_BYTES, "0", -1},
    {OR_ENV_L2_BYTES, "-1", -1},
    {OR_ENV_L3_BYTES, "32M", (int64_t)32 << 20},
    {OR_ENV_L3_BYTES, "32M\n", -1},
    {OR_ENV_L3_BYTES, "lots", -1},
    {OR_ENV_STREAM_R, "0", 0},
    {OR_ENV_STREAM_R, "2", 2},
    {OR_ENV_STREAM_R, "3", -1},
    {OR_ENV_STREAM_R, "1 ", -1},
    {OR_ENV_STREAM_R, "01", -1},
    {OR_ENV_HUGE_R, "1", 1},
    {OR_ENV_HUGE_R, "yes", -1},
    {OR_ENV_R_COPIES, "8", 8},
    {OR_ENV_R_COPIES, "0", -1},
    {OR_ENV_R_COPIES, "9", -1},
    {OR_ENV_RNN_FOLD, "0", 0},
    {OR_ENV_RNN_FOLD, "1", 1},
    {OR_ENV_RNN_FOLD, "off", -1},
    {OR_ENV_RNN_TEAM, "3", 3},
    {OR_ENV_RNN_TEAM, "4", 4},
    {OR_ENV_RNN_TEAM, "5", -1},
    {OR_ENV_RNN_TEAM, "yes", -1},
    {OR_ENV_RNN_TEAM, "00", -1},
    {OR_ENV_RNN_CHUNK, "1", 1},
    {OR_ENV_RNN_CHUNK, "1000", 1000},
    {OR_ENV_RNN_CHUNK, "0", -1},
    {OR_ENV_RNN_CHUNK, "+5", -1},
    {OR_ENV_RNN_CHUNK, "12abc", -1},
    {OR_ENV_RNN_CHUNK, "010", -1},
    {OR_ENV_RNN_PIPE, "0", 0},
    {OR_ENV_RNN_PIPE, "1", 1},
    {OR_ENV_RNN_PIPE, "2", -1},
    {OR_ENV_RNN_PIPE, "on", -1},
    {OR_ENV_L3_SHARED, "0", 0},
    {OR_ENV_L3_SHARED, "1", 1},
    {OR_ENV_L3_SHARED, "yes", -1},
    {OR_ENV_L3_SHARED, "2", -1},
    {OR_ENV_RNN_CHUNK, "99999999999999999999", -1},
};

/* Unsets every ONNXRUN_* variable, keeping the caller's values in saved. */
static void clear_all(char *saved[OR_ENV_COUNT]) {
    for (int v = 0; v < OR_ENV_COUNT; v++) saved[v] = swap_env(or_env_name((or_env_var)v), NULL);
}

static void restore_all(char *saved[OR_ENV_COUNT]) {
    for (int v = 0; v < OR_ENV_COUNT; v++) restore_env(or_env_name((or_env_var)v), saved[v]);
    or_cpu_reset();
}

Test(environment, values_each_variable_accepts) {
    char *saved[OR_ENV_COUNT];
    clear_all(saved);
    for (int v = 0; v < OR_ENV_COUNT; v++)
        cr_expect_eq(or_env_value((or_env_var)v), -1, "%s unset", or_env_name((or_env_var)v));
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const env_case *c = &cases[i];
        setenv(or_env_name(c->var), c->text, 1);
        cr_expect_eq(or_env_value(c->var), c->want, "%s='%s': %lld, expected %lld",
                     or_env_name(c->var), c->text, (long long)or_env_value(c->var),
                     (long long)c->want);
        bool valid = c->want >= 0 || !*c->text; /* empty counts as unset */
        char message[256];
        cr_expect_eq(onnxrun_check_environment(message, sizeof message),
                     valid ? ONNXRUN_OK : ONNXRUN_ERR_ARGUMENT, "%s='%s'", or_env_name(c->var),
                     c->text);
        if (!valid)
            cr_expect(strstr(message, or_env_name(c->var)) && strstr(message, "ignored"), "%s",
                      message);
        unsetenv(or_env_name(c->var));
    }
    cr_expect_eq(or_env_value(OR_ENV_COUNT), -1);
    restore_all(saved);
}

Test(environment, message_names_every_invalid_variable) {
    char *saved[OR_ENV_COUNT];
    clear_all(saved);
    char message[512];
    cr_assert_eq(onnxrun_check_environment(message, sizeof message), ONNXRUN_OK);
    cr_expect_str_eq(message, "");
    setenv("ONNXRUN_ISA", "avx-512", 1);
    setenv("ONNXRUN_R_COPIES", "9", 1);
    setenv("ONNXRUN_STREAM_R", "1", 1); /* valid: not named */
    cr_assert_eq(onnxrun_check_environment(message, sizeof message), ONNXRUN_ERR_ARGUMENT);
    cr_expect_str_eq(message, "ONNXRUN_ISA='avx-512' is not scalar, avx2, avx512 or neon; ignored\n"
                              "ONNXRUN_R_COPIES='9' is not an integer from 1 to 8; ignored");
    cr_expect_eq(or_env_problems(NULL, 0), 2);
    cr_expect_eq(onnxrun_check_environment(NULL, 0), ONNXRUN_ERR_ARGUMENT);
    cr_expect_eq(onnxrun_check_environment(NULL, 64), ONNXRUN_ERR_ARGUMENT);
    char small[16];
    memset(small, 'x', sizeof small);
    cr_expect_eq(onnxrun_check_environment(small, sizeof small), ONNXRUN_ERR_ARGUMENT);
    cr_expect_str_eq(small, "ONNXRUN_ISA='av"); /* cut to size, terminated */
    restore_all(saved);
}

/* One line per variable, whatever its value holds: control characters show
 * as '?', and a long value is cut after 64 characters. */
Test(environment, message_keeps_one_line_per_variable) {
    char *saved[OR_ENV_COUNT];
    clear_all(saved);
    char message[512], value[100];
    setenv("ONNXRUN_L3_BYTES", "32M\n\x1b[2J", 1);
    memset(value, '7', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    setenv("ONNXRUN_RNN_CHUNK", value, 1); /* overflows int64 */
    cr_assert_eq(onnxrun_check_environment(message, sizeof message), ONNXRUN_ERR_ARGUMENT);
    cr_expect_str_eq(message,
                     "ONNXRUN_L3_BYTES='32M??[2J' is not a size in bytes above 0, optionally "
                     "with a K or M suffix; ignored\n"
                     "ONNXRUN_RNN_CHUNK='777777777777777777777777777777777777777777777777777777777"
                     "7777777...' is not a step count of 1 or more; ignored");
    restore_all(saved);
}

/* An invalid value leaves the library's own choice: the ISA the CPU has. */
Test(environment, invalid_isa_acts_as_unset) {
    char *saved[OR_ENV_COUNT];
    clear_all(saved);
    or_cpu_reset();
    or_isa own = or_cpu_isa();
    if (own == OR_ISA_SCALAR) {
        restore_all(saved);
        cr_skip_test("the CPU's own ISA is the scalar one");
    }
    setenv("ONNXRUN_ISA", "Scalar", 1);
    or_cpu_reset();
    cr_expect_eq(or_cpu_isa(), own);
    setenv("ONNXRUN_ISA", "scalar", 1);
    or_cpu_reset();
    cr_expect_eq(or_cpu_isa(), OR_ISA_SCALAR);
    restore_all(saved);
}
