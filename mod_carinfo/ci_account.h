/* ci_account: users, refresh-token families and rate limits in the store.
 *
 * All functions take a ci_db_t and a scratch pool `p` (results are
 * allocated from it) and return APR_SUCCESS or a ci_db error
 * (CI_DB_EUNAVAIL, CI_DB_EQUERY, CI_DB_ECONSTRAINT).
 */
#ifndef mod_carinfo_ci_account_h
#define mod_carinfo_ci_account_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "ci_db.h"
#include "ci_jwt.h"

typedef struct ci_user_t {
    apr_int64_t id;
    const char *uuid;
    const char *phone_number;       /* NULL until registered */
    const char *email;              /* NULL when none */
    const char *full_name;
    const char *phone_number_2;
    const char *car_model;
    const char *car_plate_number;
    const char *instagram;
    const char *telegram;
    const char *whatsapp;
    int is_profile_public;
    int is_registered;
    apr_int64_t created_at;         /* microseconds */
    apr_int64_t updated_at;
    const char *password_hash;      /* never leaves the module */
} ci_user_t;

typedef enum {
    CI_USER_BY_UUID,                /* users.uuid */
    CI_USER_BY_PHONE,               /* a registered user's E.164 phone */
    CI_USER_BY_STICKER,             /* the user a sticker token points to */
    CI_USER_BY_ID                   /* users.id, in decimal */
} ci_user_key_t;

/* Looks a user up; *user is NULL when there is none. */
apr_status_t ci_user_find(ci_db_t *db, apr_pool_t *p, ci_user_key_t by,
                          const char *key, ci_user_t **user);

/* Public, registered users in a stable order (by id): `limit` of them
 * from `offset`, as an array of ci_user_t *; *count is how many there are
 * in all. */
apr_status_t ci_users_public(ci_db_t *db, apr_pool_t *p, int limit,
                             apr_int64_t offset, apr_array_header_t **users,
                             apr_int64_t *count);

/* What a QR token is: *owner NULL when unknown; (*owner)->is_registered
 * 0 while the sticker is free. */
apr_status_t ci_qr_state(ci_db_t *db, apr_pool_t *p, const char *token,
                         ci_user_t **owner);

/* Links a free sticker to `user_id`; *won is 1 for the one claim that got
 * it when several race. */
apr_status_t ci_qr_claim(ci_db_t *db, apr_pool_t *p, const char *token,
                         apr_int64_t user_id, int *won);

/* The owner's view (everything but the hash) or the public card (no
 * phone_number, email or flags). A new object owned by `p`. */
json_t *ci_user_json(apr_pool_t *p, const ci_user_t *u, int owner_view);

/* A token pair: access and refresh. */
typedef struct ci_token_pair_t {
    const char *access;
    const char *refresh;
} ci_token_pair_t;

typedef struct ci_token_policy_t {
    const ci_jwt_key_t *key;
    apr_int64_t access_lifetime;    /* seconds */
    apr_int64_t refresh_lifetime;
} ci_token_policy_t;

/* Issues a pair for `user` and stores the refresh token, in family
 * `family` (NULL starts a new family, i.e. a new login) after `parent`
 * (NULL for none). Times in seconds. */
apr_status_t ci_tokens_issue(ci_db_t *db, apr_pool_t *p,
                             const ci_token_policy_t *pol,
                             apr_int64_t user_id, const char *user_uuid,
                             const char *family, const char *parent,
                             apr_int64_t now, ci_token_pair_t *pair);

typedef enum {
    CI_ROTATE_OK = 0,
    CI_ROTATE_UNKNOWN,              /* not ours, or its user is gone */
    CI_ROTATE_REVOKED,              /* its family was revoked */
    CI_ROTATE_REUSED                /* already rotated: family now revoked */
} ci_rotate_t;

/* Rotates a verified refresh token: marks it used and issues the next
 * pair of its family, in one transaction. A token presented again after
 * its rotation revokes its whole family (reuse detection). *result says
 * which; *pair is set only for CI_ROTATE_OK. */
apr_status_t ci_tokens_rotate(ci_db_t *db, apr_pool_t *p,
                              const ci_token_policy_t *pol,
                              const ci_jwt_claims_t *claims, apr_int64_t now,
                              ci_rotate_t *result, ci_token_pair_t *pair);

/* Revokes every refresh token of the login that issued `claims` (a
 * verified refresh token of the user): logout. */
apr_status_t ci_tokens_revoke(ci_db_t *db, apr_pool_t *p,
                              const ci_jwt_claims_t *claims, apr_int64_t now);

/* Counts one hit on `bucket` in a fixed window of `window` seconds shared
 * by every process using the database. *allowed is 0 once more than
 * `limit` hits fell in the current window; *retry_after then says in how
 * many seconds it ends. */
apr_status_t ci_ratelimit_hit(ci_db_t *db, apr_pool_t *p, const char *bucket,
                              int limit, int window, apr_int64_t now,
                              int *allowed, apr_int64_t *retry_after);

/* Forgets `bucket` (e.g. after a successful login). */
apr_status_t ci_ratelimit_reset(ci_db_t *db, apr_pool_t *p,
                                const char *bucket);

#endif /* mod_carinfo_ci_account_h */
