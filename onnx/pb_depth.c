/* A pre-pass over the protobuf wire format that bounds message nesting.
 *
 * protobuf-c unpacks sub-messages recursively with no depth limit, and ONNX's
 * schema is recursive (AttributeProto -> GraphProto -> NodeProto ->
 * AttributeProto, TypeProto -> TypeProto), so a small hostile file could
 * overflow the stack. This walk follows only length-delimited fields that the
 * descriptor says are messages; it visits every byte once and recurses at
 * most max_depth levels. Anything malformed is left for protobuf-c to reject.
 */
#include "pb_internal.h"

static bool read_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out) {
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && *pos < len; shift += 7) {
        uint8_t b = buf[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Returns false only when nesting exceeds the limit. */
static bool walk(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                 int depth_left) {
    if (depth_left < 0) return false;
    size_t pos = 0;
    while (pos < len) {
        uint64_t key, value;
        if (!read_varint(buf, len, &pos, &key)) return true;
        switch (key & 7) {
        case 0:
            if (!read_varint(buf, len, &pos, &value)) return true;
            break;
        case 1:
            if (len - pos < 8) return true;
            pos += 8;
            break;
        case 5:
            if (len - pos < 4) return true;
            pos += 4;
            break;
        case 2: {
            if (!read_varint(buf, len, &pos, &value) || value > len - pos) return true;
            uint64_t tag = key >> 3;
            const ProtobufCFieldDescriptor *field =
                tag <= 0x1fffffff && desc
                    ? protobuf_c_message_descriptor_get_field(desc, (unsigned)tag)
                    : NULL;
            if (field && field->type == PROTOBUF_C_TYPE_MESSAGE &&
                !walk(field->descriptor, buf + pos, (size_t)value, depth_left - 1))
                return false;
            pos += (size_t)value;
            break;
        }
        default: /* groups: protobuf-c rejects them */
            return true;
        }
    }
    return true;
}

bool or_pb_depth_ok(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                    int max_depth) {
    if (!buf) return true;
    return walk(desc, buf, len, max_depth);
}
