/* The public API: sessions over a loaded, planned graph. Every call that may
 * allocate makes the session's memory context current for its duration
 * (alloc.h), so the allocator hook and the memory cap see all of it. */
#include "alloc.h"
#include "env.h"
#include "onnxrun.h"
#include "session_internal.h"

#include "../onnx/loader.h"
#include "exec.h"
#include "graph.h"
#include "threadpool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

onnxrun_status or_session_error(onnxrun_session *s, onnxrun_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
    return status;
}

#define set_error or_session_error

onnxrun_status or_session_null_argument(onnxrun_session *s, const char *what) {
    if (!s || !s->graph) return ONNXRUN_ERR_ARGUMENT;
    return or_session_error(s, ONNXRUN_ERR_ARGUMENT, "%s is NULL", what);
}

onnxrun_status or_session_ok(onnxrun_session *s) {
    s->errmsg[0] = '\0';
    return ONNXRUN_OK;
}

#define ok or_session_ok

void onnxrun_options_init(onnxrun_options *options) {
    if (!options) return;
    memset(options, 0, sizeof *options);
    options->size = sizeof *options;
    options->num_threads = 1;
}

/* Copies the caller's options field by field, honouring their declared size. */
static onnxrun_options effective_options(const onnxrun_options *given) {
    onnxrun_options o;
    onnxrun_options_init(&o);
    if (!given) return o;
    size_t n = given->size < sizeof o ? given->size : sizeof o;
    if (n > sizeof(size_t))
        memcpy((char *)&o + sizeof(size_t), (const char *)given + sizeof(size_t),
               n - sizeof(size_t));
    o.size = sizeof o;
    if (o.num_threads < 1) o.num_threads = 1;
    return o;
}

onnxrun_status or_session_begin(const onnxrun_options *options, onnxrun_session **out,
                                or_mem **previous) {
    onnxrun_options o = effective_options(options);
    or_mem *mem = NULL;
    if (o.allocator || o.max_memory_bytes) {
        mem = or_mem_new(o.allocator, o.max_memory_bytes);
        if (!mem) {
            *out = NULL;
            *previous = or_mem_current();
            return ONNXRUN_ERR_NOMEM;
        }
    }
    *previous = or_mem_enter(mem);
    /* Counted but never refused, so that a too small cap still yields a
     * session that carries the message. */
    or_mem_set_uncapped(mem, true);
    onnxrun_session *s = or_calloc(1, sizeof *s);
    or_mem_set_uncapped(mem, false);
    *out = s;
    if (!s) {
        or_mem_leave(*previous);
        or_mem_release(mem);
        *previous = or_mem_current();
        return ONNXRUN_ERR_NOMEM;
    }
    s->mem = mem;
    s->opts = o;
    if (o.allocator) { /* the caller's struct need not outlive this call */
        s->allocator = *o.allocator;
        s->opts.allocator = &s->allocator;
    }
    return ONNXRUN_OK;
}

onnxrun_status or_session_finish(onnxrun_session *s, onnxrun_status status) {
    size_t request = 0, in_use = 0;
    bool refused = or_mem_take_refusal(s->mem, &request, &in_use);
    if (status != ONNXRUN_ERR_NOMEM || !refused) return status;
    char what[OR_ERRMSG_MAX];
    snprintf(what, sizeof what, "%s", s->errmsg[0] ? s->errmsg : "out of memory");
    return set_error(s, status,
                     "memory limit exceeded (max_memory_bytes = %zu): %zu bytes in use, %zu more "
                     "needed: %.700s",
                     or_mem_cap(s->mem), in_use, request, what);
}

static void describe(const or_tensor *t, onnxrun_tensor_info *info) {
    memset(info, 0, sizeof *info);
    info->name = t->name;
    info->dtype = (onnxrun_dtype)t->dtype;
    info->rank = t->rank;
    for (int d = 0; d < t->rank && d < OR_MAX_RANK; d++) {
        info->dims[d] = t->dims[d];
        info->dim_names[d] = t->dim_params[d];
    }
}

onnxrun_status or_session_snapshot(onnxrun_session *s) {
    or_graph *g = s->graph;
    size_t ni = (size_t)g->n_inputs + 1, no = (size_t)g->n_outputs + 1;
    s->inputs = or_calloc(ni, sizeof *s->inputs);
    s->outputs = or_calloc(no, sizeof *s->outputs);
    s->bound = or_calloc(ni, sizeof *s->bound);
    s->planned_rank = or_calloc(ni, sizeof *s->planned_rank);
    s->planned_dims = or_calloc(ni, sizeof *s->planned_dims);
    s->pinned_bytes = or_calloc(ni, sizeof *s->pinned_bytes);
    s->pinned_len = or_calloc(ni, sizeof *s->pinned_len);
    s->out_buf = or_calloc(no, sizeof *s->out_buf);
    s->out_cap = or_calloc(no, sizeof *s->out_cap);
    if (!s->inputs || !s->outputs || !s->bound || !s->planned_rank || !s->planned_dims ||
        !s->pinned_bytes || !s->pinned_len || !s->out_buf || !s->out_cap)
        return set_error(s, ONNXRUN_ERR_NOMEM, "out of memory");
    for (int i = 0; i < g->n_inputs; i++) describe(&g->tensors[g->inputs[i]], &s->inputs[i]);
    for (int i = 0; i < g->n_outputs; i++) describe(&g->tensors[g->outputs[i]], &s->outputs[i]);
    return ONNXRUN_OK;
}

static void forget_plan_signature(onnxrun_session *s) {
    if (!s->pinned_bytes || !s->pinned_len) return; /* creation failed before the snapshot */
    for (int i = 0; i < s->graph->n_inputs; i++) {
        or_free(s->pinned_bytes[i]);
        s->pinned_bytes[i] = NULL;
        s->pinned_len[i] = 0;
    }
}

static onnxrun_status remember_plan_signature(onnxrun_session *s) {
    or_graph *g = s->graph;
    forget_plan_signature(s);
    for (int i = 0; i < g->n_inputs; i++) {
        or_tensor *t = &g->tensors[g->inputs[i]];
        s->planned_rank[i] = t->rank;
        memcpy(s->planned_dims[i], t->dims, sizeof t->dims);
        if (!t->value_pinned) continue;
        s->pinned_bytes[i] = or_malloc(t->nbytes ? t->nbytes : 1);
        if (!s->pinned_bytes[i]) return set_error(s, ONNXRUN_ERR_NOMEM, "out of memory");
        memcpy(s->pinned_bytes[i], t->data, t->nbytes);
        s->pinned_len[i] = t->nbytes;
    }
    return ONNXRUN_OK;
}

static onnxrun_status from_graph_status(onnxrun_session *s, int status) {
    snprintf(s->errmsg, sizeof s->errmsg, "%s", s->graph->errmsg);
    return (onnxrun_status)status;
}

/* An original none of whose clones is left (only it holds the shared graph,
 * and only a clone could make another clone elsewhere) frees the packs it
 * set aside for them and again replaces its own in place. */
static void take_back_lent_caches(onnxrun_session *s) {
    if (!s->shared || s->graph != s->shared->graph || !s->graph->caches_lent ||
        atomic_load(&s->shared->refs) != 1)
        return;
    s->graph->caches_lent = false;
    or_graph_free_retired(s->graph);
}

static onnxrun_status plan(onnxrun_session *s) {
    take_back_lent_caches(s);
    int status = or_graph_plan(s->graph);
    if (status != ONNXRUN_OK) {
        /* a plan that failed half-way may have pinned input bytes it no
         * longer has; the next run must plan again */
        forget_plan_signature(s);
        return from_graph_status(s, status);
    }
    status = remember_plan_signature(s);
    if (status != ONNXRUN_OK) or_graph_unplan(s->graph);
    return (onnxrun_status)status;
}

onnxrun_status or_session_prepare(onnxrun_session *s) {
    or_graph *g = s->graph;
    g->num_threads = s->opts.num_threads;
    g->weight_precision = (int)s->opts.weight_precision;
    if (s->opts.num_threads > 1) {
        g->pool = or_threadpool_create(s->opts.num_threads);
        if (!g->pool)
            return set_error(s, ONNXRUN_ERR_NOMEM, "cannot start %d threads", s->opts.num_threads);
    }
    if (!or_graph_inputs_static(g)) return ONNXRUN_OK; /* planned at the first run */
    int status = or_graph_plan(g);
    if (status == ONNXRUN_OK) return remember_plan_signature(s);
    if (g->plan_needs_input_values && status != ONNXRUN_ERR_NOMEM)
        return ONNXRUN_OK; /* needs input values: plan at run */
    return from_graph_status(s, status);
}

static void drop_graph(onnxrun_session *s) {
    if (!s->graph) return;
    forget_plan_signature(s);
    or_threadpool_destroy(s->graph->pool);
    s->graph->pool = NULL;
    if (!s->shared) {
        or_graph_free(s->graph);
    } else if (s->graph == s->shared->graph) {
        or_graph_unplan(s->graph); /* the rest stays for the clones */
    } else {
        or_clone_graph_free(s->graph);
    }
    s->graph = NULL;
    if (s->shared) or_shared_release(s->shared);
    s->shared = NULL;
}

/* released: bytes the loader already dropped and uncharged. */
static void unmap_model(void *map, size_t len, size_t released) {
    munmap(map, len);
    or_mem_uncharge(len - released);
}

/* mapped: buffer is load_file's mapping of that many bytes (0: not a
 * mapping); it is unmapped as soon as the model is parsed, before planning
 * makes its own copies of the weights. */
static onnxrun_status load_session(onnxrun_session *s, const void *buffer, size_t length,
                                   const char *model_dir, const char *model_path, size_t mapped) {
    or_load_stats stats;
    int status =
        or_load_model_ex(buffer, length, model_dir, model_path, mapped ? OR_LOAD_MAPPED : 0, &stats,
                         &s->graph, s->errmsg, sizeof s->errmsg);
    if (mapped) unmap_model((void *)buffer, mapped, stats.released_bytes);
    if (status == ONNXRUN_OK) {
        status = or_graph_check_ops(s->graph);
        if (status != ONNXRUN_OK) status = from_graph_status(s, status);
    }
    if (status == ONNXRUN_OK) status = or_session_snapshot(s);
    if (status == ONNXRUN_OK) status = or_session_prepare(s);
    if (status != ONNXRUN_OK) {
        drop_graph(s);
        return (onnxrun_status)status;
    }
    return ok(s);
}

/* Leaves the session's context and drops it when creation ran out of memory
 * before the session existed. */
static onnxrun_status end_create(onnxrun_session *s, onnxrun_status status, or_mem *previous) {
    if (s) status = or_session_finish(s, status);
    or_mem_leave(previous);
    return status;
}

/* Options that cannot be honoured fail creation before the model is read. */
static onnxrun_status check_options(onnxrun_session *s) {
    const onnxrun_options *o = &s->opts;
    if (o->num_threads > ONNXRUN_MAX_THREADS)
        return set_error(s, ONNXRUN_ERR_ARGUMENT, "num_threads %d is above the limit of %d",
                         o->num_threads, ONNXRUN_MAX_THREADS);
    if (o->weight_precision != ONNXRUN_PRECISION_FP32 &&
        o->weight_precision != ONNXRUN_PRECISION_BF16 &&
        o->weight_precision != ONNXRUN_PRECISION_INT8)
        return set_error(s, ONNXRUN_ERR_ARGUMENT,
                         "weight_precision %d is not one of ONNXRUN_PRECISION_FP32, _BF16, _INT8",
                         (int)o->weight_precision);
    return ONNXRUN_OK;
}

onnxrun_status onnxrun_session_create_from_buffer(const void *buffer, size_t length,
                                                  const char *model_dir,
                                                  const onnxrun_options *options,
                                                  onnxrun_session **out_session) {
    if (!out_session) return ONNXRUN_ERR_ARGUMENT;
    or_mem *previous;
    onnxrun_status status = or_session_begin(options, out_session, &previous);
    onnxrun_session *s = *out_session;
    if (status != ONNXRUN_OK) return status;
    if (!buffer)
        status = set_error(s, ONNXRUN_ERR_ARGUMENT, "no model buffer given");
    else if ((status = check_options(s)) == ONNXRUN_OK)
        status = load_session(s, buffer, length, model_dir, NULL, 0);
    return end_create(s, status, previous);
}

static char *read_whole_file(const char *path, size_t *len, char *err, size_t errlen,
                             onnxrun_status *status) {
    FILE *f = fopen(path, "rb");
    *status = ONNXRUN_ERR_IO;
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    long size = -1;
    /* A directory opens and seeks on Linux, its end at LONG_MAX: ask first. */
    struct stat st;
    bool stat_ok = fstat(fileno(f), &st) == 0;
    bool regular = stat_ok && S_ISREG(st.st_mode), dir = stat_ok && S_ISDIR(st.st_mode);
    if (regular && fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path,
                 regular ? strerror(errno)
                 : dir   ? "is a directory"
                         : "not a regular file");
    } else if (!(buf = or_malloc((size_t)size + 1))) {
        snprintf(err, errlen, "%s: out of memory reading %ld bytes", path, size);
        *status = ONNXRUN_ERR_NOMEM;
    } else if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        or_free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)(size < 0 ? 0 : size);
    return buf;
}

/* Maps a regular, non-empty file read-only; NULL when that is not possible
 * (empty files, or not a regular file): the caller reads it instead, or
 * reports why it cannot. The mapping counts against the memory cap like the
 * buffer it replaces. */
static char *map_file(onnxrun_session *s, const char *path, size_t *len, onnxrun_status *status) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    void *map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uint64_t)st.st_size < SIZE_MAX && st.st_size < LONG_MAX)
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return NULL;
    if (!or_mem_charge((size_t)st.st_size)) {
        munmap(map, (size_t)st.st_size);
        *status = set_error(s, ONNXRUN_ERR_NOMEM, "%s: out of memory reading %ld bytes", path,
                            (long)st.st_size);
        return NULL;
    }
    *len = (size_t)st.st_size;
    return map;
}

static onnxrun_status load_file(onnxrun_session *s, const char *path) {
    size_t len = 0, mapped = 0;
    onnxrun_status status = ONNXRUN_OK;
    char *buf = map_file(s, path, &mapped, &status);
    if (status != ONNXRUN_OK) return status;
    if (buf)
        len = mapped;
    else if (!(buf = read_whole_file(path, &len, s->errmsg, sizeof s->errmsg, &status)))
        return status;
    char *dir = or_strdup(path);
    if (!dir) {
        if (mapped)
            unmap_model(buf, mapped, 0);
        else
            or_free(buf);
        return set_error(s, ONNXRUN_ERR_NOMEM, "%s: out of memory", path);
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    else
        strcpy(dir, ".");
    status = load_session(s, buf, len, dir, path, mapped);
    if (!mapped) or_free(buf);
    or_free(dir);
    return status;
}

onnxrun_status onnxrun_session_create_from_file(const char *path, const onnxrun_options *options,
                                                onnxrun_session **out_session) {
    if (!out_session) return ONNXRUN_ERR_ARGUMENT;
    or_mem *previous;
    onnxrun_status status = or_session_begin(options, out_session, &previous);
    onnxrun_session *s = *out_session;
    if (status != ONNXRUN_OK) return status;
    if (!path)
        status = set_error(s, ONNXRUN_ERR_ARGUMENT, "no model path given");
    else if ((status = check_options(s)) == ONNXRUN_OK)
        status = load_file(s, path);
    return end_create(s, status, previous);
}

void onnxrun_session_destroy(onnxrun_session *s) {
    if (!s) return;
    or_mem *mem = s->mem;
    or_mem *previous = or_mem_enter(mem);
    drop_graph(s);
    or_states_free(s);
    or_free(s->inputs);
    or_free(s->outputs);
    or_free(s->bound);
    or_free(s->planned_rank);
    or_free(s->planned_dims);
    or_free(s->pinned_bytes);
    or_free(s->pinned_len);
    or_free(s->out_buf);
    or_free(s->out_cap);
    or_free(s);
    or_mem_leave(previous);
    or_mem_release(mem);
}

const char *onnxrun_errmsg(const onnxrun_session *s) {
    return s ? s->errmsg : "no session (out of memory)";
}

const char *onnxrun_status_name(onnxrun_status status) {
    switch (status) {
    case ONNXRUN_OK:
        return "ok";
    case ONNXRUN_ERR_MODEL:
        return "model error";
    case ONNXRUN_ERR_INPUT:
        return "input error";
    case ONNXRUN_ERR_NOMEM:
        return "out of memory";
    case ONNXRUN_ERR_IO:
        return "I/O error";
    case ONNXRUN_ERR_ARGUMENT:
        return "invalid argument";
    default:
        return "internal error";
    }
}

onnxrun_status onnxrun_check_environment(char *message, size_t size) {
    if (!message) size = 0;
    return or_env_problems(message, size) ? ONNXRUN_ERR_ARGUMENT : ONNXRUN_OK;
}

size_t onnxrun_input_count(const onnxrun_session *s) {
    return s && s->graph ? (size_t)s->graph->n_inputs : 0;
}

size_t onnxrun_output_count(const onnxrun_session *s) {
    return s && s->graph ? (size_t)s->graph->n_outputs : 0;
}

/* The lookups take a const session, but a failure still leaves its message
 * on the handle: the message buffer is the one part a reader may write. */
static onnxrun_session *writable(const onnxrun_session *s) {
    return (onnxrun_session *)s;
}

static onnxrun_status info_at(const onnxrun_session *cs, const onnxrun_tensor_info *infos, size_t n,
                              const char *what, size_t index, onnxrun_tensor_info *out_info) {
    onnxrun_session *s = writable(cs);
    if (!s || !s->graph) return ONNXRUN_ERR_ARGUMENT;
    if (!out_info) return or_session_null_argument(s, "out_info");
    if (index >= n)
        return set_error(s, ONNXRUN_ERR_ARGUMENT, "%s index %zu out of range (the model has %zu)",
                         what, index, n);
    *out_info = infos[index];
    return ok(s);
}

onnxrun_status onnxrun_input_info(const onnxrun_session *s, size_t index,
                                  onnxrun_tensor_info *out_info) {
    return info_at(s, s ? s->inputs : NULL, onnxrun_input_count(s), "input", index, out_info);
}

onnxrun_status onnxrun_output_info(const onnxrun_session *s, size_t index,
                                   onnxrun_tensor_info *out_info) {
    return info_at(s, s ? s->outputs : NULL, onnxrun_output_count(s), "output", index, out_info);
}

static onnxrun_status find_index(const onnxrun_session *cs, const onnxrun_tensor_info *infos,
                                 size_t n, const char *what, const char *name, size_t *out_index) {
    onnxrun_session *s = writable(cs);
    if (!s || !s->graph) return ONNXRUN_ERR_ARGUMENT;
    if (!name) return or_session_null_argument(s, "name");
    if (!out_index) return or_session_null_argument(s, "out_index");
    for (size_t i = 0; i < n; i++)
        if (strcmp(infos[i].name, name) == 0) {
            *out_index = i;
            return ok(s);
        }
    return set_error(s, ONNXRUN_ERR_INPUT, "the model has no %s named '%s'", what, name);
}

onnxrun_status onnxrun_input_index(const onnxrun_session *s, const char *name, size_t *out_index) {
    return find_index(s, s ? s->inputs : NULL, onnxrun_input_count(s), "input", name, out_index);
}

onnxrun_status onnxrun_output_index(const onnxrun_session *s, const char *name, size_t *out_index) {
    return find_index(s, s ? s->outputs : NULL, onnxrun_output_count(s), "output", name, out_index);
}

onnxrun_status or_session_check_shape(onnxrun_session *s, const onnxrun_tensor_info *decl,
                                      onnxrun_dtype dtype, int rank, const int64_t *dims,
                                      size_t nbytes) {
    char want[128], got[128];
    if (rank > 0 && rank <= OR_MAX_RANK && !dims)
        return set_error(s, ONNXRUN_ERR_ARGUMENT, "input '%s': rank %d but no dims", decl->name,
                         rank);
    if (rank < 0 || rank > OR_MAX_RANK)
        return set_error(s, ONNXRUN_ERR_INPUT, "input '%s': invalid rank %d", decl->name, rank);
    if (decl->dtype != ONNXRUN_UNDEFINED && dtype != decl->dtype)
        return set_error(s, ONNXRUN_ERR_INPUT, "input '%s': expected %s, got %s", decl->name,
                         or_dtype_name(decl->dtype), or_dtype_name(dtype));
    bool mismatch = decl->rank >= 0 && decl->rank != rank;
    for (int d = 0; !mismatch && d < rank; d++)
        mismatch =
            dims[d] < 0 || (decl->rank >= 0 && decl->dims[d] >= 0 && decl->dims[d] != dims[d]);
    if (mismatch)
        return set_error(s, ONNXRUN_ERR_INPUT, "input '%s': expected shape %s, got %s", decl->name,
                         or_shape_str(decl->rank, decl->dims, want, sizeof want),
                         or_shape_str(rank, dims, got, sizeof got));
    int64_t numel = or_shape_numel(rank, dims);
    size_t elem = or_dtype_size(dtype);
    if (numel < 0 || elem == 0 || (uint64_t)numel > SIZE_MAX / elem ||
        (size_t)numel * elem != nbytes)
        return set_error(s, ONNXRUN_ERR_INPUT, "input '%s': %zu bytes do not match shape %s of %s",
                         decl->name, nbytes, or_shape_str(rank, dims, got, sizeof got),
                         or_dtype_name(dtype));
    return ONNXRUN_OK;
}

static onnxrun_status set_input(onnxrun_session *s, size_t index, onnxrun_dtype dtype, int rank,
                                const int64_t *dims, const void *data, size_t nbytes) {
    if (index >= onnxrun_input_count(s))
        return set_error(s, ONNXRUN_ERR_ARGUMENT, "input index %zu out of range (%zu inputs)",
                         index, onnxrun_input_count(s));
    if (!data && nbytes > 0)
        return set_error(s, ONNXRUN_ERR_ARGUMENT, "input '%s': no data", s->inputs[index].name);
    onnxrun_status status = or_session_check_shape(s, &s->inputs[index], dtype, rank, dims, nbytes);
    if (status != ONNXRUN_OK) return status;
    int state = or_state_of_input(s, index);
    if (state >= 0) return or_state_set_value(s, state, dtype, rank, dims, data, nbytes);
    or_tensor *t = &s->graph->tensors[s->graph->inputs[index]];
    static const unsigned char empty_input[64];
    t->dtype = dtype;
    t->rank = rank;
    for (int d = 0; d < rank; d++) t->dims[d] = dims[d];
    t->data = nbytes ? (void *)data : (void *)empty_input;
    t->nbytes = nbytes;
    s->bound[index] = true;
    return ok(s);
}

onnxrun_status onnxrun_set_input(onnxrun_session *s, size_t index, onnxrun_dtype dtype, int rank,
                                 const int64_t *dims, const void *data, size_t nbytes) {
    if (!s || !s->graph) return ONNXRUN_ERR_ARGUMENT;
    or_mem *previous = or_mem_enter(s->mem);
    onnxrun_status status =
        or_session_finish(s, set_input(s, index, dtype, rank, dims, data, nbytes));
    or_mem_leave(previous);
    return status;
}

onnxrun_status onnxrun_set_output(onnxrun_session *s, size_t index, void *data, size_t nbytes) {
    if (!s || !s->graph) return ONNXRUN_ERR_ARGUMENT;
    if (index >= onnxrun_output_count(s))
        return set_error(s, ONNXRUN_ERR_ARGUMENT, "output index %zu out of range (%zu outputs)",
                         index, onnxrun_output_count(s));
    if (data && nbytes == 0)
        return set_error(s, ONNXRUN_ERR_ARGUMENT, "output '%s': the buffer has 0 bytes",
                         s->outputs[index].name);
    s->out_buf[index] = data;
    s->out_cap[index] = data ? nbytes : 0;
    return ok(s);
}

static bool plan_is_current(onnxrun_session *s) {
    or_graph *g = s->graph;
    if (!g->planned) return false;
    for (int i = 0; i < g->n_inputs; i++) {
        const or_tensor *t = &g->tensors[g->inputs[i]];
        if (t->rank != s->planned_rank[i] ||
            memcmp(t->dims, s->planned_dims[i], sizeof(int64_t) * (size_t)t->rank) != 0)
            return false;
        if (s->pinned_bytes[i] &&
            (t->nbytes != s->pinned_len[i] || memcmp(t->data, s->pinned_bytes[i], t->nbytes) != 0))
            return false;
    }
    return true;
}

/* Caller-owned output buffers must hold the planned outputs. */
static onnxrun_status check_output_buffers(onnxrun_session *s) {
    or_graph *g = s->graph;
    for (int i = 0; i < g->n_outputs; i++) {
        const or_tensor *t = &g->tensors[g->outputs[i]];
        if (!s->out_buf[i] || t->nbytes <= s->out_cap[i]) continue;
        char shape[128];
        return set_error(s, ONNXRUN_ERR_ARGUMENT,
                         "output '%s': the buffer given to onnxrun_set_output holds %zu bytes but "
                         "shape %s of %s needs %zu",
                         t->name, s->out_cap[i],
                         or_shape_str(t->rank, t->dims, shape, sizeof shape),
                         or_dtype_name(t->dtype), t->nbytes);
    }
    return ONNXRUN_OK;
}

static void copy_output_buffers(onnxrun_session *s) {
    or_graph *g = s->graph;
    for (int i = 0; i < g->n_outputs; i++) {
        const or_tensor *t = &g->tensors[g->outputs[i]];
        if (s->out_buf[i] && t->nbytes) memcpy(s->out_buf[i], t->data, t->nbytes);
    }
}

static onnxrun_status run(onnxrun_session *s) {
    or_graph *g = s->graph;
    s->outputs_valid = false; /* a failed run leaves them half written */
    onnxrun_status status = or_states_bind(s);
    if (status != ONNXRUN_OK) return status;
    for (int i = 0; i < g->n_inputs; i++)
        if (!s->bound[i])
            return set_error(s, ONNXRUN_ERR_INPUT, "input '%s' was not given", s->inputs[i].name);
    if (!plan_is_current(s) && (status = plan(s)) != ONNXRUN_OK) return status;
    if ((status = check_output_buffers(s)) != ONNXRUN_OK) return status;
    if ((status = or_states_attach_outputs(s)) != ONNXRUN_OK) return status;
    int st = or_graph_run(g);
    if (st != ONNXRUN_OK) return from_graph_status(s, st);
    copy_output_buffers(s);
    or_states_advance(s);
    s->outputs_valid = true;
    return ok(s);
}

onnxrun_status onnxrun_run(onnxrun_session *s) {
    if (!s || !s->graph) return ONNXRUN_ERR_ARGUMENT;
    or_mem *previous = or_mem_enter(s->mem);
    onnxrun_status status = or_session_finish(s, run(s));
    or_mem_leave(previous);
    return status;
}

onnxrun_status onnxrun_get_output(onnxrun_session *s, size_t index, onnxrun_tensor_view *view) {
    if (!s) return ONNXRUN_ERR_ARGUMENT;
    if (!view) return or_session_null_argument(s, "view");
    if (!s->graph || index >= onnxrun_output_count(s))
        return set_error(s, ONNXRUN_ERR_ARGUMENT, "output index %zu out of range", index);
    const or_tensor *t = &s->graph->tensors[s->graph->outputs[index]];
    if (!s->outputs_valid || (!t->data && t->nbytes))
        return set_error(s, ONNXRUN_ERR_ARGUMENT,
                         "output '%s' has not been computed (no successful run since the "
                         "session was created, its state reset or a run failed)",
                         t->name);
    memset(view, 0, sizeof *view);
    view->name = t->name;
    view->dtype = (onnxrun_dtype)t->dtype;
    view->rank = t->rank;
    for (int d = 0; d < t->rank; d++) view->dims[d] = t->dims[d];
    view->data = s->out_buf[index] ? s->out_buf[index] : t->data;
    view->nbytes = t->nbytes;
    return ok(s);
}

size_t onnxrun_memory_used(const onnxrun_session *s) {
    return s ? or_mem_used(s->mem) : 0;
}

size_t onnxrun_memory_peak(const onnxrun_session *s) {
    return s ? or_mem_peak(s->mem) : 0;
}

const char *onnxrun_dtype_name(onnxrun_dtype dtype) {
    return or_dtype_name((int)dtype);
}
size_t onnxrun_dtype_size(onnxrun_dtype dtype) {
    return or_dtype_size((int)dtype);
}
