/* mod_carinfo_auth: Bearer access tokens on requests. */
#ifndef mod_carinfo_auth_h
#define mod_carinfo_auth_h

#include "mod_carinfo_http.h"
#include "ci_account.h"

/* Checks the request's "Authorization: Bearer <access token>" and loads
 * its registered user into req->user. Returns 1 when authenticated;
 * otherwise a 401 (with WWW-Authenticate: Bearer) or 503 has been sent
 * and 0 is returned. */
int ci_auth_require_user(ci_req_t *req);

/* The key and lifetimes of this request's location; NULL key when
 * CarInfoJWTKeyFile is not set (then a 503 has been sent). */
int ci_auth_policy(ci_req_t *req, ci_token_policy_t *pol);

#endif /* mod_carinfo_auth_h */
