/* fuzz_msnpic: libFuzzer target for the MSN plugin's display picture
 * formats (transports/msn/msnobj.c, p2p.c): the first byte picks what the
 * rest is read as: an MSN object's text, a P2P message (header, data,
 * footer) whose data is then read as MSNSLP, or MSNSLP text itself. */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "msnobj.h"
#include "p2p.h"

static void use_slp(const char *text, gsize len)
{
    p2p_slp slp;
    char kind[16];

    if (p2p_slp_parse(text, len, &slp) != 0)
        return;
    p2p_slp_kind(&slp, kind, sizeof kind);
    (void)g_hash_table_lookup(slp.heads, "call-id");
    (void)g_hash_table_lookup(slp.body, "context");
    p2p_slp_free(&slp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;
    p2p_header h, ack;
    const guchar *body;
    guint32 footer;
    msnobj o;

    if (size == 0)
        return 0;
    switch (data[0] % 3) {
    case 0:
        text = g_strndup((const char *)data + 1, size - 1);
        if (msnobj_parse(text, &o) == 0)
            msnobj_clear(&o);
        g_free(text);
        break;
    case 1:
        if (p2p_parse(data + 1, size - 1, &h, &body, &footer) == 0) {
            p2p_ack_of(&h, 1, &ack);
            if (h.session == 0)
                use_slp((const char *)body, h.length);
        }
        break;
    default:
        use_slp((const char *)data + 1, size - 1);
        break;
    }
    return 0;
}
