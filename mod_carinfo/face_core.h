/* face_core: endpoints of the module itself (health, stickers, debug). */
#ifndef mod_carinfo_face_core_h
#define mod_carinfo_face_core_h

#include "mod_carinfo_http.h"

/* GET /api/health/: whether the database answers, and its schema version. */
int ci_core_health(ci_req_t *req);

/* GET /q/{token}/: what a scanned sticker is (free or registered). */
int ci_core_sticker(ci_req_t *req);

/* POST /api/echo/ (CarInfoDebugEcho on): parses the JSON body, echoes it. */
int ci_core_echo(ci_req_t *req);

#endif /* mod_carinfo_face_core_h */
