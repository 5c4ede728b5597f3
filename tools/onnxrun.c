/* onnxrun: command-line front end. Runs a model on .npy / TensorProto (.pb)
 * inputs through the public API (onnxrun.h) and prints or saves the outputs.
 * --info reads the model with the loader directly so that it still works
 * when the model uses ops this build lacks (session creation fails then). */
#include "graph.h"
#include "loader.h"
#include "npy.h"
#include "onnxrun.h"
#include "convert.h"
#include "registry.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum {
    EXIT_USAGE = 1,
    EXIT_MODEL = 2,
    EXIT_INPUT = 3,
    EXIT_OUTPUT = 4,
    EXIT_MEMORY = 5,
};

static const char usage_text[] =
    "usage: onnxrun [options] MODEL [INPUT ...]\n"
    "  INPUT       FILE.npy or FILE.pb (a serialized TensorProto), or NAME=FILE; positional\n"
    "              inputs bind to the graph's non-initializer inputs in order\n"
    "  -o DIR      write every graph output to DIR/<name>.npy, where <name> is the output's\n"
    "              name with every character outside [A-Za-z0-9._-] replaced by '_'; DIR is\n"
    "              created if missing\n"
    "  --bench N   after one warm-up run, run N times and print one line:\n"
    "              bench: runs=N min_ms=X median_ms=Y mean_ms=Z\n"
    "              (outputs are then only written with -o, not printed)\n"
    "  --threads N intra-op threads (default 1)\n"
    "  --precision fp32|bf16|int8\n"
    "              weight precision of RNN/GRU/LSTM (default fp32; bf16 and int8 trade\n"
    "              accuracy for speed and memory)\n"
    "  --max-memory BYTES\n"
    "              fail (exit 5) instead of using more than BYTES of memory for the model,\n"
    "              its weights and its activations; K, M and G suffixes multiply by 1024\n"
    "  --stream CHUNK\n"
    "              run the model over its inputs in chunks of CHUNK steps along the stream\n"
    "              axis, carrying state outputs into state inputs from chunk to chunk; prints\n"
    "              each chunk's outputs, or with -o writes the outputs concatenated along the\n"
    "              axis (state outputs: their final value)\n"
    "  --stream-axis A\n"
    "              the sequence axis of the streamed inputs (default 0: PyTorch's seq-first\n"
    "              RNN inputs; 1 for batch_first)\n"
    "  --state OUT=IN\n"
    "              with --stream: feed graph output OUT back into graph input IN (repeat for\n"
    "              each state). Default: the inputs after the first pair up in order with the\n"
    "              last outputs (x, h0, c0 -> y, hn, cn gives hn=h0, cn=c0); '--state none'\n"
    "              streams every input with no state. State inputs start at zero unless\n"
    "              given as INPUT files\n"
    "  --info      print the model: producer, opsets, inputs and outputs with their shapes\n"
    "              and types, op histogram, and the ops this build does not support\n"
    "  -h, --help  show this help\n"
    "Without -o, each output's name, dtype, shape and first values are printed.\n"
    "bfloat16 and float8 outputs are written as '<u2' / '|u1' .npy files holding the\n"
    "raw bits.\n"
    "ONNXRUN_* environment variables override kernel and cache choices (README,\n"
    "\"Environment variables\"); a value one does not accept draws a warning and is ignored.\n"
    "Exit status: 0 success, 1 usage error (bad option, too many inputs, unknown input\n"
    "name, input given twice), 2 model error (load, validation, unsupported op, run\n"
    "failure), 3 input error (missing, unreadable, malformed, wrong dtype or shape),\n"
    "4 an output could not be written (I/O error, or a dtype .npy cannot hold), 5 out of\n"
    "memory or over --max-memory.\n";

__attribute__((format(printf, 1, 2))) static void errorf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("onnxrun: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- command line ---- */

typedef struct cli {
    const char *model;
    const char *outdir;
    int bench; /* 0: no benchmark */
    int threads;
    int precision; /* onnxrun_precision */
    bool info;
    const char **inputs;
    int n_inputs;
    size_t max_memory; /* 0: no cap */
    int stream;        /* chunk length, 0: one run */
    int stream_axis;
    bool stream_axis_given; /* without --stream it would be ignored: a usage error */
    const char **states;    /* OUT=IN */
    int n_states;
    bool no_states; /* --state none */
} cli;

/* BYTES with an optional K, M or G (powers of 1024). */
static bool parse_bytes(const char *opt, const char *s, size_t *out) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = s && *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 0;
    int shift = 0;
    if (end && (*end == 'K' || *end == 'k')) shift = 10;
    if (end && (*end == 'M' || *end == 'm')) shift = 20;
    if (end && (*end == 'G' || *end == 'g')) shift = 30;
    if (end && shift) end++;
    if (!end || *end || errno || v == 0 || v > (SIZE_MAX >> shift)) {
        errorf("%s needs a positive byte count (K, M and G suffixes allowed), got '%s'", opt,
               s ? s : "");
        return false;
    }
    *out = (size_t)v << shift;
    return true;
}

static bool parse_count(const char *opt, const char *s, int min, int *out) {
    char *end = NULL;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v < min || v > 1000000000) {
        errorf("%s needs an integer >= %d, got '%s'", opt, min, s ? s : "");
        return false;
    }
    *out = (int)v;
    return true;
}

/* Option value from "--opt=V" or the next argument. */
static const char *opt_value(int argc, char **argv, int *i, const char *name) {
    size_t n = strlen(name);
    if (argv[*i][n] == '=') return argv[*i] + n + 1;
    if (*i + 1 >= argc) return NULL;
    return argv[++*i];
}

static bool is_opt(const char *arg, const char *name) {
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

/* Returns -1 to continue, otherwise the exit code. */
static int parse_option(int argc, char **argv, int *i, cli *c) {
    const char *a = argv[*i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(a, "--info") == 0) {
        c->info = true;
    } else if (strcmp(a, "-o") == 0) {
        c->outdir = *i + 1 < argc ? argv[++*i] : NULL;
        if (!c->outdir || !*c->outdir) {
            errorf("-o needs a directory");
            return EXIT_USAGE;
        }
    } else if (is_opt(a, "--bench")) {
        if (!parse_count("--bench", opt_value(argc, argv, i, "--bench"), 1, &c->bench))
            return EXIT_USAGE;
    } else if (is_opt(a, "--threads")) {
        if (!parse_count("--threads", opt_value(argc, argv, i, "--threads"), 1, &c->threads))
            return EXIT_USAGE;
        if (c->threads > ONNXRUN_MAX_THREADS) {
            errorf("--threads needs at most %d, got %d", ONNXRUN_MAX_THREADS, c->threads);
            return EXIT_USAGE;
        }
    } else if (is_opt(a, "--precision")) {
        const char *v = opt_value(argc, argv, i, "--precision");
        const char *names[3] = {"fp32", "bf16", "int8"};
        c->precision = -1;
        for (int k = 0; v && k < 3; k++)
            if (strcmp(v, names[k]) == 0) c->precision = k;
        if (c->precision < 0) {
            errorf("--precision needs fp32, bf16 or int8, got '%s'", v ? v : "");
            return EXIT_USAGE;
        }
    } else if (is_opt(a, "--max-memory")) {
        if (!parse_bytes("--max-memory", opt_value(argc, argv, i, "--max-memory"), &c->max_memory))
            return EXIT_USAGE;
    } else if (is_opt(a, "--stream-axis")) {
        if (!parse_count("--stream-axis", opt_value(argc, argv, i, "--stream-axis"), 0,
                         &c->stream_axis))
            return EXIT_USAGE;
        c->stream_axis_given = true;
    } else if (is_opt(a, "--stream")) {
        if (!parse_count("--stream", opt_value(argc, argv, i, "--stream"), 1, &c->stream))
            return EXIT_USAGE;
    } else if (is_opt(a, "--state")) {
        const char *v = opt_value(argc, argv, i, "--state");
        const char *eq = v ? strchr(v, '=') : NULL;
        if (v && strcmp(v, "none") == 0) {
            c->no_states = true;
        } else if (!eq || eq == v || !eq[1]) {
            errorf("--state needs OUT=IN (a graph output and a graph input), got '%s'", v ? v : "");
            return EXIT_USAGE;
        } else {
            c->states[c->n_states++] = v;
        }
    } else {
        errorf("unknown option '%s' (try --help)", a);
        return EXIT_USAGE;
    }
    return -1;
}

static int parse_cli(int argc, char **argv, cli *c) {
    memset(c, 0, sizeof *c);
    c->threads = 1;
    c->inputs = calloc((size_t)argc, sizeof *c->inputs);
    c->states = calloc((size_t)argc, sizeof *c->states);
    if (!c->inputs || !c->states) {
        errorf("out of memory");
        return EXIT_USAGE;
    }
    bool no_more_opts = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!no_more_opts && strcmp(a, "--") == 0) {
            no_more_opts = true;
        } else if (!no_more_opts && a[0] == '-' && a[1] != '\0') {
            int rc = parse_option(argc, argv, &i, c);
            if (rc >= 0) return rc;
        } else if (!c->model) {
            c->model = a;
        } else {
            c->inputs[c->n_inputs++] = a;
        }
    }
    if (!c->model) {
        errorf("no MODEL given (usage: onnxrun [options] MODEL [INPUT ...]; see --help)");
        return EXIT_USAGE;
    }
    if ((c->n_states || c->no_states) && !c->stream) {
        errorf("--state needs --stream");
        return EXIT_USAGE;
    }
    if (c->stream_axis_given && !c->stream) {
        errorf("--stream-axis needs --stream");
        return EXIT_USAGE;
    }
    if (c->info && (c->n_inputs || c->bench || c->stream || c->outdir)) {
        errorf("--info only prints the model: it takes no INPUT, --bench, --stream or -o");
        return EXIT_USAGE;
    }
    if (c->stream && c->bench) {
        errorf("--stream and --bench cannot be combined");
        return EXIT_USAGE;
    }
    return -1;
}

/* ---- small helpers ---- */

static char *read_file(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat sb;
    char *buf = NULL;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "not a regular file");
    } else if (!(buf = malloc((size_t)sb.st_size + 1))) {
        snprintf(err, errlen, "out of memory");
    } else if (fread(buf, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
        snprintf(err, errlen, "read failed");
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = buf ? (size_t)sb.st_size : 0;
    return buf;
}

static void shape_str(int rank, const int64_t *dims, char *const *names, char *buf, size_t len) {
    if (rank < 0) {
        snprintf(buf, len, "(unknown rank)");
        return;
    }
    size_t n = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < rank && n < len; d++) {
        const char *sep = d ? "," : "";
        if (dims[d] >= 0)
            n += (size_t)snprintf(buf + n, len - n, "%s%lld", sep, (long long)dims[d]);
        else
            n +=
                (size_t)snprintf(buf + n, len - n, "%s%s", sep, names && names[d] ? names[d] : "?");
    }
    if (n < len) snprintf(buf + n, len - n, "]");
}

/* ---- --info ---- */

static void info_value(const or_graph *g, int idx) {
    const or_tensor *t = &g->tensors[idx];
    char shape[512];
    shape_str(t->rank, t->dims, t->dim_params, shape, sizeof shape);
    printf("  %s: %s %s\n", t->name, or_dtype_name(t->dtype), shape);
}

typedef struct op_count {
    const char *op_type, *domain;
    int count;
    bool unsupported;
    char why[96];
} op_count;

static const char *unsupported_reason(const or_node *n, char *buf, size_t len) {
    int op = or_op_lookup(n->domain, n->op_type);
    if (op < 0) return "not implemented";
    if (n->opset < or_op_first_opset(op)) {
        snprintf(buf, len, "opset %d is older than the first supported, %d", n->opset,
                 or_op_first_opset(op));
        return buf;
    }
    return NULL;
}

static int count_ops(const or_graph *g, op_count *ops) {
    int n_ops = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const or_node *n = &g->nodes[i];
        int k = 0;
        while (k < n_ops &&
               !(strcmp(ops[k].op_type, n->op_type) == 0 && strcmp(ops[k].domain, n->domain) == 0))
            k++;
        if (k == n_ops) ops[n_ops++] = (op_count){.op_type = n->op_type, .domain = n->domain};
        ops[k].count++;
        char buf[96];
        const char *why = unsupported_reason(n, buf, sizeof buf);
        if (why && !ops[k].unsupported) {
            ops[k].unsupported = true;
            snprintf(ops[k].why, sizeof ops[k].why, "%s", why);
        }
    }
    return n_ops;
}

static void info_ops(const or_graph *g) {
    op_count *ops = calloc((size_t)g->n_nodes + 1, sizeof *ops);
    if (!ops) return;
    int n_ops = count_ops(g, ops);
    printf("nodes: %d\nops:\n", g->n_nodes);
    for (int k = 0; k < n_ops; k++)
        printf("  %s%s%s %d\n", ops[k].domain, ops[k].domain[0] ? "." : "", ops[k].op_type,
               ops[k].count);
    int n_unsupported = 0;
    for (int k = 0; k < n_ops; k++) n_unsupported += ops[k].unsupported;
    if (n_unsupported)
        printf("unsupported ops: %d\n", n_unsupported);
    else
        printf("unsupported ops: none\n");
    for (int k = 0; k < n_ops; k++) {
        if (!ops[k].unsupported) continue;
        printf("  %s%s%s (%s)\n", ops[k].domain, ops[k].domain[0] ? "." : "", ops[k].op_type,
               ops[k].why);
    }
    free(ops);
}

static void info_print(const or_graph *g, const char *path) {
    printf("model: %s\n", path);
    printf("ir_version: %lld\n", (long long)g->ir_version);
    printf("producer: %s%s%s\n", g->producer_name && *g->producer_name ? g->producer_name : "?",
           g->producer_version && *g->producer_version ? " " : "",
           g->producer_version ? g->producer_version : "");
    printf("graph: %s\nopsets:", g->graph_name ? g->graph_name : "");
    for (int i = 0; i < g->n_opsets; i++)
        printf(" %s %lld%s", g->opsets[i].domain[0] ? g->opsets[i].domain : "ai.onnx",
               (long long)g->opsets[i].version, i + 1 < g->n_opsets ? "," : "");
    printf("\ninputs (%d):\n", g->n_inputs);
    for (int i = 0; i < g->n_inputs; i++) info_value(g, g->inputs[i]);
    printf("outputs (%d):\n", g->n_outputs);
    for (int i = 0; i < g->n_outputs; i++) info_value(g, g->outputs[i]);
    int n_init = 0;
    size_t init_bytes = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        if (g->tensors[i].kind != OR_T_INITIALIZER) continue;
        n_init++;
        init_bytes += g->tensors[i].nbytes;
    }
    printf("initializers: %d (%zu bytes)\n", n_init, init_bytes);
    info_ops(g);
}

static char *dir_of(const char *path) {
    char *dir = strdup(path);
    if (!dir) return NULL;
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    else
        strcpy(dir, ".");
    return dir;
}

static int run_info(const char *path) {
    char err[OR_ERRMSG_MAX];
    size_t len;
    char *buf = read_file(path, &len, err, sizeof err);
    if (!buf) {
        errorf("model '%s': %s", path, err);
        return EXIT_MODEL;
    }
    char *dir = dir_of(path);
    or_graph *g = NULL;
    int st = dir ? or_load_model(buf, len, dir, path, &g, err, sizeof err) : ONNXRUN_ERR_NOMEM;
    free(buf);
    free(dir);
    if (st != ONNXRUN_OK) {
        if (!strstr(err, path))
            errorf("model '%s': %s", path, st == ONNXRUN_ERR_NOMEM ? "out of memory" : err);
        else
            errorf("%s", err);
        return EXIT_MODEL;
    }
    info_print(g, path);
    or_graph_free(g);
    return 0;
}

/* ---- inputs ---- */

typedef struct input_file {
    const char *path;
    size_t index; /* graph input it binds to */
    bool is_npy;
    or_npy npy;
    or_tensor pb;
} input_file;

static bool looks_like_npy(const char *path) {
    size_t n = strlen(path);
    if (n >= 4 && strcmp(path + n - 4, ".npy") == 0) return true;
    if (n >= 3 && strcmp(path + n - 3, ".pb") == 0) return false;
    unsigned char magic[6] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    size_t got = fread(magic, 1, sizeof magic, f);
    fclose(f);
    return got == 6 && memcmp(magic, "\x93NUMPY", 6) == 0;
}

/* Splits NAME=FILE when NAME is one of the model's inputs. */
static bool split_named(onnxrun_session *s, const char *arg, size_t *index, const char **file) {
    for (const char *eq = strchr(arg, '='); eq; eq = strchr(eq + 1, '=')) {
        char name[512];
        size_t n = (size_t)(eq - arg);
        if (n == 0 || n >= sizeof name) continue;
        memcpy(name, arg, n);
        name[n] = '\0';
        if (onnxrun_input_index(s, name, index) == ONNXRUN_OK) {
            *file = eq + 1;
            return true;
        }
    }
    return false;
}

static void list_inputs(onnxrun_session *s, char *buf, size_t len) {
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < onnxrun_input_count(s) && n < len; i++) {
        onnxrun_tensor_info info;
        if (onnxrun_input_info(s, i, &info) != ONNXRUN_OK) continue;
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", info.name);
    }
}

/* Decides which graph input each INPUT argument binds to. */
static int bind_args(onnxrun_session *s, const cli *c, input_file *files) {
    size_t n_model = onnxrun_input_count(s);
    size_t positional = 0;
    char names[1024];
    for (int i = 0; i < c->n_inputs; i++) {
        const char *arg = c->inputs[i];
        files[i].path = arg;
        if (split_named(s, arg, &files[i].index, &files[i].path)) continue;
        FILE *probe = strchr(arg, '=') ? fopen(arg, "rb") : NULL;
        if (strchr(arg, '=') && !probe) {
            list_inputs(s, names, sizeof names);
            errorf("input '%.*s' (%s): the model has no input of that name (inputs: %s)",
                   (int)(strchr(arg, '=') - arg), arg, arg, names);
            return EXIT_USAGE;
        }
        if (probe) fclose(probe);
        if (positional >= n_model) {
            list_inputs(s, names, sizeof names);
            errorf("too many inputs: '%s' is input #%zu but model '%s' has %zu (%s)", arg,
                   positional + 1, c->model, n_model, names);
            return EXIT_USAGE;
        }
        files[i].index = positional++;
    }
    for (int i = 0; i < c->n_inputs; i++)
        for (int j = 0; j < i; j++)
            if (files[i].index == files[j].index) {
                onnxrun_tensor_info info;
                onnxrun_input_info(s, files[i].index, &info);
                errorf("input '%s' is given twice ('%s' and '%s')", info.name, files[j].path,
                       files[i].path);
                return EXIT_USAGE;
            }
    return -1;
}

static int load_one(input_file *f, const char *name) {
    char err[OR_ERRMSG_MAX];
    f->is_npy = looks_like_npy(f->path);
    int st = f->is_npy ? (int)or_npy_load_file(f->path, &f->npy, err, sizeof err)
                       : or_load_tensor_pb_file(f->path, &f->pb, err, sizeof err);
    if (st != ONNXRUN_OK) {
        size_t n = strlen(f->path);
        const char *msg = strncmp(err, f->path, n) == 0 && err[n] == ':' ? err + n + 1 : err;
        errorf("input '%s' (%s): %s", name, f->path, msg + (*msg == ' '));
        return EXIT_INPUT;
    }
    if (!f->is_npy && f->pb.dtype == OR_STRING) {
        errorf("input '%s' (%s): string tensors are not supported", name, f->path);
        return EXIT_INPUT;
    }
    return -1;
}

/* Checks dtype and static dims against the declaration, naming the file. */
static int check_and_set(onnxrun_session *s, input_file *f, const onnxrun_tensor_info *decl) {
    onnxrun_dtype dtype = f->is_npy ? f->npy.dtype : (onnxrun_dtype)f->pb.dtype;
    int rank = f->is_npy ? f->npy.rank : f->pb.rank;
    const int64_t *dims = f->is_npy ? f->npy.dims : f->pb.dims;
    if (decl->dtype != ONNXRUN_UNDEFINED && dtype != decl->dtype) {
        errorf("input '%s' (%s): expected %s, got %s", decl->name, f->path,
               onnxrun_dtype_name(decl->dtype), onnxrun_dtype_name(dtype));
        return EXIT_INPUT;
    }
    bool bad = decl->rank >= 0 && decl->rank != rank;
    for (int d = 0; !bad && decl->rank >= 0 && d < rank; d++)
        bad = decl->dims[d] >= 0 && decl->dims[d] != dims[d];
    if (bad) {
        char want[512], got[512];
        shape_str(decl->rank, decl->dims, (char *const *)decl->dim_names, want, sizeof want);
        shape_str(rank, dims, NULL, got, sizeof got);
        errorf("input '%s' (%s): expected shape %s, got %s", decl->name, f->path, want, got);
        return EXIT_INPUT;
    }
    const void *data = f->is_npy ? f->npy.data : f->pb.data;
    size_t nbytes = f->is_npy ? f->npy.nbytes : f->pb.nbytes;
    onnxrun_status st = onnxrun_set_input(s, f->index, dtype, rank, dims, data, nbytes);
    if (st != ONNXRUN_OK) {
        const char *msg = onnxrun_errmsg(s);
        char prefix[600];
        snprintf(prefix, sizeof prefix, "input '%s': ", decl->name);
        if (strncmp(msg, prefix, strlen(prefix)) == 0) msg += strlen(prefix);
        errorf("input '%s' (%s): %s", decl->name, f->path, msg);
        return st == ONNXRUN_ERR_NOMEM ? EXIT_MEMORY : EXIT_INPUT;
    }
    return -1;
}

/* state_in[k]: input k is fed by a state (--stream), so it may be missing. */
static int load_inputs(onnxrun_session *s, const cli *c, input_file *files, const bool *state_in) {
    int rc = bind_args(s, c, files);
    if (rc >= 0) return rc;
    for (int i = 0; i < c->n_inputs; i++) {
        onnxrun_tensor_info decl;
        if (onnxrun_input_info(s, files[i].index, &decl) != ONNXRUN_OK) return EXIT_INPUT;
        if ((rc = load_one(&files[i], decl.name)) >= 0) return rc;
        if ((rc = check_and_set(s, &files[i], &decl)) >= 0) return rc;
    }
    for (size_t k = 0; k < onnxrun_input_count(s); k++) {
        bool given = false;
        for (int i = 0; i < c->n_inputs; i++) given |= files[i].index == k;
        if (given || (state_in && state_in[k])) continue;
        onnxrun_tensor_info decl;
        onnxrun_input_info(s, k, &decl);
        char shape[512];
        shape_str(decl.rank, decl.dims, (char *const *)decl.dim_names, shape, sizeof shape);
        errorf("input '%s' (%s %s) is missing: model '%s' has %zu inputs", decl.name,
               onnxrun_dtype_name(decl.dtype), shape, c->model, onnxrun_input_count(s));
        return EXIT_INPUT;
    }
    return -1;
}

static void free_inputs(input_file *files, int n) {
    for (int i = 0; files && i < n; i++) {
        or_npy_free(&files[i].npy);
        or_tensor_free_contents(&files[i].pb);
    }
    free(files);
}

/* ---- outputs ---- */

static void print_value(onnxrun_dtype dt, const void *data, size_t i) {
    switch ((int)dt) {
    case ONNXRUN_FLOAT:
        printf("%.6g", (double)((const float *)data)[i]);
        break;
    case ONNXRUN_DOUBLE:
        printf("%.9g", ((const double *)data)[i]);
        break;
    case ONNXRUN_FLOAT16:
        printf("%.5g", (double)or_f16_to_f32(((const uint16_t *)data)[i]));
        break;
    case ONNXRUN_BFLOAT16:
        printf("%.4g", (double)or_bf16_to_f32(((const uint16_t *)data)[i]));
        break;
    case ONNXRUN_BOOL:
        printf("%s", ((const uint8_t *)data)[i] ? "true" : "false");
        break;
    case ONNXRUN_INT8:
        printf("%d", ((const int8_t *)data)[i]);
        break;
    case ONNXRUN_UINT8:
        printf("%u", ((const uint8_t *)data)[i]);
        break;
    case ONNXRUN_INT16:
        printf("%d", ((const int16_t *)data)[i]);
        break;
    case ONNXRUN_UINT16:
        printf("%u", ((const uint16_t *)data)[i]);
        break;
    case ONNXRUN_INT32:
        printf("%d", ((const int32_t *)data)[i]);
        break;
    case ONNXRUN_UINT32:
        printf("%u", ((const uint32_t *)data)[i]);
        break;
    case ONNXRUN_INT64:
        printf("%lld", (long long)((const int64_t *)data)[i]);
        break;
    case ONNXRUN_UINT64:
        printf("%llu", (unsigned long long)((const uint64_t *)data)[i]);
        break;
    case OR_FLOAT8E4M3FN:
    case OR_FLOAT8E4M3FNUZ:
    case OR_FLOAT8E5M2:
    case OR_FLOAT8E5M2FNUZ: /* shown as raw bits */
        printf("0x%02x", ((const uint8_t *)data)[i]);
        break;
    default:
        printf("?");
        break;
    }
}

#define PREVIEW_VALUES 8

static void print_output(const onnxrun_tensor_view *v) {
    char shape[512];
    shape_str(v->rank, v->dims, NULL, shape, sizeof shape);
    size_t elem = onnxrun_dtype_size(v->dtype);
    size_t numel = elem ? v->nbytes / elem : 0;
    printf("%s: %s %s", v->name, onnxrun_dtype_name(v->dtype), shape);
    if (!elem) {
        printf("\n");
        return;
    }
    printf(" =");
    for (size_t i = 0; i < numel && i < PREVIEW_VALUES; i++) {
        putchar(' ');
        print_value(v->dtype, v->data, i);
    }
    if (numel > PREVIEW_VALUES) printf(" ... (%zu values)", numel);
    printf("\n");
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

/* mkdir -p */
static bool make_dirs(const char *dir) {
    char *p = strdup(dir);
    if (!p) return false;
    bool ok = true;
    for (char *s = p + 1; ok; s++) {
        bool end = *s == '\0';
        if (*s != '/' && !end) continue;
        *s = '\0';
        struct stat sb;
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            ok = false;
        else if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode))
            ok = false, errno = ENOTDIR; /* a file in the way: "File exists" would puzzle */
        if (end) break;
        *s = '/';
    }
    free(p);
    return ok;
}

/* Two outputs whose names sanitise alike would overwrite each other. */
static int check_name_clash(onnxrun_session *s) {
    size_t n = onnxrun_output_count(s);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) {
            onnxrun_tensor_info a, b;
            if (onnxrun_output_info(s, i, &a) || onnxrun_output_info(s, j, &b)) continue;
            char sa[1024], sb[1024];
            sanitize(a.name, sa, sizeof sa);
            sanitize(b.name, sb, sizeof sb);
            if (strcmp(sa, sb) != 0) continue;
            errorf("outputs '%s' and '%s' would both be written to %s.npy", b.name, a.name, sa);
            return EXIT_OUTPUT;
        }
    return -1;
}

static int write_outputs(onnxrun_session *s, const char *dir) {
    int rc = check_name_clash(s);
    if (rc >= 0) return rc;
    if (!make_dirs(dir)) {
        errorf("output directory '%s': %s", dir, strerror(errno));
        return EXIT_OUTPUT;
    }
    for (size_t i = 0; i < onnxrun_output_count(s); i++) {
        onnxrun_tensor_view v;
        if (onnxrun_get_output(s, i, &v) != ONNXRUN_OK) {
            errorf("output %zu: %s", i, onnxrun_errmsg(s));
            return EXIT_MODEL;
        }
        char safe[1024], path[4096], err[512];
        sanitize(v.name, safe, sizeof safe);
        snprintf(path, sizeof path, "%s/%s.npy", dir, safe);
        if (or_npy_write_file(path, v.dtype, v.rank, v.dims, v.data, v.nbytes, err, sizeof err)) {
            errorf("output '%s' (%s): %s", v.name, path, err);
            return EXIT_OUTPUT;
        }
    }
    return 0;
}

static int print_outputs(onnxrun_session *s) {
    for (size_t i = 0; i < onnxrun_output_count(s); i++) {
        onnxrun_tensor_view v;
        if (onnxrun_get_output(s, i, &v) != ONNXRUN_OK) {
            errorf("output %zu: %s", i, onnxrun_errmsg(s));
            return EXIT_MODEL;
        }
        print_output(&v);
    }
    return 0;
}

/* ---- running ---- */

static int run_once(onnxrun_session *s) {
    onnxrun_status st = onnxrun_run(s);
    if (st == ONNXRUN_OK) return -1;
    errorf("%s", onnxrun_errmsg(s));
    if (st == ONNXRUN_ERR_NOMEM) return EXIT_MEMORY;
    return st == ONNXRUN_ERR_INPUT ? EXIT_INPUT : EXIT_MODEL;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int bench(onnxrun_session *s, int runs) {
    double *t = malloc((size_t)runs * sizeof *t);
    if (!t) {
        errorf("out of memory");
        return EXIT_USAGE;
    }
    double sum = 0;
    for (int i = 0; i < runs; i++) {
        double t0 = now_ms();
        int rc = run_once(s);
        if (rc >= 0) {
            free(t);
            return rc;
        }
        t[i] = now_ms() - t0;
        sum += t[i];
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    double median = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
    printf("bench: runs=%d min_ms=%.4f median_ms=%.4f mean_ms=%.4f\n", runs, t[0], median,
           sum / runs);
    free(t);
    return -1;
}

/* ---- --stream ---- */

static int bind_pair(onnxrun_session *s, size_t out, size_t in, bool *state_in, const char *hint) {
    if (onnxrun_bind_state(s, out, in) != ONNXRUN_OK) {
        errorf("%s%s", onnxrun_errmsg(s), hint); /* it names the state */
        return EXIT_USAGE;
    }
    state_in[in] = true;
    return -1;
}

static int bind_named_states(onnxrun_session *s, const cli *c, bool *state_in) {
    for (int k = 0; k < c->n_states; k++) {
        char name[512];
        const char *eq = strchr(c->states[k], '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq - c->states[k]), c->states[k]);
        size_t out, in;
        if (onnxrun_output_index(s, name, &out) != ONNXRUN_OK ||
            onnxrun_input_index(s, eq + 1, &in) != ONNXRUN_OK) {
            errorf("--state %s: %s", c->states[k], onnxrun_errmsg(s));
            return EXIT_USAGE;
        }
        int rc = bind_pair(s, out, in, state_in, "");
        if (rc >= 0) return rc;
    }
    return -1;
}

/* Without --state: inputs 1..n-1 pair in order with the last n-1 outputs. */
static int bind_states(onnxrun_session *s, const cli *c, bool *state_in) {
    if (c->n_states) return bind_named_states(s, c, state_in);
    if (c->no_states) return -1;
    size_t ni = onnxrun_input_count(s), no = onnxrun_output_count(s);
    if (ni <= 1) return -1;
    if (no < ni) {
        errorf("cannot pair the %zu inputs after the first with state outputs: the model has "
               "%zu outputs (give --state OUT=IN)",
               ni - 1, no);
        return EXIT_USAGE;
    }
    for (size_t k = 1; k < ni; k++) {
        int rc = bind_pair(s, no - ni + k, k, state_in, " (give --state OUT=IN)");
        if (rc >= 0) return rc;
    }
    return -1;
}

/* A streamed input: the whole tensor and the buffer one chunk is cut into. */
typedef struct stream_in {
    size_t index;
    onnxrun_dtype dtype;
    int rank;
    const int64_t *dims;
    const unsigned char *data;
    size_t outer, step_bytes; /* dims before the axis; bytes of one step */
    unsigned char *chunk;
} stream_in;

/* One output's chunks, concatenated along the axis at the end (-o). */
typedef struct stream_out {
    bool concat;
    int n;
    unsigned char **parts;
    int64_t *lens;
    onnxrun_tensor_view last;
} stream_out;

static void slice_dims(int rank, const int64_t *dims, int axis, size_t elem, size_t *outer,
                       size_t *step) {
    *outer = 1;
    *step = elem;
    for (int d = 0; d < axis; d++) *outer *= (size_t)dims[d];
    for (int d = axis + 1; d < rank; d++) *step *= (size_t)dims[d];
}

/* Whether every chunk of len steps (the last may be shorter) has the length
 * the model declares on the stream axis, when it declares a fixed one. */
static bool chunks_fit(const onnxrun_tensor_info *decl, const cli *c, int64_t len) {
    if (decl->rank <= c->stream_axis || decl->dims[c->stream_axis] < 0) return true;
    int64_t fixed = decl->dims[c->stream_axis];
    return len == 0 || (fixed == c->stream && len % fixed == 0) ||
           (fixed == len && len <= c->stream);
}

static int stream_inputs(onnxrun_session *s, const cli *c, const input_file *files,
                         const bool *state_in, stream_in *ins, int *n_ins, int64_t *length) {
    *n_ins = 0;
    *length = -1;
    for (int i = 0; i < c->n_inputs; i++) {
        const input_file *f = &files[i];
        if (state_in[f->index]) continue;
        stream_in *x = &ins[(*n_ins)++];
        onnxrun_tensor_info decl;
        onnxrun_input_info(s, f->index, &decl);
        x->index = f->index;
        x->dtype = f->is_npy ? f->npy.dtype : (onnxrun_dtype)f->pb.dtype;
        x->rank = f->is_npy ? f->npy.rank : f->pb.rank;
        x->dims = f->is_npy ? f->npy.dims : f->pb.dims;
        x->data = f->is_npy ? f->npy.data : f->pb.data;
        if (c->stream_axis >= x->rank) {
            errorf("input '%s' (%s): rank %d has no stream axis %d", decl.name, f->path, x->rank,
                   c->stream_axis);
            return EXIT_INPUT;
        }
        int64_t len = x->dims[c->stream_axis];
        if (*length >= 0 && len != *length) {
            errorf("input '%s' (%s): %lld steps along axis %d, but the other streamed inputs "
                   "have %lld",
                   decl.name, f->path, (long long)len, c->stream_axis, (long long)*length);
            return EXIT_INPUT;
        }
        *length = len;
        if (!chunks_fit(&decl, c, len)) {
            errorf("input '%s' (%s): the model fixes axis %d at %lld, so %lld steps cannot be "
                   "streamed in chunks of %d (export that axis as dynamic)",
                   decl.name, f->path, c->stream_axis, (long long)decl.dims[c->stream_axis],
                   (long long)len, c->stream);
            return EXIT_INPUT;
        }
        slice_dims(x->rank, x->dims, c->stream_axis, onnxrun_dtype_size(x->dtype), &x->outer,
                   &x->step_bytes);
        x->chunk = malloc(x->outer * (size_t)c->stream * x->step_bytes + 1);
        if (!x->chunk) {
            errorf("out of memory");
            return EXIT_MEMORY;
        }
    }
    if (*length < 0) {
        errorf("--stream: no input to stream (every input is a state)");
        return EXIT_USAGE;
    }
    return -1;
}

static int set_chunk(onnxrun_session *s, const cli *c, stream_in *x, int64_t t, int64_t n) {
    int64_t dims[ONNXRUN_MAX_RANK];
    memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
    dims[c->stream_axis] = n;
    size_t len = x->dims[c->stream_axis] > 0 ? (size_t)x->dims[c->stream_axis] : 0;
    size_t part = (size_t)n * x->step_bytes;
    for (size_t o = 0; o < x->outer; o++)
        memcpy(x->chunk + o * part, x->data + (o * len + (size_t)t) * x->step_bytes, part);
    onnxrun_status st =
        onnxrun_set_input(s, x->index, x->dtype, x->rank, dims, x->chunk, x->outer * part);
    if (st == ONNXRUN_OK) return -1;
    errorf("%s", onnxrun_errmsg(s));
    return st == ONNXRUN_ERR_NOMEM ? EXIT_MEMORY : EXIT_INPUT;
}

static int keep_chunk(stream_out *o, const onnxrun_tensor_view *v, int axis) {
    o->last = *v;
    if (!o->concat) return -1;
    unsigned char **parts = realloc(o->parts, sizeof *parts * (size_t)(o->n + 1));
    int64_t *lens = parts ? realloc(o->lens, sizeof *lens * (size_t)(o->n + 1)) : NULL;
    if (parts) o->parts = parts;
    if (lens) o->lens = lens;
    unsigned char *copy = lens ? malloc(v->nbytes + 1) : NULL;
    if (!copy) {
        errorf("out of memory");
        return EXIT_MEMORY;
    }
    memcpy(copy, v->data, v->nbytes);
    o->parts[o->n] = copy;
    o->lens[o->n++] = v->dims[axis];
    return -1;
}

static int keep_outputs(onnxrun_session *s, stream_out *outs, int axis) {
    for (size_t i = 0; i < onnxrun_output_count(s); i++) {
        onnxrun_tensor_view v;
        if (onnxrun_get_output(s, i, &v) != ONNXRUN_OK) {
            errorf("output %zu: %s", i, onnxrun_errmsg(s));
            return EXIT_MODEL;
        }
        bool same = !outs[i].n || (v.rank == outs[i].last.rank && v.dtype == outs[i].last.dtype);
        for (int d = 0; same && outs[i].n && d < v.rank; d++)
            same = d == axis || v.dims[d] == outs[i].last.dims[d];
        if (!same) {
            errorf("output '%s' changes shape or dtype between chunks", v.name);
            return EXIT_MODEL;
        }
        int rc = keep_chunk(&outs[i], &v, axis);
        if (rc >= 0) return rc;
    }
    return -1;
}

/* Writes the chunks of one output concatenated along the axis. */
static int write_concat(const stream_out *o, int axis, const char *path) {
    const onnxrun_tensor_view *v = &o->last;
    int64_t dims[ONNXRUN_MAX_RANK], total = 0;
    memcpy(dims, v->dims, sizeof dims);
    for (int k = 0; k < o->n; k++) total += o->lens[k];
    dims[axis] = total;
    size_t outer, step;
    slice_dims(v->rank, v->dims, axis, onnxrun_dtype_size(v->dtype), &outer, &step);
    size_t nbytes = outer * (size_t)total * step;
    unsigned char *all = malloc(nbytes + 1), *p = all;
    if (!all) {
        errorf("out of memory");
        return EXIT_MEMORY;
    }
    for (size_t r = 0; r < outer; r++)
        for (int k = 0; k < o->n; k++) {
            size_t part = (size_t)o->lens[k] * step;
            memcpy(p, o->parts[k] + r * part, part);
            p += part;
        }
    char err[512];
    int rc = -1;
    if (or_npy_write_file(path, v->dtype, v->rank, dims, all, nbytes, err, sizeof err)) {
        errorf("output '%s' (%s): %s", v->name, path, err);
        rc = EXIT_OUTPUT;
    }
    free(all);
    return rc;
}

static int write_stream_outputs(onnxrun_session *s, const cli *c, const stream_out *outs) {
    int rc = check_name_clash(s);
    if (rc >= 0) return rc;
    if (!make_dirs(c->outdir)) {
        errorf("output directory '%s': %s", c->outdir, strerror(errno));
        return EXIT_OUTPUT;
    }
    for (size_t i = 0; i < onnxrun_output_count(s) && rc < 0; i++) {
        const onnxrun_tensor_view *v = &outs[i].last;
        char safe[1024], path[4096], err[512];
        sanitize(v->name, safe, sizeof safe);
        snprintf(path, sizeof path, "%s/%s.npy", c->outdir, safe);
        if (outs[i].concat) {
            rc = write_concat(&outs[i], c->stream_axis, path);
        } else if (or_npy_write_file(path, v->dtype, v->rank, v->dims, v->data, v->nbytes, err,
                                     sizeof err)) {
            errorf("output '%s' (%s): %s", v->name, path, err);
            rc = EXIT_OUTPUT;
        }
    }
    return rc;
}

static bool is_state_output(onnxrun_session *s, const cli *c, const bool *state_in, size_t out) {
    (void)state_in;
    onnxrun_tensor_info info;
    if (onnxrun_output_info(s, out, &info) != ONNXRUN_OK) return false;
    if (c->n_states) {
        size_t n = strlen(info.name);
        for (int k = 0; k < c->n_states; k++)
            if (strncmp(c->states[k], info.name, n) == 0 && c->states[k][n] == '=') return true;
        return false;
    }
    size_t ni = onnxrun_input_count(s), no = onnxrun_output_count(s);
    return !c->no_states && ni > 1 && out >= no - ni + 1;
}

static int stream_chunks(onnxrun_session *s, const cli *c, stream_in *ins, int n_ins,
                         int64_t length, stream_out *outs) {
    int64_t n_chunks = (length + c->stream - 1) / c->stream;
    for (int64_t t = 0, k = 0; t < length; t += c->stream, k++) {
        int64_t n = length - t < c->stream ? length - t : c->stream;
        int rc = -1;
        for (int i = 0; i < n_ins && rc < 0; i++) rc = set_chunk(s, c, &ins[i], t, n);
        if (rc < 0) rc = run_once(s);
        if (rc >= 0) return rc;
        if (c->outdir) {
            if ((rc = keep_outputs(s, outs, c->stream_axis)) >= 0) return rc;
            continue;
        }
        printf("chunk %lld/%lld: steps %lld-%lld\n", (long long)k + 1, (long long)n_chunks,
               (long long)t, (long long)(t + n - 1));
        if ((rc = print_outputs(s)) > 0) return rc;
    }
    return -1;
}

static int run_stream(onnxrun_session *s, const cli *c, input_file *files, const bool *state_in) {
    size_t no = onnxrun_output_count(s);
    stream_in *ins = calloc((size_t)c->n_inputs + 1, sizeof *ins);
    stream_out *outs = calloc(no + 1, sizeof *outs);
    int n_ins = 0, rc = ins && outs ? -1 : EXIT_MEMORY;
    int64_t length = 0;
    if (rc < 0) rc = stream_inputs(s, c, files, state_in, ins, &n_ins, &length);
    for (size_t i = 0; rc < 0 && i < no; i++) {
        onnxrun_tensor_info info;
        onnxrun_output_info(s, i, &info);
        outs[i].concat =
            !is_state_output(s, c, state_in, i) && (info.rank < 0 || info.rank > c->stream_axis);
    }
    if (rc < 0) rc = stream_chunks(s, c, ins, n_ins, length, outs);
    if (rc < 0 && c->outdir) rc = write_stream_outputs(s, c, outs);
    for (int i = 0; ins && i < n_ins; i++) free(ins[i].chunk);
    for (size_t i = 0; outs && i < no; i++) {
        for (int k = 0; k < outs[i].n; k++) free(outs[i].parts[k]);
        free(outs[i].parts);
        free(outs[i].lens);
    }
    free(ins);
    free(outs);
    return rc;
}

static int create_session(const cli *c, onnxrun_session **s) {
    onnxrun_options opts;
    onnxrun_options_init(&opts);
    opts.num_threads = c->threads;
    opts.weight_precision = (onnxrun_precision)c->precision;
    opts.max_memory_bytes = c->max_memory;
    onnxrun_status st = onnxrun_session_create_from_file(c->model, &opts, s);
    if (st == ONNXRUN_OK) return -1;
    const char *msg = *s ? onnxrun_errmsg(*s) : "out of memory";
    if (strstr(msg, c->model))
        errorf("%s", msg);
    else
        errorf("model '%s': %s", c->model, msg);
    return st == ONNXRUN_ERR_NOMEM ? EXIT_MEMORY : EXIT_MODEL;
}

static int run_model(const cli *c) {
    onnxrun_session *s = NULL;
    input_file *files = NULL;
    bool *state_in = NULL;
    int rc = create_session(c, &s);
    if (rc < 0 && c->stream) {
        state_in = calloc(onnxrun_input_count(s) + 1, sizeof *state_in);
        rc = state_in ? bind_states(s, c, state_in) : EXIT_MEMORY;
    }
    if (rc < 0) {
        files = calloc((size_t)c->n_inputs + 1, sizeof *files);
        rc = files ? load_inputs(s, c, files, state_in) : EXIT_INPUT;
    }
    if (rc < 0 && c->stream) {
        rc = run_stream(s, c, files, state_in);
        free(state_in);
        free_inputs(files, c->n_inputs);
        onnxrun_session_destroy(s);
        return rc < 0 ? 0 : rc;
    }
    free(state_in);
    if (rc < 0) rc = run_once(s);
    if (rc < 0 && c->bench) rc = bench(s, c->bench);
    if (rc < 0 && c->outdir) rc = write_outputs(s, c->outdir);
    if (rc < 0 && !c->outdir && !c->bench) rc = print_outputs(s);
    free_inputs(files, c->n_inputs);
    onnxrun_session_destroy(s);
    return rc < 0 ? 0 : rc;
}

/* The library ignores an ONNXRUN_* value it does not accept; say so. */
static void warn_environment(void) {
    char message[2048]; /* nine variables of up to ~200 characters each */
    if (onnxrun_check_environment(message, sizeof message) == ONNXRUN_OK) return;
    for (char *line = strtok(message, "\n"); line; line = strtok(NULL, "\n"))
        fprintf(stderr, "onnxrun: warning: %s\n", line);
}

int main(int argc, char **argv) {
    cli c;
    int rc = parse_cli(argc, argv, &c);
    if (rc < 0) warn_environment();
    if (rc < 0) rc = c.info ? run_info(c.model) : run_model(&c);
    free(c.inputs);
    free(c.states);
    fflush(stdout);
    if (ferror(stdout) && rc == 0) rc = EXIT_OUTPUT;
    return rc;
}
