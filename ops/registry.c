/* Name lookup and dispatch tables, generated from ops.def. */
#include "registry.h"

#include <string.h>

static const struct {
    const char *name;
    int first_opset;
    int max_inputs, max_outputs;
    const char *attrs; /* space-separated names */
    or_prepare_fn prepare;
} op_table[] = {
#define OP(name, first_opset, max_inputs, max_outputs, attrs, prepare)                             \
    {#name, first_opset, max_inputs, max_outputs, attrs, prepare},
#include "ops.def"
#undef OP
};

int or_op_lookup(const char *domain, const char *op_type) {
    if (domain && domain[0] && strcmp(domain, "ai.onnx") != 0) return -1;
    for (int i = 0; i < OR_OP_COUNT; i++)
        if (strcmp(op_table[i].name, op_type) == 0) return i;
    return -1;
}

const char *or_op_name(int op) {
    return op >= 0 && op < OR_OP_COUNT ? op_table[op].name : "?";
}
int or_op_first_opset(int op) {
    return op_table[op].first_opset;
}
int or_op_max_inputs(int op) {
    return op_table[op].max_inputs;
}
int or_op_max_outputs(int op) {
    return op_table[op].max_outputs;
}
bool or_op_has_attr(int op, const char *name) {
    size_t len = strlen(name);
    for (const char *p = op_table[op].attrs; *p;) {
        size_t word = strcspn(p, " ");
        if (word == len && strncmp(p, name, len) == 0) return true;
        p += word;
        p += strspn(p, " ");
    }
    return false;
}
or_prepare_fn or_op_prepare(int op) {
    return op_table[op].prepare;
}
