/* mod_carinfo_handler.c: the route table (every endpoint is one hop from
 * here: the handler named in its row) and the dispatch. */
#include <httpd.h>
#include <apr_strings.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>

#include "mod_carinfo_handler.h"
#include "mod_carinfo_http.h"
#include "mod_carinfo_auth.h"
#include "face_accounts.h"
#include "face_chat.h"
#include "face_core.h"
#include "face_qrconnect.h"
#include "face_web.h"

APLOG_USE_MODULE(carinfo);
extern module AP_MODULE_DECLARE_DATA carinfo_module;

#define ROUTE(m, pat, fn, acc, sum) { m, pat, (const void *)(fn), acc, sum }

static const ci_route_t routes[] = {
    ROUTE("GET",  "/api/health/", ci_core_health, CI_ACCESS_PUBLIC,
          "Whether the service and its database answer"),
    ROUTE("GET",  "/q/{token:uuid}/", ci_core_sticker, CI_ACCESS_PUBLIC,
          "What a scanned QR sticker is: free or registered"),
    ROUTE("POST", "/api/echo/", ci_core_echo, CI_ACCESS_DEBUG,
          "Echo a JSON body (CarInfoDebugEcho on only)"),
    /* CarInfo accounts (spec 004) */
    ROUTE("POST", "/api/user/register/", ci_acc_register, CI_ACCESS_PUBLIC,
          "Register the owner of a QR sticker"),
    ROUTE("POST", "/api/login/", ci_acc_login, CI_ACCESS_PUBLIC,
          "Log in with phone number and password"),
    ROUTE("POST", "/api/token/refresh/", ci_acc_refresh, CI_ACCESS_PUBLIC,
          "Rotate a refresh token into a new token pair"),
    ROUTE("POST", "/api/logout/", ci_acc_logout, CI_ACCESS_PUBLIC,
          "Log out: revoke the refresh token's login"),
    ROUTE("GET",  "/api/profile/", ci_acc_profile_get, CI_ACCESS_USER,
          "The caller's profile"),
    ROUTE("PUT",  "/api/profile/", ci_acc_profile_update, CI_ACCESS_USER,
          "Update the caller's profile (partial allowed)"),
    ROUTE("PATCH", "/api/profile/", ci_acc_profile_update, CI_ACCESS_USER,
          "Partially update the caller's profile"),
    ROUTE("GET",  "/api/users/", ci_acc_users, CI_ACCESS_PUBLIC,
          "Public profiles of registered users"),
    ROUTE("GET",  "/user/{user_id:uuid}/", ci_acc_public_profile,
          CI_ACCESS_PUBLIC, "A public profile by user or sticker UUID"),
    /* CarInfo visitor chat (specs 001, 004) */
    ROUTE("POST", "/api/chat/start/", ci_chat_h_start, CI_ACCESS_PUBLIC,
          "Start a chat with a car's owner (visitor)"),
    ROUTE("GET",  "/api/chat/rooms/", ci_chat_h_rooms, CI_ACCESS_USER,
          "The owner's rooms, most recent activity first"),
    ROUTE("GET",  "/api/chat/rooms/{room_id:uuid}/", ci_chat_h_room,
          CI_ACCESS_PUBLIC, "One room (owner token or ?visitor=)"),
    ROUTE("PATCH", "/api/chat/rooms/{room_id:uuid}/", ci_chat_h_room_update,
          CI_ACCESS_PUBLIC, "Close or reopen a room (owner)"),
    ROUTE("POST", "/api/chat/rooms/{room_id:uuid}/block/", ci_chat_h_block,
          CI_ACCESS_PUBLIC, "Block the room's visitor (owner)"),
    ROUTE("GET",  "/api/chat/rooms/{room_id:uuid}/messages/",
          ci_chat_h_messages, CI_ACCESS_PUBLIC,
          "A room's messages, oldest first (owner token or ?visitor=)"),
    ROUTE("POST", "/api/chat/rooms/{room_id:uuid}/messages/", ci_chat_h_send,
          CI_ACCESS_PUBLIC, "Send a message over REST (owner or visitor)"),
    /* QRConnect (spec 000): both spellings the document uses */
    ROUTE("POST", "/api/auth/scan-qr/", ci_qr_scan, CI_ACCESS_PUBLIC,
          "Scan a QR token: link it (logged in), or find its owner"),
#define QR_ROUTES(pre) \
    ROUTE("POST", pre "/send/", ci_qr_send, CI_ACCESS_PUBLIC, \
          "Send a message: as a guest with a pseudo, or logged in"), \
    ROUTE("GET",  pre "/discussion-anonyme/", ci_qr_guest_discussion, \
          CI_ACCESS_USER, "The caller's conversation with a guest pseudo"), \
    ROUTE("GET",  pre "/conversations-anonymes/", ci_qr_guest_pseudos, \
          CI_ACCESS_USER, "The pseudos of the guests who wrote"), \
    ROUTE("POST", pre "/conversations-anonymes/block/", ci_qr_block_pseudo, \
          CI_ACCESS_USER, "Block a guest pseudo"), \
    ROUTE("GET",  pre "/discussion/{user_id:str}/", ci_qr_discussion, \
          CI_ACCESS_USER, "The caller's discussion with another user"), \
    ROUTE("GET",  pre "/conversations/", ci_qr_conversations, \
          CI_ACCESS_USER, "The users the caller has discussions with")
    QR_ROUTES("/api/chat"),
    QR_ROUTES("/api/auth/chat"),
#undef QR_ROUTES
    /* Web pages and the API reference */
    ROUTE("GET",  "/inbox/", ci_web_inbox, CI_ACCESS_PUBLIC,
          "The owner's web inbox (HTML)"),
    ROUTE("GET",  "/static/{file:str}", ci_web_static, CI_ACCESS_PUBLIC,
          "Scripts, styles and images of the pages"),
    ROUTE("GET",  "/api/docs/", ci_web_docs, CI_ACCESS_PUBLIC,
          "Swagger UI"),
    ROUTE("GET",  "/api/docs/{file:str}", ci_web_docs_file,
          CI_ACCESS_PUBLIC, "Files of the API reference pages"),
    ROUTE("GET",  "/api/redoc/", ci_web_redoc, CI_ACCESS_PUBLIC, "Redoc"),
    ROUTE("GET",  "/api/vendor/{file:str}", ci_web_vendor, CI_ACCESS_PUBLIC,
          "Swagger UI and Redoc bundles"),
    ROUTE("GET",  "/api/schema/", ci_web_schema, CI_ACCESS_PUBLIC,
          "The OpenAPI 3 document of this API"),
};
#define NROUTES ((int)(sizeof(routes) / sizeof(routes[0])))

const char *ci_handler_check_routes(apr_pool_t *p)
{
    return ci_route_check(p, routes, NROUTES);
}

/* The part of `uri` below `mount` ("" is the root), or NULL when the URI
 * is not under it (on a segment boundary). */
static const char *below(const char *uri, const char *mount)
{
    apr_size_t n = strlen(mount);

    if (strncmp(uri, mount, n) || (uri[n] && uri[n] != '/')) {
        return NULL;
    }
    return uri[n] ? uri + n : "/";
}

/* Matches the request against the routes below `mount`; NOT_FOUND when the
 * URI is not under it. Sets req->mount and req->path. */
static ci_route_result_t find_below(ci_req_t *req, const char *mount,
                                    const char **allow)
{
    const char *path = below(req->r->uri, mount);

    if (!path) {
        return CI_ROUTE_NOT_FOUND;
    }
    req->mount = mount;
    req->path = path;
    return ci_route_find(req->r->pool, routes, NROUTES, req->r->method, path,
                         &req->match, allow);
}

/* The mount is CarInfoMountPath when set; otherwise each <Location> with
 * "SetHandler carinfo" is a candidate, the longest tried first. */
static ci_route_result_t find_route(ci_req_t *req, const char **allow)
{
    const apr_array_header_t *mounts = ci_config_mounts();
    ci_route_result_t res;
    int i;

    req->mount = "";
    req->path = req->r->uri;
    if (req->conf->mount) {
        return find_below(req, req->conf->mount, allow);
    }
    for (i = 0; mounts && i < mounts->nelts; i++) {
        res = find_below(req, APR_ARRAY_IDX(mounts, i, const char *), allow);
        if (res != CI_ROUTE_NOT_FOUND) {
            return res;
        }
    }
    return find_below(req, "", allow);
}

int ci_handler(request_rec *r)
{
    ci_req_t req;
    const char *allow = NULL;
    ci_handler_fn *fn;

    if (!r->handler || strcmp(r->handler, "carinfo") || r->proxyreq) {
        return DECLINED;
    }
    memset(&req, 0, sizeof(req));
    req.r = r;
    req.conf = ap_get_module_config(r->per_dir_config, &carinfo_module);
    switch (find_route(&req, &allow)) {
    case CI_ROUTE_NOT_FOUND:
        return ci_http_fail(&req, HTTP_NOT_FOUND, 10030, "Not found.");
    case CI_ROUTE_BAD_METHOD:
        apr_table_setn(r->err_headers_out, "Allow", allow);
        return ci_http_fail(&req, HTTP_METHOD_NOT_ALLOWED, 10031,
                            apr_psprintf(r->pool, "Method \"%s\" not allowed.",
                                         ap_escape_logitem(r->pool,
                                                           r->method)));
    case CI_ROUTE_FOUND:
        break;
    }
    if (req.match.route->access == CI_ACCESS_USER
        && !ci_auth_require_user(&req)) {
        return OK;
    }
    if (req.match.route->access == CI_ACCESS_DEBUG
        && !ci_config_debug_echo(req.conf)) {
        return ci_http_fail(&req, HTTP_NOT_FOUND, 10032, "Not found.");
    }
    fn = (ci_handler_fn *)req.match.route->handler;
    return fn(&req);
}
