/* config: the INI configuration (GKeyFile), validated into one struct.
 * Every problem is reported with its group and key. */
#ifndef IMGROUPS_CONFIG_H
#define IMGROUPS_CONFIG_H

#include <glib.h>

#include "log.h"

enum config_room_creation {
    CONFIG_ROOMS_ANYONE,
    CONFIG_ROOMS_ADMINS,
};

enum config_mode {
    CONFIG_MODE_CONTACTS,
    CONFIG_MODE_CHAT,
};

/* One [account:NAME] section. All strings owned by the struct. */
typedef struct config_account {
    char *name;     /* NAME of the section */
    char *protocol; /* libpurple protocol id, e.g. prpl-irc */
    char *username;
    char *password; /* never logged */
    char *group;    /* room localpart */
    enum config_mode mode;
    char *chat;          /* legacy chat to sit in (chat mode), else NULL */
    GHashTable *options; /* option.KEY -> string value, both owned */
    guint pace_burst;    /* messages the bot sends at once (default 5) */
    double pace_rate;    /* then this many per second (default 1) */
} config_account;

typedef struct config {
    char *path; /* the file read */
    /* [component] */
    char *jid;
    char *host;
    guint16 port;
    char *secret;       /* never logged */
    char *name;         /* disco identity name */
    guint queue_max;    /* stanzas held while the link is down */
    guint stanza_limit; /* bytes: no stanza sent is larger (server's limit) */
    guint send_buffer;  /* bytes queued for the server before reading stops */
    /* [storage] */
    char *storage_path;
    size_t map_size; /* bytes, set once at open (default STORE_MAP_DEFAULT) */
    gboolean meta_sync; /* [storage] sync: full (TRUE) or no-meta (opt-in) */
    /* [service] */
    char **admins; /* bare JIDs folded (jid_bare_fold), NULL-terminated */
    enum config_room_creation room_creation;
    /* the first-contact notice to XMPP users (component/muc/notice.c) */
    gboolean first_contact_notice;
    /* [limits] */
    guint max_body;   /* characters in one message body */
    double rate;      /* groupchat messages per second per occupant */
    guint burst;      /* messages an occupant may send at once */
    guint max_rooms;  /* groups one non-admin user may own */
    double join_rate; /* room joins per second per bare JID, all rooms */
    guint join_burst; /* joins a bare JID may make at once */
    /* one received stanza: bytes (as escaped on output), elements, depth,
     * attributes per element, bytes of one attribute value (escaped) */
    guint stanza_size;
    guint stanza_elements;
    guint stanza_depth;
    guint attributes;
    guint attribute_size;
    guint avatar_size; /* base64 bytes of a room avatar (vcard-temp BINVAL) */
    /* [archive] */
    guint keep_days; /* 0: keep forever */
    /* [legacy] */
    char *worker;       /* imgroups-purple to run; NULL: found beside us */
    char *plugin_dir;   /* extra libpurple plugins (MSN, Yahoo); may be NULL */
    guint digest_after; /* past this many waiting messages, a digest */
    guint crash_limit;  /* worker crashes of one account within */
    guint crash_window; /* this many seconds quarantine it */
    /* [cluster] (docs/cluster.md) */
    guint shard;  /* this instance: 0 .. shards - 1 */
    guint shards; /* instances the rooms are spread over; 1: one, no rule */
    char *bus_host; /* where the shard bus connects; default [component] host */
    guint16 bus_port; /* its port; default [component] port */
    /* [log] */
    enum log_level log_level;
    enum log_level area_level[LOG_AREA_COUNT];
    /* [account:NAME], in file order; config_account* owned */
    GPtrArray *accounts;
} config;

/* Reads and validates path. On success returns 0 and *out (free with
 * config_free). On failure returns -1, *out NULL, and every problem found
 * appended to problems (owned strings "FILE: [group] key: what is wrong"). */
int config_load(const char *path, config **out, GPtrArray *problems);

/* Same, from text in memory (path only names it in messages). */
int config_load_data(const char *path, const char *data, gsize len,
                     config **out, GPtrArray *problems);

void config_free(config *cfg);

/* Appends problem (owned string) to problems in the form every problem
 * takes: "FILE: [group] key: what is wrong" (key NULL: "FILE: [group]:"). */
void config_problem(GPtrArray *problems, const char *path, const char *group,
                    const char *key, const char *fmt, ...) G_GNUC_PRINTF(5, 6);

/* Appends every key the reader accepts to out (owned strings "SECTION KEY",
 * "account:NAME option.KEY" for a plugin option), the list doc/config.txt
 * must document (tests/doc/test_doc.py compares them). */
void config_keys(GPtrArray *out);

/* Whether bare, a bare JID folded as jid_bare_fold gives it (NULL: no),
 * is one of [service] admins: the one place this is decided. */
gboolean config_is_admin(const config *cfg, const char *bare);

/* Applies [log] to the log thresholds. */
void config_apply_log(const config *cfg);

#endif
