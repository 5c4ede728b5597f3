/* Benchmark driver for onnxrun, steered line by line over stdin by
 * bench/bench.js so that its timed runs can alternate with onnxruntime's.
 *
 *   bench_onnxrun [--threads N] [--precision fp32|bf16|int8] MODEL NAME=FILE.npy ...
 *
 * It creates the session (printing "load_ms X"), binds the inputs, then
 * answers one line per command:
 *   run        -> "ms X cpu_ms Y"   one onnxrun_run: wall time of the call, and the
 *                                   process CPU time it used (all threads)
 *   dump DIR   -> "ok"        every output written to DIR/<index>.npy
 *   quit       -> exits
 * Errors are printed as "error <message>" and end the process with status 1.
 * Uses the public API (onnxrun.h); .npy I/O comes from the runtime's npy.h.
 */
#include "npy.h"
#include "onnxrun.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_INPUTS 16

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int fail(const char *what, const char *msg) {
    printf("error %s: %s\n", what, msg);
    fflush(stdout);
    return 1;
}

static int parse_precision(const char *s, onnxrun_precision *out) {
    if (strcmp(s, "fp32") == 0)
        *out = ONNXRUN_PRECISION_FP32;
    else if (strcmp(s, "bf16") == 0)
        *out = ONNXRUN_PRECISION_BF16;
    else if (strcmp(s, "int8") == 0)
        *out = ONNXRUN_PRECISION_INT8;
    else
        return -1;
    return 0;
}

static int bind_input(onnxrun_session *s, const char *arg, or_npy *npy) {
    const char *eq = strchr(arg, '=');
    if (!eq) return fail(arg, "expected NAME=FILE.npy");
    char name[256];
    size_t n = (size_t)(eq - arg);
    if (n >= sizeof name) return fail(arg, "input name too long");
    memcpy(name, arg, n);
    name[n] = '\0';
    char err[256];
    if (or_npy_load_file(eq + 1, npy, err, sizeof err) != ONNXRUN_OK) return fail(eq + 1, err);
    size_t idx;
    if (onnxrun_input_index(s, name, &idx) != ONNXRUN_OK ||
        onnxrun_set_input(s, idx, npy->dtype, npy->rank, npy->dims, npy->data, npy->nbytes) !=
            ONNXRUN_OK)
        return fail(name, onnxrun_errmsg(s));
    return 0;
}

static int dump_outputs(onnxrun_session *s, const char *dir) {
    for (size_t i = 0; i < onnxrun_output_count(s); i++) {
        onnxrun_tensor_view v;
        if (onnxrun_get_output(s, i, &v) != ONNXRUN_OK) return fail("output", onnxrun_errmsg(s));
        char path[4200], err[256]; /* dir is at most one 4096-byte command line */
        snprintf(path, sizeof path, "%s/%zu.npy", dir, i);
        if (or_npy_write_file(path, v.dtype, v.rank, v.dims, v.data, v.nbytes, err, sizeof err) !=
            ONNXRUN_OK)
            return fail(path, err);
    }
    return 0;
}

static int serve(onnxrun_session *s) {
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strcmp(line, "run") == 0) {
            double c0 = cpu_ms(), t0 = now_ms();
            onnxrun_status st = onnxrun_run(s);
            double t1 = now_ms(), c1 = cpu_ms();
            if (st != ONNXRUN_OK) return fail("run", onnxrun_errmsg(s));
            printf("ms %.4f cpu_ms %.4f\n", t1 - t0, c1 - c0);
        } else if (strncmp(line, "dump ", 5) == 0) {
            if (dump_outputs(s, line + 5)) return 1;
            printf("ok\n");
        } else if (strcmp(line, "quit") == 0) {
            return 0;
        } else {
            return fail("command", line);
        }
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv) {
    onnxrun_options opt;
    onnxrun_options_init(&opt);
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "--threads") == 0) {
            opt.num_threads = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--precision") == 0) {
            if (parse_precision(argv[i + 1], &opt.weight_precision))
                return fail("--precision", argv[i + 1]);
        } else {
            return fail("option", argv[i]);
        }
    }
    if (i >= argc || argc - i - 1 > MAX_INPUTS)
        return fail("usage", "bench_onnxrun [--threads N] [--precision P] MODEL NAME=FILE.npy...");
    onnxrun_session *s = NULL;
    double t0 = now_ms();
    onnxrun_status st = onnxrun_session_create_from_file(argv[i], &opt, &s);
    double t1 = now_ms();
    if (st != ONNXRUN_OK) {
        int rc = fail("load", s ? onnxrun_errmsg(s) : onnxrun_status_name(st));
        onnxrun_session_destroy(s);
        return rc;
    }
    printf("load_ms %.4f\n", t1 - t0);
    fflush(stdout);
    or_npy npy[MAX_INPUTS];
    memset(npy, 0, sizeof npy);
    int n_in = argc - i - 1, rc = 0;
    for (int k = 0; k < n_in && !rc; k++) rc = bind_input(s, argv[i + 1 + k], &npy[k]);
    if (!rc) rc = serve(s);
    onnxrun_session_destroy(s);
    for (int k = 0; k < n_in; k++) or_npy_free(&npy[k]);
    return rc;
}
