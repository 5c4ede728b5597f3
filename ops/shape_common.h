/* Helpers shared by the shape and data-movement ops (Reshape, Slice, Tile,
 * Expand, Transpose, ...): reading integer inputs whose values must be known
 * while planning, and copying a strided view of a tensor into a dense buffer.
 * Everything works on raw bytes, so every fixed-size dtype is supported. */
#ifndef OR_SHAPE_COMMON_H
#define OR_SHAPE_COMMON_H

#include "op.h"

/* Tile views each axis as [repeats, dim], so a view may have twice the rank. */
#define SHP_MAX_VIEW (2 * OR_MAX_RANK)

/* A dense output of shape dims[] whose element at index (i0, i1, ...) is read
 * from the source at element offset sum(ik * strides[k]). Strides are in
 * elements and may be 0 (broadcast) or negative (reversed slices). */
typedef struct shp_view {
    int rank;
    int64_t dims[SHP_MAX_VIEW];
    int64_t strides[SHP_MAX_VIEW];
} shp_view;

/* Row-major element strides of a dense tensor. */
void shp_dense_strides(int rank, const int64_t *dims, int64_t *strides);

/* Drops size-1 axes and merges axes that are contiguous in the source, so the
 * copy loops run over as few, as long rows as possible. Leaves rank >= 1. */
void shp_view_simplify(shp_view *v);

/* dst[...] = src[view]: dst is dense with the view's shape. src points at the
 * view's origin element. Splits rows across the pool for large copies. */
void shp_strided_copy(or_threadpool *pool, void *dst, const void *src, const shp_view *v,
                      size_t esize);

/* Reads input i, an int32/int64 tensor of rank 0 or 1 whose value must be
 * known while planning, into vals[0..max). *count receives the element count.
 * `what` names the input in the error message. Absent input: fails. */
int shp_plan_ints(or_graph *g, or_node *n, int i, const char *what, int64_t *vals, int64_t max,
                  int64_t *count);

/* Element k of an int32/int64 buffer as int64. */
int64_t shp_int_at(int dtype, const void *data, int64_t k);

/* Element size of input 0 (data); fails for strings and unknown dtypes. */
int shp_elem_size(or_graph *g, or_node *n, const or_tensor *t, size_t *esize);

/* Fails unless the shape's element count and byte size fit in memory. */
int shp_check_size(or_graph *g, or_node *n, int rank, const int64_t *dims, size_t esize);

/* run() for ops whose output holds the input's bytes unchanged (Reshape,
 * Squeeze, Unsqueeze, Flatten): a copy, or nothing when the planner gave
 * both one arena slot. */
int shp_copy_run(or_graph *g, or_node *n);
/* Installs shp_copy_run and marks the output a view of the input. */
void shp_set_view(or_node *n);

#endif
