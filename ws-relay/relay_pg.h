/* relay_pg: the notify bus across hosts, PostgreSQL LISTEN/NOTIFY.
 *
 * With --dbdriver pgsql the relay keeps one more connection, opened with
 * libpq from the same conninfo string (--dbparams), that runs
 * `LISTEN carinfo_chat`. ci_chat_post() NOTIFYs "<room id>:<message id>"
 * in the transaction that stores a message, so every relay on the database
 * hears every commit, its own included (the chat code drops duplicates).
 * A dup() of the connection's socket is adopted into the lws loop as a raw
 * file descriptor (protocol "carinfo-pg"; lws closes the dup, libpq keeps
 * its own); on RX the relay calls PQconsumeInput() and PQnotifies().
 *
 * When the connection fails or dies it is retried with a backoff timer
 * (1 s doubling to 30 s). After it is back, every room with sockets here
 * reads the messages after the last one it broadcast, so messages
 * committed while nobody listened are not missed. The first failure is
 * logged at error, the retries at debug, the recovery at notice.
 */
#ifndef ws_relay_relay_pg_h
#define ws_relay_relay_pg_h

#include <apr.h>
#include <libwebsockets.h>

#include "relay.h"

#define CI_RELAY_PG_PROTOCOL "carinfo-pg"

/* The protocol entry for the vhost's protocol list. */
extern const struct lws_protocols ci_relay_pg_protocol;

/* Opens the LISTEN connection, or schedules its retry when the database
 * is not there (the context must exist). Sets relay->pg; its memory and
 * connection belong to relay->pool. Never fails. */
void ci_relay_pg_start(ci_relay_t *relay);

/* Cancels the retry timer; call before destroying the context (which
 * closes the connection through LWS_CALLBACK_RAW_CLOSE_FILE). Never
 * fails. */
void ci_relay_pg_stop(ci_relay_t *relay);

#endif /* ws_relay_relay_pg_h */
