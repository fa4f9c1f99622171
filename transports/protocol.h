/* protocol: the messages between the core (imgroups) and the libpurple
 * worker (imgroups-purple) over their socketpair — the one place that knows
 * both sides. A frame is a 4-byte big-endian length, then that many bytes of
 * a serialised GVariant "(uv)": the message type and its body, whose type
 * the table below fixes. */
#ifndef IMGROUPS_PROTOCOL_H
#define IMGROUPS_PROTOCOL_H

#include <glib.h>

/* Sent in PROTO_HELLO; a peer with another version is refused. */
#define PROTO_VERSION 1

/* The largest frame either side accepts (bytes after the length). */
#define PROTO_FRAME_MAX (1024 * 1024)

/* The largest picture either side sends (buddy_icon, set_icon): a buddy's
 * bigger picture is not passed on. */
#define PROTO_ICON_MAX (256 * 1024)

/* X(enum, name, body type); the comment above each says who sends it:
 * C>W core to worker, W>C worker to core.
 * Ids outlive releases: add at the end, never renumber. */
#define PROTO_MESSAGES(X)                                                      \
    /* (version): first message each way */                                    \
    X(PROTO_HELLO, "hello", "(q)")                                             \
    /* C>W (account, protocol id, username, password, options) */              \
    X(PROTO_ACCOUNT_ADD, "account_add", "(ssssa{ss})")                         \
    /* C>W (account) */                                                        \
    X(PROTO_ACCOUNT_REMOVE, "account_remove", "(s)")                           \
    /* W>C (account) */                                                        \
    X(PROTO_ACCOUNT_UP, "account_up", "(s)")                                   \
    /* W>C (account, why) */                                                   \
    X(PROTO_ACCOUNT_DOWN, "account_down", "(ss)")                              \
    /* W>C (account, handle, alias, body) */                                   \
    X(PROTO_IM_RECEIVED, "im_received", "(ssss)")                              \
    /* W>C (account, chat, handle, nick, body) */                              \
    X(PROTO_CHAT_RECEIVED, "chat_received", "(sssss)")                         \
    /* W>C (account, handle, alias, status: available|away|dnd|offline) */     \
    X(PROTO_BUDDY_PRESENCE, "buddy_presence", "(ssss)")                        \
    /* C>W (account, chat) and W>C (account, chat) */                          \
    X(PROTO_CHAT_JOIN, "chat_join", "(ss)")                                    \
    X(PROTO_CHAT_JOINED, "chat_joined", "(ss)")                                \
    /* W>C (account, chat, why) */                                             \
    X(PROTO_CHAT_LEFT, "chat_left", "(sss)")                                   \
    /* C>W (delivery id, account, to handle, body) */                          \
    X(PROTO_SEND_IM, "send_im", "(tsss)")                                      \
    /* C>W (delivery id, account, chat, body) */                               \
    X(PROTO_SEND_CHAT, "send_chat", "(tsss)")                                  \
    /* W>C (delivery id) */                                                    \
    X(PROTO_DELIVERED, "delivered", "(t)")                                     \
    /* W>C (delivery id, why) */                                               \
    X(PROTO_FAILED, "failed", "(ts)")                                         \
    /* C>W (account, handle): make handle a buddy of the bot */                \
    X(PROTO_BUDDY_ADD, "buddy_add", "(ss)")                                    \
    /* C>W (account, handle): drop handle from the bot's buddies */            \
    X(PROTO_BUDDY_REMOVE, "buddy_remove", "(ss)")                              \
    /* W>C (account, handle, message): handle asks to add the bot */           \
    X(PROTO_AUTH_REQUEST, "auth_request", "(sss)")                             \
    /* C>W (account, handle, accept) */                                        \
    X(PROTO_AUTH_ANSWER, "auth_answer", "(ssb)")                               \
    /* W>C (account, chat, nick, initial: already there when the bot came) */  \
    X(PROTO_CHAT_USER_JOINED, "chat_user_joined", "(sssb)")                    \
    /* W>C (account, chat, nick, why) */                                       \
    X(PROTO_CHAT_USER_LEFT, "chat_user_left", "(ssss)")                        \
    /* W>C (account, chat, old nick, new nick) */                              \
    X(PROTO_CHAT_USER_RENAMED, "chat_user_renamed", "(ssss)")                  \
    /* W>C (account, chat, nick who set it or "", topic); C>W the same, to    \
     * set the legacy topic (nick ignored) */                                  \
    X(PROTO_CHAT_TOPIC, "chat_topic", "(ssss)")                                \
    /* C>W (level: 0 error, 1 warning, 2 info, 3 debug): what the worker and  \
     * libpurple write, from the core's [log] legacy; after hello and again   \
     * whenever a reload changes it */                                         \
    X(PROTO_LOG_LEVEL, "log_level", "(u)")                                    \
    /* W>C (account, handle, state: composing|paused|active): a buddy's      \
     * typing, as libpurple's buddy-typing, buddy-typed and                   \
     * buddy-typing-stopped say it */                                         \
    X(PROTO_TYPING, "typing", "(sss)")                                        \
    /* W>C (account, handle): a buddy asked for attention (MSN nudge, Yahoo   \
     * buzz, XEP-0224): libpurple's got-attention */                          \
    X(PROTO_ATTENTION, "attention", "(ss)")                                   \
    /* C>W (account, handles, state: composing|paused|active): the group's    \
     * typing, told to each of handles (serv_send_typing) */                  \
    X(PROTO_SEND_TYPING, "send_typing", "(sass)")                             \
    /* W>C (account, handle, checksum, image): a buddy's picture, at most     \
     * PROTO_ICON_MAX bytes ("" and no bytes: they have none) */              \
    X(PROTO_BUDDY_ICON, "buddy_icon", "(sssay)")                              \
    /* C>W (account, image): the bot's own picture (the group's avatar; no    \
     * bytes: none), at most PROTO_ICON_MAX bytes */                          \
    X(PROTO_SET_ICON, "set_icon", "(say)")                                     \
    /* W>C (account, chat, nick, state: composing|active): a chat              \
     * participant's typing (libpurple's chat-buddy-flags, TYPING set or       \
     * cleared) */                                                             \
    X(PROTO_CHAT_TYPING, "chat_typing", "(ssss)")                              \
    /* W>C (account, chat, nick): a chat participant asked for attention       \
     * (purple_prpl_got_attention_in_chat) */                                  \
    X(PROTO_CHAT_ATTENTION, "chat_attention", "(sss)")                         \
    /* W>C (account, chat, nick, checksum, image): a chat participant's        \
     * picture, as buddy_icon (on joining and on every change) */              \
    X(PROTO_CHAT_USER_ICON, "chat_user_icon", "(ssssay)")

enum proto_type {
#define PROTO_ENUM(e, name, type) e,
    PROTO_MESSAGES(PROTO_ENUM)
#undef PROTO_ENUM
        PROTO_TYPE_COUNT
};

const char *proto_name(enum proto_type t);
const GVariantType *proto_body_type(enum proto_type t);

/* Encodes one frame. body is consumed if floating (else borrowed) and must
 * have the type's body type. Returns a new GBytes (caller unrefs), or NULL
 * with *err set when the body has the wrong type or the frame would exceed
 * PROTO_FRAME_MAX. */
GBytes *proto_encode(enum proto_type t, GVariant *body, GError **err);

/* Decodes frames from a byte stream, however it is cut. */
typedef struct proto_reader proto_reader;

proto_reader *proto_reader_new(void);
void proto_reader_free(proto_reader *r);

/* Appends received bytes. */
void proto_reader_feed(proto_reader *r, const void *data, gsize len);

/* The next complete message: returns 1 with *t and *body (a new reference,
 * caller unrefs, of the type's body type), 0 when more bytes are needed, or
 * -1 with *err set for a broken stream (oversized or malformed frame,
 * unknown type, body of the wrong type): the peer cannot be trusted any
 * more and the connection should be closed. */
int proto_reader_next(proto_reader *r, enum proto_type *t, GVariant **body,
                      GError **err);

#define PROTO_ERROR (proto_error_quark())
GQuark proto_error_quark(void);

#endif
