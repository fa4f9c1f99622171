/* ymsg: the YMSG wire format (20-byte header, key/value payload), a
 * stream reader that cuts packets out of received bytes, and the text
 * conventions of message bodies. Pure: no libpurple, no I/O; bytes in,
 * packets out. */
#ifndef IMGROUPS_YMSG_H
#define IMGROUPS_YMSG_H

#include <glib.h>

/* "YMSG", version, vendor, payload length, service, status, session. */
#define YMSG_HEADER_SIZE 20
/* The length field is 16 bits: no payload can be longer. */
#define YMSG_MAX_PAYLOAD 0xFFFF
/* The dialect spoken: YMSG10. */
#define YMSG_VERSION 10

enum ymsg_service {
    YMSG_LOGON = 0x01,
    YMSG_LOGOFF = 0x02,
    YMSG_ISAWAY = 0x03,
    YMSG_ISBACK = 0x04,
    YMSG_MESSAGE = 0x06,
    YMSG_NEWCONTACT = 0x0F,
    YMSG_PINGCONF = 0x12,
    YMSG_CONFINVITE = 0x18,
    YMSG_CONFLOGON = 0x19,
    YMSG_CONFDECLINE = 0x1A,
    YMSG_CONFLOGOFF = 0x1B,
    YMSG_CONFADDINVITE = 0x1C,
    YMSG_CONFMSG = 0x1D,
    YMSG_NOTIFY = 0x4B,
    YMSG_VERIFY = 0x4C,
    YMSG_AUTHRESP = 0x54,
    YMSG_LIST = 0x55,
    YMSG_AUTH = 0x57,
    YMSG_FRIENDADD = 0x83,
    YMSG_FRIENDREMOVE = 0x84,
    YMSG_REJECTCONTACT = 0x86,
    YMSG_PING = 0x8A,
    YMSG_PICTURE_CHECKSUM = 0xBD,
    YMSG_PICTURE = 0xBE,
    YMSG_PICTURE_UPDATE = 0xC1,
    YMSG_PICTURE_UPLOAD = 0xC2,
};

/* Header status values with a meaning of their own. */
#define YMSG_ST_SERVER 1u /* a push from the server */
#define YMSG_ST_ADDED  3u /* NEWCONTACT: somebody added you */
#define YMSG_ST_MORE                                                           \
    5u                              /* LIST: more chunks follow; MESSAGE:      \
                                       offline messages */
#define YMSG_ST_MESSAGE 0x5A55AA56u /* what clients put on a MESSAGE */
#define YMSG_ST_FAILED  0xFFFFFFFFu /* AUTHRESP: login refused */

/* Decoding results other than a packet. */
enum {
    YMSG_AGAIN = 0,      /* more bytes needed; nothing consumed */
    YMSG_EMAGIC = -1,    /* not a YMSG header: the stream is lost */
    YMSG_EPAYLOAD = -2,  /* a malformed payload: that packet is skipped,
                            the stream goes on */
    YMSG_ETOOLONG = -3,  /* encoding: payload over YMSG_MAX_PAYLOAD */
    YMSG_ESEPARATOR = -4 /* encoding: a value holds the separator */
};

typedef struct {
    int key;
    char *value; /* owned, NUL-terminated; len bytes before the NUL */
    gsize len;
} ymsg_pair;

typedef struct {
    guint16 version, vendor, service;
    guint32 status, session;
    GArray *pairs; /* ymsg_pair, in wire order */
} ymsg_pkt;

/* A new packet with no pairs; version YMSG_VERSION, vendor 0. Free with
 * ymsg_pkt_free(). */
ymsg_pkt *ymsg_pkt_new(guint16 service, guint32 status, guint32 session);
void ymsg_pkt_free(ymsg_pkt *pkt);

/* Appends a pair; value is copied (NULL counts as ""). */
void ymsg_pkt_add(ymsg_pkt *pkt, int key, const char *value);
void ymsg_pkt_add_int(ymsg_pkt *pkt, int key, gint64 value);

/* The first value for key, borrowed until pkt is freed; NULL if absent. */
const char *ymsg_pkt_get(const ymsg_pkt *pkt, int key);
/* The first value for key as an integer; def if absent or not a number. */
gint64 ymsg_pkt_get_int(const ymsg_pkt *pkt, int key, gint64 def);
/* The i-th pair, borrowed. */
#define ymsg_pkt_pair(pkt, i) (&g_array_index((pkt)->pairs, ymsg_pair, (i)))

/* Appends pkt's bytes to out. Returns 0, YMSG_ETOOLONG or
 * YMSG_ESEPARATOR (out unchanged then). */
int ymsg_encode(const ymsg_pkt *pkt, GByteArray *out);

/* Decodes the packet at the start of buf[0..len). Returns 1 with *pkt
 * (caller frees) and *used; YMSG_AGAIN when buf holds less than a whole
 * packet (nothing is allocated, whatever the length field claims);
 * YMSG_EPAYLOAD with *used set past the bad packet; YMSG_EMAGIC. */
int ymsg_decode(const guint8 *buf, gsize len, gsize *used, ymsg_pkt **pkt);

/* Cuts packets out of a byte stream fed in arbitrary pieces. It holds at
 * most one unfinished packet (≤ YMSG_HEADER_SIZE + YMSG_MAX_PAYLOAD bytes)
 * beyond the last piece fed. */
typedef struct ymsg_reader ymsg_reader;

ymsg_reader *ymsg_reader_new(void);
void ymsg_reader_free(ymsg_reader *r);
/* Copies len bytes in. */
void ymsg_reader_feed(ymsg_reader *r, const guint8 *data, gsize len);
/* The next whole packet: as ymsg_decode(), consuming what it decoded or
 * skipped. After YMSG_EMAGIC the reader stays failed. */
int ymsg_reader_next(ymsg_reader *r, ymsg_pkt **pkt);

/* A message body as UTF-8: value as is when it is valid UTF-8 (what key
 * 97 = 1 promises), else read as Windows-1252, what old clients send
 * unflagged. Always valid UTF-8; caller frees. */
char *ymsg_text_to_utf8(const char *value);

/* Plain text from Yahoo's formatting: drops the ESC '[' … 'm' colour and
 * style codes and the <font>, <fade>, <alt>, <b>, <i>, <u>, <s> tags
 * (closing ones too); any other '<' is text. Caller frees. */
char *ymsg_text_strip(const char *text);

/* The service's name ("MESSAGE"), or NULL for one this module does not
 * know. */
const char *ymsg_service_name(guint16 service);

#endif
