/* shard: Erlang's phash2 of a bare JID tuple, and the shard it names (the
 * ownership rule of docs/cluster.md). */
#include "shard.h"

#include <stdio.h>
#include <string.h>

/* Bob Jenkins' mix, as erts/emulator/beam/erl_term_hashing.c's MIX. */
static void mix(uint32_t *pa, uint32_t *pb, uint32_t *pc)
{
    uint32_t a = *pa, b = *pb, c = *pc;

    a -= b, a -= c, a ^= c >> 13;
    b -= c, b -= a, b ^= a << 8;
    c -= a, c -= b, c ^= b >> 13;
    a -= b, a -= c, a ^= c >> 12;
    b -= c, b -= a, b ^= a << 16;
    c -= a, c -= b, c ^= b >> 5;
    a -= b, a -= c, a ^= c >> 3;
    b -= c, b -= a, b ^= a << 10;
    c -= a, c -= b, c ^= b >> 15;
    *pa = a, *pb = b, *pc = c;
}

/* The constants make_hash2 mixes in: HCONST (the golden ratio) and its
 * multiples for a tuple's arity (9) and a binary (13), mod 2^32. */
enum {
    SHARD_HCONST = 0x9e3779b9u,
    SHARD_HCONST_9 = 0x8ff34781u,
    SHARD_HCONST_13 = 0x08d12e65u,
};

static uint32_t le32(const unsigned char *k)
{
    return (uint32_t)k[0] | (uint32_t)k[1] << 8 | (uint32_t)k[2] << 16 |
           (uint32_t)k[3] << 24;
}

/* make_hash2 of one byte-aligned binary after the terms before it hashed to
 * hash: block_hash(bytes, len, HCONST_13 + hash), or just the seed for
 * <<>>. Binaries longer than 4 GiB hash their length mod 2^32 in Erlang
 * too; JIDs are far shorter. */
static uint32_t hash_binary(const unsigned char *k, size_t len, uint32_t hash)
{
    uint32_t a = SHARD_HCONST, b = SHARD_HCONST, c = SHARD_HCONST_13 + hash;
    size_t left = len;

    if (len == 0)
        return c;
    for (; left >= 12; left -= 12, k += 12) {
        a += le32(k);
        b += le32(k + 4);
        c += le32(k + 8);
        mix(&a, &b, &c);
    }
    c += (uint32_t)len;
    /* The tail, as block_hash_final_bytes: bytes 0-3 into a, 4-7 into b,
     * 8-10 into c above its first byte, which holds the length. */
    for (size_t i = 0; i < left; i++) {
        uint32_t *word = i < 4 ? &a : i < 8 ? &b : &c;

        *word += (uint32_t)k[i] << (8 * (i % 4) + (i >= 8 ? 8 : 0));
    }
    mix(&a, &b, &c);
    return c;
}

uint32_t shard_hash(const char *local, size_t local_len, const char *domain,
                    size_t domain_len)
{
    /* A tuple: its arity mixed in first (UINT32_HASH(arity, HCONST_9)),
     * then each element in order, each binary seeded by the hash so far. */
    uint32_t a = SHARD_HCONST_9 + 3, b = SHARD_HCONST_9, hash = 0;

    mix(&a, &b, &hash);
    hash = hash_binary((const unsigned char *)local, local_len, hash);
    hash = hash_binary((const unsigned char *)domain, domain_len, hash);
    return hash_binary(NULL, 0, hash); /* the resource, <<>> */
}

/* erlang:phash2(Term, Range) is the 32-bit hash rem Range. */
static unsigned shard_rem(uint32_t hash, unsigned shards)
{
    return shards <= 1 ? 0 : (unsigned)(hash % shards);
}

unsigned shard_of(const char *bare_jid, unsigned shards)
{
    size_t len = strcspn(bare_jid, "/");
    const char *at = memchr(bare_jid, '@', len);

    if (!at)
        return shard_rem(shard_hash("", 0, bare_jid, len), shards);
    return shard_rem(shard_hash(bare_jid, (size_t)(at - bare_jid), at + 1,
                                len - (size_t)(at - bare_jid) - 1),
                     shards);
}

unsigned shard_of_parts(const char *node, const char *domain, unsigned shards)
{
    if (shards <= 1)
        return 0; /* the router asks for every stanza: no hash for one */
    return shard_rem(shard_hash(node ? node : "", node ? strlen(node) : 0,
                                domain, strlen(domain)),
                     shards);
}

int shard_probe_node(unsigned shard, unsigned shards, const char *domain,
                     char *buf, size_t len)
{
    unsigned n = shards ? shards : 1;

    if (shard >= n)
        return -1;
    for (unsigned long i = 0; i < 64ul * n; i++) {
        int w = snprintf(buf, len, "shard-probe-%lu", i);

        if (w < 0 || (size_t)w >= len)
            return -1;
        if (shard_of_parts(buf, domain, n) == shard)
            return 0;
    }
    return -1;
}
