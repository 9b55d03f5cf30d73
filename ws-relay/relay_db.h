/* relay_db: carinfo-relay's one database connection.
 *
 * The relay opens its own connection with ci_db_open(), with the driver and
 * parameters that httpd has in DBDriver/DBDParams. It runs only the
 * statements of ci_sql.h, never DDL: migrations run before the servers
 * start. A database that is down at start, or goes away later, does not
 * stop the relay: the connection is dropped after a failure and opened
 * again on demand, at most once per CI_RELAY_DB_RETRY, and the health
 * endpoint says "unavailable" meanwhile. Failures are logged once when the
 * state changes (error), and again when the database is back (notice).
 */
#ifndef ws_relay_relay_db_h
#define ws_relay_relay_db_h

#include <apr_pools.h>

#include "relay.h"

#define CI_RELAY_DB_RETRY apr_time_from_sec(1)

/* The open connection, opening it first if there is none and the last
 * attempt is at least CI_RELAY_DB_RETRY old. Returns NULL when there is no
 * connection; the reason is logged. An SQLite file that does not exist is
 * not created (the driver would create it empty, owned by whoever runs the
 * relay): it counts as unavailable. The connection lives in relay->db_pool
 * until ci_relay_db_drop() or ci_relay_db_close(). */
ci_db_t *ci_relay_db_get(ci_relay_t *relay);

/* Runs PING and SCHEMA_VERSION; on success *version gets the schema
 * version. Returns APR_SUCCESS, or a CI_DB_* error after which the
 * connection has been dropped (reopened on the next call). Temporary
 * allocations come from `p`. */
apr_status_t ci_relay_db_health(ci_relay_t *relay, apr_pool_t *p,
                                apr_int64_t *version);

/* Reports a failed statement of the chat code (`what` names it for the
 * log): logs it like a failed health check and drops the connection, so
 * the next ci_relay_db_get() reconnects. A constraint violation is the
 * statement's fault, not the connection's: it is only logged at debug.
 * Never fails. */
void ci_relay_db_failed(ci_relay_t *relay, const char *what,
                        apr_status_t rv);

/* Reports a statement that worked: logs once that the database is back
 * after failures. Never fails. */
void ci_relay_db_ok(ci_relay_t *relay);

/* Closes the connection, if any, and frees its pool. The next
 * ci_relay_db_get() may open a new one at once. Never fails. */
void ci_relay_db_close(ci_relay_t *relay);

#endif /* ws_relay_relay_db_h */
