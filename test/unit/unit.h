/* unit.h: shared declarations of the core's unit tests (libcheck).
 *
 * Every test gets its own APR pool, `ut_pool`, created by a checked fixture
 * (ut_pool_setup) before the test and destroyed after it, so whatever a test
 * leaves in it, valgrind sees released. Suites are built by ut_<topic>_suite()
 * and run from unit_main.c; tools/check-unit-registration fails the build
 * when a START_TEST body is not added to a TCase, or a suite is not run.
 */
#ifndef mod_carinfo_test_unit_h
#define mod_carinfo_test_unit_h

#include <check.h>
#include <apr_pools.h>

#include "ci_log.h"
#include "ci_sql.h"

/* The current test's pool; valid between setup and teardown. */
extern apr_pool_t *ut_pool;

/* Checked fixture: creates / destroys ut_pool. */
void ut_pool_setup(void);
void ut_pool_teardown(void);

/* A TCase with the pool fixture already installed. */
TCase *ut_tcase(const char *name);

/* A fresh directory, removed with everything in it when `p` is cleared.
 * It lies under the run's root, $TMPDIR/carinfo-unit-XXXXXX (or /tmp/...),
 * which main() removes at the end, so nothing stays behind even when a
 * failed test in fork mode skips its teardown. Fails the test when it
 * cannot be created. */
const char *ut_tmpdir(apr_pool_t *p);

/* Writes `text` to `path` (created or truncated); fails the test on error. */
void ut_write_file(apr_pool_t *p, const char *path, const char *text);

/* Reads a whole file into `p`, NUL-terminated; fails the test on error. */
const char *ut_read_file(apr_pool_t *p, const char *path);

/* The source tree's sql/ directory: $CARINFO_SQL_DIR, else "sql" (make runs
 * the tests from the top of the tree). */
const char *ut_sql_dir(void);

/* The highest version among the real SQLite migrations (they grow while
 * the tests stay: never hard-code it). */
int ut_sql_latest(apr_pool_t *p);

/* Copies the real migrations of both dialects to dest/{sqlite,pgsql}/;
 * returns `dest`. For private sql dirs that add a migration on top. */
const char *ut_sql_copy(apr_pool_t *p, const char *dest);

/* Runs `sql` on its own apr_dbd SQLite connection to the file `path` and
 * returns the first column of the first row (from `p`), or NULL when there
 * is no row or the value is NULL. Fails the test when the query fails. For
 * looking at a database behind the back of the code under test. */
const char *ut_sqlite_value(apr_pool_t *p, const char *path, const char *sql);

/* Copies `len` bytes to the very end of a page that is followed by an
 * inaccessible page, so that a parser reading one byte too far crashes
 * (picohttpparser's test trick). Release with ut_guarded_free(). */
const char *ut_guarded(const void *data, apr_size_t len);
void ut_guarded_free(const char *buf, apr_size_t len);

/* Log capture: installs a sink that keeps every core message at or above
 * `max` verbosity in `ut_log` (lines joined by '\n', from ut_pool) and
 * counts them. ut_log_reset() uninstalls it (teardown does too). */
extern const char *ut_log;
extern int ut_log_count;
void ut_log_capture(ci_log_level_t max);
void ut_log_reset(void);

/* The suites. */
Suite *ut_route_suite(void);
Suite *ut_json_suite(void);
Suite *ut_error_suite(void);
Suite *ut_util_suite(void);
Suite *ut_db_suite(void);
Suite *ut_migrate_suite(void);

#endif /* mod_carinfo_test_unit_h */
