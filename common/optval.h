/* optval: how a protocol plugin's account option is written in the
 * configuration (option.KEY = VALUE): the one reading of integers and
 * booleans, shared by the worker that applies them and the core's
 * --check-config that checks them. */
#ifndef IMGROUPS_OPTVAL_H
#define IMGROUPS_OPTVAL_H

#include <glib.h>

/* A decimal int ("6667", "-1"). Returns 0 with *out, or -1. */
int optval_int(const char *s, int *out);

/* true/yes/1 or false/no/0, any case. Returns 0 with *out, or -1. */
int optval_bool(const char *s, gboolean *out);

#endif
