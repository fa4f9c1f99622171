/* log: leveled logging by area to stderr; the level is checked before any
 * formatting. libstrophe's and GLib's own messages are routed in here. */
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
    X(LOG_BRIDGE, "bridge")

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

/* Routes GLib's g_message/g_warning/... into the "glib" area. */
void log_route_glib(void);

/* Writes one line; callers use log_msg, which checks the level first. */
void log_write(enum log_area area, enum log_level level, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
void log_writev(enum log_area area, enum log_level level, const char *fmt,
                va_list ap);

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
/* An error about something a user named (a group): the error line carries
 * no user-supplied text, the name goes to debug (issue 9, item 11: nobody
 * writes error-level lines of their choosing). */
#define log_error_about(area, name, ...)                                       \
    do {                                                                       \
        log_msg(area, LOG_DEBUG, "the next error is about %s", (name));        \
        log_msg(area, LOG_ERROR, __VA_ARGS__);                                 \
    } while (0)

#endif
