/* protocol: framing and checking of the core–worker messages. */
#include "protocol.h"

#include <string.h>

#define FRAME_TYPE G_VARIANT_TYPE("(uv)")

G_DEFINE_QUARK(imgroups - protocol - error - quark, proto_error)

static const struct {
    const char *name;
    const char *type;
} table[PROTO_TYPE_COUNT] = {
#define PROTO_ROW(e, name, type) [e] = {name, type},
    PROTO_MESSAGES(PROTO_ROW)
#undef PROTO_ROW
};

const char *proto_name(enum proto_type t)
{
    return t < PROTO_TYPE_COUNT ? table[t].name : "?";
}

const GVariantType *proto_body_type(enum proto_type t)
{
    return G_VARIANT_TYPE(table[t].type);
}

GBytes *proto_encode(enum proto_type t, GVariant *body, GError **err)
{
    GVariant *frame = NULL;
    GByteArray *out = NULL;
    gsize size;
    guint32 be;

    g_variant_ref_sink(body);
    if (t >= PROTO_TYPE_COUNT ||
        !g_variant_is_of_type(body, proto_body_type(t))) {
        g_set_error(err, PROTO_ERROR, 0, "%s: body of type %s, not %s",
                    proto_name(t), g_variant_get_type_string(body),
                    t < PROTO_TYPE_COUNT ? table[t].type : "?");
        g_variant_unref(body);
        return NULL;
    }
    frame = g_variant_ref_sink(g_variant_new("(uv)", (guint32)t, body));
    g_variant_unref(body);
    size = g_variant_get_size(frame);
    if (size > PROTO_FRAME_MAX) {
        g_set_error(err, PROTO_ERROR, 0, "%s: frame of %zu bytes is over %d",
                    proto_name(t), size, PROTO_FRAME_MAX);
        g_variant_unref(frame);
        return NULL;
    }
    out = g_byte_array_sized_new(4 + size);
    be = GUINT32_TO_BE((guint32)size);
    g_byte_array_append(out, (const guint8 *)&be, 4);
    /* g_variant_get_data serialises into aligned memory of its own. */
    g_byte_array_append(out, g_variant_get_data(frame), (guint)size);
    g_variant_unref(frame);
    return g_byte_array_free_to_bytes(out);
}

struct proto_reader {
    GByteArray *buf;
};

proto_reader *proto_reader_new(void)
{
    proto_reader *r = g_new0(proto_reader, 1);

    r->buf = g_byte_array_new();
    return r;
}

void proto_reader_free(proto_reader *r)
{
    if (!r)
        return;
    g_byte_array_unref(r->buf);
    g_free(r);
}

void proto_reader_feed(proto_reader *r, const void *data, gsize len)
{
    g_byte_array_append(r->buf, data, (guint)len);
}

int proto_reader_next(proto_reader *r, enum proto_type *t, GVariant **body,
                      GError **err)
{
    guint32 be, size, type;
    GBytes *bytes;
    GVariant *frame, *inner;

    *body = NULL;
    if (r->buf->len < 4)
        return 0;
    memcpy(&be, r->buf->data, 4);
    size = GUINT32_FROM_BE(be);
    if (size > PROTO_FRAME_MAX) {
        g_set_error(err, PROTO_ERROR, 0, "a frame of %u bytes is over %d", size,
                    PROTO_FRAME_MAX);
        return -1;
    }
    if (r->buf->len - 4 < size)
        return 0;
    /* A copy, so the value is aligned and outlives the buffer. */
    bytes = g_bytes_new(r->buf->data + 4, size);
    g_byte_array_remove_range(r->buf, 0, 4 + size);
    frame =
        g_variant_ref_sink(g_variant_new_from_bytes(FRAME_TYPE, bytes, FALSE));
    g_bytes_unref(bytes);
    if (!g_variant_is_normal_form(frame)) {
        g_set_error(err, PROTO_ERROR, 0, "a malformed frame (%u bytes)", size);
        g_variant_unref(frame);
        return -1;
    }
    g_variant_get(frame, "(uv)", &type, &inner);
    g_variant_unref(frame);
    if (type >= PROTO_TYPE_COUNT) {
        g_set_error(err, PROTO_ERROR, 0, "unknown message type %u", type);
        g_variant_unref(inner);
        return -1;
    }
    if (!g_variant_is_of_type(inner, proto_body_type(type))) {
        g_set_error(err, PROTO_ERROR, 0, "%s with a body of type %s",
                    proto_name(type), g_variant_get_type_string(inner));
        g_variant_unref(inner);
        return -1;
    }
    *t = (enum proto_type)type;
    *body = inner;
    return 1;
}
