/* xmltext: stanzas written straight to text, without a libstrophe tree:
 * the fast path's serialiser (room messages, history, MAM results), whose
 * output a fan-out sends to many with only the recipient changed. */
#ifndef IMGROUPS_XMLTEXT_H
#define IMGROUPS_XMLTEXT_H

#include <glib.h>

/* Appends s (NUL-terminated) escaped for XML character data or a
 * double-quoted attribute value: & < > " ' as entities. */
void xmltext_escape(GString *b, const char *s);

/* The entity c is written as (& < > " ': the five of XML), or NULL when c
 * stands for itself. The one escaping table of the tree. */
const char *xmltext_entity(char c);

/* Bytes len bytes of s take once escaped: the measure the input limits
 * (stream.c) and the output queue (outq.c) use. */
gsize xmltext_escaped_len(const char *s, gsize len);

/* Appends <name, and xmlns="ns" when ns is not NULL. Close the start tag
 * with xmltext_end (">") or xmltext_end_empty ("/>"). */
void xmltext_open(GString *b, const char *name, const char *ns);

/* Appends name="value" (escaped); nothing when value is NULL. */
void xmltext_attr(GString *b, const char *name, const char *value);

void xmltext_end(GString *b);
void xmltext_end_empty(GString *b);

/* Appends </name>. */
void xmltext_close(GString *b, const char *name);

/* Appends <name xmlns="ns">text</name> (ns may be NULL); nothing when
 * text is NULL. */
void xmltext_child(GString *b, const char *name, const char *ns,
                   const char *text);

#endif
