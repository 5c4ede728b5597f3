/* Einsum equation parsing, shared by the Einsum op and its tests.
 *
 * Subscript labels become small integers: 'A'-'Z' are 0-25 and 'a'-'z'
 * 26-51 (so sorting ids sorts labels the way numpy orders an implicit
 * output), and the dims an ellipsis stands for are OR_EINSUM_ELL + j, j
 * counted over the widest ellipsis, right-aligned (numpy broadcasting). */
#ifndef OR_EINSUM_PARSE_H
#define OR_EINSUM_PARSE_H

#include "../runtime/graph.h"

#include <stddef.h>
#include <stdint.h>

#define OR_EINSUM_MAX_IN 32
#define OR_EINSUM_ELL 52
#define OR_EINSUM_LABELS (OR_EINSUM_ELL + OR_MAX_RANK)

typedef struct or_einsum_spec {
    int n_in;
    int rank[OR_EINSUM_MAX_IN];
    int8_t lab[OR_EINSUM_MAX_IN][OR_MAX_RANK]; /* label of each input axis */
    int out_rank;
    int8_t out[OR_MAX_RANK]; /* label of each output axis */
    int ell_rank;            /* dims covered by the widest ellipsis */
} or_einsum_spec;

/* Parses `eq` for n_in inputs of the given ranks. Spaces are ignored. Without
 * "->" the output is the ellipsis dims followed by the labels used exactly
 * once, sorted. Returns 0, or -1 with a message in err. */
int or_einsum_parse(const char *eq, int n_in, const int *ranks, or_einsum_spec *s, char *err,
                    size_t errlen);

/* The character of a letter label (for messages); '.' for ellipsis dims. */
char or_einsum_label_char(int label);

#endif
