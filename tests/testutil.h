/* testutil: what the C tests share — temp directories and their removal. */
#ifndef IMGROUPS_TESTUTIL_H
#define IMGROUPS_TESTUTIL_H

/* Removes path and everything below it; asserts the directories go. */
void testutil_rm_rf(const char *path);

#endif
