/* mod_carinfo_dbd: the module's bridge to mod_dbd and httpd's log.
 *
 * mod_dbd's functions are reached as optional functions, so no link
 * dependency and any LoadModule order works. Statements are not prepared
 * through DBDPrepareSQL (they do not survive a PostgreSQL restart or a
 * schema change): ci_db keeps its own per-connection cache instead.
 */
#ifndef mod_carinfo_dbd_h
#define mod_carinfo_dbd_h

#include <httpd.h>

#include "ci_db.h"

/* Looks up mod_dbd's functions; returns an error message (from `p`) when
 * mod_dbd is not loaded, NULL when all is well. Call in post_config. */
const char *ci_dbd_init(apr_pool_t *p);

/* The request's pooled connection with its statement cache, or NULL when
 * the database is unavailable. Never close it: mod_dbd releases it with
 * the request. */
ci_db_t *ci_dbd_acquire(request_rec *r);

/* Routes the core's ci_log messages into the error log of `s`. */
void ci_dbd_log_to_server(server_rec *s);

#endif /* mod_carinfo_dbd_h */
