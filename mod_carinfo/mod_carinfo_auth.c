/* mod_carinfo_auth.c: see mod_carinfo_auth.h. */
#include <httpd.h>
#include <apr_strings.h>
#include <http_log.h>

#include "mod_carinfo_auth.h"
#include "ci_account.h"
#include "ci_util.h"

APLOG_USE_MODULE(carinfo);

int ci_auth_policy(ci_req_t *req, ci_token_policy_t *pol)
{
    pol->key = req->conf->jwt_key;
    pol->access_lifetime = ci_config_access_ttl(req->conf);
    pol->refresh_lifetime = ci_config_refresh_ttl(req->conf);
    if (!pol->key) {
        ci_problem_t *pr = ci_problem_make(req->r->pool, 503, 10050,
                                           "Service temporarily unavailable,"
                                           " try again later.");
        pr->log_msg = "CarInfoJWTKeyFile is not set for this location";
        ci_http_problem(req, pr);
        return 0;
    }
    return 1;
}

static int unauthorized(ci_req_t *req, int logno, const char *detail,
                        const char *why)
{
    ci_problem_t *pr = ci_problem_make(req->r->pool, 401, logno, detail);

    pr->log_msg = why;
    return ci_http_problem(req, pr);
}

int ci_auth_require_user(ci_req_t *req)
{
    const char *h = apr_table_get(req->r->headers_in, "Authorization");
    ci_token_policy_t pol;
    ci_jwt_claims_t claims;
    ci_jwt_result_t res;
    apr_status_t rv;

    if (!ci_auth_policy(req, &pol)) {
        return 0;
    }
    if (!h || strncasecmp(h, "Bearer ", 7)) {
        unauthorized(req, 10051, "Authentication credentials were not "
                     "provided.", h ? "not a Bearer credential" : NULL);
        return 0;
    }
    res = ci_jwt_verify(req->r->pool, pol.key, h + 7, CI_TOKEN_ACCESS,
                        apr_time_sec(apr_time_now()), &claims);
    if (res != CI_JWT_OK) {
        unauthorized(req, 10052, "Given token not valid for any token type",
                     ci_jwt_result_name(res));
        return 0;
    }
    if (!ci_req_db(req)) {
        ci_http_db_fail(req, CI_DB_EUNAVAIL, 10053);
        return 0;
    }
    rv = ci_user_find(req->db, req->r->pool, CI_USER_BY_UUID, claims.user_id,
                      &req->user);
    if (rv != APR_SUCCESS) {
        ci_http_db_fail(req, rv, 10054);
        return 0;
    }
    if (!req->user || !req->user->is_registered) {
        req->user = NULL;
        unauthorized(req, 10055, "User not found", "token of no user");
        return 0;
    }
    return 1;
}
