/* ci_jwt: SimpleJWT-compatible tokens over libjwt 1.10.
 *
 * HS256 only, with a key from CarInfoJWTKeyFile. libjwt 1.10 checks the
 * signature but not the algorithm, the expiry or the token type, and it
 * accepts anything when given no key: this wrapper checks all of that and
 * never decodes without a key. Claims as SimpleJWT writes them:
 * token_type, exp, iat, jti, user_id.
 */
#ifndef mod_carinfo_ci_jwt_h
#define mod_carinfo_ci_jwt_h

#include <apr_pools.h>

typedef enum { CI_TOKEN_ACCESS = 0, CI_TOKEN_REFRESH = 1 } ci_token_type_t;

typedef struct ci_jwt_key_t {
    const unsigned char *key;
    apr_size_t len;
} ci_jwt_key_t;

typedef struct ci_jwt_claims_t {
    ci_token_type_t type;
    const char *user_id;    /* the user's uuid */
    const char *jti;        /* 32 hex digits */
    apr_int64_t iat;        /* seconds since the epoch */
    apr_int64_t exp;
} ci_jwt_claims_t;

/* Why a token was refused (for the log; clients get one message). */
typedef enum {
    CI_JWT_OK = 0, CI_JWT_MALFORMED, CI_JWT_BAD_SIGNATURE, CI_JWT_BAD_ALG,
    CI_JWT_EXPIRED, CI_JWT_WRONG_TYPE, CI_JWT_MISSING_CLAIM
} ci_jwt_result_t;

/* Reads a key file written by `carinfoctl keygen` (the text, trailing
 * white space cut; at least 32 bytes). On failure *err (from `p`) says
 * why and an APR error is returned. The key is allocated from `p`. */
apr_status_t ci_jwt_key_load(apr_pool_t *p, const char *path,
                             ci_jwt_key_t *key, const char **err);

/* Issues a token of `type` for `user_id`, valid `lifetime` seconds from
 * `now` (seconds). *jti receives its id (from `p`; may be NULL). Returns
 * the token from `p`, or NULL if libjwt failed (never an unsigned one). */
const char *ci_jwt_issue(apr_pool_t *p, const ci_jwt_key_t *key,
                         ci_token_type_t type, const char *user_id,
                         apr_int64_t now, apr_int64_t lifetime,
                         const char **jti);

/* Verifies `token` as a `want` token at time `now` (seconds): signature
 * with `key`, alg HS256, exp in the future, token_type, the claims
 * present. Fills *claims (strings from `p`) and returns CI_JWT_OK, or the
 * reason it was refused. */
ci_jwt_result_t ci_jwt_verify(apr_pool_t *p, const ci_jwt_key_t *key,
                              const char *token, ci_token_type_t want,
                              apr_int64_t now, ci_jwt_claims_t *claims);

/* A short name of a ci_jwt_result_t for log lines. */
const char *ci_jwt_result_name(ci_jwt_result_t r);

#endif /* mod_carinfo_ci_jwt_h */
