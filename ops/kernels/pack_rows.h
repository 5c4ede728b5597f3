/* The rows a packer reads: B [N, K] as rows in blocks, row n at
 * base + (n / block) * block_ld + (n % block) * ldb elements. A plain
 * matrix is one block. Blocks let a pack take rows scattered over a larger
 * matrix without gathering them into a copy first: the team engine
 * (ops/recurrent_team.c) packs each member's rows of R, every gate's rows of
 * its units, straight from R. */
#ifndef OR_PACK_ROWS_H
#define OR_PACK_ROWS_H

#include <stddef.h>
#include <stdint.h>

typedef struct or_pack_rows {
    const void *base;
    size_t esz; /* bytes per element */
    int64_t ldb, block, block_ld;
} or_pack_rows;

/* Rows ldb elements apart. */
static inline or_pack_rows or_pack_rows_plain(const void *base, size_t esz, int64_t ldb) {
    return (or_pack_rows){.base = base, .esz = esz, .ldb = ldb, .block = INT64_MAX, .block_ld = 0};
}

static inline const void *or_pack_row(const or_pack_rows *r, int64_t n) {
    int64_t at = (n / r->block) * r->block_ld + (n % r->block) * r->ldb;
    return (const unsigned char *)r->base + (size_t)at * r->esz;
}

#endif
