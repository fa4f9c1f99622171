/* p2p: MSNP2P (MSNC1) messages, what application/x-msnmsgrp2p switchboard
 * MSGs carry after their MIME headers: a 48-byte binary header (little
 * endian), the data, and a 4-byte footer (big endian: the application,
 * 0 for MSNSLP, 1 for display pictures). And MSNSLP, the SIP-like text
 * that session 0 carries (INVITE, 200 OK, 603 Decline, BYE). Pure: bytes
 * in, values out; no libpurple. */
#ifndef P2P_H
#define P2P_H

#include <glib.h>

#define P2P_HEADER_LEN 48
#define P2P_FOOTER_LEN 4
/* Data bytes in one message: what fits a 1664-byte switchboard payload
 * after the MIME headers (MSN Messenger sends 1202). */
#define P2P_CHUNK_MAX 1202

/* Flags. */
#define P2P_FLAG_ACK  0x2
#define P2P_FLAG_DATA 0x20 /* display picture (MSN object) data */

/* The application in the footer. */
#define P2P_APP_SLP     0
#define P2P_APP_PICTURE 1

/* The display picture's EUF-GUID in an INVITE. */
#define P2P_EUF_PICTURE "{A4268EEC-FEC5-49E5-95C3-F126696BDBF6}"

/* The longest MSNSLP message taken, in bytes. */
#define P2P_SLP_MAX 8192

typedef struct p2p_header {
    guint32 session;
    guint32 id;
    guint64 offset;
    guint64 total;
    guint32 length; /* data bytes in this message */
    guint32 flags;
    guint32 ack_session;
    guint32 ack_id;
    guint64 ack_size;
} p2p_header;

/* Parses one message of len bytes: 0, with *h, *data (borrowed from buf,
 * h->length bytes) and *footer; -1 when it is shorter than header and
 * footer, when its length field does not match, or when offset and length
 * pass the total. */
int p2p_parse(const guchar *buf, gsize len, p2p_header *h, const guchar **data,
              guint32 *footer);

/* Appends the header h, h->length bytes of data and the footer to out. */
void p2p_build(GByteArray *out, const p2p_header *h, const guchar *data,
               guint32 footer);

/* The acknowledgement of the message whose header is got: its session,
 * id mine, total and ack fields from got. */
void p2p_ack_of(const p2p_header *got, guint32 mine, p2p_header *ack);

/* A parsed MSNSLP message: its start line, headers and body (itself
 * header lines). Free with p2p_slp_free(). */
typedef struct p2p_slp {
    char *start; /* "INVITE MSNMSGR:… MSNSLP/1.0" or "MSNSLP/1.0 200 OK" */
    GHashTable *heads; /* lower-cased name → value, the message's headers */
    GHashTable *body;  /* lower-cased name → value, the body's lines */
} p2p_slp;

/* 0, or -1 when text (len bytes, NUL-padded or not) is over P2P_SLP_MAX
 * or has no start line. */
int p2p_slp_parse(const char *text, gsize len, p2p_slp *out);
void p2p_slp_free(p2p_slp *slp);

/* The method (INVITE, BYE, ACK) or the status code as text ("200",
 * "603") of slp, in buf. */
void p2p_slp_kind(const p2p_slp *slp, char *buf, gsize size);

/* An MSNSLP message: start line, To/From, the Via branch, CSeq, Call-ID,
 * content type and body (header lines, with the final blank line), and
 * the NUL MSN Messenger ends it with. Caller g_free()s; *len set. */
char *p2p_slp_build(const char *start, const char *to, const char *from,
                    const char *branch, int cseq, const char *call_id,
                    const char *content_type, const char *body, gsize *len);

/* A new {GUID} in upper case, from rand. Caller g_free()s. */
char *p2p_guid(GRand *rand);

#endif
