/* The public API end to end, on small models serialised with the project's
 * protobuf-c bindings. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "../pack_model.h"
#include "onnxrun.h"

/* y = x + x for a float input x of shape [N, 3], N symbolic; op_type is
 * configurable to test unsupported ops. Returns a malloc'ed buffer. */
static void *add_model(const char *op_type, size_t *len) {
    Onnx__TensorShapeProto__Dimension d0 = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    d0.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    d0.dim_param = "N";
    Onnx__TensorShapeProto__Dimension d1 = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    d1.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d1.dim_value = 3;
    Onnx__TensorShapeProto__Dimension *dims[] = {&d0, &d1};
    Onnx__TensorShapeProto shape = ONNX__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 2;
    shape.dim = dims;
    Onnx__TypeProto__Tensor tt = ONNX__TYPE_PROTO__TENSOR__INIT;
    tt.has_elem_type = 1;
    tt.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt.shape = &shape;
    Onnx__TypeProto type = ONNX__TYPE_PROTO__INIT;
    type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type.tensor_type = &tt;
    Onnx__ValueInfoProto in = ONNX__VALUE_INFO_PROTO__INIT, out = ONNX__VALUE_INFO_PROTO__INIT;
    in.name = "x";
    in.type = &type;
    out.name = "y";
    out.type = &type;
    Onnx__ValueInfoProto *ins[] = {&in}, *outs[] = {&out};

    Onnx__NodeProto node = ONNX__NODE_PROTO__INIT;
    char *node_in[] = {"x", "x"}, *node_out[] = {"y"};
    node.name = "the_node";
    node.op_type = (char *)op_type;
    node.n_input = 2;
    node.input = node_in;
    node.n_output = 1;
    node.output = node_out;
    Onnx__NodeProto *nodes[] = {&node};

    Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
    graph.name = "g";
    graph.n_node = 1;
    graph.node = nodes;
    graph.n_input = 1;
    graph.input = ins;
    graph.n_output = 1;
    graph.output = outs;

    return pack_model(&graph, 17, len);
}

static onnxrun_session *open_add(void) {
    size_t len;
    void *buf = add_model("Add", &len);
    onnxrun_session *s = NULL;
    onnxrun_status st = onnxrun_session_create_from_buffer(buf, len, NULL, NULL, &s);
    free(buf);
    cr_assert_eq(st, ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    return s;
}

Test(session, describes_inputs_with_symbolic_dims) {
    onnxrun_session *s = open_add();
    cr_assert_eq(onnxrun_input_count(s), 1);
    cr_assert_eq(onnxrun_output_count(s), 1);
    onnxrun_tensor_info info;
    cr_assert_eq(onnxrun_input_info(s, 0, &info), ONNXRUN_OK);
    cr_assert_str_eq(info.name, "x");
    cr_assert_eq(info.dtype, ONNXRUN_FLOAT);
    cr_assert_eq(info.rank, 2);
    cr_assert_lt(info.dims[0], 0);
    cr_assert_str_eq(info.dim_names[0], "N");
    cr_assert_eq(info.dims[1], 3);
    cr_assert_eq(onnxrun_input_info(s, 1, &info), ONNXRUN_ERR_ARGUMENT);
    onnxrun_session_destroy(s);
}

/* Every failed lookup explains itself on the handle; a success clears it. */
Test(session, lookups_leave_a_message_when_they_fail) {
    onnxrun_session *s = open_add();
    onnxrun_tensor_info info;
    size_t index = 99;
    cr_assert_eq(onnxrun_output_info(s, 3, &info), ONNXRUN_ERR_ARGUMENT);
    cr_assert_str_eq(onnxrun_errmsg(s), "output index 3 out of range (the model has 1)");
    cr_assert_eq(onnxrun_input_info(s, 0, &info), ONNXRUN_OK);
    cr_assert_str_eq(onnxrun_errmsg(s), "");
    cr_assert_eq(onnxrun_input_info(s, 0, NULL), ONNXRUN_ERR_ARGUMENT);
    cr_assert_str_eq(onnxrun_errmsg(s), "out_info is NULL");
    cr_assert_eq(onnxrun_output_index(s, "nope", &index), ONNXRUN_ERR_INPUT);
    cr_assert_str_eq(onnxrun_errmsg(s), "the model has no output named 'nope'");
    cr_assert_eq(index, 99);
    cr_assert_eq(onnxrun_input_index(s, NULL, &index), ONNXRUN_ERR_ARGUMENT);
    cr_assert_str_eq(onnxrun_errmsg(s), "name is NULL");
    cr_assert_eq(onnxrun_input_index(s, "x", NULL), ONNXRUN_ERR_ARGUMENT);
    cr_assert_str_eq(onnxrun_errmsg(s), "out_index is NULL");
    cr_assert_eq(onnxrun_input_index(s, "x", &index), ONNXRUN_OK);
    cr_assert_eq(index, 0);
    cr_assert_str_eq(onnxrun_errmsg(s), "");
    cr_assert_eq(onnxrun_input_info(NULL, 0, &info), ONNXRUN_ERR_ARGUMENT);
    cr_assert_eq(onnxrun_output_index(NULL, "y", &index), ONNXRUN_ERR_ARGUMENT);
    onnxrun_session_destroy(s);
}

/* The batch axis changes between runs: the plan is redone each time. */
Test(session, replans_when_dynamic_dims_change) {
    onnxrun_session *s = open_add();
    float x[15];
    for (int i = 0; i < 15; i++) x[i] = (float)i;
    const int64_t sizes[] = {2, 5, 1, 5};
    for (int r = 0; r < 4; r++) {
        int64_t dims[2] = {sizes[r], 3};
        cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 2, dims, x,
                                       (size_t)(sizes[r] * 3) * sizeof(float)),
                     ONNXRUN_OK, "%s", onnxrun_errmsg(s));
        cr_assert_eq(onnxrun_run(s), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
        onnxrun_tensor_view y;
        cr_assert_eq(onnxrun_get_output(s, 0, &y), ONNXRUN_OK);
        cr_assert_eq(y.rank, 2);
        cr_assert_eq(y.dims[0], sizes[r]);
        cr_assert_eq(y.nbytes, (size_t)(sizes[r] * 3) * sizeof(float));
        const float *v = y.data;
        cr_assert_float_eq(v[sizes[r] * 3 - 1], 2.0f * (float)(sizes[r] * 3 - 1), 0);
    }
    onnxrun_session_destroy(s);
}

Test(session, rejects_wrong_inputs_naming_them) {
    onnxrun_session *s = open_add();
    float x[6] = {0};
    int32_t xi[6] = {0};
    int64_t good[2] = {2, 3}, bad_dim[2] = {2, 4}, rank1[1] = {6};
    cr_assert_eq(onnxrun_run(s), ONNXRUN_ERR_INPUT);
    cr_assert(strstr(onnxrun_errmsg(s), "'x'"), "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_INT32, 2, good, xi, sizeof xi), ONNXRUN_ERR_INPUT);
    cr_assert(strstr(onnxrun_errmsg(s), "float32"), "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 2, bad_dim, x, 32), ONNXRUN_ERR_INPUT);
    cr_assert(strstr(onnxrun_errmsg(s), "[?,3]"), "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 1, rank1, x, sizeof x), ONNXRUN_ERR_INPUT);
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 2, good, x, 8), ONNXRUN_ERR_INPUT);
    cr_assert_eq(onnxrun_set_input(s, 3, ONNXRUN_FLOAT, 2, good, x, sizeof x),
                 ONNXRUN_ERR_ARGUMENT);
    onnxrun_session_destroy(s);
}

Test(session, unsupported_op_fails_at_load_naming_the_node) {
    size_t len;
    void *buf = add_model("NotAnOnnxOp", &len);
    onnxrun_session *s = NULL;
    cr_assert_eq(onnxrun_session_create_from_buffer(buf, len, NULL, NULL, &s), ONNXRUN_ERR_MODEL);
    free(buf);
    cr_assert_not_null(s);
    cr_assert(strstr(onnxrun_errmsg(s), "the_node") && strstr(onnxrun_errmsg(s), "NotAnOnnxOp"),
              "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_input_count(s), 0);
    cr_assert_eq(onnxrun_run(s), ONNXRUN_ERR_ARGUMENT);
    onnxrun_tensor_info info;
    size_t index;
    cr_assert_eq(onnxrun_input_info(s, 0, &info), ONNXRUN_ERR_ARGUMENT);
    cr_assert_eq(onnxrun_input_index(s, "x", &index), ONNXRUN_ERR_ARGUMENT);
    cr_assert(strstr(onnxrun_errmsg(s), "NotAnOnnxOp"), "kept: %s", onnxrun_errmsg(s));
    onnxrun_session_destroy(s);
}

Test(session, garbage_buffer_is_a_model_error) {
    const char garbage[] = "\xff\xff\xff\xff this is not a protobuf";
    onnxrun_session *s = NULL;
    cr_assert_eq(onnxrun_session_create_from_buffer(garbage, sizeof garbage, NULL, NULL, &s),
                 ONNXRUN_ERR_MODEL);
    cr_assert_neq(onnxrun_errmsg(s)[0], '\0');
    onnxrun_session_destroy(s);
}

Test(session, missing_file_is_an_io_error_naming_it) {
    onnxrun_session *s = NULL;
    cr_assert_eq(onnxrun_session_create_from_file("/nonexistent/model.onnx", NULL, &s),
                 ONNXRUN_ERR_IO);
    cr_assert(strstr(onnxrun_errmsg(s), "/nonexistent/model.onnx"), "%s", onnxrun_errmsg(s));
    onnxrun_session_destroy(s);
}

/* A directory opens and seeks like a file on Linux; it must not read as a
 * model of LONG_MAX bytes (that was "out of memory reading ... bytes"). */
Test(session, directory_is_an_io_error_naming_it) {
    onnxrun_session *s = NULL;
    cr_assert_eq(onnxrun_session_create_from_file("/tmp", NULL, &s), ONNXRUN_ERR_IO);
    cr_assert_str_eq(onnxrun_errmsg(s), "/tmp: cannot read: is a directory");
    onnxrun_session_destroy(s);
}

/* Outputs exist only after a successful run: not before the first, and not
 * after a failed one (it may have written part of them). */
Test(session, outputs_only_after_a_successful_run) {
    onnxrun_session *s = open_add();
    onnxrun_tensor_view v;
    cr_assert_eq(onnxrun_get_output(s, 0, &v), ONNXRUN_ERR_ARGUMENT);
    cr_assert(strstr(onnxrun_errmsg(s), "'y' has not been computed"), "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_get_output(s, 0, NULL), ONNXRUN_ERR_ARGUMENT);
    cr_assert(strstr(onnxrun_errmsg(s), "view is NULL"), "%s", onnxrun_errmsg(s));
    const int64_t dims[2] = {2, 3};
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 2, NULL, NULL, 0), ONNXRUN_ERR_ARGUMENT);
    cr_assert(strstr(onnxrun_errmsg(s), "input 'x': rank 2 but no dims"), "%s", onnxrun_errmsg(s));
    const float x[6] = {1, 2, 3, 4, 5, 6};
    cr_assert_eq(onnxrun_set_input(s, 0, ONNXRUN_FLOAT, 2, dims, x, sizeof x), ONNXRUN_OK);
    cr_assert_eq(onnxrun_run(s), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_get_output(s, 0, &v), ONNXRUN_OK);
    cr_assert_eq(((const float *)v.data)[5], 12.0f);
    float small[2];
    cr_assert_eq(onnxrun_set_output(s, 0, small, sizeof small), ONNXRUN_OK);
    cr_assert_eq(onnxrun_run(s), ONNXRUN_ERR_ARGUMENT); /* the buffer is too small */
    cr_assert_eq(onnxrun_get_output(s, 0, &v), ONNXRUN_ERR_ARGUMENT);
    cr_assert_eq(onnxrun_set_output(s, 0, NULL, 0), ONNXRUN_OK);
    cr_assert_eq(onnxrun_run(s), ONNXRUN_OK, "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_get_output(s, 0, &v), ONNXRUN_OK);
    onnxrun_session *clone = NULL;
    cr_assert_eq(onnxrun_session_clone(s, NULL), ONNXRUN_ERR_ARGUMENT);
    cr_assert(strstr(onnxrun_errmsg(s), "out_clone is NULL"), "%s", onnxrun_errmsg(s));
    cr_assert_eq(onnxrun_session_clone(s, &clone), ONNXRUN_OK);
    cr_assert_eq(onnxrun_get_output(clone, 0, &v), ONNXRUN_ERR_ARGUMENT); /* it has not run */
    onnxrun_session_destroy(clone);
    onnxrun_session_destroy(s);
}

/* Options that cannot be honoured fail creation, naming the field, before the
 * model is read (a huge thread count used to start threads until one failed). */
Test(session, refuses_options_it_cannot_honour) {
    size_t len;
    void *buf = add_model("Add", &len);
    onnxrun_options opts;
    onnxrun_options_init(&opts);
    opts.num_threads = ONNXRUN_MAX_THREADS + 1;
    onnxrun_session *s = NULL;
    cr_assert_eq(onnxrun_session_create_from_buffer(buf, len, NULL, &opts, &s),
                 ONNXRUN_ERR_ARGUMENT);
    cr_assert_str_eq(onnxrun_errmsg(s), "num_threads 1025 is above the limit of 1024");
    onnxrun_session_destroy(s);
    onnxrun_options_init(&opts);
    opts.weight_precision = (onnxrun_precision)77;
    cr_assert_eq(onnxrun_session_create_from_file("/nonexistent.onnx", &opts, &s),
                 ONNXRUN_ERR_ARGUMENT);
    cr_assert(strstr(onnxrun_errmsg(s), "weight_precision 77 is not one of"), "%s",
              onnxrun_errmsg(s));
    onnxrun_session_destroy(s);
    free(buf);
}

/* An options struct from an older, smaller version of the header still works. */
Test(session, accepts_smaller_options_struct) {
    size_t len;
    void *buf = add_model("Add", &len);
    onnxrun_options opts;
    onnxrun_options_init(&opts);
    opts.num_threads = 2;
    opts.size = sizeof(size_t); /* only the size field is known */
    onnxrun_session *s = NULL;
    cr_assert_eq(onnxrun_session_create_from_buffer(buf, len, NULL, &opts, &s), ONNXRUN_OK, "%s",
                 onnxrun_errmsg(s));
    free(buf);
    onnxrun_session_destroy(s);
}
