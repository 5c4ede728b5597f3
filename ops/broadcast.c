/* Numpy multidirectional broadcasting: shape inference, axis collapsing and
 * the strided iteration shared by every elementwise op (see broadcast.h). */
#include "broadcast.h"

#include <string.h>

int or_bcast_shape(or_graph *g, const or_node *n, int count, const int *ranks,
                   const int64_t *const *dims, int *out_rank, int64_t *out_dims) {
    int rank = 0;
    int64_t acc[OR_MAX_RANK];
    for (int k = 0; k < count; k++) {
        if (ranks[k] < 0 || ranks[k] > OR_MAX_RANK)
            return or_node_fail(g, n, ONNXRUN_ERR_INPUT,
                                "input %d has an unknown or too large "
                                "rank",
                                k);
        int r = ranks[k] > rank ? ranks[k] : rank;
        int64_t next[OR_MAX_RANK];
        for (int d = 0; d < r; d++) {
            int da = d - (r - rank), db = d - (r - ranks[k]);
            int64_t a = da >= 0 ? acc[da] : 1, b = db >= 0 ? dims[k][db] : 1;
            if (a < 0 || b < 0)
                return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "input %d has an unknown dim", k);
            if (a != b && a != 1 && b != 1) {
                char sa[160], sb[160];
                return or_node_fail(g, n, ONNXRUN_ERR_INPUT, "cannot broadcast shapes %s and %s",
                                    or_shape_str(rank, acc, sa, sizeof sa),
                                    or_shape_str(ranks[k], dims[k], sb, sizeof sb));
            }
            next[d] = a == 1 ? b : a;
        }
        rank = r;
        memcpy(acc, next, sizeof(int64_t) * (size_t)r);
    }
    *out_rank = rank;
    memcpy(out_dims, acc, sizeof(int64_t) * (size_t)rank);
    return ONNXRUN_OK;
}

/* Bit k set when input k is broadcast (size 1) along an output axis of size > 1. */
static int axis_mask(int n_in, const int *ranks, const int64_t *const *dims, int out_rank, int axis,
                     int64_t out_dim, int64_t in_dim[OR_BCAST_MAX_IN]) {
    int mask = 0;
    for (int k = 0; k < n_in; k++) {
        int d = axis - (out_rank - ranks[k]);
        in_dim[k] = d >= 0 ? dims[k][d] : 1;
        if (in_dim[k] != out_dim) {
            if (in_dim[k] != 1) return -1;
            mask |= 1 << k;
        }
    }
    return mask;
}

int or_bcast_plan(or_bcast *b, int n_in, const int *ranks, const int64_t *const *dims, int out_rank,
                  const int64_t *out_dims) {
    int masks[OR_MAX_RANK];
    memset(b, 0, sizeof *b);
    b->n_in = n_in;
    if (n_in > OR_BCAST_MAX_IN || out_rank < 0 || out_rank > OR_MAX_RANK) return -1;
    for (int k = 0; k < n_in; k++)
        if (ranks[k] < 0 || ranks[k] > out_rank) return -1;
    b->numel = 1;
    int rank = 0;
    for (int axis = 0; axis < out_rank; axis++) {
        int64_t in_dim[OR_BCAST_MAX_IN];
        int mask = axis_mask(n_in, ranks, dims, out_rank, axis, out_dims[axis], in_dim);
        if (mask < 0) return -1;
        b->numel *= out_dims[axis];
        if (out_dims[axis] == 1) continue;
        if (rank > 0 && masks[rank - 1] == mask) {
            b->dims[rank - 1] *= out_dims[axis];
        } else {
            masks[rank] = mask;
            b->dims[rank++] = out_dims[axis];
        }
    }
    if (rank == 0) {
        /* A single element: step 1 and step 0 read the same thing. */
        b->rank = 1;
        b->dims[0] = 1;
        for (int k = 0; k < n_in; k++) b->strides[k][0] = 1;
        return 0;
    }
    b->rank = rank;
    for (int k = 0; k < n_in; k++) {
        int64_t acc = 1;
        for (int d = rank - 1; d >= 0; d--) {
            bool bcast = (masks[d] >> k) & 1;
            b->strides[k][d] = bcast ? 0 : acc;
            if (!bcast) acc *= b->dims[d];
        }
    }
    return 0;
}

void or_bcast_run_range(const or_bcast *b, or_bcast_kernel k, const void *ctx, void *out,
                        size_t out_size, const void *const *in, const size_t *in_size,
                        int64_t begin, int64_t end) {
    const int last = b->rank - 1, n_in = b->n_in;
    const int64_t inner = b->dims[last];
    int64_t idx[OR_MAX_RANK], off[OR_BCAST_MAX_IN] = {0};
    int step[OR_BCAST_MAX_IN];
    int64_t rem = begin;
    for (int d = last; d >= 0; d--) {
        idx[d] = rem % b->dims[d];
        rem /= b->dims[d];
    }
    for (int i = 0; i < n_in; i++) {
        step[i] = b->strides[i][last] != 0;
        for (int d = 0; d <= last; d++) off[i] += idx[d] * b->strides[i][d];
    }
    int64_t pos = begin;
    while (pos < end) {
        int64_t cnt = inner - idx[last];
        if (cnt > end - pos) cnt = end - pos;
        const void *ptr[OR_BCAST_MAX_IN];
        for (int i = 0; i < n_in; i++) ptr[i] = (const char *)in[i] + (size_t)off[i] * in_size[i];
        k(ctx, (char *)out + (size_t)pos * out_size, ptr, step, cnt);
        pos += cnt;
        if (pos >= end) break;
        /* The run ended at the end of a row: rewind it and carry outwards. */
        for (int i = 0; i < n_in; i++) off[i] -= idx[last] * b->strides[i][last];
        idx[last] = 0;
        for (int d = last - 1; d >= 0; d--) {
            for (int i = 0; i < n_in; i++) off[i] += b->strides[i][d];
            if (++idx[d] < b->dims[d]) break;
            for (int i = 0; i < n_in; i++) off[i] -= idx[d] * b->strides[i][d];
            idx[d] = 0;
        }
    }
}

typedef struct {
    const or_bcast *b;
    or_bcast_kernel k;
    const void *ctx;
    void *out;
    size_t out_size;
    const void *const *in;
    const size_t *in_size;
} run_task;

static void run_chunk(void *p, int64_t begin, int64_t end, int thread_index) {
    const run_task *t = p;
    (void)thread_index;
    or_bcast_run_range(t->b, t->k, t->ctx, t->out, t->out_size, t->in, t->in_size, begin, end);
}

void or_bcast_run(const or_bcast *b, or_threadpool *pool, int64_t grain, or_bcast_kernel k,
                  const void *ctx, void *out, size_t out_size, const void *const *in,
                  const size_t *in_size) {
    if (b->numel <= 0) return;
    if (!pool || b->numel <= grain) {
        or_bcast_run_range(b, k, ctx, out, out_size, in, in_size, 0, b->numel);
        return;
    }
    run_task t = {b, k, ctx, out, out_size, in, in_size};
    or_parallel_for(pool, b->numel, grain, run_chunk, &t);
}
