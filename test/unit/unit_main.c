/* unit_main.c: runs the core's unit suites, and the helpers of unit.h.
 *
 * Usage: carinfo-unit [suite [tcase]]   (e.g. "carinfo-unit db sqlite")
 * Environment: CK_FORK=no (make unit, for valgrind), CARINFO_SQL_DIR (the
 * migrations, default "sql"), CARINFO_TEST_PGPARAMS (a libpq conninfo: also
 * run the database tests on PostgreSQL), CARINFO_UNIT_LOG=debug (core log
 * lines to stderr).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* mkdtemp, nftw */
#endif
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <apr_dbd.h>
#include <apr_general.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "unit.h"
#include "ci_migrate.h"

apr_pool_t *ut_pool;
const char *ut_log;
int ut_log_count;

/* The sink and level main() chose; restored by ut_log_reset(). */
static ci_log_sink_fn *default_sink;
static ci_log_level_t default_level = CI_LOG_WARNING;

void ut_pool_setup(void)
{
    ck_assert_int_eq(apr_pool_create(&ut_pool, NULL), APR_SUCCESS);
    ut_log = "";
    ut_log_count = 0;
}

void ut_pool_teardown(void)
{
    ut_log_reset();
    if (ut_pool) {
        apr_pool_destroy(ut_pool);
        ut_pool = NULL;
    }
}

TCase *ut_tcase(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, ut_pool_setup, ut_pool_teardown);
    return tc;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path) ? -1 : 0;
}

static apr_status_t tmpdir_cleanup(void *data)
{
    nftw((const char *)data, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return APR_SUCCESS;
}

/* All temporary directories of a run live under one root, which main()
 * removes at the end: in fork mode a failed test exits without its
 * teardown, and its directory would stay behind. */
static char *tmp_root;

static void tmp_root_create(void)
{
    const char *base = getenv("TMPDIR");
    char buf[4096];

    apr_snprintf(buf, sizeof(buf), "%s/carinfo-unit-XXXXXX",
                 base && *base ? base : "/tmp");
    if (mkdtemp(buf)) {
        tmp_root = strdup(buf);
    }
}

static void tmp_root_remove(void)
{
    if (tmp_root) {
        tmpdir_cleanup(tmp_root);
        free(tmp_root);
        tmp_root = NULL;
    }
}

const char *ut_tmpdir(apr_pool_t *p)
{
    char *dir;

    ck_assert_msg(tmp_root != NULL, "no temporary root directory");
    dir = apr_pstrcat(p, tmp_root, "/t-XXXXXX", NULL);
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s failed", dir);
    apr_pool_cleanup_register(p, dir, tmpdir_cleanup, apr_pool_cleanup_null);
    return dir;
}

void ut_write_file(apr_pool_t *p, const char *path, const char *text)
{
    apr_file_t *f;
    apr_size_t n = strlen(text);
    apr_status_t rv;

    rv = apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE
                       | APR_FOPEN_TRUNCATE, APR_FPROT_OS_DEFAULT, p);
    ck_assert_msg(rv == APR_SUCCESS, "cannot create %s", path);
    rv = apr_file_write_full(f, text, n, NULL);
    apr_file_close(f);
    ck_assert_msg(rv == APR_SUCCESS, "cannot write %s", path);
}

const char *ut_read_file(apr_pool_t *p, const char *path)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    apr_status_t rv;
    char *buf;

    rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, p);
    ck_assert_msg(rv == APR_SUCCESS, "cannot open %s", path);
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    ck_assert_msg(rv == APR_SUCCESS, "cannot stat %s", path);
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    ck_assert_msg(rv == APR_SUCCESS, "cannot read %s", path);
    buf[n] = '\0';
    return buf;
}

const char *ut_sql_dir(void)
{
    const char *dir = getenv("CARINFO_SQL_DIR");

    return dir && *dir ? dir : "sql";
}

int ut_sql_latest(apr_pool_t *p)
{
    apr_array_header_t *list = NULL;
    const char *err = NULL;

    ck_assert_msg(ci_migrate_list(p, ut_sql_dir(), CI_DIALECT_SQLITE, &list,
                                  &err) == APR_SUCCESS, "%s", err);
    ck_assert_int_gt(list->nelts, 0);
    return APR_ARRAY_IDX(list, list->nelts - 1, ci_migration_t).version;
}

const char *ut_sql_copy(apr_pool_t *p, const char *dest)
{
    static const ci_dialect_t dialects[] = { CI_DIALECT_SQLITE,
                                             CI_DIALECT_PGSQL };
    int d, i;

    for (d = 0; d < 2; d++) {
        const char *sub = apr_pstrcat(p, dest, dialects[d] == CI_DIALECT_PGSQL
                                      ? "/pgsql" : "/sqlite", NULL);
        apr_array_header_t *list = NULL;
        const char *err = NULL;

        ck_assert_msg(ci_migrate_list(p, ut_sql_dir(), dialects[d], &list,
                                      &err) == APR_SUCCESS, "%s", err);
        ck_assert_int_eq(apr_dir_make_recursive(sub, APR_FPROT_OS_DEFAULT, p),
                         APR_SUCCESS);
        for (i = 0; i < list->nelts; i++) {
            const char *path = APR_ARRAY_IDX(list, i, ci_migration_t).path;
            const char *base = strrchr(path, '/');
            ut_write_file(p, apr_pstrcat(p, sub, base, NULL),
                          ut_read_file(p, path));
        }
    }
    return dest;
}

const char *ut_sqlite_value(apr_pool_t *p, const char *path, const char *sql)
{
    const apr_dbd_driver_t *drv = NULL;
    apr_dbd_t *h = NULL;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *err = NULL, *value = NULL;
    apr_pool_t *tmp;
    int rc, nrows = 0;

    ck_assert_int_eq(apr_pool_create(&tmp, p), APR_SUCCESS);
    ck_assert_int_eq(apr_dbd_init(tmp), APR_SUCCESS);
    ck_assert_int_eq(apr_dbd_get_driver(tmp, "sqlite3", &drv), APR_SUCCESS);
    ck_assert_msg(apr_dbd_open_ex(drv, tmp, path, &h, &err) == APR_SUCCESS,
                  "cannot open %s: %s", path, err ? err : "-");
    rc = apr_dbd_select(drv, tmp, h, &res, sql, 0);
    if (rc) {
        err = apr_pstrdup(p, apr_dbd_error(drv, h, rc));
        apr_dbd_close(drv, h);
        apr_pool_destroy(tmp);
        ck_abort_msg("%s: %s", sql, err);
    }
    while (apr_dbd_get_row(drv, tmp, res, &row, -1) == 0) {
        if (nrows++ == 0 && apr_dbd_get_entry(drv, row, 0)) {
            value = apr_pstrdup(p, apr_dbd_get_entry(drv, row, 0));
        }
    }
    apr_dbd_close(drv, h);
    apr_pool_destroy(tmp);
    return value;
}

const char *ut_guarded(const void *data, apr_size_t len)
{
    apr_size_t page = (apr_size_t)sysconf(_SC_PAGESIZE);
    char *base;

    ck_assert_msg(len <= page, "guarded buffers hold at most one page");
    base = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_msg(base != MAP_FAILED, "mmap failed");
    ck_assert_int_eq(mprotect(base + page, page, PROT_NONE), 0);
    memcpy(base + page - len, data, len);
    return base + page - len;
}

void ut_guarded_free(const char *buf, apr_size_t len)
{
    apr_size_t page = (apr_size_t)sysconf(_SC_PAGESIZE);

    munmap((void *)(buf + len - page), 2 * page);
}

static void capture_sink(void *baton, const char *file, int line,
                         ci_log_level_t level, apr_status_t rv,
                         const char *msg)
{
    (void)baton; (void)file; (void)line; (void)rv;
    if (ut_pool) {
        ut_log = apr_psprintf(ut_pool, "%s%s[%s] %s", ut_log,
                              *ut_log ? "\n" : "",
                              ci_log_level_name(level), msg);
    }
    ut_log_count++;
}

void ut_log_capture(ci_log_level_t max)
{
    ut_log = "";
    ut_log_count = 0;
    ci_log_set_sink(capture_sink, NULL, max);
}

void ut_log_reset(void)
{
    ci_log_set_sink(default_sink, (void *)"carinfo-unit", default_level);
}

int main(int argc, char **argv)
{
    const char *lvl = getenv("CARINFO_UNIT_LOG");
    SRunner *sr;
    int failed;

    apr_initialize();
    if (lvl && ci_log_level_parse(lvl) >= 0) {
        default_sink = ci_log_stderr_sink;
        default_level = (ci_log_level_t)ci_log_level_parse(lvl);
    }
    ut_log_reset();
    tmp_root_create();

    sr = srunner_create(ut_util_suite());
    srunner_add_suite(sr, ut_route_suite());
    srunner_add_suite(sr, ut_json_suite());
    srunner_add_suite(sr, ut_error_suite());
    srunner_add_suite(sr, ut_migrate_suite());
    srunner_add_suite(sr, ut_db_suite());

    srunner_run(sr, argc > 1 ? argv[1] : NULL, argc > 2 ? argv[2] : NULL,
                CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);

    tmp_root_remove();
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
