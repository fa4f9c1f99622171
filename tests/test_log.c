/* Tests for log: the fields of a record, the levels the workers follow, and
 * repeated warnings collapsed into a count (on the injectable clock). */
#include <string.h>

#include "clock.h"
#include "log.h"

#define SEC ((gint64)G_USEC_PER_SEC)

/* What reached the sink: one line per record, "LEVEL|AREA|GROUP|ACCOUNT|
 * MESSAGE|PRIORITY". */
static GPtrArray *seen;

static const char *field(const GLogField *f, gsize n, const char *key)
{
    for (gsize i = 0; i < n; i++)
        if (!strcmp(f[i].key, key))
            return f[i].value;
    return "-";
}

static void sink(enum log_level level, const GLogField *f, gsize n, void *data)
{
    (void)data;
    g_ptr_array_add(
        seen, g_strdup_printf("%d|%s|%s|%s|%s|%s", level,
                              field(f, n, "IMGROUPS_AREA"),
                              field(f, n, "GROUP"), field(f, n, "ACCOUNT"),
                              field(f, n, "MESSAGE"), field(f, n, "PRIORITY")));
}

static void setup(void)
{
    log_repeats_reset();
    log_set_level(LOG_DEBUG);
    g_ptr_array_set_size(seen, 0);
}

static const char *line(guint i)
{
    g_assert_cmpuint(i, <, seen->len);
    return g_ptr_array_index(seen, i);
}

static void a_record_names_its_area_priority_group_and_account(void)
{
    static const struct {
        enum log_area area;
        enum log_level level;
        const char *group, *account, *want;
    } cases[] = {
        {LOG_LINK, LOG_INFO, NULL, NULL, "2|link|-|-|x|6"},
        {LOG_BRIDGE, LOG_WARNING, "lobby", NULL, "1|bridge|lobby|-|x|4"},
        {LOG_LEGACY, LOG_DEBUG, NULL, "ircbot", "3|legacy|-|ircbot|x|7"},
        {LOG_LEGACY, LOG_INFO, "lobby", "ircbot", "2|legacy|lobby|ircbot|x|6"},
        /* a group's name is a user's choice: not in an error record */
        {LOG_STORE, LOG_ERROR, "lobby", "ircbot", "0|store|-|ircbot|x|3"},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        setup();
        log_write_about(cases[i].area, cases[i].level, cases[i].group,
                        cases[i].account, "x");
        g_assert_cmpuint(seen->len, ==, 1);
        g_assert_cmpstr(line(0), ==, cases[i].want);
    }
}

static void fields_are_the_ones_the_journal_gets_and_no_more(void)
{
    GLogField f[LOG_FIELDS_MAX];
    gsize n =
        log_fields(LOG_BRIDGE, LOG_WARNING, "lobby", "ircbot", "hello", f);
    static const char *const keys[] = {
        "MESSAGE",       "PRIORITY", "SYSLOG_IDENTIFIER",
        "IMGROUPS_AREA", "GROUP",    "ACCOUNT"};

    g_assert_cmpuint(n, ==, G_N_ELEMENTS(keys));
    for (gsize i = 0; i < n; i++) {
        g_assert_cmpstr(f[i].key, ==, keys[i]);
        g_assert_cmpint(f[i].length, ==, -1);
    }
    g_assert_cmpstr(f[2].value, ==, "imgroups");
    g_assert_cmpuint(log_fields(LOG_MAIN, LOG_INFO, NULL, NULL, "x", f), ==, 4);
}

static void lines_below_the_threshold_are_not_written(void)
{
    setup();
    log_set_level(LOG_WARNING);
    log_for_group(LOG_BRIDGE, LOG_INFO, "lobby", "quiet %s", "please");
    log_for_account(LOG_LEGACY, LOG_DEBUG, "ircbot", "quiet");
    log_for_account(LOG_LEGACY, LOG_WARNING, "ircbot", "loud");
    g_assert_cmpuint(seen->len, ==, 1);
    g_assert_cmpstr(line(0), ==, "1|legacy|-|ircbot|loud|4");
}

static void repeated_warnings_are_written_once_then_counted(void)
{
    setup();
    /* a bot with a bad password retries: 1 s, 2 s, 4 s ... */
    log_for_account(LOG_LEGACY, LOG_WARNING, "ircbot", "login refused");
    for (int i = 0; i < 5; i++) {
        clock_advance(5 * SEC);
        log_for_account(LOG_LEGACY, LOG_WARNING, "ircbot", "login refused");
    }
    g_assert_cmpuint(seen->len, ==, 1);
    /* not before the interval is over */
    log_repeats_flush();
    g_assert_cmpuint(seen->len, ==, 1);
    clock_advance(LOG_REPEAT_S * SEC - 25 * SEC);
    log_repeats_flush();
    g_assert_cmpuint(seen->len, ==, 2);
    g_assert_cmpstr(line(1), ==,
                    "1|legacy|-|ircbot|login refused (repeated 5 times in "
                    "the last 60 s)|4");
    /* nothing more to say: the next flush is quiet */
    clock_advance(LOG_REPEAT_S * SEC);
    log_repeats_flush();
    g_assert_cmpuint(seen->len, ==, 2);
}

static void a_repeat_past_the_interval_writes_the_count_at_most_once(void)
{
    setup();
    log_warning(LOG_LINK, "server slow");
    clock_advance(10 * SEC);
    log_warning(LOG_LINK, "server slow");
    clock_advance(LOG_REPEAT_S * SEC);
    /* the interval is over: this repeat brings the count (2) */
    log_warning(LOG_LINK, "server slow");
    g_assert_cmpuint(seen->len, ==, 2);
    g_assert_cmpstr(line(1), ==,
                    "1|link|-|-|server slow (repeated 2 times in the last "
                    "70 s)|4");
    /* a new interval starts with it: the next repeat is counted again */
    clock_advance(SEC);
    log_warning(LOG_LINK, "server slow");
    g_assert_cmpuint(seen->len, ==, 2);
}

static void a_text_quiet_for_an_interval_is_written_again(void)
{
    setup();
    log_warning(LOG_LINK, "link lost");
    clock_advance(2 * LOG_REPEAT_S * SEC);
    log_warning(LOG_LINK, "link lost");
    g_assert_cmpuint(seen->len, ==, 2);
    g_assert_cmpstr(line(1), ==, "1|link|-|-|link lost|4");
}

static void other_texts_groups_accounts_and_info_lines_are_not_collapsed(void)
{
    setup();
    log_for_account(LOG_LEGACY, LOG_WARNING, "a", "login refused");
    log_for_account(LOG_LEGACY, LOG_WARNING, "b", "login refused");
    log_for_group(LOG_BRIDGE, LOG_WARNING, "lobby", "login refused");
    log_warning(LOG_LEGACY, "login refused");
    log_error(LOG_LEGACY, "login refused");
    log_info(LOG_LEGACY, "connected");
    log_info(LOG_LEGACY, "connected");
    g_assert_cmpuint(seen->len, ==, 7);
}

static void a_forgotten_text_writes_its_count_before_it_goes(void)
{
    char text[32];

    setup();
    log_warning(LOG_LINK, "first");
    log_warning(LOG_LINK, "first");
    /* LOG_REPEAT_SLOTS newer texts push it out: its count is not lost */
    for (int i = 0; i < LOG_REPEAT_SLOTS; i++) {
        clock_advance(1000);
        g_snprintf(text, sizeof text, "other %d", i);
        log_warning(LOG_LINK, "%s", text);
    }
    g_assert_cmpuint(seen->len, ==, 2 + LOG_REPEAT_SLOTS);
    /* the last newcomer's: the count first, then its own line */
    g_assert_cmpstr(line(LOG_REPEAT_SLOTS), ==,
                    "1|link|-|-|first (repeated 1 time in the last 0 s)|4");
}

static int told;

static void count_told(void *data)
{
    (void)data;
    told++;
}

static void watchers_hear_of_a_changed_level_only(void)
{
    enum log_level lv[LOG_AREA_COUNT];

    setup();
    for (int i = 0; i < LOG_AREA_COUNT; i++)
        lv[i] = LOG_DEBUG;
    log_watch(count_told, NULL);
    log_set_levels(lv);
    g_assert_cmpint(told, ==, 0);
    lv[LOG_LEGACY] = LOG_WARNING;
    log_set_levels(lv);
    g_assert_cmpint(told, ==, 1);
    g_assert_false(log_on(LOG_LEGACY, LOG_INFO));
    g_assert_true(log_on(LOG_LINK, LOG_DEBUG));
    log_unwatch(count_told, NULL);
    lv[LOG_LEGACY] = LOG_INFO;
    log_set_levels(lv);
    g_assert_cmpint(told, ==, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    seen = g_ptr_array_new_with_free_func(g_free);
    log_set_sink(sink, NULL);
    g_test_add_func("/log/a_record_names_its_area_priority_group_and_account",
                    a_record_names_its_area_priority_group_and_account);
    g_test_add_func("/log/fields_are_the_ones_the_journal_gets_and_no_more",
                    fields_are_the_ones_the_journal_gets_and_no_more);
    g_test_add_func("/log/lines_below_the_threshold_are_not_written",
                    lines_below_the_threshold_are_not_written);
    g_test_add_func("/log/repeated_warnings_are_written_once_then_counted",
                    repeated_warnings_are_written_once_then_counted);
    g_test_add_func(
        "/log/a_repeat_past_the_interval_writes_the_count_at_most_once",
        a_repeat_past_the_interval_writes_the_count_at_most_once);
    g_test_add_func("/log/a_text_quiet_for_an_interval_is_written_again",
                    a_text_quiet_for_an_interval_is_written_again);
    g_test_add_func(
        "/log/other_texts_groups_accounts_and_info_lines_are_not_collapsed",
        other_texts_groups_accounts_and_info_lines_are_not_collapsed);
    g_test_add_func("/log/a_forgotten_text_writes_its_count_before_it_goes",
                    a_forgotten_text_writes_its_count_before_it_goes);
    g_test_add_func("/log/watchers_hear_of_a_changed_level_only",
                    watchers_hear_of_a_changed_level_only);
    return g_test_run();
}
