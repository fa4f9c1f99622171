/* test_svc_merge: the shards' answers of the service made one
 * (component/xmpp/svc_merge.c): pages merged by key so that after and
 * before page the merged list, a shard down, figures summed, the partial
 * note, and the bus elements read as hostile input. */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "svc_merge.h"

static xmpp_ctx_t *ctx;

/* Three shards' public groups, names interleaved. */
static const char *const shard_keys[3][6] = {
    {"alpha", "delta", "golf", "juliet", "mike", NULL},
    {"bravo", "echo", "hotel", "kilo", NULL},
    {"charlie", "foxtrot", "india", "lima", "november", "oscar"},
};

/* The page shard s would answer: at most max keys after `after` (before
 * `before`; "": the last), with its count, as directory_page_near reads. */
static svc_merge_page *shard_page(guint s, const char *after,
                                  const char *before, guint max)
{
    GPtrArray *keys = g_ptr_array_new();
    svc_merge_page *p;
    guint first, n;

    for (guint i = 0; i < 6 && shard_keys[s][i]; i++)
        if (before ? !*before || strcmp(shard_keys[s][i], before) < 0
                   : !after || strcmp(shard_keys[s][i], after) > 0)
            g_ptr_array_add(keys, (gpointer)shard_keys[s][i]);
    p = svc_merge_page_new(0);
    for (guint i = 0; i < 6 && shard_keys[s][i]; i++)
        p->count++;
    n = MIN(max, keys->len);
    first = before ? keys->len - n : 0;
    for (guint i = first; i < first + n; i++) {
        const char *name = g_ptr_array_index(keys, i);
        svc_merge_page_add(p, name, &name, 1);
    }
    g_ptr_array_unref(keys);
    return p;
}

/* The merged page as "a b c", shards listed in down[] left out. */
static char *merged(const char *after, const char *before, guint max,
                    gboolean down1, guint *count)
{
    svc_merge_page *pages[3], *m;
    GString *out = g_string_new(NULL);

    for (guint s = 0; s < 3; s++)
        pages[s] = down1 && s == 1 ? NULL : shard_page(s, after, before, max);
    m = svc_merge_pages(pages, 3, before != NULL, max, NULL);
    for (guint i = 0; i < m->rows->len; i++) {
        const svc_merge_row *r = g_ptr_array_index(m->rows, i);
        g_assert_cmpstr(r->values[0], ==, r->key);
        g_string_append_printf(out, "%s%s", i ? " " : "", r->key);
    }
    *count = m->count;
    svc_merge_page_free(m);
    for (guint s = 0; s < 3; s++)
        svc_merge_page_free(pages[s]);
    return g_string_free(out, FALSE);
}

static void check(const char *after, const char *before, guint max,
                  gboolean down1, const char *want, guint want_count)
{
    guint count = 0;
    char *got = merged(after, before, max, down1, &count);

    g_assert_cmpstr(got, ==, want);
    g_assert_cmpuint(count, ==, want_count);
    g_free(got);
}

static void pages_of_three_shards_merge_in_name_order(void)
{
    check(NULL, NULL, 4, FALSE, "alpha bravo charlie delta", 15);
    check("delta", NULL, 4, FALSE, "echo foxtrot golf hotel", 15);
    check("hotel", NULL, 4, FALSE, "india juliet kilo lima", 15);
    check("lima", NULL, 4, FALSE, "mike november oscar", 15);
    check("oscar", NULL, 4, FALSE, "", 15);
}

static void paging_forward_then_backward_covers_the_merged_list_once(void)
{
    GString *fwd = g_string_new(NULL), *back = g_string_new(NULL);
    char *cursor = NULL;
    guint count;

    for (int i = 0; i < 10; i++) {
        char *p = merged(cursor, NULL, 3, FALSE, &count);
        if (!*p) {
            g_free(p);
            break;
        }
        g_string_append_printf(fwd, "%s%s", fwd->len ? " " : "", p);
        g_free(cursor);
        cursor = g_strdup(strrchr(p, ' ') ? strrchr(p, ' ') + 1 : p);
        g_free(p);
    }
    g_clear_pointer(&cursor, g_free);
    for (int i = 0; i < 10; i++) {
        char *p = merged(NULL, cursor ? cursor : "", 4, FALSE, &count);
        if (!*p) {
            g_free(p);
            break;
        }
        g_string_prepend(back, back->len ? " " : "");
        g_string_prepend(back, p);
        g_free(cursor);
        cursor = g_strndup(p, strcspn(p, " "));
        g_free(p);
    }
    g_assert_cmpstr(fwd->str, ==,
                    "alpha bravo charlie delta echo foxtrot golf hotel india "
                    "juliet kilo lima mike november oscar");
    g_assert_cmpstr(back->str, ==, fwd->str);
    g_free(cursor);
    g_string_free(fwd, TRUE);
    g_string_free(back, TRUE);
}

static void a_cursor_of_one_shard_pages_the_others_too(void)
{
    check(NULL, "", 3, FALSE, "mike november oscar", 15);
    check(NULL, "india", 3, FALSE, "foxtrot golf hotel", 15);
    check(NULL, "bravo", 3, FALSE, "alpha", 15);
    check("charlie", NULL, 2, FALSE, "delta echo", 15);
}

static void a_shard_down_leaves_its_groups_and_its_count_out(void)
{
    check(NULL, NULL, 4, TRUE, "alpha charlie delta foxtrot", 11);
    check("delta", NULL, 3, TRUE, "foxtrot golf india", 11);
    check(NULL, "", 2, TRUE, "november oscar", 11);
}

static void max_zero_and_no_shards_give_an_empty_page(void)
{
    svc_merge_page *m = svc_merge_pages(NULL, 0, FALSE, 10, NULL);

    g_assert_cmpuint(m->rows->len, ==, 0);
    g_assert_cmpuint(m->count, ==, 0);
    svc_merge_page_free(m);
    check(NULL, NULL, 0, FALSE, "", 15);
}

static void a_page_cut_short_bounds_the_merge_at_its_last_row(void)
{
    svc_merge_page *p[2] = {shard_page(0, NULL, NULL, 2),
                            shard_page(1, NULL, NULL, 6)},
                   *m;
    gboolean more = FALSE;

    /* shard 0 stopped at delta (its byte budget): golf may come before
     * hotel, so the merged page ends at delta */
    p[0]->more = TRUE;
    m = svc_merge_pages(p, 2, FALSE, 6, &more);
    g_assert_cmpuint(m->rows->len, ==, 3); /* alpha bravo delta */
    g_assert_cmpstr(((svc_merge_row *)m->rows->pdata[2])->key, ==, "delta");
    g_assert_true(more);
    svc_merge_page_free(m);
    p[0]->more = FALSE;
    m = svc_merge_pages(p, 2, FALSE, 10, &more);
    g_assert_cmpuint(m->rows->len, ==, 6);
    g_assert_false(more);
    svc_merge_page_free(m);
    svc_merge_page_free(p[0]);
    svc_merge_page_free(p[1]);
}

static xmpp_stanza_t *parse(const char *xml)
{
    xmpp_stanza_t *st = xmpp_stanza_new_from_string(ctx, xml);

    g_assert_nonnull(st);
    return st;
}

static void a_page_crosses_the_bus_as_it_was(void)
{
    const char *v[] = {"Alpha & co", "x"};
    svc_merge_page *p = svc_merge_page_new(7), *q = NULL;
    xmpp_stanza_t *el;

    svc_merge_page_add(p, "alpha", v, 2);
    svc_merge_page_add(p, "bravo", v, 0);
    el = svc_merge_page_elem(ctx, p);
    g_assert_cmpint(svc_merge_page_read(el, 10, &q), ==, 0);
    g_assert_cmpuint(q->count, ==, 7);
    g_assert_cmpuint(q->rows->len, ==, 2);
    g_assert_cmpstr(((svc_merge_row *)q->rows->pdata[0])->values[0], ==,
                    "Alpha & co");
    g_assert_cmpstr(((svc_merge_row *)q->rows->pdata[0])->values[1], ==, "x");
    g_assert_null(((svc_merge_row *)q->rows->pdata[1])->values[0]);
    xmpp_stanza_release(el);
    svc_merge_page_free(p);
    svc_merge_page_free(q);
}

static void a_hostile_page_is_refused(void)
{
    static const char *const bad[] = {
        /* too many rows for max 2 */
        "<page xmlns='" SVC_MERGE_NS "' count='3'><row key='a'/><row key='b'/>"
        "<row key='c'/></page>",
        /* out of order, repeated, empty key, no key */
        "<page xmlns='" SVC_MERGE_NS "' count='2'><row key='b'/><row "
        "key='a'/></page>",
        "<page xmlns='" SVC_MERGE_NS "' count='2'><row key='a'/><row "
        "key='a'/></page>",
        "<page xmlns='" SVC_MERGE_NS "' count='1'><row key=''/></page>",
        "<page xmlns='" SVC_MERGE_NS "' count='1'><row/></page>",
        /* no count, a count not a number, another element */
        "<page xmlns='" SVC_MERGE_NS "'/>",
        "<page xmlns='" SVC_MERGE_NS "' count='-1'/>",
        "<page xmlns='" SVC_MERGE_NS "' count='1'><item key='a'/></page>",
        /* nine values */
        "<page xmlns='" SVC_MERGE_NS "' count='1'><row key='a'><v/><v/><v/>"
        "<v/><v/><v/><v/><v/><v/></row></page>",
        "<page xmlns='other' count='0'/>",
    };
    char *longkey = g_strnfill(SVC_MERGE_KEY_MAX + 1, 'k');
    char *xml = g_strdup_printf("<page xmlns='" SVC_MERGE_NS
                                "' count='1'><row key='%s'/></page>",
                                longkey);

    for (gsize i = 0; i <= G_N_ELEMENTS(bad); i++) {
        xmpp_stanza_t *el = parse(i < G_N_ELEMENTS(bad) ? bad[i] : xml);
        svc_merge_page *p = (gpointer)1;
        g_assert_cmpint(svc_merge_page_read(el, 2, &p), ==, -EINVAL);
        g_assert_null(p);
        xmpp_stanza_release(el);
    }
    g_free(xml);
    g_free(longkey);
}

static void an_ask_is_bounded_where_it_enters(void)
{
    svc_merge_ask a = {"public", g_strdup("kilo"), NULL, 50}, b;
    xmpp_stanza_t *el = svc_merge_ask_elem(ctx, &a);
    char *longkey = g_strnfill(SVC_MERGE_KEY_MAX + 1, 'k');

    g_assert_cmpint(svc_merge_ask_read(el, 100, &b), ==, 0);
    g_assert_cmpstr(b.list, ==, "public");
    g_assert_cmpstr(b.after, ==, "kilo");
    g_assert_null(b.before);
    g_assert_cmpuint(b.max, ==, 50);
    svc_merge_ask_clear(&b);
    g_assert_cmpint(svc_merge_ask_read(el, 49, &b), ==, -EINVAL);
    xmpp_stanza_set_attribute(el, "max", "10");
    xmpp_stanza_set_attribute(el, "after", longkey);
    g_assert_cmpint(svc_merge_ask_read(el, 100, &b), ==, -EINVAL);
    xmpp_stanza_set_attribute(el, "after", "a");
    xmpp_stanza_set_attribute(el, "list", "secret");
    g_assert_cmpint(svc_merge_ask_read(el, 100, &b), ==, -EINVAL);
    xmpp_stanza_release(el);
    g_free(a.after);
    g_free(longkey);
}

static void figures_add_up_figure_by_figure(void)
{
    svc_merge_figures a = {.groups = 3, .occupants = 5, .bytes = 4096},
                      b = {.groups = 4, .occupants = 1, .accounts = 2},
                      sum = {0}, back;
    xmpp_stanza_t *el = svc_merge_figures_elem(ctx, &b);

    g_assert_cmpint(svc_merge_figures_read(el, &back), ==, 0);
    svc_merge_figures_add(&sum, &a);
    svc_merge_figures_add(&sum, &back);
    g_assert_cmpuint(sum.groups, ==, 7);
    g_assert_cmpuint(sum.occupants, ==, 6);
    g_assert_cmpuint(sum.accounts, ==, 2);
    g_assert_cmpuint(sum.bytes, ==, 4096);
    xmpp_stanza_set_attribute(el, "groups", "many");
    g_assert_cmpint(svc_merge_figures_read(el, &back), ==, -EINVAL);
    xmpp_stanza_release(el);
}

static void the_partial_note_names_who_did_not_answer(void)
{
    guint one[] = {2}, two[] = {2, 0};
    char *n1 = svc_merge_note(one, 1, 3, "figures");
    char *n2 = svc_merge_note(two, 2, 4, "the list");

    g_assert_null(svc_merge_note(NULL, 0, 3, "figures"));
    g_assert_cmpstr(n1, ==,
                    "shard 2 did not answer: figures are for shards 0, 1.");
    g_assert_cmpstr(n2, ==,
                    "shards 0, 2 did not answer: the list is for shards 1, 3.");
    g_free(n1);
    g_free(n2);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
    g_test_add_func("/svc_merge/pages_of_three_shards_merge_in_name_order",
                    pages_of_three_shards_merge_in_name_order);
    g_test_add_func(
        "/svc_merge/paging_forward_then_backward_covers_the_merged_list_once",
        paging_forward_then_backward_covers_the_merged_list_once);
    g_test_add_func("/svc_merge/a_cursor_of_one_shard_pages_the_others_too",
                    a_cursor_of_one_shard_pages_the_others_too);
    g_test_add_func(
        "/svc_merge/a_shard_down_leaves_its_groups_and_its_count_out",
        a_shard_down_leaves_its_groups_and_its_count_out);
    g_test_add_func("/svc_merge/max_zero_and_no_shards_give_an_empty_page",
                    max_zero_and_no_shards_give_an_empty_page);
    g_test_add_func(
        "/svc_merge/a_page_cut_short_bounds_the_merge_at_its_last_row",
        a_page_cut_short_bounds_the_merge_at_its_last_row);
    g_test_add_func("/svc_merge/a_page_crosses_the_bus_as_it_was",
                    a_page_crosses_the_bus_as_it_was);
    g_test_add_func("/svc_merge/a_hostile_page_is_refused",
                    a_hostile_page_is_refused);
    g_test_add_func("/svc_merge/an_ask_is_bounded_where_it_enters",
                    an_ask_is_bounded_where_it_enters);
    g_test_add_func("/svc_merge/figures_add_up_figure_by_figure",
                    figures_add_up_figure_by_figure);
    g_test_add_func("/svc_merge/the_partial_note_names_who_did_not_answer",
                    the_partial_note_names_who_did_not_answer);
    rc = g_test_run();
    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    return rc;
}
