/* face_accounts: CarInfo accounts (spec 004): register after a QR scan,
 * phone login, token refresh, the caller's profile, public users. */
#ifndef mod_carinfo_face_accounts_h
#define mod_carinfo_face_accounts_h

#include "mod_carinfo_http.h"

int ci_acc_register(ci_req_t *req);         /* POST /api/user/register/ */
int ci_acc_login(ci_req_t *req);            /* POST /api/login/ */
int ci_acc_refresh(ci_req_t *req);          /* POST /api/token/refresh/ */
int ci_acc_logout(ci_req_t *req);           /* POST /api/logout/ */
int ci_acc_profile_get(ci_req_t *req);      /* GET /api/profile/ */
int ci_acc_profile_update(ci_req_t *req);   /* PUT, PATCH /api/profile/ */
int ci_acc_users(ci_req_t *req);            /* GET /api/users/ */
int ci_acc_public_profile(ci_req_t *req);   /* GET /user/<uuid>/ */

#endif /* mod_carinfo_face_accounts_h */
