/* svc_merge: the service's answers of several shards made one (issue 14,
 * "the service as one", docs/cluster.md): keyed pages (the public groups,
 * the admins' group listing) merged in key order so that XEP-0059's after
 * and before page the merged list, figures summed, the note a partial
 * answer carries, and the elements that carry each over the shard bus.
 * Pure: no I/O, no store. */
#ifndef IMGROUPS_SVC_MERGE_H
#define IMGROUPS_SVC_MERGE_H

#include <glib.h>
#include <strophe.h>

/* The bus namespaces of the service's requests between shards: the public
 * groups' pages (service.c), and the admins' commands (component/admin/:
 * the listing of all groups, the figures, announce, a group's commands).
 * Every answer element is in SVC_MERGE_NS. */
#define SVC_MERGE_NS       "urn:imgroups:shard:service:0"
#define SVC_MERGE_NS_ADMIN "urn:imgroups:shard:admin:0"
/* Values of one row at most; a key is at most this many bytes (the store's
 * group key, STORE_GROUP_MAX). */
#define SVC_MERGE_VALUES_MAX 8
#define SVC_MERGE_KEY_MAX    128

/* One row: its key (a group's localpart, the order of the list) and its
 * values (a NULL-terminated GStrv: the disco item's name, or a listing's
 * columns). */
typedef struct svc_merge_row {
    char *key;
    char **values;
} svc_merge_row;

/* A page of rows in increasing key order, and how many rows its list holds
 * in all (XEP-0059's count). */
typedef struct svc_merge_page {
    GPtrArray *rows; /* svc_merge_row *, owned */
    guint count;
    /* Going forward: rows past the last one exist but were left out of
     * the page (a byte budget cut it before max); the merge then ends at
     * this page's last row. */
    gboolean more;
} svc_merge_page;

/* A new empty page of a list of count rows; caller owns it
 * (svc_merge_page_free). */
svc_merge_page *svc_merge_page_new(guint count);
void svc_merge_page_free(svc_merge_page *p);
/* Appends a row: key and values[0..n) copied. */
void svc_merge_page_add(svc_merge_page *p, const char *key,
                        const char *const *values, guint n);

/* What a page asks of a shard, and what a shard answers: */
typedef struct svc_merge_ask {
    const char *list; /* which list: "public" or "all" (borrowed) */
    char *after;      /* NULL: from the first */
    char *before;     /* NULL: forward; "": the last page */
    guint max;
} svc_merge_ask;

/* <page list='' max='' [after=''] [before='']/>, in SVC_MERGE_NS for the
 * list "public", SVC_MERGE_NS_ADMIN for "all"; caller owns it. */
xmpp_stanza_t *svc_merge_ask_elem(xmpp_ctx_t *ctx, const svc_merge_ask *a);
/* Reads such an element into *a (after and before owned: g_free; list
 * points at a static string). Bounded where it enters: max at most
 * max_cap, after and before at most SVC_MERGE_KEY_MAX bytes, list one of
 * the two. Returns 0 or -EINVAL (*a then holds nothing owned). */
int svc_merge_ask_read(xmpp_stanza_t *el, guint max_cap, svc_merge_ask *a);
void svc_merge_ask_clear(svc_merge_ask *a);

/* <page xmlns=SVC_MERGE_NS count='' [more='1']><row key=''><v>..</v>..</row>
 * ..</page>; caller owns it. */
xmpp_stanza_t *svc_merge_page_elem(xmpp_ctx_t *ctx, const svc_merge_page *p);
/* Reads a shard's answer, checked as hostile: at most max rows, keys
 * non-empty, at most SVC_MERGE_KEY_MAX bytes and strictly increasing, at
 * most SVC_MERGE_VALUES_MAX values a row. Returns 0 with *out (caller
 * owns), or -EINVAL. */
int svc_merge_page_read(xmpp_stanza_t *el, guint max, svc_merge_page **out);

/* The merged page of pages[0..n) (NULL entries, the shards that did not
 * answer, are skipped): going forward, the max smallest keys; backward,
 * the max largest; in key order either way; count is the sum. Each page
 * must hold the rows of its shard after (before) the same cursor, at most
 * max: then the merged page is the page of the merged list. Going
 * forward, it ends at the smallest last row of the pages with more set
 * (what sorts after it may not have been seen). *more is set when a page
 * had more or the merge left rows out (may be NULL). Rows are
 * copied; caller owns the result. */
svc_merge_page *svc_merge_pages(svc_merge_page *const *pages, guint n,
                                gboolean backward, guint max, gboolean *more);

/* The service's figures, one shard's or summed. */
typedef struct svc_merge_figures {
    guint64 groups, occupants, legacy_in, members, online, accounts, deliveries,
        notices, lag, bytes, map_bytes;
} svc_merge_figures;

/* <figures xmlns=SVC_MERGE_NS groups='' .../>; caller owns it. */
xmpp_stanza_t *svc_merge_figures_elem(xmpp_ctx_t *ctx,
                                      const svc_merge_figures *f);
/* Reads one: every figure present and a decimal number. 0 or -EINVAL. */
int svc_merge_figures_read(xmpp_stanza_t *el, svc_merge_figures *out);
/* sum += f, figure by figure (saturating). */
void svc_merge_figures_add(svc_merge_figures *sum, const svc_merge_figures *f);

/* The note of a partial answer: "shard 2 did not answer: figures are for
 * shards 0, 1." (what: "figures", "the list", ...), for down[0..n_down)
 * (any order) of shards shards; NULL when n_down is 0. g_free. */
char *svc_merge_note(const guint *down, guint n_down, guint shards,
                     const char *what);

#endif
