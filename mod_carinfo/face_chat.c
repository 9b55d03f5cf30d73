/* face_chat.c: see face_chat.h. The owner authenticates with a Bearer
 * access token, the visitor with ?visitor=<token>; a room that the
 * credentials do not open answers 404, whether or not it exists. */
#include <httpd.h>
#include <apr_strings.h>
#include <http_log.h>
#include <http_protocol.h>

#include "face_chat.h"
#include "mod_carinfo_auth.h"
#include "ci_chat.h"
#include "ci_json.h"
#include "ci_util.h"
#include "ci_validate.h"

APLOG_USE_MODULE(carinfo);

#define NFIELDS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define HISTORY_MAX 500

static const ci_field_t start_fields[] = {
    { "user_id", CI_FIELD_UUID, CI_FIELD_REQUIRED, 0 },
    { "visitor_name", CI_FIELD_STRING, CI_FIELD_OPTIONAL, CI_CHAT_MAX_NAME },
};

static const ci_field_t send_fields[] = {
    { "message", CI_FIELD_RAW, CI_FIELD_OPTIONAL, 0 },
    { "content", CI_FIELD_RAW, CI_FIELD_OPTIONAL, 0 },
};

static const ci_field_t room_fields[] = {
    { "is_active", CI_FIELD_BOOL, CI_FIELD_REQUIRED, 0 },
};

/* <ws base>/chat/<room>/ where the base is CarInfoWebSocketBase or
 * <mount>/ws, so a deployment under /back hands out a path that works. */
static const char *ws_path(ci_req_t *req, const char *room)
{
    const char *base = req->conf->ws_base
                     ? req->conf->ws_base
                     : apr_pstrcat(req->r->pool, req->mount, "/ws", NULL);

    return apr_pstrcat(req->r->pool, base, "/chat/", room, "/", NULL);
}

int ci_chat_h_start(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    ci_value_t v[NFIELDS(start_fields)];
    ci_http_limit_t limits[2];
    const char *room = NULL, *token = NULL;
    ci_user_t *owner = NULL;
    apr_status_t rv;
    json_t *j;

    if (!ci_http_read_fields(req, start_fields, NFIELDS(start_fields), v,
                             10102)) {
        return OK;
    }
    if (!ci_req_db(req)) {
        return ci_http_db_fail(req, CI_DB_EUNAVAIL, 10103);
    }
    /* The owner's uuid, or a sticker token the owner claimed. */
    rv = ci_user_find(req->db, p, CI_USER_BY_STICKER, v[0].str, &owner);
    if (rv == APR_SUCCESS && !owner) {
        rv = ci_user_find(req->db, p, CI_USER_BY_UUID, v[0].str, &owner);
    }
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10104);
    }
    if (!owner || !owner->is_registered) {
        return ci_http_fail(req, HTTP_NOT_FOUND, 10105, "Not found.");
    }
    limits[0].bucket = apr_pstrcat(p, "chat:addr:", req->r->useragent_ip,
                                   NULL);
    limits[0].limit = ci_config_start_addr(req->conf);
    limits[0].what = "chat rooms started per address";
    limits[1].bucket = apr_pstrcat(p, "chat:owner:", owner->uuid, NULL);
    limits[1].limit = ci_config_start_owner(req->conf);
    limits[1].what = "chat rooms started per owner";
    if (!ci_http_limits(req, limits, 2, 10100, 10101)) {
        return OK;
    }
    rv = ci_chat_start(req->db, p, owner->id,
                       v[1].present ? v[1].str : "", &room, &token);
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10106);
    }
    j = ci_json_own(p, json_pack("{s:s, s:s, s:s}", "room_id", room,
                                 "visitor_token", token, "ws_path",
                                 ws_path(req, room)));
    return ci_http_send_json(req, HTTP_CREATED, j);
}

/* The room of the URL and the caller's role in it; on failure the error
 * was sent and 0 is returned. `owner_only` refuses visitors. */
/* What open_room does before it reads the room: a Bearer token, when
 * given, must be valid (401), and the database must be there. */
static int room_prelude(ci_req_t *req)
{
    const char *auth = apr_table_get(req->r->headers_in, "Authorization");

    if (auth && !ci_auth_require_user(req)) {
        return 0;                       /* a bad token is a 401 */
    }
    if (!req->db && !ci_req_db(req)) {
        ci_http_db_fail(req, CI_DB_EUNAVAIL, 10107);
        return 0;
    }
    return 1;
}

/* What open_room does after: who is asking for `room` (NULL: there is
 * none), or the 401/404. */
static int room_access(ci_req_t *req, ci_room_t *room, ci_chat_role_t *role,
                       int owner_only)
{
    const char *visitor = ci_http_query(req, "visitor");
    const char *auth = apr_table_get(req->r->headers_in, "Authorization");

    *role = CI_CHAT_NOBODY;
    if (room && strcmp(room->kind, "visitor") == 0) {
        *role = ci_chat_role(req->r->pool, room,
                             owner_only ? NULL : visitor,
                             req->user ? req->user->uuid : NULL);
    }
    if (*role == CI_CHAT_NOBODY) {
        if (!auth && !visitor) {
            ci_problem_t *pr = ci_problem_make(req->r->pool, 401, 10109,
                "Authentication credentials were not provided.");
            ci_http_problem(req, pr);
            return 0;
        }
        ci_http_fail(req, HTTP_NOT_FOUND, 10110, "Not found.");
        return 0;
    }
    return 1;
}

static int open_room(ci_req_t *req, ci_room_t **room, ci_chat_role_t *role,
                     int owner_only)
{
    apr_status_t rv;

    *role = CI_CHAT_NOBODY;
    if (!room_prelude(req)) {
        return 0;
    }
    rv = ci_chat_room(req->db, req->r->pool,
                      ci_route_param(&req->match, "room_id"), room);
    if (rv != APR_SUCCESS) {
        ci_http_db_fail(req, rv, 10108);
        return 0;
    }
    return room_access(req, *room, role, owner_only);
}

/* The members of a room's JSON object (spec 001), without its braces:
 * lists add the owner's inbox fields after them. */
static void room_members(ci_jbuf_t *b, apr_pool_t *p, const ci_room_t *room)
{
    ci_jbuf_set_str(b, "id", room->uuid);
    ci_jbuf_set_str(b, "owner_id", room->owner_uuid);
    ci_jbuf_set_str(b, "visitor_name", room->visitor_name);
    ci_jbuf_set_bool(b, "is_active", room->is_active);
    ci_jbuf_set_bool(b, "visitor_blocked", room->visitor_blocked);
    ci_jbuf_set_str(b, "created_at", ci_time_iso(p, room->created_at));
    ci_jbuf_set_str(b, "updated_at", ci_time_iso(p, room->updated_at));
}

/* A room as its own object: GET, PATCH and block answer it. */
static int send_room(ci_req_t *req, const ci_room_t *room)
{
    ci_jbuf_t out;

    ci_jbuf_init(&out, req->r->pool, 512);
    ci_jbuf_open(&out, '{');
    room_members(&out, req->r->pool, room);
    ci_jbuf_close(&out, '}');
    return ci_http_send_json_text(req, HTTP_OK, out.buf, out.len);
}

int ci_chat_h_rooms(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    apr_array_header_t *rooms;
    ci_jbuf_t out;
    apr_status_t rv;
    int i;

    rv = ci_chat_owner_rooms(req->db, p, req->user->id,
                             ci_config_list_max(req->conf), 0, &rooms);
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10111);
    }
    ci_jbuf_init(&out, p, 64 + 640 * (apr_size_t)rooms->nelts);
    ci_jbuf_open(&out, '[');
    for (i = 0; i < rooms->nelts; i++) {
        ci_inbox_room_t *ir = APR_ARRAY_IDX(rooms, i, ci_inbox_room_t *);

        ci_jbuf_open(&out, '{');
        room_members(&out, p, &ir->room);
        ci_jbuf_key(&out, "last_message");
        if (ir->last) {
            ci_chat_message_jbuf(&out, p, ir->last, "content");
        }
        else {
            ci_jbuf_null(&out);
        }
        ci_jbuf_set_int(&out, "unread_count", ir->unread);
        ci_jbuf_close(&out, '}');
    }
    ci_jbuf_close(&out, ']');
    return ci_http_send_json_text(req, HTTP_OK, out.buf, out.len);
}

int ci_chat_h_room(ci_req_t *req)
{
    ci_room_t *room;
    ci_chat_role_t role;

    if (!open_room(req, &room, &role, 0)) {
        return OK;
    }
    return send_room(req, room);
}

static int set_state(ci_req_t *req, ci_room_t *room, const char *active,
                     const char *blocked)
{
    apr_pool_t *p = req->r->pool;
    apr_status_t rv;

    rv = ci_db_exec(req->db, p, CI_STMT_ROOM_SET_STATE,
                    CI_ARGS(active, blocked, ci_db_i64(p, ci_now_usec()),
                            ci_db_i64(p, room->id)), NULL);
    if (rv == APR_SUCCESS) {
        rv = ci_chat_room(req->db, p, room->uuid, &room);
    }
    if (rv != APR_SUCCESS || !room) {
        return ci_http_db_fail(req, rv, 10112);
    }
    return send_room(req, room);
}

int ci_chat_h_room_update(ci_req_t *req)
{
    ci_value_t v[NFIELDS(room_fields)];
    ci_room_t *room;
    ci_chat_role_t role;

    if (!open_room(req, &room, &role, 1)
        || !ci_http_read_fields(req, room_fields, NFIELDS(room_fields), v,
                                10113)) {
        return OK;
    }
    return set_state(req, room, v[0].flag ? "1" : "0", NULL);
}

int ci_chat_h_block(ci_req_t *req)
{
    ci_room_t *room;
    ci_chat_role_t role;

    if (!open_room(req, &room, &role, 1)) {
        return OK;
    }
    return set_state(req, room, "0", "1");
}

/* ?since=<message uuid or id>: the integer id to read after. */
static int since_arg(ci_req_t *req, const ci_room_t *room, apr_int64_t *after)
{
    const char *s = ci_http_query(req, "since");
    const char *uuid;
    apr_status_t rv;

    *after = 0;
    if (!s || !*s) {
        return 1;
    }
    if ((uuid = ci_uuid_normalize(req->r->pool, s))) {
        rv = ci_chat_message_id(req->db, req->r->pool, room->id, uuid, after);
        if (rv != APR_SUCCESS) {
            ci_http_db_fail(req, rv, 10114);
            return 0;
        }
        if (*after) {
            return 1;
        }
    }
    else if (!ci_parse_int64(s, after) && *after >= 0) {
        return 1;
    }
    ci_http_problem(req, ci_problem_field(req->r->pool,
                    ci_problem_invalid(req->r->pool, 10115), "since",
                    "Not a message of this room."));
    return 0;
}

/* The messages list. With no ?since= (or a numeric one) and a good
 * ?limit=, the room and its page are one call (one round trip on
 * PostgreSQL, ci_chat_room_history);
 * otherwise the room comes first, and errors come in the order: token,
 * room, since, limit. */
int ci_chat_h_messages(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    const char *lim = ci_http_query(req, "limit");
    const char *since = ci_http_query(req, "since");
    apr_array_header_t *msgs = NULL;
    apr_int64_t after = 0, limit = HISTORY_MAX;
    ci_chat_role_t role;
    ci_room_t *room;
    apr_status_t rv;
    ci_jbuf_t out;
    int i, bad_limit, one_trip;

    bad_limit = lim && (ci_parse_int64(lim, &limit) || limit < 1
                        || limit > HISTORY_MAX);
    one_trip = !bad_limit && (!since || !*since
                              || (!ci_parse_int64(since, &after)
                                  && after >= 0));
    if (!room_prelude(req)) {
        return OK;
    }
    rv = one_trip ? ci_chat_room_history(req->db, p,
                                         ci_route_param(&req->match,
                                                        "room_id"),
                                         after, (int)limit, &room, &msgs)
                  : ci_chat_room(req->db, p, ci_route_param(&req->match,
                                                            "room_id"),
                                 &room);
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10176);
    }
    if (!room_access(req, room, &role, 0)) {
        return OK;
    }
    if (!one_trip) {
        if (!since_arg(req, room, &after)) {
            return OK;
        }
        if (bad_limit) {
            return ci_http_problem(req, ci_problem_field(p,
                                   ci_problem_invalid(p, 10116), "limit",
                                   "Ensure this value is a whole number "
                                   "from 1 to 500."));
        }
        rv = ci_chat_history(req->db, p, room->id, room->uuid, after,
                             (int)limit, &msgs);
        if (rv != APR_SUCCESS) {
            return ci_http_db_fail(req, rv, 10117);
        }
    }
    ci_jbuf_init(&out, p, 64 + 320 * (apr_size_t)msgs->nelts);
    ci_jbuf_open(&out, '[');
    for (i = 0; i < msgs->nelts; i++) {
        ci_chat_message_jbuf(&out, p, APR_ARRAY_IDX(msgs, i, ci_message_t *),
                             "content");
    }
    ci_jbuf_close(&out, ']');
    if (role == CI_CHAT_OWNER && msgs->nelts) {
        const char *last = ci_db_i64(p, APR_ARRAY_IDX(msgs, msgs->nelts - 1,
                                                      ci_message_t *)->id);
        /* The owner has now read the room up to here. */
        ci_db_exec(req->db, p, CI_STMT_ROOM_OWNER_READ,
                   CI_ARGS(last, last, ci_db_i64(p, room->id), last), NULL);
    }
    return ci_http_send_json_text(req, HTTP_OK, out.buf, out.len);
}

int ci_chat_h_post_failed(ci_req_t *req, apr_status_t rv, int logno)
{
    const char *refusal = ci_chat_refusal_detail(rv);

    if (!refusal) {
        return ci_http_db_fail(req, rv, logno);
    }
    return ci_http_fail(req, rv == CI_CHAT_EGONE ? HTTP_NOT_FOUND
                                                 : HTTP_FORBIDDEN,
                        logno, refusal);
}

void ci_chat_h_announce(ci_req_t *req, const ci_message_t *msg)
{
    apr_status_t rv;

    if (!req->conf->relay_socket) {
        return;                 /* PostgreSQL's NOTIFY may still carry it */
    }
    rv = ci_chat_notify_dgram(req->conf->relay_socket, msg->room_id,
                              msg->id);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, req->r,
                      "CI10123: relay notification to %s not sent",
                      req->conf->relay_socket);
    }
}

int ci_chat_h_send(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    ci_value_t v[NFIELDS(send_fields)];
    const char *text;
    ci_chat_role_t role;
    ci_message_t *msg;
    ci_room_t *room;
    apr_status_t rv;
    ci_jbuf_t out;

    if (!open_room(req, &room, &role, 0)
        || !ci_http_read_fields(req, send_fields, NFIELDS(send_fields), v,
                                10118)) {
        return OK;
    }
    text = v[0].present ? v[0].str : v[1].present ? v[1].str : NULL;
    if (!text || ci_chat_text_problem(text)) {
        return ci_http_field_error(req, 10119, "message", text
                                   ? ci_chat_text_problem(text)
                                   : "This field is required.");
    }
    if (role == CI_CHAT_VISITOR && !room->is_active) {
        return ci_http_fail(req, HTTP_FORBIDDEN, 10121,
                            "This chat is closed.");
    }
    rv = ci_chat_post(req->db, p, room,
                      role == CI_CHAT_OWNER ? "owner" : "visitor",
                      role == CI_CHAT_OWNER ? req->user->id : 0,
                      role == CI_CHAT_OWNER ? req->user->full_name
                                            : room->visitor_name,
                      text, &msg);
    if (rv != APR_SUCCESS) {
        return ci_chat_h_post_failed(req, rv, 10122);
    }
    ci_chat_h_announce(req, msg);
    ci_jbuf_init(&out, p, 256 + strlen(msg->content));
    ci_chat_message_jbuf(&out, p, msg, "content");
    return ci_http_send_json_text(req, HTTP_CREATED, out.buf, out.len);
}
