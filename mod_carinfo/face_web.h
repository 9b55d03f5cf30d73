/* face_web: the web pages (visitor's sticker page, owner's inbox) and the
 * API reference (OpenAPI document, Swagger UI, Redoc), served from
 * CarInfoWebRoot. Files only, never a directory listing or a path with
 * separators: names are [A-Za-z0-9._-], not starting with a dot. */
#ifndef mod_carinfo_face_web_h
#define mod_carinfo_face_web_h

#include "mod_carinfo_http.h"

/* Whether the client asked for a page rather than JSON (Accept). */
int ci_web_wants_html(ci_req_t *req);

/* Sends web/<name> as a page (with the pages' security headers). */
int ci_web_page(ci_req_t *req, const char *name);

int ci_web_inbox(ci_req_t *req);            /* GET /inbox/ */
int ci_web_static(ci_req_t *req);           /* GET /static/<file> */
int ci_web_docs(ci_req_t *req);             /* GET /api/docs/ */
int ci_web_docs_file(ci_req_t *req);        /* GET /api/docs/<file> */
int ci_web_redoc(ci_req_t *req);            /* GET /api/redoc/ */
int ci_web_vendor(ci_req_t *req);           /* GET /api/vendor/<file> */
int ci_web_schema(ci_req_t *req);           /* GET /api/schema/ */

#endif /* mod_carinfo_face_web_h */
