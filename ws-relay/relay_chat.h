/* relay_chat: carinfo-relay's WebSocket protocol, "carinfo-chat".
 *
 * The slot for the room sockets of DESIGN.md section 4. It is the vhost's
 * default protocol (pvo "default"), so lws asks it to confirm every
 * WebSocket upgrade, with or without a Sec-WebSocket-Protocol header. For
 * now it refuses them all with 404 (through Apache the client sees a clean
 * HTTP/1.1 404). Per-vhost data (context, vhost, ci_relay_t) is allocated in
 * LWS_CALLBACK_PROTOCOL_INIT; a per-session struct holds one socket's
 * state, and relay->nsockets counts the established sessions.
 */
#ifndef ws_relay_relay_chat_h
#define ws_relay_relay_chat_h

#include <libwebsockets.h>

#define CI_RELAY_CHAT_PROTOCOL "carinfo-chat"

/* The protocol entry for the vhost's protocol list. */
extern const struct lws_protocols ci_relay_chat_protocol;

#endif /* ws_relay_relay_chat_h */
