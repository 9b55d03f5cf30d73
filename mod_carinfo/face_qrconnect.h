/* face_qrconnect: QRConnect (spec 000, French): scan a QR token, guest
 * messages under a pseudo, user-to-user discussions. Every path is also
 * served under /api/auth/chat/... as the document spells it both ways. */
#ifndef mod_carinfo_face_qrconnect_h
#define mod_carinfo_face_qrconnect_h

#include "mod_carinfo_http.h"

int ci_qr_scan(ci_req_t *req);              /* POST /api/auth/scan-qr/ */
int ci_qr_send(ci_req_t *req);              /* POST /api/chat/send/ */
int ci_qr_guest_discussion(ci_req_t *req);  /* GET .../discussion-anonyme/ */
int ci_qr_guest_pseudos(ci_req_t *req);     /* GET .../conversations-anonymes/ */
int ci_qr_block_pseudo(ci_req_t *req);      /* POST .../conversations-anonymes/block/ */
int ci_qr_discussion(ci_req_t *req);        /* GET .../discussion/<user>/ */
int ci_qr_conversations(ci_req_t *req);     /* GET .../conversations/ */

#endif /* mod_carinfo_face_qrconnect_h */
