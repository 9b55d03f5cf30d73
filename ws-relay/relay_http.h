/* relay_http: carinfo-relay's plain-HTTP protocol, "carinfo-http".
 *
 * It is protocols[0] of the vhost, so lws hands it every plain HTTP
 * request (WebSocket upgrades go to the default protocol, carinfo-chat).
 * Routes, all answered in JSON:
 *   GET (or HEAD) /health and /ws/health (Apache forwards /ws/ here):
 *       200 {"status":"ok","database":"ok","schema_version":N,"sockets":S}
 *       503 {"status":"error","database":"unavailable","sockets":S}
 *       after running PING and SCHEMA_VERSION on the relay's connection
 *       (relay_db.h); a trailing slash is accepted.
 *   another method there: 405 {"detail":"Method \"X\" not allowed."}
 *   anything else: 404 {"detail":"Not found."}
 * Errors carry X-CarInfo-Problem: urn:carinfo:log:CInnnnn, like the module.
 * Per-vhost data: the context, the vhost and the shared ci_relay_t (db
 * connection, pool), allocated in LWS_CALLBACK_PROTOCOL_INIT.
 */
#ifndef ws_relay_relay_http_h
#define ws_relay_relay_http_h

#include <libwebsockets.h>

/* The protocol entry for the vhost's protocol list (must be first). */
extern const struct lws_protocols ci_relay_http_protocol;

#endif /* ws_relay_relay_http_h */
