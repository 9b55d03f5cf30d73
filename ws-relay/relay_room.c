/* relay_room.c: the rooms of the chat protocol (see relay_room.h). */
#include <stdlib.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <jansson.h>
#include <libwebsockets.h>

#include "ci_chat.h"
#include "ci_json.h"
#include "ci_log.h"
#include "relay.h"
#include "relay_db.h"
#include "relay_log.h"
#include "relay_room.h"

#define HISTORY_BATCH 500           /* messages per history read */
#define CLOSE_GRACE 5               /* s to send a close frame, then kill */
#define BEHIND_RETRY_US LWS_US_PER_SEC  /* a room missed some: read again */

/* --- frames and queues ------------------------------------------------ */

static ci_relay_frame_t *frame_new(apr_int64_t id, const char *json,
                                   size_t len)
{
    ci_relay_frame_t *f = malloc(sizeof(*f) + LWS_PRE + len);

    if (f) {
        f->refs = 1;
        f->id = id;
        f->len = len;
        memcpy(f->buf + LWS_PRE, json, len);
    }
    return f;
}

void ci_relay_frame_unref(ci_relay_frame_t *f)
{
    if (f && --f->refs == 0) {
        free(f);
    }
}

/* The broadcast frame of a message; NULL when out of memory. */
ci_relay_frame_t *ci_relay_frame_message(apr_pool_t *p, const ci_message_t *m)
{
    ci_jbuf_t b;

    ci_jbuf_init(&b, p, 256 + strlen(m->content));
    ci_chat_message_jbuf(&b, p, m, "message");
    return frame_new(m->id, b.buf, b.len);
}

/* Appends `f` (taking a reference); -1 when the queue is full
 * (CI_RELAY_MAX_LAG) or out of memory. */
static int queue_push(ci_relay_session_t *pss, ci_relay_frame_t *f)
{
    if (pss->qlen >= CI_RELAY_MAX_LAG) {
        return -1;
    }
    if (pss->qlen == pss->qcap) {
        unsigned int cap = pss->qcap ? pss->qcap * 2 : 8, i;
        ci_relay_frame_t **q;

        cap = cap > CI_RELAY_MAX_LAG ? CI_RELAY_MAX_LAG : cap;
        q = malloc(cap * sizeof(*q));
        if (!q) {
            return -1;
        }
        for (i = 0; i < pss->qlen; i++) {
            q[i] = pss->q[(pss->qhead + i) % pss->qcap];
        }
        free(pss->q);
        pss->q = q;
        pss->qcap = cap;
        pss->qhead = 0;
    }
    pss->q[(pss->qhead + pss->qlen) % pss->qcap] = f;
    pss->qlen++;
    f->refs++;
    return 0;
}

/* The oldest queued frame (still queued); NULL when empty. */
ci_relay_frame_t *ci_relay_queue_peek(ci_relay_session_t *pss)
{
    return pss->qlen ? pss->q[pss->qhead] : NULL;
}

/* The oldest queued frame, now owned by the caller; NULL when empty. */
ci_relay_frame_t *ci_relay_queue_pop(ci_relay_session_t *pss)
{
    ci_relay_frame_t *f;

    if (!pss->qlen) {
        return NULL;
    }
    f = pss->q[pss->qhead];
    pss->qhead = (pss->qhead + 1) % pss->qcap;
    pss->qlen--;
    return f;
}

void ci_relay_queue_clear(ci_relay_session_t *pss)
{
    ci_relay_frame_t *f;

    while ((f = ci_relay_queue_pop(pss))) {
        ci_relay_frame_unref(f);
    }
    free(pss->q);
    pss->q = NULL;
    pss->qcap = pss->qhead = 0;
}

void ci_relay_hist_clear(ci_relay_session_t *pss)
{
    int i;

    for (i = pss->hist_pos; i < pss->hist_n; i++) {
        ci_relay_frame_unref(pss->hist[i]);
    }
    free(pss->hist);
    pss->hist = NULL;
    pss->hist_n = pss->hist_pos = 0;
}

void ci_relay_session_close(ci_relay_session_t *pss, int code,
                            const char *reason)
{
    if (pss->close_code) {
        return;
    }
    pss->close_code = code;
    pss->close_reason = reason;
    ci_relay_queue_clear(pss);
    ci_relay_hist_clear(pss);
    lws_set_timeout(pss->wsi, PENDING_TIMEOUT_LAGGING, CLOSE_GRACE);
    lws_callback_on_writable(pss->wsi);
}

/* Queues `f` for one session and asks for WRITEABLE. */
static void session_send(ci_relay_session_t *pss, ci_relay_frame_t *f)
{
    if (pss->close_code || pss->closing
        || (f->id && !pss->replaying && f->id <= pss->last_sent)) {
        return;
    }
    if (queue_push(pss, f)) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_INFO, APR_SUCCESS, NULL,
                      CILOGNO(10533) "closing a socket of room %"
                      APR_INT64_T_FMT ": %u frames wait for it (1008)",
                      pss->room->id, pss->qlen);
        ci_relay_session_close(pss, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                               "Too many frames waiting.");
        return;
    }
    lws_callback_on_writable(pss->wsi);
}

/* An error frame for one session. Never fails (out of memory: dropped). */
void ci_relay_send_error(ci_relay_session_t *pss, apr_pool_t *p,
                         const char *code, const char *detail)
{
    json_t *j;
    apr_size_t len;
    const char *s;
    ci_relay_frame_t *f;

    j = json_pack("{s:s, s:s, s:s}", "type", "error", "code", code,
                  "detail", detail);
    if (!j) {                       /* detail was not UTF-8 after all */
        j = json_pack("{s:s, s:s, s:s}", "type", "error", "code", code,
                      "detail", "Invalid frame.");
    }
    if (!ci_json_own(p, j)) {
        return;
    }
    s = ci_json_dump(p, j, &len);
    f = frame_new(0, s, len);
    if (f) {
        session_send(pss, f);
        ci_relay_frame_unref(f);
    }
}

/* --- rooms ------------------------------------------------------------ */

static ci_relay_room_t *room_get(struct ci_relay_chat_t *chat, apr_int64_t id)
{
    return apr_hash_get(chat->rooms, &id, sizeof(id));
}

/* The room of `grant`, created when it has no session yet; NULL when out
 * of memory. */
ci_relay_room_t *ci_relay_room_join(struct ci_relay_chat_t *chat,
                                    const ci_relay_grant_t *grant)
{
    ci_relay_room_t *room = room_get(chat, grant->room_id);

    if (!room) {
        room = calloc(1, sizeof(*room));
        if (!room) {
            return NULL;
        }
        room->id = grant->room_id;
        apr_cpystrn(room->uuid, grant->room_uuid, sizeof(room->uuid));
        room->last_id = grant->room_last;   /* read at the upgrade */
        apr_hash_set(chat->rooms, &room->id, sizeof(room->id), room);
    }
    return room;
}

/* Takes the session out of its room; frees the room when it was the
 * last one. */
void ci_relay_room_leave(struct ci_relay_chat_t *chat, ci_relay_session_t *pss)
{
    ci_relay_room_t *room = pss->room;

    pss->room = NULL;
    if (!room) {
        return;
    }
    lws_dll2_remove(&pss->list);
    if (!room->sessions.count) {
        apr_hash_set(chat->rooms, &room->id, sizeof(room->id), NULL);
        free(room);
    }
}

/* Queues `f` on every session of the room. */
static void room_broadcast(ci_relay_room_t *room, ci_relay_frame_t *f)
{
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
                               lws_dll2_get_head(&room->sessions)) {
        session_send(lws_container_of(d, ci_relay_session_t, list), f);
    } lws_end_foreach_dll_safe(d, d1);
}

/* Broadcasts message `m` of the room unless it was already (`force`:
 * broadcast it whatever the room saw before). */
void ci_relay_room_deliver(ci_relay_room_t *room, apr_pool_t *p,
                           const ci_message_t *m, int force)
{
    ci_relay_frame_t *f;

    if (!force && m->id <= room->last_id) {
        return;
    }
    f = ci_relay_frame_message(p, m);
    if (!f) {
        return;
    }
    room_broadcast(room, f);
    ci_relay_frame_unref(f);
    if (m->id > room->last_id) {
        room->last_id = m->id;
    }
}

/* Reads the room's messages after the last one it broadcast, in batches,
 * and broadcasts them. Returns APR_SUCCESS or the database error
 * (logged). */
apr_status_t ci_relay_room_read_after(ci_relay_t *relay, ci_relay_room_t *room)
{
    ci_db_t *db = ci_relay_db_get(relay);
    apr_array_header_t *msgs;
    apr_status_t rv;
    apr_pool_t *p;
    int i, n;

    if (!db) {
        return CI_DB_EUNAVAIL;
    }
    do {
        apr_pool_create(&p, relay->pool);
        rv = ci_chat_history(db, p, room->id, room->uuid, room->last_id,
                             HISTORY_BATCH, &msgs);
        if (rv != APR_SUCCESS) {
            apr_pool_destroy(p);
            ci_relay_db_failed(relay, "messages after", rv);
            return rv;
        }
        for (i = 0; i < msgs->nelts; i++) {
            ci_relay_room_deliver(room, p,
                                  APR_ARRAY_IDX(msgs, i, ci_message_t *), 0);
        }
        n = msgs->nelts;
        apr_pool_destroy(p);
    } while (n == HISTORY_BATCH);
    ci_relay_db_ok(relay);
    return APR_SUCCESS;
}

static void catch_up_behind(lws_sorted_usec_list_t *sul);

/* Notes that the room could not read what it was told about (the
 * database failed): it reads after last_id again in BEHIND_RETRY_US, and
 * every second after that until it works. */
static void room_behind(struct ci_relay_chat_t *chat, ci_relay_room_t *room)
{
    room->behind = 1;
    if (!chat->behind_armed) {
        chat->behind_armed = 1;
        lws_sul_schedule(chat->context, 0, &chat->behind, catch_up_behind,
                         BEHIND_RETRY_US);
    }
}

/* Reads, for every room that is behind, what it has not broadcast. */
static void catch_up_behind(lws_sorted_usec_list_t *sul)
{
    struct ci_relay_chat_t *chat = lws_container_of(sul,
                                                    struct ci_relay_chat_t,
                                                    behind);
    apr_hash_index_t *hi;
    unsigned int n = 0;

    chat->behind_armed = 0;
    for (hi = apr_hash_first(NULL, chat->rooms); hi; hi = apr_hash_next(hi)) {
        ci_relay_room_t *room = apr_hash_this_val(hi);

        if (!room->behind) {
            continue;
        }
        if (ci_relay_room_read_after(chat->relay, room) != APR_SUCCESS) {
            room_behind(chat, room);
            break;                  /* the others stay behind too */
        }
        room->behind = 0;
        n++;
    }
    if (n) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10534) "caught up with %u room(s)", n);
    }
}

void ci_relay_room_posted(ci_relay_t *relay, apr_pool_t *p,
                          const ci_message_t *m, apr_int64_t prev_id)
{
    struct ci_relay_chat_t *chat = relay->chat;
    ci_relay_room_t *room = chat ? room_get(chat, m->room_id) : NULL;

    if (!room) {
        return;                     /* its sockets have all gone */
    }
    if (prev_id <= room->last_id) {
        ci_relay_room_deliver(room, p, m, 0);
    }
    else if (!room->behind
             && ci_relay_room_read_after(relay, room) != APR_SUCCESS) {
        room_behind(chat, room);    /* in order, when the database is back */
    }
}

void ci_relay_room_notify(ci_relay_t *relay, apr_int64_t room_id,
                          apr_int64_t msg_id)
{
    struct ci_relay_chat_t *chat = relay->chat;
    ci_relay_room_t *room = chat ? room_get(chat, room_id) : NULL;

    if (!room || msg_id <= room->last_id) {
        return;
    }
    ci_log_perror(CI_LOG_MARK, CI_LOG_TRACE1, APR_SUCCESS, NULL,
                  "notified: message %" APR_INT64_T_FMT " in room %"
                  APR_INT64_T_FMT, msg_id, room_id);
    /* Everything after the last broadcast, in id order, so that a
     * notification still on its way, or lost, costs no message. */
    if (ci_relay_room_read_after(relay, room) != APR_SUCCESS) {
        room_behind(chat, room);
    }
}

void ci_relay_room_catch_up(ci_relay_t *relay)
{
    struct ci_relay_chat_t *chat = relay->chat;
    apr_hash_index_t *hi;

    if (!chat) {
        return;
    }
    for (hi = apr_hash_first(NULL, chat->rooms); hi; hi = apr_hash_next(hi)) {
        ci_relay_room_t *room = apr_hash_this_val(hi);

        room->behind = 1;
    }
    lws_sul_cancel(&chat->behind);
    catch_up_behind(&chat->behind);
}

