/* Test helper shared by the unit tests and the standalone test programs:
 * wraps a hand-built graph in a ModelProto (IR version 8, the default domain
 * at opset_version) and serializes it with the project's protobuf-c
 * bindings. Returns malloc'ed bytes (the caller frees them) or NULL. */
#ifndef OR_TEST_PACK_MODEL_H
#define OR_TEST_PACK_MODEL_H

#include "onnx.pb-c.h"

#include <stdint.h>
#include <stdlib.h>

static inline uint8_t *pack_model(Onnx__GraphProto *graph, int64_t opset_version, size_t *len) {
    Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    opset.domain = "";
    opset.has_version = 1;
    opset.version = opset_version;
    Onnx__OperatorSetIdProto *opsets[] = {&opset};
    Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
    model.has_ir_version = 1;
    model.ir_version = 8;
    model.n_opset_import = 1;
    model.opset_import = opsets;
    model.graph = graph;
    *len = onnx__model_proto__get_packed_size(&model);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf) onnx__model_proto__pack(&model, buf);
    return buf;
}

/* A graph of the given parts, packed as pack_model does. */
static inline uint8_t *pack_graph_parts(const char *name, Onnx__NodeProto **nodes, size_t n_node,
                                        Onnx__ValueInfoProto **inputs, size_t n_input,
                                        Onnx__ValueInfoProto **outputs, size_t n_output,
                                        Onnx__TensorProto **inits, size_t n_init,
                                        int64_t opset_version, size_t *len) {
    Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
    graph.name = (char *)name;
    graph.n_node = n_node;
    graph.node = nodes;
    graph.n_input = n_input;
    graph.input = inputs;
    graph.n_output = n_output;
    graph.output = outputs;
    graph.n_initializer = n_init;
    graph.initializer = inits;
    return pack_model(&graph, opset_version, len);
}

#endif
