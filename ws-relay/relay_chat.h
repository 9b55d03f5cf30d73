/* relay_chat: carinfo-relay's WebSocket protocol, "carinfo-chat" (the room
 * sockets of specs 001/004, DESIGN.md section 4).
 *
 * It is the vhost's default protocol (pvo "default"), so lws asks it to
 * confirm every WebSocket upgrade, with or without a Sec-WebSocket-Protocol
 * header.
 *
 * Upgrade: GET [<prefix>]/ws/chat/<room uuid>/ (the trailing slash is
 * optional, a prefix such as /back is accepted) with ?visitor=<token>, or
 * ?token=<JWT access token> or "Authorization: Bearer <JWT>", and an
 * optional &since=<message uuid or integer id>. relay_auth.c decides in
 * LWS_CALLBACK_HTTP_CONFIRM_UPGRADE, before any frame:
 *   401 no credentials; a JWT that is malformed, forged, expired, not an
 *       access token, of no registered user, or given to a relay without
 *       --jwt-key
 *   404 an unknown path; a room that does not exist, is not a visitor
 *       room, or that the credentials do not open (the same answer, so
 *       nobody learns which rooms exist)
 *   400 a `since` that is not a message of the room
 *   503 the database is unavailable
 * Bodies are DRF's {"detail": "..."}; X-CarInfo-Problem carries the tag.
 *
 * Frames, all text, all JSON:
 *   client -> relay  {"message": "<1..4000 characters, not blank>"}
 *   relay -> client  {"id","room_id","sender_type","message","created_at"}
 *       for every message of the room, committed before it is sent, in
 *       commit order, to every socket of the room (the sender's included);
 *       the messages that arrive in one pass of the event loop are
 *       committed together (one transaction), then broadcast;
 *       with ?since= first every message after it, then live, never the
 *       same id twice and never an id at or below one already sent
 *   relay -> client  {"type":"error","code":"<code>","detail":"<text>"}
 *       for a frame it cannot take; the socket stays open. Codes:
 *       parse_error (not JSON, not UTF-8), invalid (not an object, not a
 *       string), required, null, blank, max_length, unsupported_media_type
 *       (binary frame), permission_denied (closed room, blocked visitor),
 *       not_found (room deleted), unavailable (database down: the message
 *       was not stored, send it again).
 * Close codes: 1008 a socket that sends faster than its token bucket
 * allows (--max-rate a second, bursts of --max-burst; 20 and 40 by
 * default), or more than 1000 frames waiting for a reader that does not
 * read; 1009 a message
 * larger than --max-frame bytes; 1013 the database failed during a
 * ?since= replay (reconnect with the same since).
 *
 * The notify bus (relay_notify.c, relay_pg.c) hands every "<room id>:
 * <message id>" it hears to relay_room.c, which reads the rows and
 * broadcasts them to the room's sockets on this relay, once each, in id
 * order (see relay_room.h).
 */
#ifndef ws_relay_relay_chat_h
#define ws_relay_relay_chat_h

#include <libwebsockets.h>

#define CI_RELAY_CHAT_PROTOCOL "carinfo-chat"

/* The protocol entry for the vhost's protocol list. */
extern const struct lws_protocols ci_relay_chat_protocol;

#endif /* ws_relay_relay_chat_h */
