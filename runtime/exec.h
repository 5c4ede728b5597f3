/* Planner and executor over an or_graph. */
#ifndef OR_EXEC_H
#define OR_EXEC_H

#include "graph.h"

/* Load-time checks: every node's op is registered and its opset supported. */
int or_graph_check_ops(or_graph *g);
/* Whether every graph input has a fully known shape. */
bool or_graph_inputs_static(const or_graph *g);
/* Runs every prepare in order (inferring shapes, folding nodes whose inputs are
 * all known), then lays out the activation arena from tensor lifetimes.
 * Graph inputs must be bound (data and dims) or have static declared shapes. */
int or_graph_plan(or_graph *g);
/* Runs the planned graph. */
int or_graph_run(or_graph *g);
/* Drops the plan (node states, folded values, arena). */
void or_graph_unplan(or_graph *g);

#endif
