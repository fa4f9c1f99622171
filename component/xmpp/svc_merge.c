/* svc_merge: the shards' pages merged by key, their figures summed, the
 * partial answer's note, and the bus elements that carry them. */
#include "svc_merge.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "stanza.h"

static void row_free(gpointer p)
{
    svc_merge_row *r = p;

    g_free(r->key);
    g_strfreev(r->values);
    g_free(r);
}

svc_merge_page *svc_merge_page_new(guint count)
{
    svc_merge_page *p = g_new0(svc_merge_page, 1);

    p->rows = g_ptr_array_new_with_free_func(row_free);
    p->count = count;
    return p;
}

void svc_merge_page_free(svc_merge_page *p)
{
    if (!p)
        return;
    g_ptr_array_unref(p->rows);
    g_free(p);
}

void svc_merge_page_add(svc_merge_page *p, const char *key,
                        const char *const *values, guint n)
{
    svc_merge_row *r = g_new0(svc_merge_row, 1);

    r->key = g_strdup(key);
    r->values = g_new0(char *, n + 1);
    for (guint i = 0; i < n; i++)
        r->values[i] = g_strdup(values[i] ? values[i] : "");
    g_ptr_array_add(p->rows, r);
}

/* ---- the ask ---- */

static const char *const lists[] = {"public", "all"};

xmpp_stanza_t *svc_merge_ask_elem(xmpp_ctx_t *ctx, const svc_merge_ask *a)
{
    xmpp_stanza_t *el =
        stanza_elem(ctx, "page",
                    strcmp(a->list, "all") ? SVC_MERGE_NS : SVC_MERGE_NS_ADMIN);
    char max[16];

    g_snprintf(max, sizeof(max), "%u", a->max);
    xmpp_stanza_set_attribute(el, "list", a->list);
    xmpp_stanza_set_attribute(el, "max", max);
    if (a->after)
        xmpp_stanza_set_attribute(el, "after", a->after);
    if (a->before)
        xmpp_stanza_set_attribute(el, "before", a->before);
    return el;
}

void svc_merge_ask_clear(svc_merge_ask *a)
{
    g_free(a->after);
    g_free(a->before);
    *a = (svc_merge_ask){0};
}

/* A decimal number of at most cap into *out: 0 or -EINVAL. */
static int number(const char *text, guint64 cap, guint64 *out)
{
    return text && g_ascii_string_to_unsigned(text, 10, 0, cap, out, NULL)
               ? 0
               : -EINVAL;
}

/* A key as the list holds it: non-empty, at most SVC_MERGE_KEY_MAX bytes. */
static gboolean key_ok(const char *k)
{
    return k && *k && strlen(k) <= SVC_MERGE_KEY_MAX;
}

int svc_merge_ask_read(xmpp_stanza_t *el, guint max_cap, svc_merge_ask *a)
{
    const char *list = xmpp_stanza_get_attribute(el, "list");
    const char *after = xmpp_stanza_get_attribute(el, "after");
    const char *before = xmpp_stanza_get_attribute(el, "before");
    guint64 max;

    *a = (svc_merge_ask){0};
    for (gsize i = 0; list && i < G_N_ELEMENTS(lists); i++)
        if (!strcmp(list, lists[i]))
            a->list = lists[i];
    if (!a->list ||
        number(xmpp_stanza_get_attribute(el, "max"), max_cap, &max) < 0 ||
        (after && !key_ok(after)) || (before && *before && !key_ok(before)))
        return -EINVAL;
    a->max = (guint)max;
    a->after = g_strdup(after);
    a->before = g_strdup(before);
    return 0;
}

/* ---- the page ---- */

xmpp_stanza_t *svc_merge_page_elem(xmpp_ctx_t *ctx, const svc_merge_page *p)
{
    xmpp_stanza_t *el = stanza_elem(ctx, "page", SVC_MERGE_NS);
    char count[16];

    g_snprintf(count, sizeof(count), "%u", p->count);
    xmpp_stanza_set_attribute(el, "count", count);
    if (p->more)
        xmpp_stanza_set_attribute(el, "more", "1");
    for (guint i = 0; i < p->rows->len; i++) {
        const svc_merge_row *r = g_ptr_array_index(p->rows, i);
        xmpp_stanza_t *row = stanza_elem(ctx, "row", NULL);
        xmpp_stanza_set_attribute(row, "key", r->key);
        for (char **v = r->values; *v; v++)
            stanza_add_text(ctx, row, "v", *v);
        stanza_add(el, row);
    }
    return el;
}

/* The row element's values, at most SVC_MERGE_VALUES_MAX, into values (each
 * owned: xmpp_free'd by the caller); their number, or -EINVAL. */
static int row_values(xmpp_stanza_t *row, char **values)
{
    int n = 0;

    for (xmpp_stanza_t *c = xmpp_stanza_get_children(row); c;
         c = xmpp_stanza_get_next(c)) {
        if (!xmpp_stanza_is_tag(c))
            continue;
        if (n == SVC_MERGE_VALUES_MAX || strcmp(xmpp_stanza_get_name(c), "v"))
            return -EINVAL;
        values[n++] = xmpp_stanza_get_text(c);
    }
    return n;
}

int svc_merge_page_read(xmpp_stanza_t *el, guint max, svc_merge_page **out)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(el);
    svc_merge_page *p = NULL;
    const char *last = NULL;
    guint64 count;
    int rc = -EINVAL;

    *out = NULL;
    if (!stanza_is(el, "page", SVC_MERGE_NS) ||
        number(xmpp_stanza_get_attribute(el, "count"), G_MAXUINT, &count) < 0)
        return -EINVAL;
    p = svc_merge_page_new((guint)count);
    p->more = !g_strcmp0(xmpp_stanza_get_attribute(el, "more"), "1");
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(el); c;
         c = xmpp_stanza_get_next(c)) {
        const char *key = xmpp_stanza_get_attribute(c, "key");
        char *values[SVC_MERGE_VALUES_MAX] = {0};
        int n;
        if (!xmpp_stanza_is_tag(c))
            continue;
        if (p->rows->len == max || strcmp(xmpp_stanza_get_name(c), "row") ||
            !key_ok(key) || (last && strcmp(last, key) >= 0))
            goto leave;
        n = row_values(c, values);
        if (n >= 0)
            svc_merge_page_add(p, key, (const char *const *)values, (guint)n);
        for (int i = 0; i < SVC_MERGE_VALUES_MAX; i++)
            if (values[i])
                xmpp_free(ctx, values[i]);
        if (n < 0)
            goto leave;
        last = key;
    }
    *out = p;
    p = NULL;
    rc = 0;
leave:
    svc_merge_page_free(p);
    return rc;
}

/* ---- the merge ---- */

static svc_merge_row *row_at(svc_merge_page *const *pages, guint i, guint at)
{
    return g_ptr_array_index(pages[i]->rows, at);
}

svc_merge_page *svc_merge_pages(svc_merge_page *const *pages, guint n,
                                gboolean backward, guint max, gboolean *more)
{
    svc_merge_page *out = svc_merge_page_new(0);
    guint *next = g_new0(guint, n ? n : 1), left = 0;
    const char *bound = NULL; /* forward: nothing past it */

    for (guint i = 0; i < n; i++)
        if (pages[i]) {
            out->count = pages[i]->count > G_MAXUINT - out->count
                             ? G_MAXUINT
                             : out->count + pages[i]->count;
            /* backward: each page is read from its end */
            next[i] = backward ? pages[i]->rows->len : 0;
            if (!backward && pages[i]->more && pages[i]->rows->len) {
                const char *last =
                    row_at(pages, i, pages[i]->rows->len - 1)->key;
                if (!bound || strcmp(last, bound) < 0)
                    bound = last;
            }
            if (pages[i]->more)
                out->more = TRUE;
        }
    /* A k-way merge: the next row is the smallest (largest, backward) of
     * the pages' heads; n is the number of shards, a handful. */
    while (out->rows->len < max) {
        svc_merge_row *best = NULL;
        guint from = 0;
        for (guint i = 0; i < n; i++) {
            svc_merge_row *r;
            if (!pages[i] ||
                (backward ? next[i] == 0 : next[i] == pages[i]->rows->len))
                continue;
            r = row_at(pages, i, backward ? next[i] - 1 : next[i]);
            if (!best || (backward ? strcmp(r->key, best->key) > 0
                                   : strcmp(r->key, best->key) < 0)) {
                best = r;
                from = i;
            }
        }
        if (!best || (bound && strcmp(best->key, bound) > 0))
            break;
        next[from] += backward ? -1 : 1;
        svc_merge_page_add(out, best->key, (const char *const *)best->values,
                           g_strv_length(best->values));
    }
    for (guint i = 0; i < n; i++)
        if (pages[i])
            left += backward ? next[i] : pages[i]->rows->len - next[i];
    if (more)
        *more = out->more || left > 0;
    if (backward)
        for (guint i = 0; i < out->rows->len / 2; i++) {
            gpointer t = out->rows->pdata[i];
            out->rows->pdata[i] = out->rows->pdata[out->rows->len - 1 - i];
            out->rows->pdata[out->rows->len - 1 - i] = t;
        }
    g_free(next);
    return out;
}

/* ---- the figures ---- */

#define FIGURE(name)                                                           \
    {                                                                          \
#name, offsetof(svc_merge_figures, name)                               \
    }
static const struct {
    const char *attr;
    size_t off;
} figures[] = {
    FIGURE(groups), FIGURE(occupants), FIGURE(legacy_in),  FIGURE(members),
    FIGURE(online), FIGURE(accounts),  FIGURE(deliveries), FIGURE(notices),
    FIGURE(lag),    FIGURE(bytes),     FIGURE(map_bytes),
};
#undef FIGURE

static guint64 *figure(svc_merge_figures *f, gsize i)
{
    return (guint64 *)((char *)f + figures[i].off);
}

xmpp_stanza_t *svc_merge_figures_elem(xmpp_ctx_t *ctx,
                                      const svc_merge_figures *f)
{
    xmpp_stanza_t *el = stanza_elem(ctx, "figures", SVC_MERGE_NS);
    char text[24];

    for (gsize i = 0; i < G_N_ELEMENTS(figures); i++) {
        g_snprintf(text, sizeof(text), "%" G_GUINT64_FORMAT,
                   *figure((svc_merge_figures *)f, i));
        xmpp_stanza_set_attribute(el, figures[i].attr, text);
    }
    return el;
}

int svc_merge_figures_read(xmpp_stanza_t *el, svc_merge_figures *out)
{
    *out = (svc_merge_figures){0};
    if (!stanza_is(el, "figures", SVC_MERGE_NS))
        return -EINVAL;
    for (gsize i = 0; i < G_N_ELEMENTS(figures); i++)
        if (number(xmpp_stanza_get_attribute(el, figures[i].attr), G_MAXUINT64,
                   figure(out, i)) < 0)
            return -EINVAL;
    return 0;
}

void svc_merge_figures_add(svc_merge_figures *sum, const svc_merge_figures *f)
{
    for (gsize i = 0; i < G_N_ELEMENTS(figures); i++) {
        guint64 *s = figure(sum, i), v = *figure((svc_merge_figures *)f, i);
        *s = v > G_MAXUINT64 - *s ? G_MAXUINT64 : *s + v;
    }
}

/* ---- the note ---- */

/* "0, 1" appended to out: list[0..n). */
static void append_shards(GString *out, const guint *list, guint n)
{
    for (guint i = 0; i < n; i++)
        g_string_append_printf(out, "%s%u", i ? ", " : "", list[i]);
}

static gint compare_shards(gconstpointer a, gconstpointer b)
{
    guint x = *(const guint *)a, y = *(const guint *)b;

    return (x > y) - (x < y);
}

char *svc_merge_note(const guint *down_in, guint n_down, guint shards,
                     const char *what)
{
    GString *out;
    guint *up, *down, n_up = 0, d = 0;

    if (!n_down)
        return NULL;
    down = g_memdup2(down_in, n_down * sizeof(guint));
    qsort(down, n_down, sizeof(guint), compare_shards);
    up = g_new(guint, shards ? shards : 1);
    for (guint s = 0; s < shards; s++) {
        while (d < n_down && down[d] < s)
            d++;
        if (d == n_down || down[d] != s)
            up[n_up++] = s;
    }
    out = g_string_new(n_down == 1 ? "shard " : "shards ");
    append_shards(out, down, n_down);
    g_string_append_printf(out, " did not answer: %s %s for shard%s ", what,
                           strcmp(what, "figures") ? "is" : "are",
                           n_up == 1 ? "" : "s");
    append_shards(out, up, n_up);
    g_string_append_c(out, '.');
    g_free(down);
    g_free(up);
    return g_string_free(out, FALSE);
}
