/* im: the bot's one-to-one side: IMs in and out, buddies' presence, the
 * buddy list the core keeps, and authorization requests. */
#ifndef IMGROUPS_IM_H
#define IMGROUPS_IM_H

#include <glib.h>

typedef struct bot bot;

typedef struct im_state {
    GHashTable *presence; /* normalised handle → last status sent */
    GList *auths;         /* struct im_auth, waiting for auth_answer */
} im_state;

/* Connects the IM and buddy signals (handle b) and the account UI ops. */
void im_init(bot *b);

/* send_im (id, account, handle, body): sent in pieces, then followed by
 * delivery until the network confirms it. body borrowed. */
void im_handle_send(bot *b, GVariant *body);
/* buddy_add (account, handle) and buddy_remove (account, handle). */
void im_handle_buddy_add(bot *b, GVariant *body);
void im_handle_buddy_remove(bot *b, GVariant *body);
/* auth_answer (account, handle, accept): every pending request from
 * handle answered. */
void im_handle_auth_answer(bot *b, GVariant *body);

/* The connection is gone: every buddy reported online is reported offline,
 * and forgotten. */
void im_on_down(bot *b);

void im_free(bot *b);

#endif
