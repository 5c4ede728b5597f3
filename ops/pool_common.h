/* Window geometry shared by AveragePool and MaxPool: attribute parsing and
 * validation (kernel_shape, strides, pads, dilations, auto_pad, ceil_mode),
 * output shape, and where each output's window meets the input. Windows are
 * boxes, so one axis at a time is enough for any number of spatial dims. */
#ifndef OR_POOL_COMMON_H
#define OR_POOL_COMMON_H

#include "op.h"

#include <stdbool.h>
#include <stdint.h>

#define POOL_MAX_SPATIAL (OR_MAX_RANK - 2)

/* Load/store conversion of the plane kernels for types computed as they are
 * (float16 and bfloat16 use ops/convert.h's conversions instead). */
#define POOL_SAME(v) (v)

typedef struct pool_geom {
    int nd;         /* spatial rank */
    int64_t planes; /* N * C */
    int64_t in[POOL_MAX_SPATIAL], out[POOL_MAX_SPATIAL], k[POOL_MAX_SPATIAL];
    int64_t stride[POOL_MAX_SPATIAL], dil[POOL_MAX_SPATIAL];
    int64_t pad_begin[POOL_MAX_SPATIAL], pad_end[POOL_MAX_SPATIAL];
    int64_t in_stride[POOL_MAX_SPATIAL];  /* row-major element strides of one plane */
    int64_t tap_stride[POOL_MAX_SPATIAL]; /* in_stride * dilation: one tap further */
    int64_t in_size, out_size, k_size;    /* spatial element counts */
} pool_geom;

/* Checks X (known shape, rank >= 3), reads and validates the window
 * attributes and fills p. dilations are honoured whenever present (the
 * attribute only exists from MaxPool-10 / AveragePool-19 on, so older models
 * simply lack it). */
int pool_geom_init(or_graph *g, or_node *n, const or_tensor *x, pool_geom *p);

/* Output position o's window on axis d: its first input coordinate inside the
 * input, how many taps fall inside the input, and how many inside the input
 * plus padding (the divisor for count_include_pad). Computed on the fly (no
 * tables sized by the output, which a hostile model could make huge). */
typedef struct pool_window {
    int64_t first, count, padded;
} pool_window;

static inline void pool_axis_window(const pool_geom *p, int d, int64_t o, pool_window *w) {
    int64_t start = o * p->stride[d] - p->pad_begin[d], dil = p->dil[d], k = p->k[d];
    int64_t to_end = p->in[d] - start, to_pad_end = to_end + p->pad_end[d];
    /* Taps [lo, hi) are inside the input; [0, phi) inside input plus padding
     * (start >= -pad_begin, so none fall before the left padding). */
    int64_t lo = start >= 0 ? 0 : dil == 1 ? -start : (-start + dil - 1) / dil;
    int64_t hi = to_end <= 0 ? 0 : dil == 1 ? to_end : (to_end - 1) / dil + 1;
    int64_t phi = to_pad_end <= 0 ? 0 : dil == 1 ? to_pad_end : (to_pad_end - 1) / dil + 1;
    if (hi > k) hi = k;
    w->count = hi > lo ? hi - lo : 0;
    w->first = start + lo * dil;
    w->padded = phi < k ? phi : k;
}

/* Output dims [N, C, out...] into dims (OR_MAX_RANK entries). */
void pool_geom_out_dims(const pool_geom *p, const or_tensor *x, int64_t *dims);

/* Planes per parallel chunk so each chunk does a useful amount of work. */
int64_t pool_grain(int64_t work_per_plane);

#endif
