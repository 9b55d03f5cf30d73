/* face_qrconnect.c: see face_qrconnect.h.
 *
 * A guest conversation is the owner's visitor room named by the pseudo
 * (it shows in the owner's /api/chat/rooms/ inbox and on the room's
 * sockets too); a conversation of two registered users is their direct
 * room. Guests: the first message returns a guest_token; later messages
 * send it back (body "guest_token" or header X-Guest-Token). Old clients
 * that send only the pseudo keep working from the address that started
 * the conversation; anybody else using that pseudo with that owner is
 * refused, so a guessed pseudo opens nothing.
 */
#include <httpd.h>
#include <apr_strings.h>
#include <http_log.h>
#include <http_protocol.h>

#include "face_qrconnect.h"
#include "face_chat.h"
#include "mod_carinfo_auth.h"
#include "ci_chat.h"
#include "ci_json.h"
#include "ci_util.h"
#include "ci_validate.h"

APLOG_USE_MODULE(carinfo);

#define NFIELDS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define PSEUDO_MAX 50
#define LOG_MAX 500
#define MSG_SENT "Message envoyé avec succès."

static const ci_field_t scan_fields[] = {
    { "token", CI_FIELD_UUID, CI_FIELD_REQUIRED, 0 },
};

static const ci_field_t send_fields[] = {
    { "receiver", CI_FIELD_RAW, CI_FIELD_OPTIONAL, 64 },
    { "content", CI_FIELD_RAW, CI_FIELD_REQUIRED, 0 },
    { "sender_name", CI_FIELD_STRING, CI_FIELD_OPTIONAL, PSEUDO_MAX },
    { "pseudo", CI_FIELD_STRING, CI_FIELD_OPTIONAL, PSEUDO_MAX },
    { "guest_token", CI_FIELD_RAW, CI_FIELD_OPTIONAL, 128 },
};
enum { S_RECEIVER, S_CONTENT, S_SENDER_NAME, S_PSEUDO, S_GUEST_TOKEN };

static const ci_field_t pseudo_fields[] = {
    { "pseudo", CI_FIELD_STRING, CI_FIELD_REQUIRED, PSEUDO_MAX },
};

/* Optional login: a bad token is a 401, no token is fine. */
static int optional_user(ci_req_t *req)
{
    if (!apr_table_get(req->r->headers_in, "Authorization")) {
        return 1;
    }
    return ci_auth_require_user(req);
}

/* ci_http_read_fields, but a numeric "receiver" (000 sends 4) is taken
 * as its decimal string, like "4" or a uuid. */
static int read_body(ci_req_t *req, const ci_field_t *f, int n,
                     ci_value_t *v, int logno)
{
    json_t *body;

    if (!ci_http_json_body(req, &body)) {
        return 0;
    }
    if (json_is_object(body)
        && json_is_integer(json_object_get(body, "receiver"))) {
        json_object_set_new(body, "receiver", json_string(apr_psprintf(
            req->r->pool, "%" APR_INT64_T_FMT,
            (apr_int64_t)json_integer_value(json_object_get(body,
                                                            "receiver")))));
    }
    return ci_http_check_fields(req, body, f, n, v, logno);
}

static int need_db(ci_req_t *req, int logno)
{
    if (!req->db && !ci_req_db(req)) {
        ci_http_db_fail(req, CI_DB_EUNAVAIL, logno);
        return 0;
    }
    return 1;
}

/* A registered user by integer id or uuid; *u NULL when there is none. */
static apr_status_t find_user_ref(ci_req_t *req, const char *ref,
                                  ci_user_t **u)
{
    apr_int64_t id;
    apr_status_t rv;

    *u = NULL;
    if (!ref) {
        return APR_SUCCESS;
    }
    if (!ci_parse_int64(ref, &id) && id > 0) {
        rv = ci_user_find(req->db, req->r->pool, CI_USER_BY_ID, ref, u);
    }
    else if (ci_uuid_normalize(req->r->pool, ref)) {
        rv = ci_user_find(req->db, req->r->pool, CI_USER_BY_UUID,
                          ci_uuid_normalize(req->r->pool, ref), u);
    }
    else {
        return APR_SUCCESS;
    }
    if (rv == APR_SUCCESS && *u && !(*u)->is_registered) {
        *u = NULL;
    }
    return rv;
}

static json_t *owner_json(ci_req_t *req, const ci_user_t *u)
{
    apr_pool_t *p = req->r->pool;
    /* A hidden profile still gets messages, but shows no name. */
    const char *name = u->is_profile_public ? u->full_name : "";

    return ci_json_own(p, json_pack("{s:I, s:s, s:s, s:s}",
                       "owner_id", (json_int_t)u->id, "owner_uuid", u->uuid,
                       "nom", name, "chat_url",
                       apr_psprintf(p, "/chat/%" APR_INT64_T_FMT, u->id)));
}

int ci_qr_scan(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    ci_value_t v[NFIELDS(scan_fields)];
    ci_user_t *owner = NULL;
    apr_status_t rv;
    json_t *j;
    int won = 0;

    if (!optional_user(req) || !ci_http_read_fields(req, scan_fields,
                                          NFIELDS(scan_fields), v, 10140)
        || !need_db(req, 10141)) {
        return OK;
    }
    rv = ci_qr_state(req->db, p, v[0].str, &owner);
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10142);
    }
    if (!owner) {
        return ci_http_fail(req, HTTP_NOT_FOUND, 10143, "QR code inconnu.");
    }
    if (!owner->is_registered && req->user) {
        rv = ci_qr_claim(req->db, p, v[0].str, req->user->id, &won);
        if (rv == APR_SUCCESS) {
            rv = ci_qr_state(req->db, p, v[0].str, &owner);
        }
        if (rv != APR_SUCCESS || !owner) {
            return ci_http_db_fail(req, rv, 10144);
        }
        if (won) {
            j = owner_json(req, owner);
            json_object_set_new(j, "status", json_string("linked"));
            json_object_set_new(j, "detail", json_string("QR code associé."));
            return ci_http_send_json(req, HTTP_OK, j);
        }
    }
    if (!owner->is_registered) {
        j = ci_json_own(p, json_pack("{s:s, s:s, s:s}", "status", "inactive",
                                     "detail", "QR non activé.", "token",
                                     v[0].str));
        return ci_http_send_json(req, HTTP_OK, j);
    }
    j = owner_json(req, owner);
    json_object_set_new(j, "status", json_string("active"));
    return ci_http_send_json(req, HTTP_OK, j);
}

/* Counts a guest message; 0 when throttled (429 sent). */
static int guest_allowed(ci_req_t *req, const ci_user_t *owner)
{
    ci_http_limit_t l[2];

    l[0].bucket = apr_pstrcat(req->r->pool, "guest:addr:",
                              req->r->useragent_ip, NULL);
    l[0].limit = ci_config_guest_addr(req->conf);
    l[0].what = "guest messages per address";
    l[1].bucket = apr_pstrcat(req->r->pool, "guest:owner:", owner->uuid,
                              NULL);
    l[1].limit = ci_config_guest_owner(req->conf);
    l[1].what = "guest messages per owner";
    return ci_http_limits(req, l, 2, 10145, 10146);
}

/* Commits and announces a message; sends the 201. */
static int post_and_answer(ci_req_t *req, ci_room_t *room,
                           const char *sender_type, apr_int64_t sender_id,
                           const char *sender_name, const char *content,
                           const char *guest_token)
{
    apr_pool_t *p = req->r->pool;
    ci_message_t *msg;
    apr_status_t rv;
    ci_jbuf_t out;

    rv = ci_chat_post(req->db, p, room, sender_type, sender_id, sender_name,
                      content, &msg);
    if (rv != APR_SUCCESS) {
        return ci_chat_h_post_failed(req, rv, 10147);
    }
    ci_chat_h_announce(req, msg);
    ci_jbuf_init(&out, p, 512 + strlen(msg->content));
    ci_jbuf_open(&out, '{');
    ci_jbuf_set_str(&out, "detail", MSG_SENT);
    ci_jbuf_key(&out, "message");
    ci_chat_message_jbuf(&out, p, msg, "content");
    if (guest_token) {
        ci_jbuf_set_str(&out, "guest_token", guest_token);
    }
    ci_jbuf_close(&out, '}');
    return ci_http_send_json_text(req, HTTP_CREATED, out.buf, out.len);
}

static int send_as_guest(ci_req_t *req, const ci_user_t *owner,
                         const char *pseudo, const char *token,
                         const char *content)
{
    apr_pool_t *p = req->r->pool;
    const char *addr_hash = NULL, *new_token = NULL;
    ci_room_t *room = NULL;
    apr_status_t rv;
    int allowed;

    if (!guest_allowed(req, owner)) {
        return OK;
    }
    rv = ci_chat_guest_room(req->db, p, owner->id, pseudo, &room, &addr_hash);
    if (rv == APR_SUCCESS && !room) {
        rv = ci_chat_guest_room_create(req->db, p, owner->id, pseudo,
                                       req->r->useragent_ip, &new_token);
        if (rv == CI_DB_ECONSTRAINT) {
            new_token = NULL;       /* a concurrent first message won */
            rv = APR_SUCCESS;
        }
        if (rv == APR_SUCCESS) {
            rv = ci_chat_guest_room(req->db, p, owner->id, pseudo, &room,
                                    &addr_hash);
        }
    }
    if (rv != APR_SUCCESS || !room) {
        return ci_http_db_fail(req, rv, 10149);
    }
    if (new_token) {
        allowed = 1;
    }
    else if (token) {
        allowed = ci_chat_role(p, room, token, NULL) == CI_CHAT_VISITOR;
    }
    else {
        const char *mine = ci_chat_token_hash(p, req->r->useragent_ip);
        allowed = addr_hash && mine && !strcmp(addr_hash, mine)
                  && !room->visitor_blocked;
    }
    if (room->visitor_blocked) {
        return ci_http_fail(req, HTTP_FORBIDDEN, 10150, "Ce propriétaire ne "
                            "reçoit plus vos messages.");
    }
    if (!allowed) {
        return ci_http_fail(req, HTTP_FORBIDDEN, 10151, "Ce pseudo est déjà "
                            "utilisé par un autre invité: choisissez-en un "
                            "autre, ou envoyez votre guest_token.");
    }
    if (!room->is_active) {
        return ci_http_fail(req, HTTP_FORBIDDEN, 10152,
                            "This chat is closed.");
    }
    return post_and_answer(req, room, "visitor", 0, pseudo, content,
                           new_token);
}

int ci_qr_send(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    ci_value_t v[NFIELDS(send_fields)];
    const char *token, *pseudo;
    ci_user_t *to = NULL;
    ci_room_t *room = NULL;
    const char *addr_hash;
    apr_status_t rv;

    if (!optional_user(req)
        || !read_body(req, send_fields, NFIELDS(send_fields), v, 10153)
        || !need_db(req, 10154)) {
        return OK;
    }
    if (ci_chat_text_problem(v[S_CONTENT].str)) {
        return ci_http_field_error(req, 10155, "content",
                                   ci_chat_text_problem(v[S_CONTENT].str));
    }
    /* An owner answering a guest: {"pseudo", "content"}. */
    if (req->user && v[S_PSEUDO].present) {
        rv = ci_chat_guest_room(req->db, p, req->user->id, v[S_PSEUDO].str,
                                &room, &addr_hash);
        if (rv != APR_SUCCESS) {
            return ci_http_db_fail(req, rv, 10157);
        }
        if (!room) {
            return ci_http_field_error(req, 10158, "pseudo",
                                       "Aucune conversation avec ce "
                                       "pseudo.");
        }
        return post_and_answer(req, room, "owner", req->user->id,
                               req->user->full_name, v[S_CONTENT].str, NULL);
    }
    if (!v[S_RECEIVER].present) {
        return ci_http_field_error(req, 10159, "receiver",
                                   "This field is required.");
    }
    rv = find_user_ref(req, v[S_RECEIVER].str, &to);
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10160);
    }
    if (!to) {
        return ci_http_field_error(req, 10161, "receiver", apr_psprintf(p,
                                   "Invalid pk \"%s\" - object does not "
                                   "exist.", v[S_RECEIVER].str));
    }
    if (!req->user) {
        pseudo = v[S_SENDER_NAME].present ? v[S_SENDER_NAME].str : NULL;
        if (!pseudo || !*pseudo) {
            return ci_http_field_error(req, 10162, "sender_name", pseudo
                                       ? "This field may not be blank."
                                       : "This field is required.");
        }
        token = v[S_GUEST_TOKEN].present ? v[S_GUEST_TOKEN].str
              : apr_table_get(req->r->headers_in, "X-Guest-Token");
        return send_as_guest(req, to, pseudo, token, v[S_CONTENT].str);
    }
    if (to->id == req->user->id) {
        return ci_http_field_error(req, 10163, "receiver",
                                   "Vous ne pouvez pas vous "
                                   "écrire à vous-même.");
    }
    rv = ci_chat_direct_room(req->db, p, req->user->id, to->id, 1, &room);
    if (rv != APR_SUCCESS || !room) {
        return ci_http_db_fail(req, rv, 10164);
    }
    return post_and_answer(req, room, "user", req->user->id,
                           req->user->full_name, v[S_CONTENT].str, NULL);
}

/* One message of the 000 face. */
static json_t *qmsg_json(apr_pool_t *p, const ci_qmsg_t *m, json_t *receiver)
{
    json_t *j = ci_json_own(p, json_object());

    json_object_set_new(j, "id", json_integer(m->id));
    json_object_set_new(j, "sender_type", json_string(m->sender_type));
    json_object_set_new(j, "sender", m->sender_id ? json_integer(m->sender_id)
                                                  : json_null());
    json_object_set_new(j, "sender_name", json_string(m->sender_name));
    json_object_set(j, "receiver", receiver);
    json_object_set_new(j, "content", json_string(m->content));
    json_object_set_new(j, "created_at",
                        json_string(ci_time_iso(p, m->created_at)));
    return j;
}

static int send_log(ci_req_t *req, const ci_room_t *room,
                    json_t *(*receiver)(ci_req_t *, const ci_qmsg_t *,
                                        const void *), const void *baton)
{
    apr_pool_t *p = req->r->pool;
    apr_array_header_t *msgs;
    apr_status_t rv;
    json_t *list = ci_json_own(p, json_array());
    int i;

    if (room) {
        rv = ci_chat_room_log(req->db, p, room->id, LOG_MAX, &msgs);
        if (rv != APR_SUCCESS) {
            return ci_http_db_fail(req, rv, 10165);
        }
        for (i = 0; i < msgs->nelts; i++) {
            const ci_qmsg_t *m = APR_ARRAY_IDX(msgs, i, ci_qmsg_t *);
            json_array_append(list, qmsg_json(p, m, receiver(req, m, baton)));
        }
    }
    return ci_http_send_json(req, HTTP_OK, list);
}

/* Guest messages go to the owner; the owner's answers to the pseudo. */
static json_t *guest_receiver(ci_req_t *req, const ci_qmsg_t *m,
                              const void *pseudo)
{
    return ci_json_own(req->r->pool, strcmp(m->sender_type, "visitor")
                       ? json_string(pseudo)
                       : json_integer(req->user->id));
}

int ci_qr_guest_discussion(ci_req_t *req)
{
    const char *pseudo = ci_http_query(req, "pseudo"), *addr_hash;
    ci_room_t *room = NULL;
    apr_status_t rv;

    if (!pseudo || !*pseudo) {
        return ci_http_field_error(req, 10166, "pseudo",
                                   "This field is required.");
    }
    rv = ci_chat_guest_room(req->db, req->r->pool, req->user->id, pseudo,
                            &room, &addr_hash);
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10167);
    }
    return send_log(req, room, guest_receiver, pseudo);
}

int ci_qr_guest_pseudos(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    apr_array_header_t *pseudos;
    apr_status_t rv;
    json_t *list;
    int i;

    rv = ci_chat_guest_pseudos(req->db, p, req->user->id,
                               ci_config_list_max(req->conf), &pseudos);
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10168);
    }
    list = json_array();
    for (i = 0; i < pseudos->nelts; i++) {
        json_array_append_new(list, json_string(APR_ARRAY_IDX(pseudos, i,
                                                              const char *)));
    }
    return ci_http_send_json(req, HTTP_OK, ci_json_own(p, json_pack(
                             "{s:o}", "pseudos", list)));
}

int ci_qr_block_pseudo(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    ci_value_t v[NFIELDS(pseudo_fields)];
    const char *addr_hash;
    ci_room_t *room = NULL;
    apr_status_t rv;

    if (!ci_http_read_fields(req, pseudo_fields, NFIELDS(pseudo_fields), v,
                             10169)) {
        return OK;
    }
    rv = ci_chat_guest_room(req->db, p, req->user->id, v[0].str, &room,
                            &addr_hash);
    if (rv == APR_SUCCESS && room) {
        rv = ci_db_exec(req->db, p, CI_STMT_ROOM_SET_STATE,
                        CI_ARGS(NULL, "1", ci_db_i64(p, ci_now_usec()),
                                ci_db_i64(p, room->id)), NULL);
    }
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10170);
    }
    if (!room) {
        return ci_http_field_error(req, 10171, "pseudo",
                                   "Aucune conversation avec ce pseudo.");
    }
    return ci_http_send_json(req, HTTP_OK, ci_json_own(p, json_pack(
                             "{s:s, s:b}", "pseudo", v[0].str, "blocked", 1)));
}

/* Each message goes to the other member of the direct room. */
static json_t *direct_receiver(ci_req_t *req, const ci_qmsg_t *m,
                               const void *other)
{
    const ci_user_t *o = other;

    return ci_json_own(req->r->pool, json_integer(
                       m->sender_id == req->user->id ? o->id
                                                     : req->user->id));
}

int ci_qr_discussion(ci_req_t *req)
{
    ci_user_t *other = NULL;
    ci_room_t *room = NULL;
    apr_status_t rv;

    rv = find_user_ref(req, ci_route_param(&req->match, "user_id"), &other);
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10172);
    }
    if (!other) {
        return ci_http_fail(req, HTTP_NOT_FOUND, 10173, "Not found.");
    }
    rv = ci_chat_direct_room(req->db, req->r->pool, req->user->id, other->id,
                             0, &room);
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10174);
    }
    return send_log(req, room, direct_receiver, other);
}

int ci_qr_conversations(ci_req_t *req)
{
    apr_pool_t *p = req->r->pool;
    apr_array_header_t *partners;
    apr_status_t rv;
    json_t *list;
    int i;

    rv = ci_chat_partners(req->db, p, req->user->id,
                          ci_config_list_max(req->conf), &partners);
    if (rv != APR_SUCCESS) {
        return ci_http_db_fail(req, rv, 10175);
    }
    list = ci_json_own(p, json_array());
    for (i = 0; i < partners->nelts; i++) {
        const ci_partner_t *c = APR_ARRAY_IDX(partners, i, ci_partner_t *);
        json_t *j = json_pack("{s:{s:I, s:s, s:s}, s:s, s:s}",
                              "user", "id", (json_int_t)c->user_id, "uuid",
                              c->user_uuid, "full_name", c->full_name,
                              "room_id", c->room_uuid, "updated_at",
                              ci_time_iso(p, c->updated_at));
        json_object_set_new(j, "last_message", c->last_content
                            ? json_pack("{s:s, s:I, s:s}", "content",
                                        c->last_content, "sender",
                                        (json_int_t)c->last_sender_id,
                                        "created_at",
                                        ci_time_iso(p, c->last_at))
                            : json_null());
        json_array_append_new(list, j);
    }
    return ci_http_send_json(req, HTTP_OK, list);
}
