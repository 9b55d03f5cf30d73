/* relay_chat.c: the "carinfo-chat" protocol (see relay_chat.h).
 *
 * In the shape of the lws minimal examples (minimal-ws-server-ring): the
 * per-vhost data holds the rooms (relay_room.c), a room holds its
 * sessions, and every session writes one frame per
 * LWS_CALLBACK_SERVER_WRITEABLE. Instead of one lws_ring per room, each
 * session has its own bounded queue of shared frames, so a ?since= replay
 * simply runs ahead of the session's live queue. This file authenticates
 * upgrades (relay_auth.c) and keeps the grant until ESTABLISHED, receives
 * and checks client frames, posts messages, and writes.
 *
 * Writes: lws 4.1 must never be left holding part of a frame. When a
 * socket closes while lws still has unsent output (a slow reader that
 * goes away), lws 4.1.6 parks it in LRS_FLUSHING_BEFORE_CLOSE and its
 * service loop retries the same poll slot forever: the relay hangs at
 * 100% CPU (reproduced; fixed upstream in later lws). So each socket gets
 * a fixed send buffer (SNDBUF_SIZE), and a frame is written only when the
 * kernel queue (SIOCOUTQ) leaves room for all of it; otherwise the session
 * retries on a timer (RETRY_US) while its queue grows towards
 * CI_RELAY_MAX_LAG.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <jansson.h>
#include <libwebsockets.h>

#include "ci_chat.h"
#include "ci_json.h"
#include "ci_log.h"
#include "ci_util.h"
#include "relay.h"
#include "relay_auth.h"
#include "relay_chat.h"
#include "relay_db.h"
#include "relay_log.h"
#include "relay_room.h"
#include "relay_sqlite.h"

#define HISTORY_BATCH 500           /* messages per history read */
#define BATCH_MAX 500               /* messages in one commit, at most */
#define PENDING_TTL (30 * LWS_US_PER_SEC)   /* grant -> ESTABLISHED */
#define CLOSE_TRY_AGAIN_LATER 1013
#define SNDBUF_SIZE (256 * 1024)    /* SO_SNDBUF of a chat socket */
#define SNDBUF_ROOM (SNDBUF_SIZE / 2)   /* most bytes we leave queued */
#define WS_HEADER_MAX 14            /* a frame's header, at most */
#define RETRY_US (50 * 1000)        /* a full socket: look again after */
#define UNAVAILABLE "Service temporarily unavailable, try again later."

/* A granted upgrade waiting for ESTABLISHED: lws has no per-session data
 * before it, so the grant waits here, keyed by the wsi. */
typedef struct pending_t {
    lws_dll2_t list;
    struct lws *wsi;
    lws_usec_t at;
    ci_relay_grant_t grant;         /* grant.sender_name is malloc'd */
} pending_t;

/* --- pending grants --------------------------------------------------- */

static void pending_free(pending_t *pe)
{
    free((char *)pe->grant.sender_name);
    free(pe);
}

/* Removes and returns the grant of `wsi`; with `wsi` NULL, drops every
 * grant older than PENDING_TTL (upgrades that never completed) and
 * returns NULL. */
static pending_t *pending_take(struct ci_relay_chat_t *chat, struct lws *wsi)
{
    lws_usec_t now = lws_now_usecs();

    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
                               lws_dll2_get_head(&chat->pending)) {
        pending_t *pe = lws_container_of(d, pending_t, list);

        if (wsi && pe->wsi == wsi) {
            lws_dll2_remove(d);
            return pe;
        }
        if (!wsi && now - pe->at > PENDING_TTL) {
            lws_dll2_remove(d);
            pending_free(pe);
        }
    } lws_end_foreach_dll_safe(d, d1);
    return NULL;
}

/* Keeps `grant` for the ESTABLISHED of `wsi`; -1 when out of memory. */
static int pending_add(struct ci_relay_chat_t *chat, struct lws *wsi,
                       const ci_relay_grant_t *grant)
{
    pending_t *pe;

    pending_take(chat, NULL);
    pe = pending_take(chat, wsi);       /* a wsi freed without ESTABLISHED */
    if (pe) {
        pending_free(pe);
    }
    pe = calloc(1, sizeof(*pe));
    if (!pe) {
        return -1;
    }
    pe->wsi = wsi;
    pe->at = lws_now_usecs();
    pe->grant = *grant;
    pe->grant.sender_name = NULL;
    if (grant->sender_name
        && !(pe->grant.sender_name = strdup(grant->sender_name))) {
        free(pe);
        return -1;
    }
    lws_dll2_add_tail(&pe->list, &chat->pending);
    return 0;
}

/* --- receiving -------------------------------------------------------- */

static int is_blank(const char *s)
{
    while (apr_isspace(*s)) {
        s++;
    }
    return *s == '\0';
}

/* Checks a client frame: returns NULL and *text (from `p`), or the error
 * code and *detail. */
static const char *check_frame(apr_pool_t *p, const char *buf,
                               apr_size_t len, const char **text,
                               const char **detail)
{
    json_t *j, *v;

    if (!ci_utf8_valid(buf, len)) {
        *detail = "JSON parse error - the frame is not valid UTF-8.";
        return "parse_error";
    }
    if (ci_json_parse(p, buf, len, &j, detail) != APR_SUCCESS) {
        return "parse_error";
    }
    if (!json_is_object(j)) {
        *detail = apr_psprintf(p, "Invalid data. Expected a dictionary, but "
                               "got %s.", ci_json_type_name(j));
        return "invalid";
    }
    v = json_object_get(j, "message");
    if (!v) {
        *detail = "This field is required.";
        return "required";
    }
    if (json_is_null(v)) {
        *detail = "This field may not be null.";
        return "null";
    }
    if (!json_is_string(v)) {
        *detail = "Not a valid string.";
        return "invalid";
    }
    if (is_blank(json_string_value(v))) {
        *detail = "This field may not be blank.";
        return "blank";
    }
    if (ci_utf8_len(json_string_value(v)) > CI_CHAT_MAX_MESSAGE) {
        *detail = "Ensure this field has no more than 4000 characters.";
        return "max_length";
    }
    *text = json_string_value(v);
    return NULL;
}

/* --- posting: group commit ------------------------------------------ */

/* A checked message waiting for its commit. Every message that arrives in
 * one service pass joins chat->batch, and the next pass commits the batch
 * in one transaction (flush()) before broadcasting it: under load, one
 * commit carries many messages; alone, a message waits for no timer. */
typedef struct post_t {
    lws_dll2_t list;                /* in chat->batch */
    ci_relay_session_t *pss;        /* the sender; NULL once it closed */
    apr_int64_t room_id;
    char room_uuid[CI_UUID_LEN + 1];
    int owner;
    apr_int64_t user_id;
    const char *sender_name;        /* these two point past the struct */
    const char *text;
} post_t;

/* The error frame for a post that could not be stored. */
static void post_refused(ci_relay_session_t *pss, apr_pool_t *p,
                         apr_status_t status)
{
    const char *detail = ci_chat_refusal_detail(status);

    if (!pss) {
        return;
    }
    if (!detail) {
        ci_relay_send_error(pss, p, "unavailable", UNAVAILABLE);
    }
    else {
        ci_relay_send_error(pss, p, status == CI_CHAT_EGONE
                                    ? "not_found" : "permission_denied",
                            detail);
    }
}

/* Commits the batch and broadcasts what it stored, in id order. */
static void flush(struct ci_relay_chat_t *chat)
{
    ci_relay_t *relay = chat->relay;
    int n = (int)chat->batch.count, i = 0;
    ci_chat_post_t *posts;
    post_t **items;
    lws_usec_t took;
    apr_status_t rv;
    apr_pool_t *p;
    ci_db_t *db;

    chat->flush_armed = 0;
    lws_sul_cancel(&chat->flush);
    if (!n) {
        return;
    }
    apr_pool_create(&p, relay->pool);
    posts = apr_pcalloc(p, (apr_size_t)n * sizeof(*posts));
    items = apr_palloc(p, (apr_size_t)n * sizeof(*items));
    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
                               lws_dll2_get_head(&chat->batch)) {
        post_t *po = lws_container_of(d, post_t, list);

        lws_dll2_remove(d);
        items[i] = po;
        posts[i].room_id = po->room_id;
        posts[i].room_uuid = po->room_uuid;
        posts[i].sender_type = po->owner ? "owner" : "visitor";
        posts[i].sender_id = po->user_id;
        posts[i].sender_name = po->sender_name;
        posts[i].content = po->text;
        i++;
    } lws_end_foreach_dll_safe(d, d1);
    db = ci_relay_db_get(relay);
    took = lws_now_usecs();
    rv = db ? ci_chat_post_many(db, p, posts, n) : CI_DB_EUNAVAIL;
    took = lws_now_usecs() - took;
    if (db && rv != APR_SUCCESS) {
        ci_relay_db_failed(relay, "message insert", rv);
    }
    else if (db) {
        ci_relay_db_ok(relay);
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10535) "committed a batch of %d message(s) "
                      "in %" APR_INT64_T_FMT " us", n, (apr_int64_t)took);
        if (ci_relay_ckpt_due(relay->ckpt)) {
            ci_db_rows_t *rows;

            ci_db_select(db, p, CI_STMT_WAL_CHECKPOINT, NULL, &rows);
        }
    }
    for (i = 0; i < n; i++) {
        if (rv != APR_SUCCESS || posts[i].status != APR_SUCCESS) {
            post_refused(items[i]->pss, p, rv != APR_SUCCESS
                                           ? rv : posts[i].status);
        }
        else {
            ci_relay_room_posted(relay, p, posts[i].msg, posts[i].prev_id);
        }
        free(items[i]);
    }
    apr_pool_destroy(p);
}

static void flush_timer(lws_sorted_usec_list_t *sul)
{
    flush(lws_container_of(sul, struct ci_relay_chat_t, flush));
}

/* Queues a checked message of `pss` for the next commit. */
static void post(struct ci_relay_chat_t *chat, ci_relay_session_t *pss,
                 apr_pool_t *p, const char *text)
{
    const char *name = pss->sender_name ? pss->sender_name : "";
    size_t tlen = strlen(text) + 1, nlen = strlen(name) + 1;
    post_t *po = malloc(sizeof(*po) + tlen + nlen);

    if (!po) {
        ci_relay_send_error(pss, p, "unavailable", UNAVAILABLE);
        return;
    }
    memset(po, 0, sizeof(*po));
    po->pss = pss;
    po->room_id = pss->room->id;
    memcpy(po->room_uuid, pss->room->uuid, sizeof(po->room_uuid));
    po->owner = pss->role == CI_CHAT_OWNER;
    po->user_id = po->owner ? pss->user_id : 0;
    po->text = memcpy((char *)(po + 1), text, tlen);
    po->sender_name = memcpy((char *)(po + 1) + tlen, name, nlen);
    lws_dll2_add_tail(&po->list, &chat->batch);
    if (chat->batch.count >= BATCH_MAX) {
        flush(chat);
    }
    else if (!chat->flush_armed) {
        chat->flush_armed = 1;
        lws_sul_schedule(chat->context, 0, &chat->flush, flush_timer, 0);
    }
}

/* A closing session's posts stay in the batch (they are committed), but
 * nobody gets their error frames. */
static void posts_orphan(struct ci_relay_chat_t *chat, ci_relay_session_t *pss)
{
    lws_start_foreach_dll(struct lws_dll2 *, d,
                          lws_dll2_get_head(&chat->batch)) {
        post_t *po = lws_container_of(d, post_t, list);

        if (po->pss == pss) {
            po->pss = NULL;
        }
    } lws_end_foreach_dll(d);
}

/* A complete client message. */
static void on_message(ci_relay_t *relay, ci_relay_session_t *pss)
{
    const char *code, *detail = NULL, *text = NULL;
    apr_pool_t *p;

    apr_pool_create(&p, relay->pool);
    if (pss->rx_binary) {
        code = "unsupported_media_type";
        detail = "Binary frames are not supported: send JSON in a text "
                 "frame.";
    }
    else {
        code = check_frame(p, pss->rx ? (const char *)pss->rx : "",
                           pss->rx_len, &text, &detail);
    }
    if (code) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10536) "frame refused in room %"
                      APR_INT64_T_FMT ": %s", pss->room->id, code);
        ci_relay_send_error(pss, p, code, detail);
    }
    else if (relay->chat) {
        post(relay->chat, pss, p, text);
    }
    apr_pool_destroy(p);
}

/* WRITEABLE only (see ci_relay_session_close): sets the close code and
 * reason and returns -1, so lws sends the close frame and waits for the
 * peer's. Once: lws kills a socket whose callback returns -1 again before
 * its close frame is out, so the session ignores input from now on. */
static int close_now(struct lws *wsi, ci_relay_session_t *pss, int code,
                     const char *reason)
{
    unsigned char buf[124];
    size_t n = strlen(reason);

    pss->closing = 1;
    n = n < sizeof(buf) ? n : sizeof(buf);
    memcpy(buf, reason, n);
    lws_close_reason(wsi, (enum lws_close_status)code, buf, n);
    return -1;
}

/* Takes a token for a new message from the socket's bucket, which holds
 * --max-burst and refills at --max-rate a second; true when it was empty.
 * (Measured when frames are processed: a relay that lags sees a burst,
 * which the bucket's size absorbs.) */
static int flooding(const ci_relay_config_t *conf, ci_relay_session_t *pss)
{
    const apr_int64_t one = LWS_US_PER_SEC;
    apr_int64_t full = (apr_int64_t)conf->max_burst * one;
    lws_usec_t now = lws_now_usecs();

    if (!conf->max_rate) {
        return 0;
    }
    if (!pss->bucket_at) {
        pss->tokens = full;
    }
    else if (pss->tokens < full) {
        pss->tokens += (now - pss->bucket_at) * conf->max_rate;
        pss->tokens = pss->tokens < full ? pss->tokens : full;
    }
    pss->bucket_at = now;
    if (pss->tokens < one) {
        return 1;
    }
    pss->tokens -= one;
    return 0;
}

/* LWS_CALLBACK_RECEIVE: a piece of a client message. */
static int on_receive(ci_relay_t *relay, struct lws *wsi,
                      ci_relay_session_t *pss, const void *in, size_t len)
{
    size_t max = relay->conf->max_frame;

    if (pss->close_code || pss->closing) {
        return 0;                   /* closing: ignore input */
    }
    if (lws_is_first_fragment(wsi)) {
        free(pss->rx);
        pss->rx = NULL;
        pss->rx_len = 0;
        pss->rx_binary = lws_frame_is_binary(wsi);
        if (flooding(relay->conf, pss)) {
            ci_log_perror(CI_LOG_MARK, CI_LOG_INFO, APR_SUCCESS, NULL,
                          CILOGNO(10537) "closing a socket of room %"
                          APR_INT64_T_FMT ": more than %d messages a "
                          "second, bursts of %d (1008)", pss->room->id,
                          relay->conf->max_rate, relay->conf->max_burst);
            ci_relay_session_close(pss, LWS_CLOSE_STATUS_POLICY_VIOLATION,
                                   "Too many messages.");
            return 0;
        }
    }
    if (pss->rx_len + len + lws_remaining_packet_payload(wsi) > max) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_INFO, APR_SUCCESS, NULL,
                      CILOGNO(10538) "closing a socket of room %"
                      APR_INT64_T_FMT ": a message of more than %"
                      APR_SIZE_T_FMT " bytes (1009)", pss->room->id,
                      (apr_size_t)max);
        ci_relay_session_close(pss, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                               "Message too large.");
        return 0;
    }
    if (!pss->rx_binary && len) {
        unsigned char *rx = realloc(pss->rx, pss->rx_len + len);

        if (!rx) {
            ci_relay_session_close(pss, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
                                   "Out of memory.");
            return 0;
        }
        memcpy(rx + pss->rx_len, in, len);
        pss->rx = rx;
    }
    pss->rx_len += len;
    if (lws_is_final_fragment(wsi)) {
        on_message(relay, pss);
        free(pss->rx);
        pss->rx = NULL;
        pss->rx_len = 0;
    }
    return 0;
}

/* --- sending ---------------------------------------------------------- */

/* Loads the next batch of the ?since= replay. */
static apr_status_t load_history(ci_relay_t *relay, ci_relay_session_t *pss)
{
    apr_array_header_t *msgs;
    ci_db_t *db;
    apr_status_t rv;
    apr_pool_t *p;
    int i;

    ci_relay_hist_clear(pss);
    if (pss->replay_done) {
        return APR_SUCCESS;
    }
    db = ci_relay_db_get(relay);
    if (!db) {
        return CI_DB_EUNAVAIL;
    }
    apr_pool_create(&p, relay->pool);
    rv = ci_chat_history(db, p, pss->room->id, pss->room->uuid,
                         pss->last_sent, HISTORY_BATCH, &msgs);
    if (rv != APR_SUCCESS) {
        ci_relay_db_failed(relay, "messages after", rv);
        goto leave;
    }
    ci_relay_db_ok(relay);
    pss->replay_done = msgs->nelts < HISTORY_BATCH;
    pss->hist = malloc((size_t)(msgs->nelts ? msgs->nelts : 1)
                       * sizeof(*pss->hist));
    rv = pss->hist ? APR_SUCCESS : APR_ENOMEM;
    for (i = 0; rv == APR_SUCCESS && i < msgs->nelts; i++) {
        const ci_message_t *m = APR_ARRAY_IDX(msgs, i, ci_message_t *);

        pss->hist[i] = ci_relay_frame_message(p, m);
        rv = pss->hist[i] ? APR_SUCCESS : APR_ENOMEM;
        pss->hist_n = i + (rv == APR_SUCCESS);
    }
leave:
    apr_pool_destroy(p);
    return rv;
}

/* Whether the socket's send queue takes `len` more bytes whole, so that
 * lws will not keep a partial frame (see the top of this file). The queue
 * only drains by itself, so what SIOCOUTQ said last time plus what was
 * written since bounds it: the ioctl is made only when that bound leaves
 * no room, not before every frame. When the queue cannot be read, assume
 * it takes the frame. */
static int has_room(struct lws *wsi, ci_relay_session_t *pss, size_t len)
{
    size_t need = len + WS_HEADER_MAX;
    int fd, queued = 0;

    if (pss->outq_bound + need <= SNDBUF_ROOM) {
        return 1;
    }
    fd = lws_get_socket_fd(wsi);
    if (fd < 0 || ioctl(fd, SIOCOUTQ, &queued) != 0 || queued < 0) {
        return 1;
    }
    pss->outq_bound = (size_t)queued;
    return pss->outq_bound + need <= SNDBUF_ROOM;
}

static void retry_writable(lws_sorted_usec_list_t *sul)
{
    ci_relay_session_t *pss = lws_container_of(sul, ci_relay_session_t, retry);

    if (pss->wsi) {
        lws_callback_on_writable(pss->wsi);
    }
}

/* One lws_write of `f`; -1 when it failed. */
static int write_frame(struct lws *wsi, ci_relay_session_t *pss,
                       ci_relay_frame_t *f)
{
    if (lws_write(wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT)
        < (int)f->len) {
        return -1;
    }
    pss->outq_bound += f->len + WS_HEADER_MAX;
    if (f->id > pss->last_sent) {
        pss->last_sent = f->id;
    }
    return 0;
}

/* The next frame to write (still owned by its list): the replay's, else
 * the queue's, dropping queued ones the replay has sent. Loads the next
 * replay batch when needed. NULL with *rc 0 when there is nothing to
 * write, or with *rc -1 when the replay failed (the socket was told). */
static ci_relay_frame_t *next_frame(ci_relay_t *relay, struct lws *wsi,
                                    ci_relay_session_t *pss, int *rc)
{
    ci_relay_frame_t *f;

    *rc = 0;
    if (pss->replaying && pss->hist_pos == pss->hist_n
        && load_history(relay, pss) != APR_SUCCESS) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_INFO, APR_SUCCESS, NULL,
                      CILOGNO(10539) "closing a socket of room %"
                      APR_INT64_T_FMT ": its replay failed (1013)",
                      pss->room->id);
        *rc = close_now(wsi, pss, CLOSE_TRY_AGAIN_LATER,
                        "Try again later.");
        return NULL;
    }
    if (pss->replaying && pss->hist_pos < pss->hist_n) {
        return pss->hist[pss->hist_pos];
    }
    if (pss->replaying) {
        pss->replaying = 0;         /* history done: now the live queue */
        ci_relay_hist_clear(pss);
    }
    while ((f = ci_relay_queue_peek(pss)) && f->id
           && f->id <= pss->last_sent) {
        ci_relay_frame_unref(ci_relay_queue_pop(pss));  /* the replay's */
    }
    return f;
}

/* LWS_CALLBACK_SERVER_WRITEABLE: at most one frame, replay first. */
static int on_writeable(ci_relay_t *relay, struct lws *wsi,
                        ci_relay_session_t *pss)
{
    ci_relay_frame_t *f;
    int rc;

    if (pss->closing) {
        return 0;                   /* lws is sending the close frame */
    }
    if (pss->close_code) {
        return close_now(wsi, pss, pss->close_code, pss->close_reason);
    }
    f = next_frame(relay, wsi, pss, &rc);
    if (!f) {
        return rc;
    }
    if (!has_room(wsi, pss, f->len)) {
        lws_sul_schedule(lws_get_context(wsi), 0, &pss->retry,
                         retry_writable, RETRY_US);
        return 0;
    }
    if (pss->replaying) {
        pss->hist_pos++;
    }
    else {
        ci_relay_queue_pop(pss);
    }
    rc = write_frame(wsi, pss, f);
    ci_relay_frame_unref(f);
    if (!rc && (pss->replaying || pss->qlen)) {
        lws_callback_on_writable(wsi);
    }
    return rc;
}

/* --- the protocol ----------------------------------------------------- */

/* A fixed send buffer, so has_room() knows the kernel's limit. */
static void set_sndbuf(struct lws *wsi)
{
    int fd = lws_get_socket_fd(wsi), size = SNDBUF_SIZE;

    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    }
}

static int on_established(struct ci_relay_chat_t *chat, struct lws *wsi,
                          ci_relay_session_t *pss)
{
    pending_t *pe = pending_take(chat, wsi);
    ci_relay_room_t *room;

    if (!pe || !(room = ci_relay_room_join(chat, &pe->grant))) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10540) "a chat socket without a grant (or "
                      "out of memory): closing it");
        if (pe) {
            pending_free(pe);
        }
        return -1;
    }
    pss->wsi = wsi;
    pss->room = room;
    set_sndbuf(wsi);
    pss->role = pe->grant.role;
    pss->user_id = pe->grant.user_id;
    pss->sender_name = (char *)pe->grant.sender_name;   /* now ours */
    pe->grant.sender_name = NULL;
    lws_dll2_add_tail(&pss->list, &room->sessions);
    /* every socket starts with a replay after the grant's id (?since=, or
     * the room's last message at the upgrade): usually nothing */
    pss->replaying = 1;
    pss->last_sent = pe->grant.since;
    lws_callback_on_writable(wsi);
    pending_free(pe);
    chat->relay->nsockets++;
    ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                  CILOGNO(10541) "chat socket opened in room %"
                  APR_INT64_T_FMT " (%u there, %u in all)", room->id,
                  (unsigned int)room->sessions.count, chat->relay->nsockets);
    return 0;
}

static void on_closed(struct ci_relay_chat_t *chat, ci_relay_session_t *pss)
{
    apr_int64_t room_id = pss->room ? pss->room->id : 0;

    lws_sul_cancel(&pss->retry);
    if (chat->batch.count) {
        posts_orphan(chat, pss);
    }
    ci_relay_room_leave(chat, pss);
    ci_relay_queue_clear(pss);
    ci_relay_hist_clear(pss);
    free(pss->rx);
    free(pss->sender_name);
    pss->rx = NULL;
    pss->sender_name = NULL;
    pss->wsi = NULL;
    chat->relay->nsockets--;
    ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                  CILOGNO(10542) "chat socket of room %" APR_INT64_T_FMT
                  " closed (%u in all)", room_id, chat->relay->nsockets);
}

static int confirm_upgrade(struct ci_relay_chat_t *chat, struct lws *wsi)
{
    ci_relay_grant_t grant;
    apr_pool_t *p;
    int rc;

    apr_pool_create(&p, chat->relay->pool);
    apr_pool_tag(p, "relay_chat_upgrade");
    rc = ci_relay_auth_upgrade(chat->relay, wsi, p, &grant);
    if (rc == 0 && pending_add(chat, wsi, &grant)) {
        rc = -1;
    }
    apr_pool_destroy(p);
    return rc;
}

static int protocol_init(struct lws *wsi)
{
    struct ci_relay_chat_t *chat;

    chat = lws_protocol_vh_priv_zalloc(lws_get_vhost(wsi),
                                       lws_get_protocol(wsi), sizeof(*chat));
    if (!chat) {
        return -1;
    }
    chat->context = lws_get_context(wsi);
    chat->vhost = lws_get_vhost(wsi);
    chat->relay = lws_context_user(chat->context);
    chat->rooms = apr_hash_make(chat->relay->pool);
    chat->relay->chat = chat;
    return 0;
}

static void protocol_destroy(struct ci_relay_chat_t *chat)
{
    apr_hash_index_t *hi;

    lws_start_foreach_dll_safe(struct lws_dll2 *, d, d1,
                               lws_dll2_get_head(&chat->pending)) {
        lws_dll2_remove(d);
        pending_free(lws_container_of(d, pending_t, list));
    } lws_end_foreach_dll_safe(d, d1);
    for (hi = apr_hash_first(NULL, chat->rooms); hi; hi = apr_hash_next(hi)) {
        free(apr_hash_this_val(hi));    /* none left after CLOSED, normally */
    }
    apr_hash_clear(chat->rooms);
    flush(chat);                    /* what the last pass received */
    lws_sul_cancel(&chat->behind);
    if (chat->relay->chat == chat) {
        chat->relay->chat = NULL;
    }
}

static int chat_callback(struct lws *wsi, enum lws_callback_reasons reason,
                         void *user, void *in, size_t len)
{
    ci_relay_session_t *pss = user;
    struct ci_relay_chat_t *chat;

    chat = lws_protocol_vh_priv_get(lws_get_vhost(wsi),
                                    lws_get_protocol(wsi));
    switch (reason) {
    case LWS_CALLBACK_PROTOCOL_INIT:
        return protocol_init(wsi);
    case LWS_CALLBACK_PROTOCOL_DESTROY:
        if (chat) {
            protocol_destroy(chat);
        }
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        /* `in` is the Upgrade header's value; `user` is not allocated. */
        return chat ? confirm_upgrade(chat, wsi) : -1;
    case LWS_CALLBACK_ESTABLISHED:
        return chat && pss ? on_established(chat, wsi, pss) : -1;
    case LWS_CALLBACK_RECEIVE:
        return chat && pss && pss->wsi
               ? on_receive(chat->relay, wsi, pss, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return chat && pss && pss->wsi
               ? on_writeable(chat->relay, wsi, pss) : -1;
    case LWS_CALLBACK_CLOSED:
        if (chat && pss && pss->wsi) {
            on_closed(chat, pss);
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols ci_relay_chat_protocol = {
    .name = CI_RELAY_CHAT_PROTOCOL,
    .callback = chat_callback,
    .per_session_data_size = sizeof(ci_relay_session_t),
};
