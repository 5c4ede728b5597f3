/* Constant right-hand operands of MatMul and Gemm, packed once into the GEMM
 * kernel's panel layout (ops/kernels/gemm.h). */
#ifndef OR_PACKED_WEIGHTS_H
#define OR_PACKED_WEIGHTS_H

#include "kernels/gemm.h"
#include "op.h"

/* op(B) [K,N] of input i packed, or NULL when B's value is not known while
 * planning, its dtype is not float/double, or memory ran out (the caller then
 * multiplies B in place). An initializer's pack lives in n->cache and survives
 * re-plans; a folded value's pack is returned in *owned, which the caller
 * keeps in its state and frees with or_packed_b_free. */
const or_packed_b *or_pack_weight(or_graph *g, or_node *n, int i, bool trans_b, int64_t K,
                                  int64_t N, or_packed_b **owned);

#endif
