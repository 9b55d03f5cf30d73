/* relay_auth: who may open a chat socket (see relay_chat.h for the rules).
 *
 * Runs in LWS_CALLBACK_HTTP_CONFIRM_UPGRADE, before lws answers the
 * handshake: it parses the path and the credentials, verifies the JWT
 * (HS256 access tokens only, with the key of --jwt-key), reads the room and
 * the owner, and either grants the socket or writes the HTTP refusal
 * itself. Refusals are logged at debug: a client with a bad token is not
 * something an operator must act on. Tokens are never logged.
 */
#ifndef ws_relay_relay_auth_h
#define ws_relay_relay_auth_h

#include <apr_pools.h>
#include <libwebsockets.h>

#include "ci_chat.h"
#include "ci_util.h"
#include "relay.h"

/* What an accepted upgrade may do. */
typedef struct ci_relay_grant_t {
    apr_int64_t room_id;
    char room_uuid[CI_UUID_LEN + 1];
    ci_chat_role_t role;            /* CI_CHAT_VISITOR or CI_CHAT_OWNER */
    apr_int64_t user_id;            /* the owner's user id; 0 for visitors */
    const char *sender_name;        /* the name the socket posts under: the
                                     * owner's full name or the room's
                                     * visitor name (from `p`) */
    apr_int64_t room_last;          /* the room's last message id at the
                                     * upgrade, before the 101 */
    apr_int64_t since;              /* replay after this id: ?since=, else
                                     * room_last */
} ci_relay_grant_t;

/* Decides the upgrade of `wsi`. Returns 0 and fills *grant when the socket
 * may open; 1 when it was refused and the HTTP response has been written
 * (the callback returns 1 so lws ends the transaction); -1 when writing the
 * refusal failed (the callback returns -1 to hang up). Scratch from `p`. */
int ci_relay_auth_upgrade(ci_relay_t *relay, struct lws *wsi, apr_pool_t *p,
                          ci_relay_grant_t *grant);

#endif /* ws_relay_relay_auth_h */
