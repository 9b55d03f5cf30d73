/* ci_chat: visitor rooms and messages, written once for the module's REST
 * faces and for carinfo-relay.
 *
 * A visitor room belongs to one owner; its visitor holds a random token
 * (256 bits from the system CSPRNG) that is shown once and stored only as
 * its SHA-256. Messages are ordered by their integer id within a room;
 * clients see uuids. Posting a message commits it and, on PostgreSQL,
 * NOTIFYs carinfo_chat with "<room id>:<message id>" in the same
 * transaction; on one host the caller also sends ci_chat_notify_dgram()
 * to the relay after the commit. Payloads carry ids, never bodies.
 * Functions return APR_SUCCESS or a ci_db error; results come from `p`.
 */
#ifndef mod_carinfo_ci_chat_h
#define mod_carinfo_ci_chat_h

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#include "ci_db.h"
#include "ci_json.h"

#define CI_CHAT_MAX_MESSAGE 4000    /* characters */
#define CI_CHAT_MAX_NAME 100
#define CI_CHAT_NOTIFY_CHANNEL "carinfo_chat"

typedef struct ci_room_t {
    apr_int64_t id;
    const char *uuid;
    const char *kind;               /* "visitor", "direct", "group" */
    apr_int64_t owner_id;
    const char *owner_uuid;
    const char *visitor_name;
    const char *visitor_token_hash;
    int visitor_blocked;
    int is_active;
    apr_int64_t created_at;         /* microseconds */
    apr_int64_t updated_at;
    apr_int64_t owner_last_read_id;
} ci_room_t;

typedef struct ci_message_t {
    apr_int64_t id;
    const char *uuid;
    const char *room_uuid;
    const char *sender_type;        /* "visitor", "owner", "user" */
    const char *sender_name;
    const char *content;
    apr_int64_t created_at;
    apr_int64_t room_id;
} ci_message_t;

/* A room of the owner's inbox: its last message and unread count. */
typedef struct ci_inbox_room_t {
    ci_room_t room;
    ci_message_t *last;             /* NULL when the room has none */
    apr_int64_t unread;             /* visitor messages the owner has not read */
} ci_inbox_room_t;

/* Who is asking for a room. */
typedef enum {
    CI_CHAT_NOBODY = 0,
    CI_CHAT_VISITOR,
    CI_CHAT_OWNER
} ci_chat_role_t;

/* NULL when `text` may be sent as a message, else the DRF sentence that
 * says why (blank, or more than CI_CHAT_MAX_MESSAGE characters). */
const char *ci_chat_text_problem(const char *text);

/* A new visitor token (hex) and its stored hash, from `p`; NULL token if
 * the CSPRNG failed. */
const char *ci_chat_new_token(apr_pool_t *p, const char **hash);

/* The stored form of a visitor token. */
const char *ci_chat_token_hash(apr_pool_t *p, const char *token);

/* Creates a visitor room of `owner_id`; *room_uuid and *token from `p`. */
apr_status_t ci_chat_start(ci_db_t *db, apr_pool_t *p, apr_int64_t owner_id,
                           const char *visitor_name, const char **room_uuid,
                           const char **token);

/* The room with `uuid` (not deleted), or *room NULL. */
apr_status_t ci_chat_room(ci_db_t *db, apr_pool_t *p, const char *uuid,
                          ci_room_t **room);

/* The role the credentials give in `room`: the visitor token of this room
 * (compared in constant time), or the owner's user uuid. Anything else,
 * including a blocked visitor's token, is CI_CHAT_NOBODY. */
ci_chat_role_t ci_chat_role(apr_pool_t *p, const ci_room_t *room,
                            const char *visitor_token,
                            const char *user_uuid);

/* Why a post was refused, checked inside its transaction (the room may
 * have changed since the caller looked at it). */
#define CI_CHAT_EGONE    (APR_OS_START_USERERR + 121) /* room deleted */
#define CI_CHAT_ECLOSED  (APR_OS_START_USERERR + 122) /* visitor, closed */
#define CI_CHAT_EBLOCKED (APR_OS_START_USERERR + 123) /* visitor, blocked */

/* The DRF detail of a refusal (one of the three above), else NULL. */
const char *ci_chat_refusal_detail(apr_status_t status);

/* One message to post. The sender is "visitor" (sender_id 0) or
 * "owner"/"user" (sender_id the user id). */
typedef struct ci_chat_post_t {
    apr_int64_t room_id;
    const char *room_uuid;
    const char *sender_type;
    apr_int64_t sender_id;
    const char *sender_name;        /* NULL: "" */
    const char *content;
    /* Results: */
    apr_status_t status;            /* APR_SUCCESS or CI_CHAT_E* */
    ci_message_t *msg;              /* the stored row, when posted */
    apr_int64_t prev_id;            /* the room's last message before it
                                     * (0: none): a reader that has
                                     * broadcast up to prev_id can send msg
                                     * next without reading the room */
} ci_chat_post_t;

/* Commits the posts of `posts` that their rooms accept, in one
 * transaction of one statement each for locking, inserting and touching
 * the rooms, which on PostgreSQL NOTIFYs "<room id>:<last id>" once per
 * room. Messages of one room take ascending ids in array order. Returns
 * APR_SUCCESS (each post's status says whether it was stored) or the
 * ci_db error (nothing was stored). Texts must be valid UTF-8 (callers
 * check). Results come from `p`. */
apr_status_t ci_chat_post_many(ci_db_t *db, apr_pool_t *p,
                               ci_chat_post_t *posts, int n);

/* ci_chat_post_many() of one message into `room`: APR_SUCCESS and *msg,
 * a CI_CHAT_E* refusal, or a ci_db error. */
apr_status_t ci_chat_post(ci_db_t *db, apr_pool_t *p, const ci_room_t *room,
                          const char *sender_type, apr_int64_t sender_id,
                          const char *sender_name, const char *content,
                          ci_message_t **msg);

/* The integer id of message `uuid` in room `room_id`; 0 when absent. */
apr_status_t ci_chat_message_id(ci_db_t *db, apr_pool_t *p,
                                apr_int64_t room_id, const char *uuid,
                                apr_int64_t *id);

/* Messages of the room `room_id` (whose uuid is `room_uuid`, which they
 * point to) after message id `after`, oldest first, at most `limit`: an
 * array of ci_message_t *. */
apr_status_t ci_chat_history(ci_db_t *db, apr_pool_t *p, apr_int64_t room_id,
                             const char *room_uuid, apr_int64_t after,
                             int limit,
                             apr_array_header_t **msgs);

/* The room `uuid` (*room, NULL when there is none or it is deleted) and
 * its messages after message id `after`, oldest first, at most `limit`
 * (*msgs, ci_message_t *): ci_chat_room and ci_chat_history, in one
 * statement (one round trip) on PostgreSQL. */
apr_status_t ci_chat_room_history(ci_db_t *db, apr_pool_t *p,
                                  const char *uuid, apr_int64_t after,
                                  int limit, ci_room_t **room,
                                  apr_array_header_t **msgs);

/* The owner's visitor rooms, most recent activity first, `limit` of them
 * from `offset`: an array of ci_inbox_room_t *. */
apr_status_t ci_chat_owner_rooms(ci_db_t *db, apr_pool_t *p,
                                 apr_int64_t owner_id, int limit,
                                 apr_int64_t offset,
                                 apr_array_header_t **rooms);

/* One message by id (for the relay after a notification), or *msg NULL. */
apr_status_t ci_chat_message(ci_db_t *db, apr_pool_t *p, apr_int64_t id,
                             ci_message_t **msg);

/* The highest message id of room `room_id` (0 when it has none): where
 * carinfo-relay starts a room's live stream. */
apr_status_t ci_chat_last_id(ci_db_t *db, apr_pool_t *p, apr_int64_t room_id,
                             apr_int64_t *id);

/* --- QRConnect (spec 000): guest conversations and direct rooms --- */

/* The owner's guest conversation with `pseudo`, or *room NULL; *addr_hash
 * is the hash of the address that started it (for old clients that send
 * no guest token). */
apr_status_t ci_chat_guest_room(ci_db_t *db, apr_pool_t *p,
                                apr_int64_t owner_id, const char *pseudo,
                                ci_room_t **room, const char **addr_hash);

/* Starts the owner's conversation with `pseudo` from client address
 * `addr`; *token is the new guest token (shown once). CI_DB_ECONSTRAINT
 * when another request created it first: read it again. */
apr_status_t ci_chat_guest_room_create(ci_db_t *db, apr_pool_t *p,
                                       apr_int64_t owner_id,
                                       const char *pseudo, const char *addr,
                                       const char **token);

/* The owner's guest pseudos, most recent conversation first. */
apr_status_t ci_chat_guest_pseudos(ci_db_t *db, apr_pool_t *p,
                                   apr_int64_t owner_id, int limit,
                                   apr_array_header_t **pseudos);

/* The direct room of two users, created (with both as members) on first
 * use; safe against concurrent creation. */
apr_status_t ci_chat_direct_room(ci_db_t *db, apr_pool_t *p, apr_int64_t a,
                                 apr_int64_t b, int create, ci_room_t **room);

/* A message as the 000 face shows it: with the sender's user id. */
typedef struct ci_qmsg_t {
    apr_int64_t id;
    const char *sender_type;
    apr_int64_t sender_id;          /* 0 for a guest */
    const char *sender_name;
    const char *content;
    apr_int64_t created_at;
} ci_qmsg_t;

/* The messages of a room by date (oldest first): ci_qmsg_t *. */
apr_status_t ci_chat_room_log(ci_db_t *db, apr_pool_t *p,
                              apr_int64_t room_id, int limit,
                              apr_array_header_t **msgs);

/* A user the caller has a direct room with, and its last message. */
typedef struct ci_partner_t {
    apr_int64_t user_id;
    const char *user_uuid;
    const char *full_name;
    const char *room_uuid;
    apr_int64_t updated_at;
    const char *last_content;       /* NULL when no message yet */
    apr_int64_t last_sender_id;
    apr_int64_t last_at;
} ci_partner_t;

/* The caller's direct conversations, most recent first: ci_partner_t *. */
apr_status_t ci_chat_partners(ci_db_t *db, apr_pool_t *p,
                              apr_int64_t user_id, int limit,
                              apr_array_header_t **partners);

/* The JSON of a message, written into `b` (ci_json.h's writer): REST
 * names the text "content", the WebSocket broadcast "message" (spec
 * 001/004). */
void ci_chat_message_jbuf(ci_jbuf_t *b, apr_pool_t *p, const ci_message_t *m,
                          const char *text_key);

/* Sends "<room id>:<message id>" to the relay's unix datagram socket at
 * `path`. Best effort: a relay that is down misses nothing it cannot
 * replay (clients resume with ?since=). Returns the send status. */
apr_status_t ci_chat_notify_dgram(const char *path, apr_int64_t room_id,
                                  apr_int64_t msg_id);

/* Parses a "<room id>:<message id>" notification. 0 on success. */
int ci_chat_notify_parse(const char *payload, apr_int64_t *room_id,
                         apr_int64_t *msg_id);

#endif /* mod_carinfo_ci_chat_h */
