/* ONNX backend-test conformance runner.
 *
 * For every case folder under TESTS_DIR/{node,pytorch-converted,
 * pytorch-operator,simple} and each of its test_data_set_N, runs the onnxrun
 * CLI as a subprocess (input_K.pb bound positionally, -o to a scratch folder,
 * killed after a timeout) and compares each output_K.pb with the .npy the CLI
 * wrote: same dtype and shape, |a-e| <= atol + rtol*|e| for floating types
 * (NaN equals NaN), exact for integers and bool. A case passes when all its
 * data sets do.
 *
 * Results are checked against an expected-pass list (one case path per line,
 * e.g. node/test_add): an expected case that fails is a regression and makes
 * the exit status non-zero. Passing cases missing from the list are printed
 * as newly passing; --update appends them (the list only grows).
 *
 * usage: conformance ONNXRUN TESTS_DIR [--expected FILE] [--log FILE]
 *                    [--update] [--jobs N] [--timeout SECONDS] [--filter TEXT]
 * (ONNXRUN and TESTS_DIR may also be given as --onnxrun PATH --data DIR).
 * Failure details go to --log, by default conformance.log next to ONNXRUN.
 */
#include "graph.h"
#include "loader.h"
#include "npy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define RTOL 1e-3
#define ATOL 1e-7
#define REASON_MAX 512

static const char *const suites[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};

typedef struct config {
    const char *onnxrun, *tests_dir, *expected, *log, *filter;
    bool update;
    int jobs;
    int timeout_s;
    char scratch[256];
} config;

typedef struct test_case {
    char *id;  /* "node/test_add" */
    char *dir; /* full path */
    char *op;  /* op label for the table */
    bool passed;
    char reason[REASON_MAX];
} test_case;

/* ---- small helpers ---- */

static char *xstrdup(const char *s) {
    char *d = strdup(s);
    if (!d) {
        fprintf(stderr, "conformance: out of memory\n");
        exit(2);
    }
    return d;
}

static char *path_join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (!p) return xstrdup("");
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

static bool file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of dir that start with prefix and are folders. */
static char **list_dirs(const char *dir, const char *prefix, int *count) {
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **names = NULL;
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
        char *full = path_join(dir, e->d_name);
        struct stat sb;
        bool is_dir = stat(full, &sb) == 0 && S_ISDIR(sb.st_mode);
        free(full);
        if (!is_dir) continue;
        if (*count == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, (size_t)cap * sizeof *names);
            if (!grown) break;
            names = grown;
        }
        names[(*count)++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (names) qsort(names, (size_t)*count, sizeof *names, cmp_str);
    return names;
}

static void free_list(char **list, int n) {
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
}

static void sanitize(const char *name, char *out, size_t len) {
    size_t n = 0;
    for (; name[n] && n + 1 < len; n++) {
        char ch = name[n];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        out[n] = ok ? ch : '_';
    }
    out[n] = '\0';
}

__attribute__((format(printf, 2, 3))) static bool fail(test_case *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
    for (char *p = c->reason; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    return false;
}

/* ---- model metadata (output names, op label) via the loader ---- */

typedef struct model_meta {
    bool loaded;
    int n_outputs;
    char **outputs;
} model_meta;

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && (buf = malloc((size_t)sb.st_size + 1)) &&
        fread(buf, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = buf ? (size_t)sb.st_size : 0;
    return buf;
}

static char *op_label(const or_graph *g) {
    if (g->n_nodes == 0) return xstrdup("(no nodes)");
    for (int i = 1; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].op_type, g->nodes[0].op_type) != 0 ||
            strcmp(g->nodes[i].domain, g->nodes[0].domain) != 0)
            return xstrdup("(multi)");
    const or_node *n = &g->nodes[0];
    size_t len = strlen(n->domain) + strlen(n->op_type) + 2;
    char *s = malloc(len);
    if (!s) return xstrdup("?");
    snprintf(s, len, "%s%s%s", n->domain, n->domain[0] ? "." : "", n->op_type);
    return s;
}

/* The loader's messages name the node as "node 'NAME' (OP): ..."; keep
 * the op so the table still groups the case under it. */
static char *unloadable_label(const char *err) {
    const char *node = strstr(err, "node '");
    const char *open = node ? strstr(node, "' (") : NULL;
    const char *close = open ? strstr(open, "):") : NULL;
    if (!close || close - open > 100) return xstrdup("(unloadable)");
    char label[160];
    snprintf(label, sizeof label, "%.*s (unloadable)", (int)(close - open - 3), open + 3);
    return xstrdup(label);
}

static void load_meta(test_case *c, model_meta *m) {
    memset(m, 0, sizeof *m);
    char *path = path_join(c->dir, "model.onnx");
    size_t len;
    char *buf = read_file(path, &len);
    or_graph *g = NULL;
    char err[OR_ERRMSG_MAX] = "";
    if (buf && or_load_model(buf, len, c->dir, path, &g, err, sizeof err) == ONNXRUN_OK) {
        m->loaded = true;
        m->n_outputs = g->n_outputs;
        m->outputs = calloc((size_t)g->n_outputs + 1, sizeof *m->outputs);
        for (int i = 0; m->outputs && i < g->n_outputs; i++)
            m->outputs[i] = xstrdup(g->tensors[g->outputs[i]].name);
        c->op = op_label(g);
        or_graph_free(g);
    } else {
        c->op = unloadable_label(buf ? err : "");
    }
    free(buf);
    free(path);
}

static void free_meta(model_meta *m) {
    for (int i = 0; m->outputs && i < m->n_outputs; i++) free(m->outputs[i]);
    free(m->outputs);
}

/* ---- running the CLI ---- */

static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char *p = path_join(dir, e->d_name);
            unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static void first_line(const char *path, char *out, size_t len) {
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fgets(out, (int)len, f)) out[strcspn(out, "\r\n")] = '\0';
    fclose(f);
}

/* Waits for pid up to timeout_s; kills it after. Returns the wait status, or
 * -1 on timeout. */
static int wait_with_timeout(pid_t pid, int timeout_s) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long nap_us = 200;
    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0 && errno != EINTR) return -2;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= timeout_s) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            return -1;
        }
        struct timespec ts = {0, nap_us * 1000};
        nanosleep(&ts, NULL);
        if (nap_us < 20000) nap_us *= 2;
    }
}

static bool spawn_cli(const config *cfg, test_case *c, char **argv, const char *errlog) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, errlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, cfg->onnxrun, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return fail(c, "cannot run %s: %s", cfg->onnxrun, strerror(rc));
    int status = wait_with_timeout(pid, cfg->timeout_s);
    if (status == -1) return fail(c, "onnxrun timed out after %d s", cfg->timeout_s);
    if (status == -2) return fail(c, "waitpid failed");
    char line[REASON_MAX - 64];
    first_line(errlog, line, sizeof line);
    if (WIFSIGNALED(status))
        return fail(c, "onnxrun killed by signal %d: %s", WTERMSIG(status), line);
    if (WEXITSTATUS(status) != 0) return fail(c, "onnxrun exit %d: %s", WEXITSTATUS(status), line);
    return true;
}

/* ---- comparison ---- */

static double half_to_double(uint16_t h) {
    int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    double v;
    if (exp == 0)
        v = ldexp(mant, -24);
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = ldexp(mant + 1024, exp - 25);
    return sign ? -v : v;
}

static double bf16_to_double(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static bool is_float8(int dt) {
    return dt >= OR_FLOAT8E4M3FN && dt <= OR_FLOAT8E5M2FNUZ;
}

/* The four ONNX float8 formats: E4M3 or E5M2; FN has no infinities, UZ has
 * no negative zero (0x80 is the NaN) and a bias one larger. */
static double f8_to_double(int dt, uint8_t b) {
    bool e4 = dt == OR_FLOAT8E4M3FN || dt == OR_FLOAT8E4M3FNUZ;
    bool uz = dt == OR_FLOAT8E4M3FNUZ || dt == OR_FLOAT8E5M2FNUZ;
    int mbits = e4 ? 3 : 2, bias = (e4 ? 7 : 15) + uz;
    int exp = (b & 0x7f) >> mbits, mant = b & ((1 << mbits) - 1);
    if (uz && b == 0x80) return NAN;
    if (dt == OR_FLOAT8E4M3FN && (b & 0x7f) == 0x7f) return NAN;
    if (dt == OR_FLOAT8E5M2 && exp == 31) return mant ? NAN : (b & 0x80) ? -INFINITY : INFINITY;
    double v =
        exp == 0 ? ldexp(mant, 1 - bias - mbits) : ldexp(mant + (1 << mbits), exp - bias - mbits);
    return (b & 0x80) ? -v : v;
}

static bool is_float_dtype(int dt) {
    return dt == OR_FLOAT || dt == OR_DOUBLE || dt == OR_FLOAT16 || dt == OR_BFLOAT16 ||
           is_float8(dt);
}

static double float_at(int dt, const void *data, size_t i) {
    switch (dt) {
    case OR_FLOAT:
        return ((const float *)data)[i];
    case OR_DOUBLE:
        return ((const double *)data)[i];
    case OR_FLOAT16:
        return half_to_double(((const uint16_t *)data)[i]);
    case OR_BFLOAT16:
        return bf16_to_double(((const uint16_t *)data)[i]);
    default:
        return f8_to_double(dt, ((const uint8_t *)data)[i]);
    }
}

static bool close_enough(double a, double e) {
    if (isnan(e) || isnan(a)) return isnan(e) && isnan(a);
    if (a == e) return true; /* also equal infinities */
    return fabs(a - e) <= ATOL + RTOL * fabs(e);
}

static bool compare_values(test_case *c, const char *name, int dt, const void *got,
                           const void *want, size_t numel) {
    if (is_float_dtype(dt)) {
        for (size_t i = 0; i < numel; i++) {
            double a = float_at(dt, got, i), e = float_at(dt, want, i);
            if (!close_enough(a, e))
                return fail(c, "output '%s': element %zu is %.9g, expected %.9g", name, i, a, e);
        }
        return true;
    }
    size_t elem = or_dtype_size(dt);
    for (size_t i = 0; i < numel; i++)
        if (memcmp((const char *)got + i * elem, (const char *)want + i * elem, elem) != 0)
            return fail(c, "output '%s': element %zu differs (integer/bool compare is exact)", name,
                        i);
    return true;
}

static bool compare_output(test_case *c, const char *name, const or_tensor *want,
                           const or_npy *got) {
    int gdt = got->dtype;
    /* bfloat16 and float8 are written as '<u2' / '|u1' (raw bits): see runtime/npy.h. */
    if (want->dtype == OR_BFLOAT16 && gdt == OR_UINT16) gdt = OR_BFLOAT16;
    if (is_float8(want->dtype) && gdt == OR_UINT8) gdt = want->dtype;
    /* The sub-byte types come one element per byte: int4/int2 as '|i1', the rest '|u1'. */
    bool signed_sub = want->dtype == OR_INT4 || want->dtype == OR_INT2;
    if (want->dtype >= OR_UINT4 && want->dtype <= OR_INT2 &&
        gdt == (signed_sub ? OR_INT8 : OR_UINT8))
        gdt = want->dtype;
    if (gdt != want->dtype)
        return fail(c, "output '%s': dtype %s, expected %s", name, or_dtype_name(gdt),
                    or_dtype_name(want->dtype));
    bool same = got->rank == want->rank;
    for (int d = 0; same && d < got->rank; d++) same = got->dims[d] == want->dims[d];
    if (!same) {
        char a[128], b[128];
        return fail(c, "output '%s': shape %s, expected %s", name,
                    or_shape_str(got->rank, got->dims, a, sizeof a),
                    or_shape_str(want->rank, want->dims, b, sizeof b));
    }
    if (got->nbytes != want->nbytes)
        return fail(c, "output '%s': %zu bytes, expected %zu", name, got->nbytes, want->nbytes);
    size_t elem = or_dtype_size(want->dtype);
    return compare_values(c, name, want->dtype, got->data, want->data,
                          elem ? want->nbytes / elem : 0);
}

static int count_files(const char *dir, const char *prefix) {
    int n = 0;
    for (;; n++) {
        char name[64];
        snprintf(name, sizeof name, "%s_%d.pb", prefix, n);
        char *p = path_join(dir, name);
        bool ok = file_exists(p);
        free(p);
        if (!ok) return n;
    }
}

static bool check_outputs(test_case *c, const model_meta *m, const char *set, const char *out,
                          int n_outputs) {
    for (int k = 0; k < n_outputs; k++) {
        char name[64], err[OR_ERRMSG_MAX];
        snprintf(name, sizeof name, "output_%d.pb", k);
        char *p = path_join(set, name);
        or_tensor want;
        memset(&want, 0, sizeof want);
        int st = or_load_tensor_pb_file(p, &want, err, sizeof err);
        free(p);
        if (st != ONNXRUN_OK) return fail(c, "%s: cannot parse as a tensor: %s", name, err);
        const char *oname = m->loaded && k < m->n_outputs ? m->outputs[k] : want.name;
        char safe[512];
        sanitize(oname ? oname : "", safe, sizeof safe - 4);
        strcat(safe, ".npy");
        p = path_join(out, safe);
        or_npy got;
        bool ok = or_npy_load_file(p, &got, err, sizeof err) == ONNXRUN_OK;
        free(p);
        if (!ok)
            fail(c, "output '%s' (%s): %s", oname ? oname : "", safe, err);
        else
            ok = compare_output(c, oname ? oname : "", &want, &got);
        or_npy_free(&got);
        or_tensor_free_contents(&want);
        if (!ok) return false;
    }
    return true;
}

static bool check_inputs_parse(test_case *c, const char *set, int n_inputs) {
    for (int k = 0; k < n_inputs; k++) {
        char name[64], err[OR_ERRMSG_MAX];
        snprintf(name, sizeof name, "input_%d.pb", k);
        char *p = path_join(set, name);
        or_tensor t;
        memset(&t, 0, sizeof t);
        int st = or_load_tensor_pb_file(p, &t, err, sizeof err);
        free(p);
        or_tensor_free_contents(&t);
        if (st != ONNXRUN_OK) return fail(c, "%s: cannot parse as a tensor: %s", name, err);
    }
    return true;
}

static bool run_data_set(const config *cfg, test_case *c, const model_meta *m, const char *set) {
    int n_in = count_files(set, "input"), n_out = count_files(set, "output");
    if (!check_inputs_parse(c, set, n_in)) return false;
    char out[512];
    snprintf(out, sizeof out, "%s/XXXXXX", cfg->scratch);
    if (!mkdtemp(out)) return fail(c, "mkdtemp %s: %s", out, strerror(errno));
    char **argv = calloc((size_t)n_in + 6, sizeof *argv);
    if (!argv) return fail(c, "out of memory");
    int a = 0;
    argv[a++] = (char *)cfg->onnxrun;
    argv[a++] = path_join(c->dir, "model.onnx");
    for (int k = 0; k < n_in; k++) {
        char name[64];
        snprintf(name, sizeof name, "input_%d.pb", k);
        argv[a++] = path_join(set, name);
    }
    argv[a++] = "-o";
    argv[a++] = out;
    char *errlog = path_join(out, "stderr.log");
    bool ok = spawn_cli(cfg, c, argv, errlog) && check_outputs(c, m, set, out, n_out);
    for (int k = 1; k < n_in + 2; k++) free(argv[k]);
    free(argv);
    free(errlog);
    remove_tree(out);
    return ok;
}

static void run_case(const config *cfg, test_case *c) {
    model_meta m;
    load_meta(c, &m);
    char *model = path_join(c->dir, "model.onnx");
    int n_sets = 0;
    char **sets = NULL;
    if (!file_exists(model)) {
        fail(c, "no model.onnx");
    } else if (!(sets = list_dirs(c->dir, "test_data_set_", &n_sets)) || n_sets == 0) {
        fail(c, "no test_data_set_* folders");
    } else {
        bool ok = true;
        for (int i = 0; ok && i < n_sets; i++) {
            char *set = path_join(c->dir, sets[i]);
            ok = run_data_set(cfg, c, &m, set);
            if (!ok) {
                char tmp[REASON_MAX + 320];
                snprintf(tmp, sizeof tmp, "%s: %s", sets[i], c->reason);
                memcpy(c->reason, tmp, REASON_MAX - 1);
                c->reason[REASON_MAX - 1] = '\0';
            }
            free(set);
        }
        c->passed = ok;
    }
    free_list(sets, n_sets);
    free(model);
    free_meta(&m);
}

/* ---- workers ---- */

typedef struct pool {
    const config *cfg;
    test_case *cases;
    int n_cases, next, done;
    pthread_mutex_t lock;
} pool;

static void *worker(void *arg) {
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        int i = p->next++;
        pthread_mutex_unlock(&p->lock);
        if (i >= p->n_cases) return NULL;
        run_case(p->cfg, &p->cases[i]);
        pthread_mutex_lock(&p->lock);
        if (++p->done % 100 == 0) fprintf(stderr, "conformance: %d/%d\n", p->done, p->n_cases);
        pthread_mutex_unlock(&p->lock);
    }
}

static void run_all(const config *cfg, test_case *cases, int n) {
    pool p = {.cfg = cfg, .cases = cases, .n_cases = n};
    pthread_mutex_init(&p.lock, NULL);
    pthread_t tids[16];
    int jobs = cfg->jobs < 1 ? 1 : cfg->jobs > 16 ? 16 : cfg->jobs;
    int started = 0;
    for (; started < jobs; started++)
        if (pthread_create(&tids[started], NULL, worker, &p) != 0) break;
    if (started == 0) worker(&p);
    for (int i = 0; i < started; i++) pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&p.lock);
}

/* ---- case discovery ---- */

static test_case *find_cases(const config *cfg, int *count) {
    test_case *cases = NULL;
    int n = 0, cap = 0;
    for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++) {
        char *sdir = path_join(cfg->tests_dir, suites[s]);
        int n_names;
        char **names = list_dirs(sdir, "", &n_names);
        for (int i = 0; i < n_names; i++) {
            char id[512];
            snprintf(id, sizeof id, "%s/%s", suites[s], names[i]);
            if (cfg->filter && !strstr(id, cfg->filter)) continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                test_case *grown = realloc(cases, (size_t)cap * sizeof *cases);
                if (!grown) break;
                cases = grown;
            }
            memset(&cases[n], 0, sizeof cases[n]);
            cases[n].id = xstrdup(id);
            cases[n].dir = path_join(sdir, names[i]);
            n++;
        }
        free_list(names, n_names);
        free(sdir);
    }
    *count = n;
    return cases;
}

/* ---- expected list ---- */

typedef struct strlist {
    char **items;
    int n, cap;
} strlist;

static void strlist_add(strlist *l, const char *s) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        char **grown = realloc(l->items, (size_t)l->cap * sizeof *l->items);
        if (!grown) return;
        l->items = grown;
    }
    l->items[l->n++] = xstrdup(s);
}

static bool strlist_has(const strlist *l, const char *s) {
    return l->n && bsearch(&s, l->items, (size_t)l->n, sizeof *l->items, cmp_str) != NULL;
}

static strlist read_expected(const char *path) {
    strlist l = {0};
    FILE *f = fopen(path, "r");
    if (!f) return l;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        s[strcspn(s, " \t\r\n#")] = '\0';
        if (*s) strlist_add(&l, s);
    }
    fclose(f);
    qsort(l.items, (size_t)l.n, sizeof *l.items, cmp_str);
    return l;
}

static const test_case *find_case(const test_case *cases, int n, const char *id) {
    for (int i = 0; i < n; i++)
        if (strcmp(cases[i].id, id) == 0) return &cases[i];
    return NULL;
}

/* ---- report ---- */

typedef struct op_row {
    const char *op;
    int pass, fail;
} op_row;

static int cmp_row(const void *a, const void *b) {
    return strcmp(((const op_row *)a)->op, ((const op_row *)b)->op);
}

static void print_table(const test_case *cases, int n) {
    op_row *rows = calloc((size_t)n + 1, sizeof *rows);
    if (!rows) return;
    int n_rows = 0, pass = 0;
    for (int i = 0; i < n; i++) {
        int r = 0;
        while (r < n_rows && strcmp(rows[r].op, cases[i].op) != 0) r++;
        if (r == n_rows) rows[n_rows++].op = cases[i].op;
        if (cases[i].passed)
            rows[r].pass++;
        else
            rows[r].fail++;
        pass += cases[i].passed;
    }
    qsort(rows, (size_t)n_rows, sizeof *rows, cmp_row);
    printf("%-36s %6s %6s %6s\n", "op", "pass", "fail", "total");
    for (int r = 0; r < n_rows; r++)
        printf("%-36s %6d %6d %6d\n", rows[r].op, rows[r].pass, rows[r].fail,
               rows[r].pass + rows[r].fail);
    printf("%-36s %6d %6d %6d\n", "TOTAL", pass, n - pass, n);
    free(rows);
}

static void write_log(const config *cfg, const test_case *cases, int n) {
    FILE *f = fopen(cfg->log, "w");
    if (!f) {
        fprintf(stderr, "conformance: cannot write log %s: %s\n", cfg->log, strerror(errno));
        return;
    }
    for (int i = 0; i < n; i++)
        if (!cases[i].passed)
            fprintf(f, "%s [%s]: %s\n", cases[i].id, cases[i].op, cases[i].reason);
    fclose(f);
}

static void append_expected(const config *cfg, const strlist *added) {
    FILE *f = fopen(cfg->expected, "a");
    if (!f) {
        fprintf(stderr, "conformance: cannot update %s: %s\n", cfg->expected, strerror(errno));
        return;
    }
    for (int i = 0; i < added->n; i++) fprintf(f, "%s\n", added->items[i]);
    fclose(f);
    printf("appended %d case(s) to %s\n", added->n, cfg->expected);
}

/* Prints regressions and newly passing cases; returns the regression count. */
static int check_expected(const config *cfg, const test_case *cases, int n) {
    strlist expected = read_expected(cfg->expected), fresh = {0};
    int regressions = 0;
    for (int i = 0; i < expected.n; i++) {
        const char *id = expected.items[i];
        if (cfg->filter && !strstr(id, cfg->filter)) continue;
        const test_case *c = find_case(cases, n, id);
        if (c && c->passed) continue;
        if (!regressions++)
            printf("REGRESSIONS (expected to pass, listed in %s):\n", cfg->expected);
        printf("  %s: %s\n", id, c ? c->reason : "case not found");
    }
    for (int i = 0; i < n; i++)
        if (cases[i].passed && !strlist_has(&expected, cases[i].id))
            strlist_add(&fresh, cases[i].id);
    if (fresh.n) {
        printf("newly passing (%d):\n", fresh.n);
        for (int i = 0; i < fresh.n; i++) printf("  %s\n", fresh.items[i]);
        if (cfg->update)
            append_expected(cfg, &fresh);
        else
            printf("hint: run with --update to add them to %s\n", cfg->expected);
    }
    free_list(expected.items, expected.n);
    free_list(fresh.items, fresh.n);
    return regressions;
}

/* ---- main ---- */

static void usage(void) {
    fprintf(stderr, "usage: conformance ONNXRUN TESTS_DIR [--expected FILE] [--log FILE] "
                    "[--update] [--jobs N] [--timeout SECONDS] [--filter TEXT]\n"
                    "       (or --onnxrun ONNXRUN --data TESTS_DIR instead of the positionals)\n");
    exit(2);
}

static void default_expected(char *buf, size_t len) {
    /* __FILE__ is this source's absolute path under CMake. */
    const char *slash = strrchr(__FILE__, '/');
    if (slash && __FILE__[0] == '/')
        snprintf(buf, len, "%.*s/conformance_expected.txt", (int)(slash - __FILE__), __FILE__);
    else
        snprintf(buf, len, "tests/conformance_expected.txt");
}

/* The value of option name at argv[*i], or NULL when argv[*i] is not it. */
static const char *opt(int argc, char **argv, int *i, const char *name) {
    if (strcmp(argv[*i], name) != 0) return NULL;
    if (*i + 1 >= argc) usage();
    return argv[++*i];
}

static void parse_args(int argc, char **argv, config *cfg) {
    static char expected[1024];
    default_expected(expected, sizeof expected);
    *cfg = (config){.expected = expected, .jobs = 2, .timeout_s = 60};
    const char *positional[2] = {NULL, NULL}, *v;
    int n_pos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--update") == 0)
            cfg->update = true;
        else if ((v = opt(argc, argv, &i, "--onnxrun")))
            cfg->onnxrun = v;
        else if ((v = opt(argc, argv, &i, "--data")))
            cfg->tests_dir = v;
        else if ((v = opt(argc, argv, &i, "--expected")))
            cfg->expected = v;
        else if ((v = opt(argc, argv, &i, "--log")))
            cfg->log = v;
        else if ((v = opt(argc, argv, &i, "--filter")))
            cfg->filter = v;
        else if ((v = opt(argc, argv, &i, "--jobs")))
            cfg->jobs = atoi(v);
        else if ((v = opt(argc, argv, &i, "--timeout")))
            cfg->timeout_s = atoi(v);
        else if (argv[i][0] == '-' || n_pos == 2)
            usage();
        else
            positional[n_pos++] = argv[i];
    }
    int k = 0;
    if (!cfg->onnxrun && k < n_pos) cfg->onnxrun = positional[k++];
    if (!cfg->tests_dir && k < n_pos) cfg->tests_dir = positional[k++];
    if (k < n_pos || !cfg->onnxrun || !cfg->tests_dir || cfg->jobs < 1 || cfg->timeout_s < 1)
        usage();
    if (!cfg->log) { /* next to the binary, i.e. in the (git-ignored) build folder */
        static char log[1024];
        const char *slash = strrchr(cfg->onnxrun, '/');
        int dir_len = slash ? (int)(slash - cfg->onnxrun) : 1;
        snprintf(log, sizeof log, "%.*s/conformance.log", dir_len, slash ? cfg->onnxrun : ".");
        cfg->log = log;
    }
}

int main(int argc, char **argv) {
    config cfg;
    parse_args(argc, argv, &cfg);
    if (access(cfg.onnxrun, X_OK) != 0) {
        fprintf(stderr, "conformance: %s is not executable\n", cfg.onnxrun);
        return 2;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(cfg.scratch, sizeof cfg.scratch, "%s/conformance-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(cfg.scratch)) {
        fprintf(stderr, "conformance: mkdtemp %s: %s\n", cfg.scratch, strerror(errno));
        return 2;
    }
    int n;
    test_case *cases = find_cases(&cfg, &n);
    if (n == 0) fprintf(stderr, "conformance: no cases found under %s\n", cfg.tests_dir);
    run_all(&cfg, cases, n);
    rmdir(cfg.scratch);
    print_table(cases, n);
    write_log(&cfg, cases, n);
    int regressions = check_expected(&cfg, cases, n);
    int passed = 0;
    for (int i = 0; i < n; i++) passed += cases[i].passed;
    for (int i = 0; i < n; i++) {
        free(cases[i].id);
        free(cases[i].dir);
        free(cases[i].op);
    }
    free(cases);
    printf("failure details: %s\n", cfg.log);
    printf("conformance: %d passed, %d failed\n", passed, n - passed);
    return regressions || n == 0 ? 1 : 0;
}
