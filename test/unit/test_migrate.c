/* test_migrate.c: ci_migrate on temporary SQLite files.
 *
 * The real migrations come from ut_sql_dir() ("sql", or $CARINFO_SQL_DIR);
 * the other cases build a private sql dir under a temporary directory.
 */
#include <stdarg.h>
#include <string.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "unit.h"
#include "ci_db.h"
#include "ci_migrate.h"

/* Per test: a temporary directory holding the database (and sql dirs). */
static const char *tmp;
static const char *db_path;

static void migrate_setup(void)
{
    tmp = ut_tmpdir(ut_pool);
    db_path = apr_pstrcat(ut_pool, tmp, "/carinfo.db", NULL);
}

static void migrate_teardown(void)
{
    tmp = db_path = NULL;
}

static ci_db_t *open_db(void)
{
    ci_db_t *db = NULL;
    const char *err = NULL;
    apr_status_t rv = ci_db_open(&db, ut_pool, "sqlite3", db_path, &err);

    ck_assert_msg(rv == APR_SUCCESS, "ci_db_open: %s", err ? err : "-");
    ck_assert_ptr_nonnull(db);
    return db;
}

/* A private sql dir with sqlite/<name> files: NULL-terminated pairs of
 * file name and content; content "@001" copies the real 001_init.sql,
 * "@<file>" the real sqlite/<file>. */
static const char *make_sql_dir(const char *name, ...)
{
    const char *dir = apr_pstrcat(ut_pool, tmp, "/", name, NULL);
    const char *sub = apr_pstrcat(ut_pool, dir, "/sqlite", NULL);
    const char *file, *text;
    va_list ap;

    ck_assert_int_eq(apr_dir_make_recursive(sub, APR_FPROT_OS_DEFAULT,
                                            ut_pool), APR_SUCCESS);
    va_start(ap, name);
    while ((file = va_arg(ap, const char *)) != NULL) {
        text = va_arg(ap, const char *);
        if (text[0] == '@') {
            text = ut_read_file(ut_pool, apr_pstrcat(ut_pool, ut_sql_dir(),
                                "/sqlite/", strcmp(text, "@001")
                                            ? text + 1 : "001_init.sql",
                                NULL));
        }
        ut_write_file(ut_pool, apr_pstrcat(ut_pool, sub, "/", file, NULL),
                      text);
    }
    va_end(ap);
    return dir;
}

static int db_version(ci_db_t *db)
{
    int v = -1;

    ck_assert_int_eq(ci_migrate_version(db, ut_pool, &v), APR_SUCCESS);
    return v;
}

/* Whether the database file has a table (or index) called `name`. */
static int has_object(const char *name)
{
    const char *n = ut_sqlite_value(ut_pool, db_path, apr_psprintf(ut_pool,
        "SELECT count(*) FROM sqlite_master WHERE name = '%s'", name));

    return n && strcmp(n, "0");
}

static void run_ok(ci_db_t *db, const char *dir, int want_from, int want_to)
{
    int from = -1, to = -1;
    const char *err = NULL;
    apr_status_t rv = ci_migrate_run(db, ut_pool, dir, &from, &to, &err);

    ck_assert_msg(rv == APR_SUCCESS, "ci_migrate_run(%s): %s", dir,
                  err ? err : "-");
    ck_assert_int_eq(from, want_from);
    ck_assert_int_eq(to, want_to);
}

/* ---- the real migrations --------------------------------------------- */

START_TEST(real_from_empty_then_noop)
{
    static const char *const tables[] = {
        "schema_version", "users", "qr_codes", "rooms", "room_members",
        "messages", "refresh_tokens", "qr_codes_user", "rooms_visitor_token",
        "messages_room", "refresh_tokens_family",
    };
    int latest = ut_sql_latest(ut_pool);
    ci_db_t *db = open_db();
    apr_size_t i;

    ut_log_capture(CI_LOG_NOTICE);
    ck_assert_int_eq(db_version(db), 0);
    run_ok(db, ut_sql_dir(), 0, latest);
    ck_assert_int_eq(db_version(db), latest);
    for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        ck_assert_msg(has_object(tables[i]), "no %s after 001", tables[i]);
    }
    ck_assert_str_eq(ut_sqlite_value(ut_pool, db_path,
                                     "SELECT version || ' ' || name "
                                     "FROM schema_version WHERE version = 1"),
                     "1 init");
    ck_assert_str_eq(ut_sqlite_value(ut_pool, db_path,
                                     "SELECT count(*) FROM schema_version"),
                     apr_itoa(ut_pool, latest));
    ck_assert_msg(strstr(ut_log, "CI10001: applied migration 001_init"),
                  "log: %s", ut_log);
    ck_assert_int_eq(ut_log_count, latest);     /* one line per migration */

    /* Again: nothing to do, nothing logged, nothing recorded twice. */
    run_ok(db, ut_sql_dir(), latest, latest);
    ck_assert_int_eq(ut_log_count, latest);
    ck_assert_str_eq(ut_sqlite_value(ut_pool, db_path,
                                     "SELECT count(*) FROM schema_version"),
                     apr_itoa(ut_pool, latest));
}
END_TEST

START_TEST(concurrent_runner_sees_noop)
{
    /* Two runners (two carinfoctl migrate): B connected before A applied
     * the migrations, and runs after A. B has nothing left to do. */
    int latest = ut_sql_latest(ut_pool);
    ci_db_t *a = open_db(), *b = open_db();

    ck_assert_int_eq(db_version(b), 0);
    run_ok(a, ut_sql_dir(), 0, latest);
    run_ok(b, ut_sql_dir(), latest, latest);
    ck_assert_int_eq(db_version(b), latest);
    ci_db_close(b);
    ci_db_close(a);
}
END_TEST

START_TEST(journal_mode_is_wal)
{
    int latest = ut_sql_latest(ut_pool);
    ci_db_t *db = open_db();

    ck_assert_str_ne(ut_sqlite_value(ut_pool, db_path, "PRAGMA journal_mode"),
                     "wal");
    run_ok(db, ut_sql_dir(), 0, latest);
    ck_assert_str_eq(ut_sqlite_value(ut_pool, db_path, "PRAGMA journal_mode"),
                     "wal");
    /* It stays so for the next connection, after this one is gone. */
    ci_db_close(db);
    ck_assert_str_eq(ut_sqlite_value(ut_pool, db_path, "PRAGMA journal_mode"),
                     "wal");
}
END_TEST

START_TEST(real_dialects_in_step)
{
    apr_array_header_t *lite = NULL, *pg = NULL;
    const char *err = NULL;
    int i;

    ck_assert_int_eq(ci_migrate_list(ut_pool, ut_sql_dir(), CI_DIALECT_SQLITE,
                                     &lite, &err), APR_SUCCESS);
    ck_assert_int_eq(ci_migrate_list(ut_pool, ut_sql_dir(), CI_DIALECT_PGSQL,
                                     &pg, &err), APR_SUCCESS);
    ck_assert_int_ge(lite->nelts, 1);
    ck_assert_int_eq(lite->nelts, pg->nelts);
    for (i = 0; i < lite->nelts; i++) {
        ci_migration_t *l = &APR_ARRAY_IDX(lite, i, ci_migration_t);
        ci_migration_t *p = &APR_ARRAY_IDX(pg, i, ci_migration_t);
        ck_assert_int_eq(l->version, i + 1);       /* no gaps */
        ck_assert_int_eq(p->version, l->version);
        ck_assert_str_eq(p->name, l->name);
        ck_assert_ptr_nonnull(strstr(l->path, "/sqlite/"));
        ck_assert_ptr_nonnull(strstr(p->path, "/pgsql/"));
    }
    ck_assert_str_eq(APR_ARRAY_IDX(lite, 0, ci_migration_t).name, "init");
}
END_TEST

/* 006 counts what each owner had not read when it was applied. */
START_TEST(owner_unread_backfilled)
{
    const char *five[] = { "002_rate_limits.sql", "003_chat_read_cursors.sql",
                           "004_guest_and_direct_rooms.sql",
                           "005_unread_index.sql" };
    const char *d5 = make_sql_dir("to5", "001_init.sql", "@001",
        five[0], apr_pstrcat(ut_pool, "@", five[0], NULL),
        five[1], apr_pstrcat(ut_pool, "@", five[1], NULL),
        five[2], apr_pstrcat(ut_pool, "@", five[2], NULL),
        five[3], apr_pstrcat(ut_pool, "@", five[3], NULL), NULL);
    const char *d6 = make_sql_dir("to6", "001_init.sql", "@001",
        five[0], apr_pstrcat(ut_pool, "@", five[0], NULL),
        five[1], apr_pstrcat(ut_pool, "@", five[1], NULL),
        five[2], apr_pstrcat(ut_pool, "@", five[2], NULL),
        five[3], apr_pstrcat(ut_pool, "@", five[3], NULL),
        "006_owner_unread.sql", "@006_owner_unread.sql", NULL);
    ci_db_t *db = open_db();

    run_ok(db, d5, 0, 5);
    ck_assert_int_eq(ci_db_exec_raw(db,
        "INSERT INTO users (id, uuid, created_at, updated_at) "
        "VALUES (1, 'u1', 0, 0);"
        "INSERT INTO rooms (id, uuid, kind, owner_id, created_at, updated_at, "
        "owner_last_read_id) VALUES (1, 'r1', 'visitor', 1, 0, 0, 2), "
        "(2, 'r2', 'visitor', 1, 0, 0, 0), (3, 'r3', 'visitor', 1, 0, 0, 0);"
        "INSERT INTO messages (id, uuid, room_id, sender_type, content, "
        "created_at, updated_at, is_deleted) VALUES "
        "(1, 'm1', 1, 'visitor', 'read', 0, 0, 0), "
        "(2, 'm2', 1, 'visitor', 'read', 0, 0, 0), "
        "(3, 'm3', 1, 'visitor', 'new', 0, 0, 0), "
        "(4, 'm4', 1, 'owner', 'own', 0, 0, 0), "
        "(5, 'm5', 1, 'visitor', 'gone', 0, 0, 1), "
        "(6, 'm6', 2, 'visitor', 'new', 0, 0, 0), "
        "(7, 'm7', 2, 'visitor', 'new', 0, 0, 0)"), APR_SUCCESS);
    run_ok(db, d6, 5, 6);
    ck_assert_str_eq(ut_sqlite_value(ut_pool, db_path,
                                     "SELECT group_concat(owner_unread, ',') "
                                     "FROM (SELECT owner_unread FROM rooms "
                                     "ORDER BY id)"), "1,2,0");
    ck_assert(!has_object("messages_unread"));
}
END_TEST

/* ---- private sql dirs ------------------------------------------------ */

START_TEST(applies_only_new)
{
    const char *dir1 = make_sql_dir("s1", "001_init.sql", "@001", NULL);
    const char *dir2 = make_sql_dir("s2", "001_init.sql", "@001",
        "002_extra.sql",
        "-- 002: one more table\n"
        "CREATE TABLE extra (id INTEGER PRIMARY KEY, note TEXT NOT NULL);\n"
        "INSERT INTO extra (note) VALUES ('seeded');\n", NULL);
    ci_db_t *db = open_db();

    run_ok(db, dir1, 0, 1);
    ck_assert(has_object("users"));
    ck_assert(!has_object("extra"));
    run_ok(db, dir2, 1, 2);
    ck_assert_int_eq(db_version(db), 2);
    ck_assert(has_object("extra"));
    ck_assert_str_eq(ut_sqlite_value(ut_pool, db_path,
                                     "SELECT note FROM extra"), "seeded");
    ck_assert_str_eq(ut_sqlite_value(ut_pool, db_path,
                                     "SELECT group_concat(version || name, "
                                     "',') FROM schema_version"),
                     "1init,2extra");
    run_ok(db, dir2, 2, 2);
}
END_TEST

START_TEST(broken_migration_rolls_back)
{
    const char *dir = make_sql_dir("s3", "001_init.sql", "@001",
        "002_extra.sql",
        "CREATE TABLE extra (id INTEGER PRIMARY KEY, note TEXT);\n",
        "003_broken.sql",
        "CREATE TABLE partial3 (id INTEGER PRIMARY KEY);\n"
        "INSERT INTO extra (note) VALUES ('from 003');\n"
        "CREATE INDEX extra_note ON extra (note);\n"
        "CREATE TABLE oops (id INTEGER,;\n", NULL);
    ci_db_t *db = open_db();
    int from = -1, to = -1;
    const char *err = NULL;
    ci_db_rows_t *rows = NULL;
    apr_status_t rv;

    rv = ci_migrate_run(db, ut_pool, dir, &from, &to, &err);
    ck_assert_int_ne(rv, APR_SUCCESS);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, "003_broken.sql") != NULL, "err: %s", err);
    ck_assert_int_eq(from, 0);
    ck_assert_int_eq(to, 2);

    /* 001 and 002 stay; nothing of 003 does. */
    ck_assert_int_eq(db_version(db), 2);
    ck_assert(has_object("extra"));
    ck_assert(!has_object("partial3"));
    ck_assert(!has_object("extra_note"));
    ck_assert(!has_object("oops"));
    ck_assert_str_eq(ut_sqlite_value(ut_pool, db_path,
                                     "SELECT count(*) FROM extra"), "0");
    ck_assert_str_eq(ut_sqlite_value(ut_pool, db_path,
                                     "SELECT max(version) FROM "
                                     "schema_version"), "2");

    /* The connection is still fine: no transaction left open. */
    ck_assert_int_eq(ci_db_select(db, ut_pool, CI_STMT_PING, NULL, &rows),
                     APR_SUCCESS);
    ck_assert_str_eq(ci_db_cell(rows, 0, 0), "1");
    ck_assert_int_eq(ci_db_exec_raw(db, "CREATE TABLE after_fail (x INTEGER)"),
                     APR_SUCCESS);
    ck_assert(has_object("after_fail"));

    /* Fixed file: applies now. */
    ut_write_file(ut_pool, apr_pstrcat(ut_pool, dir, "/sqlite/003_broken.sql",
                                       NULL),
                  "CREATE TABLE partial3 (id INTEGER PRIMARY KEY);\n");
    run_ok(db, dir, 2, 3);
    ck_assert(has_object("partial3"));
}
END_TEST

START_TEST(broken_first_migration)
{
    const char *dir = make_sql_dir("s1", "001_init.sql",
        "CREATE TABLE t1 (id INTEGER);\nSELEC 1;\n", NULL);
    ci_db_t *db = open_db();
    int from = -1, to = -1;
    const char *err = NULL;

    ck_assert_int_ne(ci_migrate_run(db, ut_pool, dir, &from, &to, &err),
                     APR_SUCCESS);
    ck_assert_msg(err && strstr(err, "001_init.sql"), "err: %s", err);
    ck_assert_int_eq(to, 0);
    ck_assert_int_eq(db_version(db), 0);
    ck_assert(!has_object("t1"));
}
END_TEST

START_TEST(duplicate_versions_refused)
{
    const char *dir = make_sql_dir("dup", "001_init.sql", "@001",
        "002_a.sql", "CREATE TABLE a (x INTEGER);\n",
        "002_b.sql", "CREATE TABLE b (x INTEGER);\n", NULL);
    ci_db_t *db = open_db();
    apr_array_header_t *list = NULL;
    int from = -1, to = -1;
    const char *err = NULL;

    ck_assert_int_eq(ci_migrate_list(ut_pool, dir, CI_DIALECT_SQLITE, &list,
                                     &err), APR_EINVAL);
    ck_assert_msg(err && strstr(err, "002_a.sql") && strstr(err, "002_b.sql"),
                  "err: %s", err);
    err = NULL;
    ck_assert_int_ne(ci_migrate_run(db, ut_pool, dir, &from, &to, &err),
                     APR_SUCCESS);
    ck_assert_msg(err && strstr(err, "same version"), "err: %s", err);
    /* Refused up front: not even 001 was applied. */
    ck_assert(!has_object("users"));
    ck_assert(!has_object("a"));
    ck_assert(!has_object("b"));
}
END_TEST

START_TEST(non_matching_files_ignored)
{
    /* Each ignored file is bad SQL: applying any of them fails the run. */
    const char *bad = "THIS IS NOT SQL;\n";
    const char *dir = make_sql_dir("ign", "001_init.sql", "@001",
        "002_extra_2.sql", "CREATE TABLE extra (x INTEGER);\n",
        "README", bad, "notes.txt", bad, "1_short.sql", bad,
        "0003_four.sql", bad, "003_Upper.sql", bad, "003-dash.sql", bad,
        "003_x.sql.orig", bad, "003_x.SQL", bad, "abc_x.sql", bad,
        "000_zero.sql", bad, "004_.sql", bad, ".005_hidden.sql", bad,
        "005_sp ace.sql", bad, "006_x.sql~", bad, "00a_x.sql", bad, NULL);
    ci_db_t *db = open_db();
    apr_array_header_t *list = NULL;
    const char *err = NULL;
    ci_migration_t *m;

    /* A directory with a matching name is not a migration either. */
    ck_assert_int_eq(apr_dir_make(apr_pstrcat(ut_pool, dir,
                                              "/sqlite/007_dir.sql", NULL),
                                  APR_FPROT_OS_DEFAULT, ut_pool), APR_SUCCESS);

    ck_assert_int_eq(ci_migrate_list(ut_pool, dir, CI_DIALECT_SQLITE, &list,
                                     &err), APR_SUCCESS);
    ck_assert_int_eq(list->nelts, 2);
    m = &APR_ARRAY_IDX(list, 0, ci_migration_t);
    ck_assert_int_eq(m->version, 1);
    ck_assert_str_eq(m->name, "init");
    ck_assert_str_eq(m->path, apr_pstrcat(ut_pool, dir, "/sqlite/001_init.sql",
                                          NULL));
    m = &APR_ARRAY_IDX(list, 1, ci_migration_t);
    ck_assert_int_eq(m->version, 2);
    ck_assert_str_eq(m->name, "extra_2");
    run_ok(db, dir, 0, 2);
    ck_assert(has_object("extra"));
}
END_TEST

START_TEST(numeric_order)
{
    /* 010 alters the table 002 creates: it must run after 002 and 009. */
    const char *dir = make_sql_dir("ord", "010_ten.sql",
        "ALTER TABLE two ADD COLUMN ten INTEGER;\n"
        "INSERT INTO two (nine, ten) VALUES (9, 10);\n",
        "001_init.sql", "@001",
        "009_nine.sql", "ALTER TABLE two ADD COLUMN nine INTEGER;\n",
        "002_two.sql", "CREATE TABLE two (id INTEGER PRIMARY KEY);\n", NULL);
    apr_array_header_t *list = NULL;
    const char *err = NULL;
    ci_db_t *db = open_db();

    ck_assert_int_eq(ci_migrate_list(ut_pool, dir, CI_DIALECT_SQLITE, &list,
                                     &err), APR_SUCCESS);
    ck_assert_int_eq(list->nelts, 4);
    ck_assert_int_eq(APR_ARRAY_IDX(list, 0, ci_migration_t).version, 1);
    ck_assert_int_eq(APR_ARRAY_IDX(list, 1, ci_migration_t).version, 2);
    ck_assert_int_eq(APR_ARRAY_IDX(list, 2, ci_migration_t).version, 9);
    ck_assert_int_eq(APR_ARRAY_IDX(list, 3, ci_migration_t).version, 10);
    run_ok(db, dir, 0, 10);
    ck_assert_str_eq(ut_sqlite_value(ut_pool, db_path,
                                     "SELECT nine + ten FROM two"), "19");
}
END_TEST

START_TEST(trailing_comment_lines)
{
    const char *dir = make_sql_dir("cmt", "001_init.sql", "@001",
        "002_c.sql",
        "-- leading comment\n"
        "CREATE TABLE c (x INTEGER); -- why: nothing\n"
        "  -- indented comment line\n"
        "CREATE TABLE d (x INTEGER);\r\n"
        "-- trailing comment\r\n"
        "   \n"
        "\t-- another\n\n\n", NULL);
    ci_db_t *db = open_db();

    run_ok(db, dir, 0, 2);
    ck_assert(has_object("c"));
    ck_assert(has_object("d"));
}
END_TEST

START_TEST(comment_after_last_statement)
{
    /* A comment on the last statement's line is ordinary SQL. */
    const char *dir = make_sql_dir("cmt2", "001_init.sql", "@001",
        "002_c.sql", "CREATE TABLE c (x INTEGER); -- the last one\n", NULL);
    ci_db_t *db = open_db();

    run_ok(db, dir, 0, 2);
    ck_assert(has_object("c"));
}
END_TEST

START_TEST(comment_only_migration)
{
    /* A migration that only one dialect needs is a comment-only file in
     * the other, so that version numbers stay in step. */
    const char *dir = make_sql_dir("noop", "001_init.sql", "@001",
        "002_pg_only.sql",
        "-- 002_pg_only: nothing to do on SQLite.\n", NULL);
    ci_db_t *db = open_db();

    run_ok(db, dir, 0, 2);
    ck_assert_int_eq(db_version(db), 2);
}
END_TEST

START_TEST(missing_sql_dir)
{
    ci_db_t *db = open_db();
    const char *dir = apr_pstrcat(ut_pool, tmp, "/nowhere", NULL);
    int from = -1, to = -1;
    const char *err = NULL;

    ck_assert_int_ne(ci_migrate_run(db, ut_pool, dir, &from, &to, &err),
                     APR_SUCCESS);
    ck_assert_msg(err && strstr(err, "/nowhere/sqlite"), "err: %s", err);
}
END_TEST

Suite *ut_migrate_suite(void)
{
    Suite *s = suite_create("migrate");
    TCase *tc;

    tc = ut_tcase("real");
    tcase_add_checked_fixture(tc, migrate_setup, migrate_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, real_from_empty_then_noop);
    tcase_add_test(tc, concurrent_runner_sees_noop);
    tcase_add_test(tc, journal_mode_is_wal);
    tcase_add_test(tc, owner_unread_backfilled);
    tcase_add_test(tc, real_dialects_in_step);
    suite_add_tcase(s, tc);

    tc = ut_tcase("dir");
    tcase_add_checked_fixture(tc, migrate_setup, migrate_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, applies_only_new);
    tcase_add_test(tc, broken_migration_rolls_back);
    tcase_add_test(tc, broken_first_migration);
    tcase_add_test(tc, duplicate_versions_refused);
    tcase_add_test(tc, non_matching_files_ignored);
    tcase_add_test(tc, numeric_order);
    tcase_add_test(tc, trailing_comment_lines);
    tcase_add_test(tc, comment_after_last_statement);
    tcase_add_test(tc, comment_only_migration);
    tcase_add_test(tc, missing_sql_dir);
    suite_add_tcase(s, tc);
    return s;
}
