/* ci_migrate: the one migration runner (carinfoctl migrate, the tests).
 *
 * Migrations are files sql/<dialect>/NNN_name.sql (dialect "sqlite" or
 * "pgsql"), applied in number order, each in its own transaction together
 * with its row in schema_version. Concurrent runners serialize on the
 * schema_version table, so a migration is never applied twice. It is meant
 * to run while httpd serves: ci_db's statement cache re-prepares what the
 * schema change invalidated. On SQLite it also switches the file to WAL.
 */
#ifndef mod_carinfo_ci_migrate_h
#define mod_carinfo_ci_migrate_h

#include <apr_pools.h>
#include <apr_tables.h>

#include "ci_db.h"

typedef struct ci_migration_t {
    int version;
    const char *name;       /* "init" for 001_init.sql */
    const char *path;
} ci_migration_t;

/* The migrations under sql_dir/<dialect>/, sorted by version, as an array
 * of ci_migration_t from `p`. Fails (APR error, *err from `p`) when the
 * directory cannot be read or two files share a version. */
apr_status_t ci_migrate_list(apr_pool_t *p, const char *sql_dir,
                             ci_dialect_t dialect, apr_array_header_t **out,
                             const char **err);

/* The schema version the database is at (0 when never migrated). */
apr_status_t ci_migrate_version(ci_db_t *db, apr_pool_t *p, int *version);

/* Applies every migration above the current version. *from and *to
 * receive the versions before and after. On failure nothing of the failing
 * migration is kept (earlier ones stay applied), and *err (from `p`) names
 * the file and the database's message. */
apr_status_t ci_migrate_run(ci_db_t *db, apr_pool_t *p, const char *sql_dir,
                            int *from, int *to, const char **err);

#endif /* mod_carinfo_ci_migrate_h */
