/* ci_route: the route table matcher.
 *
 * A route is a method, a path pattern relative to the mount point, an opaque
 * handler, and who may call it. Patterns are literal segments and typed
 * parameters: "/api/chat/rooms/{room_id:uuid}/messages/". Types: `uuid`
 * (canonical form, returned in lower case), `int` (a positive decimal that
 * fits in 63 bits), `str` (any non-empty segment). A trailing slash is
 * optional when matching, as clients of Django backends send both. HEAD
 * matches GET routes.
 */
#ifndef mod_carinfo_ci_route_h
#define mod_carinfo_ci_route_h

#include <apr_pools.h>

#define CI_ROUTE_MAX_PARAMS 4

typedef struct ci_route_t {
    const char *method;     /* "GET", "POST", ... */
    const char *pattern;    /* see above */
    const void *handler;    /* for the caller; the matcher never looks */
    int access;             /* for the caller (public, user, ...) */
    const char *summary;    /* one line, for logs and the API reference */
} ci_route_t;

typedef struct ci_route_param_t {
    const char *name;
    const char *value;      /* validated, from the pool given to find */
} ci_route_param_t;

typedef struct ci_route_match_t {
    const ci_route_t *route;
    int nparams;
    ci_route_param_t params[CI_ROUTE_MAX_PARAMS];
} ci_route_match_t;

typedef enum {
    CI_ROUTE_FOUND = 0,
    CI_ROUTE_NOT_FOUND,     /* no pattern matches the path */
    CI_ROUTE_BAD_METHOD     /* a pattern matches, but not for this method */
} ci_route_result_t;

/* Matches `method` and `path` (relative to the mount, starting with '/')
 * against `routes[0..n)`, first match wins. On CI_ROUTE_FOUND fills `m`.
 * On CI_ROUTE_BAD_METHOD sets *allow to the methods the path accepts
 * ("GET, HEAD, PUT"), from `p`. Never fails otherwise. */
ci_route_result_t ci_route_find(apr_pool_t *p, const ci_route_t *routes,
                                int n, const char *method, const char *path,
                                ci_route_match_t *m, const char **allow);

/* The value of parameter `name` of a match, or NULL. */
const char *ci_route_param(const ci_route_match_t *m, const char *name);

/* Checks a route table at start-up: patterns well formed, known parameter
 * types, no more than CI_ROUTE_MAX_PARAMS, no duplicate method+pattern.
 * Returns NULL when fine, else a message from `p`. */
const char *ci_route_check(apr_pool_t *p, const ci_route_t *routes, int n);

#endif /* mod_carinfo_ci_route_h */
