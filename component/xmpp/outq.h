/* outq: what the component link has to write, in order: whole stanzas,
 * fanned-out copies that share one serialised text, and stream framing.
 * Bounded while the link is down (queue_max stanzas, the oldest dropped);
 * written with one sendmsg() of up to IOV_MAX pieces while it is up. */
#ifndef IMGROUPS_OUTQ_H
#define IMGROUPS_OUTQ_H

#include <glib.h>

typedef struct outq outq;

/* queue_max: stanzas kept while not live (0: none). Free with outq_free. */
outq *outq_new(guint queue_max);
void outq_free(outq *q);

/* Live: the stream is up, stanzas may be written. While not live only
 * framing is written, and stanzas wait behind it, bounded. */
void outq_set_live(outq *q, gboolean live);

/* Stream framing (header, handshake, errors, closing tag): not a stanza,
 * never kept across a reconnect. While not live it goes before the waiting
 * stanzas, after framing already queued. text is copied. */
void outq_push_frame(outq *q, const char *text);

/* The shared text of a fanned-out stanza: everything but the recipient,
 * which each copy puts at one place (the value of 'to'). Counted
 * references, for the main loop's thread only. */
typedef struct outq_text outq_text;

/* Copies len bytes of text; the recipient goes at offset at (0..len).
 * The caller owns the result (outq_text_unref). */
outq_text *outq_text_new(const char *text, gsize len, gsize at);
outq_text *outq_text_ref(outq_text *t);
void outq_text_unref(outq_text *t);
/* Bytes of the text without a recipient. */
gsize outq_text_len(const outq_text *t);


/* A whole stanza. Takes text. While not live, past queue_max the oldest
 * stanza goes (a warning the first time). */
void outq_push_stanza(outq *q, GBytes *text);

/* A copy of t to one recipient: to (borrowed; escaped here for a
 * double-quoted attribute value) at t's place. One allocation per copy;
 * takes a reference on t. Dropped like outq_push_stanza. */
void outq_push_copy(outq *q, outq_text *t, const char *to);

/* Whether something may be written now. */
gboolean outq_writable(const outq *q);

/* Writes what fd takes without blocking. Returns 0, or -1 with errno set
 * when the socket is broken. */
int outq_write(outq *q, int fd);

/* Drops everything queued after the first keep items (a turn whose writes
 * did not become durable); returns how many went. */
guint outq_withdraw_after(outq *q, guint keep);

/* After the link dropped: framing goes, stanzas stay, each whole again;
 * past queue_max the oldest go. Returns the stanzas kept. */
guint outq_reset(outq *q);

guint outq_length(const outq *q);  /* items, framing included */
guint outq_stanzas(const outq *q); /* stanzas only */
gsize outq_bytes(const outq *q);   /* bytes still to write */
/* Stanzas dropped since the last call; resets the count. */
guint outq_take_dropped(outq *q);
guint outq_queue_max(const outq *q);

#endif
