/* ci_jwt.c: see ci_jwt.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <jwt.h>

#include "ci_jwt.h"
#include "ci_util.h"

#define CI_JWT_MIN_KEY 32
#define CI_JWT_MAX_KEY 4096

static const char *const type_names[] = { "access", "refresh" };

apr_status_t ci_jwt_key_load(apr_pool_t *p, const char *path,
                             ci_jwt_key_t *key, const char **err)
{
    apr_file_t *f;
    apr_size_t n = CI_JWT_MAX_KEY;
    char *buf = apr_palloc(p, CI_JWT_MAX_KEY + 1);
    apr_status_t rv;

    rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, p);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot open the JWT key file %s", path);
        return rv;
    }
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *err = apr_psprintf(p, "cannot read the JWT key file %s", path);
        return rv;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'
                     || buf[n - 1] == ' ' || buf[n - 1] == '\t')) {
        n--;
    }
    if (n < CI_JWT_MIN_KEY || n >= CI_JWT_MAX_KEY) {
        *err = apr_psprintf(p, "the JWT key in %s must hold %d to %d bytes "
                            "(create one with `carinfoctl keygen`)", path,
                            CI_JWT_MIN_KEY, CI_JWT_MAX_KEY - 1);
        return APR_EINVAL;
    }
    key->key = (const unsigned char *)buf;
    key->len = n;
    return APR_SUCCESS;
}

const char *ci_jwt_issue(apr_pool_t *p, const ci_jwt_key_t *key,
                         ci_token_type_t type, const char *user_id,
                         apr_int64_t now, apr_int64_t lifetime,
                         const char **pjti)
{
    const char *uuid = ci_uuid4(p), *result = NULL;
    char jti[33], *tok = NULL;
    jwt_t *jwt = NULL;
    int i, o;

    if (!uuid || !key->key || key->len < CI_JWT_MIN_KEY) {
        return NULL;
    }
    for (i = 0, o = 0; uuid[i]; i++) {     /* SimpleJWT: uuid4().hex */
        if (uuid[i] != '-') {
            jti[o++] = uuid[i];
        }
    }
    jti[o] = '\0';
    if (jwt_new(&jwt)
        || jwt_add_grant(jwt, "token_type", type_names[type])
        || jwt_add_grant_int(jwt, "exp", (long)(now + lifetime))
        || jwt_add_grant_int(jwt, "iat", (long)now)
        || jwt_add_grant(jwt, "jti", jti)
        || jwt_add_grant(jwt, "user_id", user_id)
        || jwt_set_alg(jwt, JWT_ALG_HS256, key->key, (int)key->len)) {
        goto leave;
    }
    tok = jwt_encode_str(jwt);
    /* A failed jwt_set_alg would leave alg none: refuse unsigned output. */
    if (tok && jwt_get_alg(jwt) == JWT_ALG_HS256) {
        result = apr_pstrdup(p, tok);
        if (pjti) {
            *pjti = apr_pstrdup(p, jti);
        }
    }
leave:
    free(tok);
    jwt_free(jwt);
    return result;
}

static int is_hex32(const char *s)
{
    int i;

    for (i = 0; i < 32; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return s[32] == '\0';
}

ci_jwt_result_t ci_jwt_verify(apr_pool_t *p, const ci_jwt_key_t *key,
                              const char *token, ci_token_type_t want,
                              apr_int64_t now, ci_jwt_claims_t *claims)
{
    ci_jwt_result_t res = CI_JWT_OK;
    const char *type, *uid, *jti;
    jwt_t *jwt = NULL;
    long exp, iat;

    memset(claims, 0, sizeof(*claims));
    if (!key->key || key->len < CI_JWT_MIN_KEY) {
        return CI_JWT_BAD_SIGNATURE;        /* never decode without a key */
    }
    if (!token || strlen(token) > 4096 || !strchr(token, '.')) {
        return CI_JWT_MALFORMED;
    }
    if (jwt_decode(&jwt, token, key->key, (int)key->len) || !jwt) {
        return CI_JWT_BAD_SIGNATURE;
    }
    if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
        res = CI_JWT_BAD_ALG;
        goto leave;
    }
    errno = 0;
    exp = jwt_get_grant_int(jwt, "exp");
    if (errno == ENOENT) {
        res = CI_JWT_MISSING_CLAIM;
        goto leave;
    }
    iat = jwt_get_grant_int(jwt, "iat");
    if (errno == ENOENT) {
        iat = 0;
    }
    if ((apr_int64_t)exp <= now) {
        res = CI_JWT_EXPIRED;
        goto leave;
    }
    type = jwt_get_grant(jwt, "token_type");
    if (!type || strcmp(type, type_names[want])) {
        res = type ? CI_JWT_WRONG_TYPE : CI_JWT_MISSING_CLAIM;
        goto leave;
    }
    uid = jwt_get_grant(jwt, "user_id");
    jti = jwt_get_grant(jwt, "jti");
    if (!uid || !jti || !ci_uuid_normalize(p, uid) || !is_hex32(jti)) {
        res = CI_JWT_MISSING_CLAIM;
        goto leave;
    }
    claims->type = want;
    claims->user_id = ci_uuid_normalize(p, uid);
    claims->jti = apr_pstrdup(p, jti);
    claims->iat = iat;
    claims->exp = exp;
leave:
    jwt_free(jwt);
    return res;
}

const char *ci_jwt_result_name(ci_jwt_result_t r)
{
    static const char *const names[] = {
        "ok", "malformed", "bad signature", "algorithm not HS256",
        "expired", "wrong token type", "claim missing"
    };
    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}
