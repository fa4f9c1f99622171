/* shard_of: prints, for each bare JID read one a line from stdin, the shard
 * shard_of() gives it among argv[1] shards ("JID INDEX"); the C side of
 * tests/real/test_shard_routing.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shard.h"

int main(int argc, char **argv)
{
    char line[3072];
    unsigned long shards;

    if (argc != 2 || (shards = strtoul(argv[1], NULL, 10)) == 0) {
        fprintf(stderr, "usage: shard_of SHARDS < jids\n");
        return 2;
    }
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        printf("%s %u\n", line, shard_of(line, (unsigned)shards));
    }
    return 0;
}
