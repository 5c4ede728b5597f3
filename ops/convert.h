/* Scalar conversions between stored dtypes, shared by Cast and by the
 * elementwise ops that compute float16/bfloat16/float8 through float.
 *
 * Float to integer truncates toward zero. Out-of-range values and NaN follow
 * what onnxruntime's static_cast compiles to on x86-64 (so results match it
 * there, and are defined everywhere): int32/int64 give the "integer
 * indefinite" INT_MIN; int8/int16/uint8/uint16 are converted through int32
 * and wrap; uint32 goes through int64 and wraps; uint64 goes through int64
 * below 2^63. */
#ifndef OR_CONVERT_H
#define OR_CONVERT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t or_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float or_bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline float or_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0x1f) return or_bits_f32(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        float v = (float)man * 0x1p-24f; /* subnormal or zero, exact */
        return sign ? -v : v;
    }
    return or_bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

/* Round to nearest, ties to even; overflow gives infinity, NaN stays NaN. */
static inline uint16_t or_f32_to_f16(float f) {
    uint32_t u = or_f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    u &= 0x7fffffffu;
    if (u >= 0x7f800000u)
        return (uint16_t)(sign | (u > 0x7f800000u ? 0x7e00u | ((u >> 13) & 0x3ffu) : 0x7c00u));
    if (u >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds to >= 65520 */
    if (u < 0x38800000u) {                                   /* below 2^-14: subnormal */
        if (u <= 0x33000000u) return sign;                   /* <= 2^-25 rounds to zero */
        uint32_t e = u >> 23, m = (u & 0x7fffffu) | 0x800000u, shift = 126u - e;
        uint32_t r = m >> shift, rest = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
        if (rest > half || (rest == half && (r & 1u))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = (u - 0x38000000u) >> 13, rest = u & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (r & 1u))) r++;
    return (uint16_t)(sign | r);
}

static inline float or_bf16_to_f32(uint16_t b) {
    return or_bits_f32((uint32_t)b << 16);
}

/* Round to nearest, ties to even; NaN stays a quiet NaN. */
static inline uint16_t or_f32_to_bf16(float f) {
    uint32_t u = or_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline int32_t or_f64_to_i32(double x) {
    return x > -2147483649.0 && x < 2147483648.0 ? (int32_t)x : INT32_MIN;
}

static inline int64_t or_f64_to_i64(double x) {
    return x >= -0x1p63 && x < 0x1p63 ? (int64_t)x : INT64_MIN;
}

static inline uint64_t or_f64_to_u64(double x) {
    if (x >= 0x1p63) return x < 0x1p64 ? (uint64_t)x : 0;
    return (uint64_t)or_f64_to_i64(x);
}

static inline int8_t or_f64_to_i8(double x) {
    return (int8_t)or_f64_to_i32(x);
}
static inline int16_t or_f64_to_i16(double x) {
    return (int16_t)or_f64_to_i32(x);
}
static inline uint8_t or_f64_to_u8(double x) {
    return (uint8_t)or_f64_to_i32(x);
}
static inline uint16_t or_f64_to_u16(double x) {
    return (uint16_t)or_f64_to_i32(x);
}
static inline uint32_t or_f64_to_u32(double x) {
    return (uint32_t)or_f64_to_i64(x);
}

/* ---- float8 (opset 19+): E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ ---- */
float or_f8_to_f32(int dtype, uint8_t v);
/* Round to nearest even. saturate: out-of-range and infinite values become
 * the largest finite value; otherwise NaN (E4M3*, E5M2FNUZ) or inf (E5M2). */
uint8_t or_f32_to_f8(int dtype, float f, bool saturate);

/* ---- float4 E2M1 (opset 23+), one 4-bit code per byte ---- */
/* Codes 0-7 are 0, 0.5, 1, 1.5, 2, 3, 4, 6; bit 3 is the sign. */
float or_f4_to_f32(uint8_t v);
/* Round to nearest even; beyond +/-6 (infinities too) saturates; NaN gives
 * 0x8 (negative zero), as ml_dtypes (the ONNX reference) does. */
uint8_t or_f32_to_f4(float f);

/* ---- float8 E8M0 (opset 24+): a biased power of two, 0xff is NaN ---- */
enum { OR_ROUND_UP = 0, OR_ROUND_DOWN = 1, OR_ROUND_NEAREST = 2 };
float or_e8m0_to_f32(uint8_t v); /* 2^(v - 127) */
/* Keeps the float32 exponent field (the sign is dropped) and rounds the
 * mantissa away: up (any fraction increments), down (truncates) or nearest
 * (ties up). NaN and infinity give 0xff; saturate keeps 0xfe from rounding
 * up into 0xff. */
uint8_t or_f32_to_e8m0(float f, bool saturate, int round_mode);

/* ---- blocks ---- */
/* Whether dtype is stored in a format computed through float (float16,
 * bfloat16, float8). */
bool or_dtype_via_f32(int dtype);
/* Converts n elements of a via-f32 dtype to float and back. */
void or_load_f32(int dtype, const void *src, float *dst, int64_t n);
void or_store_f32(int dtype, const float *src, void *dst, int64_t n, bool saturate);

/* Cast between any two numeric dtypes (including bool, float16, bfloat16,
 * float8, float4 and the 4- and 2-bit integers, which wrap like the wider
 * ones), n elements. or_cast_supported says whether a dtype is one. */
bool or_cast_supported(int dtype);
void or_cast_block(int src_dtype, const void *src, int dst_dtype, void *dst, int64_t n,
                   bool saturate);
/* Same with Cast-24's round_mode (OR_ROUND_*) for float8e8m0 targets. */
void or_cast_block_mode(int src_dtype, const void *src, int dst_dtype, void *dst, int64_t n,
                        bool saturate, int round_mode);

#endif
