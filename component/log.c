/* log: leveled logging by area as structured records, to stderr or the
 * journal, with repeated warnings collapsed into a count. */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

enum log_level log_threshold[LOG_AREA_COUNT] = {
#define LOG_AREA_INIT(e, name) [e] = LOG_INFO,
    LOG_AREAS(LOG_AREA_INIT)
#undef LOG_AREA_INIT
};

static const char *const area_names[LOG_AREA_COUNT] = {
#define LOG_AREA_NAME(e, name) [e] = name,
    LOG_AREAS(LOG_AREA_NAME)
#undef LOG_AREA_NAME
};

/* Per level: its name, its syslog priority (the journal's PRIORITY), and
 * the GLib level the journal writer is told. */
static const struct {
    const char *name;
    const char *priority;
    GLogLevelFlags glib;
} levels[] = {
    [LOG_ERROR] = {"error", "3", G_LOG_LEVEL_CRITICAL},
    [LOG_WARNING] = {"warning", "4", G_LOG_LEVEL_WARNING},
    [LOG_INFO] = {"info", "6", G_LOG_LEVEL_INFO},
    [LOG_DEBUG] = {"debug", "7", G_LOG_LEVEL_DEBUG},
};

static struct {
    enum log_target target;
    log_sink_fn sink;
    void *sink_data;
    GSList *watchers; /* watcher* */
    guint flush_id;   /* the repeat counts' timer, 0 when none pending */
} out;

typedef struct watcher {
    void (*fn)(void *);
    void *data;
} watcher;

int log_level_parse(const char *s, enum log_level *out_level)
{
    for (size_t i = 0; i < G_N_ELEMENTS(levels); i++) {
        if (s && g_ascii_strcasecmp(s, levels[i].name) == 0) {
            *out_level = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

int log_area_parse(const char *s, enum log_area *out_area)
{
    for (int i = 0; i < LOG_AREA_COUNT; i++) {
        if (s && strcmp(s, area_names[i]) == 0) {
            *out_area = (enum log_area)i;
            return 0;
        }
    }
    return -1;
}

const char *log_area_name(enum log_area area)
{
    return area_names[area];
}

void log_set_level(enum log_level level)
{
    for (int i = 0; i < LOG_AREA_COUNT; i++)
        log_threshold[i] = level;
}

void log_set_levels(const enum log_level *lv)
{
    gboolean changed = FALSE;

    for (int i = 0; i < LOG_AREA_COUNT; i++) {
        changed = changed || log_threshold[i] != lv[i];
        log_threshold[i] = lv[i];
    }
    for (GSList *l = out.watchers; changed && l; l = l->next) {
        watcher *w = l->data;
        w->fn(w->data);
    }
}

void log_watch(void (*fn)(void *), void *data)
{
    watcher *w = g_new(watcher, 1);

    w->fn = fn;
    w->data = data;
    out.watchers = g_slist_prepend(out.watchers, w);
}

void log_unwatch(void (*fn)(void *), void *data)
{
    for (GSList *l = out.watchers; l; l = l->next) {
        watcher *w = l->data;
        if (w->fn == fn && w->data == data) {
            out.watchers = g_slist_delete_link(out.watchers, l);
            g_free(w);
            return;
        }
    }
}

void log_set_target(enum log_target target)
{
    out.target = target;
}

void log_set_sink(log_sink_fn fn, void *data)
{
    out.sink = fn;
    out.sink_data = data;
}

gsize log_fields(enum log_area area, enum log_level level, const char *group,
                 const char *account, const char *text, GLogField *f)
{
    gsize n = 0;

    f[n++] = (GLogField){"MESSAGE", text, -1};
    f[n++] = (GLogField){"PRIORITY", levels[level].priority, -1};
    f[n++] = (GLogField){"SYSLOG_IDENTIFIER", "imgroups", -1};
    f[n++] = (GLogField){"IMGROUPS_AREA", area_names[area], -1};
    if (group && level != LOG_ERROR)
        f[n++] = (GLogField){"GROUP", group, -1};
    if (account)
        f[n++] = (GLogField){"ACCOUNT", account, -1};
    return n;
}

static const char *field(const GLogField *f, gsize n, const char *key)
{
    for (gsize i = 0; i < n; i++)
        if (strcmp(f[i].key, key) == 0)
            return f[i].value;
    return NULL;
}

static void to_stderr(enum log_level level, const GLogField *f, gsize n)
{
    GDateTime *now = g_date_time_new_now_utc();
    char *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S");

    /* One fprintf per line so concurrent writers (the worker shares
     * stderr) do not interleave within a line. */
    fprintf(stderr, "%s.%03dZ %s %s: %s\n", stamp,
            g_date_time_get_microsecond(now) / 1000, levels[level].name,
            field(f, n, "IMGROUPS_AREA"), field(f, n, "MESSAGE"));
    g_free(stamp);
    g_date_time_unref(now);
}

static void emit(enum log_area area, enum log_level level, const char *group,
                 const char *account, const char *text)
{
    GLogField f[LOG_FIELDS_MAX];
    gsize n = log_fields(area, level, group, account, text, f);

    if (out.sink) {
        out.sink(level, f, n, out.sink_data);
        return;
    }
    if (out.target == LOG_TO_JOURNAL &&
        g_log_writer_journald(levels[level].glib, f, n, NULL) ==
            G_LOG_WRITER_HANDLED)
        return;
    to_stderr(level, f, n);
}

/* ---- repeats ---------------------------------------------------------- */

typedef struct repeat {
    char *key; /* "area\nlevel\ngroup\naccount\ntext"; NULL: free slot */
    enum log_area area;
    enum log_level level;
    char *group;
    char *account;
    char *text;
    gint64 since;  /* start of the interval, clock_now() µs */
    gint64 seen;   /* last time seen, for eviction */
    guint64 count; /* repeats not written in this interval */
} repeat;

/* GLib may log from its own threads (GIO's workers): the counts are
 * shared, so they are taken under a lock. */
static repeat repeats[LOG_REPEAT_SLOTS];
G_LOCK_DEFINE_STATIC(repeats);

static void repeat_clear(repeat *r)
{
    g_free(r->key);
    g_free(r->group);
    g_free(r->account);
    g_free(r->text);
    memset(r, 0, sizeof *r);
}

static void repeat_report(repeat *r, gint64 now)
{
    gint64 secs = (now - r->since + G_USEC_PER_SEC / 2) / G_USEC_PER_SEC;
    char *line =
        g_strdup_printf("%s (repeated %" G_GUINT64_FORMAT
                        " time%s in the last %" G_GINT64_FORMAT " s)",
                        r->text, r->count, r->count == 1 ? "" : "s", secs);

    emit(r->area, r->level, r->group, r->account, line);
    g_free(line);
    r->count = 0;
    r->since = now;
}

void log_repeats_flush(void)
{
    gint64 now = clock_now();

    G_LOCK(repeats);
    for (size_t i = 0; i < G_N_ELEMENTS(repeats); i++)
        if (repeats[i].key && repeats[i].count &&
            now - repeats[i].since >= LOG_REPEAT_S * G_USEC_PER_SEC)
            repeat_report(&repeats[i], now);
    G_UNLOCK(repeats);
}

void log_repeats_reset(void)
{
    G_LOCK(repeats);
    for (size_t i = 0; i < G_N_ELEMENTS(repeats); i++)
        repeat_clear(&repeats[i]);
    if (out.flush_id)
        g_source_remove(out.flush_id);
    out.flush_id = 0;
    G_UNLOCK(repeats);
}

static gboolean flush_cb(gpointer data)
{
    gboolean pending = FALSE;

    (void)data;
    log_repeats_flush();
    G_LOCK(repeats);
    for (size_t i = 0; i < G_N_ELEMENTS(repeats); i++)
        pending = pending || repeats[i].count;
    if (!pending)
        out.flush_id = 0;
    G_UNLOCK(repeats);
    return pending ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* Whether this record is written now (TRUE) or counted as a repeat. */
static gboolean repeat_admit(enum log_area area, enum log_level level,
                             const char *group, const char *account,
                             const char *text)
{
    gint64 now = clock_now();
    char *key =
        g_strdup_printf("%d\n%d\n%s\n%s\n%s", area, level, group ? group : "",
                        account ? account : "", text);
    repeat *r = NULL, *oldest = &repeats[0];

    for (size_t i = 0; i < G_N_ELEMENTS(repeats) && !r; i++) {
        if (repeats[i].key && strcmp(repeats[i].key, key) == 0)
            r = &repeats[i];
        else if (!repeats[i].key ||
                 (oldest->key && repeats[i].seen < oldest->seen))
            oldest = &repeats[i];
    }
    if (!r) {
        /* A new text: the forgotten one's count is written first. */
        if (oldest->key && oldest->count)
            repeat_report(oldest, now);
        repeat_clear(oldest);
        *oldest = (repeat){.key = key,
                           .area = area,
                           .level = level,
                           .group = g_strdup(group),
                           .account = g_strdup(account),
                           .text = g_strdup(text),
                           .since = now,
                           .seen = now};
        return TRUE;
    }
    g_free(key);
    r->seen = now;
    if (now - r->since >= LOG_REPEAT_S * G_USEC_PER_SEC) {
        if (!r->count) {
            /* Quiet for a whole interval: written as new. */
            r->since = now;
            return TRUE;
        }
        r->count++;
        repeat_report(r, now);
        return FALSE;
    }
    r->count++;
    if (!out.flush_id)
        out.flush_id = g_timeout_add_seconds(LOG_REPEAT_S, flush_cb, NULL);
    return FALSE;
}

/* ---- writing ----------------------------------------------------------- */

static void write_about(enum log_area area, enum log_level level,
                        const char *group, const char *account, const char *fmt,
                        va_list ap)
{
    char *text = g_strdup_vprintf(fmt, ap);
    gboolean now = level > LOG_WARNING;

    if (!now) {
        G_LOCK(repeats);
        now = repeat_admit(area, level, group, account, text);
        G_UNLOCK(repeats);
    }
    if (now)
        emit(area, level, group, account, text);
    g_free(text);
}

void log_writev(enum log_area area, enum log_level level, const char *fmt,
                va_list ap)
{
    write_about(area, level, NULL, NULL, fmt, ap);
}

void log_write(enum log_area area, enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    write_about(area, level, NULL, NULL, fmt, ap);
    va_end(ap);
}

void log_write_about(enum log_area area, enum log_level level,
                     const char *group, const char *account, const char *fmt,
                     ...)
{
    va_list ap;

    va_start(ap, fmt);
    write_about(area, level, group, account, fmt, ap);
    va_end(ap);
}

static GLogWriterOutput glib_writer(GLogLevelFlags flags,
                                    const GLogField *fields, gsize n_fields,
                                    gpointer userdata)
{
    enum log_level level = LOG_DEBUG;
    const char *message = field(fields, n_fields, "MESSAGE");
    const char *domain = field(fields, n_fields, "GLIB_DOMAIN");

    (void)userdata;
    if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        level = LOG_ERROR;
    else if (flags & G_LOG_LEVEL_WARNING)
        level = LOG_WARNING;
    else if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        level = LOG_INFO;
    if (!log_on(LOG_GLIB, level))
        return G_LOG_WRITER_HANDLED;
    log_write(LOG_GLIB, level, "%s%s%s", domain ? domain : "",
              domain ? ": " : "", message ? message : "");
    return G_LOG_WRITER_HANDLED;
}

void log_route_glib(void)
{
    /* Under systemd, stderr is the journal's stream: records go to the
     * journal itself, with their priority and fields. */
    if (g_log_writer_is_journald(fileno(stderr)))
        log_set_target(LOG_TO_JOURNAL);
    g_log_set_writer_func(glib_writer, NULL, NULL);
}
