/* TensorProto decoding: shape validation and every in-message storage form
 * (raw_data, which is little-endian, and the typed repeated fields), plus the
 * standalone .pb tensor files of the backend tests. External data lives in
 * external_data.c.
 *
 * Typed fields follow onnx.proto: float_data holds FLOAT and COMPLEX64,
 * int32_data every type of 16 bits or less (as values or bit patterns),
 * int64_data INT64, double_data DOUBLE and COMPLEX128, uint64_data UINT32 and
 * UINT64. Every size is checked before anything is allocated, so dims alone
 * cannot make us allocate.
 *
 * The 4-bit (uint4, int4, float4e2m1) and 2-bit (uint2, int2) types are
 * packed, first element in the low bits, in raw_data and in int32_data (one
 * packed byte per value); they are unpacked to one byte per element here
 * (sign-extended for int4/int2), which is how the rest of the engine stores
 * them.
 */
#include "../runtime/alloc.h"
#include "loader.h"
#include "pb_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int or_pb_err(char *err, size_t errlen, int status, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return status;
}

void *or_pb_aligned_alloc(size_t nbytes) {
    size_t rounded = (nbytes + 63) / 64 * 64;
    if (rounded < nbytes) return NULL;
    if (rounded == 0) rounded = 64;
    return or_large_alloc(rounded);
}

/* Large blocks come out as or_pb_aligned_alloc would make them, so that a
 * tensor may adopt a raw_data block instead of copying it. */
static void *pb_alloc(void *unused, size_t size) {
    (void)unused;
    return size >= OR_PB_ADOPT_MIN ? or_pb_aligned_alloc(size) : or_malloc(size);
}

static void pb_free(void *unused, void *p) {
    (void)unused;
    or_free(p);
}

ProtobufCAllocator or_pb_allocator = {pb_alloc, pb_free, NULL};

void or_pb_le_to_host(void *data, size_t nbytes, size_t esize) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    /* Complex values swap each component separately. */
    size_t unit = esize == 16 ? 8 : esize;
    unsigned char *p = data;
    for (size_t off = 0; unit > 1 && off + unit <= nbytes; off += unit)
        for (size_t i = 0; i < unit / 2; i++) {
            unsigned char tmp = p[off + i];
            p[off + i] = p[off + unit - 1 - i];
            p[off + unit - 1 - i] = tmp;
        }
#else
    (void)data;
    (void)nbytes;
    (void)esize;
#endif
}

/* Rank, dims and element count; the product of the non-zero dims must fit
 * too, so that ops multiplying sub-shapes of an empty tensor cannot overflow. */
static int decode_shape(const Onnx__TensorProto *tp, const char *what, or_tensor *out,
                        int64_t *numel, char *err, size_t errlen) {
    if (tp->n_dims > OR_MAX_RANK)
        return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL, "%s has rank %zu (at most %d supported)",
                         what, tp->n_dims, OR_MAX_RANK);
    int64_t n = 1, nonzero = 1;
    for (size_t i = 0; i < tp->n_dims; i++) {
        int64_t d = tp->dims[i];
        if (d < 0)
            return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL, "%s has negative dimension %lld", what,
                             (long long)d);
        if (d > 0 && nonzero > INT64_MAX / d)
            return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL,
                             "%s: the product of its dimensions overflows", what);
        if (d > 0) nonzero *= d;
        n *= d;
        out->dims[i] = d;
    }
    out->rank = (int)tp->n_dims;
    *numel = n;
    return ONNXRUN_OK;
}

static int check_dtype(const Onnx__TensorProto *tp, const char *what, size_t *esize, char *err,
                       size_t errlen) {
    int dt = tp->has_data_type ? tp->data_type : OR_UNDEFINED;
    if (dt == OR_STRING)
        return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL, "%s: string tensors are not supported",
                         what);
    if (dt == OR_UNDEFINED)
        return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL, "%s has no data type", what);
    *esize = or_dtype_size(dt);
    if (*esize == 0)
        return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL, "%s has unsupported data type %d (%s)",
                         what, dt, or_dtype_name(dt));
    return ONNXRUN_OK;
}

/* The typed field that may hold this dtype: its element count and width. */
typedef struct typed_field {
    const void *data;
    size_t count;
    size_t width; /* bytes per element in the field */
    const char *name;
} typed_field;

static typed_field typed_field_for(const Onnx__TensorProto *tp, int dtype) {
    typed_field f = {NULL, 0, 0, "?"};
    switch (dtype) {
    case OR_FLOAT:
    case OR_COMPLEX64:
        return (typed_field){tp->float_data, tp->n_float_data, 4, "float_data"};
    case OR_INT64:
        return (typed_field){tp->int64_data, tp->n_int64_data, 8, "int64_data"};
    case OR_DOUBLE:
    case OR_COMPLEX128:
        return (typed_field){tp->double_data, tp->n_double_data, 8, "double_data"};
    case OR_UINT32:
    case OR_UINT64:
        return (typed_field){tp->uint64_data, tp->n_uint64_data, 8, "uint64_data"};
    case OR_INT32:
    case OR_INT16:
    case OR_INT8:
    case OR_UINT16:
    case OR_UINT8:
    case OR_BOOL:
    case OR_FLOAT16:
    case OR_BFLOAT16:
    case OR_FLOAT8E4M3FN:
    case OR_FLOAT8E4M3FNUZ:
    case OR_FLOAT8E5M2:
    case OR_FLOAT8E5M2FNUZ:
    case OR_FLOAT8E8M0:
    case OR_UINT4:
    case OR_INT4:
    case OR_FLOAT4E2M1:
    case OR_UINT2:
    case OR_INT2:
        return (typed_field){tp->int32_data, tp->n_int32_data, 4, "int32_data"};
    default:
        return f;
    }
}

/* Copies a typed field into dst, narrowing each value to esize bytes (the
 * low bits: values for integers, bit patterns for 16- and 8-bit floats). */
static void copy_typed(const typed_field *f, int dtype, size_t esize, void *dst) {
    if (f->width == esize || esize == 2 * f->width) { /* complex: pairs */
        memcpy(dst, f->data, f->count * f->width);
        return;
    }
    if (f->width == 8) { /* uint64_data -> uint32 */
        const uint64_t *src = f->data;
        uint32_t *out = dst;
        for (size_t i = 0; i < f->count; i++) out[i] = (uint32_t)src[i];
        return;
    }
    const int32_t *src = f->data;
    if (esize == 2) {
        uint16_t *out = dst;
        for (size_t i = 0; i < f->count; i++) out[i] = (uint16_t)(uint32_t)src[i];
    } else {
        uint8_t *out = dst;
        for (size_t i = 0; i < f->count; i++)
            out[i] = dtype == OR_BOOL ? src[i] != 0 : (uint8_t)(uint32_t)src[i];
    }
}

/* Unpacks numel elements of a sub-byte dtype from packed (bits each, low
 * bits first) into one byte each. */
static void unpack_sub_byte(int dtype, const uint8_t *packed, size_t numel, uint8_t *dst) {
    int bits = or_dtype_pb_bits(dtype), per_byte = 8 / bits;
    bool is_signed = dtype == OR_INT4 || dtype == OR_INT2;
    unsigned mask = (1u << bits) - 1u, sign = 1u << (bits - 1);
    for (size_t i = 0; i < numel; i++) {
        unsigned v =
            (packed[i / (size_t)per_byte] >> ((i % (size_t)per_byte) * (size_t)bits)) & mask;
        if (is_signed && (v & sign)) v |= ~mask; /* two's complement: extend the sign */
        dst[i] = (uint8_t)v;
    }
}

/* Replaces out's packed data (nbytes) by its unpacked form, numel bytes. */
static int unpack_tensor(or_tensor *out, size_t numel, const char *what, char *err, size_t errlen) {
    uint8_t *buf = or_pb_aligned_alloc(numel);
    if (!buf) return or_pb_err(err, errlen, ONNXRUN_ERR_NOMEM, "%s: out of memory", what);
    if (numel) unpack_sub_byte(out->dtype, out->data, numel, buf);
    or_tensor old = {0};
    old.owned = out->owned;
    old.owned_len = out->owned_len;
    old.owned_is_mapping = out->owned_is_mapping;
    or_tensor_free_contents(&old);
    out->data = out->owned = buf;
    out->owned_len = out->nbytes = numel;
    out->owned_is_mapping = false;
    return ONNXRUN_OK;
}

/* Whether raw_data's block can become the tensor's own buffer: it came from
 * or_pb_allocator's aligned blocks and its bytes are already what the engine
 * stores (little-endian host, whole-byte elements). */
static bool can_adopt(const Onnx__TensorProto *tp, int dtype, size_t nbytes) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return tp->raw_data.data && nbytes >= OR_PB_ADOPT_MIN && or_dtype_pb_bits(dtype) >= 8 &&
           (uintptr_t)tp->raw_data.data % 64 == 0;
#else
    (void)tp;
    (void)dtype;
    (void)nbytes;
    return false;
#endif
}

static void adopt_raw(Onnx__TensorProto *tp, size_t nbytes, or_tensor *out) {
    out->data = out->owned = tp->raw_data.data;
    out->owned_len = nbytes;
    out->owned_is_mapping = false;
    out->nbytes = nbytes;
    tp->raw_data.data = NULL; /* free_unpacked now leaves it alone */
    tp->raw_data.len = 0;
}

/* adopt: tp came from or_pb_allocator and its raw_data may be taken over. */
static int decode_inline(const Onnx__TensorProto *tp, Onnx__TensorProto *adopt, const char *what,
                         size_t nbytes, size_t numel, size_t esize, or_tensor *out, char *err,
                         size_t errlen) {
    typed_field f = {NULL, 0, 0, "raw_data"};
    if (tp->has_raw_data) {
        if (tp->raw_data.len != nbytes)
            return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL,
                             "%s: raw_data has %zu bytes, expected %zu (%zu elements of %s)", what,
                             tp->raw_data.len, nbytes, numel, or_dtype_name(out->dtype));
    } else {
        f = typed_field_for(tp, out->dtype);
        size_t per_elem = esize == 2 * f.width ? 2 : 1; /* complex values are pairs */
        size_t want = or_dtype_pb_bits(out->dtype) < 8 ? nbytes : numel * per_elem;
        if (f.count != want)
            return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL,
                             "%s: %s has %zu values, expected %zu (%zu elements of %s)", what,
                             f.name, f.count, want, numel, or_dtype_name(out->dtype));
    }
    if (adopt && tp->has_raw_data && can_adopt(tp, out->dtype, nbytes)) {
        adopt_raw(adopt, nbytes, out);
        return ONNXRUN_OK;
    }
    void *buf = or_pb_aligned_alloc(nbytes);
    if (!buf) return or_pb_err(err, errlen, ONNXRUN_ERR_NOMEM, "%s: out of memory", what);
    if (tp->has_raw_data) {
        if (nbytes) memcpy(buf, tp->raw_data.data, nbytes);
        or_pb_le_to_host(buf, nbytes, esize);
    } else if (numel) {
        copy_typed(&f, out->dtype, esize, buf);
    }
    out->data = out->owned = buf;
    out->owned_len = nbytes;
    out->owned_is_mapping = false;
    out->nbytes = nbytes;
    return ONNXRUN_OK;
}

static int decode_tensor(const Onnx__TensorProto *tp, Onnx__TensorProto *adopt, const char *what,
                         const char *model_dir, or_tensor *out, char *err, size_t errlen) {
    size_t esize = 0;
    int64_t numel = 0;
    int status = check_dtype(tp, what, &esize, err, errlen);
    if (status == ONNXRUN_OK) status = decode_shape(tp, what, out, &numel, err, errlen);
    if (status != ONNXRUN_OK) return status;
    if (tp->segment)
        return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL, "%s: segmented tensors are not supported",
                         what);
    if ((uint64_t)numel > SIZE_MAX / esize)
        return or_pb_err(err, errlen, ONNXRUN_ERR_MODEL, "%s: byte size overflows", what);
    out->dtype = tp->data_type;
    int bits = or_dtype_pb_bits(out->dtype);
    /* Packed sub-byte types: ceil(numel * bits / 8) bytes in the message. */
    size_t nbytes = bits < 8 ? ((size_t)numel + (size_t)(8 / bits) - 1) / (size_t)(8 / bits)
                             : (size_t)numel * esize;
    if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        status = or_pb_load_external(tp, what, model_dir, nbytes, out, err, errlen);
    else
        status = decode_inline(tp, adopt, what, nbytes, (size_t)numel, esize, out, err, errlen);
    if (status == ONNXRUN_OK && bits < 8)
        status = unpack_tensor(out, (size_t)numel, what, err, errlen);
    return status;
}

int or_pb_decode_tensor(const Onnx__TensorProto *tp, const char *what, const char *model_dir,
                        or_tensor *out, char *err, size_t errlen) {
    return decode_tensor(tp, NULL, what, model_dir, out, err, errlen);
}

int or_pb_decode_tensor_adopt(Onnx__TensorProto *tp, const char *what, const char *model_dir,
                              or_tensor *out, bool *adopted, char *err, size_t errlen) {
    const void *raw = tp->raw_data.data;
    int status = decode_tensor(tp, tp, what, model_dir, out, err, errlen);
    *adopted = status == ONNXRUN_OK && raw && out->owned == raw;
    return status;
}

int or_parse_tensor_pb(const void *buf, size_t len, or_tensor *out, char *errmsg, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->rank = -1;
    out->producer = -1;
    if (!buf && len) return or_pb_err(errmsg, errlen, ONNXRUN_ERR_INPUT, "no buffer given");
    if (!or_pb_depth_ok(&onnx__tensor_proto__descriptor, buf, len, OR_PB_MAX_DEPTH))
        return or_pb_err(errmsg, errlen, ONNXRUN_ERR_MODEL, "tensor: messages nest too deeply");
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
    if (!tp)
        return or_pb_err(errmsg, errlen, ONNXRUN_ERR_MODEL,
                         "not a valid serialized TensorProto (corrupt or truncated)");
    const char *name = tp->name ? tp->name : "";
    char what[300];
    snprintf(what, sizeof what, "tensor '%s'", name);
    int status = or_pb_decode_tensor(tp, what, NULL, out, errmsg, errlen);
    if (status == ONNXRUN_OK) {
        out->name = or_strdup(name);
        if (!out->name) status = or_pb_err(errmsg, errlen, ONNXRUN_ERR_NOMEM, "out of memory");
    }
    /* Every tensor in the test data is named; SequenceProto and OptionalProto
     * files mis-parse as nameless tensors. */
    if (status == ONNXRUN_ERR_MODEL && !name[0] && errmsg && errlen) {
        size_t used = strlen(errmsg);
        snprintf(errmsg + used, errlen - used,
                 " (not a tensor? sequence and optional values are not supported)");
    }
    onnx__tensor_proto__free_unpacked(tp, NULL);
    if (status != ONNXRUN_OK) {
        or_tensor_free_contents(out);
        out->rank = -1;
        out->producer = -1;
        return status;
    }
    out->kind = OR_T_INITIALIZER;
    out->is_static = true;
    return ONNXRUN_OK;
}

/* Reads a whole regular file into a malloc'ed buffer. */
static int read_file(const char *path, unsigned char **out, size_t *out_len, char *err,
                     size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) return or_pb_err(err, errlen, ONNXRUN_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return or_pb_err(err, errlen, ONNXRUN_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size >= SIZE_MAX) {
        fclose(f);
        return or_pb_err(err, errlen, ONNXRUN_ERR_IO, "%s: file too large", path);
    }
    size_t len = (size_t)st.st_size;
    unsigned char *buf = or_malloc(len ? len : 1);
    if (!buf) {
        fclose(f);
        return or_pb_err(err, errlen, ONNXRUN_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t got = fread(buf, 1, len, f);
    int failed = ferror(f) || got != len;
    fclose(f);
    if (failed) {
        or_free(buf);
        return or_pb_err(err, errlen, ONNXRUN_ERR_IO, "%s: read error", path);
    }
    *out = buf;
    *out_len = len;
    return ONNXRUN_OK;
}

int or_load_tensor_pb_file(const char *path, or_tensor *out, char *errmsg, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->rank = -1;
    out->producer = -1;
    unsigned char *buf = NULL;
    size_t len = 0;
    int status = read_file(path, &buf, &len, errmsg, errlen);
    if (status != ONNXRUN_OK) return status;
    char inner[OR_ERRMSG_MAX];
    status = or_parse_tensor_pb(buf, len, out, inner, sizeof inner);
    or_free(buf);
    if (status != ONNXRUN_OK) or_pb_err(errmsg, errlen, status, "%s: %s", path, inner);
    return status;
}
