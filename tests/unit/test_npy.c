/* .npy reader/writer. Fixture files under tests/data/npy/ were written by
 * numpy 1.24 (numpy.lib.format.write_array); the other cases build their
 * bytes here. Expected values are the arrays the fixtures were made from. */
#include "npy.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIXTURE(name) ONNXRUN_SOURCE_DIR "/tests/data/npy/" name

/* Builds a .npy image: magic, version major.0, header length (2 bytes for
 * v1, 4 otherwise), the dict as given (no padding), then the data. */
static unsigned char *make_npy(int major, const char *dict, const void *data, size_t dlen,
                               size_t *len) {
    size_t lb = major == 1 ? 2 : 4, hl = strlen(dict);
    *len = 8 + lb + hl + dlen;
    unsigned char *b = malloc(*len);
    cr_assert_not_null(b);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    for (size_t i = 0; i < lb; i++) b[8 + i] = (unsigned char)(hl >> (8 * i));
    memcpy(b + 8 + lb, dict, hl);
    if (dlen) memcpy(b + 8 + lb + hl, data, dlen);
    return b;
}

static onnxrun_status parse_dict(int major, const char *dict, const void *data, size_t dlen,
                                 or_npy *out, char *err) {
    size_t len;
    unsigned char *b = make_npy(major, dict, data, dlen, &len);
    onnxrun_status st = or_npy_parse(b, len, out, err, 256);
    free(b);
    return st;
}

static void expect_error(const char *dict, const void *data, size_t dlen, const char *needle) {
    or_npy a;
    char err[256] = "";
    onnxrun_status st = parse_dict(1, dict, data, dlen, &a, err);
    cr_assert_eq(st, ONNXRUN_ERR_INPUT, "dict %s: status %d", dict, st);
    cr_assert_null(a.data);
    cr_assert_not_null(strstr(err, needle), "dict %s: message '%s' lacks '%s'", dict, err, needle);
}

/* ---- numpy-written fixtures: the three versions, byte orders, layouts ---- */

Test(npy, v1_float32) {
    or_npy a;
    char err[256];
    cr_assert_eq(or_npy_load_file(FIXTURE("v1_f4_2x3.npy"), &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(a.dtype, ONNXRUN_FLOAT);
    cr_assert_eq(a.rank, 2);
    cr_assert_eq(a.dims[0], 2);
    cr_assert_eq(a.dims[1], 3);
    cr_assert_eq(a.nbytes, 24);
    const float want[] = {0, 0.5f, 1, 1.5f, 2, 2.5f};
    cr_assert_arr_eq(a.data, want, sizeof want);
    or_npy_free(&a);
}

Test(npy, v2_int64) {
    or_npy a;
    char err[256];
    cr_assert_eq(or_npy_load_file(FIXTURE("v2_i8_3.npy"), &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(a.dtype, ONNXRUN_INT64);
    cr_assert_eq(a.rank, 1);
    cr_assert_eq(a.dims[0], 3);
    const int64_t want[] = {-1, 0, INT64_C(1) << 40};
    cr_assert_arr_eq(a.data, want, sizeof want);
    or_npy_free(&a);
}

Test(npy, v3_uint16) {
    or_npy a;
    char err[256];
    cr_assert_eq(or_npy_load_file(FIXTURE("v3_u2_2x2.npy"), &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(a.dtype, ONNXRUN_UINT16);
    cr_assert_eq(a.rank, 2);
    const uint16_t want[] = {1, 2, 65535, 7};
    cr_assert_arr_eq(a.data, want, sizeof want);
    or_npy_free(&a);
}

Test(npy, fortran_order_2d_is_transposed_to_c) {
    or_npy a;
    char err[256];
    cr_assert_eq(or_npy_load_file(FIXTURE("fortran_i4_2x3.npy"), &a, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(a.dtype, ONNXRUN_INT32);
    cr_assert_eq(a.dims[0], 2);
    cr_assert_eq(a.dims[1], 3);
    const int32_t want[] = {0, 1, 2, 3, 4, 5}; /* np.arange(6).reshape(2,3) */
    cr_assert_arr_eq(a.data, want, sizeof want);
    or_npy_free(&a);
}

Test(npy, fortran_order_3d) {
    or_npy a;
    char err[256];
    cr_assert_eq(or_npy_load_file(FIXTURE("fortran_i2_2x3x4.npy"), &a, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(a.dtype, ONNXRUN_INT16);
    cr_assert_eq(a.rank, 3);
    const int16_t *v = a.data;
    for (int i = 0; i < 24; i++) cr_assert_eq(v[i], i, "element %d is %d", i, v[i]);
    or_npy_free(&a);
}

Test(npy, fortran_order_built_by_hand) {
    /* Column-major [[1,2,3],[4,5,6]] is stored 1,4,2,5,3,6. */
    const uint8_t data[] = {1, 4, 2, 5, 3, 6};
    or_npy a;
    char err[256];
    cr_assert_eq(parse_dict(1, "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }", data,
                            6, &a, err),
                 0, "%s", err);
    const uint8_t want[] = {1, 2, 3, 4, 5, 6};
    cr_assert_arr_eq(a.data, want, 6);
    or_npy_free(&a);
}

Test(npy, big_endian_is_swapped) {
    or_npy a;
    char err[256];
    cr_assert_eq(or_npy_load_file(FIXTURE("be_f8_2.npy"), &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(a.dtype, ONNXRUN_DOUBLE);
    const double want[] = {1.5, -2.25};
    cr_assert_arr_eq(a.data, want, sizeof want);
    or_npy_free(&a);
}

Test(npy, big_endian_int32_by_hand) {
    const uint8_t data[] = {0x01, 0x02, 0x03, 0x04};
    or_npy a;
    char err[256];
    cr_assert_eq(
        parse_dict(1, "{'descr': '>i4', 'fortran_order': False, 'shape': (1,)}", data, 4, &a, err),
        0, "%s", err);
    cr_assert_eq(*(const int32_t *)a.data, 0x01020304);
    or_npy_free(&a);
}

Test(npy, scalar_float16) {
    or_npy a;
    char err[256];
    cr_assert_eq(or_npy_load_file(FIXTURE("scalar_f2.npy"), &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(a.dtype, ONNXRUN_FLOAT16);
    cr_assert_eq(a.rank, 0);
    cr_assert_eq(a.nbytes, 2);
    cr_assert_eq(*(const uint16_t *)a.data, 0x3E00); /* 1.5 in binary16 */
    or_npy_free(&a);
}

Test(npy, bool_array) {
    or_npy a;
    char err[256];
    cr_assert_eq(or_npy_load_file(FIXTURE("bool_3.npy"), &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(a.dtype, ONNXRUN_BOOL);
    const uint8_t want[] = {1, 0, 1};
    cr_assert_arr_eq(a.data, want, 3);
    or_npy_free(&a);
}

Test(npy, empty_array) {
    or_npy a;
    char err[256];
    cr_assert_eq(or_npy_load_file(FIXTURE("empty_f4_0x3.npy"), &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(a.rank, 2);
    cr_assert_eq(a.dims[0], 0);
    cr_assert_eq(a.dims[1], 3);
    cr_assert_eq(a.nbytes, 0);
    or_npy_free(&a);
}

Test(npy, missing_file_is_io_error) {
    or_npy a;
    char err[256] = "";
    cr_assert_eq(or_npy_load_file("/nonexistent/x.npy", &a, err, sizeof err), ONNXRUN_ERR_IO);
    cr_assert_not_null(strstr(err, "cannot open"), "%s", err);
}

/* ---- every dtype ---- */

Test(npy, every_dtype) {
    static const struct {
        const char *descr;
        onnxrun_dtype dtype;
        size_t size;
    } cases[] = {
        {"<f4", ONNXRUN_FLOAT, 4},  {"<f8", ONNXRUN_DOUBLE, 8}, {"<f2", ONNXRUN_FLOAT16, 2},
        {"<i1", ONNXRUN_INT8, 1},   {"|i1", ONNXRUN_INT8, 1},   {"<i2", ONNXRUN_INT16, 2},
        {"<i4", ONNXRUN_INT32, 4},  {"<i8", ONNXRUN_INT64, 8},  {"|u1", ONNXRUN_UINT8, 1},
        {"<u1", ONNXRUN_UINT8, 1},  {"<u2", ONNXRUN_UINT16, 2}, {"<u4", ONNXRUN_UINT32, 4},
        {"<u8", ONNXRUN_UINT64, 8}, {"|b1", ONNXRUN_BOOL, 1},   {"<b1", ONNXRUN_BOOL, 1},
        {">u1", ONNXRUN_UINT8, 1},  {"=i4", ONNXRUN_INT32, 4},
    };
    /* Two elements with distinct bytes so a wrong swap or size shows. */
    const uint8_t data[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dict[128];
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (2,), }",
                 cases[i].descr);
        or_npy a;
        char err[256];
        cr_assert_eq(parse_dict(1, dict, data, 2 * cases[i].size, &a, err), 0, "%s: %s",
                     cases[i].descr, err);
        cr_assert_eq(a.dtype, cases[i].dtype, "%s", cases[i].descr);
        cr_assert_eq(a.nbytes, 2 * cases[i].size, "%s", cases[i].descr);
        cr_assert_arr_eq(a.data, data, a.nbytes, "%s", cases[i].descr);
        or_npy_free(&a);
    }
}

Test(npy, unsupported_dtypes) {
    const char *bad[] = {"<c8", "<U3", "|S4", "|f4", "|i4", "<f16", "<f", "f4", "", "<V2", "O"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char dict[128];
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (1,), }",
                 bad[i]);
        expect_error(dict, "12345678", 4, "dtype");
    }
}

Test(npy, structured_dtype) {
    expect_error("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", "1234", 4,
                 "structured");
}

/* ---- header syntax ---- */

Test(npy, key_order_spacing_quotes) {
    const char *dicts[] = {
        "{'shape': (2,), 'descr': '<i2', 'fortran_order': False}",
        "{ 'fortran_order' :False,'shape':(2 ,) , \"descr\" : \"<i2\" , }\n",
        "{'descr':'<i2','fortran_order':False,'shape':(2,)}      \n",
        "{'descr': '<i2', 'fortran_order': False, 'shape': (2), }",
        "{'descr': '<i2', 'fortran_order': False, 'shape': (2L,), }",
    };
    const int16_t data[] = {-3, 300};
    for (size_t i = 0; i < sizeof dicts / sizeof dicts[0]; i++) {
        or_npy a;
        char err[256];
        cr_assert_eq(parse_dict(1, dicts[i], data, 4, &a, err), 0, "%s: %s", dicts[i], err);
        cr_assert_eq(a.dtype, ONNXRUN_INT16);
        cr_assert_eq(a.rank, 1);
        cr_assert_eq(a.dims[0], 2);
        cr_assert_arr_eq(a.data, data, 4);
        or_npy_free(&a);
    }
}

Test(npy, scalar_shape_by_hand) {
    const double v = -0.125;
    or_npy a;
    char err[256];
    cr_assert_eq(
        parse_dict(2, "{'descr': '<f8', 'fortran_order': False, 'shape': ()}", &v, 8, &a, err), 0,
        "%s", err);
    cr_assert_eq(a.rank, 0);
    cr_assert_eq(*(const double *)a.data, -0.125);
    or_npy_free(&a);
}

Test(npy, rank_8_ok_rank_9_refused) {
    const uint8_t one = 7;
    or_npy a;
    char err[256];
    cr_assert_eq(parse_dict(1,
                            "{'descr': '|u1', 'fortran_order': True, 'shape': "
                            "(1, 1, 1, 1, 1, 1, 1, 1), }",
                            &one, 1, &a, err),
                 0, "%s", err);
    cr_assert_eq(a.rank, 8);
    cr_assert_eq(*(const uint8_t *)a.data, 7);
    or_npy_free(&a);
    expect_error("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }",
                 &one, 1, "more than 8 dimensions");
}

Test(npy, negative_dim) {
    expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2), }", "", 0, "negative");
}

Test(npy, overflowing_shapes) {
    expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
                 "", 0, "overflow");
    expect_error("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }", "",
                 0, "overflow");
    expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
                 "", 0, "too large");
}

Test(npy, lying_headers) {
    const float data[4] = {1, 2, 3, 4};
    /* shape larger than the data */
    expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", data, 16,
                 "data is 16 bytes");
    /* data larger than the shape */
    expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", data, 16, "need 12");
    /* scalar with no data */
    expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", data, 0, "need 4");
}

Test(npy, garbage_headers) {
    const char *junk[] = {
        "hello",
        "{'descr': <f4, 'fortran_order': False, 'shape': (1,), }",
        "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }",
        "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (1,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (a,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': [1], }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,, 2), }",
        "{'descr': '<f4' 'fortran_order': False, 'shape': (1,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,) } extra",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,",
        "{'descr: '<f4', 'fortran_order': False, 'shape': (1,)}",
        "",
        "\x01\x02\xff\xfe",
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        or_npy a;
        char err[256] = "";
        cr_assert_eq(parse_dict(1, junk[i], "abcd", 4, &a, err), ONNXRUN_ERR_INPUT, "case %zu", i);
        cr_assert_neq(err[0], '\0');
    }
}

Test(npy, missing_unknown_duplicate_keys) {
    expect_error("{'descr': '<f4', 'fortran_order': False}", "abcd", 4, "missing key 'shape'");
    expect_error("{'shape': (1,), 'fortran_order': False}", "abcd", 4, "missing key 'descr'");
    expect_error("{'descr': '<f4', 'shape': (1,)}", "abcd", 4, "missing key 'fortran_order'");
    expect_error("{}", "abcd", 4, "missing key");
    expect_error("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "abcd", 4,
                 "unexpected header key 'extra'");
    expect_error("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "abcd",
                 4, "duplicate");
}

/* ---- preamble ---- */

Test(npy, bad_magic_and_version) {
    or_npy a;
    char err[256];
    cr_assert_eq(or_npy_parse("\x93NUMPZ\x01\x00\x00\x00", 10, &a, err, sizeof err),
                 ONNXRUN_ERR_INPUT);
    cr_assert_not_null(strstr(err, "magic"), "%s", err);
    size_t len;
    unsigned char *b =
        make_npy(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1,)}", "x", 1, &len);
    b[6] = 4;
    cr_assert_eq(or_npy_parse(b, len, &a, err, sizeof err), ONNXRUN_ERR_INPUT);
    cr_assert_not_null(strstr(err, "version 4.0"), "%s", err);
    b[6] = 1;
    b[7] = 1;
    cr_assert_eq(or_npy_parse(b, len, &a, err, sizeof err), ONNXRUN_ERR_INPUT);
    free(b);
}

Test(npy, truncated_files) {
    size_t len;
    const float data[2] = {1, 2};
    unsigned char *b =
        make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data, 8, &len);
    /* Every proper prefix must be refused without reading past it. */
    for (size_t cut = 0; cut < len; cut++) {
        unsigned char *p = malloc(cut ? cut : 1);
        memcpy(p, b, cut);
        or_npy a;
        char err[256] = "";
        cr_assert_eq(or_npy_parse(p, cut, &a, err, sizeof err), ONNXRUN_ERR_INPUT, "cut %zu", cut);
        cr_assert_null(a.data);
        free(p);
    }
    free(b);
}

Test(npy, absurd_header_length) {
    size_t len;
    unsigned char *b =
        make_npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", "abcd", 4, &len);
    b[8] = b[9] = b[10] = b[11] = 0xff;
    or_npy a;
    char err[256];
    cr_assert_eq(or_npy_parse(b, len, &a, err, sizeof err), ONNXRUN_ERR_INPUT);
    cr_assert_not_null(strstr(err, "header length 4294967295 exceeds"), "%s", err);
    free(b);
}

/* ---- writing ---- */

static char *temp_path(void) {
    static char path[64];
    strcpy(path, "/tmp/test_npy_XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    return path;
}

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    unsigned char *b = malloc(1 << 16);
    *len = fread(b, 1, 1 << 16, f);
    fclose(f);
    return b;
}

Test(npy, writer_matches_numpy_bytes) {
    const float data[] = {0, 0.5f, 1, 1.5f, 2, 2.5f};
    const int64_t dims[] = {2, 3};
    char *path = temp_path();
    char err[256];
    cr_assert_eq(or_npy_write_file(path, ONNXRUN_FLOAT, 2, dims, data, sizeof data, err, 256), 0,
                 "%s", err);
    size_t la, lb;
    unsigned char *a = slurp(path, &la), *b = slurp(FIXTURE("v1_f4_2x3.npy"), &lb);
    cr_assert_eq(la, lb);
    cr_assert_arr_eq(a, b, la);
    free(a);
    free(b);
    unlink(path);
}

Test(npy, header_is_padded_and_aligned) {
    const int64_t dims[] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (int rank = 0; rank <= 8; rank++) {
        unsigned char *h;
        size_t len;
        char err[256];
        cr_assert_eq(or_npy_header(ONNXRUN_UINT64, rank, dims, &h, &len, err, 256), 0);
        cr_assert_eq(len % 64, 0);
        cr_assert_eq(h[len - 1], '\n');
        cr_assert_eq((size_t)(h[8] | h[9] << 8), len - 10);
        free(h);
    }
    unsigned char *h;
    size_t len;
    char err[256];
    cr_assert_eq(or_npy_header(ONNXRUN_INT8, 1, dims + 6, &h, &len, err, 256), 0);
    cr_assert_not_null(strstr((char *)h + 10, "{'descr': '|i1', 'fortran_order': False, "
                                              "'shape': (7,), }"));
    free(h);
    cr_assert_eq(or_npy_header(ONNXRUN_BOOL, 0, NULL, &h, &len, err, 256), 0);
    cr_assert_not_null(strstr((char *)h + 10, "'descr': '|b1'"));
    cr_assert_not_null(strstr((char *)h + 10, "'shape': (), }"));
    free(h);
}

Test(npy, round_trip_every_dtype) {
    const onnxrun_dtype dtypes[] = {ONNXRUN_FLOAT,  ONNXRUN_DOUBLE, ONNXRUN_FLOAT16, ONNXRUN_INT8,
                                    ONNXRUN_INT16,  ONNXRUN_INT32,  ONNXRUN_INT64,   ONNXRUN_UINT8,
                                    ONNXRUN_UINT16, ONNXRUN_UINT32, ONNXRUN_UINT64,  ONNXRUN_BOOL};
    const size_t sizes[] = {4, 8, 2, 1, 2, 4, 8, 1, 2, 4, 8, 1};
    unsigned char data[3 * 2 * 8];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 37 + 1) & 0x7f;
    const int64_t dims[] = {3, 2};
    char *path = temp_path();
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++) {
        size_t nbytes = 6 * sizes[i];
        if (dtypes[i] == ONNXRUN_BOOL) memset(data, 1, nbytes);
        char err[256];
        cr_assert_eq(or_npy_write_file(path, dtypes[i], 2, dims, data, nbytes, err, 256), 0, "%s",
                     err);
        or_npy a;
        cr_assert_eq(or_npy_load_file(path, &a, err, sizeof err), 0, "%s", err);
        cr_assert_eq(a.dtype, dtypes[i]);
        cr_assert_eq(a.rank, 2);
        cr_assert_eq(a.dims[0], 3);
        cr_assert_eq(a.dims[1], 2);
        cr_assert_eq(a.nbytes, nbytes);
        cr_assert_arr_eq(a.data, data, nbytes);
        or_npy_free(&a);
    }
    unlink(path);
}

Test(npy, bfloat16_written_as_uint16_bits) {
    const uint16_t bits[] = {0x3FC0, 0xC000}; /* 1.5, -2.0 */
    const int64_t dims[] = {2};
    char *path = temp_path();
    char err[256];
    cr_assert_eq(or_npy_write_file(path, ONNXRUN_BFLOAT16, 1, dims, bits, 4, err, 256), 0, "%s",
                 err);
    or_npy a;
    cr_assert_eq(or_npy_load_file(path, &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(a.dtype, ONNXRUN_UINT16);
    cr_assert_arr_eq(a.data, bits, 4);
    or_npy_free(&a);
    unlink(path);
}

Test(npy, writer_refuses_bad_arguments) {
    const int64_t dims[] = {2};
    char err[256];
    cr_assert_eq(or_npy_write_file("/tmp/never.npy", ONNXRUN_STRING, 1, dims, "ab", 2, err, 256),
                 ONNXRUN_ERR_ARGUMENT);
    cr_assert_eq(or_npy_write_file("/tmp/never.npy", ONNXRUN_FLOAT, 1, dims, "abcd", 4, err, 256),
                 ONNXRUN_ERR_ARGUMENT);
    cr_assert_not_null(strstr(err, "shape needs 8"), "%s", err);
    cr_assert_eq(access("/tmp/never.npy", F_OK), -1);
    cr_assert_eq(
        or_npy_write_file("/nonexistent/dir/x.npy", ONNXRUN_UINT8, 1, dims, "ab", 2, err, 256),
        ONNXRUN_ERR_IO);
}

/* Random byte mutations of a valid file: every result is either a clean
 * error or an array whose size agrees with its shape (run under ASan to
 * catch over-reads). */
Test(npy, mutations_never_misbehave) {
    const int16_t data[6] = {1, 2, 3, 4, 5, 6};
    size_t len;
    unsigned char *orig = make_npy(
        1, "{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }   \n", data, 12, &len);
    unsigned char *b = malloc(len);
    uint32_t seed = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(b, orig, len);
        for (int k = 0; k < 1 + iter % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            b[pos] = (unsigned char)(seed >> 16);
        }
        size_t cut = iter % 7 == 0 ? (size_t)(seed >> 4) % (len + 1) : len;
        or_npy a;
        char err[256];
        onnxrun_status st = or_npy_parse(b, cut, &a, err, sizeof err);
        cr_assert(st == ONNXRUN_OK || st == ONNXRUN_ERR_INPUT, "status %d", st);
        if (st != ONNXRUN_OK) continue;
        size_t n = onnxrun_dtype_size(a.dtype);
        for (int d = 0; d < a.rank; d++) n *= (size_t)a.dims[d];
        cr_assert_eq(n, a.nbytes);
        or_npy_free(&a);
    }
    free(b);
    free(orig);
}
