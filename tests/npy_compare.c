/* npy_compare: compares .npy files within a tolerance (used by
 * tests/models/check_models.sh).
 *
 *   npy_compare [--atol A] [--rtol R] WANT GOT
 *
 * WANT and GOT are both folders (every WANT/NAME.npy is compared with
 * GOT/NAME.npy) or both files. Floating-point elements pass when
 * |got - want| <= atol + rtol * |want| (NaN only matches NaN); integer and
 * bool elements must be equal; dtype and shape must match exactly. Prints one
 * line per file and exits 0 when all pass, 1 when any differs, 2 on usage or
 * read errors.
 */
#include "npy.h"

#include <dirent.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PATH_LEN 2048

static double element(const or_npy *a, size_t i) {
    switch (a->dtype) {
    case ONNXRUN_FLOAT:
        return ((const float *)a->data)[i];
    case ONNXRUN_DOUBLE:
        return ((const double *)a->data)[i];
    case ONNXRUN_INT8:
        return ((const int8_t *)a->data)[i];
    case ONNXRUN_UINT8:
    case ONNXRUN_BOOL:
        return ((const uint8_t *)a->data)[i];
    case ONNXRUN_INT16:
        return ((const int16_t *)a->data)[i];
    case ONNXRUN_UINT16:
        return ((const uint16_t *)a->data)[i];
    case ONNXRUN_INT32:
        return ((const int32_t *)a->data)[i];
    case ONNXRUN_UINT32:
        return ((const uint32_t *)a->data)[i];
    case ONNXRUN_INT64:
        return (double)((const int64_t *)a->data)[i];
    case ONNXRUN_UINT64:
        return (double)((const uint64_t *)a->data)[i];
    default:
        return NAN;
    }
}

static bool is_float(onnxrun_dtype d) {
    return d == ONNXRUN_FLOAT || d == ONNXRUN_DOUBLE;
}

/* 0 within tolerance, 1 different, 2 unreadable. */
static int compare_file(const char *want_path, const char *got_path, const char *label, double atol,
                        double rtol) {
    or_npy want = {0}, got = {0};
    char err[512];
    if (or_npy_load_file(want_path, &want, err, sizeof err) != ONNXRUN_OK) {
        printf("  %s: cannot read expected file: %s\n", label, err);
        return 2;
    }
    if (or_npy_load_file(got_path, &got, err, sizeof err) != ONNXRUN_OK) {
        printf("  %s: MISSING or unreadable output: %s\n", label, err);
        or_npy_free(&want);
        return 1;
    }
    int rc = 0;
    size_t n = 1;
    for (int i = 0; i < want.rank; i++) n *= (size_t)want.dims[i];
    if (want.dtype != got.dtype || want.rank != got.rank ||
        memcmp(want.dims, got.dims, sizeof(int64_t) * (size_t)want.rank) != 0) {
        printf("  %s: DIFFERS: dtype/shape %s rank %d vs expected %s rank %d (dims", label,
               onnxrun_dtype_name(got.dtype), got.rank, onnxrun_dtype_name(want.dtype), want.rank);
        for (int i = 0; i < got.rank; i++) printf(" %lld", (long long)got.dims[i]);
        printf(" vs");
        for (int i = 0; i < want.rank; i++) printf(" %lld", (long long)want.dims[i]);
        printf(")\n");
        rc = 1;
    } else {
        double max_abs = 0, max_rel = 0;
        size_t bad = 0, first = 0;
        bool exact = !is_float(want.dtype);
        for (size_t i = 0; i < n; i++) {
            double e = element(&want, i), a = element(&got, i), d = fabs(a - e);
            if (isnan(e) && isnan(a)) continue;
            bool ok = exact ? a == e : d <= atol + rtol * fabs(e);
            if (!ok && bad++ == 0) first = i;
            if (isnan(d)) d = INFINITY;
            if (d > max_abs) max_abs = d;
            if (fabs(e) > 0 && d / fabs(e) > max_rel) max_rel = d / fabs(e);
        }
        if (bad) {
            printf("  %s: DIFFERS: %zu of %zu elements out of tolerance, first at flat index %zu: "
                   "got %.9g want %.9g; max abs err %.3g\n",
                   label, bad, n, first, element(&got, first), element(&want, first), max_abs);
            rc = 1;
        } else {
            printf("  %s: ok, %zu elements, max abs err %.3g, max rel err %.3g\n", label, n,
                   max_abs, max_rel);
        }
    }
    or_npy_free(&want);
    or_npy_free(&got);
    return rc;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int compare_dirs(const char *want_dir, const char *got_dir, double atol, double rtol) {
    DIR *d = opendir(want_dir);
    if (!d) {
        printf("  cannot open %s\n", want_dir);
        return 2;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".npy") != 0) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown) break;
            names = grown;
        }
        names[n] = malloc(len + 1);
        if (names[n]) memcpy(names[n++], e->d_name, len + 1);
    }
    closedir(d);
    if (n == 0) {
        printf("  no .npy files in %s\n", want_dir);
        free(names);
        return 2;
    }
    qsort(names, n, sizeof *names, by_name);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char wp[PATH_LEN], gp[PATH_LEN];
        snprintf(wp, sizeof wp, "%s/%.900s", want_dir, names[i]);
        snprintf(gp, sizeof gp, "%s/%.900s", got_dir, names[i]);
        int r = compare_file(wp, gp, names[i], atol, rtol);
        if (r > rc) rc = r;
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv) {
    double atol = 1e-5, rtol = 1e-3;
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--atol") == 0)
            atol = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--rtol") == 0)
            rtol = atof(argv[i + 1]);
        else
            break;
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: npy_compare [--atol A] [--rtol R] WANT GOT (two folders or two "
                        "files)\n");
        return 2;
    }
    if (strlen(argv[i]) > 1000 || strlen(argv[i + 1]) > 1000) return 2;
    struct stat st;
    if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
        return compare_dirs(argv[i], argv[i + 1], atol, rtol);
    return compare_file(argv[i], argv[i + 1], argv[i + 1], atol, rtol);
}
