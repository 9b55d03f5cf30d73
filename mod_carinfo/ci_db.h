/* ci_db: the store's connection wrapper and statement cache (apr_dbd only).
 *
 * Every statement of ci_sql.h is prepared lazily, once per connection, and
 * kept in a cache that lives in the connection's pool. When a statement
 * fails for any reason but a constraint violation, ci_db checks the
 * connection (PostgreSQL: reconnects), prepares that statement again under
 * a new name and retries it once. So a PostgreSQL restart, or a migration
 * that changes the SQLite schema under running workers, costs no failed
 * request. Inside a transaction the retry is of the whole transaction
 * (ci_db_txn). A ci_db_t is used by one thread at a time, like the
 * connection it wraps.
 *
 * On SQLite, statements run on the driver's own sqlite3 handle
 * (apr_dbd_native_handle), not through apr_dbd: apr-util's SQLite driver
 * holds one process-wide mutex around every statement, so the threads of
 * an httpd child queued for SQLite one at a time, and it turned every
 * value into text and copied each result twice. SQLite itself is
 * thread-safe per connection (checked with sqlite3_threadsafe(); without
 * it ci_db keeps to apr_dbd).
 */
#ifndef mod_carinfo_ci_db_h
#define mod_carinfo_ci_db_h

#include <apr_pools.h>
#include <apr_dbd.h>

#include "ci_sql.h"

typedef struct ci_db_t ci_db_t;

/* A fully read result: cells[row * ncols + col], NULL for SQL NULL. */
typedef struct ci_db_rows_t {
    int nrows;
    int ncols;
    const char **cells;
} ci_db_rows_t;

/* Failures besides APR's own codes. */
#define CI_DB_ECONSTRAINT (APR_OS_START_USERERR + 101) /* unique/FK/check */
#define CI_DB_EUNAVAIL    (APR_OS_START_USERERR + 102) /* no connection */
#define CI_DB_EQUERY      (APR_OS_START_USERERR + 103) /* failed after retry */

/* Arguments of a statement: CI_ARGS("a", "b"); NULL for none. */
#define CI_ARGS(...) ((const char *const[]){ __VA_ARGS__ })

/* The cache of a connection that somebody else owns (mod_dbd's pool):
 * created on first use and kept in `conn_pool` userdata, so it lives and
 * dies with the connection. Never fails (allocation aborts). */
ci_db_t *ci_db_attach(apr_pool_t *conn_pool, const apr_dbd_driver_t *driver,
                      apr_dbd_t *handle);

/* Opens a connection of our own (relay, carinfoctl, tests): `driver` and
 * `params` as for DBDriver/DBDParams. SQLite connections get busy_timeout,
 * synchronous=NORMAL and foreign_keys. On failure returns an APR error
 * and *err (from `p`) says why; nothing is left open. Close with
 * ci_db_close() or by destroying `p`. */
apr_status_t ci_db_open(ci_db_t **pdb, apr_pool_t *p, const char *driver,
                        const char *params, const char **err);

/* Closes a connection opened by ci_db_open (no-op for attached ones). */
void ci_db_close(ci_db_t *db);

ci_dialect_t ci_db_dialect(const ci_db_t *db);

/* The driver's text for the last failure on this connection, for logs
 * (never shown to clients). Valid until the next call on `db`. */
const char *ci_db_error(const ci_db_t *db);

/* Runs a row-returning statement; reads every row into *rows (from `p`).
 * `args` must hold ci_sql_nargs(id) strings (NULL entries bind SQL NULL).
 * Returns APR_SUCCESS, CI_DB_ECONSTRAINT, CI_DB_EUNAVAIL or CI_DB_EQUERY. */
apr_status_t ci_db_select(ci_db_t *db, apr_pool_t *p, ci_stmt_id_t id,
                          const char *const *args, ci_db_rows_t **rows);

/* Runs a statement without rows; *affected (may be NULL) gets the count.
 * Same returns as ci_db_select. */
apr_status_t ci_db_exec(ci_db_t *db, apr_pool_t *p, ci_stmt_id_t id,
                        const char *const *args, int *affected);

/* Runs fn(db, p, baton) inside a transaction: commits when fn returns
 * APR_SUCCESS, rolls back otherwise. If a statement inside failed for a
 * reason other than a constraint, the connection is checked and the whole
 * transaction runs once more. Returns fn's status or a CI_DB_* error. */
typedef apr_status_t ci_db_txn_fn(ci_db_t *db, apr_pool_t *p, void *baton);
apr_status_t ci_db_txn(ci_db_t *db, apr_pool_t *p, ci_db_txn_fn *fn,
                       void *baton);

/* Runs unprepared SQL (one or more statements, no rows): for migrations
 * only. Same returns as ci_db_exec. */
apr_status_t ci_db_exec_raw(ci_db_t *db, const char *sql);

/* Drops every cached statement of this connection, so each is prepared
 * afresh on its next use: for code that has just changed the schema
 * itself (the migration runner). */
void ci_db_forget_all(ci_db_t *db);

/* Prepares every statement of ci_sql.h on this connection; for
 * `carinfoctl verify` and the tests. On failure *failed names it. */
apr_status_t ci_db_prepare_all(ci_db_t *db, ci_stmt_id_t *failed);

/* Cell accessors; row/col out of range gives NULL / `dflt`. */
const char *ci_db_cell(const ci_db_rows_t *rows, int row, int col);
apr_int64_t ci_db_cell_i64(const ci_db_rows_t *rows, int row, int col,
                           apr_int64_t dflt);

/* Decimal text of `v` from `p`, for binding %d/%lld. */
const char *ci_db_i64(apr_pool_t *p, apr_int64_t v);

#endif /* mod_carinfo_ci_db_h */
