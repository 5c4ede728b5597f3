/* Splitting a serialized ModelProto so that its initializers can be unpacked
 * one at a time (see or_pb_split_model in pb_internal.h).
 *
 * Only the wire format is read here: field numbers come from the generated
 * descriptors. The scan is deliberately stricter than protobuf-c (keys and
 * lengths of at most 5 bytes, no groups, the graph field exactly once, since
 * protobuf-c would merge repeated occurrences): anything it does not accept
 * makes the caller unpack the whole model as before, so that unusual but
 * valid files and corrupt ones behave exactly as they always did.
 */
#include "pb_internal.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct wire_field {
    uint32_t tag;
    int wire_type;
    size_t start;   /* the key's first byte */
    size_t key_end; /* after the key */
    size_t value;   /* a length-delimited field's payload (after its length) */
    size_t end;     /* after the field */
} wire_field;

static bool read_varint(const uint8_t *buf, size_t len, size_t *pos, int max_bytes, uint64_t *out) {
    uint64_t v = 0;
    for (int i = 0; i < max_bytes && *pos < len; i++) {
        uint8_t b = buf[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Reads the field at *pos; false when it is malformed or not one we handle. */
static bool next_field(const uint8_t *buf, size_t len, size_t *pos, wire_field *f) {
    uint64_t key, v;
    f->start = *pos;
    if (!read_varint(buf, len, pos, 5, &key) || key > UINT32_MAX || (key >> 3) == 0) return false;
    f->tag = (uint32_t)(key >> 3);
    f->wire_type = (int)(key & 7);
    f->key_end = f->value = *pos;
    switch (f->wire_type) {
    case 0:
        if (!read_varint(buf, len, pos, 10, &v)) return false;
        break;
    case 1:
        if (len - *pos < 8) return false;
        *pos += 8;
        break;
    case 5:
        if (len - *pos < 4) return false;
        *pos += 4;
        break;
    case 2:
        if (!read_varint(buf, len, pos, 5, &v) || v > INT32_MAX || v > len - *pos) return false;
        f->value = *pos;
        *pos += (size_t)v;
        break;
    default: /* groups and invalid wire types */
        return false;
    }
    f->end = *pos;
    return true;
}

static uint32_t field_id(const ProtobufCMessageDescriptor *desc, const char *name) {
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, name);
    return f ? f->id : 0;
}

static size_t put_varint(uint8_t *dst, uint64_t v) {
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        dst[n++] = b | (v ? 0x80 : 0);
    } while (v);
    return n;
}

/* Finds the single graph field of the model; false when absent, repeated,
 * not length-delimited or when the model is malformed. */
static bool find_graph(const uint8_t *buf, size_t len, wire_field *graph) {
    uint32_t id = field_id(&onnx__model_proto__descriptor, "graph");
    int found = 0;
    size_t pos = 0;
    while (pos < len) {
        wire_field f;
        if (!next_field(buf, len, &pos, &f)) return false;
        if (f.tag != id) continue;
        if (f.wire_type != 2 || found++) return false;
        *graph = f;
    }
    return found == 1 && id != 0;
}

/* Lists the graph's initializer entries (as spans of buf) in order. */
static int list_initializers(const uint8_t *buf, const wire_field *graph, or_pb_layout *out,
                             size_t *removed) {
    uint32_t id = field_id(&onnx__graph_proto__descriptor, "initializer");
    size_t pos = graph->value, cap = 0;
    *removed = 0;
    if (id == 0) return OR_SPLIT_FALLBACK;
    while (pos < graph->end) {
        wire_field f;
        if (!next_field(buf, graph->end, &pos, &f)) return OR_SPLIT_FALLBACK;
        if (f.tag != id) continue;
        if (f.wire_type != 2) return OR_SPLIT_FALLBACK;
        if (out->n_inits == cap) {
            cap = cap ? 2 * cap : 16;
            or_pb_span *grown = or_realloc(out->inits, cap * sizeof *grown);
            if (!grown) return OR_SPLIT_NOMEM;
            out->inits = grown;
        }
        out->inits[out->n_inits++] = (or_pb_span){f.start, f.value, f.end};
        *removed += f.end - f.start;
    }
    return OR_SPLIT_OK;
}

/* The model with the graph's initializer entries cut out. */
static int build_skeleton(const uint8_t *buf, size_t len, const wire_field *graph, size_t removed,
                          or_pb_layout *out) {
    size_t graph_len = graph->end - graph->value - removed;
    /* the new length varint is never longer than the old one */
    size_t total = len - removed;
    uint8_t *s = or_malloc(total ? total : 1);
    if (!s) return OR_SPLIT_NOMEM;
    size_t n = 0, pos = graph->value;
    memcpy(s, buf, graph->key_end);
    n = graph->key_end;
    n += put_varint(s + n, graph_len);
    for (size_t i = 0; i < out->n_inits; i++) {
        memcpy(s + n, buf + pos, out->inits[i].start - pos);
        n += out->inits[i].start - pos;
        pos = out->inits[i].end;
    }
    memcpy(s + n, buf + pos, len - pos);
    n += len - pos;
    out->skeleton = s;
    out->skeleton_len = n;
    return OR_SPLIT_OK;
}

int or_pb_split_model(const uint8_t *buf, size_t len, or_pb_layout *out) {
    memset(out, 0, sizeof *out);
    wire_field graph = {0};
    if (!buf || !find_graph(buf, len, &graph)) return OR_SPLIT_FALLBACK;
    size_t removed = 0;
    int status = list_initializers(buf, &graph, out, &removed);
    /* nothing to stream: the skeleton would only be a copy of the model */
    if (status == OR_SPLIT_OK && out->n_inits == 0) status = OR_SPLIT_FALLBACK;
    if (status == OR_SPLIT_OK) status = build_skeleton(buf, len, &graph, removed, out);
    if (status != OR_SPLIT_OK) or_pb_layout_free(out);
    return status;
}

void or_pb_layout_free(or_pb_layout *l) {
    or_free(l->skeleton);
    or_free(l->inits);
    memset(l, 0, sizeof *l);
}

bool or_pb_tensor_wire_ok(const uint8_t *buf, size_t len, const char **name, size_t *name_len) {
    uint32_t id = field_id(&onnx__tensor_proto__descriptor, "name");
    size_t pos = 0;
    *name = NULL;
    *name_len = 0;
    while (pos < len) {
        wire_field f;
        if (!next_field(buf, len, &pos, &f)) return false;
        if (f.tag == id && f.wire_type == 2) { /* the last one wins, as in protobuf */
            *name = (const char *)buf + f.value;
            *name_len = f.end - f.value;
        }
    }
    return true;
}

size_t or_pb_release_pages(const void *map, size_t done, size_t upto) {
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return done;
    size_t end = upto / (size_t)page * (size_t)page;
    if (end <= done) return done;
#ifdef MADV_DONTNEED
    /* A private, never written file mapping: the pages are only dropped from
     * this process (they would be read again from the file if touched). */
    if (madvise((uint8_t *)map + done, end - done, MADV_DONTNEED) != 0) return done;
    return end;
#else
    return done;
#endif
}

bool or_pb_find_raw_data(const uint8_t *buf, size_t len, or_pb_span *raw) {
    uint32_t id = field_id(&onnx__tensor_proto__descriptor, "raw_data");
    size_t pos = 0;
    int found = 0;
    while (pos < len) {
        wire_field f;
        if (!next_field(buf, len, &pos, &f)) return false;
        if (f.tag != id) continue;
        if (f.wire_type != 2 || found++) return false;
        *raw = (or_pb_span){f.start, f.value, f.end};
    }
    return found == 1 && id != 0;
}
