/* ci_chat.c: see ci_chat.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#include "ci_chat.h"
#include "ci_json.h"
#include "ci_util.h"

#define TOKEN_BYTES 32

const char *ci_chat_text_problem(const char *text)
{
    if (ci_is_blank(text)) {
        return "This field may not be blank.";
    }
    if (ci_utf8_len(text) > CI_CHAT_MAX_MESSAGE) {
        return "Ensure this field has no more than 4000 characters.";
    }
    return NULL;
}

const char *ci_chat_token_hash(apr_pool_t *p, const char *token)
{
    static const char hexd[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;
    char *out;

    if (!EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL)) {
        return NULL;
    }
    out = apr_palloc(p, 2 * n + 1);
    for (i = 0; i < n; i++) {
        out[2 * i] = hexd[md[i] >> 4];
        out[2 * i + 1] = hexd[md[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}

const char *ci_chat_new_token(apr_pool_t *p, const char **hash)
{
    const char *token = ci_random_hex(p, TOKEN_BYTES);

    *hash = token ? ci_chat_token_hash(p, token) : NULL;
    return *hash ? token : NULL;
}

apr_status_t ci_chat_start(ci_db_t *db, apr_pool_t *p, apr_int64_t owner_id,
                           const char *visitor_name, const char **room_uuid,
                           const char **token)
{
    const char *hash = NULL, *now = ci_db_i64(p, ci_now_usec());

    *room_uuid = ci_uuid4(p);
    *token = ci_chat_new_token(p, &hash);
    if (!*room_uuid || !*token) {
        return APR_EGENERAL;
    }
    return ci_db_exec(db, p, CI_STMT_ROOM_CREATE_VISITOR,
                      CI_ARGS(*room_uuid, ci_db_i64(p, owner_id),
                              visitor_name ? visitor_name : "", hash, now,
                              now), NULL);
}

/* The room in CI_SQL_ROOM_COLS from column `c` of row `r` on. */
static ci_room_t *room_from_row_at(apr_pool_t *p, const ci_db_rows_t *rows,
                                   int r, int c)
{
    ci_room_t *room = apr_pcalloc(p, sizeof(*room));

    room->id = ci_db_cell_i64(rows, r, c++, 0);
    room->uuid = ci_db_cell(rows, r, c++);
    room->kind = ci_db_cell(rows, r, c++);
    room->owner_id = ci_db_cell_i64(rows, r, c++, 0);
    room->owner_uuid = ci_db_cell(rows, r, c++);
    room->visitor_name = ci_db_cell(rows, r, c++);
    room->visitor_token_hash = ci_db_cell(rows, r, c++);
    room->visitor_blocked = ci_db_cell_i64(rows, r, c++, 0) != 0;
    room->is_active = ci_db_cell_i64(rows, r, c++, 0) != 0;
    room->created_at = ci_db_cell_i64(rows, r, c++, 0);
    room->updated_at = ci_db_cell_i64(rows, r, c++, 0);
    room->owner_last_read_id = ci_db_cell_i64(rows, r, c++, 0);
    return room;
}

static ci_room_t *room_from_row(apr_pool_t *p, const ci_db_rows_t *rows,
                                int r)
{
    return room_from_row_at(p, rows, r, 0);
}

apr_status_t ci_chat_room(ci_db_t *db, apr_pool_t *p, const char *uuid,
                          ci_room_t **room)
{
    ci_db_rows_t *rows;
    apr_status_t rv;

    *room = NULL;
    rv = ci_db_select(db, p, CI_STMT_ROOM_BY_UUID, CI_ARGS(uuid), &rows);
    if (rv == APR_SUCCESS && rows->nrows > 0) {
        *room = room_from_row(p, rows, 0);
    }
    return rv;
}

ci_chat_role_t ci_chat_role(apr_pool_t *p, const ci_room_t *room,
                            const char *visitor_token,
                            const char *user_uuid)
{
    if (user_uuid && room->owner_uuid
        && !strcmp(user_uuid, room->owner_uuid)) {
        return CI_CHAT_OWNER;
    }
    if (visitor_token && *visitor_token && room->visitor_token_hash
        && !room->visitor_blocked) {
        const char *h = ci_chat_token_hash(p, visitor_token);
        apr_size_t n = strlen(room->visitor_token_hash);
        if (h && strlen(h) == n && ci_ct_equal(h, room->visitor_token_hash,
                                               n)) {
            return CI_CHAT_VISITOR;
        }
    }
    return CI_CHAT_NOBODY;
}

/* The message in CI_SQL_MSG_COLS from column `c` of row `r` on. */
static ci_message_t *msg_from_row_at(apr_pool_t *p, const ci_db_rows_t *rows,
                                     int r, int c)
{
    ci_message_t *m = apr_pcalloc(p, sizeof(*m));

    m->id = ci_db_cell_i64(rows, r, c++, 0);
    m->uuid = ci_db_cell(rows, r, c++);
    m->room_uuid = ci_db_cell(rows, r, c++);
    m->sender_type = ci_db_cell(rows, r, c++);
    m->sender_name = ci_db_cell(rows, r, c++);
    m->content = ci_db_cell(rows, r, c++);
    m->created_at = ci_db_cell_i64(rows, r, c++, 0);
    m->room_id = ci_db_cell_i64(rows, r, c++, 0);
    return m;
}

static ci_message_t *msg_from_row(apr_pool_t *p, const ci_db_rows_t *rows,
                                  int r)
{
    return msg_from_row_at(p, rows, r, 0);
}

const char *ci_chat_refusal_detail(apr_status_t status)
{
    switch (status) {
    case CI_CHAT_EGONE:
        return "Not found.";
    case CI_CHAT_ECLOSED:
        return "This chat is closed.";
    case CI_CHAT_EBLOCKED:
        return "You do not have permission to perform this action.";
    default:
        return NULL;
    }
}

/* A room of a batch, as its locked row says. */
typedef struct {
    apr_int64_t last_id;            /* its last message so far */
    int found, active, blocked;
    int posted;                     /* a message of the batch went in */
    int visitor_posts;              /* how many from the visitor */
} batch_room_t;

typedef struct {
    ci_chat_post_t *posts;
    int n;
} batch_t;

/* Locks the batch's rooms and reads their state into a hash of
 * batch_room_t keyed by room id; *order lists the ids once each. */
static apr_status_t batch_lock(ci_db_t *db, apr_pool_t *p, const batch_t *b,
                               apr_hash_t **rooms, apr_array_header_t **order)
{
    ci_db_rows_t *rows;
    apr_status_t rv;
    ci_jbuf_t ids;
    int i;

    *rooms = apr_hash_make(p);
    *order = apr_array_make(p, b->n, sizeof(apr_int64_t));
    ci_jbuf_init(&ids, p, 16 * (apr_size_t)b->n);
    ci_jbuf_open(&ids, '[');
    for (i = 0; i < b->n; i++) {
        const apr_int64_t *id = &b->posts[i].room_id;

        if (!apr_hash_get(*rooms, id, sizeof(*id))) {
            apr_hash_set(*rooms, id, sizeof(*id),
                         apr_pcalloc(p, sizeof(batch_room_t)));
            APR_ARRAY_PUSH(*order, apr_int64_t) = *id;
            ci_jbuf_int(&ids, *id);
        }
    }
    ci_jbuf_close(&ids, ']');
    rv = ci_db_select(db, p, CI_STMT_ROOMS_LOCK, CI_ARGS(ids.buf), &rows);
    for (i = 0; rv == APR_SUCCESS && i < rows->nrows; i++) {
        apr_int64_t id = ci_db_cell_i64(rows, i, 0, 0);
        batch_room_t *br = apr_hash_get(*rooms, &id, sizeof(id));

        if (br) {
            br->last_id = ci_db_cell_i64(rows, i, 1, 0);
            br->active = ci_db_cell_i64(rows, i, 2, 0) != 0;
            br->blocked = ci_db_cell_i64(rows, i, 3, 0) != 0;
            br->found = ci_db_cell_i64(rows, i, 4, 0) == 0;
        }
    }
    return rv;
}

/* Whether `br` takes a message from `sender_type`: APR_SUCCESS or the
 * refusal. */
static apr_status_t room_accepts(const batch_room_t *br,
                                 const char *sender_type)
{
    int visitor = !strcmp(sender_type, "visitor");

    if (!br->found) {
        return CI_CHAT_EGONE;
    }
    if (visitor && br->blocked) {
        return CI_CHAT_EBLOCKED;
    }
    return visitor && !br->active ? CI_CHAT_ECLOSED : APR_SUCCESS;
}

/* Inserts the accepted posts (`rows_j`, in posts order) and fills in
 * their ids and prev_id, advancing each room's last_id. */
static apr_status_t batch_insert(ci_db_t *db, apr_pool_t *p, const batch_t *b,
                                 apr_hash_t *rooms, const char *rows_j,
                                 const char *now_s)
{
    apr_hash_t *ids = apr_hash_make(p);
    ci_db_rows_t *rows;
    apr_status_t rv;
    int i;

    rv = ci_db_select(db, p, CI_STMT_MSGS_INSERT,
                      CI_ARGS(now_s, now_s, rows_j), &rows);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < rows->nrows; i++) {
        apr_hash_set(ids, ci_db_cell(rows, i, 1), APR_HASH_KEY_STRING,
                     ci_db_cell(rows, i, 0));
    }
    for (i = 0; i < b->n; i++) {
        ci_chat_post_t *po = &b->posts[i];
        batch_room_t *br;
        const char *id;

        if (!po->msg) {
            continue;
        }
        id = apr_hash_get(ids, po->msg->uuid, APR_HASH_KEY_STRING);
        if (!id || ci_parse_int64(id, &po->msg->id)) {
            return CI_DB_EQUERY;    /* cannot happen: RETURNING lost it */
        }
        br = apr_hash_get(rooms, &po->room_id, sizeof(po->room_id));
        po->prev_id = br->last_id;
        br->last_id = po->msg->id;
        br->posted = 1;
        br->visitor_posts += !strcmp(po->sender_type, "visitor");
    }
    return APR_SUCCESS;
}

static apr_status_t post_many_txn(ci_db_t *db, apr_pool_t *p, void *baton)
{
    const batch_t *b = baton;
    apr_int64_t now = ci_now_usec();
    const char *now_s = ci_db_i64(p, now);
    apr_array_header_t *order;
    ci_jbuf_t rows_j, touch;
    ci_db_rows_t *rows;
    unsigned char *rnd = apr_palloc(p, 8 * (apr_size_t)b->n);
    apr_hash_t *rooms;
    apr_status_t rv;
    int i, n = 0;

    /* the random bits of every message id, in one draw */
    if (apr_generate_random_bytes(rnd, 8 * (apr_size_t)b->n)
        != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    rv = batch_lock(db, p, b, &rooms, &order);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    ci_jbuf_init(&rows_j, p, 1024 * (apr_size_t)b->n);
    ci_jbuf_open(&rows_j, '[');
    for (i = 0; i < b->n; i++) {
        ci_chat_post_t *po = &b->posts[i];
        const char *name = po->sender_name ? po->sender_name : "";
        ci_message_t *m;

        po->msg = NULL;
        po->prev_id = 0;
        po->status = room_accepts(apr_hash_get(rooms, &po->room_id,
                                               sizeof(po->room_id)),
                                  po->sender_type);
        if (po->status != APR_SUCCESS) {
            continue;
        }
        m = apr_pcalloc(p, sizeof(*m));
        m->uuid = ci_uuid7_with(p, now, rnd + 8 * i);
        if (!m->uuid) {
            return APR_EGENERAL;
        }
        ci_jbuf_open(&rows_j, '[');
        ci_jbuf_str(&rows_j, m->uuid);
        ci_jbuf_int(&rows_j, po->room_id);
        ci_jbuf_str(&rows_j, po->sender_type);
        if (po->sender_id) {
            ci_jbuf_int(&rows_j, po->sender_id);
        }
        else {
            ci_jbuf_null(&rows_j);
        }
        ci_jbuf_str(&rows_j, name);
        ci_jbuf_str(&rows_j, po->content);
        ci_jbuf_close(&rows_j, ']');
        m->room_uuid = po->room_uuid;
        m->room_id = po->room_id;
        m->sender_type = po->sender_type;
        m->sender_name = name;
        m->content = po->content;
        m->created_at = now;
        po->msg = m;
        n++;
    }
    ci_jbuf_close(&rows_j, ']');
    if (!n) {
        return APR_SUCCESS;
    }
    rv = batch_insert(db, p, b, rooms, rows_j.buf, now_s);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    ci_jbuf_init(&touch, p, 64 * (apr_size_t)order->nelts);
    ci_jbuf_open(&touch, '[');
    for (i = 0; i < order->nelts; i++) {
        apr_int64_t id = APR_ARRAY_IDX(order, i, apr_int64_t);
        const batch_room_t *br = apr_hash_get(rooms, &id, sizeof(id));

        if (br->posted) {
            ci_jbuf_open(&touch, '[');
            ci_jbuf_int(&touch, id);
            ci_jbuf_int(&touch, br->last_id);
            ci_jbuf_int(&touch, br->visitor_posts);
            ci_jbuf_close(&touch, ']');
        }
    }
    ci_jbuf_close(&touch, ']');
    return ci_db_select(db, p, CI_STMT_ROOMS_TOUCH, CI_ARGS(touch.buf, now_s),
                        &rows);
}

apr_status_t ci_chat_post_many(ci_db_t *db, apr_pool_t *p,
                               ci_chat_post_t *posts, int n)
{
    batch_t b;

    b.posts = posts;
    b.n = n;
    return n > 0 ? ci_db_txn(db, p, post_many_txn, &b) : APR_SUCCESS;
}

apr_status_t ci_chat_post(ci_db_t *db, apr_pool_t *p, const ci_room_t *room,
                          const char *sender_type, apr_int64_t sender_id,
                          const char *sender_name, const char *content,
                          ci_message_t **msg)
{
    ci_chat_post_t po;
    apr_status_t rv;

    memset(&po, 0, sizeof(po));
    po.room_id = room->id;
    po.room_uuid = room->uuid;
    po.sender_type = sender_type;
    po.sender_id = sender_id;
    po.sender_name = sender_name;
    po.content = content;
    rv = ci_chat_post_many(db, p, &po, 1);
    *msg = rv == APR_SUCCESS ? po.msg : NULL;
    return rv == APR_SUCCESS ? po.status : rv;
}

apr_status_t ci_chat_message_id(ci_db_t *db, apr_pool_t *p,
                                apr_int64_t room_id, const char *uuid,
                                apr_int64_t *id)
{
    ci_db_rows_t *rows;
    apr_status_t rv;

    *id = 0;
    rv = ci_db_select(db, p, CI_STMT_MSG_ID_IN_ROOM,
                      CI_ARGS(uuid, ci_db_i64(p, room_id)), &rows);
    if (rv == APR_SUCCESS) {
        *id = ci_db_cell_i64(rows, 0, 0, 0);
    }
    return rv;
}

apr_status_t ci_chat_history(ci_db_t *db, apr_pool_t *p, apr_int64_t room_id,
                             const char *room_uuid, apr_int64_t after,
                             int limit,
                             apr_array_header_t **msgs)
{
    ci_db_rows_t *rows;
    apr_status_t rv;
    int i;

    rv = ci_db_select(db, p, CI_STMT_MSGS_AFTER,
                      CI_ARGS(ci_db_i64(p, room_id), ci_db_i64(p, after),
                              apr_itoa(p, limit)), &rows);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *msgs = apr_array_make(p, rows->nrows, sizeof(ci_message_t *));
    for (i = 0; i < rows->nrows; i++) {
        ci_message_t *m = msg_from_row(p, rows, i);

        m->room_uuid = room_uuid;
        APR_ARRAY_PUSH(*msgs, ci_message_t *) = m;
    }
    return APR_SUCCESS;
}

apr_status_t ci_chat_room_history(ci_db_t *db, apr_pool_t *p,
                                  const char *uuid, apr_int64_t after,
                                  int limit, ci_room_t **room,
                                  apr_array_header_t **msgs)
{
    enum { C_ROOM = 1, C_MSG = 13 };    /* after the kind column */
    ci_db_rows_t *rows;
    apr_status_t rv;
    int i;

    *room = NULL;
    if (ci_db_dialect(db) == CI_DIALECT_SQLITE) {
        /* In-process, two plain statements cost less than the compound
         * one and its sort: httpd CPU per 50-message list 107-124 us
         * against 190-200 us. */
        rv = ci_chat_room(db, p, uuid, room);
        if (rv == APR_SUCCESS && *room) {
            return ci_chat_history(db, p, (*room)->id, (*room)->uuid, after,
                                   limit, msgs);
        }
        *msgs = apr_array_make(p, 0, sizeof(ci_message_t *));
        return rv;
    }
    rv = ci_db_select(db, p, CI_STMT_ROOM_HISTORY,
                      CI_ARGS(uuid, uuid, ci_db_i64(p, after),
                              apr_itoa(p, limit)), &rows);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *msgs = apr_array_make(p, rows->nrows, sizeof(ci_message_t *));
    for (i = 0; i < rows->nrows; i++) {
        if (ci_db_cell_i64(rows, i, 0, 1) == 0) {
            *room = room_from_row_at(p, rows, i, C_ROOM);
        }
        else if (*room) {           /* the room's row sorts first */
            ci_message_t *m = msg_from_row_at(p, rows, i, C_MSG);

            m->room_uuid = (*room)->uuid;
            APR_ARRAY_PUSH(*msgs, ci_message_t *) = m;
        }
    }
    return APR_SUCCESS;
}

apr_status_t ci_chat_owner_rooms(ci_db_t *db, apr_pool_t *p,
                                 apr_int64_t owner_id, int limit,
                                 apr_int64_t offset,
                                 apr_array_header_t **rooms)
{
    enum { C_MSG = 12 };                /* after CI_SQL_ROOM_COLS */
    ci_db_rows_t *rows;
    apr_status_t rv;
    int i;

    rv = ci_db_select(db, p, CI_STMT_ROOMS_OF_OWNER,
                      CI_ARGS(ci_db_i64(p, owner_id), apr_itoa(p, limit),
                              ci_db_i64(p, offset)), &rows);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *rooms = apr_array_make(p, rows->nrows, sizeof(ci_inbox_room_t *));
    for (i = 0; i < rows->nrows; i++) {
        ci_inbox_room_t *ir = apr_pcalloc(p, sizeof(*ir));
        ir->room = *room_from_row(p, rows, i);
        if (ci_db_cell(rows, i, C_MSG)) {
            ci_message_t *m = apr_pcalloc(p, sizeof(*m));
            m->uuid = ci_db_cell(rows, i, C_MSG);
            m->sender_type = ci_db_cell(rows, i, C_MSG + 1);
            m->content = ci_db_cell(rows, i, C_MSG + 2);
            m->created_at = ci_db_cell_i64(rows, i, C_MSG + 3, 0);
            m->room_uuid = ir->room.uuid;
            m->room_id = ir->room.id;
            ir->last = m;
        }
        ir->unread = ci_db_cell_i64(rows, i, C_MSG + 4, 0);
        APR_ARRAY_PUSH(*rooms, ci_inbox_room_t *) = ir;
    }
    return APR_SUCCESS;
}

apr_status_t ci_chat_message(ci_db_t *db, apr_pool_t *p, apr_int64_t id,
                             ci_message_t **msg)
{
    ci_db_rows_t *rows;
    apr_status_t rv;

    *msg = NULL;
    rv = ci_db_select(db, p, CI_STMT_MSG_BY_ID, CI_ARGS(ci_db_i64(p, id)),
                      &rows);
    if (rv == APR_SUCCESS && rows->nrows > 0) {
        *msg = msg_from_row(p, rows, 0);
    }
    return rv;
}

apr_status_t ci_chat_guest_room(ci_db_t *db, apr_pool_t *p,
                                apr_int64_t owner_id, const char *pseudo,
                                ci_room_t **room, const char **addr_hash)
{
    ci_db_rows_t *rows;
    apr_status_t rv;

    *room = NULL;
    *addr_hash = NULL;
    rv = ci_db_select(db, p, CI_STMT_GUEST_ROOM,
                      CI_ARGS(ci_db_i64(p, owner_id), pseudo), &rows);
    if (rv == APR_SUCCESS && rows->nrows > 0) {
        *room = room_from_row(p, rows, 0);
        *addr_hash = ci_db_cell(rows, 0, 12);
    }
    return rv;
}

apr_status_t ci_chat_guest_room_create(ci_db_t *db, apr_pool_t *p,
                                       apr_int64_t owner_id,
                                       const char *pseudo, const char *addr,
                                       const char **token)
{
    const char *hash = NULL, *uuid = ci_uuid4(p);
    const char *now = ci_db_i64(p, ci_now_usec());

    *token = ci_chat_new_token(p, &hash);
    if (!*token || !uuid) {
        return APR_EGENERAL;
    }
    return ci_db_exec(db, p, CI_STMT_GUEST_ROOM_CREATE,
                      CI_ARGS(uuid, ci_db_i64(p, owner_id), pseudo, hash,
                              ci_chat_token_hash(p, addr), now, now), NULL);
}

apr_status_t ci_chat_guest_pseudos(ci_db_t *db, apr_pool_t *p,
                                   apr_int64_t owner_id, int limit,
                                   apr_array_header_t **pseudos)
{
    ci_db_rows_t *rows;
    apr_status_t rv;
    int i;

    rv = ci_db_select(db, p, CI_STMT_GUEST_PSEUDOS,
                      CI_ARGS(ci_db_i64(p, owner_id), apr_itoa(p, limit)),
                      &rows);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *pseudos = apr_array_make(p, rows->nrows, sizeof(const char *));
    for (i = 0; i < rows->nrows; i++) {
        APR_ARRAY_PUSH(*pseudos, const char *) = ci_db_cell(rows, i, 0);
    }
    return APR_SUCCESS;
}

typedef struct {
    apr_int64_t a, b;
    const char *name;
} direct_ctx_t;

static apr_status_t direct_create_txn(ci_db_t *db, apr_pool_t *p, void *baton)
{
    direct_ctx_t *c = baton;
    const char *now = ci_db_i64(p, ci_now_usec()), *uuid = ci_uuid4(p);
    ci_db_rows_t *rows;
    apr_status_t rv;
    apr_int64_t id;

    if (!uuid) {
        return APR_EGENERAL;
    }
    rv = ci_db_exec(db, p, CI_STMT_DIRECT_ROOM_CREATE,
                    CI_ARGS(uuid, ci_db_i64(p, c->a), c->name, now, now),
                    NULL);
    if (rv == APR_SUCCESS) {
        rv = ci_db_select(db, p, CI_STMT_DIRECT_ROOM, CI_ARGS(c->name),
                          &rows);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    id = ci_db_cell_i64(rows, 0, 0, 0);
    rv = ci_db_exec(db, p, CI_STMT_MEMBER_ADD,
                    CI_ARGS(ci_db_i64(p, id), ci_db_i64(p, c->a), now), NULL);
    if (rv == APR_SUCCESS) {
        rv = ci_db_exec(db, p, CI_STMT_MEMBER_ADD,
                        CI_ARGS(ci_db_i64(p, id), ci_db_i64(p, c->b), now),
                        NULL);
    }
    return rv;
}

apr_status_t ci_chat_direct_room(ci_db_t *db, apr_pool_t *p, apr_int64_t a,
                                 apr_int64_t b, int create, ci_room_t **room)
{
    direct_ctx_t c;
    ci_db_rows_t *rows;
    apr_status_t rv;

    c.a = a < b ? a : b;
    c.b = a < b ? b : a;
    c.name = apr_psprintf(p, "dm:%" APR_INT64_T_FMT ":%" APR_INT64_T_FMT,
                          c.a, c.b);
    *room = NULL;
    rv = ci_db_select(db, p, CI_STMT_DIRECT_ROOM, CI_ARGS(c.name), &rows);
    if (rv == APR_SUCCESS && rows->nrows == 0 && create) {
        rv = ci_db_txn(db, p, direct_create_txn, &c);
        if (rv == CI_DB_ECONSTRAINT) {
            rv = APR_SUCCESS;           /* created by a concurrent request */
        }
        if (rv == APR_SUCCESS) {
            rv = ci_db_select(db, p, CI_STMT_DIRECT_ROOM, CI_ARGS(c.name),
                              &rows);
        }
    }
    if (rv == APR_SUCCESS && rows->nrows > 0) {
        *room = room_from_row(p, rows, 0);
    }
    return rv;
}

apr_status_t ci_chat_room_log(ci_db_t *db, apr_pool_t *p,
                              apr_int64_t room_id, int limit,
                              apr_array_header_t **msgs)
{
    ci_db_rows_t *rows;
    apr_status_t rv;
    int i;

    rv = ci_db_select(db, p, CI_STMT_MSGS_WITH_SENDER,
                      CI_ARGS(ci_db_i64(p, room_id), apr_itoa(p, limit)),
                      &rows);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *msgs = apr_array_make(p, rows->nrows, sizeof(ci_qmsg_t *));
    for (i = 0; i < rows->nrows; i++) {
        ci_qmsg_t *m = apr_pcalloc(p, sizeof(*m));
        m->id = ci_db_cell_i64(rows, i, 0, 0);
        m->sender_type = ci_db_cell(rows, i, 2);
        m->sender_id = ci_db_cell_i64(rows, i, 3, 0);
        m->sender_name = ci_db_cell(rows, i, 4);
        m->content = ci_db_cell(rows, i, 5);
        m->created_at = ci_db_cell_i64(rows, i, 6, 0);
        APR_ARRAY_PUSH(*msgs, ci_qmsg_t *) = m;
    }
    return APR_SUCCESS;
}

apr_status_t ci_chat_partners(ci_db_t *db, apr_pool_t *p,
                              apr_int64_t user_id, int limit,
                              apr_array_header_t **partners)
{
    ci_db_rows_t *rows;
    apr_status_t rv;
    int i;

    rv = ci_db_select(db, p, CI_STMT_DIRECT_PARTNERS,
                      CI_ARGS(ci_db_i64(p, user_id), apr_itoa(p, limit)),
                      &rows);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *partners = apr_array_make(p, rows->nrows, sizeof(ci_partner_t *));
    for (i = 0; i < rows->nrows; i++) {
        ci_partner_t *c = apr_pcalloc(p, sizeof(*c));
        c->user_id = ci_db_cell_i64(rows, i, 0, 0);
        c->user_uuid = ci_db_cell(rows, i, 1);
        c->full_name = ci_db_cell(rows, i, 2);
        c->room_uuid = ci_db_cell(rows, i, 3);
        c->updated_at = ci_db_cell_i64(rows, i, 4, 0);
        c->last_content = ci_db_cell(rows, i, 5);
        c->last_sender_id = ci_db_cell_i64(rows, i, 6, 0);
        c->last_at = ci_db_cell_i64(rows, i, 7, 0);
        APR_ARRAY_PUSH(*partners, ci_partner_t *) = c;
    }
    return APR_SUCCESS;
}

apr_status_t ci_chat_last_id(ci_db_t *db, apr_pool_t *p, apr_int64_t room_id,
                             apr_int64_t *id)
{
    ci_db_rows_t *rows;
    apr_status_t rv;

    *id = 0;
    rv = ci_db_select(db, p, CI_STMT_MSG_LAST_ID,
                      CI_ARGS(ci_db_i64(p, room_id)), &rows);
    if (rv == APR_SUCCESS) {
        *id = ci_db_cell_i64(rows, 0, 0, 0);
    }
    return rv;
}

void ci_chat_message_jbuf(ci_jbuf_t *b, apr_pool_t *p, const ci_message_t *m,
                          const char *text_key)
{
    ci_jbuf_open(b, '{');
    ci_jbuf_set_str(b, "id", m->uuid);
    ci_jbuf_set_str(b, "room_id", m->room_uuid);
    ci_jbuf_set_str(b, "sender_type", m->sender_type);
    ci_jbuf_set_str(b, text_key, m->content);
    ci_jbuf_set_str(b, "created_at", ci_time_iso(p, m->created_at));
    ci_jbuf_close(b, '}');
}

apr_status_t ci_chat_notify_dgram(const char *path, apr_int64_t room_id,
                                  apr_int64_t msg_id)
{
    struct sockaddr_un sa;
    char buf[64];
    int fd, n;
    apr_status_t rv = APR_SUCCESS;

    if (!path || strlen(path) >= sizeof(sa.sun_path)) {
        return APR_EINVAL;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    n = apr_snprintf(buf, sizeof(buf), "%" APR_INT64_T_FMT ":%"
                     APR_INT64_T_FMT, room_id, msg_id);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return errno;
    }
    if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&sa,
               sizeof(sa)) != n) {
        rv = errno;
    }
    close(fd);
    return rv;
}

int ci_chat_notify_parse(const char *payload, apr_int64_t *room_id,
                         apr_int64_t *msg_id)
{
    const char *colon = strchr(payload, ':');
    char room[24];

    if (!colon || colon == payload
        || (size_t)(colon - payload) >= sizeof(room)) {
        return -1;
    }
    memcpy(room, payload, (size_t)(colon - payload));
    room[colon - payload] = '\0';
    if (ci_parse_int64(room, room_id) || ci_parse_int64(colon + 1, msg_id)
        || *room_id <= 0 || *msg_id <= 0) {
        return -1;
    }
    return 0;
}
