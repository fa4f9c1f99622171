/* fuzz_ymsg: libFuzzer target for the YMSG packet parser
 * (transports/yahoo/ymsg.c): whole-buffer decoding, the stream reader fed
 * in pieces, the encode/decode round trip, the text helpers on every
 * value, and the conference and cookie readers (yconf.c, ycookie.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "yconf.h"
#include "ycookie.h"
#include "ymsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decoding what encoding made gives the same packet back. */
static void check_round_trip(const ymsg_pkt *pkt, gsize used)
{
    GByteArray *bytes = g_byte_array_new();
    ymsg_pkt *back = NULL;
    gsize back_used = 0;
    int rc = ymsg_encode(pkt, bytes);

    if (rc == YMSG_ETOOLONG) {
        /* Normalising (trailing separators, a last value) can add up to
         * four bytes to a payload already at the limit. */
        if (used + 4 <= YMSG_HEADER_SIZE + YMSG_MAX_PAYLOAD)
            abort();
        g_byte_array_unref(bytes);
        return;
    }
    if (rc != 0)
        abort();
    if (ymsg_decode(bytes->data, bytes->len, &back_used, &back) != 1 ||
        back_used != bytes->len)
        abort();
    if (back->service != pkt->service || back->status != pkt->status ||
        back->session != pkt->session || back->version != pkt->version ||
        back->vendor != pkt->vendor || back->pairs->len != pkt->pairs->len)
        abort();
    for (guint i = 0; i < pkt->pairs->len; i++) {
        const ymsg_pair *a = ymsg_pkt_pair(pkt, i), *b = ymsg_pkt_pair(back, i);

        if (a->key != b->key || a->len != b->len ||
            memcmp(a->value, b->value, a->len) != 0)
            abort();
    }
    ymsg_pkt_free(back);
    g_byte_array_unref(bytes);
}

static void check_text(const ymsg_pkt *pkt)
{
    for (guint i = 0; i < pkt->pairs->len; i++) {
        char *utf8 = ymsg_text_to_utf8(ymsg_pkt_pair(pkt, i)->value);
        char *plain = ymsg_text_strip(utf8);

        if (!g_utf8_validate(utf8, -1, NULL) ||
            !g_utf8_validate(plain, -1, NULL) || strlen(plain) > strlen(utf8))
            abort();
        g_free(plain);
        g_free(utf8);
    }
    (void)ymsg_service_name(pkt->service);
}

/* The plugin's readers of what a packet carries: conference packets (read
 * as each conference service), cookies, within their bounds. */
static void check_readers(ymsg_pkt *pkt)
{
    static const guint16 conf[] = {YMSG_CONFINVITE, YMSG_CONFLOGON,
                                   YMSG_CONFMSG};
    guint16 service = pkt->service;
    yconf_msg m;

    for (gsize i = 0; i < G_N_ELEMENTS(conf); i++) {
        pkt->service = conf[i];
        if (yconf_read(pkt, &m) == 0 &&
            (!yconf_room_ok(m.room) || m.members->len > YCONF_MEMBERS_MAX))
            abort();
        yconf_msg_clear(&m);
    }
    pkt->service = service;
    for (guint i = 0; i < pkt->pairs->len; i++) {
        char which, *value = NULL;

        if (ycookie_parse(ymsg_pkt_pair(pkt, i)->value, &which, &value) == 0 &&
            !ycookie_valid(value))
            abort();
        g_free(value);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gsize off = 0, used = 0;
    guint whole = 0, pieces = 0;
    ymsg_reader *r;
    ymsg_pkt *pkt;
    int rc;

    /* The whole buffer at once. */
    while (off < size) {
        rc = ymsg_decode(data + off, size - off, &used, &pkt);
        if (rc == 1) {
            check_round_trip(pkt, used);
            check_text(pkt);
            check_readers(pkt);
            ymsg_pkt_free(pkt);
            whole++;
        } else if (rc != YMSG_EPAYLOAD) {
            break;
        }
        off += used;
    }

    /* The same bytes through the reader, in pieces of 1 to 8 bytes whose
     * sizes the data itself picks: the same packets come out. */
    r = ymsg_reader_new();
    for (gsize i = 0; i < size;) {
        gsize n = MIN((gsize)(data[i] % 8) + 1, size - i);

        ymsg_reader_feed(r, data + i, n);
        i += n;
        while ((rc = ymsg_reader_next(r, &pkt)) != YMSG_AGAIN &&
               rc != YMSG_EMAGIC) {
            if (rc == 1) {
                ymsg_pkt_free(pkt);
                pieces++;
            }
        }
        if (rc == YMSG_EMAGIC)
            break;
    }
    ymsg_reader_free(r);
    if (pieces != whole)
        abort();
    return 0;
}
