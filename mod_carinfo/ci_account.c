/* ci_account.c: see ci_account.h. */
#include <string.h>
#include <apr_strings.h>

#include "ci_account.h"
#include "ci_json.h"
#include "ci_util.h"

#define USEC 1000000

/* Row `r` of a result selected with CI_SQL_USER_COLS. */
static ci_user_t *user_from_row(apr_pool_t *p, const ci_db_rows_t *rows,
                                int r)
{
    ci_user_t *u = apr_pcalloc(p, sizeof(*u));
    int c = 0;

    u->id = ci_db_cell_i64(rows, r, c++, 0);
    u->uuid = ci_db_cell(rows, r, c++);
    u->phone_number = ci_db_cell(rows, r, c++);
    u->email = ci_db_cell(rows, r, c++);
    u->full_name = ci_db_cell(rows, r, c++);
    u->phone_number_2 = ci_db_cell(rows, r, c++);
    u->car_model = ci_db_cell(rows, r, c++);
    u->car_plate_number = ci_db_cell(rows, r, c++);
    u->instagram = ci_db_cell(rows, r, c++);
    u->telegram = ci_db_cell(rows, r, c++);
    u->whatsapp = ci_db_cell(rows, r, c++);
    u->is_profile_public = ci_db_cell_i64(rows, r, c++, 0) != 0;
    u->is_registered = ci_db_cell_i64(rows, r, c++, 0) != 0;
    u->created_at = ci_db_cell_i64(rows, r, c++, 0);
    u->updated_at = ci_db_cell_i64(rows, r, c++, 0);
    u->password_hash = ci_db_cell(rows, r, c++);
    return u;
}

apr_status_t ci_user_find(ci_db_t *db, apr_pool_t *p, ci_user_key_t by,
                          const char *key, ci_user_t **user)
{
    static const ci_stmt_id_t stmt[] = {
        CI_STMT_USER_BY_UUID, CI_STMT_USER_BY_PHONE, CI_STMT_USER_BY_STICKER,
        CI_STMT_USER_BY_ID
    };
    ci_db_rows_t *rows;
    apr_status_t rv;

    *user = NULL;
    rv = ci_db_select(db, p, stmt[by], CI_ARGS(key), &rows);
    if (rv == APR_SUCCESS && rows->nrows > 0) {
        *user = user_from_row(p, rows, 0);
    }
    return rv;
}

apr_status_t ci_users_public(ci_db_t *db, apr_pool_t *p, int limit,
                             apr_int64_t offset, apr_array_header_t **users,
                             apr_int64_t *count)
{
    ci_db_rows_t *rows, *one;
    apr_status_t rv;
    int i;

    rv = ci_db_select(db, p, CI_STMT_USERS_PUBLIC_PAGE,
                      CI_ARGS(apr_itoa(p, limit), ci_db_i64(p, offset)),
                      &rows);
    if (rv == APR_SUCCESS) {
        rv = ci_db_select(db, p, CI_STMT_USERS_PUBLIC_COUNT, NULL, &one);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *count = ci_db_cell_i64(one, 0, 0, 0);
    *users = apr_array_make(p, rows->nrows, sizeof(ci_user_t *));
    for (i = 0; i < rows->nrows; i++) {
        APR_ARRAY_PUSH(*users, ci_user_t *) = user_from_row(p, rows, i);
    }
    return APR_SUCCESS;
}

apr_status_t ci_qr_state(ci_db_t *db, apr_pool_t *p, const char *token,
                         ci_user_t **owner)
{
    return ci_user_find(db, p, CI_USER_BY_STICKER, token, owner);
}

apr_status_t ci_qr_claim(ci_db_t *db, apr_pool_t *p, const char *token,
                         apr_int64_t user_id, int *won)
{
    int n = 0;
    apr_status_t rv;

    rv = ci_db_exec(db, p, CI_STMT_QR_CLAIM,
                    CI_ARGS(ci_db_i64(p, user_id),
                            ci_db_i64(p, ci_now_usec()), token), &n);
    *won = n == 1;
    return rv;
}

json_t *ci_user_json(apr_pool_t *p, const ci_user_t *u, int owner_view)
{
    json_t *j = ci_json_own(p, json_object());

    json_object_set_new(j, "id", json_string(u->uuid));
    if (owner_view) {
        ci_json_set_str(j, "phone_number", u->phone_number);
        ci_json_set_str(j, "email", u->email);
    }
    ci_json_set_str(j, "full_name", u->full_name);
    ci_json_set_str(j, "phone_number_2", u->phone_number_2);
    ci_json_set_str(j, "car_model", u->car_model);
    ci_json_set_str(j, "car_plate_number", u->car_plate_number);
    ci_json_set_str(j, "instagram", u->instagram);
    ci_json_set_str(j, "telegram", u->telegram);
    ci_json_set_str(j, "whatsapp", u->whatsapp);
    if (owner_view) {
        json_object_set_new(j, "is_profile_public",
                            json_boolean(u->is_profile_public));
        json_object_set_new(j, "created_at", json_string(
                                ci_time_iso(p, u->created_at)));
        json_object_set_new(j, "updated_at", json_string(
                                ci_time_iso(p, u->updated_at)));
    }
    return j;
}

apr_status_t ci_tokens_issue(ci_db_t *db, apr_pool_t *p,
                             const ci_token_policy_t *pol,
                             apr_int64_t user_id, const char *user_uuid,
                             const char *family, const char *parent,
                             apr_int64_t now, ci_token_pair_t *pair)
{
    const char *jti = NULL;

    pair->access = ci_jwt_issue(p, pol->key, CI_TOKEN_ACCESS, user_uuid, now,
                                pol->access_lifetime, NULL);
    pair->refresh = ci_jwt_issue(p, pol->key, CI_TOKEN_REFRESH, user_uuid,
                                 now, pol->refresh_lifetime, &jti);
    if (!pair->access || !pair->refresh) {
        return APR_EGENERAL;
    }
    return ci_db_exec(db, p, CI_STMT_REFRESH_INSERT,
                      CI_ARGS(jti, ci_db_i64(p, user_id),
                              family ? family : jti, parent,
                              ci_db_i64(p, (now + pol->refresh_lifetime)
                                           * USEC),
                              ci_db_i64(p, now * USEC)), NULL);
}

typedef struct {
    const ci_token_policy_t *pol;
    const ci_jwt_claims_t *claims;
    apr_int64_t now;
    ci_rotate_t result;
    ci_token_pair_t *pair;
    const char *family;
} rotate_ctx_t;

static apr_status_t rotate_txn(ci_db_t *db, apr_pool_t *p, void *baton)
{
    rotate_ctx_t *c = baton;
    const char *now_us = ci_db_i64(p, c->now * USEC);
    ci_db_rows_t *rows;
    apr_status_t rv;
    int n = 0;

    c->result = CI_ROTATE_UNKNOWN;
    rv = ci_db_select(db, p, CI_STMT_REFRESH_GET, CI_ARGS(c->claims->jti),
                      &rows);
    if (rv != APR_SUCCESS || rows->nrows == 0
        || strcmp(ci_db_cell(rows, 0, 5), c->claims->user_id)) {
        return rv;
    }
    c->family = ci_db_cell(rows, 0, 1);
    if (ci_db_cell(rows, 0, 4)) {
        c->result = CI_ROTATE_REVOKED;
        return APR_SUCCESS;
    }
    rv = ci_db_exec(db, p, CI_STMT_REFRESH_USE,
                    CI_ARGS(now_us, c->claims->jti), &n);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (n != 1) {
        /* Used before: somebody holds a copy. Burn the whole family. */
        c->result = CI_ROTATE_REUSED;
        return ci_db_exec(db, p, CI_STMT_REFRESH_REVOKE_FAMILY,
                          CI_ARGS(now_us, c->family), NULL);
    }
    c->result = CI_ROTATE_OK;
    return ci_tokens_issue(db, p, c->pol, ci_db_cell_i64(rows, 0, 0, 0),
                           c->claims->user_id, c->family, c->claims->jti,
                           c->now, c->pair);
}

apr_status_t ci_tokens_rotate(ci_db_t *db, apr_pool_t *p,
                              const ci_token_policy_t *pol,
                              const ci_jwt_claims_t *claims, apr_int64_t now,
                              ci_rotate_t *result, ci_token_pair_t *pair)
{
    rotate_ctx_t c;
    apr_status_t rv;

    c.pol = pol;
    c.claims = claims;
    c.now = now;
    c.pair = pair;
    c.family = NULL;
    rv = ci_db_txn(db, p, rotate_txn, &c);
    *result = c.result;
    return rv;
}

apr_status_t ci_tokens_revoke(ci_db_t *db, apr_pool_t *p,
                              const ci_jwt_claims_t *claims, apr_int64_t now)
{
    ci_db_rows_t *rows;
    apr_status_t rv;

    rv = ci_db_select(db, p, CI_STMT_REFRESH_GET, CI_ARGS(claims->jti),
                      &rows);
    if (rv != APR_SUCCESS || rows->nrows == 0
        || strcmp(ci_db_cell(rows, 0, 5), claims->user_id)) {
        return rv;
    }
    return ci_db_exec(db, p, CI_STMT_REFRESH_REVOKE_FAMILY,
                      CI_ARGS(ci_db_i64(p, now * USEC),
                              ci_db_cell(rows, 0, 1)), NULL);
}

apr_status_t ci_ratelimit_hit(ci_db_t *db, apr_pool_t *p, const char *bucket,
                              int limit, int window, apr_int64_t now,
                              int *allowed, apr_int64_t *retry_after)
{
    const char *expired = ci_db_i64(p, now - window);
    ci_db_rows_t *rows;
    apr_status_t rv;
    apr_int64_t hits, start;

    *allowed = 1;
    *retry_after = 0;
    rv = ci_db_select(db, p, CI_STMT_RATE_HIT,
                      CI_ARGS(bucket, ci_db_i64(p, now), expired, expired),
                      &rows);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    hits = ci_db_cell_i64(rows, 0, 0, 1);
    start = ci_db_cell_i64(rows, 0, 1, now);
    if (hits > limit) {
        *allowed = 0;
        *retry_after = start + window - now;
        if (*retry_after < 1) {
            *retry_after = 1;
        }
    }
    return APR_SUCCESS;
}

apr_status_t ci_ratelimit_reset(ci_db_t *db, apr_pool_t *p,
                                const char *bucket)
{
    return ci_db_exec(db, p, CI_STMT_RATE_RESET, CI_ARGS(bucket), NULL);
}
