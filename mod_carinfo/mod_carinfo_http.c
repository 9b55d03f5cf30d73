/* mod_carinfo_http.c: see mod_carinfo_http.h. */
#include <httpd.h>
#include <apr_strings.h>
#include <http_log.h>
#include <http_protocol.h>
#include <util_filter.h>
#include <util_script.h>

#include "mod_carinfo_http.h"
#include "mod_carinfo_dbd.h"
#include "ci_account.h"
#include "ci_json.h"

APLOG_USE_MODULE(carinfo);

int ci_http_send_json_text(ci_req_t *req, int status, const char *body,
                           apr_size_t len)
{
    request_rec *r = req->r;
    apr_bucket_brigade *bb;

    r->status = status;
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_length(r, (apr_off_t)len);
    if (r->header_only) {
        return OK;
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_immortal_create(
                                    body, len, r->connection->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(
                                    r->connection->bucket_alloc));
    if (ap_pass_brigade(r->output_filters, bb) != APR_SUCCESS) {
        /* The client went away; nothing to tell it. */
        r->connection->aborted = 1;
    }
    return OK;
}

int ci_http_send_json(ci_req_t *req, int status, const json_t *j)
{
    apr_size_t len;
    const char *body = ci_json_dump(req->r->pool, j, &len);

    return ci_http_send_json_text(req, status, body, len);
}

int ci_http_no_content(ci_req_t *req)
{
    req->r->status = HTTP_NO_CONTENT;
    return OK;
}

int ci_http_problem(ci_req_t *req, const ci_problem_t *pr)
{
    request_rec *r = req->r;
    apr_size_t len;
    const char *body, *tag = apr_psprintf(r->pool, "CI%05d", pr->logno);

    /* One line, one tag. r->uri carries no query string, so tokens passed
     * as ?visitor= or ?token= never reach the log. */
    ap_log_rerror(APLOG_MARK, pr->status >= 500 ? APLOG_ERR : APLOG_INFO, 0,
                  r, "%s: %s %s -> %d %s", tag, r->method, r->uri,
                  pr->status, ci_problem_log_text(r->pool, pr));
    apr_table_setn(r->err_headers_out, "X-CarInfo-Problem",
                   apr_pstrcat(r->pool, "urn:carinfo:log:", tag, NULL));
    if (pr->retry_after > 0) {
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                    pr->retry_after));
    }
    if (pr->status == HTTP_UNAUTHORIZED) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       "Bearer realm=\"api\"");
    }
    body = ci_problem_body(r->pool, pr, &len);
    return ci_http_send_json_text(req, pr->status, body, len);
}

int ci_http_fail(ci_req_t *req, int status, int logno, const char *detail)
{
    return ci_http_problem(req, ci_problem_make(req->r->pool, status, logno,
                                                detail));
}

int ci_http_db_fail(ci_req_t *req, apr_status_t rv, int logno)
{
    ci_problem_t *pr;

    if (rv == CI_DB_EUNAVAIL || !req->db) {
        pr = ci_problem_make(req->r->pool, HTTP_SERVICE_UNAVAILABLE, logno,
                             "Service temporarily unavailable, try again "
                             "later.");
        pr->retry_after = 5;
        pr->log_msg = "database unavailable";
    }
    else {
        pr = ci_problem_make(req->r->pool, HTTP_INTERNAL_SERVER_ERROR, logno,
                             "A server error occurred.");
        pr->log_msg = apr_pstrdup(req->r->pool, ci_db_error(req->db));
    }
    return ci_http_problem(req, pr);
}

int ci_http_read_body(ci_req_t *req, const char **buf, apr_size_t *len,
                      int *done)
{
    request_rec *r = req->r;
    apr_off_t limit = ci_config_max_body(req->conf);
    apr_size_t cap = 8192, n = 0;
    const char *cl;
    char *b;
    long got;
    int rc;

    *done = 0;
    rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (rc != OK) {
        *done = 1;
        return ci_http_fail(req, rc, 10010, "Malformed request body.");
    }
    cl = apr_table_get(r->headers_in, "Content-Length");
    if (cl && r->remaining > limit) {
        r->connection->keepalive = AP_CONN_CLOSE;
        *done = 1;
        return ci_http_fail(req, HTTP_REQUEST_ENTITY_TOO_LARGE, 10011,
                            apr_psprintf(r->pool, "Request body is larger "
                                         "than %" APR_OFF_T_FMT " bytes.",
                                         limit));
    }
    if (r->remaining > 0 && (apr_off_t)cap < r->remaining) {
        cap = (apr_size_t)r->remaining;
    }
    b = apr_palloc(r->pool, cap + 1);
    if (ap_should_client_block(r)) {
        for (;;) {
            if (n == cap) {
                char *nb;
                cap *= 2;
                nb = apr_palloc(r->pool, cap + 1);
                memcpy(nb, b, n);
                b = nb;
            }
            got = ap_get_client_block(r, b + n, cap - n);
            if (got == 0) {
                break;
            }
            if (got < 0) {
                *done = 1;
                r->connection->keepalive = AP_CONN_CLOSE;
                return ci_http_fail(req, HTTP_BAD_REQUEST, 10012,
                                    "Malformed request body.");
            }
            n += (apr_size_t)got;
            if ((apr_off_t)n > limit) {
                r->connection->keepalive = AP_CONN_CLOSE;
                *done = 1;
                return ci_http_fail(req, HTTP_REQUEST_ENTITY_TOO_LARGE, 10013,
                                    apr_psprintf(r->pool, "Request body is "
                                                 "larger than %"
                                                 APR_OFF_T_FMT " bytes.",
                                                 limit));
            }
        }
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return OK;
}

int ci_http_json_body(ci_req_t *req, json_t **out)
{
    request_rec *r = req->r;
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    const char *buf, *err = NULL;
    apr_size_t len;
    int done;

    if (ct && strncasecmp(ct, "application/json", 16)
        && !ap_strcasestr(ct, "+json")) {
        ci_http_fail(req, HTTP_UNSUPPORTED_MEDIA_TYPE, 10014,
                     apr_psprintf(r->pool, "Unsupported media type \"%s\" in "
                                  "request.", ap_escape_logitem(r->pool, ct)));
        return 0;
    }
    ci_http_read_body(req, &buf, &len, &done);
    if (done) {
        return 0;
    }
    if (ci_json_parse(r->pool, buf, len, out, &err) != APR_SUCCESS) {
        ci_http_fail(req, HTTP_BAD_REQUEST, 10015, err);
        return 0;
    }
    return 1;
}

int ci_http_throttled(ci_req_t *req, int logno, apr_int64_t retry_after,
                      const char *what)
{
    ci_problem_t *pr = ci_problem_make(req->r->pool, 429, logno,
        apr_psprintf(req->r->pool, "Request was throttled. Expected "
                     "available in %" APR_INT64_T_FMT " second%s.",
                     retry_after, retry_after == 1 ? "" : "s"));

    pr->retry_after = retry_after;
    pr->log_msg = what;
    return ci_http_problem(req, pr);
}

const char *ci_http_query(ci_req_t *req, const char *name)
{
    apr_table_t *args = NULL;

    if (!req->r->args) {
        return NULL;
    }
    ap_args_to_table(req->r, &args);
    return args ? apr_table_get(args, name) : NULL;
}

int ci_http_check_fields(ci_req_t *req, const json_t *body,
                         const ci_field_t *fields, int n, ci_value_t *vals,
                         int logno)
{
    ci_problem_t *pr = ci_problem_invalid(req->r->pool, logno);

    if (!ci_validate(req->r->pool, body, fields, n, vals, pr)) {
        ci_http_problem(req, pr);
        return 0;
    }
    return 1;
}

int ci_http_read_fields(ci_req_t *req, const ci_field_t *fields, int n,
                        ci_value_t *vals, int logno)
{
    json_t *body;

    return ci_http_json_body(req, &body)
        && ci_http_check_fields(req, body, fields, n, vals, logno);
}

int ci_http_field_error(ci_req_t *req, int logno, const char *field,
                        const char *msg)
{
    return ci_http_problem(req, ci_problem_field(req->r->pool,
                           ci_problem_invalid(req->r->pool, logno), field,
                           msg));
}

int ci_http_limits(ci_req_t *req, const ci_http_limit_t *limits, int n,
                   int logno_db, int logno_429)
{
    apr_int64_t now = apr_time_sec(apr_time_now()), wait, worst = 0;
    const char *what = NULL;
    apr_status_t rv;
    int i, ok;

    for (i = 0; i < n; i++) {
        rv = ci_ratelimit_hit(req->db, req->r->pool, limits[i].bucket,
                              limits[i].limit.limit, limits[i].limit.window,
                              now, &ok, &wait);
        if (rv != APR_SUCCESS) {
            ci_http_db_fail(req, rv, logno_db);
            return 0;
        }
        if (!ok && wait >= worst) {
            worst = wait;
            what = limits[i].what;
        }
    }
    if (what) {
        ci_http_throttled(req, logno_429, worst, what);
        return 0;
    }
    return 1;
}

ci_db_t *ci_req_db(ci_req_t *req)
{
    if (!req->db) {
        req->db = ci_dbd_acquire(req->r);
    }
    return req->db;
}
