/* mod_carinfo_handler: the route table and the `carinfo` handler. */
#ifndef mod_carinfo_handler_h
#define mod_carinfo_handler_h

#include <httpd.h>

/* Who may call a route. */
typedef enum {
    CI_ACCESS_PUBLIC = 0,   /* anyone */
    CI_ACCESS_USER,         /* a registered user's Bearer access token */
    CI_ACCESS_DEBUG         /* only with CarInfoDebugEcho on */
} ci_access_t;

/* The handler hook: serves requests whose handler is "carinfo". */
int ci_handler(request_rec *r);

/* Checks the route table; returns an error message from `p`, or NULL. */
const char *ci_handler_check_routes(apr_pool_t *p);

#endif /* mod_carinfo_handler_h */
