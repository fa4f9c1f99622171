/* testutil: what the C tests share — temp directories and their removal,
 * a temp store fixture. */
#ifndef IMGROUPS_TESTUTIL_H
#define IMGROUPS_TESTUTIL_H

/* Removes path and everything below it; asserts the directories go. */
void testutil_rm_rf(const char *path);

#include <glib.h>

#include "store.h"

/* A GTest fixture: a store opened in a fresh temp dir, removed afterwards. */
typedef struct testutil_store {
    char *dir;
    store *s;
} testutil_store;

void testutil_store_setup(testutil_store *f, gconstpointer data);
void testutil_store_teardown(testutil_store *f, gconstpointer data);
/* Closes and opens the store again (what a restart would see). */
void testutil_store_reopen(testutil_store *f);

#endif
