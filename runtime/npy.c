/* .npy reader and writer; see npy.h for what is accepted. The header is a
 * Python dict literal, parsed here by a small recursive-descent reader that
 * accepts exactly the three keys numpy writes, in any order. */
#include "alloc.h"
#include "npy.h"

#include "graph.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_ALIGN 64

static onnxrun_status npy_fail(char *err, size_t errlen, onnxrun_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static onnxrun_status npy_fail(char *err, size_t errlen, onnxrun_status st, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return st;
}

static bool host_is_little_endian(void) {
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* ---- dtype table ---- */

static const struct {
    char kind;
    int size;
    onnxrun_dtype dtype;
    const char *descr;
} npy_types[] = {
    {'f', 2, ONNXRUN_FLOAT16, "<f2"}, {'f', 4, ONNXRUN_FLOAT, "<f4"},
    {'f', 8, ONNXRUN_DOUBLE, "<f8"},  {'i', 1, ONNXRUN_INT8, "|i1"},
    {'i', 2, ONNXRUN_INT16, "<i2"},   {'i', 4, ONNXRUN_INT32, "<i4"},
    {'i', 8, ONNXRUN_INT64, "<i8"},   {'u', 1, ONNXRUN_UINT8, "|u1"},
    {'u', 2, ONNXRUN_UINT16, "<u2"},  {'u', 4, ONNXRUN_UINT32, "<u4"},
    {'u', 8, ONNXRUN_UINT64, "<u8"},  {'b', 1, ONNXRUN_BOOL, "|b1"},
};
#define N_NPY_TYPES (sizeof npy_types / sizeof npy_types[0])

const char *or_npy_descr(onnxrun_dtype dtype) {
    /* bfloat16 and the float8 types have no numpy dtype: their raw bits are
     * stored as unsigned integers of the same width. */
    if (dtype == ONNXRUN_BFLOAT16) return "<u2";
    if ((int)dtype >= OR_FLOAT8E4M3FN && (int)dtype <= OR_FLOAT8E5M2FNUZ) return "|u1";
    /* The sub-byte types are stored one element per byte (graph.h). */
    if ((int)dtype == OR_INT4 || (int)dtype == OR_INT2) return "|i1";
    if ((int)dtype >= OR_UINT4 && (int)dtype <= OR_INT2) return "|u1";
    for (size_t i = 0; i < N_NPY_TYPES; i++)
        if (npy_types[i].dtype == dtype) return npy_types[i].descr;
    return NULL;
}

/* Maps a descr such as "<f4" to a dtype; *swap says the bytes need reversing. */
static onnxrun_status descr_to_dtype(const char *descr, onnxrun_dtype *dtype, size_t *itemsize,
                                     bool *swap, char *err, size_t errlen) {
    char order = descr[0];
    if (order != '<' && order != '>' && order != '|' && order != '=')
        return npy_fail(err, errlen, ONNXRUN_ERR_INPUT, "unsupported dtype '%s'", descr);
    char kind = descr[1];
    char *end = NULL;
    long size = (kind && descr[2] >= '0' && descr[2] <= '9') ? strtol(descr + 2, &end, 10) : 0;
    if (!end || *end != '\0')
        return npy_fail(err, errlen, ONNXRUN_ERR_INPUT, "unsupported dtype '%s'", descr);
    for (size_t i = 0; i < N_NPY_TYPES; i++) {
        if (npy_types[i].kind != kind || npy_types[i].size != size) continue;
        if (size > 1 && order == '|')
            return npy_fail(err, errlen, ONNXRUN_ERR_INPUT,
                            "dtype '%s': byte order '|' is only valid for 1-byte types", descr);
        bool file_little = order == '<' || (order == '=' && host_is_little_endian());
        *dtype = npy_types[i].dtype;
        *itemsize = (size_t)size;
        *swap = size > 1 && file_little != host_is_little_endian();
        return ONNXRUN_OK;
    }
    return npy_fail(err, errlen, ONNXRUN_ERR_INPUT, "unsupported dtype '%s'", descr);
}

/* ---- header dict parser ---- */

typedef struct cursor {
    const char *p, *end;
    char *err;
    size_t errlen;
} cursor;

static void skip_ws(cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static bool accept(cursor *c, char ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

static onnxrun_status expect(cursor *c, char ch, const char *what) {
    if (accept(c, ch)) return ONNXRUN_OK;
    return npy_fail(c->err, c->errlen, ONNXRUN_ERR_INPUT, "malformed header: expected %s", what);
}

/* A quoted Python string without escapes (numpy never writes any). */
static onnxrun_status parse_string(cursor *c, char *out, size_t cap) {
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return npy_fail(c->err, c->errlen, ONNXRUN_ERR_INPUT,
                        "malformed header: expected a string");
    char quote = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != quote) {
        if (*c->p == '\\' || *c->p == '\n' || n + 1 >= cap)
            return npy_fail(c->err, c->errlen, ONNXRUN_ERR_INPUT,
                            "malformed header: bad or overlong string");
        out[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return npy_fail(c->err, c->errlen, ONNXRUN_ERR_INPUT,
                        "malformed header: unterminated string");
    c->p++;
    out[n] = '\0';
    return ONNXRUN_OK;
}

static bool accept_word(cursor *c, const char *word) {
    skip_ws(c);
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return false;
    const char *after = c->p + n;
    if (after < c->end && ((*after >= 'A' && *after <= 'Z') || (*after >= 'a' && *after <= 'z') ||
                           (*after >= '0' && *after <= '9') || *after == '_'))
        return false;
    c->p = after;
    return true;
}

static onnxrun_status parse_bool(cursor *c, bool *out) {
    if (accept_word(c, "True"))
        *out = true;
    else if (accept_word(c, "False"))
        *out = false;
    else
        return npy_fail(c->err, c->errlen, ONNXRUN_ERR_INPUT,
                        "malformed header: fortran_order must be True or False");
    return ONNXRUN_OK;
}

static onnxrun_status parse_dim(cursor *c, int64_t *out) {
    skip_ws(c);
    if (c->p < c->end && *c->p == '-')
        return npy_fail(c->err, c->errlen, ONNXRUN_ERR_INPUT, "negative dimension in shape");
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        return npy_fail(c->err, c->errlen, ONNXRUN_ERR_INPUT,
                        "malformed header: shape must be a tuple of integers");
    int64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        int d = *c->p++ - '0';
        if (v > (INT64_MAX - d) / 10)
            return npy_fail(c->err, c->errlen, ONNXRUN_ERR_INPUT, "dimension too large in shape");
        v = v * 10 + d;
    }
    if (c->p < c->end && (*c->p == 'L' || *c->p == 'l')) c->p++; /* Python 2 long */
    *out = v;
    return ONNXRUN_OK;
}

static onnxrun_status parse_shape(cursor *c, int *rank, int64_t *dims) {
    onnxrun_status st = expect(c, '(', "'(' opening the shape");
    if (st) return st;
    int r = 0;
    while (!accept(c, ')')) {
        int64_t d = 0;
        if ((st = parse_dim(c, &d))) return st;
        if (r >= ONNXRUN_MAX_RANK)
            return npy_fail(c->err, c->errlen, ONNXRUN_ERR_INPUT,
                            "shape has more than %d dimensions", ONNXRUN_MAX_RANK);
        dims[r++] = d;
        if (accept(c, ',')) continue;
        if ((st = expect(c, ')', "',' or ')' in the shape"))) return st;
        break;
    }
    *rank = r;
    return ONNXRUN_OK;
}

typedef struct npy_header {
    char descr[32];
    bool fortran;
    int rank;
    int64_t dims[ONNXRUN_MAX_RANK];
} npy_header;

static onnxrun_status parse_entry(cursor *c, npy_header *h, unsigned *seen) {
    char key[32];
    onnxrun_status st = parse_string(c, key, sizeof key);
    if (st) return st;
    if ((st = expect(c, ':', "':' after a key"))) return st;
    unsigned bit;
    if (strcmp(key, "descr") == 0) {
        bit = 1;
        skip_ws(c);
        if (c->p < c->end && *c->p == '[')
            return npy_fail(c->err, c->errlen, ONNXRUN_ERR_INPUT,
                            "structured dtypes are not supported");
        st = parse_string(c, h->descr, sizeof h->descr);
    } else if (strcmp(key, "fortran_order") == 0) {
        bit = 2;
        st = parse_bool(c, &h->fortran);
    } else if (strcmp(key, "shape") == 0) {
        bit = 4;
        st = parse_shape(c, &h->rank, h->dims);
    } else {
        return npy_fail(c->err, c->errlen, ONNXRUN_ERR_INPUT, "unexpected header key '%s'", key);
    }
    if (st) return st;
    if (*seen & bit)
        return npy_fail(c->err, c->errlen, ONNXRUN_ERR_INPUT, "duplicate header key '%s'", key);
    *seen |= bit;
    return ONNXRUN_OK;
}

static onnxrun_status parse_dict(cursor *c, npy_header *h) {
    onnxrun_status st = expect(c, '{', "'{' opening the header dict");
    if (st) return st;
    unsigned seen = 0;
    while (!accept(c, '}')) {
        if ((st = parse_entry(c, h, &seen))) return st;
        if (accept(c, ',')) continue;
        if ((st = expect(c, '}', "',' or '}' in the header dict"))) return st;
        break;
    }
    skip_ws(c);
    if (c->p != c->end)
        return npy_fail(c->err, c->errlen, ONNXRUN_ERR_INPUT,
                        "malformed header: trailing characters after the dict");
    static const char *const names[] = {"descr", "fortran_order", "shape"};
    for (int i = 0; i < 3; i++)
        if (!(seen & (1u << i)))
            return npy_fail(c->err, c->errlen, ONNXRUN_ERR_INPUT, "header is missing key '%s'",
                            names[i]);
    return ONNXRUN_OK;
}

/* ---- reading ---- */

static uint32_t read_le(const unsigned char *p, int n) {
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static void byteswap(unsigned char *data, size_t count, size_t itemsize) {
    for (size_t i = 0; i < count; i++) {
        unsigned char *e = data + i * itemsize;
        for (size_t a = 0, b = itemsize - 1; a < b; a++, b--) {
            unsigned char t = e[a];
            e[a] = e[b];
            e[b] = t;
        }
    }
}

/* Copies a Fortran-order array into C order: walks destination indices in
 * row-major order while tracking the source offset (column-major strides). */
static void fortran_to_c(unsigned char *dst, const unsigned char *src, int rank,
                         const int64_t *dims, size_t numel, size_t itemsize) {
    size_t fstride[ONNXRUN_MAX_RANK];
    size_t idx[ONNXRUN_MAX_RANK] = {0};
    size_t s = 1;
    for (int k = 0; k < rank; k++) {
        fstride[k] = s;
        s *= (size_t)dims[k];
    }
    size_t off = 0;
    for (size_t n = 0; n < numel; n++) {
        memcpy(dst + n * itemsize, src + off * itemsize, itemsize);
        for (int k = rank - 1; k >= 0; k--) {
            off += fstride[k];
            if (++idx[k] < (size_t)dims[k]) break;
            off -= fstride[k] * idx[k];
            idx[k] = 0;
        }
    }
}

/* numel * itemsize with overflow checks; fails with a message. */
static onnxrun_status shape_bytes(const npy_header *h, size_t itemsize, size_t *numel,
                                  size_t *nbytes, char *err, size_t errlen) {
    size_t n = 1;
    for (int k = 0; k < h->rank; k++) {
        uint64_t d = (uint64_t)h->dims[k];
        if (d != 0 && n > SIZE_MAX / d)
            return npy_fail(err, errlen, ONNXRUN_ERR_INPUT, "shape is too large (overflow)");
        n *= (size_t)d;
    }
    if (n > (SIZE_MAX / 2) / itemsize || n > (size_t)INT64_MAX)
        return npy_fail(err, errlen, ONNXRUN_ERR_INPUT, "shape is too large (overflow)");
    *numel = n;
    *nbytes = n * itemsize;
    return ONNXRUN_OK;
}

static onnxrun_status read_preamble(const unsigned char *b, size_t len, size_t *hstart,
                                    size_t *hlen, char *err, size_t errlen) {
    if (len < NPY_MAGIC_LEN || memcmp(b, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return npy_fail(err, errlen, ONNXRUN_ERR_INPUT, "not a .npy file (bad magic)");
    if (len < 8) return npy_fail(err, errlen, ONNXRUN_ERR_INPUT, "truncated .npy preamble");
    int major = b[6], minor = b[7];
    if (major < 1 || major > 3 || minor != 0)
        return npy_fail(err, errlen, ONNXRUN_ERR_INPUT, "unsupported .npy version %d.%d", major,
                        minor);
    int lenbytes = major == 1 ? 2 : 4;
    if (len < 8 + (size_t)lenbytes)
        return npy_fail(err, errlen, ONNXRUN_ERR_INPUT, "truncated .npy preamble");
    *hstart = 8 + (size_t)lenbytes;
    *hlen = read_le(b + 8, lenbytes);
    if (*hlen > len - *hstart)
        return npy_fail(err, errlen, ONNXRUN_ERR_INPUT,
                        "header length %zu exceeds the file (%zu bytes)", *hlen, len);
    return ONNXRUN_OK;
}

onnxrun_status or_npy_parse(const void *buf, size_t len, or_npy *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (!buf && len) return npy_fail(err, errlen, ONNXRUN_ERR_ARGUMENT, "NULL buffer");
    const unsigned char *b = buf;
    size_t hstart = 0, hlen = 0;
    onnxrun_status st = read_preamble(b, len, &hstart, &hlen, err, errlen);
    if (st) return st;
    npy_header h;
    memset(&h, 0, sizeof h);
    cursor c = {(const char *)b + hstart, (const char *)b + hstart + hlen, err, errlen};
    if ((st = parse_dict(&c, &h))) return st;
    size_t itemsize = 1, numel = 0, nbytes = 0;
    bool swap = false;
    if ((st = descr_to_dtype(h.descr, &out->dtype, &itemsize, &swap, err, errlen))) return st;
    if ((st = shape_bytes(&h, itemsize, &numel, &nbytes, err, errlen))) return st;
    size_t have = len - hstart - hlen;
    if (have != nbytes)
        return npy_fail(err, errlen, ONNXRUN_ERR_INPUT,
                        "data is %zu bytes but the header's shape and dtype '%s' need %zu", have,
                        h.descr, nbytes);
    unsigned char *data = or_malloc(nbytes ? nbytes : 1);
    if (!data) return npy_fail(err, errlen, ONNXRUN_ERR_NOMEM, "out of memory (%zu bytes)", nbytes);
    const unsigned char *src = b + hstart + hlen;
    if (h.fortran && h.rank > 1)
        fortran_to_c(data, src, h.rank, h.dims, numel, itemsize);
    else if (nbytes)
        memcpy(data, src, nbytes);
    if (swap) byteswap(data, numel, itemsize);
    out->rank = h.rank;
    memcpy(out->dims, h.dims, sizeof h.dims);
    out->data = data;
    out->nbytes = nbytes;
    return ONNXRUN_OK;
}

onnxrun_status or_npy_load_file(const char *path, or_npy *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return npy_fail(err, errlen, ONNXRUN_ERR_IO, "cannot open: %s", strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return npy_fail(err, errlen, ONNXRUN_ERR_IO, "not a regular file");
    }
    size_t len = (size_t)sb.st_size;
    unsigned char *buf = or_malloc(len ? len : 1);
    if (!buf) {
        fclose(f);
        return npy_fail(err, errlen, ONNXRUN_ERR_NOMEM, "out of memory (%zu bytes)", len);
    }
    size_t got = fread(buf, 1, len, f);
    int read_err = ferror(f);
    fclose(f);
    if (got != len || read_err) {
        or_free(buf);
        return npy_fail(err, errlen, ONNXRUN_ERR_IO, "read failed");
    }
    onnxrun_status st = or_npy_parse(buf, len, out, err, errlen);
    or_free(buf);
    return st;
}

void or_npy_free(or_npy *npy) {
    if (!npy) return;
    or_free(npy->data);
    memset(npy, 0, sizeof *npy);
}

/* ---- writing ---- */

onnxrun_status or_npy_header(onnxrun_dtype dtype, int rank, const int64_t *dims,
                             unsigned char **out, size_t *out_len, char *err, size_t errlen) {
    *out = NULL;
    *out_len = 0;
    const char *descr = or_npy_descr(dtype);
    if (!descr)
        return npy_fail(err, errlen, ONNXRUN_ERR_ARGUMENT, "dtype %s has no .npy equivalent",
                        onnxrun_dtype_name(dtype));
    if (rank < 0 || rank > ONNXRUN_MAX_RANK || (rank > 0 && !dims))
        return npy_fail(err, errlen, ONNXRUN_ERR_ARGUMENT, "bad rank %d", rank);
    char order = descr[0];
    if (order == '<' && !host_is_little_endian()) order = '>';
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%c%s', 'fortran_order': False, 'shape': (",
                     order, descr + 1);
    for (int k = 0; k < rank; k++) {
        if (dims[k] < 0)
            return npy_fail(err, errlen, ONNXRUN_ERR_ARGUMENT, "negative dimension %lld",
                            (long long)dims[k]);
        n += snprintf(dict + n, sizeof dict - (size_t)n, k ? ", %lld" : "%lld", (long long)dims[k]);
    }
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", rank == 1 ? "," : "");
    /* magic(6) + version(2) + length(2) + dict + padding + '\n' */
    size_t total = 10 + (size_t)n + 1;
    total = (total + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    unsigned char *h = or_malloc(total);
    if (!h) return npy_fail(err, errlen, ONNXRUN_ERR_NOMEM, "out of memory");
    size_t hlen = total - 10;
    memcpy(h, NPY_MAGIC, NPY_MAGIC_LEN);
    h[6] = 1;
    h[7] = 0;
    h[8] = (unsigned char)(hlen & 0xff);
    h[9] = (unsigned char)(hlen >> 8);
    memcpy(h + 10, dict, (size_t)n);
    memset(h + 10 + n, ' ', hlen - (size_t)n - 1);
    h[total - 1] = '\n';
    *out = h;
    *out_len = total;
    return ONNXRUN_OK;
}

onnxrun_status or_npy_write_file(const char *path, onnxrun_dtype dtype, int rank,
                                 const int64_t *dims, const void *data, size_t nbytes, char *err,
                                 size_t errlen) {
    unsigned char *h;
    size_t hlen;
    onnxrun_status st = or_npy_header(dtype, rank, dims, &h, &hlen, err, errlen);
    if (st) return st;
    size_t itemsize = or_dtype_size((int)dtype);
    npy_header shape = {.rank = rank};
    memcpy(shape.dims, dims, (size_t)rank * sizeof *dims);
    size_t numel = 0, need = 0;
    if ((st = shape_bytes(&shape, itemsize, &numel, &need, err, errlen)) == ONNXRUN_OK &&
        need != nbytes)
        st = npy_fail(err, errlen, ONNXRUN_ERR_ARGUMENT, "data is %zu bytes, shape needs %zu",
                      nbytes, need);
    if (st == ONNXRUN_OK && nbytes && !data)
        st = npy_fail(err, errlen, ONNXRUN_ERR_ARGUMENT, "NULL data");
    if (st) {
        or_free(h);
        return st;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        or_free(h);
        return npy_fail(err, errlen, ONNXRUN_ERR_IO, "cannot create: %s", strerror(errno));
    }
    bool ok =
        fwrite(h, 1, hlen, f) == hlen && (nbytes == 0 || fwrite(data, 1, nbytes, f) == nbytes);
    int saved = errno;
    or_free(h);
    if (fclose(f) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok) return npy_fail(err, errlen, ONNXRUN_ERR_IO, "write failed: %s", strerror(saved));
    return ONNXRUN_OK;
}
