/* relay_auth.c: who may open a chat socket (see relay_auth.h). */
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include <libwebsockets.h>

#include "ci_account.h"
#include "ci_chat.h"
#include "ci_error.h"
#include "ci_jwt.h"
#include "ci_log.h"
#include "ci_util.h"
#include "relay.h"
#include "relay_auth.h"
#include "relay_db.h"
#include "relay_log.h"

#define ARG_MAX 2048                /* longest query argument read */
#define CHAT_PATH "/ws/chat/"
#define NOT_FOUND "Not found."
#define BAD_TOKEN "Given token not valid for any token type"
#define UNAVAILABLE "Service temporarily unavailable, try again later."

/* The credentials of an upgrade request, from its query and headers. */
typedef struct creds_t {
    const char *visitor;            /* ?visitor= */
    const char *jwt;                /* ?token=, else Authorization: Bearer */
    const char *since;              /* ?since= */
    int other_scheme;               /* an Authorization header, not Bearer */
} creds_t;

static const char *reason_phrase(unsigned int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 503: return "Service Unavailable";
    default:  return "Error";
    }
}

static int add_header(struct lws *wsi, const char *name, const char *value,
                      unsigned char **pos, unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value,
                                       (int)strlen(value), pos, end);
}

/* Writes the refusal `pr` as a complete HTTP/1.1 response with its DRF
 * body. (lws_return_http_status() would say HTTP/1.0 here, because lws has
 * not yet recorded the request's version when it asks us to confirm an
 * upgrade, and it wraps the text in HTML.) Returns 1, or -1 when the
 * write failed. */
static int refuse(struct lws *wsi, apr_pool_t *p, const ci_problem_t *pr)
{
    unsigned char buf[LWS_PRE + 1024];
    unsigned char *start = buf + LWS_PRE, *pos = start;
    unsigned char *end = buf + sizeof(buf) - 1;
    unsigned int status = (unsigned int)pr->status;
    apr_size_t blen;
    const char *body = ci_problem_body(p, pr, &blen);
    char line[64], num[24], urn[40];
    int n;

    n = apr_snprintf(line, sizeof(line), "HTTP/1.1 %u %s", status,
                     reason_phrase(status));
    apr_snprintf(num, sizeof(num), "%" APR_SIZE_T_FMT, blen);
    apr_snprintf(urn, sizeof(urn), "urn:carinfo:log:CI%05d", pr->logno);
    if (lws_add_http_header_by_name(wsi, NULL, (unsigned char *)line, n,
                                    &pos, end)
        || add_header(wsi, "server:", CI_RELAY_NAME, &pos, end)
        || add_header(wsi, "content-type:", "application/json", &pos, end)
        || add_header(wsi, "content-length:", num, &pos, end)
        || add_header(wsi, "cache-control:", "no-store", &pos, end)
        || add_header(wsi, "connection:", "close", &pos, end)
        || add_header(wsi, "x-carinfo-problem:", urn, &pos, end)
        || (status == 401
            && add_header(wsi, "www-authenticate:", "Bearer realm=\"api\"",
                          &pos, end))
        || lws_finalize_http_header(wsi, &pos, end)
        || blen > (apr_size_t)(end - pos)) {
        return -1;
    }
    memcpy(pos, body, blen);
    n = (int)(pos - start) + (int)blen;
    if (lws_write(wsi, start, (size_t)n, LWS_WRITE_HTTP) != n) {
        return -1;
    }
    return 1;
}

static int refuse_detail(struct lws *wsi, apr_pool_t *p, int status,
                         int logno, const char *detail)
{
    return refuse(wsi, p, ci_problem_make(p, status, logno, detail));
}

static int refuse_field(struct lws *wsi, apr_pool_t *p, int logno,
                        const char *field, const char *msg)
{
    return refuse(wsi, p, ci_problem_field(p, ci_problem_invalid(p, logno),
                                           field, msg));
}

/* The room uuid (lower case, from `p`) of "[<prefix>]/ws/chat/<uuid>[/]",
 * or NULL for any other path. */
static const char *room_of_path(apr_pool_t *p, const char *path)
{
    apr_size_t n = strlen(path), plen = sizeof(CHAT_PATH) - 1;

    if (n && path[n - 1] == '/') {
        n--;
    }
    if (n < plen + CI_UUID_LEN
        || strncmp(path + n - CI_UUID_LEN - plen, CHAT_PATH, plen)) {
        return NULL;
    }
    return ci_uuid_normalize(p, apr_pstrmemdup(p, path + n - CI_UUID_LEN,
                                               CI_UUID_LEN));
}

/* The value of query argument `name` ("visitor="), a copy from `p`; NULL
 * when absent or empty. */
static const char *query_arg(struct lws *wsi, apr_pool_t *p, char *buf,
                             const char *name)
{
    const char *v = lws_get_urlarg_by_name(wsi, name, buf, ARG_MAX);

    return v && *v ? apr_pstrdup(p, v) : NULL;
}

static void read_creds(struct lws *wsi, apr_pool_t *p, creds_t *c)
{
    char *buf = apr_palloc(p, ARG_MAX);
    int n;

    memset(c, 0, sizeof(*c));
    c->visitor = query_arg(wsi, p, buf, "visitor=");
    c->jwt = query_arg(wsi, p, buf, "token=");
    c->since = query_arg(wsi, p, buf, "since=");
    n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n <= 0 || n >= ARG_MAX
        || lws_hdr_copy(wsi, buf, ARG_MAX, WSI_TOKEN_HTTP_AUTHORIZATION) < 0) {
        c->other_scheme = n > 0;
        return;
    }
    if (strncasecmp(buf, "Bearer ", 7) || !buf[7]) {
        c->other_scheme = 1;
    }
    else if (!c->jwt) {
        c->jwt = apr_pstrdup(p, buf + 7);
    }
}

/* The owner behind a verified access token, into *user (NULL: none).
 * Returns 0, or the refusal's return value. */
static int find_owner(ci_relay_t *relay, struct lws *wsi, apr_pool_t *p,
                      ci_db_t *db, const char *token, ci_user_t **user)
{
    ci_jwt_claims_t claims;
    ci_jwt_result_t res;
    apr_status_t rv;

    *user = NULL;
    if (!relay->jwt_key.key) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10521) "chat upgrade refused: an owner token, "
                      "but no --jwt-key to verify it");
        return refuse_detail(wsi, p, 401, 10521, BAD_TOKEN);
    }
    res = ci_jwt_verify(p, &relay->jwt_key, token, CI_TOKEN_ACCESS,
                        apr_time_sec(apr_time_now()), &claims);
    if (res != CI_JWT_OK) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10522) "chat upgrade refused: token not "
                      "accepted (%s)", ci_jwt_result_name(res));
        return refuse_detail(wsi, p, 401, 10522, BAD_TOKEN);
    }
    rv = ci_user_find(db, p, CI_USER_BY_UUID, claims.user_id, user);
    if (rv != APR_SUCCESS) {
        ci_relay_db_failed(relay, "user by uuid", rv);
        return refuse_detail(wsi, p, 503, 10523, UNAVAILABLE);
    }
    if (!*user || !(*user)->is_registered) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10524) "chat upgrade refused: token of no "
                      "registered user");
        return refuse_detail(wsi, p, 401, 10524, "User not found");
    }
    return 0;
}

/* ?since=: a message uuid of the room or an integer id >= 0, into *since.
 * Returns 0, or the refusal's return value. */
static int read_since(ci_relay_t *relay, struct lws *wsi, apr_pool_t *p,
                      ci_db_t *db, const ci_room_t *room, const char *arg,
                      apr_int64_t *since)
{
    const char *uuid = ci_uuid_normalize(p, arg);
    apr_status_t rv;

    *since = -1;
    if (uuid) {
        rv = ci_chat_message_id(db, p, room->id, uuid, since);
        if (rv != APR_SUCCESS) {
            ci_relay_db_failed(relay, "message id", rv);
            return refuse_detail(wsi, p, 503, 10525, UNAVAILABLE);
        }
        if (!*since) {
            *since = -1;
        }
    }
    else if (ci_parse_int64(arg, since) || *since < 0) {
        *since = -1;
    }
    if (*since < 0) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10526) "chat upgrade refused: since is not a "
                      "message of room %" APR_INT64_T_FMT, room->id);
        return refuse_field(wsi, p, 10526, "since",
                            "Not a message of this room.");
    }
    return 0;
}

/* The room and the caller's role in it; 0 when granted. */
static int open_room(ci_relay_t *relay, struct lws *wsi, apr_pool_t *p,
                     ci_db_t *db, const char *uuid, const creds_t *c,
                     const ci_user_t *user, ci_relay_grant_t *grant)
{
    ci_room_t *room = NULL;
    apr_status_t rv;

    rv = ci_chat_room(db, p, uuid, &room);
    if (rv != APR_SUCCESS) {
        ci_relay_db_failed(relay, "room by uuid", rv);
        return refuse_detail(wsi, p, 503, 10527, UNAVAILABLE);
    }
    ci_relay_db_ok(relay);
    grant->role = CI_CHAT_NOBODY;
    if (room && !strcmp(room->kind, "visitor")) {
        grant->role = ci_chat_role(p, room, c->visitor,
                                   user ? user->uuid : NULL);
    }
    if (grant->role == CI_CHAT_NOBODY) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10528) "chat upgrade refused: room %s is "
                      "unknown or not open to these credentials", uuid);
        return refuse_detail(wsi, p, 404, 10528, NOT_FOUND);
    }
    grant->room_id = room->id;
    apr_cpystrn(grant->room_uuid, room->uuid, sizeof(grant->room_uuid));
    if (grant->role == CI_CHAT_OWNER) {
        grant->user_id = user->id;
        grant->sender_name = user->full_name ? user->full_name : "";
    }
    else {
        grant->sender_name = room->visitor_name;    /* never changes */
    }
    /* Read before the 101 is sent: a message committed while the
     * handshake completes comes after it, so the socket replays it
     * instead of taking it for history (a busy relay may reach
     * ESTABLISHED late). It is also where a new room's stream starts. */
    rv = ci_chat_last_id(db, p, room->id, &grant->room_last);
    if (rv != APR_SUCCESS) {
        ci_relay_db_failed(relay, "last message id", rv);
        return refuse_detail(wsi, p, 503, 10565, UNAVAILABLE);
    }
    grant->since = grant->room_last;
    return c->since ? read_since(relay, wsi, p, db, room, c->since,
                                 &grant->since)
                    : 0;
}

int ci_relay_auth_upgrade(ci_relay_t *relay, struct lws *wsi, apr_pool_t *p,
                          ci_relay_grant_t *grant)
{
    char uri[512], esc[256];
    const char *uuid;
    ci_user_t *user = NULL;
    ci_db_t *db;
    creds_t c;
    int rc;

    memset(grant, 0, sizeof(*grant));
    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0) {
        uri[0] = '\0';
    }
    uuid = room_of_path(p, uri);
    if (!uuid) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10529) "WebSocket upgrade for %s refused: no "
                      "such path", ci_relay_log_escape(esc, sizeof(esc),
                                                       uri));
        return refuse_detail(wsi, p, 404, 10529, NOT_FOUND);
    }
    read_creds(wsi, p, &c);
    if (!c.visitor && !c.jwt) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10530) "chat upgrade refused: no credentials%s",
                      c.other_scheme ? " (Authorization is not Bearer)" : "");
        return refuse_detail(wsi, p, 401, 10530, "Authentication "
                             "credentials were not provided.");
    }
    db = ci_relay_db_get(relay);
    if (!db) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10531) "chat upgrade refused: no database");
        return refuse_detail(wsi, p, 503, 10531, UNAVAILABLE);
    }
    if (c.jwt && (rc = find_owner(relay, wsi, p, db, c.jwt, &user)) != 0) {
        return rc;
    }
    rc = open_room(relay, wsi, p, db, uuid, &c, user, grant);
    if (rc == 0) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10532) "chat upgrade granted: room %"
                      APR_INT64_T_FMT " as %s%s", grant->room_id,
                      grant->role == CI_CHAT_OWNER ? "owner" : "visitor",
                      c.since ? " with since" : "");
    }
    return rc;
}
