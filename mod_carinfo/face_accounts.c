/* face_accounts.c: see face_accounts.h. Shapes and messages follow spec
 * 004 and what Django REST framework / SimpleJWT answer. */
#include <httpd.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>

#include "face_accounts.h"
#include "mod_carinfo_auth.h"
#include "ci_account.h"
#include "ci_json.h"
#include "ci_password.h"
#include "ci_util.h"
#include "ci_validate.h"

#define NFIELDS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define MSG_REGISTERED "User already registered. Please login."
#define MSG_BAD_LOGIN "No active account found with the given credentials"
#define MSG_BAD_REFRESH "Token is invalid or expired"
#define MSG_PHONE_TAKEN "user with this phone number already exists."
#define MSG_EMAIL_TAKEN "user with this email already exists."

/* The profile fields of 004, shared by register and profile updates. */
#define PROFILE_FIELDS \
    { "email", CI_FIELD_EMAIL, CI_FIELD_OPTIONAL, 254 }, \
    { "full_name", CI_FIELD_STRING, CI_FIELD_OPTIONAL, 255 }, \
    { "phone_number_2", CI_FIELD_STRING, CI_FIELD_OPTIONAL, 32 }, \
    { "car_model", CI_FIELD_STRING, CI_FIELD_OPTIONAL, 100 }, \
    { "car_plate_number", CI_FIELD_STRING, CI_FIELD_OPTIONAL, 32 }, \
    { "instagram", CI_FIELD_STRING, CI_FIELD_OPTIONAL, 255 }, \
    { "telegram", CI_FIELD_STRING, CI_FIELD_OPTIONAL, 255 }, \
    { "whatsapp", CI_FIELD_STRING, CI_FIELD_OPTIONAL, 255 }, \
    { "is_profile_public", CI_FIELD_BOOL, CI_FIELD_OPTIONAL, 0 }
enum { P_EMAIL, P_FULL_NAME, P_PHONE2, P_CAR_MODEL, P_PLATE, P_INSTAGRAM,
       P_TELEGRAM, P_WHATSAPP, P_PUBLIC, P_COUNT };

static const ci_field_t register_fields[] = {
    PROFILE_FIELDS,
    { "user_id", CI_FIELD_UUID, CI_FIELD_REQUIRED, 0 },
    { "phone_number", CI_FIELD_PHONE, CI_FIELD_REQUIRED, 32 },
    { "password", CI_FIELD_PASSWORD, CI_FIELD_REQUIRED, 128 },
};
enum { R_USER_ID = P_COUNT, R_PHONE, R_PASSWORD };

static const ci_field_t profile_fields[] = {
    PROFILE_FIELDS,
    { "id", CI_FIELD_STRING, CI_FIELD_READ_ONLY, 0 },
    { "user_id", CI_FIELD_STRING, CI_FIELD_READ_ONLY, 0 },
    { "phone_number", CI_FIELD_STRING, CI_FIELD_READ_ONLY, 0 },
    { "password", CI_FIELD_STRING, CI_FIELD_READ_ONLY, 0 },
    { "is_registered", CI_FIELD_STRING, CI_FIELD_READ_ONLY, 0 },
    { "created_at", CI_FIELD_STRING, CI_FIELD_READ_ONLY, 0 },
    { "updated_at", CI_FIELD_STRING, CI_FIELD_READ_ONLY, 0 },
};

static const ci_field_t login_fields[] = {
    { "phone_number", CI_FIELD_RAW, CI_FIELD_REQUIRED, 64 },
    { "password", CI_FIELD_RAW, CI_FIELD_REQUIRED, 128 },
};

static const ci_field_t refresh_fields[] = {
    { "refresh", CI_FIELD_RAW, CI_FIELD_REQUIRED, 4096 },
};

static json_t *pair_json(apr_pool_t *p, const ci_token_pair_t *pair)
{
    return ci_json_own(p, json_pack("{s:s, s:s}", "refresh", pair->refresh,
                                    "access", pair->access));
}

/* {"tokens": {...}, "user": {...}} as 004's login answers. */
static int send_session(ci_req_t *req, int status, const ci_user_t *u,
                        const ci_token_pair_t *pair)
{
    apr_pool_t *p = req->r->pool;
    json_t *j = ci_json_own(p, json_object());

    json_object_set(j, "tokens", pair_json(p, pair));
    json_object_set(j, "user", ci_user_json(p, u, 1));
    return ci_http_send_json(req, status, j);
}

static apr_int64_t now_sec(void)
{
    return apr_time_sec(apr_time_now());
}

typedef struct {
    const ci_value_t *v;
    const char *hash;
    const ci_token_policy_t *pol;
    apr_int64_t user_id;
    int won;
    ci_token_pair_t pair;
} register_ctx_t;

static apr_status_t register_txn(ci_db_t *db, apr_pool_t *p, void *baton)
{
    register_ctx_t *c = baton;
    const ci_value_t *v = c->v;
    apr_int64_t now = now_sec();
    apr_status_t rv;
    int n = 0;

#define OPT(i) (v[i].present ? v[i].str : "")
    rv = ci_db_exec(db, p, CI_STMT_USER_REGISTER, CI_ARGS(
            v[R_PHONE].str, c->hash,
            v[P_EMAIL].present && *v[P_EMAIL].str ? v[P_EMAIL].str : NULL,
            OPT(P_FULL_NAME), OPT(P_PHONE2), OPT(P_CAR_MODEL), OPT(P_PLATE),
            OPT(P_INSTAGRAM), OPT(P_TELEGRAM), OPT(P_WHATSAPP),
            v[P_PUBLIC].present && !v[P_PUBLIC].flag ? "0" : "1",
            ci_db_i64(p, ci_now_usec()), v[R_USER_ID].str), &n);
#undef OPT
    c->won = n == 1;
    if (rv != APR_SUCCESS || !c->won) {
        return rv;
    }
    return ci_tokens_issue(db, p, c->pol, c->user_id, v[R_USER_ID].str, NULL,
                           NULL, now, &c->pair);
}

int ci_acc_register(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    ci_value_t v[NFIELDS(register_fields)];
    ci_token_policy_t pol;
    register_ctx_t c;
    ci_user_t *u = NULL, *other = NULL;
    apr_status_t rv;

    if (!ci_http_read_fields(req, register_fields, NFIELDS(register_fields), v,
                     10060) || !ci_auth_policy(req, &pol)) {
        return OK;
    }
    if (!ci_req_db(req)) {
        return ci_http_db_fail(req, CI_DB_EUNAVAIL, 10061);
    }
    rv = ci_user_find(req->db, p, CI_USER_BY_STICKER, v[R_USER_ID].str, &u);
    if (rv == APR_SUCCESS) {
        rv = ci_user_find(req->db, p, CI_USER_BY_PHONE, v[R_PHONE].str,
                          &other);
    }
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10062);
    }
    if (!u || strcmp(u->uuid, v[R_USER_ID].str)) {
        return ci_http_field_error(req, 10063, "user_id",
                                   "No QR sticker with this id exists.");
    }
    if (u->is_registered) {
        return ci_http_field_error(req, 10064, "user_id", MSG_REGISTERED);
    }
    if (other) {
        return ci_http_field_error(req, 10065, "phone_number",
                                   MSG_PHONE_TAKEN);
    }
    memset(&c, 0, sizeof(c));
    c.v = v;
    c.pol = &pol;
    c.user_id = u->id;
    c.hash = ci_password_hash(p, v[R_PASSWORD].str,
                              ci_config_password_cost(req->conf));
    if (!c.hash) {
        return ci_http_fail(req, 500, 10066, "A server error occurred.");
    }
    rv = ci_db_txn(req->db, p, register_txn, &c);
    if (rv == CI_DB_ECONSTRAINT) {
        int email = strstr(ci_db_error(req->db), "email") != NULL;
        return ci_http_field_error(req, 10067,
                                   email ? "email" : "phone_number",
                                   email ? MSG_EMAIL_TAKEN : MSG_PHONE_TAKEN);
    }
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10068);
    }
    if (!c.won) {                       /* a concurrent registration won */
        return ci_http_field_error(req, 10069, "user_id", MSG_REGISTERED);
    }
    rv = ci_user_find(req->db, p, CI_USER_BY_UUID, v[R_USER_ID].str, &u);
    if (rv != APR_SUCCESS || !u) {
        return ci_http_db_fail(req, rv, 10070);
    }
    return send_session(req, HTTP_CREATED, u, &c.pair);
}

/* Counts a login attempt against the phone and the client address. */
static int login_allowed(ci_req_t *req, const char *phone_key)
{
    ci_http_limit_t l[2];

    l[0].bucket = apr_pstrcat(req->r->pool, "login:addr:",
                              req->r->useragent_ip, NULL);
    l[0].limit = ci_config_login_addr(req->conf);
    l[0].what = "login attempts per address";
    l[1].bucket = phone_key;
    l[1].limit = ci_config_login_phone(req->conf);
    l[1].what = "login attempts per phone";
    return ci_http_limits(req, l, 2, 10071, 10072);
}

int ci_acc_login(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    ci_value_t v[NFIELDS(login_fields)];
    ci_token_policy_t pol;
    ci_token_pair_t pair;
    const char *phone, *phone_key;
    ci_user_t *u = NULL;
    int rehash = 0, ok;
    apr_status_t rv;

    if (!ci_http_read_fields(req, login_fields, NFIELDS(login_fields), v,
                             10073)
        || !ci_auth_policy(req, &pol)) {
        return OK;
    }
    if (!ci_req_db(req)) {
        return ci_http_db_fail(req, CI_DB_EUNAVAIL, 10074);
    }
    phone = ci_validate_phone(p, v[0].str);
    phone_key = apr_pstrcat(p, "login:phone:", phone ? phone : v[0].str,
                            NULL);
    if (!login_allowed(req, phone_key)) {
        return OK;
    }
    if (phone) {
        rv = ci_user_find(req->db, p, CI_USER_BY_PHONE, phone, &u);
        if (rv != APR_SUCCESS) {
            return ci_http_db_fail(req, rv, 10075);
        }
    }
    /* The same work and the same answer whether or not the phone exists. */
    if (u && u->password_hash) {
        ok = ci_password_verify(p, v[1].str, u->password_hash, &rehash);
    }
    else {
        ci_password_burn(p, v[1].str, ci_config_password_cost(req->conf));
        ok = 0;
    }
    if (!ok) {
        ci_problem_t *pr = ci_problem_make(p, 401, 10076, MSG_BAD_LOGIN);
        pr->log_msg = u ? "wrong password" : "unknown phone number";
        return ci_http_problem(req, pr);
    }
    if (rehash) {                       /* a Django hash: move to bcrypt */
        const char *h = ci_password_hash(p, v[1].str,
                                         ci_config_password_cost(req->conf));
        if (h) {
            ci_db_exec(req->db, p, CI_STMT_USER_SET_PASSWORD,
                       CI_ARGS(h, ci_db_i64(p, u->id)), NULL);
        }
    }
    ci_ratelimit_reset(req->db, p, phone_key);
    rv = ci_tokens_issue(req->db, p, &pol, u->id, u->uuid, NULL, NULL,
                         now_sec(), &pair);
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10077);
    }
    return send_session(req, HTTP_OK, u, &pair);
}

int ci_acc_refresh(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    ci_value_t v[NFIELDS(refresh_fields)];
    ci_token_policy_t pol;
    ci_token_pair_t pair;
    ci_jwt_claims_t claims;
    ci_jwt_result_t res;
    ci_rotate_t rot = CI_ROTATE_UNKNOWN;
    ci_problem_t *pr;
    apr_status_t rv;

    if (!ci_http_read_fields(req, refresh_fields, NFIELDS(refresh_fields), v,
                             10078)
        || !ci_auth_policy(req, &pol)) {
        return OK;
    }
    res = ci_jwt_verify(p, pol.key, v[0].str, CI_TOKEN_REFRESH, now_sec(),
                        &claims);
    if (res == CI_JWT_OK) {
        if (!ci_req_db(req)) {
            return ci_http_db_fail(req, CI_DB_EUNAVAIL, 10079);
        }
        rv = ci_tokens_rotate(req->db, p, &pol, &claims, now_sec(), &rot,
                              &pair);
        if (rv != APR_SUCCESS) {
            return ci_http_db_fail(req, rv, 10080);
        }
        if (rot == CI_ROTATE_OK) {
            return ci_http_send_json(req, HTTP_OK, pair_json(p, &pair));
        }
    }
    pr = ci_problem_make(p, 401, 10081, MSG_BAD_REFRESH);
    pr->code = "token_not_valid";
    pr->log_msg = res != CI_JWT_OK ? ci_jwt_result_name(res)
                : rot == CI_ROTATE_REUSED ? "refresh token reused: its "
                                            "family is revoked"
                : rot == CI_ROTATE_REVOKED ? "refresh token revoked"
                : "refresh token unknown";
    return ci_http_problem(req, pr);
}

int ci_acc_logout(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    ci_value_t v[NFIELDS(refresh_fields)];
    ci_token_policy_t pol;
    ci_jwt_claims_t claims;
    ci_jwt_result_t res;
    ci_problem_t *pr;
    apr_status_t rv;

    if (!ci_http_read_fields(req, refresh_fields, NFIELDS(refresh_fields), v,
                             10134)
        || !ci_auth_policy(req, &pol)) {
        return OK;
    }
    res = ci_jwt_verify(p, pol.key, v[0].str, CI_TOKEN_REFRESH, now_sec(),
                        &claims);
    if (res == CI_JWT_EXPIRED) {
        return ci_http_no_content(req);     /* nothing left to revoke */
    }
    if (res != CI_JWT_OK) {
        pr = ci_problem_make(p, 401, 10135, MSG_BAD_REFRESH);
        pr->code = "token_not_valid";
        pr->log_msg = ci_jwt_result_name(res);
        return ci_http_problem(req, pr);
    }
    if (!ci_req_db(req)) {
        return ci_http_db_fail(req, CI_DB_EUNAVAIL, 10136);
    }
    rv = ci_tokens_revoke(req->db, p, &claims, now_sec());
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10137);
    }
    return ci_http_no_content(req);
}

int ci_acc_profile_get(ci_req_t *req)
{
    return ci_http_send_json(req, HTTP_OK,
                             ci_user_json(req->r->pool, req->user, 1));
}

int ci_acc_profile_update(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    ci_value_t v[NFIELDS(profile_fields)];
    ci_user_t *u = NULL;
    apr_status_t rv;

    if (!ci_http_read_fields(req, profile_fields, NFIELDS(profile_fields), v,
                     10082)) {
        return OK;
    }
#define KEEP(i) (v[i].present ? v[i].str : NULL)
    rv = ci_db_exec(req->db, p, CI_STMT_USER_UPDATE_PROFILE, CI_ARGS(
            KEEP(P_FULL_NAME), KEEP(P_PHONE2), KEEP(P_CAR_MODEL),
            KEEP(P_PLATE), KEEP(P_INSTAGRAM), KEEP(P_TELEGRAM),
            KEEP(P_WHATSAPP),
            v[P_PUBLIC].present ? (v[P_PUBLIC].flag ? "1" : "0") : NULL,
            KEEP(P_EMAIL), KEEP(P_EMAIL),
            ci_db_i64(p, ci_now_usec()), ci_db_i64(p, req->user->id)), NULL);
#undef KEEP
    if (rv == CI_DB_ECONSTRAINT) {
        return ci_http_field_error(req, 10083, "email", MSG_EMAIL_TAKEN);
    }
    if (rv == APR_SUCCESS) {
        rv = ci_user_find(req->db, p, CI_USER_BY_UUID, req->user->uuid, &u);
    }
    if (rv != APR_SUCCESS || !u) {
        return ci_http_db_fail(req, rv, 10084);
    }
    return ci_http_send_json(req, HTTP_OK, ci_user_json(p, u, 1));
}

/* ?limit= / ?offset=: -1 when absent; 0 and a 400 sent when invalid. */
static int page_arg(ci_req_t *req, const char *name, apr_int64_t max,
                    apr_int64_t *out)
{
    const char *s = ci_http_query(req, name);

    *out = -1;
    if (!s) {
        return 1;
    }
    if (ci_parse_int64(s, out) || *out < 0 || *out > max
        || (*out == 0 && !strcmp(name, "limit"))) {
        ci_http_field_error(req, 10085, name, apr_psprintf(req->r->pool,
                            "Ensure this value is a whole number from %d to "
                            "%" APR_INT64_T_FMT ".",
                            strcmp(name, "limit") ? 0 : 1, max));
        return 0;
    }
    return 1;
}

static json_t *page_link(ci_req_t *req, apr_int64_t limit, apr_int64_t off)
{
    request_rec *r = req->r;

    return json_string(apr_psprintf(r->pool, "%s?limit=%" APR_INT64_T_FMT
                                    "&offset=%" APR_INT64_T_FMT,
                                    ap_construct_url(r->pool, r->uri, r),
                                    limit, off));
}

int ci_acc_users(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    int max = ci_config_list_max(req->conf), i;
    apr_int64_t limit, offset, count = 0;
    apr_array_header_t *users;
    json_t *list, *page;
    apr_status_t rv;

    if (!page_arg(req, "limit", max, &limit)
        || !page_arg(req, "offset", APR_INT64_C(1) << 40, &offset)) {
        return OK;
    }
    if (!ci_req_db(req)) {
        return ci_http_db_fail(req, CI_DB_EUNAVAIL, 10086);
    }
    rv = ci_users_public(req->db, p, limit < 0 ? max : (int)limit,
                         offset < 0 ? 0 : offset, &users, &count);
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10087);
    }
    list = ci_json_own(p, json_array());
    for (i = 0; i < users->nelts; i++) {
        json_array_append(list, ci_user_json(p, APR_ARRAY_IDX(users, i,
                                                              ci_user_t *),
                                             0));
    }
    apr_table_setn(req->r->headers_out, "X-Total-Count",
                   apr_psprintf(p, "%" APR_INT64_T_FMT, count));
    if (limit < 0 && offset < 0) {      /* 004's plain list */
        return ci_http_send_json(req, HTTP_OK, list);
    }
    if (limit < 0) {
        limit = max;
    }
    if (offset < 0) {
        offset = 0;
    }
    page = ci_json_own(p, json_object());
    json_object_set_new(page, "count", json_integer(count));
    json_object_set_new(page, "next", offset + limit < count
                        ? page_link(req, limit, offset + limit)
                        : json_null());
    json_object_set_new(page, "previous", offset > 0
                        ? page_link(req, limit, offset > limit
                                                ? offset - limit : 0)
                        : json_null());
    json_object_set(page, "results", list);
    return ci_http_send_json(req, HTTP_OK, page);
}

int ci_acc_public_profile(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    const char *id = ci_route_param(&req->match, "user_id");
    ci_user_t *u = NULL;
    ci_problem_t *pr;
    apr_status_t rv;

    if (!ci_req_db(req)) {
        return ci_http_db_fail(req, CI_DB_EUNAVAIL, 10088);
    }
    rv = ci_user_find(req->db, p, CI_USER_BY_STICKER, id, &u);
    if (rv == APR_SUCCESS && !u) {
        rv = ci_user_find(req->db, p, CI_USER_BY_UUID, id, &u);
    }
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10089);
    }
    if (u && !u->is_registered) {
        /* Lets a web page offer the registration form. */
        pr = ci_problem_make(p, 404, 10090, "This QR sticker is not "
                             "registered yet.");
        pr->code = "not_registered";
        return ci_http_problem(req, pr);
    }
    if (!u || !u->is_profile_public) {
        return ci_http_fail(req, 404, 10091, "Not found.");
    }
    return ci_http_send_json(req, HTTP_OK, ci_user_json(p, u, 0));
}
