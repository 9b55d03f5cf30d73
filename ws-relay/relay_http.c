/* relay_http.c: the "carinfo-http" protocol (see relay_http.h).
 *
 * In the style of the lws minimal examples: LWS_CALLBACK_HTTP decides the
 * response, writes the headers and keeps the body in the per-session data;
 * LWS_CALLBACK_HTTP_WRITEABLE writes the body with one lws_write() and ends
 * the transaction (keep-alive) or the connection.
 */
#include <string.h>
#include <apr_strings.h>
#include <jansson.h>
#include <libwebsockets.h>

#include "ci_error.h"
#include "ci_json.h"
#include "ci_log.h"
#include "relay.h"
#include "relay_db.h"
#include "relay_http.h"
#include "relay_log.h"

#define BODY_MAX 256                /* our bodies are short, fixed shapes */

/* Per-vhost data. */
struct http_vhd {
    struct lws_context *context;
    struct lws_vhost *vhost;
    ci_relay_t *relay;
};

/* Per-session data: the response body waiting for WRITEABLE. */
struct http_pss {
    size_t len;                     /* body bytes to write; 0: none */
    int head;                       /* HEAD: headers only */
    int close;                      /* hang up after the response */
    unsigned char buf[LWS_PRE + BODY_MAX];
};

static const char *const method_names[] = {
    "GET", "POST", "OPTIONS", "PUT", "PATCH", "DELETE", "CONNECT", "HEAD"
};

static int is_health_path(const char *path)
{
    return !strcmp(path, "/health") || !strcmp(path, "/health/")
        || !strcmp(path, "/ws/health") || !strcmp(path, "/ws/health/");
}

/* Writes the status line and headers now, and keeps `body` for WRITEABLE
 * (for HEAD, ends the transaction at once). `allow` (a 405's Allow value)
 * and `logno` (a problem's tag) may be 0. Returns 0, or -1 when the
 * connection must close. */
static int respond(struct lws *wsi, struct http_pss *pss, unsigned int status,
                   const char *body, size_t len, const char *allow,
                   int logno)
{
    unsigned char hdr[LWS_PRE + 512];
    unsigned char *start = hdr + LWS_PRE, *p = start;
    unsigned char *end = hdr + sizeof(hdr) - 1;
    char urn[40];

    if (len == 0 || len > BODY_MAX) {
        return -1;
    }
    if (lws_add_http_common_headers(wsi, status, "application/json", len,
                                    &p, end)
        || lws_add_http_header_by_name(wsi,
                                       (const unsigned char *)"cache-control:",
                                       (const unsigned char *)"no-store", 8,
                                       &p, end)) {
        return -1;
    }
    if (allow && lws_add_http_header_by_name(wsi,
                                             (const unsigned char *)"allow:",
                                             (const unsigned char *)allow,
                                             (int)strlen(allow), &p, end)) {
        return -1;
    }
    if (logno) {
        int n = apr_snprintf(urn, sizeof(urn), "urn:carinfo:log:CI%05d",
                             logno);

        if (lws_add_http_header_by_name(wsi, (const unsigned char *)
                                        "x-carinfo-problem:",
                                        (const unsigned char *)urn, n,
                                        &p, end)) {
            return -1;
        }
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end)) {
        return -1;
    }
    if (pss->head) {
        return pss->close || lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    memcpy(pss->buf + LWS_PRE, body, len);
    pss->len = len;
    lws_callback_on_writable(wsi);
    return 0;
}

/* A DRF-shaped error ({"detail": ...}) through the core's ci_problem. */
static int respond_problem(struct lws *wsi, struct http_pss *pss,
                           apr_pool_t *p, int status, int logno,
                           const char *detail, const char *allow)
{
    ci_problem_t *pr = ci_problem_make(p, status, logno, detail);
    apr_size_t len;
    const char *body = ci_problem_body(p, pr, &len);

    return respond(wsi, pss, (unsigned int)status, body, len, allow, logno);
}

static int health(struct http_vhd *vhd, struct lws *wsi,
                  struct http_pss *pss, apr_pool_t *p)
{
    ci_relay_t *relay = vhd->relay;
    apr_int64_t version = 0;
    unsigned int status;
    const char *body;
    apr_size_t len;
    json_t *j;

    if (ci_relay_db_health(relay, p, &version) == APR_SUCCESS) {
        status = HTTP_STATUS_OK;
        j = json_pack("{s:s, s:s, s:I, s:I}", "status", "ok",
                      "database", "ok", "schema_version", (json_int_t)version,
                      "sockets", (json_int_t)relay->nsockets);
    }
    else {
        status = HTTP_STATUS_SERVICE_UNAVAILABLE;
        j = json_pack("{s:s, s:s, s:I}", "status", "error",
                      "database", "unavailable",
                      "sockets", (json_int_t)relay->nsockets);
    }
    if (!ci_json_own(p, j)) {
        return -1;
    }
    body = ci_json_dump(p, j, &len);
    return respond(wsi, pss, status, body, len, NULL, 0);
}

/* LWS_CALLBACK_HTTP: `path` is the decoded URI path, without the query. */
static int handle_request(struct http_vhd *vhd, struct lws *wsi,
                          struct http_pss *pss, const char *path)
{
    const char *name = "?";
    char esc[256];
    char *uri = NULL;
    int method, ulen = 0, rc;
    apr_pool_t *p;

    method = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    if (method >= 0
        && (size_t)method < sizeof(method_names) / sizeof(method_names[0])) {
        name = method_names[method];
    }
    apr_pool_create(&p, vhd->relay->pool);
    apr_pool_tag(p, "relay_http_request");
    pss->len = 0;
    pss->head = method == LWSHUMETH_HEAD;
    pss->close = method != LWSHUMETH_GET && method != LWSHUMETH_HEAD;
    if (!is_health_path(path)) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10513) "no route for %s %s", name,
                      ci_relay_log_escape(esc, sizeof(esc), path));
        rc = respond_problem(wsi, pss, p, HTTP_STATUS_NOT_FOUND, 10513,
                             "Not found.", NULL);
    }
    else if (method != LWSHUMETH_GET && method != LWSHUMETH_HEAD) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10514) "method %s not allowed on %s", name,
                      path);
        rc = respond_problem(wsi, pss, p, HTTP_STATUS_METHOD_NOT_ALLOWED,
                             10514, apr_psprintf(p, "Method \"%s\" not "
                                                 "allowed.", name),
                             "GET, HEAD");
    }
    else {
        rc = health(vhd, wsi, pss, p);
    }
    apr_pool_destroy(p);
    return rc;
}

/* LWS_CALLBACK_HTTP_WRITEABLE: one lws_write, then end the transaction. */
static int write_body(struct lws *wsi, struct http_pss *pss)
{
    size_t len = pss->len;

    if (!len) {
        return 0;                   /* a WRITEABLE nobody asked for */
    }
    pss->len = 0;
    if (lws_write(wsi, pss->buf + LWS_PRE, len, LWS_WRITE_HTTP_FINAL)
        != (int)len) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10516) "writing a response body failed");
        return -1;
    }
    if (pss->close || lws_http_transaction_completed(wsi)) {
        return -1;
    }
    return 0;
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason,
                         void *user, void *in, size_t len)
{
    struct http_pss *pss = user;
    struct http_vhd *vhd;

    vhd = lws_protocol_vh_priv_get(lws_get_vhost(wsi),
                                   lws_get_protocol(wsi));
    switch (reason) {
    case LWS_CALLBACK_PROTOCOL_INIT:
        vhd = lws_protocol_vh_priv_zalloc(lws_get_vhost(wsi),
                                          lws_get_protocol(wsi),
                                          sizeof(*vhd));
        if (!vhd) {
            return -1;
        }
        vhd->context = lws_get_context(wsi);
        vhd->vhost = lws_get_vhost(wsi);
        vhd->relay = lws_context_user(vhd->context);
        return 0;
    case LWS_CALLBACK_HTTP:
        if (!vhd || !pss || !in) {
            return -1;
        }
        return handle_request(vhd, wsi, pss, in);
    case LWS_CALLBACK_HTTP_BODY:
        return 0;                   /* no route takes a body: drop it */
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return 0;                   /* WRITEABLE ends the transaction */
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return pss ? write_body(wsi, pss) : -1;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (vhd) {
            ci_relay_woken(vhd->relay);
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols ci_relay_http_protocol = {
    .name = "carinfo-http",
    .callback = http_callback,
    .per_session_data_size = sizeof(struct http_pss),
};
