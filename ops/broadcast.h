/* Numpy multidirectional broadcasting shared by the elementwise ops.
 *
 * Planning (or_bcast_plan) right-aligns the input shapes against the output
 * shape, drops size-1 output axes and merges neighbouring axes whose
 * broadcast pattern is the same, so [N,C,H,W] + [1,C,1,1] iterates as
 * [N, C, H*W] and same-shape operands as one flat run. Running hands a kernel
 * whole runs of the innermost collapsed axis, with a per-input step of 1
 * (advances with the output) or 0 (repeats one element): the kernel loops are
 * plain and vectorisable, and the outer odometer never divides. */
#ifndef OR_BROADCAST_H
#define OR_BROADCAST_H

#include "../runtime/graph.h"
#include "../runtime/threadpool.h"

#define OR_BCAST_MAX_IN 3

typedef struct or_bcast {
    int n_in;
    int rank; /* collapsed rank, >= 1 */
    int64_t dims[OR_MAX_RANK];
    int64_t strides[OR_BCAST_MAX_IN][OR_MAX_RANK]; /* in elements, 0 where broadcast */
    int64_t numel;
} or_bcast;

/* Processes n consecutive output elements. in[i] advances by step[i] (0 or 1)
 * elements per output element. ctx is the caller's. */
typedef void (*or_bcast_kernel)(const void *ctx, void *out, const void *const *in, const int *step,
                                int64_t n);

/* The broadcast of `count` shapes into out_rank/out_dims. Fails naming the
 * node and the two shapes that do not match. */
int or_bcast_shape(or_graph *g, const or_node *n, int count, const int *ranks,
                   const int64_t *const *dims, int *out_rank, int64_t *out_dims);

/* Plans iterating n_in (<= OR_BCAST_MAX_IN) inputs broadcast to the output
 * shape. Returns 0, or -1 when an input cannot broadcast to that shape. */
int or_bcast_plan(or_bcast *b, int n_in, const int *ranks, const int64_t *const *dims, int out_rank,
                  const int64_t *out_dims);

/* Runs kernel k over output elements [begin, end). Sizes are element sizes in
 * bytes; out is the start of the (dense) output buffer. */
void or_bcast_run_range(const or_bcast *b, or_bcast_kernel k, const void *ctx, void *out,
                        size_t out_size, const void *const *in, const size_t *in_size,
                        int64_t begin, int64_t end);

/* Runs k over the whole output, split across pool (may be NULL) in chunks of
 * at least grain elements. */
void or_bcast_run(const or_bcast *b, or_threadpool *pool, int64_t grain, or_bcast_kernel k,
                  const void *ctx, void *out, size_t out_size, const void *const *in,
                  const size_t *in_size);

#endif
