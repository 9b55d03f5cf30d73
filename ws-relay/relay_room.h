/* relay_room: the rooms of the chat protocol (relay_chat.h): who is in
 * them, what each socket still has to receive, and how notifications of
 * the notify bus become broadcasts.
 *
 * A room with sockets on this relay knows the highest message id it has
 * broadcast (at first the room's last message, read when its first socket
 * opens). On a notification above it, it reads every message after it, in
 * id order, and broadcasts them; the relay's own posts do the same after
 * their commit, so a message committed earlier whose notification is
 * still on its way is not overtaken. Each message thus goes out once per
 * room, in id order, even when notifications are lost or late. When the
 * database fails during such a read, the room retries every second. (On
 * PostgreSQL, ci_chat_post locks the room row before its insert, so ids
 * within a room follow commit order and no late commit has a lower id.)
 *
 * Each socket (session) has its own bounded queue of shared,
 * reference-counted frames; a session whose queue reaches
 * CI_RELAY_MAX_LAG frames is closed with 1008. A session never sends a
 * message id at or below the highest it has sent, which joins a ?since=
 * replay and the live queue without a gap or a repeat.
 *
 * Everything here runs on the service thread.
 */
#ifndef ws_relay_relay_room_h
#define ws_relay_relay_room_h

#include <apr_hash.h>
#include <apr_pools.h>
#include <libwebsockets.h>

#include "ci_chat.h"
#include "ci_util.h"
#include "relay.h"
#include "relay_auth.h"

#define CI_RELAY_MAX_LAG 1000       /* frames queued for one socket */

/* A frame to send: one allocation, shared by every queue it is on. */
typedef struct ci_relay_frame_t {
    unsigned int refs;
    apr_int64_t id;                 /* the message id; 0: an error frame */
    size_t len;
    unsigned char buf[];            /* LWS_PRE bytes, then len of JSON */
} ci_relay_frame_t;

/* A room with at least one session on this relay. */
typedef struct ci_relay_room_t {
    apr_int64_t id;                 /* the key in chat->rooms */
    char uuid[CI_UUID_LEN + 1];
    lws_dll2_owner_t sessions;      /* ci_relay_session_t.list */
    apr_int64_t last_id;            /* highest message id broadcast here
                                     * (at first: read at the upgrade) */
    int behind;                     /* a read failed: messages after last_id
                                     * may wait (retried by chat->behind) */
} ci_relay_room_t;

/* The chat protocol's per-vhost data. */
struct ci_relay_chat_t {
    struct lws_context *context;
    struct lws_vhost *vhost;
    ci_relay_t *relay;
    apr_hash_t *rooms;              /* room id -> ci_relay_room_t * */
    lws_dll2_owner_t pending;       /* relay_chat.c's granted upgrades */
    lws_sorted_usec_list_t behind;  /* retries rooms that are behind */
    int behind_armed;
    lws_dll2_owner_t batch;         /* relay_chat.c's posts to commit */
    lws_sorted_usec_list_t flush;   /* commits the batch, next pass */
    int flush_armed;
};

/* The chat protocol's per-session data: one socket. */
typedef struct ci_relay_session_t {
    lws_dll2_t list;                /* in room->sessions */
    struct lws *wsi;                /* NULL until ESTABLISHED */
    ci_relay_room_t *room;
    ci_chat_role_t role;
    apr_int64_t user_id;            /* the owner's */
    char *sender_name;              /* grant.sender_name, malloc'd */
    apr_int64_t last_sent;          /* highest message id sent */

    ci_relay_frame_t **q;           /* the queue: a ring of qcap */
    unsigned int qcap, qhead, qlen;

    int replaying;                  /* ?since= replay under way */
    int replay_done;                /* the last history batch is loaded */
    ci_relay_frame_t **hist;        /* the current history batch */
    int hist_n, hist_pos;

    unsigned char *rx;              /* the text message being received */
    size_t rx_len;
    int rx_binary;

    lws_usec_t bucket_at;           /* flood limit: a token bucket, */
    apr_int64_t tokens;             /* in messages x LWS_US_PER_SEC */

    int close_code;                 /* close at the next WRITEABLE */
    const char *close_reason;
    int closing;                    /* close_now() ran: lws is closing */

    lws_sorted_usec_list_t retry;   /* the socket was full: try again */
    size_t outq_bound;              /* at most this much in the kernel's
                                     * send queue (has_room) */
} ci_relay_session_t;

/* The broadcast frame of a message, with one reference; NULL when out of
 * memory. */
ci_relay_frame_t *ci_relay_frame_message(apr_pool_t *p,
                                         const ci_message_t *m);

/* Drops a reference (NULL is fine); the last one frees the frame. */
void ci_relay_frame_unref(ci_relay_frame_t *f);

/* The session's oldest queued frame, still queued; NULL when empty. */
ci_relay_frame_t *ci_relay_queue_peek(ci_relay_session_t *s);

/* The session's oldest queued frame, now the caller's reference; NULL
 * when empty. */
ci_relay_frame_t *ci_relay_queue_pop(ci_relay_session_t *s);

/* Drops the session's queue and frees it. */
void ci_relay_queue_clear(ci_relay_session_t *s);

/* Asks for the session to be closed with `code` and `reason` (static
 * text) at its next WRITEABLE, or killed after a grace period; drops what
 * it had queued, and its input from now on. The way to close from any
 * callback but WRITEABLE: a -1 from RECEIVE makes lws drop the rest of
 * what it read, and its parser loses the frames' boundaries. */
void ci_relay_session_close(ci_relay_session_t *pss, int code,
                            const char *reason);

/* Drops what is left of the session's replay batch and frees it. */
void ci_relay_hist_clear(ci_relay_session_t *s);

/* Queues {"type":"error","code":...,"detail":...} for the session alone.
 * Never fails (out of memory: the frame is dropped). */
void ci_relay_send_error(ci_relay_session_t *s, apr_pool_t *p,
                         const char *code, const char *detail);

/* The room of `grant`, created (starting after grant->room_last) when it
 * has no session yet; NULL when out of memory. The caller adds the
 * session to room->sessions. */
ci_relay_room_t *ci_relay_room_join(struct ci_relay_chat_t *chat,
                                    const ci_relay_grant_t *grant);

/* Takes the session out of its room; frees the room after its last
 * session. */
void ci_relay_room_leave(struct ci_relay_chat_t *chat,
                         ci_relay_session_t *s);

/* Broadcasts message `m` unless the room did already (`force`: whatever
 * the room saw before). */
void ci_relay_room_deliver(ci_relay_room_t *room, apr_pool_t *p,
                           const ci_message_t *m, int force);

/* Reads the room's messages after the last one it broadcast, in batches,
 * and broadcasts them. Returns APR_SUCCESS or the database error
 * (logged). */
apr_status_t ci_relay_room_read_after(ci_relay_t *relay,
                                      ci_relay_room_t *room);

/* A notification: message `msg_id` was committed in room `room_id`.
 * Broadcasts what the room has not, if it has sockets here; duplicates
 * and rooms without sockets cost nothing. A database failure is logged
 * and the room retries (never fails). */
/* Broadcasts `m`, which this relay has just committed after message
 * `prev_id` of its room (ci_chat_post_t): at once when the room has
 * broadcast up to prev_id, else after reading what came between. */
void ci_relay_room_posted(ci_relay_t *relay, apr_pool_t *p,
                          const ci_message_t *m, apr_int64_t prev_id);

void ci_relay_room_notify(ci_relay_t *relay, apr_int64_t room_id,
                          apr_int64_t msg_id);

/* After an outage of the notify bus: every room with sockets reads what
 * it has not broadcast (retried every second while the database fails).
 * Never fails. */
void ci_relay_room_catch_up(ci_relay_t *relay);

#endif /* ws_relay_relay_room_h */
