/* What an op implementation sees: tensor access, attribute helpers, output
 * shape declaration and plan-time values. Every op file in ops/ includes this. */
#ifndef OR_OP_H
#define OR_OP_H

#include "../runtime/graph.h"
#include "../runtime/threadpool.h"
#include "registry.h"

/* Declares output i's dtype and shape (skipped when the output is absent).
 * Called by prepare; the planner allocates the buffer afterwards. */
int or_set_output(or_graph *g, or_node *n, int i, int dtype, int rank, const int64_t *dims);

/* The value of input i while planning, or NULL when it is not known yet.
 * Known: initializers, Constant outputs and anything folded from them, and
 * graph inputs (then the plan is redone whenever that input's bytes change).
 * Use it for shape-like inputs (Reshape's shape, Slice's starts, ...). */
const void *or_input_value(or_graph *g, or_node *n, int i);

/* Asks, from prepare, for `bytes` of working memory while the node runs: run
 * finds it at n->scratch (64-byte aligned). It lives in the activation arena
 * (runtime/graph.h), so it costs nothing while other nodes run. */
void or_request_scratch(or_node *n, size_t bytes);

/* Reads an integer tensor (int32 or int64) element as int64. */
int64_t or_read_int(const or_tensor *t, int64_t index);
/* Reads a numeric tensor element as double (any numeric dtype). */
double or_read_double(const or_tensor *t, int64_t index);

/* Normalises a possibly negative axis against rank; returns -1 when out of range. */
static inline int or_norm_axis(int64_t axis, int rank) {
    if (axis < -rank || axis >= rank) return -1;
    return (int)(axis < 0 ? axis + rank : axis);
}

#endif
