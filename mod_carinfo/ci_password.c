/* ci_password.c: see ci_password.h. */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <apr_base64.h>
#include <apr_general.h>
#include <apr_md5.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "ci_password.h"
#include "ci_util.h"

#define BCRYPT_LEN 60
#define PBKDF2_PREFIX "pbkdf2_sha256$"
#define PBKDF2_MAX_ITER 10000000

const char *ci_password_hash(apr_pool_t *p, const char *pw, int cost)
{
    unsigned char salt[16];
    char *out = apr_palloc(p, BCRYPT_LEN + 1);

    if (apr_generate_random_bytes(salt, sizeof(salt)) != APR_SUCCESS
        || apr_bcrypt_encode(pw, (unsigned)cost, salt, sizeof(salt), out,
                             BCRYPT_LEN + 1) != APR_SUCCESS) {
        return NULL;
    }
    return out;
}

static int verify_bcrypt(apr_pool_t *p, const char *pw, const char *stored)
{
    struct crypt_data *cd = apr_pcalloc(p, sizeof(*cd));
    const char *out = crypt_rn(pw, stored, cd, sizeof(*cd));
    size_t n = strlen(stored);
    int ok;

    ok = out && strlen(out) == n && ci_ct_equal(out, stored, n);
    memset(cd, 0, sizeof(*cd));
    return ok;
}

/* pbkdf2_sha256$<iterations>$<salt>$<base64 of 32 bytes> */
static int verify_pbkdf2(apr_pool_t *p, const char *pw, const char *stored)
{
    char *copy = apr_pstrdup(p, stored + strlen(PBKDF2_PREFIX)), *last;
    const char *iter_s = apr_strtok(copy, "$", &last);
    const char *salt = apr_strtok(NULL, "$", &last);
    const char *want = apr_strtok(NULL, "$", &last);
    unsigned char dk[32];
    char *got;
    apr_int64_t iter;
    int ok;

    if (!iter_s || !salt || !want || ci_parse_int64(iter_s, &iter)
        || iter < 1 || iter > PBKDF2_MAX_ITER) {
        return 0;
    }
    if (!PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), (const unsigned char *)salt,
                           (int)strlen(salt), (int)iter, EVP_sha256(),
                           sizeof(dk), dk)) {
        return 0;
    }
    got = apr_palloc(p, (apr_size_t)apr_base64_encode_len(sizeof(dk)));
    apr_base64_encode(got, (const char *)dk, sizeof(dk));
    ok = strlen(got) == strlen(want) && ci_ct_equal(got, want, strlen(want));
    memset(dk, 0, sizeof(dk));
    return ok;
}

int ci_password_verify(apr_pool_t *p, const char *pw, const char *stored,
                       int *rehash)
{
    if (rehash) {
        *rehash = 0;
    }
    if (!pw || !stored) {
        return 0;
    }
    if (!strncmp(stored, "$2y$", 4) || !strncmp(stored, "$2b$", 4)
        || !strncmp(stored, "$2a$", 4)) {
        return verify_bcrypt(p, pw, stored);
    }
    if (!strncmp(stored, PBKDF2_PREFIX, strlen(PBKDF2_PREFIX))) {
        if (rehash) {
            *rehash = 1;
        }
        return verify_pbkdf2(p, pw, stored);
    }
    return 0;
}

void ci_password_burn(apr_pool_t *p, const char *pw, int cost)
{
    (void)ci_password_hash(p, pw, cost);
}
