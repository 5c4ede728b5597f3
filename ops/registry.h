/* The op registry, generated from the X-macro list in ops.def. */
#ifndef OR_REGISTRY_H
#define OR_REGISTRY_H

#include "../runtime/graph.h"

typedef int (*or_prepare_fn)(or_graph *g, or_node *n);

typedef enum or_op_id {
#define OP(name, first_opset, max_inputs, max_outputs, attrs, prepare) OR_OP_##name,
#include "ops.def"
#undef OP
    OR_OP_COUNT
} or_op_id;

#define OP(name, first_opset, max_inputs, max_outputs, attrs, prepare)                             \
    int prepare(or_graph *g, or_node *n);
#include "ops.def"
#undef OP

/* -1 when the op is not supported (or its domain is not the default one). */
int or_op_lookup(const char *domain, const char *op_type);
const char *or_op_name(int op);
int or_op_first_opset(int op);
/* The most inputs and outputs a node of the op may have; -1: no limit. */
int or_op_max_inputs(int op);
int or_op_max_outputs(int op);
/* Whether some supported opset of the op defines an attribute of this name. */
bool or_op_has_attr(int op, const char *name);
or_prepare_fn or_op_prepare(int op);
/* RNN, GRU or LSTM: the ops whose first output (Y) may be left unnamed. */
static inline bool or_op_is_recurrent(int op) {
    return op == OR_OP_RNN || op == OR_OP_GRU || op == OR_OP_LSTM;
}

#endif
