/* face_chat: CarInfo visitor chat over REST (specs 001 and 004). */
#ifndef mod_carinfo_face_chat_h
#define mod_carinfo_face_chat_h

#include "mod_carinfo_http.h"
#include "ci_chat.h"

int ci_chat_h_start(ci_req_t *req);         /* POST /api/chat/start/ */
int ci_chat_h_rooms(ci_req_t *req);         /* GET /api/chat/rooms/ */
int ci_chat_h_room(ci_req_t *req);          /* GET /api/chat/rooms/<id>/ */
int ci_chat_h_room_update(ci_req_t *req);   /* PATCH /api/chat/rooms/<id>/ */
int ci_chat_h_block(ci_req_t *req);         /* POST .../rooms/<id>/block/ */
int ci_chat_h_messages(ci_req_t *req);      /* GET .../rooms/<id>/messages/ */
int ci_chat_h_send(ci_req_t *req);          /* POST .../rooms/<id>/messages/ */

/* Tells the relay (CarInfoRelaySocket) about a committed message, so the
 * room's sockets get it at once. Best effort: logged at debug. */
void ci_chat_h_announce(ci_req_t *req, const ci_message_t *msg);

/* Answers a failed ci_chat_post(): 404/403 with the refusal's detail
 * (the room changed after the handler looked at it), else the database
 * failure. Returns OK, like ci_http_problem(). */
int ci_chat_h_post_failed(ci_req_t *req, apr_status_t rv, int logno);

#endif /* mod_carinfo_face_chat_h */
