/* face_web.c: see face_web.h. */
#include <httpd.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "face_web.h"

APLOG_USE_MODULE(carinfo);

#ifndef CI_WEB_DIR
#define CI_WEB_DIR "/usr/local/share/carinfo/web"
#endif

/* Pages run only our own scripts and styles; the WebSocket is same-origin. */
#define CSP_PAGES "default-src 'self'; script-src 'self'; style-src 'self'; " \
    "img-src 'self' data:; connect-src 'self' ws: wss:; " \
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
/* Swagger UI needs nothing more (measured: no violation with all panels
 * open and "Try it out"). */
#define CSP_SWAGGER "default-src 'self'; script-src 'self'; " \
    "style-src 'self'; img-src 'self' data:; connect-src 'self'; " \
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
/* Redoc renders through inline styles and searches in a blob: worker. */
#define CSP_REDOC "default-src 'self'; script-src 'self'; " \
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; " \
    "connect-src 'self'; worker-src blob:; frame-ancestors 'none'; " \
    "base-uri 'none'; form-action 'self'"

typedef struct {
    const char *ext;
    const char *type;
} ctype_t;

static const ctype_t ctypes[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".json", "application/json" },
    { ".map", "application/json" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".ico", "image/x-icon" },
    { ".woff2", "font/woff2" },
    { ".txt", "text/plain; charset=utf-8" },
};

static const char *content_type(const char *name)
{
    apr_size_t n = strlen(name), i;

    for (i = 0; i < sizeof(ctypes) / sizeof(ctypes[0]); i++) {
        apr_size_t e = strlen(ctypes[i].ext);
        if (n > e && !strcmp(name + n - e, ctypes[i].ext)) {
            return ctypes[i].type;
        }
    }
    return NULL;
}

static int safe_name(const char *name)
{
    const char *s;

    if (!name || !*name || name[0] == '.' || strlen(name) > 128) {
        return 0;
    }
    for (s = name; *s; s++) {
        if (!apr_isalnum(*s) && *s != '.' && *s != '_' && *s != '-') {
            return 0;
        }
    }
    return 1;
}

static const char *web_root(ci_req_t *req)
{
    return req->conf->web_root ? req->conf->web_root : CI_WEB_DIR;
}

/* Sends a file with validators (ETag, Last-Modified, 304) and the
 * security headers of its kind. 404 JSON when it is not there. */
static int send_file(ci_req_t *req, const char *path, const char *ctype,
                     const char *csp)
{
    request_rec *r = req->r;
    apr_bucket_brigade *bb;
    apr_file_t *f = NULL;
    apr_status_t rv;
    int rc;

    rv = apr_stat(&r->finfo, path, APR_FINFO_MIN, r->pool);
    if (rv != APR_SUCCESS || r->finfo.filetype != APR_REG || !ctype) {
        return ci_http_fail(req, HTTP_NOT_FOUND, 10130, "Not found.");
    }
    r->mtime = r->finfo.mtime;
    ap_set_last_modified(r);
    ap_set_etag(r);
    apr_table_setn(r->headers_out, "Cache-Control", "no-cache");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    if (csp) {
        apr_table_setn(r->headers_out, "Content-Security-Policy", csp);
        apr_table_setn(r->headers_out, "X-Frame-Options", "DENY");
        apr_table_setn(r->headers_out, "Referrer-Policy", "no-referrer");
    }
    ap_set_content_type(r, ctype);
    if ((rc = ap_meets_conditions(r)) != OK) {
        r->status = rc;
        return OK;
    }
    ap_set_content_length(r, r->finfo.size);
    if (r->header_only) {
        return OK;
    }
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_SENDFILE_ENABLED,
                       0, r->pool);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      "CI10131: cannot open %s", path);
        return ci_http_fail(req, HTTP_INTERNAL_SERVER_ERROR, 10132,
                            "A server error occurred.");
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_brigade_insert_file(bb, f, 0, r->finfo.size, r->pool);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(
                                    r->connection->bucket_alloc));
    ap_pass_brigade(r->output_filters, bb);
    return OK;
}

/* web_root/<dir>/<param "file"> */
static int send_named(ci_req_t *req, const char *dir, const char *csp)
{
    const char *name = ci_route_param(&req->match, "file");

    if (!safe_name(name)) {
        return ci_http_fail(req, HTTP_NOT_FOUND, 10133, "Not found.");
    }
    return send_file(req, apr_pstrcat(req->r->pool, web_root(req), "/", dir,
                                      "/", name, NULL),
                     content_type(name), csp);
}

/* A page asked for without its trailing slash: its relative URLs would
 * resolve outside the mount, so send the browser to the slashed URL. */
static int slash_redirect(ci_req_t *req)
{
    request_rec *r = req->r;
    apr_size_t n = strlen(r->uri);
    const char *to;

    if (n > 0 && r->uri[n - 1] == '/') {
        return 0;
    }
    to = apr_pstrcat(r->pool, ap_escape_uri(r->pool, r->uri), "/",
                     r->args ? "?" : "", r->args ? r->args : "", NULL);
    apr_table_setn(r->headers_out, "Location",
                   ap_construct_url(r->pool, to, r));
    r->status = HTTP_MOVED_PERMANENTLY;
    return 1;
}

int ci_web_wants_html(ci_req_t *req)
{
    const char *accept = apr_table_get(req->r->headers_in, "Accept");

    return accept && ap_strstr_c(accept, "text/html")
        && !ap_strstr_c(accept, "application/json");
}

int ci_web_page(ci_req_t *req, const char *name)
{
    if (slash_redirect(req)) {
        return OK;
    }
    return send_file(req, apr_pstrcat(req->r->pool, web_root(req), "/", name,
                                      NULL), content_type(name), CSP_PAGES);
}

int ci_web_inbox(ci_req_t *req)
{
    return ci_web_page(req, "inbox.html");
}

int ci_web_static(ci_req_t *req)
{
    return send_named(req, "static", NULL);
}

int ci_web_docs(ci_req_t *req)
{
    if (slash_redirect(req)) {
        return OK;
    }
    return send_file(req, apr_pstrcat(req->r->pool, web_root(req),
                                      "/docs/swagger.html", NULL),
                     "text/html; charset=utf-8", CSP_SWAGGER);
}

int ci_web_docs_file(ci_req_t *req)
{
    return send_named(req, "docs", CSP_SWAGGER);
}

int ci_web_redoc(ci_req_t *req)
{
    if (slash_redirect(req)) {
        return OK;
    }
    return send_file(req, apr_pstrcat(req->r->pool, web_root(req),
                                      "/docs/redoc.html", NULL),
                     "text/html; charset=utf-8", CSP_REDOC);
}

int ci_web_vendor(ci_req_t *req)
{
    return send_named(req, "vendor", NULL);
}

int ci_web_schema(ci_req_t *req)
{
    const char *path = req->conf->openapi_file
                     ? req->conf->openapi_file
                     : apr_pstrcat(req->r->pool, web_root(req),
                                   "/openapi.json", NULL);

    return send_file(req, path, "application/json", NULL);
}
