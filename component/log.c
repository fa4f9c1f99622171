/* log: leveled logging by area to stderr, one line per record. */
#include "log.h"

#include <stdio.h>
#include <string.h>

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

static const char *const level_names[] = {
    [LOG_ERROR] = "error",
    [LOG_WARNING] = "warning",
    [LOG_INFO] = "info",
    [LOG_DEBUG] = "debug",
};

int log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(level_names); i++) {
        if (s && g_ascii_strcasecmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

int log_area_parse(const char *s, enum log_area *out)
{
    for (int i = 0; i < LOG_AREA_COUNT; i++) {
        if (s && strcmp(s, area_names[i]) == 0) {
            *out = (enum log_area)i;
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

void log_writev(enum log_area area, enum log_level level, const char *fmt,
                va_list ap)
{
    GDateTime *now = g_date_time_new_now_utc();
    char *stamp = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S");
    char *text = g_strdup_vprintf(fmt, ap);

    /* One fprintf per line so concurrent writers (the worker shares
     * stderr) do not interleave within a line. */
    fprintf(stderr, "%s.%03dZ %s %s: %s\n", stamp,
            g_date_time_get_microsecond(now) / 1000, level_names[level],
            area_names[area], text);
    g_free(text);
    g_free(stamp);
    g_date_time_unref(now);
}

void log_write(enum log_area area, enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_writev(area, level, fmt, ap);
    va_end(ap);
}

static GLogWriterOutput glib_writer(GLogLevelFlags flags,
                                    const GLogField *fields, gsize n_fields,
                                    gpointer userdata)
{
    enum log_level level = LOG_DEBUG;
    const char *message = NULL;
    const char *domain = NULL;

    if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        level = LOG_ERROR;
    else if (flags & G_LOG_LEVEL_WARNING)
        level = LOG_WARNING;
    else if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        level = LOG_INFO;
    if (!log_on(LOG_GLIB, level))
        return G_LOG_WRITER_HANDLED;
    for (gsize i = 0; i < n_fields; i++) {
        if (strcmp(fields[i].key, "MESSAGE") == 0)
            message = fields[i].value;
        else if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0)
            domain = fields[i].value;
    }
    log_write(LOG_GLIB, level, "%s%s%s", domain ? domain : "",
              domain ? ": " : "", message ? message : "");
    return G_LOG_WRITER_HANDLED;
}

void log_route_glib(void)
{
    g_log_set_writer_func(glib_writer, NULL, NULL);
}
