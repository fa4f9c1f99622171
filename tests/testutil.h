/* testutil: what the C tests share — temp directories and their removal,
 * a temp store fixture, its test registration, one checked write and raw
 * records put past a module's own encoder. */
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
/* Closes the store, puts in its place a copy of tests/fixtures/<name>/
 * data.mdb (a store an older build wrote; its README says how) and opens
 * it with today's code, which migrates it. */
void testutil_store_load_fixture(testutil_store *f, const char *name);

/* One test on the store fixture: its GTest path and its function. */
typedef struct testutil_store_case {
    const char *name;
    void (*fn)(testutil_store *f, gconstpointer data);
} testutil_store_case;

/* Adds each of the n cases with testutil_store_setup/teardown around it. */
void testutil_store_add(const testutil_store_case *cases, gsize n);

/* Runs fn in one store_write. *rc is where fn records what the call under
 * test returned (read after fn ran); store_write must agree: 0 and no error
 * when *rc is 0, else non-zero and an error (freed here). Returns *rc. */
int testutil_store_write(testutil_store *f, store_write_fn fn, void *userdata,
                         const int *rc);

/* Puts under key in db the len bytes at bytes, or when bytes is NULL the
 * GVariant written in text form in parsed, bypassing the module's own
 * encoder (records this build cannot decode, stale index entries). Asserts
 * the write succeeds. Nothing is kept. */
void testutil_put_raw(testutil_store *f, enum store_db db, const void *key,
                      size_t klen, const void *bytes, size_t len,
                      const char *parsed);

#endif
