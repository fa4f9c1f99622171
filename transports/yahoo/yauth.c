/* yauth: the pre-YMSG16 login response, Y64 and md5crypt. */
#include "yauth.h"

#include <string.h>

#include "secret.h"

static const char y64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";

void yauth_y64_encode(const guint8 *in, gsize len, char *out)
{
    for (; len >= 3; in += 3, len -= 3) {
        *out++ = y64_chars[in[0] >> 2];
        *out++ = y64_chars[((in[0] & 0x03) << 4) | (in[1] >> 4)];
        *out++ = y64_chars[((in[1] & 0x0F) << 2) | (in[2] >> 6)];
        *out++ = y64_chars[in[2] & 0x3F];
    }
    if (len) {
        *out++ = y64_chars[in[0] >> 2];
        if (len == 1) {
            *out++ = y64_chars[(in[0] & 0x03) << 4];
            *out++ = '-';
        } else {
            *out++ = y64_chars[((in[0] & 0x03) << 4) | (in[1] >> 4)];
            *out++ = y64_chars[(in[1] & 0x0F) << 2];
        }
        *out++ = '-';
    }
    *out = '\0';
}

/* ---- md5crypt ---------------------------------------------------------- */

#define MD5_LEN      16
#define CRYPT_MAGIC  "$1$"
#define SALT_MAX     8
#define CRYPT_ROUNDS 1000

static const char crypt_chars[] =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void md5_digest(GChecksum *c, guint8 out[MD5_LEN])
{
    gsize n = MD5_LEN;

    g_checksum_get_digest(c, out, &n);
}

static void update(GChecksum *c, const void *data, gsize len)
{
    g_checksum_update(c, data, (gssize)len);
}

/* n characters of v, low 6 bits first. */
static void to64(GString *out, guint32 v, int n)
{
    while (n-- > 0) {
        g_string_append_c(out, crypt_chars[v & 0x3F]);
        v >>= 6;
    }
}

char *yauth_md5crypt(const char *password, const char *salt)
{
    static const guint8 order[5][3] = {
        {0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}};
    gsize pw_len = strlen(password), salt_len;
    GChecksum *c = g_checksum_new(G_CHECKSUM_MD5);
    guint8 alt[MD5_LEN], fin[MD5_LEN];
    const char *end;
    GString *out;

    if (g_str_has_prefix(salt, CRYPT_MAGIC))
        salt += strlen(CRYPT_MAGIC);
    end = strchr(salt, '$');
    salt_len = MIN(end ? (gsize)(end - salt) : strlen(salt), SALT_MAX);

    /* alt = MD5(password salt password) */
    update(c, password, pw_len);
    update(c, salt, salt_len);
    update(c, password, pw_len);
    md5_digest(c, alt);

    g_checksum_reset(c);
    update(c, password, pw_len);
    update(c, CRYPT_MAGIC, strlen(CRYPT_MAGIC));
    update(c, salt, salt_len);
    for (gsize left = pw_len; left > 0; left -= MIN(left, MD5_LEN))
        update(c, alt, MIN(left, MD5_LEN));
    for (gsize i = pw_len; i; i >>= 1)
        update(c, (i & 1) ? "" : password, 1);
    md5_digest(c, fin);

    for (int i = 0; i < CRYPT_ROUNDS; i++) {
        g_checksum_reset(c);
        if (i & 1)
            update(c, password, pw_len);
        else
            update(c, fin, MD5_LEN);
        if (i % 3)
            update(c, salt, salt_len);
        if (i % 7)
            update(c, password, pw_len);
        if (i & 1)
            update(c, fin, MD5_LEN);
        else
            update(c, password, pw_len);
        md5_digest(c, fin);
    }
    g_checksum_free(c);

    out = g_string_new(CRYPT_MAGIC);
    g_string_append_len(out, salt, (gssize)salt_len);
    g_string_append_c(out, '$');
    for (gsize i = 0; i < G_N_ELEMENTS(order); i++)
        to64(out,
             ((guint32)fin[order[i][0]] << 16) |
                 ((guint32)fin[order[i][1]] << 8) | fin[order[i][2]],
             4);
    to64(out, fin[11], 2);
    secret_wipe(alt, sizeof alt);
    secret_wipe(fin, sizeof fin);
    return g_string_free(out, FALSE);
}

/* ---- the response ------------------------------------------------------ */

/* Fixed by the clients of the time. */
#define YAHOO_SALT "$1$_2S43d5f"

/* Y64(MD5(s)). */
static void md5_y64(const char *s, char out[YAUTH_RESPONSE_SIZE])
{
    GChecksum *c = g_checksum_new(G_CHECKSUM_MD5);
    guint8 d[MD5_LEN];

    update(c, s, strlen(s));
    md5_digest(c, d);
    g_checksum_free(c);
    yauth_y64_encode(d, sizeof d, out);
}

enum part { ID, CHAL, HASH };

/* Per sv = (chal[15] % 8) % 5: the challenge character whose value picks
 * the checksum character, and the order of the three parts after it. */
static const struct {
    int index;
    enum part order[3];
} schemes[5] = {
    {7, {HASH, ID, CHAL}}, {9, {ID, CHAL, HASH}}, {15, {CHAL, HASH, ID}},
    {1, {ID, HASH, CHAL}}, {3, {HASH, CHAL, ID}},
};

static void one_response(const char *id, const char *chal, char checksum,
                         const char *hash, const enum part order[3],
                         char out[YAUTH_RESPONSE_SIZE])
{
    GString *s = g_string_new(NULL);

    g_string_append_c(s, checksum);
    for (int i = 0; i < 3; i++)
        g_string_append(s, order[i] == ID     ? id
                           : order[i] == CHAL ? chal
                                              : hash);
    md5_y64(s->str, out);
    secret_wipe(s->str, s->len);
    g_string_free(s, TRUE);
}

int yauth_response(const char *id, const char *password, const char *challenge,
                   char r6[YAUTH_RESPONSE_SIZE], char r96[YAUTH_RESPONSE_SIZE])
{
    const guint8 *chal = (const guint8 *)challenge;
    char pw_hash[YAUTH_RESPONSE_SIZE], crypt_hash[YAUTH_RESPONSE_SIZE];
    char *crypted;
    char checksum;
    int sv;

    if (strlen(challenge) < YAUTH_CHALLENGE_MIN)
        return -1;
    sv = (chal[15] % 8) % 5;
    checksum = challenge[chal[schemes[sv].index] % 16];
    md5_y64(password, pw_hash);
    crypted = yauth_md5crypt(password, YAHOO_SALT);
    md5_y64(crypted, crypt_hash);
    secret_free(crypted);
    one_response(id, challenge, checksum, pw_hash, schemes[sv].order, r6);
    one_response(id, challenge, checksum, crypt_hash, schemes[sv].order, r96);
    secret_wipe(pw_hash, sizeof pw_hash);
    secret_wipe(crypt_hash, sizeof crypt_hash);
    return 0;
}
