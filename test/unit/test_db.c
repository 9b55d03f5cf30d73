/* test_db.c: ci_db (statement cache, retry, transactions) and ci_sql.
 *
 * The database tests run in TCase "sqlite" on a temporary file, and again
 * in TCase "pgsql" when CARINFO_TEST_PGPARAMS holds a libpq conninfo
 * (e.g. "host=/tmp/pg dbname=postgres"). On PostgreSQL every test works in
 * a schema of its own, ci_unit_<run>_<test>, selected with
 * options=-csearch_path on each connection and dropped afterwards (and at
 * the end of the tcase, all of this run's, for tests that failed in fork
 * mode, where the teardown does not run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "unit.h"
#include "ci_chat.h"
#include "ci_db.h"
#include "ci_migrate.h"
#include "ci_sql.h"
#include "ci_util.h"

#define PG_ENV "CARINFO_TEST_PGPARAMS"
#define MAX_CONNS 8

/* Per test: how to open connections, and the ones opened. */
static const char *driver;
static const char *params;
static const char *tmp;
static const char *pg_schema;
static ci_db_t *conns[MAX_CONNS];
static int nconns;
static char pg_run[13];         /* hex id of this run, set in the parent */

static void sqlite_setup(void)
{
    tmp = ut_tmpdir(ut_pool);
    driver = "sqlite3";
    params = apr_pstrcat(ut_pool, tmp, "/carinfo.db", NULL);
    nconns = 0;
}

static void pgsql_setup(void)
{
    const char *base = getenv(PG_ENV);
    ci_db_t *admin = NULL;
    const char *err = NULL;

    tmp = ut_tmpdir(ut_pool);
    driver = "pgsql";
    nconns = 0;
    pg_schema = apr_pstrcat(ut_pool, "ci_unit_", pg_run, "_",
                            ci_random_hex(ut_pool, 6), NULL);
    params = apr_psprintf(ut_pool, "%s options=-csearch_path=%s", base,
                          pg_schema);
    ck_assert_msg(ci_db_open(&admin, ut_pool, driver, base, &err)
                  == APR_SUCCESS, "cannot connect to %s: %s", base, err);
    ck_assert_int_eq(ci_db_exec_raw(admin, apr_pstrcat(ut_pool,
                     "CREATE SCHEMA ", pg_schema, NULL)), APR_SUCCESS);
    ci_db_close(admin);
}

static void db_teardown(void)
{
    int i;

    for (i = nconns - 1; i >= 0; i--) {
        ci_db_close(conns[i]);
    }
    nconns = 0;
    if (pg_schema) {
        ci_db_t *admin = NULL;
        const char *err = NULL;
        if (ci_db_open(&admin, ut_pool, "pgsql", getenv(PG_ENV), &err)
            == APR_SUCCESS) {
            ci_db_exec_raw(admin, apr_pstrcat(ut_pool, "DROP SCHEMA ",
                                              pg_schema, " CASCADE", NULL));
            ci_db_close(admin);
        }
        pg_schema = NULL;
    }
    driver = params = tmp = NULL;
}

/* Unchecked fixture of the pgsql tcase (runs in the parent). */
static void pgsql_run_setup(void)
{
    unsigned char b[6];
    int i;

    ck_assert_int_eq(apr_generate_random_bytes(b, sizeof(b)), APR_SUCCESS);
    for (i = 0; i < 6; i++) {
        apr_snprintf(pg_run + 2 * i, 3, "%02x", b[i]);
    }
}

static void pgsql_run_teardown(void)
{
    apr_pool_t *p;
    ci_db_t *admin = NULL;
    const char *err = NULL;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return;
    }
    if (ci_db_open(&admin, p, "pgsql", getenv(PG_ENV), &err) == APR_SUCCESS) {
        ci_db_exec_raw(admin, apr_psprintf(p,
            "DO $$DECLARE s text; BEGIN FOR s IN SELECT nspname FROM "
            "pg_namespace WHERE left(nspname, %d) = 'ci_unit_%s_' LOOP "
            "EXECUTE 'DROP SCHEMA ' || quote_ident(s) || ' CASCADE'; "
            "END LOOP; END$$", (int)strlen(pg_run) + 9, pg_run));
    }
    apr_pool_destroy(p);
}

static int is_pg(void)
{
    return !strcmp(driver, "pgsql");
}

/* A new connection of the current tcase's kind. */
static ci_db_t *open_conn(void)
{
    ci_db_t *db = NULL;
    const char *err = NULL;
    apr_status_t rv = ci_db_open(&db, ut_pool, driver, params, &err);

    ck_assert_msg(rv == APR_SUCCESS, "ci_db_open(%s): %s", driver,
                  err ? err : "-");
    ck_assert_int_eq(ci_db_dialect(db),
                     is_pg() ? CI_DIALECT_PGSQL : CI_DIALECT_SQLITE);
    ck_assert_int_lt(nconns, MAX_CONNS);
    conns[nconns++] = db;
    return db;
}

static void migrate_with(ci_db_t *db, const char *dir)
{
    int from = -1, to = -1;
    const char *err = NULL;
    apr_status_t rv = ci_migrate_run(db, ut_pool, dir, &from, &to, &err);

    ck_assert_msg(rv == APR_SUCCESS, "migrate: %s", err ? err : "-");
}

/* A new connection on a migrated database. */
static ci_db_t *open_migrated(void)
{
    ci_db_t *db = open_conn();

    migrate_with(db, ut_sql_dir());
    return db;
}

static ci_db_rows_t *select_ok(ci_db_t *db, ci_stmt_id_t id,
                               const char *const *args)
{
    ci_db_rows_t *rows = NULL;
    apr_status_t rv = ci_db_select(db, ut_pool, id, args, &rows);

    ck_assert_msg(rv == APR_SUCCESS, "%s: rv %d: %s", ci_sql_name(id), rv,
                  ci_db_error(db));
    ck_assert_ptr_nonnull(rows);
    return rows;
}

static void exec_ok(ci_db_t *db, ci_stmt_id_t id, const char *const *args)
{
    int affected = -1;
    apr_status_t rv = ci_db_exec(db, ut_pool, id, args, &affected);

    ck_assert_msg(rv == APR_SUCCESS, "%s: rv %d: %s", ci_sql_name(id), rv,
                  ci_db_error(db));
    ck_assert_int_eq(affected, 1);
}

static const char *now_s(void)
{
    return ci_db_i64(ut_pool, ci_now_usec());
}

/* Inserts a free user; returns its id as text. */
static const char *add_user(ci_db_t *db, const char *uuid)
{
    ci_db_rows_t *rows = select_ok(db, CI_STMT_QR_INSERT_FREE,
                                   CI_ARGS(uuid, now_s(), now_s()));

    ck_assert_int_eq(rows->nrows, 1);
    ck_assert_int_eq(rows->ncols, 1);
    ck_assert_int_gt(ci_db_cell_i64(rows, 0, 0, 0), 0);
    return ci_db_cell(rows, 0, 0);
}

/* Asserts that a cell is SQL NULL (and shows what it is otherwise). */
#define ck_assert_cell_null(rows, r, c) do { \
    const char *v_ = ci_db_cell(rows, r, c); \
    ck_assert_msg(v_ == NULL, "cell (%d,%d) should be NULL, is \"%s\"", \
                  r, c, v_ ? v_ : ""); \
} while (0)

static const char *count_free(ci_db_t *db)
{
    return ci_db_cell(select_ok(db, CI_STMT_QR_COUNT_FREE, NULL), 0, 0);
}

/* ---- preparing ------------------------------------------------------- */

START_TEST(prepare_all_on_migrated_schema)
{
    ci_db_t *db = open_migrated();
    ci_stmt_id_t failed = CI_STMT__COUNT;
    apr_status_t rv = ci_db_prepare_all(db, &failed);

    ck_assert_msg(rv == APR_SUCCESS, "%s does not prepare: %s",
                  failed < CI_STMT__COUNT ? ci_sql_name(failed) : "?",
                  ci_db_error(db));
    /* Twice: from the cache. */
    ck_assert_int_eq(ci_db_prepare_all(db, &failed), APR_SUCCESS);
}
END_TEST

START_TEST(prepare_all_names_the_failure)
{
    ci_db_t *db = open_conn();              /* never migrated */
    ci_stmt_id_t failed = CI_STMT__COUNT;

    ck_assert_int_eq(ci_db_prepare_all(db, &failed), CI_DB_EQUERY);
    ck_assert_int_eq(failed, CI_STMT_SCHEMA_VERSION);
    ck_assert_msg(strstr(ci_db_error(db), "schema_version") != NULL,
                  "error: %s", ci_db_error(db));
}
END_TEST

START_TEST(persistent_failure_is_retried_once)
{
    ci_db_t *db = open_conn();              /* never migrated */
    ci_db_rows_t *rows = NULL;

    ut_log_capture(CI_LOG_DEBUG);
    ck_assert_int_eq(ci_db_select(db, ut_pool, CI_STMT_QR_COUNT_FREE, NULL,
                                  &rows), CI_DB_EQUERY);
    ck_assert_msg(strstr(ut_log, "QR_COUNT_FREE failed (attempt 1)")
                  && strstr(ut_log, "QR_COUNT_FREE failed (attempt 2)")
                  && !strstr(ut_log, "attempt 3"), "log: %s", ut_log);
    ck_assert_ptr_nonnull(strstr(ci_db_error(db), "qr_codes"));
    /* The connection is fine for what can work. */
    ck_assert_str_eq(ci_db_cell(select_ok(db, CI_STMT_PING, NULL), 0, 0), "1");
}
END_TEST

/* ---- running --------------------------------------------------------- */

START_TEST(select_and_exec_with_args)
{
    ci_db_t *db = open_migrated();
    const char *u1 = ci_uuid4(ut_pool), *u2 = ci_uuid4(ut_pool);
    const char *id1, *id2;
    ci_db_rows_t *rows;
    int affected = -1;

    ck_assert_str_eq(ci_db_cell(select_ok(db, CI_STMT_PING, NULL), 0, 0), "1");
    ck_assert_str_eq(count_free(db), "0");

    id1 = add_user(db, u1);
    id2 = add_user(db, u2);
    ck_assert_int_gt(apr_atoi64(id2), apr_atoi64(id1));
    ck_assert_int_eq(ci_db_exec(db, ut_pool, CI_STMT_QR_INSERT,
                                CI_ARGS("tok-1", id1, now_s()), &affected),
                     APR_SUCCESS);
    ck_assert_int_eq(affected, 1);
    exec_ok(db, CI_STMT_QR_INSERT, CI_ARGS("tok-2", id2, now_s()));
    ck_assert_int_eq(ci_db_exec(db, ut_pool, CI_STMT_QR_INSERT,
                                CI_ARGS("tok-3", id2, now_s()), NULL),
                     APR_SUCCESS);

    rows = select_ok(db, CI_STMT_QR_BY_TOKEN, CI_ARGS("tok-2"));
    ck_assert_int_eq(rows->nrows, 1);
    ck_assert_int_eq(rows->ncols, 3);
    ck_assert_str_eq(ci_db_cell(rows, 0, 0), u2);
    ck_assert_str_eq(ci_db_cell(rows, 0, 1), "0");
    ck_assert_str_eq(ci_db_cell(rows, 0, 2), "0");
    ck_assert_int_eq(ci_db_cell_i64(rows, 0, 1, 99), 0);

    rows = select_ok(db, CI_STMT_QR_BY_TOKEN, CI_ARGS("no-such-token"));
    ck_assert_int_eq(rows->nrows, 0);
    ck_assert_ptr_null(ci_db_cell(rows, 0, 0));

    /* Text is bound as text, never spliced into the SQL. */
    rows = select_ok(db, CI_STMT_QR_BY_TOKEN, CI_ARGS("x' OR '1'='1"));
    ck_assert_int_eq(rows->nrows, 0);

    ck_assert_str_eq(count_free(db), "3");
    rows = select_ok(db, CI_STMT_SCHEMA_VERSION, NULL);
    ck_assert_int_eq(ci_db_cell_i64(rows, 0, 0, -1), ut_sql_latest(ut_pool));
}
END_TEST

START_TEST(many_rows)
{
    ci_db_t *db = open_migrated();
    const char *id = add_user(db, ci_uuid4(ut_pool));
    int i;

    for (i = 0; i < 300; i++) {
        exec_ok(db, CI_STMT_QR_INSERT,
                CI_ARGS(apr_psprintf(ut_pool, "t%03d", i), id, now_s()));
    }
    ck_assert_str_eq(count_free(db), "300");
    ck_assert_int_eq(select_ok(db, CI_STMT_QR_BY_TOKEN,
                               CI_ARGS("t299"))->nrows, 1);
}
END_TEST

START_TEST(null_args_bind_sql_null)
{
    ci_db_t *db = open_migrated();
    const char *id = add_user(db, ci_uuid4(ut_pool));

    /* NOT NULL columns: a NULL argument is SQL NULL, not "" or "NULL". */
    ck_assert_int_eq(ci_db_exec(db, ut_pool, CI_STMT_QR_INSERT,
                                CI_ARGS("tok", id, NULL), NULL),
                     CI_DB_ECONSTRAINT);
    ck_assert_int_eq(ci_db_select(db, ut_pool, CI_STMT_QR_INSERT_FREE,
                                  CI_ARGS(NULL, now_s(), now_s()),
                                  &(ci_db_rows_t *){ NULL }),
                     CI_DB_ECONSTRAINT);
    ck_assert_str_eq(count_free(db), "0");
}
END_TEST

START_TEST(null_cells)
{
    /* A schema of our own, without the NOT NULLs of the real one. */
    ci_db_t *db = open_conn();
    ci_db_rows_t *rows;
    const char *id;

    ck_assert_int_eq(ci_db_exec_raw(db, apr_pstrcat(ut_pool,
        "CREATE TABLE users (id ",
        is_pg() ? "BIGSERIAL" : "INTEGER", " PRIMARY KEY, uuid TEXT, "
        "is_registered INTEGER, is_profile_public INTEGER, "
        "created_at BIGINT, updated_at BIGINT)", NULL)), APR_SUCCESS);
    ck_assert_int_eq(ci_db_exec_raw(db, "CREATE TABLE qr_codes (token TEXT, "
                                    "user_id BIGINT, created_at BIGINT)"),
                     APR_SUCCESS);
    ck_assert_int_eq(ci_db_exec_raw(db,
        "INSERT INTO users (id, uuid, is_registered, is_profile_public, "
        "created_at, updated_at) VALUES (1000, NULL, NULL, 1, 0, 0)"),
        APR_SUCCESS);
    ck_assert_int_eq(ci_db_exec_raw(db, "INSERT INTO qr_codes VALUES "
                                    "('raw', 1000, 0)"), APR_SUCCESS);

    rows = select_ok(db, CI_STMT_QR_BY_TOKEN, CI_ARGS("raw"));
    ck_assert_int_eq(rows->nrows, 1);
    ck_assert_cell_null(rows, 0, 0);
    ck_assert_cell_null(rows, 0, 1);
    ck_assert_str_eq(ci_db_cell(rows, 0, 2), "1");
    ck_assert_int_eq(ci_db_cell_i64(rows, 0, 1, -7), -7);

    /* A bound NULL reads back as NULL, not as "". */
    id = ci_db_cell(select_ok(db, CI_STMT_QR_INSERT_FREE,
                              CI_ARGS(NULL, NULL, NULL)), 0, 0);
    ck_assert_ptr_nonnull(id);
    exec_ok(db, CI_STMT_QR_INSERT, CI_ARGS("bound", id, NULL));
    rows = select_ok(db, CI_STMT_QR_BY_TOKEN, CI_ARGS("bound"));
    ck_assert_int_eq(rows->nrows, 1);
    ck_assert_cell_null(rows, 0, 0);
    ck_assert_str_eq(ci_db_cell(rows, 0, 1), "0");
}
END_TEST

START_TEST(unique_violation_is_econstraint)
{
    ci_db_t *db = open_migrated();
    const char *uuid = ci_uuid4(ut_pool);
    const char *id = add_user(db, uuid);
    ci_db_rows_t *rows = NULL;
    int affected = -1;

    exec_ok(db, CI_STMT_QR_INSERT, CI_ARGS("dup-token", id, now_s()));
    ut_log_capture(CI_LOG_DEBUG);
    ck_assert_int_eq(ci_db_exec(db, ut_pool, CI_STMT_QR_INSERT,
                                CI_ARGS("dup-token", id, now_s()), &affected),
                     CI_DB_ECONSTRAINT);
    ck_assert_msg(strstr(ci_db_error(db), "unique")
                  || strstr(ci_db_error(db), "UNIQUE"), "error: %s",
                  ci_db_error(db));
    ck_assert_int_eq(ci_db_select(db, ut_pool, CI_STMT_QR_INSERT_FREE,
                                  CI_ARGS(uuid, now_s(), now_s()), &rows),
                     CI_DB_ECONSTRAINT);
    /* Constraint violations are the caller's: never retried. */
    ck_assert_msg(ut_log_count == 0, "log: %s", ut_log);

    /* The connection goes on. */
    exec_ok(db, CI_STMT_QR_INSERT, CI_ARGS("other-token", id, now_s()));
    ck_assert_str_eq(count_free(db), "2");
}
END_TEST

START_TEST(cells_out_of_range)
{
    ci_db_t *db = open_migrated();
    ci_db_rows_t *rows = select_ok(db, CI_STMT_PING, NULL);

    ck_assert_int_eq(rows->nrows, 1);
    ck_assert_int_eq(rows->ncols, 1);
    ck_assert_ptr_nonnull(ci_db_cell(rows, 0, 0));
    ck_assert_ptr_null(ci_db_cell(rows, 1, 0));
    ck_assert_ptr_null(ci_db_cell(rows, 0, 1));
    ck_assert_ptr_null(ci_db_cell(rows, -1, 0));
    ck_assert_ptr_null(ci_db_cell(rows, 0, -1));
    ck_assert_ptr_null(ci_db_cell(NULL, 0, 0));
    ck_assert_int_eq(ci_db_cell_i64(rows, 0, 0, 5), 1);
    ck_assert_int_eq(ci_db_cell_i64(rows, 3, 0, 5), 5);
    ck_assert_int_eq(ci_db_cell_i64(NULL, 0, 0, -5), -5);
}
END_TEST

START_TEST(i64_text)
{
    ck_assert_str_eq(ci_db_i64(ut_pool, 0), "0");
    ck_assert_str_eq(ci_db_i64(ut_pool, -42), "-42");
    ck_assert_str_eq(ci_db_i64(ut_pool, APR_INT64_MAX), "9223372036854775807");
    ck_assert_str_eq(ci_db_i64(ut_pool, APR_INT64_MIN), "-9223372036854775808");
}
END_TEST

/* ---- transactions ---------------------------------------------------- */

typedef struct {
    int calls;
    const char *uuid;       /* user to insert */
    const char *token;      /* qr token to insert for it */
    const char *dup_token;  /* then: a token that exists already */
    apr_status_t ret;       /* what fn returns when its statements worked */
    int swallow;            /* ignore the dup_token failure */
} txn_baton_t;

static apr_status_t txn_fn(ci_db_t *db, apr_pool_t *p, void *baton)
{
    txn_baton_t *b = baton;
    ci_db_rows_t *rows = NULL;
    const char *id;
    apr_status_t rv;

    b->calls++;
    rv = ci_db_select(db, p, CI_STMT_QR_INSERT_FREE,
                      CI_ARGS(b->uuid, ci_db_i64(p, 1), ci_db_i64(p, 1)),
                      &rows);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    id = ci_db_cell(rows, 0, 0);
    rv = ci_db_exec(db, p, CI_STMT_QR_INSERT,
                    CI_ARGS(b->token, id, ci_db_i64(p, 1)), NULL);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (b->dup_token) {
        rv = ci_db_exec(db, p, CI_STMT_QR_INSERT,
                        CI_ARGS(b->dup_token, id, ci_db_i64(p, 1)), NULL);
        if (rv != APR_SUCCESS && !b->swallow) {
            return rv;
        }
    }
    return b->ret;
}

static txn_baton_t *baton_for(const char *token)
{
    txn_baton_t *b = apr_pcalloc(ut_pool, sizeof(*b));

    b->uuid = ci_uuid4(ut_pool);
    b->token = token;
    b->ret = APR_SUCCESS;
    return b;
}

static int token_exists(ci_db_t *db, const char *token)
{
    return select_ok(db, CI_STMT_QR_BY_TOKEN, CI_ARGS(token))->nrows;
}

START_TEST(txn_commits)
{
    ci_db_t *a = open_migrated(), *b = open_conn();
    txn_baton_t *t = baton_for("txn-ok");

    ck_assert_int_eq(ci_db_txn(a, ut_pool, txn_fn, t), APR_SUCCESS);
    ck_assert_int_eq(t->calls, 1);
    ck_assert_int_eq(token_exists(a, "txn-ok"), 1);
    ck_assert_int_eq(token_exists(b, "txn-ok"), 1);     /* committed */
    ck_assert_str_eq(count_free(b), "1");
    /* And the connection is out of the transaction. */
    exec_ok(a, CI_STMT_QR_INSERT,
            CI_ARGS("after", add_user(a, ci_uuid4(ut_pool)), now_s()));
    ck_assert_int_eq(token_exists(b, "after"), 1);
}
END_TEST

START_TEST(txn_rolls_back_when_fn_fails)
{
    ci_db_t *a = open_migrated(), *b = open_conn();
    txn_baton_t *t = baton_for("txn-fail");

    t->ret = APR_EGENERAL;
    ck_assert_int_eq(ci_db_txn(a, ut_pool, txn_fn, t), APR_EGENERAL);
    ck_assert_int_eq(t->calls, 1);                      /* not retried */
    ck_assert_int_eq(token_exists(a, "txn-fail"), 0);
    ck_assert_int_eq(token_exists(b, "txn-fail"), 0);
    ck_assert_str_eq(count_free(a), "0");
    /* The next transaction is not affected. */
    t = baton_for("txn-next");
    ck_assert_int_eq(ci_db_txn(a, ut_pool, txn_fn, t), APR_SUCCESS);
    ck_assert_int_eq(token_exists(b, "txn-next"), 1);
}
END_TEST

START_TEST(txn_constraint_rolls_back)
{
    ci_db_t *a = open_migrated();
    txn_baton_t *t = baton_for("txn-1");

    ck_assert_int_eq(ci_db_txn(a, ut_pool, txn_fn, t), APR_SUCCESS);
    t = baton_for("txn-2");
    t->dup_token = "txn-1";
    ck_assert_int_eq(ci_db_txn(a, ut_pool, txn_fn, t), CI_DB_ECONSTRAINT);
    ck_assert_int_eq(t->calls, 1);                      /* not retried */
    ck_assert_int_eq(token_exists(a, "txn-2"), 0);
    ck_assert_str_eq(count_free(a), "1");
}
END_TEST

START_TEST(txn_success_means_committed)
{
    /* fn handles a constraint violation itself and returns success: then
     * ci_db_txn must either commit fn's other writes or say it did not. */
    ci_db_t *a = open_migrated(), *b = open_conn();
    txn_baton_t *t = baton_for("txn-1");
    apr_status_t rv;

    ck_assert_int_eq(ci_db_txn(a, ut_pool, txn_fn, t), APR_SUCCESS);
    t = baton_for("txn-2");
    t->dup_token = "txn-1";
    t->swallow = 1;
    rv = ci_db_txn(a, ut_pool, txn_fn, t);
    ck_assert_msg(rv != APR_SUCCESS || token_exists(b, "txn-2"),
                  "ci_db_txn returned APR_SUCCESS, but txn-2 was not "
                  "committed");
}
END_TEST

/* ---- schema changes under a live statement cache --------------------- */

START_TEST(schema_change_select)
{
    ci_db_t *a = open_migrated(), *b = open_conn();
    const char *id = add_user(a, ci_uuid4(ut_pool));

    exec_ok(a, CI_STMT_QR_INSERT, CI_ARGS("tok", id, now_s()));
    ck_assert_int_eq(token_exists(a, "tok"), 1);        /* prepared on A */
    ck_assert_str_eq(count_free(a), "1");

    ck_assert_int_eq(ci_db_exec_raw(b, "CREATE TABLE x (y INTEGER)"),
                     APR_SUCCESS);

    ut_log_capture(CI_LOG_DEBUG);
    ck_assert_int_eq(token_exists(a, "tok"), 1);
    ck_assert_str_eq(count_free(a), "1");
    if (!is_pg()) {
        /* sqlite3_prepare_v3 statements prepare themselves again. */
        ck_assert_msg(!strstr(ut_log, "failed"), "log: %s", ut_log);
    }
}
END_TEST

START_TEST(schema_change_exec)
{
    ci_db_t *a = open_migrated(), *b = open_conn();
    const char *id = add_user(a, ci_uuid4(ut_pool));

    exec_ok(a, CI_STMT_QR_INSERT, CI_ARGS("tok-1", id, now_s()));
    ck_assert_int_eq(ci_db_exec_raw(b, "ALTER TABLE users ADD COLUMN "
                                    "nickname TEXT"), APR_SUCCESS);
    exec_ok(a, CI_STMT_QR_INSERT, CI_ARGS("tok-2", id, now_s()));
    /* INSERT ... RETURNING on the changed table itself. */
    add_user(a, ci_uuid4(ut_pool));
    ck_assert_str_eq(count_free(a), "2");
    ck_assert_int_eq(token_exists(b, "tok-2"), 1);

    /* Twice in a row, and a drop of what A never used. */
    ck_assert_int_eq(ci_db_exec_raw(b, "CREATE TABLE x1 (y INTEGER)"),
                     APR_SUCCESS);
    ck_assert_int_eq(ci_db_exec_raw(b, "DROP TABLE x1"), APR_SUCCESS);
    exec_ok(a, CI_STMT_QR_INSERT, CI_ARGS("tok-3", id, now_s()));
    ck_assert_str_eq(count_free(a), "3");
}
END_TEST

START_TEST(schema_change_in_txn)
{
    ci_db_t *a = open_migrated(), *b = open_conn();
    txn_baton_t *t = baton_for("txn-1");

    ck_assert_int_eq(ci_db_txn(a, ut_pool, txn_fn, t), APR_SUCCESS);
    ck_assert_int_eq(ci_db_exec_raw(b, "CREATE TABLE x (y INTEGER)"),
                     APR_SUCCESS);

    t = baton_for("txn-2");
    ck_assert_int_eq(ci_db_txn(a, ut_pool, txn_fn, t), APR_SUCCESS);
    if (!is_pg()) {
        ck_assert_int_eq(t->calls, 1);      /* SQLite re-prepares itself */
    }
    /* Committed exactly once. */
    ck_assert_int_eq(token_exists(b, "txn-2"), 1);
    ck_assert_str_eq(count_free(b), "2");

    /* An ALTER of a table the transaction writes. */
    ck_assert_int_eq(ci_db_exec_raw(b, "ALTER TABLE qr_codes ADD COLUMN "
                                    "note TEXT"), APR_SUCCESS);
    t = baton_for("txn-3");
    ck_assert_int_eq(ci_db_txn(a, ut_pool, txn_fn, t), APR_SUCCESS);
    ck_assert_int_eq(token_exists(b, "txn-3"), 1);
    ck_assert_str_eq(count_free(b), "3");
}
END_TEST

START_TEST(migration_under_prepared_statements)
{
    /* carinfoctl migrate while httpd serves: B migrates, A goes on. */
    static const char *const dialects[] = { "sqlite", "pgsql" };
    int next = ut_sql_latest(ut_pool) + 1;
    const char *dir = ut_sql_copy(ut_pool, apr_pstrcat(ut_pool, tmp, "/sql",
                                                       NULL));
    ci_db_t *a = open_migrated(), *b = open_conn();
    ci_stmt_id_t failed;
    ci_db_rows_t *rows;
    const char *id;
    int i;

    for (i = 0; i < 2; i++) {
        ut_write_file(ut_pool, apr_psprintf(ut_pool, "%s/%s/%03d_nick.sql",
                                            dir, dialects[i], next),
                      "ALTER TABLE users ADD COLUMN nickname TEXT;\n"
                      "CREATE INDEX users_nick ON users (nickname);\n");
    }
    ck_assert_int_eq(ci_db_prepare_all(a, &failed), APR_SUCCESS);
    id = add_user(a, ci_uuid4(ut_pool));
    exec_ok(a, CI_STMT_QR_INSERT, CI_ARGS("before", id, now_s()));
    ck_assert_int_eq(token_exists(a, "before"), 1);

    migrate_with(b, dir);

    /* Every statement A had prepared still runs. */
    rows = select_ok(a, CI_STMT_SCHEMA_VERSION, NULL);
    ck_assert_int_eq(ci_db_cell_i64(rows, 0, 0, -1), next);
    id = add_user(a, ci_uuid4(ut_pool));
    exec_ok(a, CI_STMT_QR_INSERT, CI_ARGS("after", id, now_s()));
    ck_assert_int_eq(token_exists(a, "after"), 1);
    ck_assert_str_eq(count_free(a), "2");
    ck_assert_str_eq(ci_db_cell(select_ok(a, CI_STMT_PING, NULL), 0, 0), "1");
}
END_TEST

/* ---- connections ----------------------------------------------------- */

START_TEST(open_errors)
{
    ci_db_t *db = (ci_db_t *)1;
    const char *err = NULL;

    ck_assert_int_eq(ci_db_open(&db, ut_pool, "mysql", "x", &err),
                     APR_ENOTIMPL);
    ck_assert_ptr_null(db);
    ck_assert_msg(err && strstr(err, "mysql"), "err: %s", err);

    db = (ci_db_t *)1;
    err = NULL;
    ck_assert_int_ne(ci_db_open(&db, ut_pool, "sqlite3",
                                "/nonexistent-dir/sub/carinfo.db", &err),
                     APR_SUCCESS);
    ck_assert_ptr_null(db);
    ck_assert_ptr_nonnull(err);
}
END_TEST

START_TEST(open_close)
{
    ci_db_t *db = open_migrated();
    int i;

    ci_db_close(db);
    ci_db_close(db);                        /* twice is harmless */
    nconns = 0;
    /* Many opens and closes on one pool. */
    for (i = 0; i < 20; i++) {
        db = open_conn();
        ck_assert_str_eq(ci_db_cell(select_ok(db, CI_STMT_PING, NULL), 0, 0),
                         "1");
        ci_db_close(db);
        nconns = 0;
    }
    ci_db_close(NULL);
}
END_TEST

/* Closes a handle the way mod_dbd does: a cleanup of its pool,
 * registered before ci_db_attach registers its own. */
static const apr_dbd_driver_t *closing_drv;

static apr_status_t close_handle(void *h)
{
    apr_dbd_close(closing_drv, h);
    return APR_SUCCESS;
}

START_TEST(attach_caches_per_handle)
{
    const apr_dbd_driver_t *drv = NULL;
    apr_dbd_t *h1 = NULL, *h2 = NULL;
    apr_pool_t *conn_pool;
    ci_db_t *d1, *d2;
    const char *err = NULL;

    open_migrated();                            /* creates the file */
    ck_assert_int_eq(apr_pool_create(&conn_pool, ut_pool), APR_SUCCESS);
    ck_assert_int_eq(apr_dbd_get_driver(conn_pool, driver, &drv),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_dbd_open_ex(drv, conn_pool, params, &h1, &err),
                     APR_SUCCESS);
    d1 = ci_db_attach(conn_pool, drv, h1);
    ck_assert_ptr_eq(ci_db_attach(conn_pool, drv, h1), d1);
    ck_assert_int_eq(ci_db_dialect(d1),
                     is_pg() ? CI_DIALECT_PGSQL : CI_DIALECT_SQLITE);
    ck_assert_int_eq(ci_db_cell_i64(select_ok(d1, CI_STMT_SCHEMA_VERSION,
                                              NULL), 0, 0, -1),
                     ut_sql_latest(ut_pool));
    ci_db_close(d1);                            /* not ours: no-op */
    ck_assert_str_eq(ci_db_cell(select_ok(d1, CI_STMT_PING, NULL), 0, 0), "1");

    /* mod_dbd reconnected: a new handle in the same pool, a new cache. */
    ck_assert_int_eq(apr_dbd_open_ex(drv, conn_pool, params, &h2, &err),
                     APR_SUCCESS);
    closing_drv = drv;
    apr_pool_cleanup_register(conn_pool, h2, close_handle,
                              apr_pool_cleanup_null);
    d2 = ci_db_attach(conn_pool, drv, h2);
    ck_assert_ptr_ne(d2, d1);
    ck_assert_str_eq(ci_db_cell(select_ok(d2, CI_STMT_PING, NULL), 0, 0), "1");
    apr_dbd_close(drv, h1);         /* d1's statements went with the attach */
    apr_pool_destroy(conn_pool);    /* d2's statements, then h2 */
}
END_TEST

/* ---- ci_sql ---------------------------------------------------------- */

/* Placeholders of an apr_dbd format string, counted independently. */
static int count_placeholders(const char *s)
{
    int n = 0;

    for (; *s; s++) {
        if (s[0] != '%') {
            continue;
        }
        if (s[1] == '%') {
            s++;
        }
        else if (!strncmp(s + 1, "lld", 3) || !strncmp(s + 1, "s", 1)
                 || !strncmp(s + 1, "d", 1)) {
            n++;
        }
        else {
            ck_abort_msg("unexpected placeholder in %s", s);
        }
    }
    return n;
}

START_TEST(sql_nargs)
{
    ck_assert_int_eq(ci_sql_nargs(CI_STMT_PING), 0);
    ck_assert_int_eq(ci_sql_nargs(CI_STMT_SCHEMA_VERSION), 0);
    ck_assert_int_eq(ci_sql_nargs(CI_STMT_SCHEMA_VERSION_ADD), 3);
    ck_assert_int_eq(ci_sql_nargs(CI_STMT_QR_INSERT_FREE), 3);
    ck_assert_int_eq(ci_sql_nargs(CI_STMT_QR_INSERT), 3);
    ck_assert_int_eq(ci_sql_nargs(CI_STMT_QR_BY_TOKEN), 1);
    ck_assert_int_eq(ci_sql_nargs(CI_STMT_QR_COUNT_FREE), 0);
}
END_TEST

START_TEST(sql_table_consistent)
{
    int i, j;

    for (i = 0; i < CI_STMT__COUNT; i++) {
        const char *lite = ci_sql_text((ci_stmt_id_t)i, CI_DIALECT_SQLITE);
        const char *pg = ci_sql_text((ci_stmt_id_t)i, CI_DIALECT_PGSQL);
        const char *name = ci_sql_name((ci_stmt_id_t)i);

        ck_assert_ptr_nonnull(name);
        ck_assert_ptr_nonnull(lite);
        ck_assert_ptr_nonnull(pg);
        ck_assert_msg(count_placeholders(lite) == ci_sql_nargs((ci_stmt_id_t)i),
                      "%s: nargs %d", name, ci_sql_nargs((ci_stmt_id_t)i));
        ck_assert_msg(count_placeholders(pg) == ci_sql_nargs((ci_stmt_id_t)i),
                      "%s: the PostgreSQL text takes other arguments", name);
        for (j = 0; j < i; j++) {
            ck_assert_str_ne(ci_sql_name((ci_stmt_id_t)j), name);
        }
    }
    ck_assert_str_eq(ci_sql_name(CI_STMT_PING), "PING");
    ck_assert_str_eq(ci_sql_text(CI_STMT_PING, CI_DIALECT_PGSQL), "SELECT 1");
}
END_TEST

/* ---- posting messages in batches (ci_chat_post_many) ------------------ */

/* A new visitor room of `owner` (a user id as text). */
static ci_room_t *new_room(ci_db_t *db, const char *owner)
{
    const char *uuid = NULL, *token = NULL;
    apr_int64_t owner_id = 0;
    ci_room_t *room = NULL;

    ck_assert_int_eq(ci_parse_int64(owner, &owner_id), 0);
    ck_assert_int_eq(ci_chat_start(db, ut_pool, owner_id, "guest", &uuid,
                                   &token), APR_SUCCESS);
    ck_assert_int_eq(ci_chat_room(db, ut_pool, uuid, &room), APR_SUCCESS);
    ck_assert_ptr_nonnull(room);
    return room;
}

/* The owner's unread count of `room`, as the inbox lists it. */
static apr_int64_t unread_of(ci_db_t *db, const ci_room_t *room)
{
    apr_array_header_t *rooms;
    int i;

    ck_assert_int_eq(ci_chat_owner_rooms(db, ut_pool, room->owner_id, 100, 0,
                                         &rooms), APR_SUCCESS);
    for (i = 0; i < rooms->nelts; i++) {
        const ci_inbox_room_t *ir = APR_ARRAY_IDX(rooms, i,
                                                  ci_inbox_room_t *);

        if (ir->room.id == room->id) {
            return ir->unread;
        }
    }
    ck_abort_msg("room %s is not in its owner's inbox", room->uuid);
    return -1;
}

static void add_post(ci_chat_post_t *po, const ci_room_t *room,
                     const char *sender_type, const char *text)
{
    memset(po, 0, sizeof(*po));
    po->room_id = room->id;
    po->room_uuid = room->uuid;
    po->sender_type = sender_type;
    po->sender_id = strcmp(sender_type, "visitor") ? room->owner_id : 0;
    po->sender_name = "someone";
    po->content = text;
}

START_TEST(post_many_batch)
{
    ci_db_t *db = open_migrated(), *other = open_conn();
    const char *owner = add_user(db, ci_uuid4(ut_pool));
    ci_room_t *a = new_room(db, owner), *closed = new_room(db, owner);
    ci_room_t *gone = new_room(db, owner), *blocked = new_room(db, owner);
    ci_chat_post_t po[7];
    apr_array_header_t *msgs;
    ci_db_rows_t *rows;
    int i;

    ck_assert_int_eq(ci_db_exec_raw(db, apr_psprintf(ut_pool,
        "UPDATE rooms SET is_active = 0 WHERE id = %" APR_INT64_T_FMT,
        closed->id)), APR_SUCCESS);
    ck_assert_int_eq(ci_db_exec_raw(db, apr_psprintf(ut_pool,
        "UPDATE rooms SET is_deleted = 1 WHERE id = %" APR_INT64_T_FMT,
        gone->id)), APR_SUCCESS);
    ck_assert_int_eq(ci_db_exec_raw(db, apr_psprintf(ut_pool,
        "UPDATE rooms SET visitor_blocked = 1 WHERE id = %" APR_INT64_T_FMT,
        blocked->id)), APR_SUCCESS);
    add_post(&po[0], a, "visitor", "one 'quoted' \"text\" \\ ; DROP--");
    add_post(&po[1], closed, "visitor", "into a closed room");
    add_post(&po[2], closed, "owner", "the owner may still write");
    add_post(&po[3], a, "owner", "two \xc3\xa9\xe2\x82\xac\xf0\x9f\x9a\x97");
    add_post(&po[4], gone, "owner", "into a deleted room");
    add_post(&po[5], blocked, "visitor", "blocked");
    add_post(&po[6], a, "visitor", "three");
    ck_assert_int_eq(ci_chat_post_many(db, ut_pool, po, 7), APR_SUCCESS);

    ck_assert_int_eq(po[1].status, CI_CHAT_ECLOSED);
    ck_assert_int_eq(po[4].status, CI_CHAT_EGONE);
    ck_assert_int_eq(po[5].status, CI_CHAT_EBLOCKED);
    ck_assert_str_eq(ci_chat_refusal_detail(po[1].status),
                     "This chat is closed.");
    ck_assert_ptr_null(ci_chat_refusal_detail(APR_SUCCESS));
    for (i = 0; i < 7; i++) {
        if (i == 1 || i == 4 || i == 5) {
            ck_assert_ptr_null(po[i].msg);
            continue;
        }
        ck_assert_int_eq(po[i].status, APR_SUCCESS);
        ck_assert_ptr_nonnull(po[i].msg);
        ck_assert_int_gt(po[i].msg->id, 0);
        ck_assert_str_eq(po[i].msg->content, po[i].content);
    }
    /* Room a: ascending ids in array order, each after the one before. */
    ck_assert_int_eq(po[0].prev_id, 0);
    ck_assert_int_eq(po[3].prev_id, po[0].msg->id);
    ck_assert_int_eq(po[6].prev_id, po[3].msg->id);
    ck_assert_int_gt(po[6].msg->id, po[3].msg->id);
    ck_assert_int_eq(po[2].prev_id, 0);
    /* Committed, as stored, seen from another connection. */
    ck_assert_int_eq(ci_chat_history(other, ut_pool, a->id, a->uuid, 0, 10,
                                     &msgs),
                     APR_SUCCESS);
    ck_assert_int_eq(msgs->nelts, 3);
    for (i = 0; i < 3; i++) {
        const ci_message_t *m = APR_ARRAY_IDX(msgs, i, ci_message_t *);
        const ci_chat_post_t *want = &po[i == 0 ? 0 : i == 1 ? 3 : 6];

        ck_assert_int_eq(m->id, want->msg->id);
        ck_assert_str_eq(m->uuid, want->msg->uuid);
        ck_assert_str_eq(m->content, want->content);
        ck_assert_str_eq(m->sender_type, want->sender_type);
        ck_assert_str_eq(m->room_uuid, a->uuid);
    }
    ck_assert_int_eq(ci_chat_history(other, ut_pool, gone->id, gone->uuid, 0,
                                     10, &msgs),
                     APR_SUCCESS);
    ck_assert_int_eq(msgs->nelts, 0);
    /* The rooms point at their last message. */
    rows = select_ok(other, CI_STMT_ROOMS_LOCK, CI_ARGS(apr_psprintf(ut_pool,
                     "[%" APR_INT64_T_FMT "]", a->id)));
    ck_assert_int_eq(rows->nrows, 1);
    ck_assert_int_eq(ci_db_cell_i64(rows, 0, 1, -1), po[6].msg->id);
    /* The visitor's two messages are unread; the owner's are not. */
    ck_assert_int_eq(unread_of(other, a), 2);
    ck_assert_int_eq(unread_of(other, closed), 0);
    /* The next batch follows on. */
    add_post(&po[0], a, "visitor", "four");
    ck_assert_int_eq(ci_chat_post_many(db, ut_pool, po, 1), APR_SUCCESS);
    ck_assert_int_eq(po[0].prev_id, po[6].msg->id);
    ck_assert_int_eq(unread_of(other, a), 3);
}
END_TEST

/* The messages list's read: the room and a page of it (one statement on
 * PostgreSQL, two on SQLite), the same as ci_chat_room + ci_chat_history. */
START_TEST(room_history_read)
{
    ci_db_t *db = open_migrated();
    const char *owner = add_user(db, ci_uuid4(ut_pool));
    ci_room_t *a = new_room(db, owner), *empty = new_room(db, owner);
    apr_array_header_t *msgs;
    ci_chat_post_t po[4];
    ci_room_t *got;
    int i;

    for (i = 0; i < 4; i++) {
        add_post(&po[i], a, i % 2 ? "owner" : "visitor",
                 apr_psprintf(ut_pool, "m%d", i));
        ck_assert_int_eq(ci_chat_post_many(db, ut_pool, &po[i], 1),
                         APR_SUCCESS);
    }
    ck_assert_int_eq(ci_chat_room_history(db, ut_pool, a->uuid, 0, 500, &got,
                                          &msgs), APR_SUCCESS);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(got->id, a->id);
    ck_assert_str_eq(got->visitor_token_hash, a->visitor_token_hash);
    ck_assert_int_eq(msgs->nelts, 4);
    for (i = 0; i < 4; i++) {
        const ci_message_t *m = APR_ARRAY_IDX(msgs, i, ci_message_t *);

        ck_assert_int_eq(m->id, po[i].msg->id);
        ck_assert_str_eq(m->content, po[i].content);
        ck_assert_str_eq(m->sender_type, po[i].sender_type);
        ck_assert_str_eq(m->room_uuid, a->uuid);
        ck_assert_int_eq(m->room_id, a->id);
    }
    /* After a message, at most two. */
    ck_assert_int_eq(ci_chat_room_history(db, ut_pool, a->uuid,
                                          po[0].msg->id, 2, &got, &msgs),
                     APR_SUCCESS);
    ck_assert_int_eq(msgs->nelts, 2);
    ck_assert_int_eq(APR_ARRAY_IDX(msgs, 0, ci_message_t *)->id,
                     po[1].msg->id);
    ck_assert_int_eq(APR_ARRAY_IDX(msgs, 1, ci_message_t *)->id,
                     po[2].msg->id);
    /* A room with no message; no room; a deleted room. */
    ck_assert_int_eq(ci_chat_room_history(db, ut_pool, empty->uuid, 0, 50,
                                          &got, &msgs), APR_SUCCESS);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(msgs->nelts, 0);
    ck_assert_int_eq(ci_chat_room_history(db, ut_pool, ci_uuid4(ut_pool), 0,
                                          50, &got, &msgs), APR_SUCCESS);
    ck_assert_ptr_null(got);
    ck_assert_int_eq(msgs->nelts, 0);
    ck_assert_int_eq(ci_db_exec_raw(db, apr_psprintf(ut_pool,
        "UPDATE rooms SET is_deleted = 1 WHERE id = %" APR_INT64_T_FMT,
        a->id)), APR_SUCCESS);
    ck_assert_int_eq(ci_chat_room_history(db, ut_pool, a->uuid, 0, 50, &got,
                                          &msgs), APR_SUCCESS);
    ck_assert_ptr_null(got);
    ck_assert_int_eq(msgs->nelts, 0);
}
END_TEST

/* rooms.owner_unread (006) follows posts, the owner's reads, and messages
 * deleted or flagged deleted behind the API's back (the triggers). */
START_TEST(owner_unread_kept)
{
    ci_db_t *db = open_migrated();
    const char *owner = add_user(db, ci_uuid4(ut_pool));
    ci_room_t *a = new_room(db, owner);
    ci_chat_post_t po[5];
    const char *cut;
    int i, n = -1;

    for (i = 0; i < 5; i++) {
        add_post(&po[i], a, i == 2 ? "owner" : "visitor",
                 apr_itoa(ut_pool, i));
        ck_assert_int_eq(ci_chat_post_many(db, ut_pool, &po[i], 1),
                         APR_SUCCESS);
    }
    ck_assert_int_eq(unread_of(db, a), 4);
    /* The owner reads up to the owner's own message: two visitor ones. */
    cut = ci_db_i64(ut_pool, po[2].msg->id);
    exec_ok(db, CI_STMT_ROOM_OWNER_READ, CI_ARGS(cut, cut,
            ci_db_i64(ut_pool, a->id), cut));
    ck_assert_int_eq(unread_of(db, a), 2);
    /* Reading less than that again changes nothing. */
    cut = ci_db_i64(ut_pool, po[1].msg->id);
    ck_assert_int_eq(ci_db_exec(db, ut_pool, CI_STMT_ROOM_OWNER_READ,
                                CI_ARGS(cut, cut, ci_db_i64(ut_pool, a->id),
                                        cut), &n), APR_SUCCESS);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(unread_of(db, a), 2);
    /* Flagged deleted, restored, deleted: only unread ones count. */
    ck_assert_int_eq(ci_db_exec_raw(db, apr_psprintf(ut_pool,
        "UPDATE messages SET is_deleted = 1 WHERE id IN (%" APR_INT64_T_FMT
        ", %" APR_INT64_T_FMT ")", po[0].msg->id, po[3].msg->id)),
        APR_SUCCESS);
    ck_assert_int_eq(unread_of(db, a), 1);
    ck_assert_int_eq(ci_db_exec_raw(db, apr_psprintf(ut_pool,
        "UPDATE messages SET is_deleted = 0 WHERE id = %" APR_INT64_T_FMT,
        po[3].msg->id)), APR_SUCCESS);
    ck_assert_int_eq(unread_of(db, a), 2);
    ck_assert_int_eq(ci_db_exec_raw(db, apr_psprintf(ut_pool,
        "DELETE FROM messages WHERE id IN (%" APR_INT64_T_FMT ", %"
        APR_INT64_T_FMT ")", po[1].msg->id, po[4].msg->id)), APR_SUCCESS);
    ck_assert_int_eq(unread_of(db, a), 1);
    /* The owner reads everything. */
    cut = ci_db_i64(ut_pool, po[4].msg->id);
    exec_ok(db, CI_STMT_ROOM_OWNER_READ, CI_ARGS(cut, cut,
            ci_db_i64(ut_pool, a->id), cut));
    ck_assert_int_eq(unread_of(db, a), 0);
}
END_TEST

/* The database tests, for one driver. */
static TCase *db_tcase(const char *name, void (*setup)(void))
{
    TCase *tc = ut_tcase(name);

    tcase_add_checked_fixture(tc, setup, db_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, prepare_all_on_migrated_schema);
    tcase_add_test(tc, prepare_all_names_the_failure);
    tcase_add_test(tc, persistent_failure_is_retried_once);
    tcase_add_test(tc, select_and_exec_with_args);
    tcase_add_test(tc, many_rows);
    tcase_add_test(tc, null_args_bind_sql_null);
    tcase_add_test(tc, null_cells);
    tcase_add_test(tc, unique_violation_is_econstraint);
    tcase_add_test(tc, cells_out_of_range);
    tcase_add_test(tc, txn_commits);
    tcase_add_test(tc, txn_rolls_back_when_fn_fails);
    tcase_add_test(tc, txn_constraint_rolls_back);
    tcase_add_test(tc, txn_success_means_committed);
    tcase_add_test(tc, schema_change_select);
    tcase_add_test(tc, schema_change_exec);
    tcase_add_test(tc, schema_change_in_txn);
    tcase_add_test(tc, migration_under_prepared_statements);
    tcase_add_test(tc, open_close);
    tcase_add_test(tc, attach_caches_per_handle);
    tcase_add_test(tc, post_many_batch);
    tcase_add_test(tc, owner_unread_kept);
    tcase_add_test(tc, room_history_read);
    return tc;
}

Suite *ut_db_suite(void)
{
    Suite *s = suite_create("db");
    const char *pg = getenv(PG_ENV);
    TCase *tc;

    tc = ut_tcase("sql");
    tcase_add_test(tc, sql_nargs);
    tcase_add_test(tc, sql_table_consistent);
    tcase_add_test(tc, i64_text);
    tcase_add_test(tc, open_errors);
    suite_add_tcase(s, tc);

    suite_add_tcase(s, db_tcase("sqlite", sqlite_setup));
    if (pg && *pg) {
        tc = db_tcase("pgsql", pgsql_setup);
        tcase_add_unchecked_fixture(tc, pgsql_run_setup, pgsql_run_teardown);
        suite_add_tcase(s, tc);
    }
    else {
        fprintf(stderr, "carinfo-unit: %s is not set: skipping the "
                "PostgreSQL database tests\n", PG_ENV);
    }
    return s;
}
