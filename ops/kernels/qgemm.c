/* Packing and per-call activation conversion for the reduced-precision
 * weight kernels (scheme in qgemm.h). */
#include "../../runtime/alloc.h"
#include "qgemm.h"

#include "../../runtime/cpu.h"

#include <math.h>
#include <string.h>

#define ALIGN 64

static size_t round_up(size_t x) {
    return (x + ALIGN - 1) / ALIGN * ALIGN;
}

static void pick_kernel(or_qmat *q, int force_scalar) {
    q->kern = q->kind == OR_Q_BF16  ? or_bf16_qgemm__scalar
              : q->kind == OR_Q_S8  ? or_s8_qgemm__scalar
              : q->kind == OR_Q_S16 ? or_s16_qgemm__scalar
                                    : or_f32_qgemm__scalar;
    q->kern_name = "scalar";
    q->abs_max = or_s8_abs_max__scalar;
    q->quantize = or_s8_quantize__scalar;
    q->quantize16 = or_s16_quantize__scalar;
#ifdef OR_HAVE_X86_KERNELS
    if (force_scalar) return;
    if (q->kind == OR_Q_F32 && or_cpu_isa() == OR_ISA_AVX512) {
        q->kern = or_f32_qgemm__avx512;
        q->kern_name = "avx512";
    }
    bool avx2 = or_cpu_isa() == OR_ISA_AVX2 || or_cpu_isa() == OR_ISA_AVX512;
    if (q->kind == OR_Q_BF16 && or_cpu_has(OR_CPU_AVX512_BF16)) {
        q->kern = or_bf16_qgemm__avx512;
        q->kern_name = "avx512bf16";
    } else if (q->kind == OR_Q_S8 && or_cpu_has(OR_CPU_AVX512_VNNI)) {
        q->kern = or_s8_qgemm__avx512;
        q->kern_name = "avx512vnni";
        q->abs_max = or_s8_abs_max__avx512;
        q->quantize = or_s8_quantize__avx512;
    } else if (q->kind == OR_Q_BF16 && avx2) {
        q->kern = or_bf16_qgemm__avx2;
        q->kern_name = "avx2";
    } else if (q->kind == OR_Q_S8 && avx2) {
        q->kern = or_s8_qgemm__avx2;
        q->kern_name = "avx2";
        q->a_max = 63;
        q->abs_max = or_s8_abs_max__avx2;
        q->quantize = or_s8_quantize__avx2;
    } else if (q->kind == OR_Q_S16 && avx2) {
        q->kern = or_s16_qgemm__avx2;
        q->kern_name = "avx2";
        q->abs_max = or_s8_abs_max__avx2;
        q->quantize16 = or_s16_quantize__avx2;
    }
#else
    (void)force_scalar;
#endif
}

/* Rows of panel p are done: report them. */
static void panel_done(const or_qmat *q, int64_t p, const or_pack_rows *rows, or_src_release *rel) {
    for (int64_t n = p * OR_Q_PANEL; n < (p + 1) * OR_Q_PANEL && n < q->N; n++)
        or_src_release_consumed(rel, or_pack_row(rows, n), (size_t)q->K * sizeof(float));
}

/* The panel packs read B a cache line per row at a time (PACK_KB floats of
 * each of the panel's rows, then the next PACK_KB): walking down a column
 * instead touched 16 rows ldb apart, which share one L1 set when ldb is a
 * multiple of 4 KiB (16 lines for 12 ways). Measured alone on Zen 5 (R of
 * LSTM hidden 1024, 16 MiB, into mapped pages): 4.8 -> 3.2 ms. Mapping the
 * fresh pages had cost ten times that, hence panel_prefault. */
#define PACK_KB 16

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}

/* S8 and S16: int8 weights with a scale per row, activations quantized per row. */
static bool int_kind(or_qkind kind) {
    return kind == OR_Q_S8 || kind == OR_Q_S16;
}

/* Bytes per packed weight. */
static int64_t qesz(or_qkind kind) {
    return kind == OR_Q_BF16 || kind == OR_Q_S16 ? 2 : kind == OR_Q_S8 ? 1 : 4;
}

/* Bytes per activation as q's kernel reads it: the AVX2 bf16 kernel takes
 * floats already rounded to bfloat16 (bf16_qgemm__avx2.c), every other kernel
 * the weights' type. */
static size_t act_size(const or_qmat *q) {
#ifdef OR_HAVE_X86_KERNELS
    if (q->kern == or_bf16_qgemm__avx2) return sizeof(float);
#endif
    return (size_t)qesz(q->kind);
}

/* Panel p of q's packed data, about to be written (or_prefault). */
static void panel_prefault(const or_qmat *q, int64_t p) {
    size_t bytes = (size_t)(q->kpad * OR_Q_PANEL * qesz(q->kind));
    or_prefault((unsigned char *)q->data + (size_t)p * bytes, bytes);
}

static void pack_bf16(or_qmat *q, const or_pack_rows *rows, or_src_release *rel) {
    uint16_t *d = q->data;
    const int64_t kq = q->kpad / 2;
    for (int64_t p = 0; p < q->npan; panel_done(q, p, rows, rel), p++) {
        panel_prefault(q, p);
        for (int64_t kk0 = 0; kk0 < kq; kk0 += PACK_KB / 2)
            for (int j = 0; j < OR_Q_PANEL; j++) {
                int64_t n = p * OR_Q_PANEL + j;
                const float *row = n < q->N ? or_pack_row(rows, n) : NULL;
                for (int64_t kk = kk0; kk < min64(kk0 + PACK_KB / 2, kq); kk++)
                    for (int e = 0; e < 2; e++) {
                        int64_t k = 2 * kk + e;
                        float x = row && k < q->K ? row[k] : 0.0f;
                        d[((p * kq + kk) * OR_Q_PANEL + j) * 2 + e] = or_f32_to_bf16(x);
                    }
            }
    }
}

static void pack_f32(or_qmat *q, const or_pack_rows *rows, or_src_release *rel) {
    float *d = q->data;
    for (int64_t p = 0; p < q->npan; panel_done(q, p, rows, rel), p++) {
        panel_prefault(q, p);
        for (int64_t k0 = 0; k0 < q->K; k0 += PACK_KB)
            for (int j = 0; j < OR_Q_PANEL; j++) {
                int64_t n = p * OR_Q_PANEL + j;
                const float *row = n < q->N ? or_pack_row(rows, n) : NULL;
                for (int64_t k = k0; k < min64(k0 + PACK_KB, q->K); k++)
                    d[(p * q->K + k) * OR_Q_PANEL + j] = row ? row[k] : 0.0f;
            }
    }
}

/* NaN (a non-finite row's x * 0) quantizes to -127: the row's scale is
 * NaN already. */
static int8_t quant(float x, float inv) {
    return (int8_t)or_s8_round(x, inv, 127.0f);
}

/* Row n of B as int8 values, stored (S8: int8 in quads, with their sum;
 * S16: int16 in pairs) and scaled by s_n. */
static void pack_int(or_qmat *q, const or_pack_rows *rows, or_src_release *rel) {
    const int64_t group = q->kind == OR_Q_S8 ? 4 : 2, kq = q->kpad / group;
    for (int64_t n = 0; n < q->N; n++) {
        const float *row = or_pack_row(rows, n);
        float amax = or_s8_abs_max__scalar(row, q->K);
        /* A non-finite row gives a non-finite scale and so non-finite outputs. */
        q->scale[n] = isfinite(amax) ? amax / 127.0f : amax + NAN;
        float inv = amax > 0 && isfinite(amax) ? 127.0f / amax : 0.0f;
        int64_t p = n / OR_Q_PANEL, j = n % OR_Q_PANEL;
        int32_t sum = 0;
        for (int64_t k = 0; k < q->K; k++) {
            int8_t v = quant(row[k], inv);
            int64_t at = ((p * kq + k / group) * OR_Q_PANEL + j) * group + k % group;
            if (q->kind == OR_Q_S8)
                ((int8_t *)q->data)[at] = v;
            else
                ((int16_t *)q->data)[at] = v;
            sum += v;
        }
        if (q->rowsum) q->rowsum[n] = sum;
        or_src_release_consumed(rel, row, (size_t)q->K * sizeof(float));
    }
}

/* S16's activation range: 127 * a_max * kpad, the largest int32 sum, fits
 * (at least 258 within OR_Q_INT_MAX_K). */
static int s16_a_max(int64_t kpad) {
    int64_t top = INT32_MAX / (127 * kpad);
    return top > 16383 ? 16383 : (int)top;
}

or_qmat *or_qmat_pack(or_qkind kind, int64_t N, int64_t K, const float *B, int64_t ldb,
                      int force_scalar) {
    return or_qmat_pack_from(kind, N, K, B, ldb, force_scalar, false, NULL);
}

or_qmat *or_qmat_pack_from(or_qkind kind, int64_t N, int64_t K, const float *B, int64_t ldb,
                           int force_scalar, bool huge_pages, or_src_release *rel) {
    or_pack_rows rows = or_pack_rows_plain(B, sizeof(float), ldb);
    return or_qmat_pack_rows(kind, N, K, &rows, force_scalar, huge_pages, rel);
}

or_qmat *or_qmat_pack_rows(or_qkind kind, int64_t N, int64_t K, const or_pack_rows *rows,
                           int force_scalar, bool huge_pages, or_src_release *rel) {
    if (N <= 0 || K <= 0 || !rows || !rows->base || rows->esz != sizeof(float) ||
        kind < OR_Q_BF16 || kind > OR_Q_S16)
        return NULL;
    if (N > INT32_MAX || K > INT32_MAX / 2) return NULL;
    int64_t quad = kind == OR_Q_BF16 || kind == OR_Q_S16 ? 2 : kind == OR_Q_S8 ? 4 : 1;
    int64_t esz = qesz(kind);
    int64_t npan = (N + OR_Q_PANEL - 1) / OR_Q_PANEL, kpad = (K + quad - 1) / quad * quad;
    if (int_kind(kind) && kpad > OR_Q_INT_MAX_K) return NULL;
    int64_t elems;
    if (__builtin_mul_overflow(npan * OR_Q_PANEL, kpad, &elems) || elems > INT64_MAX / esz)
        return NULL;
    or_qmat *q = or_calloc(1, sizeof *q);
    if (!q) return NULL;
    *q = (or_qmat){.kind = kind, .N = N, .K = K, .npan = npan, .kpad = kpad, .a_max = 127};
    size_t bytes = round_up((size_t)(elems * esz));
    q->data = huge_pages ? or_huge_page_alloc_later(bytes) : or_aligned_alloc(ALIGN, bytes);
    bool ints = int_kind(kind);
    if (ints) q->scale = or_calloc((size_t)(npan * OR_Q_PANEL), sizeof(float));
    if (kind == OR_Q_S8) q->rowsum = or_calloc((size_t)(npan * OR_Q_PANEL), sizeof(int32_t));
    if (kind == OR_Q_S16) q->a_max = s16_a_max(kpad);
    if (!q->data || (ints && !q->scale) || (kind == OR_Q_S8 && !q->rowsum)) {
        or_qmat_free(q);
        return NULL;
    }
    if (kind == OR_Q_BF16) {
        pack_bf16(q, rows, rel);
    } else if (kind == OR_Q_F32) {
        pack_f32(q, rows, rel);
    } else {
        or_prefault(q->data, (size_t)(elems * esz)); /* zeroed whole: padding stays 0 */
        memset(q->data, 0, (size_t)(elems * esz));
        pack_int(q, rows, rel);
    }
    if (huge_pages) or_huge_page_collapse(q->data, bytes);
    pick_kernel(q, force_scalar);
    return q;
}

void or_qmat_free(or_qmat *q) {
    if (!q) return;
    or_free(q->data);
    or_free(q->scale);
    or_free(q->rowsum);
    or_free(q);
}

size_t or_qmat_work_size(const or_qmat *q, int64_t M) {
    if (M <= 0) return ALIGN;
    size_t esz = act_size(q), a, s;
    if (__builtin_mul_overflow((size_t)M, (size_t)q->kpad * esz, &a) ||
        __builtin_mul_overflow((size_t)M, sizeof(float), &s) || a > SIZE_MAX / 4 ||
        s > SIZE_MAX / 4)
        return 0;
    return round_up(a) + round_up(s);
}

static void prep_bf16(const or_qmat *q, int64_t M, const float *A, int64_t lda, void *work) {
    for (int64_t i = 0; i < M; i++) {
        const float *x = A + i * lda;
        if (act_size(q) == sizeof(float)) {
            float *d = (float *)work + i * q->kpad;
            for (int64_t k = 0; k < q->K; k++) d[k] = or_bf16_to_f32(or_f32_to_bf16(x[k]));
            for (int64_t k = q->K; k < q->kpad; k++) d[k] = 0;
            continue;
        }
        uint16_t *d = (uint16_t *)work + i * q->kpad;
        for (int64_t k = 0; k < q->K; k++) d[k] = or_f32_to_bf16(x[k]);
        for (int64_t k = q->K; k < q->kpad; k++) d[k] = 0;
    }
}

/* Row x's activation scale t (into *ascale) and the 1/t it is quantized by:
 * a non-finite row gets a non-finite scale, and so non-finite outputs. */
static float act_scale(const or_qmat *q, const float *x, float *ascale) {
    float amax = q->abs_max(x, q->K);
    const float top = (float)q->a_max;
    *ascale = isfinite(amax) ? amax / top : amax + NAN;
    return amax > 0 && isfinite(amax) ? top / amax : 0.0f;
}

static void prep_s8(const or_qmat *q, int64_t M, const float *A, int64_t lda, uint8_t *a8,
                    float *ascale) {
    for (int64_t i = 0; i < M; i++) {
        uint8_t *d = a8 + i * q->kpad;
        q->quantize(A + i * lda, q->K, act_scale(q, A + i * lda, ascale + i), q->a_max, d);
        for (int64_t k = q->K; k < q->kpad; k++) d[k] = (uint8_t)(q->a_max + 1);
    }
}

static void prep_s16(const or_qmat *q, int64_t M, const float *A, int64_t lda, int16_t *a16,
                     float *ascale) {
    for (int64_t i = 0; i < M; i++) {
        int16_t *d = a16 + i * q->kpad;
        q->quantize16(A + i * lda, q->K, act_scale(q, A + i * lda, ascale + i), q->a_max, d);
        for (int64_t k = q->K; k < q->kpad; k++) d[k] = 0;
    }
}

typedef struct qtask {
    const or_qmat *q;
    int64_t M, ldc;
    const void *a;
    const float *ascale;
    float *C;
    bool reverse; /* groups last to first */
} qtask;

/* Threads split panels in groups of 8 so each keeps a block of whole panels. */
#define GROUP 8

static void qrun(void *ctx, int64_t begin, int64_t end, int thread_index) {
    (void)thread_index;
    const qtask *t = ctx;
    if (t->reverse) {
        for (int64_t g = end - 1; g >= begin; g--) {
            int64_t p0 = g * GROUP, p1 = p0 + GROUP < t->q->npan ? p0 + GROUP : t->q->npan;
            t->q->kern(t->q, t->M, t->a, t->ascale, p0, p1, t->C, t->ldc);
        }
        return;
    }
    int64_t p0 = begin * GROUP, p1 = end * GROUP < t->q->npan ? end * GROUP : t->q->npan;
    t->q->kern(t->q, t->M, t->a, t->ascale, p0, p1, t->C, t->ldc);
}

void or_qmat_gemm_sweep(const or_qmat *q, int64_t M, const float *A, int64_t lda, float *C,
                        int64_t ldc, void *work, or_threadpool *pool, bool reverse) {
    if (M <= 0) return;
    size_t esz = act_size(q);
    float *ascale = int_kind(q->kind)
                        ? (float *)((unsigned char *)work + round_up((size_t)(M * q->kpad) * esz))
                        : NULL;
    if (q->kind == OR_Q_BF16)
        prep_bf16(q, M, A, lda, work);
    else if (q->kind == OR_Q_F32 && lda != q->kpad)
        for (int64_t i = 0; i < M; i++)
            memcpy((float *)work + i * q->kpad, A + i * lda, sizeof(float) * (size_t)q->K);
    else if (q->kind == OR_Q_S8)
        prep_s8(q, M, A, lda, work, ascale);
    else if (q->kind == OR_Q_S16)
        prep_s16(q, M, A, lda, work, ascale);
    /* Float rows already laid out as the kernel reads them are not copied. */
    const void *a = q->kind == OR_Q_F32 && lda == q->kpad ? (const void *)A : work;
    qtask t = {q, M, ldc, a, ascale, C, reverse};
    int64_t groups = (q->npan + GROUP - 1) / GROUP;
    /* Below ~1M multiply-adds a handoff costs more than it saves. */
    double work_ops = (double)M * (double)q->npan * OR_Q_PANEL * (double)q->kpad;
    if (groups > 1 && work_ops >= 1e6 && or_threadpool_size(pool) > 1)
        or_parallel_for(pool, groups, 1, qrun, &t);
    else
        qrun(&t, 0, groups, 0);
}

void or_qmat_gemm(const or_qmat *q, int64_t M, const float *A, int64_t lda, float *C, int64_t ldc,
                  void *work, or_threadpool *pool) {
    or_qmat_gemm_sweep(q, M, A, lda, C, ldc, work, pool, false);
}
