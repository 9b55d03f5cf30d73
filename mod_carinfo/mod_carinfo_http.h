/* mod_carinfo_http: the request context, request bodies, JSON responses
 * and the one error path of the module.
 *
 * Handlers return what these helpers return (OK after a response is sent).
 * Every client-visible error goes through ci_http_problem(), which writes
 * exactly one error-log line tagged CInnnnn (info for 4xx, error for 5xx)
 * and sends the DRF body with X-CarInfo-Problem: urn:carinfo:log:CInnnnn.
 */
#ifndef mod_carinfo_http_h
#define mod_carinfo_http_h

#include <httpd.h>
#include <jansson.h>

#include "ci_db.h"
#include "ci_error.h"
#include "ci_route.h"
#include "mod_carinfo_config.h"
#include "ci_validate.h"

typedef struct ci_req_t {
    request_rec *r;
    const ci_dir_conf_t *conf;
    const char *mount;          /* "" or "/back": the prefix routes follow */
    const char *path;           /* r->uri below the mount */
    ci_route_match_t match;
    ci_db_t *db;                /* acquired on first ci_req_db() */
    struct ci_user_t *user;     /* the authenticated user, or NULL */
} ci_req_t;

typedef int ci_handler_fn(ci_req_t *req);

/* Sends `body` (a JSON text of `len` bytes) with `status`. Returns OK. */
int ci_http_send_json_text(ci_req_t *req, int status, const char *body,
                           apr_size_t len);

/* Serializes `j` (borrowed) and sends it. Returns OK. */
int ci_http_send_json(ci_req_t *req, int status, const json_t *j);

/* Sends an empty 204 response. Returns OK. */
int ci_http_no_content(ci_req_t *req);

/* The one error path (see above). Returns OK. */
int ci_http_problem(ci_req_t *req, const ci_problem_t *pr);

/* Shorthand: a {"detail": ...} problem. */
int ci_http_fail(ci_req_t *req, int status, int logno, const char *detail);

/* A failed store call: 503 when the database is unavailable, 500 for a
 * failing statement (the driver's message goes to the log only). */
int ci_http_db_fail(ci_req_t *req, apr_status_t rv, int logno);

/* Reads the request body, at most CarInfoMaxBodySize bytes. On success
 * returns OK with *buf (NUL-terminated, from r->pool) and *len; otherwise
 * the 413/400 response has been sent and the status to return is given. */
int ci_http_read_body(ci_req_t *req, const char **buf, apr_size_t *len,
                      int *done);

/* Reads and parses a JSON request body (see ci_json_parse). Enforces the
 * media type (415), the size limit (413) and well-formed UTF-8 JSON (400).
 * On success *out is owned by r->pool and 1 is returned; otherwise the
 * error response was sent and 0 is returned. */
int ci_http_json_body(ci_req_t *req, json_t **out);

/* A 429 "Request was throttled" with Retry-After. Returns OK. */
int ci_http_throttled(ci_req_t *req, int logno, apr_int64_t retry_after,
                      const char *what);

/* The decoded value of query argument `name`, or NULL. */
const char *ci_http_query(ci_req_t *req, const char *name);

/* Validates a parsed body against fields[0..n) (ci_validate). Returns 1
 * with vals filled; otherwise the 400 was sent and 0 is returned. */
int ci_http_check_fields(ci_req_t *req, const json_t *body,
                         const ci_field_t *fields, int n, ci_value_t *vals,
                         int logno);

/* ci_http_json_body() then ci_http_check_fields(). */
int ci_http_read_fields(ci_req_t *req, const ci_field_t *fields, int n,
                        ci_value_t *vals, int logno);

/* A 400 {"field": ["msg"]}. Returns OK. */
int ci_http_field_error(ci_req_t *req, int logno, const char *field,
                        const char *msg);

/* One rate limit to count: a bucket, its limit, and words for the log. */
typedef struct ci_http_limit_t {
    const char *bucket;
    ci_limit_t limit;
    const char *what;
} ci_http_limit_t;

/* Counts one hit on every limit (shared by all processes through the
 * store). Returns 1 when all allow it; otherwise a 429 with Retry-After
 * (logno_429) or a store failure (logno_db) was sent and 0 is returned. */
int ci_http_limits(ci_req_t *req, const ci_http_limit_t *limits, int n,
                   int logno_db, int logno_429);

/* The store connection of this request, or NULL when the database is
 * unavailable (mod_dbd has logged why). Acquired once per request. */
ci_db_t *ci_req_db(ci_req_t *req);

#endif /* mod_carinfo_http_h */
