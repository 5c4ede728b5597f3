/* Block conversions between dtypes (see convert.h): float8/float4 coding, the
 * float16/bfloat16/float8 <-> float blocks used by the elementwise ops, and
 * the any-to-any numeric conversion behind Cast. A cast goes through one of
 * three wide domains, chosen by the source: double for floating types, int64
 * for signed integers and bool, uint64 for unsigned integers; every value of
 * a source type is exact in its domain, so each cast rounds at most once
 * (float16/bfloat16/float8/float4 targets round through float, as onnxruntime
 * does). The 4- and 2-bit integers are stored one per byte (graph.h): they
 * load as int64/uint64 and store by keeping the low bits, extended. */
#include "convert.h"

#include "../runtime/graph.h"

#include <math.h>

#define BLOCK 256

/* ---- float8 ---- */

typedef struct {
    int man_bits, bias;
    bool fnuz;        /* no infinity, no negative zero, NaN is 0x80 */
    bool has_inf;     /* E5M2: IEEE-like infinities */
    uint8_t max_code; /* largest finite magnitude */
} f8_format;

static const f8_format *f8_fmt(int dtype) {
    static const f8_format e4m3fn = {3, 7, false, false, 0x7e};
    static const f8_format e4m3fnuz = {3, 8, true, false, 0x7f};
    static const f8_format e5m2 = {2, 15, false, true, 0x7b};
    static const f8_format e5m2fnuz = {2, 16, true, false, 0x7f};
    switch (dtype) {
    case OR_FLOAT8E4M3FN:
        return &e4m3fn;
    case OR_FLOAT8E4M3FNUZ:
        return &e4m3fnuz;
    case OR_FLOAT8E5M2:
        return &e5m2;
    case OR_FLOAT8E5M2FNUZ:
        return &e5m2fnuz;
    default:
        return NULL;
    }
}

float or_f8_to_f32(int dtype, uint8_t v) {
    const f8_format *f = f8_fmt(dtype);
    if (!f) return NAN;
    if (f->fnuz && v == 0x80) return NAN;
    int exp_bits = 7 - f->man_bits;
    int mag = v & 0x7f, exp = mag >> f->man_bits, man = mag & ((1 << f->man_bits) - 1);
    int exp_max = (1 << exp_bits) - 1;
    bool neg = (v & 0x80) != 0;
    if (!f->fnuz && f->has_inf && exp == exp_max) return man ? NAN : (neg ? -INFINITY : INFINITY);
    if (!f->fnuz && !f->has_inf && mag == 0x7f) return NAN;
    float x = exp == 0 ? ldexpf((float)man, 1 - f->bias - f->man_bits)
                       : ldexpf((float)(man | (1 << f->man_bits)), exp - f->bias - f->man_bits);
    return neg ? -x : x;
}

/* The magnitude code of |x| (finite, > 0) rounded to nearest even; may exceed
 * max_code when x is out of range. */
static int f8_round(const f8_format *f, float a) {
    int e;
    frexpf(a, &e); /* a = m * 2^e, m in [0.5, 1) */
    int exp = e - 1 + f->bias;
    if (exp < 1) exp = 1; /* subnormal: same quantum as the smallest normal */
    if (exp > 40) return 0x100;
    float q = nearbyintf(ldexpf(a, f->man_bits - (exp - f->bias)));
    int k = (int)q; /* in [0, 2^(man_bits+1)] */
    if (k == 0) return 0;
    if (e - 1 + f->bias < 1) return k; /* subnormal, or carried into the smallest normal */
    if (k >= 2 << f->man_bits) {
        exp++;
        k >>= 1;
    }
    return (exp << f->man_bits) | (k - (1 << f->man_bits));
}

uint8_t or_f32_to_f8(int dtype, float x, bool saturate) {
    const f8_format *f = f8_fmt(dtype);
    if (!f) return 0;
    uint8_t nan = f->fnuz ? 0x80 : 0x7f;
    uint8_t sign = signbit(x) ? 0x80 : 0;
    if (isnan(x)) return f->fnuz ? nan : (uint8_t)(nan | sign);
    float a = fabsf(x);
    int code = isinf(a) ? 0x100 : (a == 0 ? 0 : f8_round(f, a));
    if (code > f->max_code) {
        if (saturate)
            code = f->max_code;
        else if (f->has_inf)
            code = 0x7c;
        else
            return f->fnuz ? nan : (uint8_t)(nan | sign);
    }
    if (code == 0 && f->fnuz) return 0;
    return (uint8_t)(code | sign);
}

/* ---- float4 E2M1 and float8 E8M0 ---- */

float or_f4_to_f32(uint8_t v) {
    int exp = (v >> 1) & 3, man = v & 1;
    float x = exp == 0 ? 0.5f * (float)man : ldexpf((float)(2 + man), exp - 2);
    return (v & 8) ? -x : x;
}

uint8_t or_f32_to_f4(float x) {
    /* E2M1 rounds like a float8 format with one mantissa bit and bias 1. */
    static const f8_format e2m1 = {1, 1, false, false, 0x7};
    if (isnan(x)) return 0x8;
    uint8_t sign = signbit(x) ? 0x8 : 0;
    float a = fabsf(x);
    int code = isinf(a) ? 0x100 : (a == 0 ? 0 : f8_round(&e2m1, a));
    return (uint8_t)((code > 7 ? 7 : code) | sign);
}

float or_e8m0_to_f32(uint8_t v) {
    return v == 0xff ? NAN : ldexpf(1.0f, (int)v - 127);
}

uint8_t or_f32_to_e8m0(float x, bool saturate, int round_mode) {
    uint32_t u = or_f32_bits(x), e = (u >> 23) & 0xffu, frac = u & 0x7fffffu;
    if (e == 0xff) return 0xff;
    bool up = false;
    if (round_mode == OR_ROUND_UP) {
        up = frac != 0;
    } else if (round_mode == OR_ROUND_NEAREST) {
        /* At or above half way; a subnormal's exact half (no lower bits) stays. */
        bool half = (frac & 0x400000u) != 0, rest = (frac & 0x3fffffu) != 0;
        up = half && (rest || e > 0);
    }
    if (up && !(saturate && e == 0xfe)) e++;
    return (uint8_t)e;
}

/* ---- via-float blocks ---- */

bool or_dtype_via_f32(int dtype) {
    return dtype == OR_FLOAT16 || dtype == OR_BFLOAT16 || f8_fmt(dtype) != NULL;
}

void or_load_f32(int dtype, const void *src, float *dst, int64_t n) {
    if (dtype == OR_FLOAT16) {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) dst[i] = or_f16_to_f32(s[i]);
    } else if (dtype == OR_BFLOAT16) {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) dst[i] = or_bf16_to_f32(s[i]);
    } else if (dtype == OR_FLOAT) {
        memcpy(dst, src, sizeof(float) * (size_t)n);
    } else {
        const uint8_t *s = src;
        for (int64_t i = 0; i < n; i++) dst[i] = or_f8_to_f32(dtype, s[i]);
    }
}

void or_store_f32(int dtype, const float *src, void *dst, int64_t n, bool saturate) {
    if (dtype == OR_FLOAT16) {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = or_f32_to_f16(src[i]);
    } else if (dtype == OR_BFLOAT16) {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = or_f32_to_bf16(src[i]);
    } else if (dtype == OR_FLOAT) {
        memcpy(dst, src, sizeof(float) * (size_t)n);
    } else {
        uint8_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = or_f32_to_f8(dtype, src[i], saturate);
    }
}

/* ---- Cast ---- */

typedef enum { DOM_F64, DOM_I64, DOM_U64 } cast_domain;

typedef union {
    double f[BLOCK];
    int64_t i[BLOCK];
    uint64_t u[BLOCK];
} wide_block;

bool or_cast_supported(int dtype) {
    switch (dtype) {
    case OR_FLOAT:
    case OR_DOUBLE:
    case OR_FLOAT16:
    case OR_BFLOAT16:
    case OR_INT8:
    case OR_INT16:
    case OR_INT32:
    case OR_INT64:
    case OR_UINT8:
    case OR_UINT16:
    case OR_UINT32:
    case OR_UINT64:
    case OR_BOOL:
    case OR_UINT4:
    case OR_INT4:
    case OR_UINT2:
    case OR_INT2:
    case OR_FLOAT4E2M1:
    case OR_FLOAT8E8M0:
        return true;
    default:
        return f8_fmt(dtype) != NULL;
    }
}

#define LOAD(T, FIELD, EXPR)                                                                       \
    do {                                                                                           \
        const T *s = src;                                                                          \
        for (int64_t k = 0; k < n; k++) w->FIELD[k] = (EXPR);                                      \
    } while (0)

static cast_domain load_wide(int dtype, const void *src, wide_block *w, int64_t n) {
    switch (dtype) {
    case OR_FLOAT:
        LOAD(float, f, s[k]);
        return DOM_F64;
    case OR_DOUBLE:
        LOAD(double, f, s[k]);
        return DOM_F64;
    case OR_FLOAT16:
        LOAD(uint16_t, f, or_f16_to_f32(s[k]));
        return DOM_F64;
    case OR_BFLOAT16:
        LOAD(uint16_t, f, or_bf16_to_f32(s[k]));
        return DOM_F64;
    case OR_INT8:
    case OR_INT4: /* stored sign-extended */
    case OR_INT2:
        LOAD(int8_t, i, s[k]);
        return DOM_I64;
    case OR_INT16:
        LOAD(int16_t, i, s[k]);
        return DOM_I64;
    case OR_INT32:
        LOAD(int32_t, i, s[k]);
        return DOM_I64;
    case OR_INT64:
        LOAD(int64_t, i, s[k]);
        return DOM_I64;
    case OR_BOOL:
        LOAD(uint8_t, i, s[k] != 0);
        return DOM_I64;
    case OR_UINT8:
    case OR_UINT4:
    case OR_UINT2:
        LOAD(uint8_t, u, s[k]);
        return DOM_U64;
    case OR_UINT16:
        LOAD(uint16_t, u, s[k]);
        return DOM_U64;
    case OR_UINT32:
        LOAD(uint32_t, u, s[k]);
        return DOM_U64;
    case OR_UINT64:
        LOAD(uint64_t, u, s[k]);
        return DOM_U64;
    case OR_FLOAT4E2M1:
        LOAD(uint8_t, f, or_f4_to_f32(s[k]));
        return DOM_F64;
    case OR_FLOAT8E8M0:
        LOAD(uint8_t, f, or_e8m0_to_f32(s[k]));
        return DOM_F64;
    default:
        LOAD(uint8_t, f, or_f8_to_f32(dtype, s[k]));
        return DOM_F64;
    }
}

/* Stores n values of domain member FIELD through CONV (a macro argument
 * applied per element) into a T array. */
#define STORE(T, FIELD, CONV)                                                                      \
    do {                                                                                           \
        T *d = dst;                                                                                \
        for (int64_t k = 0; k < n; k++) d[k] = CONV(w->FIELD[k]);                                  \
    } while (0)

#define TO_F32(x) ((float)(x))
#define TO_F64(x) ((double)(x))
#define TO_F16(x) or_f32_to_f16((float)(x))
#define TO_BF16(x) or_f32_to_bf16((float)(x))
#define TO_BOOL(x) ((uint8_t)((x) != 0))
#define WRAP_I8(x) ((int8_t)(x))
#define WRAP_I16(x) ((int16_t)(x))
#define WRAP_I32(x) ((int32_t)(x))
#define WRAP_I64(x) ((int64_t)(x))
#define WRAP_U8(x) ((uint8_t)(x))
#define WRAP_U16(x) ((uint16_t)(x))
#define WRAP_U32(x) ((uint32_t)(x))
#define WRAP_U64(x) ((uint64_t)(x))
/* Keep the low 4 or 2 bits; the signed types extend the sign into the byte. */
static inline uint8_t wrap_u4(uint64_t x) {
    return (uint8_t)(x & 0xfu);
}
static inline uint8_t wrap_u2(uint64_t x) {
    return (uint8_t)(x & 0x3u);
}
static inline int8_t wrap_i4(uint64_t x) {
    return (int8_t)((int)((x & 0xfu) ^ 0x8u) - 8);
}
static inline int8_t wrap_i2(uint64_t x) {
    return (int8_t)((int)((x & 0x3u) ^ 0x2u) - 2);
}
#define WRAP_U4(x) wrap_u4((uint64_t)(x))
#define WRAP_U2(x) wrap_u2((uint64_t)(x))
#define WRAP_I4(x) wrap_i4((uint64_t)(x))
#define WRAP_I2(x) wrap_i2((uint64_t)(x))
#define F64_TO_U4(x) WRAP_U4(or_f64_to_i32(x))
#define F64_TO_U2(x) WRAP_U2(or_f64_to_i32(x))
#define F64_TO_I4(x) WRAP_I4(or_f64_to_i32(x))
#define F64_TO_I2(x) WRAP_I2(or_f64_to_i32(x))

/* Integer targets: from double with the x86-64 rules, from integers by wrapping. */
#define STORE_INT(T, FROM_F64, WRAP)                                                               \
    do {                                                                                           \
        if (dom == DOM_F64)                                                                        \
            STORE(T, f, FROM_F64);                                                                 \
        else if (dom == DOM_I64)                                                                   \
            STORE(T, i, WRAP);                                                                     \
        else                                                                                       \
            STORE(T, u, WRAP);                                                                     \
    } while (0)

#define STORE_ANY(T, CONV)                                                                         \
    do {                                                                                           \
        if (dom == DOM_F64)                                                                        \
            STORE(T, f, CONV);                                                                     \
        else if (dom == DOM_I64)                                                                   \
            STORE(T, i, CONV);                                                                     \
        else                                                                                       \
            STORE(T, u, CONV);                                                                     \
    } while (0)

/* Float8/float4 targets: through float32, as the ONNX reference does. */
static void store_small_float(int dtype, cast_domain dom, const wide_block *w, void *dst, int64_t n,
                              bool saturate, int round_mode) {
    uint8_t *d = dst;
    for (int64_t i = 0; i < n; i++) {
        float x = dom == DOM_F64   ? (float)w->f[i]
                  : dom == DOM_I64 ? (float)w->i[i]
                                   : (float)w->u[i];
        d[i] = dtype == OR_FLOAT4E2M1   ? or_f32_to_f4(x)
               : dtype == OR_FLOAT8E8M0 ? or_f32_to_e8m0(x, saturate, round_mode)
                                        : or_f32_to_f8(dtype, x, saturate);
    }
}

static void store_wide(int dtype, cast_domain dom, const wide_block *w, void *dst, int64_t n,
                       bool saturate, int round_mode) {
    switch (dtype) {
    case OR_FLOAT:
        STORE_ANY(float, TO_F32);
        break;
    case OR_DOUBLE:
        STORE_ANY(double, TO_F64);
        break;
    case OR_FLOAT16:
        STORE_ANY(uint16_t, TO_F16);
        break;
    case OR_BFLOAT16:
        STORE_ANY(uint16_t, TO_BF16);
        break;
    case OR_BOOL:
        STORE_ANY(uint8_t, TO_BOOL);
        break;
    case OR_INT8:
        STORE_INT(int8_t, or_f64_to_i8, WRAP_I8);
        break;
    case OR_INT16:
        STORE_INT(int16_t, or_f64_to_i16, WRAP_I16);
        break;
    case OR_INT32:
        STORE_INT(int32_t, or_f64_to_i32, WRAP_I32);
        break;
    case OR_INT64:
        STORE_INT(int64_t, or_f64_to_i64, WRAP_I64);
        break;
    case OR_UINT8:
        STORE_INT(uint8_t, or_f64_to_u8, WRAP_U8);
        break;
    case OR_UINT16:
        STORE_INT(uint16_t, or_f64_to_u16, WRAP_U16);
        break;
    case OR_UINT32:
        STORE_INT(uint32_t, or_f64_to_u32, WRAP_U32);
        break;
    case OR_UINT64:
        STORE_INT(uint64_t, or_f64_to_u64, WRAP_U64);
        break;
    case OR_UINT4:
        STORE_INT(uint8_t, F64_TO_U4, WRAP_U4);
        break;
    case OR_INT4:
        STORE_INT(int8_t, F64_TO_I4, WRAP_I4);
        break;
    case OR_UINT2:
        STORE_INT(uint8_t, F64_TO_U2, WRAP_U2);
        break;
    case OR_INT2:
        STORE_INT(int8_t, F64_TO_I2, WRAP_I2);
        break;
    default:
        store_small_float(dtype, dom, w, dst, n, saturate, round_mode);
        break;
    }
}

void or_cast_block(int src_dtype, const void *src, int dst_dtype, void *dst, int64_t n,
                   bool saturate) {
    or_cast_block_mode(src_dtype, src, dst_dtype, dst, n, saturate, OR_ROUND_UP);
}

void or_cast_block_mode(int src_dtype, const void *src, int dst_dtype, void *dst, int64_t n,
                        bool saturate, int round_mode) {
    size_t ss = or_dtype_size(src_dtype), ds = or_dtype_size(dst_dtype);
    wide_block w;
    for (int64_t off = 0; off < n; off += BLOCK) {
        int64_t m = n - off < BLOCK ? n - off : BLOCK;
        cast_domain dom = load_wide(src_dtype, (const char *)src + (size_t)off * ss, &w, m);
        store_wide(dst_dtype, dom, &w, (char *)dst + (size_t)off * ds, m, saturate, round_mode);
    }
}
