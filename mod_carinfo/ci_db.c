/* ci_db.c: see ci_db.h. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <sqlite3.h>

#include "ci_db.h"
#include "ci_log.h"

#define CI_DB_USERDATA "carinfo.ci_db"

struct ci_db_t {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_pool_t *pool;               /* the connection's pool */
    ci_dialect_t dialect;
    int owned;                      /* opened by ci_db_open */
    int txn;                        /* a transaction is open */
    int txn_retryable;              /* a txn statement failed, retry it all */
    apr_status_t txn_error;         /* first statement failure in the txn */
    apr_dbd_prepared_t *stmt[CI_STMT__COUNT];
    unsigned gen[CI_STMT__COUNT];   /* bumped at each re-prepare */
    /* SQLite: the driver's connection, run directly (see ci_db.h) */
    sqlite3 *lite;
    sqlite3_stmt *lstmt[CI_STMT__COUNT];
    char errbuf[256];
};

static void set_error(ci_db_t *db, int rc)
{
    const char *msg = db->lite ? sqlite3_errmsg(db->lite)
                               : apr_dbd_error(db->driver, db->handle, rc);

    apr_cpystrn(db->errbuf, msg ? msg : "unknown database error",
                sizeof(db->errbuf));
}

/* Constraint violations are the caller's to handle, never retried. */
static int is_constraint(const char *msg)
{
    return strstr(msg, "constraint") != NULL
        || strstr(msg, "duplicate key") != NULL;
}

/* Finalizes the SQLite statements (before the driver closes the
 * connection: sqlite3_close refuses a connection with live statements). */
static void lite_forget_all(ci_db_t *db)
{
    int i;

    for (i = 0; i < CI_STMT__COUNT; i++) {
        if (db->lstmt[i]) {
            sqlite3_finalize(db->lstmt[i]);
            db->lstmt[i] = NULL;
        }
    }
}

static apr_status_t lite_cleanup(void *data)
{
    lite_forget_all(data);
    return APR_SUCCESS;
}

ci_db_t *ci_db_attach(apr_pool_t *conn_pool, const apr_dbd_driver_t *driver,
                      apr_dbd_t *handle)
{
    void *data = NULL;
    ci_db_t *db;

    apr_pool_userdata_get(&data, CI_DB_USERDATA, conn_pool);
    if (data) {
        db = data;
        if (db->handle == handle) {
            return db;
        }
        lite_forget_all(db);        /* its handle is being replaced */
    }
    db = apr_pcalloc(conn_pool, sizeof(*db));
    db->driver = driver;
    db->handle = handle;
    db->pool = conn_pool;
    db->dialect = strcmp(apr_dbd_name(driver), "pgsql") ? CI_DIALECT_SQLITE
                                                         : CI_DIALECT_PGSQL;
    apr_pool_userdata_set(db, CI_DB_USERDATA, apr_pool_cleanup_null,
                          conn_pool);
    /* Registered after the driver's close, so it runs before it. */
    if (db->dialect == CI_DIALECT_SQLITE && sqlite3_threadsafe()) {
        db->lite = apr_dbd_native_handle(driver, handle);
        apr_pool_cleanup_register(conn_pool, db, lite_cleanup,
                                  apr_pool_cleanup_null);
    }
    return db;
}

static apr_status_t close_cleanup(void *data)
{
    ci_db_t *db = data;

    lite_forget_all(db);
    if (db->handle) {
        apr_dbd_close(db->driver, db->handle);
        db->handle = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t ci_db_open(ci_db_t **pdb, apr_pool_t *p, const char *driver,
                        const char *params, const char **err)
{
    const apr_dbd_driver_t *drv = NULL;
    apr_dbd_t *handle = NULL;
    const char *derr = NULL;
    apr_status_t rv;
    ci_db_t *db;
    int n;

    *pdb = NULL;
    if (strcmp(driver, "sqlite3") && strcmp(driver, "pgsql")) {
        *err = apr_psprintf(p, "unsupported driver '%s' (sqlite3 or pgsql)",
                            driver);
        return APR_ENOTIMPL;
    }
    rv = apr_dbd_init(p);
    if (rv != APR_SUCCESS) {
        *err = "apr_dbd_init failed";
        goto leave;
    }
    rv = apr_dbd_get_driver(p, driver, &drv);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot load the apr_dbd driver '%s' (is "
                            "libaprutil1-dbd-%s installed?)", driver,
                            strcmp(driver, "pgsql") ? "sqlite3" : "pgsql");
        goto leave;
    }
    rv = apr_dbd_open_ex(drv, p, params, &handle, &derr);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot open the %s database: %s", driver,
                            derr ? derr : "unknown error");
        goto leave;
    }
    db = ci_db_attach(p, drv, handle);
    db->owned = 1;
    apr_pool_cleanup_register(p, db, close_cleanup, apr_pool_cleanup_null);
    if (db->dialect == CI_DIALECT_SQLITE) {
        /* busy_timeout returns a row, which the driver calls a failure:
         * run it apart and check that the last pragma succeeds. */
        apr_dbd_query(drv, handle, &n, "PRAGMA busy_timeout=5000");
        if (apr_dbd_query(drv, handle, &n, "PRAGMA synchronous=NORMAL; "
                          "PRAGMA foreign_keys=ON")) {
            *err = apr_psprintf(p, "cannot set up the SQLite connection: %s",
                                apr_dbd_error(drv, handle, 1));
            apr_pool_cleanup_run(p, db, close_cleanup);
            rv = APR_EGENERAL;
            goto leave;
        }
    }
    *pdb = db;
leave:
    return rv;
}

void ci_db_close(ci_db_t *db)
{
    if (db && db->owned) {
        apr_pool_cleanup_run(db->pool, db, close_cleanup);
    }
}

ci_dialect_t ci_db_dialect(const ci_db_t *db)
{
    return db->dialect;
}

const char *ci_db_error(const ci_db_t *db)
{
    return db->errbuf;
}

/* Prepares statement `id` on the SQLite connection, in SQLite's
 * placeholders (ci_sql_qmarks). */
static apr_status_t lite_prepare(ci_db_t *db, ci_stmt_id_t id)
{
    const char *s = ci_sql_text(id, CI_DIALECT_SQLITE);
    char *sql = malloc(strlen(s) + 1);
    int rc;

    if (!sql) {
        apr_cpystrn(db->errbuf, "out of memory", sizeof(db->errbuf));
        return CI_DB_EQUERY;
    }
    ci_sql_qmarks(s, sql);
    rc = sqlite3_prepare_v3(db->lite, sql, -1, SQLITE_PREPARE_PERSISTENT,
                            &db->lstmt[id], NULL);
    free(sql);
    if (rc != SQLITE_OK) {
        set_error(db, rc);
        sqlite3_finalize(db->lstmt[id]);
        db->lstmt[id] = NULL;
        return CI_DB_EQUERY;
    }
    return APR_SUCCESS;
}

static apr_status_t prepare(ci_db_t *db, ci_stmt_id_t id)
{
    const char *label = NULL;
    int rc;

    if (db->lite) {
        return db->lstmt[id] ? APR_SUCCESS : lite_prepare(db, id);
    }
    if (db->stmt[id]) {
        return APR_SUCCESS;
    }
    /* Named statements on PostgreSQL (server-side plans); the generation in
     * the name keeps a re-prepare from colliding with a stale one. */
    if (db->dialect == CI_DIALECT_PGSQL) {
        label = apr_psprintf(db->pool, "ci_%d_%u", (int)id, db->gen[id]);
    }
    rc = apr_dbd_prepare(db->driver, db->pool, db->handle,
                         ci_sql_text(id, db->dialect), label, &db->stmt[id]);
    if (rc) {
        set_error(db, rc);
        db->stmt[id] = NULL;
        return CI_DB_EQUERY;
    }
    return APR_SUCCESS;
}

static apr_status_t read_rows(ci_db_t *db, apr_pool_t *p,
                              apr_dbd_results_t *res, ci_db_rows_t **prows)
{
    apr_array_header_t *cells;
    apr_dbd_row_t *row = NULL;
    ci_db_rows_t *rows = apr_pcalloc(p, sizeof(*rows));
    int rc, c;

    rows->ncols = apr_dbd_num_cols(db->driver, res);
    cells = apr_array_make(p, 16, sizeof(const char *));
    /* Always drain: a result left half-read keeps the statement busy. */
    while ((rc = apr_dbd_get_row(db->driver, p, res, &row, -1)) == 0) {
        for (c = 0; c < rows->ncols; c++) {
            /* get_entry gives "" for NULL on PostgreSQL; datum_get says
             * APR_ENOENT for NULL on both drivers. */
            char *v = NULL;
            if (apr_dbd_datum_get(db->driver, row, c, APR_DBD_TYPE_STRING,
                                  &v) != APR_SUCCESS) {
                v = NULL;
            }
            *(const char **)apr_array_push(cells) = v ? apr_pstrdup(p, v)
                                                      : NULL;
        }
        rows->nrows++;
    }
    rows->cells = (const char **)cells->elts;
    *prows = rows;
    return APR_SUCCESS;
}

void ci_db_forget_all(ci_db_t *db)
{
    int i;

    lite_forget_all(db);
    for (i = 0; i < CI_STMT__COUNT; i++) {
        if (db->stmt[i]) {
            db->stmt[i] = NULL;
            db->gen[i]++;
        }
    }
}

/* One attempt of a statement on SQLite, every row read into *prows
 * (when not NULL); 0 or SQLite's code (the error is in db->errbuf). Like
 * apr_dbd's driver, arguments are bound as text (column affinity makes
 * numbers of them) and every cell is read as text. */
static int lite_run_once(ci_db_t *db, apr_pool_t *p, ci_stmt_id_t id,
                         const char *const *args, ci_db_rows_t **prows,
                         int *affected)
{
    int nargs = ci_sql_nargs(id), rc, i, c;
    apr_array_header_t *cells = NULL;
    ci_db_rows_t *rows = NULL;
    sqlite3_stmt *st;

    if (prepare(db, id) != APR_SUCCESS) {
        return -1;
    }
    st = db->lstmt[id];
    for (i = 0; i < nargs; i++) {
        rc = args[i] ? sqlite3_bind_text(st, i + 1, args[i], -1,
                                         SQLITE_STATIC)
                     : sqlite3_bind_null(st, i + 1);
        if (rc != SQLITE_OK) {
            goto leave;
        }
    }
    if (prows) {
        rows = apr_pcalloc(p, sizeof(*rows));
        rows->ncols = sqlite3_column_count(st);
        cells = apr_array_make(p, 16, sizeof(const char *));
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (c = 0; rows && c < rows->ncols; c++) {
            const char *v = (const char *)sqlite3_column_text(st, c);

            /* up to a NUL, as apr_dbd's copies were */
            *(const char **)apr_array_push(cells) = v ? apr_pstrdup(p, v)
                                                      : NULL;
        }
        if (rows) {
            rows->nrows++;
        }
    }
    if (rc == SQLITE_DONE) {
        rc = 0;
        if (rows) {
            rows->cells = (const char **)cells->elts;
            *prows = rows;
        }
        if (affected) {
            *affected = sqlite3_changes(db->lite);
        }
    }
leave:
    if (rc) {
        set_error(db, rc);
    }
    sqlite3_reset(st);              /* every run binds every argument */
    return rc;
}

/* One attempt of a statement; rc is the driver's. */
static int run_once(ci_db_t *db, apr_pool_t *p, ci_stmt_id_t id,
                    const char *const *args, apr_dbd_results_t **res,
                    int *affected)
{
    int nargs = ci_sql_nargs(id);

    if (prepare(db, id) != APR_SUCCESS) {
        return -1;
    }
    if (res) {
        return apr_dbd_pselect(db->driver, p, db->handle, res, db->stmt[id],
                               1, nargs, (const char **)args);
    }
    return apr_dbd_pquery(db->driver, p, db->handle, affected, db->stmt[id],
                          nargs, (const char **)args);
}

/* After a failure other than a constraint: is the connection usable again?
 * The statement is dropped so the next attempt prepares it afresh. */
static apr_status_t recover(ci_db_t *db, ci_stmt_id_t id)
{
    /* One stale statement means a schema change or a new server session:
     * the others are stale too (on SQLite a few prepared statements leak
     * until the connection closes; bounded by the number of changes). */
    (void)id;
    ci_db_forget_all(db);
    if (apr_dbd_check_conn(db->driver, db->pool, db->handle) != APR_SUCCESS) {
        return CI_DB_EUNAVAIL;
    }
    return APR_SUCCESS;
}

static apr_status_t run(ci_db_t *db, apr_pool_t *p, ci_stmt_id_t id,
                        const char *const *args, ci_db_rows_t **rows,
                        int *affected)
{
    apr_dbd_results_t *res = NULL;
    int attempt, rc, n = 0;
    apr_status_t rv = CI_DB_EQUERY;

    for (attempt = 0; attempt < 2; attempt++) {
        res = NULL;
        rc = db->lite ? lite_run_once(db, p, id, args, rows, &n)
                      : run_once(db, p, id, args, rows ? &res : NULL, &n);
        if (rc == 0) {
            if (affected) {
                *affected = n;
            }
            return rows && !db->lite ? read_rows(db, p, res, rows)
                                     : APR_SUCCESS;
        }
        if (rc != -1 && !db->lite) {
            set_error(db, rc);
        }
        if (is_constraint(db->errbuf)) {
            if (db->txn && !db->txn_error) {
                db->txn_error = CI_DB_ECONSTRAINT;
            }
            return CI_DB_ECONSTRAINT;
        }
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, p,
                      "statement %s failed (attempt %d): %s", ci_sql_name(id),
                      attempt + 1, db->errbuf);
        rv = recover(db, id);
        if (db->txn) {
            db->txn_retryable = 1;
            rv = rv == APR_SUCCESS ? CI_DB_EQUERY : rv;
            if (!db->txn_error) {
                db->txn_error = rv;
            }
            return rv;
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        rv = CI_DB_EQUERY;
    }
    return rv;
}

apr_status_t ci_db_select(ci_db_t *db, apr_pool_t *p, ci_stmt_id_t id,
                          const char *const *args, ci_db_rows_t **rows)
{
    return run(db, p, id, args, rows, NULL);
}

apr_status_t ci_db_exec(ci_db_t *db, apr_pool_t *p, ci_stmt_id_t id,
                        const char *const *args, int *affected)
{
    return run(db, p, id, args, NULL, affected);
}

/* BEGIN, COMMIT or ROLLBACK as plain SQL; 0 or the driver's code.
 * Not apr_dbd_transaction_start/end: apr-util 1.6's PostgreSQL driver
 * dereferences a NULL transaction when BEGIN fails (a server that went
 * away), which crashes the process; the SQL is the same (SQLite's
 * driver sends BEGIN IMMEDIATE too). */
static int txn_sql(ci_db_t *db, const char *sql)
{
    int n = 0, rc = db->lite ? sqlite3_exec(db->lite, sql, NULL, NULL, NULL)
                             : apr_dbd_query(db->driver, db->handle, &n, sql);

    if (rc) {
        set_error(db, rc);
    }
    return rc;
}

apr_status_t ci_db_txn(ci_db_t *db, apr_pool_t *p, ci_db_txn_fn *fn,
                       void *baton)
{
    const char *begin = db->dialect == CI_DIALECT_SQLITE ? "BEGIN IMMEDIATE"
                                                         : "BEGIN";
    apr_status_t rv = APR_SUCCESS;
    int attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        db->txn_retryable = 0;
        db->txn_error = APR_SUCCESS;
        if (txn_sql(db, begin)) {
            if (apr_dbd_check_conn(db->driver, db->pool, db->handle)) {
                return CI_DB_EUNAVAIL;
            }
            rv = CI_DB_EQUERY;
            continue;
        }
        db->txn = 1;
        rv = fn(db, p, baton);
        if (rv == APR_SUCCESS && db->txn_error) {
            /* fn ignored a failed statement, but the database will roll
             * the whole transaction back: say so instead of "committed". */
            rv = db->txn_error;
        }
        db->txn = 0;
        if (rv != APR_SUCCESS) {
            txn_sql(db, "ROLLBACK");
        }
        else if (txn_sql(db, "COMMIT")) {
            rv = is_constraint(db->errbuf) ? CI_DB_ECONSTRAINT : CI_DB_EQUERY;
            db->txn_retryable = rv == CI_DB_EQUERY;
            if (db->dialect == CI_DIALECT_SQLITE) {
                char why[sizeof(db->errbuf)];

                /* SQLite can keep a failed COMMIT's transaction open */
                memcpy(why, db->errbuf, sizeof(why));
                txn_sql(db, "ROLLBACK");
                memcpy(db->errbuf, why, sizeof(why));
            }
        }
        if (rv == APR_SUCCESS || !db->txn_retryable) {
            return rv;
        }
        if (apr_dbd_check_conn(db->driver, db->pool, db->handle)) {
            return CI_DB_EUNAVAIL;
        }
    }
    return rv;
}

apr_status_t ci_db_exec_raw(ci_db_t *db, const char *sql)
{
    int n = 0, rc, attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        rc = apr_dbd_query(db->driver, db->handle, &n, sql);
        if (rc == 0) {
            return APR_SUCCESS;
        }
        set_error(db, rc);
        if (is_constraint(db->errbuf)) {
            return CI_DB_ECONSTRAINT;
        }
        /* A schema change by another connection (SQLite reports it once
         * per connection), or a lost server: retry once outside a txn. */
        if (db->txn || attempt
            || apr_dbd_check_conn(db->driver, db->pool, db->handle)) {
            break;
        }
        ci_db_forget_all(db);
    }
    return CI_DB_EQUERY;
}

apr_status_t ci_db_prepare_all(ci_db_t *db, ci_stmt_id_t *failed)
{
    int i;

    for (i = 0; i < CI_STMT__COUNT; i++) {
        if (prepare(db, (ci_stmt_id_t)i) != APR_SUCCESS) {
            *failed = (ci_stmt_id_t)i;
            return CI_DB_EQUERY;
        }
    }
    return APR_SUCCESS;
}

const char *ci_db_cell(const ci_db_rows_t *rows, int row, int col)
{
    if (!rows || row < 0 || col < 0 || row >= rows->nrows
        || col >= rows->ncols) {
        return NULL;
    }
    return rows->cells[row * rows->ncols + col];
}

apr_int64_t ci_db_cell_i64(const ci_db_rows_t *rows, int row, int col,
                           apr_int64_t dflt)
{
    const char *v = ci_db_cell(rows, row, col);

    return v ? apr_atoi64(v) : dflt;
}

const char *ci_db_i64(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}
