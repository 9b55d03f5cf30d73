/* relay_db.c: carinfo-relay's one database connection (see relay_db.h). */
#include <string.h>
#include <apr_file_info.h>
#include <apr_strings.h>

#include "ci_db.h"
#include "ci_log.h"
#include "ci_sql.h"
#include "relay.h"
#include "relay_db.h"
#include "relay_log.h"
#include "relay_sqlite.h"

/* SQLite only: refuse a database file that does not exist, rather than let
 * the driver create an empty one. URIs and ":memory:" are left alone. */
static apr_status_t check_sqlite_file(apr_pool_t *p, const char *params,
                                      const char **err)
{
    apr_finfo_t finfo;
    apr_status_t rv;

    if (!strncmp(params, "file:", 5) || !strcmp(params, ":memory:")) {
        return APR_SUCCESS;
    }
    rv = apr_stat(&finfo, params, APR_FINFO_TYPE, p);
    if (rv == APR_SUCCESS && finfo.filetype != APR_REG) {
        rv = APR_EINVAL;
        *err = apr_psprintf(p, "%s is not a regular file", params);
    }
    else if (rv != APR_SUCCESS) {
        char buf[120];

        *err = apr_psprintf(p, "cannot use the SQLite file %s: %s (create "
                            "it with the migrations first)", params,
                            apr_strerror(rv, buf, sizeof(buf)));
    }
    return rv;
}

/* Logs a failure: at error when the database was fine until now, at debug
 * while it stays down. */
static void note_failure(ci_relay_t *relay, const char *what,
                         const char *text)
{
    char why[400];

    ci_relay_log_oneline(why, sizeof(why), text);
    if (!relay->db_failing) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_ERR, APR_SUCCESS, NULL,
                      CILOGNO(10506) "database unavailable (driver %s, %s): "
                      "%s; retrying when asked", relay->conf->dbdriver,
                      what, why);
        relay->db_failing = 1;
    }
    else {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10507) "database still unavailable (%s): %s",
                      what, why);
    }
}

/* Drops the connection after a failure; the next open waits for
 * CI_RELAY_DB_RETRY. */
static void drop(ci_relay_t *relay)
{
    ci_relay_db_close(relay);
    relay->db_last_open = apr_time_now();
}

/* SQLite: hands the connection's checkpoints to the thread of
 * relay_sqlite.c, started with the first connection. Without the thread,
 * or when the pragma fails, SQLite keeps checkpointing in commits. */
static void no_autocheckpoint(ci_relay_t *relay)
{
    ci_db_rows_t *rows;

    if (strcmp(relay->conf->dbdriver, "sqlite3")) {
        return;
    }
    if (!relay->ckpt) {
        relay->ckpt = ci_relay_ckpt_start(relay->pool, relay->conf->dbparams);
    }
    if (relay->ckpt) {
        ci_db_select(relay->db, relay->db_pool, CI_STMT_WAL_NO_AUTOCHECKPOINT,
                     NULL, &rows);
    }
}

ci_db_t *ci_relay_db_get(ci_relay_t *relay)
{
    const ci_relay_config_t *conf = relay->conf;
    const char *err = NULL;
    apr_time_t now;
    apr_status_t rv;

    if (relay->db) {
        return relay->db;
    }
    now = apr_time_now();
    if (relay->db_last_open
        && now - relay->db_last_open < CI_RELAY_DB_RETRY) {
        return NULL;
    }
    relay->db_last_open = now;
    apr_pool_create(&relay->db_pool, relay->pool);
    apr_pool_tag(relay->db_pool, "relay_db");
    if (!strcmp(conf->dbdriver, "sqlite3")) {
        rv = check_sqlite_file(relay->db_pool, conf->dbparams, &err);
        if (rv != APR_SUCCESS) {
            goto leave;
        }
    }
    rv = ci_db_open(&relay->db, relay->db_pool, conf->dbdriver,
                    conf->dbparams, &err);
    if (rv == APR_SUCCESS) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10508) "database opened (driver %s)",
                      conf->dbdriver);
        no_autocheckpoint(relay);
    }
leave:
    if (rv != APR_SUCCESS) {
        note_failure(relay, "opening", err ? err : "unknown error");
        apr_pool_destroy(relay->db_pool);
        relay->db_pool = NULL;
        relay->db = NULL;
    }
    return relay->db;
}

apr_status_t ci_relay_db_health(ci_relay_t *relay, apr_pool_t *p,
                                apr_int64_t *version)
{
    ci_stmt_id_t id = CI_STMT_PING;
    ci_db_rows_t *rows = NULL;
    ci_db_t *db;
    apr_status_t rv;

    db = ci_relay_db_get(relay);
    if (!db) {
        return CI_DB_EUNAVAIL;
    }
    rv = ci_db_select(db, p, id, NULL, &rows);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    id = CI_STMT_SCHEMA_VERSION;
    rv = ci_db_select(db, p, id, NULL, &rows);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    *version = ci_db_cell_i64(rows, 0, 0, 0);
    if (relay->db_failing) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_NOTICE, APR_SUCCESS, NULL,
                      CILOGNO(10509) "database available again (driver %s, "
                      "schema version %" APR_INT64_T_FMT ")",
                      relay->conf->dbdriver, *version);
        relay->db_failing = 0;
    }
leave:
    if (rv != APR_SUCCESS) {
        note_failure(relay, apr_pstrcat(p, "statement ", ci_sql_name(id),
                                        NULL), ci_db_error(db));
        drop(relay);
    }
    return rv;
}

void ci_relay_db_failed(ci_relay_t *relay, const char *what,
                        apr_status_t rv)
{
    char buf[120];
    const char *text;

    if (rv == CI_DB_ECONSTRAINT) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10519) "statement %s: constraint violation",
                      what);
        return;
    }
    text = relay->db ? ci_db_error(relay->db)
                     : apr_strerror(rv, buf, sizeof(buf));
    note_failure(relay, what, text && *text ? text : "unknown error");
    drop(relay);
}

void ci_relay_db_ok(ci_relay_t *relay)
{
    if (relay->db_failing) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_NOTICE, APR_SUCCESS, NULL,
                      CILOGNO(10520) "database available again (driver %s)",
                      relay->conf->dbdriver);
        relay->db_failing = 0;
    }
}

void ci_relay_db_close(ci_relay_t *relay)
{
    if (relay->db_pool) {
        ci_db_close(relay->db);
        apr_pool_destroy(relay->db_pool);
    }
    relay->db_pool = NULL;
    relay->db = NULL;
}
