/* imgroups_prpl: the contract between imgroups-purple (the worker) and the
 * project's own libpurple protocol plugins (transports/msn,
 * transports/yahoo) about delivery confirmations.
 *
 * libpurple's send_im returns once a message is handed to the plugin, which
 * may hold it (waiting for a switchboard to open, say) and may lose it with
 * its connection. A message the worker reports delivered leaves the core's
 * outbox for good, so the worker reports only what the network confirmed.
 *
 * A plugin that can tell exports, from its shared object, a function named
 * IMGROUPS_PRPL_MARK_SYMBOL of type imgroups_prpl_mark_fn. The worker calls
 * it right after the send_im (or chat_send) calls of one message (all its
 * pieces), with the message's id and, as `who`, the IM's handle or the
 * chat's conversation name (get_chat_name's). The plugin later emits IMGROUPS_PRPL_DELIVERY_SIGNAL on
 * its PurplePlugin, exactly once per accepted mark, with (gc, const
 * imgroups_delivery *): ok TRUE when everything sent to `who` before the
 * mark was taken by the network (on MSN, ACKed), FALSE with a reason when
 * any of it was refused or lost (NAK, switchboard failure, connection
 * dropped). Marks settle in the order they were made for one `who`. A mark
 * the plugin cannot follow is refused (the function returns FALSE); the
 * worker then reports at once, as for any other plugin.
 *
 * The plugin registers the signal in its load function with
 * imgroups_prpl_signal_register() and drops it in unload with
 * imgroups_prpl_signal_unregister(). */
#ifndef IMGROUPS_PRPL_H
#define IMGROUPS_PRPL_H

#include <glib.h>

#include <connection.h>
#include <plugin.h>
#include <signals.h>
#include <value.h>

#define IMGROUPS_PRPL_MARK_SYMBOL     "imgroups_prpl_mark"
#define IMGROUPS_PRPL_DELIVERY_SIGNAL "imgroups-delivery"

typedef struct imgroups_delivery {
    guint64 id;
    gboolean ok;
    const char *why; /* NULL when ok */
} imgroups_delivery;

typedef gboolean (*imgroups_prpl_mark_fn)(PurpleConnection *gc, const char *who,
                                          guint64 id);

static inline void imgroups_prpl_signal_register(PurplePlugin *plugin)
{
    purple_signal_register(
        plugin, IMGROUPS_PRPL_DELIVERY_SIGNAL,
        purple_marshal_VOID__POINTER_POINTER, NULL, 2,
        purple_value_new(PURPLE_TYPE_SUBTYPE, PURPLE_SUBTYPE_CONNECTION),
        purple_value_new(PURPLE_TYPE_POINTER));
}

static inline void imgroups_prpl_signal_unregister(PurplePlugin *plugin)
{
    purple_signal_unregister(plugin, IMGROUPS_PRPL_DELIVERY_SIGNAL);
}

#endif
