/* log: leveled logging by area, as GLib structured records (GLogField):
 * lines on stderr, or the journal with priorities and the fields
 * IMGROUPS_AREA, GROUP and ACCOUNT when run under systemd. The level is
 * checked before any formatting; repeated identical warnings are collapsed
 * into a count. libstrophe's and GLib's own messages are routed in here. */
#ifndef IMGROUPS_LOG_H
#define IMGROUPS_LOG_H

#include <stdarg.h>
#include <glib.h>

enum log_level {
    LOG_ERROR,
    LOG_WARNING,
    LOG_INFO,
    LOG_DEBUG,
};

/* Areas; one threshold each. */
#define LOG_AREAS(X)                                                           \
    X(LOG_MAIN, "main")                                                        \
    X(LOG_CONFIG, "config")                                                    \
    X(LOG_LINK, "link")                                                        \
    X(LOG_XMPP, "xmpp")                                                        \
    X(LOG_ROUTER, "router")                                                    \
    X(LOG_SERVICE, "service")                                                  \
    X(LOG_STORE, "store")                                                      \
    X(LOG_GLIB, "glib")                                                        \
    X(LOG_LEGACY, "legacy")                                                    \
    X(LOG_BRIDGE, "bridge")                                                    \
    X(LOG_CLUSTER, "cluster")

enum log_area {
#define LOG_AREA_ENUM(e, name) e,
    LOG_AREAS(LOG_AREA_ENUM)
#undef LOG_AREA_ENUM
        LOG_AREA_COUNT
};

extern enum log_level log_threshold[LOG_AREA_COUNT];

/* Parses "error" | "warning" | "info" | "debug". Returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);
/* Looks an area up by name. Returns 0 or -1. */
int log_area_parse(const char *s, enum log_area *out);
const char *log_area_name(enum log_area area);

/* Sets every area to level. */
void log_set_level(enum log_level level);

/* Sets each area's threshold (levels[LOG_AREA_COUNT]) and tells the
 * watchers (the workers' supervisor) when any changed. */
void log_set_levels(const enum log_level *levels);

/* fn(data) runs after log_set_levels changed a threshold; data is borrowed
 * until log_unwatch(fn, data). */
void log_watch(void (*fn)(void *data), void *data);
void log_unwatch(void (*fn)(void *data), void *data);

/* Where records go: LOG_TO_STDERR (one line each, as before) or
 * LOG_TO_JOURNAL (g_log_writer_journald; a record the journal refuses
 * falls back to stderr). log_route_glib picks the journal when stderr is
 * the journal's stream (g_log_writer_is_journald: run under systemd). */
enum log_target { LOG_TO_STDERR, LOG_TO_JOURNAL };
void log_set_target(enum log_target target);

/* The fields of one record, in out[LOG_FIELDS_MAX]: MESSAGE, PRIORITY
 * (syslog: 3 error, 4 warning, 6 info, 7 debug), SYSLOG_IDENTIFIER,
 * IMGROUPS_AREA, and GROUP and ACCOUNT when not NULL (GROUP not at error
 * level: a group's name is a user's choice, and nobody writes error-level
 * lines of their choosing). Values are borrowed
 * from the arguments and static strings. Returns how many were filled. */
#define LOG_FIELDS_MAX 6
gsize log_fields(enum log_area area, enum log_level level, const char *group,
                 const char *account, const char *text, GLogField *out);

/* Tests: every record goes to fn instead (NULL: back to the target). */
typedef void (*log_sink_fn)(enum log_level level, const GLogField *fields,
                            gsize n, void *data);
void log_set_sink(log_sink_fn fn, void *data);

/* Repeated warnings and errors: the same text (area, level, group, account
 * and message) again within LOG_REPEAT_S of the first is not written but
 * counted; once the interval is over (at the next repeat, or the next
 * log_repeats_flush) one line "TEXT (repeated N times in the last M s)"
 * says how many, at most once per interval. LOG_REPEAT_SLOTS texts are
 * followed at once, the least recently seen forgotten first. */
#define LOG_REPEAT_S     60
#define LOG_REPEAT_SLOTS 32
/* Writes the counts whose interval is over (a timer calls it; tests call
 * it after clock_advance). */
void log_repeats_flush(void);
/* Tests: forgets every count without writing it. */
void log_repeats_reset(void);

/* Routes GLib's g_message/g_warning/... into the "glib" area. */
void log_route_glib(void);

/* Writes one line; callers use log_msg, which checks the level first. */
void log_write(enum log_area area, enum log_level level, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
void log_writev(enum log_area area, enum log_level level, const char *fmt,
                va_list ap);
/* The same, about a group (room localpart) or an account (a bot's
 * [account:NAME]), either NULL: their names go in the GROUP and ACCOUNT
 * fields. Callers use log_for_group / log_for_account. */
void log_write_about(enum log_area area, enum log_level level,
                     const char *group, const char *account, const char *fmt,
                     ...) G_GNUC_PRINTF(5, 6);

#define log_on(area, level) ((level) <= log_threshold[(area)])
#define log_msg(area, level, ...)                                              \
    do {                                                                       \
        if (log_on(area, level))                                               \
            log_write(area, level, __VA_ARGS__);                               \
    } while (0)
#define log_error(area, ...)   log_msg(area, LOG_ERROR, __VA_ARGS__)
#define log_warning(area, ...) log_msg(area, LOG_WARNING, __VA_ARGS__)
#define log_info(area, ...)    log_msg(area, LOG_INFO, __VA_ARGS__)
#define log_debug(area, ...)   log_msg(area, LOG_DEBUG, __VA_ARGS__)
/* A line about one group or one bot account: the journal can be asked for
 * every line about it (journalctl GROUP=lobby, ACCOUNT=ircbot). */
#define log_for_group(area, level, group, ...)                                 \
    do {                                                                       \
        if (log_on(area, level))                                               \
            log_write_about(area, level, group, NULL, __VA_ARGS__);            \
    } while (0)
#define log_for_account(area, level, account, ...)                             \
    do {                                                                       \
        if (log_on(area, level))                                               \
            log_write_about(area, level, NULL, account, __VA_ARGS__);          \
    } while (0)
/* An error about something a user named (a group): the error line carries
 * no user-supplied text, the name goes to debug (issue 9, item 11: nobody
 * writes error-level lines of their choosing). */
#define log_error_about(area, name, ...)                                       \
    do {                                                                       \
        log_msg(area, LOG_DEBUG, "the next error is about %s", (name));        \
        log_msg(area, LOG_ERROR, __VA_ARGS__);                                 \
    } while (0)

#endif
