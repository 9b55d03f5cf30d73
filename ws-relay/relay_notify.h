/* relay_notify: the notify bus on one host, a unix datagram socket.
 *
 * mod_carinfo sends "<room id>:<message id>" (ci_chat_notify_dgram) to the
 * socket of --notify-socket after a REST call committed a message; the
 * relay reads the datagrams in the lws loop (the socket is adopted as a
 * raw file descriptor, protocol "carinfo-notify") and hands each to
 * ci_relay_chat_notify(). Datagrams carry ids only: a local user who can
 * write to the socket can at most make the relay re-read committed rows.
 * Malformed datagrams are ignored (logged at debug).
 */
#ifndef ws_relay_relay_notify_h
#define ws_relay_relay_notify_h

#include <sys/types.h>
#include <apr.h>
#include <libwebsockets.h>

#include "relay.h"

#define CI_RELAY_NOTIFY_PROTOCOL "carinfo-notify"

/* The protocol entry for the vhost's protocol list. */
extern const struct lws_protocols ci_relay_notify_protocol;

/* Creates and binds the socket at relay->conf->notify_socket, before
 * privileges are dropped: removes a stale socket file first (refuses a
 * path that is not a socket, or a socket that another process still
 * reads), then hands the file to uid:gid with mode 0660, or makes it
 * 0666 when uid is (uid_t)-1, so Apache's user can send to it. Sets
 * relay->notify_fd. Returns APR_SUCCESS, or an error after logging why. */
apr_status_t ci_relay_notify_open(ci_relay_t *relay, uid_t uid, gid_t gid);

/* Adopts relay->notify_fd into the lws loop (the context must exist).
 * Returns APR_SUCCESS, or an error after logging why. */
apr_status_t ci_relay_notify_start(ci_relay_t *relay);

/* Removes the socket file we created (after the context is destroyed,
 * which closed the adopted descriptor; a descriptor never adopted is
 * closed here). A failure to remove it is logged at info: the next start
 * removes a stale socket anyway. Never fails. */
void ci_relay_notify_close(ci_relay_t *relay);

#endif /* ws_relay_relay_notify_h */
