/* minimal: load an ONNX model, run it on one float32 .npy input, print the outputs.
 *
 *   minimal MODEL.onnx INPUT.npy
 *
 * Uses only the public API (onnxrun.h). The .npy reader below accepts what
 * numpy.save writes for a C-ordered little-endian float32 array; anything else
 * is rejected with a message.
 */
#include <onnxrun.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int rank;
    int64_t dims[ONNXRUN_MAX_RANK];
    float *data;
    size_t nbytes;
} npy_f32;

/* Parses "(2, 3)" / "(5,)" / "()" after 'shape': in a .npy header. */
static int parse_shape(const char *header, npy_f32 *a) {
    const char *p = strstr(header, "'shape':");
    if (!p || !(p = strchr(p, '('))) return -1;
    a->rank = 0;
    for (p++; *p != ')';) {
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || a->rank == ONNXRUN_MAX_RANK) return -1;
        a->dims[a->rank++] = d;
        p = end + strspn(end, ", ");
    }
    return 0;
}

static int read_npy(const char *path, npy_f32 *a) {
    FILE *f = fopen(path, "rb");
    unsigned char pre[10];
    char header[1024] = {0};
    if (!f) return -1;
    int ok = fread(pre, 1, 10, f) == 10 && memcmp(pre, "\x93NUMPY\x01", 7) == 0;
    size_t hlen = ok ? (size_t)(pre[8] | pre[9] << 8) : 0; // version 1.0 header length
    ok = ok && hlen < sizeof header && fread(header, 1, hlen, f) == hlen &&
         strstr(header, "'descr': '<f4'") && strstr(header, "'fortran_order': False") &&
         parse_shape(header, a) == 0;
    size_t count = 1;
    for (int i = 0; ok && i < a->rank; i++) count *= (size_t)a->dims[i];
    a->nbytes = count * sizeof(float);
    a->data = ok ? malloc(a->nbytes ? a->nbytes : 1) : NULL;
    ok = a->data && fread(a->data, 1, a->nbytes, f) == a->nbytes;
    fclose(f);
    return ok ? 0 : -1;
}

static void print_output(const onnxrun_tensor_view *v) {
    size_t count = v->nbytes / onnxrun_dtype_size(v->dtype);
    printf("%s: %s [", v->name, onnxrun_dtype_name(v->dtype));
    for (int i = 0; i < v->rank; i++) printf(i ? ",%lld" : "%lld", (long long)v->dims[i]);
    printf("] =");
    for (size_t i = 0; i < count && i < 32; i++) {
        if (v->dtype == ONNXRUN_FLOAT)
            printf(" %.9g", ((const float *)v->data)[i]);
        else if (v->dtype == ONNXRUN_INT64)
            printf(" %lld", (long long)((const int64_t *)v->data)[i]);
    }
    printf(count > 32 ? " ...\n" : "\n");
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.onnx INPUT.npy\n", argv[0]);
        return 1;
    }
    npy_f32 x = {0};
    if (read_npy(argv[2], &x) != 0) {
        fprintf(stderr, "%s: not a little-endian, C-ordered float32 .npy (v1.0)\n", argv[2]);
        free(x.data);
        return 1;
    }
    onnxrun_session *s = NULL;
    onnxrun_status st = onnxrun_session_create_from_file(argv[1], NULL, &s);
    if (st == ONNXRUN_OK)
        st = onnxrun_set_input(s, 0, ONNXRUN_FLOAT, x.rank, x.dims, x.data, x.nbytes);
    if (st == ONNXRUN_OK) st = onnxrun_run(s);
    for (size_t i = 0; st == ONNXRUN_OK && i < onnxrun_output_count(s); i++) {
        onnxrun_tensor_view v;
        st = onnxrun_get_output(s, i, &v);
        if (st == ONNXRUN_OK) print_output(&v);
    }
    if (st != ONNXRUN_OK)
        fprintf(stderr, "onnxrun: %s: %s\n", onnxrun_status_name(st),
                s ? onnxrun_errmsg(s) : "out of memory");
    onnxrun_session_destroy(s);
    free(x.data);
    return st == ONNXRUN_OK ? 0 : 2;
}
