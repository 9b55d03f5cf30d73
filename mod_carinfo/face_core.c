/* face_core.c: see face_core.h. */
#include <apr_strings.h>

#include "face_core.h"
#include "face_web.h"
#include "ci_json.h"

int ci_core_health(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    ci_db_t *db = ci_req_db(req);
    ci_db_rows_t *rows;
    apr_status_t rv;
    json_t *j;

    if (!db) {
        return ci_http_db_fail(req, CI_DB_EUNAVAIL, 10020);
    }
    rv = ci_db_select(db, p, CI_STMT_PING, NULL, &rows);
    if (rv == APR_SUCCESS) {
        rv = ci_db_select(db, p, CI_STMT_SCHEMA_VERSION, NULL, &rows);
    }
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10021);
    }
    j = ci_json_own(p, json_pack("{s:s, s:s, s:s, s:I}", "status", "ok",
                                 "database", "ok", "driver",
                                 ci_db_dialect(db) == CI_DIALECT_PGSQL
                                     ? "pgsql" : "sqlite3",
                                 "schema_version",
                                 (json_int_t)ci_db_cell_i64(rows, 0, 0, 0)));
    return ci_http_send_json(req, 200, j);
}

int ci_core_sticker(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    const char *token = ci_route_param(&req->match, "token");
    ci_db_t *db = ci_web_wants_html(req) ? NULL : ci_req_db(req);
    ci_db_rows_t *rows;
    apr_status_t rv;
    int registered;
    json_t *j;

    /* One URL, two answers: caches must key on Accept. */
    apr_table_mergen(req->r->headers_out, "Vary", "Accept");
    if (ci_web_wants_html(req)) {
        return ci_web_page(req, "sticker.html");    /* a phone's browser */
    }
    if (!db) {
        return ci_http_db_fail(req, CI_DB_EUNAVAIL, 10022);
    }
    rv = ci_db_select(db, p, CI_STMT_QR_BY_TOKEN, CI_ARGS(token), &rows);
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10023);
    }
    if (rows->nrows == 0) {
        return ci_http_fail(req, 404, 10024, "Not found.");
    }
    registered = ci_db_cell_i64(rows, 0, 1, 0) != 0;
    j = ci_json_own(p, json_object());
    json_object_set_new(j, "token", json_string(token));
    json_object_set_new(j, "registered", json_boolean(registered));
    json_object_set_new(j, registered ? "profile_url" : "register_url",
                        json_string(registered
                            ? apr_pstrcat(p, req->mount, "/user/",
                                          ci_db_cell(rows, 0, 0), "/", NULL)
                            : apr_pstrcat(p, req->mount, "/api/user/register/",
                                          NULL)));
    return ci_http_send_json(req, 200, j);
}

int ci_core_echo(ci_req_t *req)
{
    json_t *body;

    if (!ci_http_json_body(req, &body)) {
        return OK;
    }
    return ci_http_send_json(req, 200, body);
}
