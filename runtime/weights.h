/* Giving back weights that an op has copied into its own packed layout.
 *
 * A recurrent op packs W and R once while planning. Without this, the
 * initializer and its packed copy would both stay resident, doubling the
 * weights' memory. When the op is the initializer's only reader, it releases
 * the initializer after packing, and while packing it hands back the pages
 * it has finished reading (or_src_release), so the peak stays near one copy.
 *
 * An initializer is released only when nothing can read it again: the
 * graph owns its bytes (a clone borrows them and never releases), no clone
 * shares the graph yet, it is not a graph output, and the asking node is
 * its only consumer, at a single input slot. A released tensor keeps its
 * name, type and shape; its data is NULL and `released` is set, so a
 * re-plan must reuse the op's packed copy (n->cache). */
#ifndef OR_WEIGHTS_H
#define OR_WEIGHTS_H

#include "graph.h"

#include <stdbool.h>
#include <stddef.h>

bool or_weight_releasable(const or_graph *g, const or_node *n, int input);
/* Frees input `input` of n when or_weight_releasable; otherwise does nothing. */
void or_weight_release(or_graph *g, const or_node *n, int input);
bool or_weight_released(const or_graph *g, const or_node *n, int input);
/* After planning: when weights were released, asks the C library to give
 * its freed heap back to the system (glibc keeps large freed blocks in the
 * heap otherwise, and they stay resident). */
void or_weights_settle(or_graph *g);

/* Tracks a buffer being read once by a packer. Each page lying wholly inside
 * the buffer is returned to the system (its contents become zero) once every
 * byte of it has been reported consumed. Report each byte at most once, and
 * only after its last read. A NULL tracker ignores reports, so packers call
 * these unconditionally. */
typedef struct or_src_release or_src_release;

/* NULL when the buffer holds no whole page or memory is short (harmless). */
or_src_release *or_src_release_begin(const void *buf, size_t len);
void or_src_release_consumed(or_src_release *r, const void *p, size_t bytes);
/* Returns whether any page was given back (the source is then no longer intact). */
bool or_src_release_end(or_src_release *r);

#endif
