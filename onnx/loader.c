/* ModelProto -> or_graph: opsets, initializers, graph inputs and outputs,
 * value_info and nodes, then a topological sort.
 *
 * Only the default ONNX domain is accepted. Constructs the runtime cannot
 * execute are refused here with a message naming what uses them: nested
 * graphs (If/Loop/Scan), model-local functions, function attribute
 * references, training info, sparse initializers and non-tensor graph
 * inputs. Unknown op types are NOT refused here (or_graph_check_ops reports
 * them) so that `onnxrun --info` can list them. All data is copied or mapped,
 * so the protobuf message is freed before returning.
 */
#include "../runtime/alloc.h"
#include "loader.h"
#include "pb_internal.h"
#include "registry.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct load_ctx {
    or_graph *g;
    Onnx__ModelProto *model;
    Onnx__GraphProto *graph;
    const char *model_dir;
    const uint8_t *buf;         /* the serialized model */
    const or_pb_layout *layout; /* NULL: the initializers are in graph */
    int flags;                  /* OR_LOAD_* */
    size_t released;            /* mapped bytes dropped so far */
    or_load_stats *stats;
} load_ctx;

static const char *str_or_empty(const char *s) {
    return s ? s : "";
}

static bool is_default_domain(const char *domain) {
    return !domain || !domain[0] || strcmp(domain, "ai.onnx") == 0;
}

static int nomem(or_graph *g) {
    return or_fail(g, ONNXRUN_ERR_NOMEM, "out of memory");
}

/* Duplicates an optional proto string; true on success (NULL stays NULL). */
static bool dup_opt(char **dst, const char *src) {
    if (!src) return true;
    *dst = or_strdup(src);
    return *dst != NULL;
}

/* ---- model header ---- */

static int load_opsets(load_ctx *c) {
    or_graph *g = c->g;
    const Onnx__ModelProto *m = c->model;
    g->opsets = or_calloc(m->n_opset_import ? m->n_opset_import : 1, sizeof *g->opsets);
    if (!g->opsets) return nomem(g);
    bool have_default = false;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *op = m->opset_import[i];
        const char *domain = str_or_empty(op->domain);
        for (int k = 0; k < g->n_opsets; k++) {
            const char *seen = g->opsets[k].domain;
            if (strcmp(seen, domain) == 0 || (is_default_domain(seen) && is_default_domain(domain)))
                return or_fail(g, ONNXRUN_ERR_MODEL, "opset_import lists domain '%s' twice",
                               domain);
        }
        if (!op->has_version)
            return or_fail(g, ONNXRUN_ERR_MODEL, "opset_import for domain '%s' has no version",
                           domain);
        g->opsets[g->n_opsets].domain = or_strdup(domain);
        if (!g->opsets[g->n_opsets].domain) return nomem(g);
        g->opsets[g->n_opsets++].version = op->version;
        if (is_default_domain(domain)) {
            if (op->version < 1 || op->version > INT_MAX)
                return or_fail(g, ONNXRUN_ERR_MODEL, "invalid default-domain opset version %lld",
                               (long long)op->version);
            g->opset = (int)op->version;
            have_default = true;
        }
    }
    /* Before IR version 3 there was no opset_import: opset 1 is implied.
     * Otherwise a missing default domain only matters to nodes using it
     * (g->opset stays 0), so that their message can name the node. */
    if (!have_default && m->n_opset_import == 0 && g->ir_version < 3) g->opset = 1;
    return ONNXRUN_OK;
}

static int load_header(load_ctx *c) {
    or_graph *g = c->g;
    const Onnx__ModelProto *m = c->model;
    g->ir_version = m->has_ir_version ? m->ir_version : 0;
    if (!dup_opt(&g->producer_name, m->producer_name) ||
        !dup_opt(&g->producer_version, m->producer_version) ||
        !dup_opt(&g->graph_name, c->graph->name))
        return nomem(g);
    if (m->n_training_info)
        return or_fail(g, ONNXRUN_ERR_MODEL,
                       "training information (training_info) is not "
                       "supported; export the model for inference");
    if (c->graph->n_sparse_initializer)
        return or_fail(g, ONNXRUN_ERR_MODEL, "sparse initializer '%s' is not supported",
                       str_or_empty(c->graph->sparse_initializer[0]->values
                                        ? c->graph->sparse_initializer[0]->values->name
                                        : NULL));
    return load_opsets(c);
}

/* ---- initializers ---- */

/* tp came from or_pb_allocator: its raw_data may be adopted. */
static int load_initializer(load_ctx *c, Onnx__TensorProto *tp, size_t i) {
    or_graph *g = c->g;
    const char *name = str_or_empty(tp->name);
    if (!name[0]) return or_fail(g, ONNXRUN_ERR_MODEL, "initializer %zu has no name", i);
    if (or_graph_find_tensor(g, name) >= 0)
        return or_fail(g, ONNXRUN_ERR_MODEL, "initializer '%s' is defined twice", name);
    int idx = or_graph_tensor(g, name);
    if (idx < 0) return nomem(g);
    char what[300];
    snprintf(what, sizeof what, "initializer '%s'", name);
    or_tensor *t = &g->tensors[idx];
    bool adopted = false;
    int status =
        or_pb_decode_tensor_adopt(tp, what, c->model_dir, t, &adopted, g->errmsg, sizeof g->errmsg);
    if (status != ONNXRUN_OK) return status;
    t->kind = OR_T_INITIALIZER;
    t->is_static = true;
    c->stats->initializers++;
    c->stats->adopted += adopted;
    return ONNXRUN_OK;
}

static int load_initializers(load_ctx *c) {
    for (size_t i = 0; i < c->graph->n_initializer; i++) {
        int status = load_initializer(c, c->graph->initializer[i], i);
        if (status != ONNXRUN_OK) return status;
    }
    return ONNXRUN_OK;
}

/* Where the whole-model unpack would just have failed, the streaming path
 * can say which initializer is broken. */
static int corrupt_initializer(load_ctx *c, size_t i) {
    const or_pb_span *s = &c->layout->inits[i];
    const char *name;
    size_t name_len;
    (void)or_pb_tensor_wire_ok(c->buf + s->value, s->end - s->value, &name, &name_len);
    if (name && name_len && memchr(name, '\0', name_len) == NULL)
        return or_fail(c->g, ONNXRUN_ERR_MODEL,
                       "not a valid ONNX model (corrupt or truncated protobuf in initializer "
                       "'%.*s')",
                       (int)(name_len < 200 ? name_len : 200), name);
    return or_fail(c->g, ONNXRUN_ERR_MODEL,
                   "not a valid ONNX model (corrupt or truncated protobuf in initializer %zu)", i);
}

/* Malformed top-level fields are reported before anything else, as the
 * whole-model unpack would. The wire check is stricter than protobuf-c (a
 * key over 32 bits, say), so protobuf-c has the last word. */
static int check_initializer_wire(load_ctx *c) {
    for (size_t i = 0; i < c->layout->n_inits; i++) {
        const or_pb_span *s = &c->layout->inits[i];
        const char *name;
        size_t name_len;
        if (or_pb_tensor_wire_ok(c->buf + s->value, s->end - s->value, &name, &name_len)) continue;
        Onnx__TensorProto *tp =
            onnx__tensor_proto__unpack(&or_pb_allocator, s->end - s->value, c->buf + s->value);
        if (tp) {
            onnx__tensor_proto__free_unpacked(tp, &or_pb_allocator);
            continue;
        }
        if (or_mem_refused())
            return or_fail(c->g, ONNXRUN_ERR_NOMEM, "out of memory unpacking the model");
        return corrupt_initializer(c, i);
    }
    return ONNXRUN_OK;
}

/* Copies n bytes at offset from of the model, dropping the mapped pages
 * behind it as it goes. */
/* Drops the mapped pages before offset upto; they no longer count against
 * the memory cap (the caller charged the whole mapping). */
static void release_before(load_ctx *c, size_t upto) {
    if (!(c->flags & OR_LOAD_MAPPED)) return;
    size_t before = c->released;
    c->released = or_pb_release_pages(c->buf, c->released, upto);
    or_mem_uncharge(c->released - before);
}

static void copy_from_model(load_ctx *c, uint8_t *dst, size_t from, size_t n) {
    const size_t chunk = (size_t)1 << 20;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < chunk ? n - done : chunk;
        memcpy(dst + done, c->buf + from + done, k);
        done += k;
        release_before(c, from + done);
    }
}

/* Unpacks an initializer entry. When it has one raw_data field, the rest of
 * the message is unpacked alone and raw_data is then copied in by us, so
 * that the file pages can go as soon as they are copied; the result is what
 * protobuf-c would have built. */
static Onnx__TensorProto *unpack_initializer(load_ctx *c, const or_pb_span *s) {
    const uint8_t *msg = c->buf + s->value;
    size_t len = s->end - s->value;
    or_pb_span raw;
    if (!or_pb_find_raw_data(msg, len, &raw))
        return onnx__tensor_proto__unpack(&or_pb_allocator, len, msg);
    size_t rest = len - (raw.end - raw.start), n = raw.end - raw.value;
    uint8_t *head = or_malloc(rest ? rest : 1);
    if (!head) return NULL;
    memcpy(head, msg, raw.start);
    memcpy(head + raw.start, msg + raw.end, len - raw.end);
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(&or_pb_allocator, rest, head);
    or_free(head);
    if (!tp) return NULL;
    uint8_t *data = n ? or_pb_allocator.alloc(or_pb_allocator.allocator_data, n) : NULL;
    if (n && !data) {
        onnx__tensor_proto__free_unpacked(tp, &or_pb_allocator);
        return NULL;
    }
    if (n) copy_from_model(c, data, s->value + raw.value, n);
    tp->has_raw_data = 1;
    tp->raw_data.data = data;
    tp->raw_data.len = n;
    return tp;
}

/* One TensorProto at a time, each freed (and its file pages dropped when the
 * model is mapped) before the next is unpacked. */
static int stream_initializers(load_ctx *c) {
    c->stats->streamed = true;
    for (size_t i = 0; i < c->layout->n_inits; i++) {
        const or_pb_span *s = &c->layout->inits[i];
        Onnx__TensorProto *tp = unpack_initializer(c, s);
        if (!tp && or_mem_refused())
            return or_fail(c->g, ONNXRUN_ERR_NOMEM, "out of memory unpacking the model");
        if (!tp) return corrupt_initializer(c, i);
        int status = load_initializer(c, tp, i);
        onnx__tensor_proto__free_unpacked(tp, &or_pb_allocator);
        release_before(c, s->end);
        if (status != ONNXRUN_OK) return status;
    }
    return ONNXRUN_OK;
}

/* ---- declared types (ValueInfoProto) ---- */

typedef struct decl_type {
    bool present;
    int dtype;
    int rank; /* -1: no shape */
    int64_t dims[OR_MAX_RANK];
    const char *params[OR_MAX_RANK]; /* borrowed from the proto */
} decl_type;

static const char *type_kind_name(Onnx__TypeProto__ValueCase vc) {
    switch (vc) {
    case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE:
        return "sequence";
    case ONNX__TYPE_PROTO__VALUE_MAP_TYPE:
        return "map";
    case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE:
        return "optional";
    case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE:
        return "sparse tensor";
    default:
        return "unknown";
    }
}

/* role names the value in messages, e.g. "graph input". */
static int read_decl_type(or_graph *g, const Onnx__ValueInfoProto *vi, const char *role,
                          decl_type *out) {
    memset(out, 0, sizeof *out);
    out->rank = -1;
    const char *name = str_or_empty(vi->name);
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET) return ONNXRUN_OK;
    if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return or_fail(g, ONNXRUN_ERR_MODEL, "%s '%s' has %s type, which is not supported", role,
                       name, type_kind_name(tp->value_case));
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    out->present = true;
    out->dtype = tt->has_elem_type ? tt->elem_type : OR_UNDEFINED;
    if (out->dtype < 0 || out->dtype >= OR_DTYPE_COUNT)
        return or_fail(g, ONNXRUN_ERR_MODEL, "%s '%s' has unsupported element type %d", role, name,
                       out->dtype);
    if (!tt->shape) return ONNXRUN_OK;
    if (tt->shape->n_dim > OR_MAX_RANK)
        return or_fail(g, ONNXRUN_ERR_MODEL, "%s '%s' has rank %zu (at most %d supported)", role,
                       name, tt->shape->n_dim, OR_MAX_RANK);
    out->rank = (int)tt->shape->n_dim;
    for (int i = 0; i < out->rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        out->dims[i] = -1;
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (d->dim_value < 0)
                return or_fail(g, ONNXRUN_ERR_MODEL, "%s '%s' has negative dimension %lld", role,
                               name, (long long)d->dim_value);
            out->dims[i] = d->dim_value;
        } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                   d->dim_param && d->dim_param[0]) {
            out->params[i] = d->dim_param;
        }
    }
    return ONNXRUN_OK;
}

/* Copies a declared type into a tensor; symbolic names only when asked. */
static int apply_decl_type(or_graph *g, or_tensor *t, const decl_type *d, bool with_params) {
    t->dtype = d->dtype;
    t->rank = d->rank;
    for (int i = 0; i < d->rank; i++) {
        t->dims[i] = d->dims[i];
        if (with_params && d->params[i] && !(t->dim_params[i] = or_strdup(d->params[i])))
            return nomem(g);
    }
    return ONNXRUN_OK;
}

/* ---- graph inputs and outputs ---- */

static int load_inputs(load_ctx *c) {
    or_graph *g = c->g;
    g->inputs = or_malloc((c->graph->n_input ? c->graph->n_input : 1) * sizeof *g->inputs);
    if (!g->inputs) return nomem(g);
    for (size_t i = 0; i < c->graph->n_input; i++) {
        const Onnx__ValueInfoProto *vi = c->graph->input[i];
        const char *name = str_or_empty(vi->name);
        if (!name[0]) return or_fail(g, ONNXRUN_ERR_MODEL, "graph input %zu has no name", i);
        decl_type d;
        int status = read_decl_type(g, vi, "graph input", &d);
        if (status != ONNXRUN_OK) return status;
        int idx = or_graph_find_tensor(g, name);
        if (idx >= 0 && g->tensors[idx].kind == OR_T_INITIALIZER) {
            /* An input with a default value: the initializer wins. */
            if (d.present && d.dtype && d.dtype != g->tensors[idx].dtype)
                return or_fail(g, ONNXRUN_ERR_MODEL,
                               "graph input '%s' is declared %s but its initializer is %s", name,
                               or_dtype_name(d.dtype), or_dtype_name(g->tensors[idx].dtype));
            continue;
        }
        if (idx >= 0)
            return or_fail(g, ONNXRUN_ERR_MODEL, "graph input '%s' is listed twice", name);
        if (!d.present || d.dtype == OR_UNDEFINED)
            return or_fail(g, ONNXRUN_ERR_MODEL, "graph input '%s' has no tensor element type",
                           name);
        if (d.dtype == OR_STRING)
            return or_fail(g, ONNXRUN_ERR_MODEL,
                           "graph input '%s': string tensors are not "
                           "supported",
                           name);
        if ((idx = or_graph_tensor(g, name)) < 0) return nomem(g);
        g->tensors[idx].kind = OR_T_INPUT;
        if ((status = apply_decl_type(g, &g->tensors[idx], &d, true)) != ONNXRUN_OK) return status;
        g->inputs[g->n_inputs++] = idx;
    }
    return ONNXRUN_OK;
}

static int load_outputs(load_ctx *c) {
    or_graph *g = c->g;
    g->outputs = or_malloc((c->graph->n_output ? c->graph->n_output : 1) * sizeof *g->outputs);
    if (!g->outputs) return nomem(g);
    for (size_t i = 0; i < c->graph->n_output; i++) {
        const Onnx__ValueInfoProto *vi = c->graph->output[i];
        const char *name = str_or_empty(vi->name);
        if (!name[0]) return or_fail(g, ONNXRUN_ERR_MODEL, "graph output %zu has no name", i);
        decl_type d;
        int status = read_decl_type(g, vi, "graph output", &d);
        if (status != ONNXRUN_OK) return status;
        int idx = or_graph_tensor(g, name);
        if (idx < 0) return nomem(g);
        for (int k = 0; k < g->n_outputs; k++)
            if (g->outputs[k] == idx)
                return or_fail(g, ONNXRUN_ERR_MODEL, "graph output '%s' is listed twice", name);
        or_tensor *t = &g->tensors[idx];
        t->is_graph_output = true;
        if (t->kind == OR_T_ACTIVATION && d.present &&
            (status = apply_decl_type(g, t, &d, true)) != ONNXRUN_OK)
            return status;
        g->outputs[g->n_outputs++] = idx;
    }
    return ONNXRUN_OK;
}

/* Informational shapes for intermediate values; names nothing uses are skipped. */
static void load_value_info(load_ctx *c) {
    or_graph *g = c->g;
    for (size_t i = 0; i < c->graph->n_value_info; i++) {
        const Onnx__ValueInfoProto *vi = c->graph->value_info[i];
        int idx = vi->name ? or_graph_find_tensor(g, vi->name) : -1;
        if (idx < 0) continue;
        or_tensor *t = &g->tensors[idx];
        const Onnx__TypeProto *tp = vi->type;
        if (t->kind != OR_T_ACTIVATION || t->is_graph_output || !tp ||
            tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
            continue;
        const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
        if (!t->dtype && tt->has_elem_type && tt->elem_type > 0 && tt->elem_type < OR_DTYPE_COUNT)
            t->dtype = tt->elem_type;
        if (t->rank >= 0 || !tt->shape || tt->shape->n_dim > OR_MAX_RANK) continue;
        int rank = (int)tt->shape->n_dim;
        for (int k = 0; k < rank; k++) {
            const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[k];
            bool known = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                         d->dim_value >= 0;
            t->dims[k] = known ? d->dim_value : -1;
        }
        t->rank = rank;
    }
}

/* ---- nodes ---- */

static or_attr_type infer_attr_type(const Onnx__AttributeProto *ap) {
    if (ap->has_type) return (or_attr_type)ap->type;
    /* Before IR version 3 the type field did not exist. */
    if (ap->n_floats) return OR_ATTR_FLOATS;
    if (ap->n_ints) return OR_ATTR_INTS;
    if (ap->n_strings) return OR_ATTR_STRINGS;
    if (ap->n_tensors) return OR_ATTR_TENSORS;
    if (ap->n_graphs) return OR_ATTR_GRAPHS;
    if (ap->has_f) return OR_ATTR_FLOAT;
    if (ap->has_i) return OR_ATTR_INT;
    if (ap->has_s) return OR_ATTR_STRING;
    if (ap->t) return OR_ATTR_TENSOR;
    if (ap->g) return OR_ATTR_GRAPH;
    return OR_ATTR_UNDEFINED;
}

static char *dup_bytes(const ProtobufCBinaryData *b) {
    char *s = or_malloc(b->len + 1);
    if (!s) return NULL;
    if (b->len) memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    return s;
}

/* Copies n elements of size esize into a fresh buffer (never NULL when it
 * succeeds, so an empty list is still "present"). */
static void *dup_array(const void *src, size_t n, size_t esize) {
    void *p = or_malloc(n ? n * esize : 1);
    if (p && n) memcpy(p, src, n * esize);
    return p;
}

static int load_attr_tensor(load_ctx *c, const or_node *n, const Onnx__AttributeProto *ap,
                            or_attr *a) {
    or_graph *g = c->g;
    if (!ap->t)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "attribute '%s' has no tensor", a->name);
    if (!(a->t = or_calloc(1, sizeof *a->t))) return nomem(g);
    a->t->rank = -1;
    a->t->producer = -1;
    if (!(a->t->name = or_strdup(str_or_empty(ap->t->name)))) return nomem(g);
    char what[600];
    snprintf(what, sizeof what, "node '%s' (%s): attribute '%s'", n->name, n->op_type, a->name);
    int status = or_pb_decode_tensor(ap->t, what, c->model_dir, a->t, g->errmsg, sizeof g->errmsg);
    if (status != ONNXRUN_OK) return status;
    a->t->kind = OR_T_INITIALIZER;
    a->t->is_static = true;
    return ONNXRUN_OK;
}

static int load_attr_value(load_ctx *c, const or_node *n, const Onnx__AttributeProto *ap,
                           or_attr *a) {
    or_graph *g = c->g;
    switch (a->type) {
    case OR_ATTR_FLOAT:
        a->f = ap->f;
        return ONNXRUN_OK;
    case OR_ATTR_INT:
        a->i = ap->i;
        return ONNXRUN_OK;
    case OR_ATTR_STRING:
        if (!(a->s = dup_bytes(&ap->s))) return nomem(g);
        a->s_len = ap->s.len;
        return ONNXRUN_OK;
    case OR_ATTR_TENSOR:
        return load_attr_tensor(c, n, ap, a);
    case OR_ATTR_FLOATS:
        a->n = ap->n_floats;
        return (a->floats = dup_array(ap->floats, a->n, sizeof(float))) ? ONNXRUN_OK : nomem(g);
    case OR_ATTR_INTS:
        a->n = ap->n_ints;
        return (a->ints = dup_array(ap->ints, a->n, sizeof(int64_t))) ? ONNXRUN_OK : nomem(g);
    case OR_ATTR_STRINGS:
        if (!(a->strings = or_calloc(ap->n_strings ? ap->n_strings : 1, sizeof(char *))))
            return nomem(g);
        a->n = ap->n_strings;
        for (size_t k = 0; k < a->n; k++)
            if (!(a->strings[k] = dup_bytes(&ap->strings[k]))) return nomem(g);
        return ONNXRUN_OK;
    case OR_ATTR_GRAPH:
    case OR_ATTR_GRAPHS:
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "attribute '%s' holds a subgraph: nested "
                            "graphs (If/Loop/Scan) are not supported",
                            a->name);
    case OR_ATTR_TENSORS:
    case OR_ATTR_SPARSE_TENSOR:
    case OR_ATTR_SPARSE_TENSORS:
    case OR_ATTR_TYPE_PROTO:
    case OR_ATTR_TYPE_PROTOS:
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "attribute '%s' has type %d (tensor lists, "
                            "sparse tensors and type protos are not supported)",
                            a->name, a->type);
    default:
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "attribute '%s' has no valid type (%d)",
                            a->name, (int)a->type);
    }
}

static int load_attrs(load_ctx *c, or_node *n, const Onnx__NodeProto *np) {
    or_graph *g = c->g;
    if (np->n_attribute > INT_MAX)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "too many attributes");
    if (!(n->attrs = or_calloc(np->n_attribute ? np->n_attribute : 1, sizeof *n->attrs)))
        return nomem(g);
    n->n_attrs = (int)np->n_attribute;
    for (size_t k = 0; k < np->n_attribute; k++) {
        const Onnx__AttributeProto *ap = np->attribute[k];
        or_attr *a = &n->attrs[k];
        const char *name = str_or_empty(ap->name);
        if (!name[0]) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "attribute %zu has no name", k);
        if (!(a->name = or_strdup(name))) return nomem(g);
        if (ap->ref_attr_name && ap->ref_attr_name[0])
            return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                                "attribute '%s' refers to function "
                                "attribute '%s', which is not supported",
                                name, ap->ref_attr_name);
        a->type = infer_attr_type(ap);
        int status = load_attr_value(c, n, ap, a);
        if (status != ONNXRUN_OK) return status;
    }
    return ONNXRUN_OK;
}

/* Fills tensor indices for a node's input or output names ("" -> -1). */
static int load_edges(or_graph *g, const or_node *n, char **names, size_t count, int **out,
                      int *n_out) {
    if (count > INT_MAX) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "too many inputs/outputs");
    if (!(*out = or_malloc((count ? count : 1) * sizeof **out))) return nomem(g);
    for (size_t k = 0; k < count; k++) {
        (*out)[k] = -1;
        if (names[k][0] && ((*out)[k] = or_graph_tensor(g, names[k])) < 0) return nomem(g);
    }
    *n_out = (int)count;
    return ONNXRUN_OK;
}

static const Onnx__FunctionProto *find_function(const Onnx__ModelProto *m, const char *domain,
                                                const char *op_type) {
    for (size_t i = 0; i < m->n_functions; i++) {
        const Onnx__FunctionProto *f = m->functions[i];
        bool same_domain = strcmp(str_or_empty(f->domain), domain) == 0 ||
                           (is_default_domain(f->domain) && is_default_domain(domain));
        if (same_domain && strcmp(str_or_empty(f->name), op_type) == 0) return f;
    }
    return NULL;
}

/* Name, op type and domain; the name is invented when the model has none. */
static int load_node_identity(load_ctx *c, or_node *n, const Onnx__NodeProto *np, size_t index) {
    or_graph *g = c->g;
    const char *op_type = str_or_empty(np->op_type);
    const char *domain = str_or_empty(np->domain);
    char invented[300];
    const char *name = np->name;
    if (!name || !name[0]) {
        snprintf(invented, sizeof invented, "%s_%zu", op_type, index);
        name = invented;
    }
    if (!(n->name = or_strdup(name)) || !(n->op_type = or_strdup(op_type)) ||
        !(n->domain = or_strdup("")))
        return nomem(g);
    if (!op_type[0]) return or_node_fail(g, n, ONNXRUN_ERR_MODEL, "node has no op_type");
    const Onnx__FunctionProto *f = find_function(c->model, domain, op_type);
    if (f)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "uses model-local function '%s' (domain "
                            "'%s'); functions are not supported",
                            op_type, domain);
    if (!is_default_domain(domain))
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "operator domain '%s' is not supported "
                            "(only the default ONNX domain is)",
                            domain);
    if (g->opset == 0)
        return or_node_fail(g, n, ONNXRUN_ERR_MODEL,
                            "the model imports no opset of the default ONNX domain");
    n->opset = g->opset;
    n->op = or_op_lookup("", op_type);
    return ONNXRUN_OK;
}

static int load_nodes(load_ctx *c) {
    or_graph *g = c->g;
    if (c->graph->n_node > INT_MAX) return or_fail(g, ONNXRUN_ERR_MODEL, "too many nodes");
    for (size_t i = 0; i < c->graph->n_node; i++) {
        const Onnx__NodeProto *np = c->graph->node[i];
        or_node *n = or_graph_add_node(g);
        if (!n) return nomem(g);
        int status = load_node_identity(c, n, np, i);
        if (status == ONNXRUN_OK)
            status = load_edges(g, n, np->input, np->n_input, &n->inputs, &n->n_inputs);
        if (status == ONNXRUN_OK)
            status = load_edges(g, n, np->output, np->n_output, &n->outputs, &n->n_outputs);
        if (status == ONNXRUN_OK) status = load_attrs(c, n, np);
        if (status != ONNXRUN_OK) return status;
    }
    return ONNXRUN_OK;
}

/* ---- entry point ---- */

static int load_graph(load_ctx *c) {
    int status = c->layout ? check_initializer_wire(c) : ONNXRUN_OK;
    if (status == ONNXRUN_OK) status = load_header(c);
    if (status == ONNXRUN_OK) status = c->layout ? stream_initializers(c) : load_initializers(c);
    if (status == ONNXRUN_OK) status = load_inputs(c);
    if (status == ONNXRUN_OK) status = load_outputs(c);
    if (status == ONNXRUN_OK) status = load_nodes(c);
    if (status != ONNXRUN_OK) return status;
    load_value_info(c);
    return or_graph_sort(c->g);
}

static int finish_error(int status, const char *model_path, const char *msg, char *errmsg,
                        size_t errlen) {
    if (model_path) return or_pb_err(errmsg, errlen, status, "%s: %s", model_path, msg);
    return or_pb_err(errmsg, errlen, status, "%s", msg);
}

/* Unpacks the model without its initializers when the split handles it
 * (*layout then lists them), else the whole model (layout stays empty). */
static Onnx__ModelProto *unpack_model(const uint8_t *buf, size_t len, int flags,
                                      or_pb_layout *layout, or_load_stats *stats, int *split) {
    *split = flags & OR_LOAD_WHOLE ? OR_SPLIT_FALLBACK : or_pb_split_model(buf, len, layout);
    if (*split == OR_SPLIT_NOMEM) return NULL;
    if (*split == OR_SPLIT_OK) {
        stats->skeleton_bytes = layout->skeleton_len;
        Onnx__ModelProto *m =
            onnx__model_proto__unpack(&or_pb_allocator, layout->skeleton_len, layout->skeleton);
        or_free(layout->skeleton); /* protobuf-c copied what it needs */
        layout->skeleton = NULL;
        if (m || or_mem_refused()) return m;
        or_pb_layout_free(layout); /* the whole unpack gives the usual message */
        *split = OR_SPLIT_FALLBACK;
    }
    return onnx__model_proto__unpack(&or_pb_allocator, len, buf);
}

int or_load_model(const void *buf, size_t len, const char *model_dir, const char *model_path,
                  or_graph **out_graph, char *errmsg, size_t errlen) {
    return or_load_model_ex(buf, len, model_dir, model_path, 0, NULL, out_graph, errmsg, errlen);
}

int or_load_model_ex(const void *buf, size_t len, const char *model_dir, const char *model_path,
                     int flags, or_load_stats *stats, or_graph **out_graph, char *errmsg,
                     size_t errlen) {
    const char *label = model_path ? model_path : "model";
    or_load_stats unused_stats;
    if (!stats) stats = &unused_stats;
    memset(stats, 0, sizeof *stats);
    *out_graph = NULL;
    if (!buf && len)
        return or_pb_err(errmsg, errlen, ONNXRUN_ERR_ARGUMENT, "%s: no buffer given", label);
    if (!or_pb_depth_ok(&onnx__model_proto__descriptor, buf, len, OR_PB_MAX_DEPTH))
        return or_pb_err(errmsg, errlen, ONNXRUN_ERR_MODEL,
                         "%s: messages nest more than %d levels deep", label, OR_PB_MAX_DEPTH);
    or_pb_layout layout = {0};
    int split;
    Onnx__ModelProto *m = unpack_model(buf, len, flags, &layout, stats, &split);
    if (!m) or_pb_layout_free(&layout);
    if (!m && (split == OR_SPLIT_NOMEM || or_mem_refused())) /* the memory cap, not a bad model */
        return or_pb_err(errmsg, errlen, ONNXRUN_ERR_NOMEM, "%s: out of memory unpacking the model",
                         label);
    if (!m)
        return or_pb_err(errmsg, errlen, ONNXRUN_ERR_MODEL,
                         "%s: not a valid ONNX model (corrupt or truncated protobuf)", label);
    if (!m->graph) {
        onnx__model_proto__free_unpacked(m, &or_pb_allocator);
        or_pb_layout_free(&layout);
        return or_pb_err(errmsg, errlen, ONNXRUN_ERR_MODEL, "%s: the model has no graph", label);
    }
    or_graph *g = or_graph_new();
    if (!g) {
        onnx__model_proto__free_unpacked(m, &or_pb_allocator);
        or_pb_layout_free(&layout);
        return or_pb_err(errmsg, errlen, ONNXRUN_ERR_NOMEM, "%s: out of memory", label);
    }
    load_ctx c = {.g = g,
                  .model = m,
                  .graph = m->graph,
                  .model_dir = model_dir,
                  .buf = buf,
                  .layout = split == OR_SPLIT_OK ? &layout : NULL,
                  .flags = flags,
                  .stats = stats};
    int status = dup_opt(&g->model_path, model_path) ? load_graph(&c) : nomem(g);
    stats->released_bytes = c.released;
    onnx__model_proto__free_unpacked(m, &or_pb_allocator);
    or_pb_layout_free(&layout);
    if (status != ONNXRUN_OK) {
        finish_error(status, model_path, g->errmsg[0] ? g->errmsg : "load failed", errmsg, errlen);
        or_graph_free(g);
        return status;
    }
    if (errmsg && errlen) errmsg[0] = '\0';
    *out_graph = g;
    return ONNXRUN_OK;
}
