/* xerr: stanza errors as values (RFC 6120 §8.3): one table gives the enum,
 * the defined condition and its default type; handlers return one of them
 * and xerr_reply turns it into the error stanza. */
#ifndef IMGROUPS_XERR_H
#define IMGROUPS_XERR_H

#include <strophe.h>

/* X(enum, condition, default type) — RFC 6120 §8.3.3 */
#define XERR_MAP(X)                                                            \
    X(XERR_BAD_REQUEST, "bad-request", "modify")                               \
    X(XERR_CONFLICT, "conflict", "cancel")                                     \
    X(XERR_FEATURE_NOT_IMPLEMENTED, "feature-not-implemented", "cancel")       \
    X(XERR_FORBIDDEN, "forbidden", "auth")                                     \
    X(XERR_GONE, "gone", "cancel")                                             \
    X(XERR_INTERNAL_SERVER_ERROR, "internal-server-error", "cancel")           \
    X(XERR_ITEM_NOT_FOUND, "item-not-found", "cancel")                         \
    X(XERR_JID_MALFORMED, "jid-malformed", "modify")                           \
    X(XERR_NOT_ACCEPTABLE, "not-acceptable", "modify")                         \
    X(XERR_NOT_ALLOWED, "not-allowed", "cancel")                               \
    X(XERR_NOT_AUTHORIZED, "not-authorized", "auth")                           \
    X(XERR_POLICY_VIOLATION, "policy-violation", "modify")                     \
    X(XERR_RECIPIENT_UNAVAILABLE, "recipient-unavailable", "wait")             \
    X(XERR_REDIRECT, "redirect", "modify")                                     \
    X(XERR_REGISTRATION_REQUIRED, "registration-required", "auth")             \
    X(XERR_REMOTE_SERVER_NOT_FOUND, "remote-server-not-found", "cancel")       \
    X(XERR_REMOTE_SERVER_TIMEOUT, "remote-server-timeout", "wait")             \
    X(XERR_RESOURCE_CONSTRAINT, "resource-constraint", "wait")                 \
    X(XERR_SERVICE_UNAVAILABLE, "service-unavailable", "cancel")               \
    X(XERR_SUBSCRIPTION_REQUIRED, "subscription-required", "auth")             \
    X(XERR_UNDEFINED_CONDITION, "undefined-condition", "modify")               \
    X(XERR_UNEXPECTED_REQUEST, "unexpected-request", "wait")

enum xerr {
    XERR_NONE = 0, /* success: no error to send */
#define XERR_ENUM(e, cond, type) e,
    XERR_MAP(XERR_ENUM)
#undef XERR_ENUM
        XERR_COUNT
};

#define XERR_NS "urn:ietf:params:xml:ns:xmpp-stanzas"

const char *xerr_condition(enum xerr e);
const char *xerr_type(enum xerr e);

/* Builds the error reply to st: same element, type='error', id kept, from and
 * to swapped, <error type='…'><condition/><text/></error> (text may be NULL).
 * Returns a new stanza owned by the caller, or NULL when st must not be
 * answered: RFC 6120 §8.3.1 "An entity that receives an error stanza MUST
 * NOT respond to the stanza with a further error stanza", and a stanza
 * without a from has nobody to answer. */
xmpp_stanza_t *xerr_reply(xmpp_ctx_t *ctx, xmpp_stanza_t *st, enum xerr e,
                          const char *text);

#endif
