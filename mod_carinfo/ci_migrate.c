/* ci_migrate.c: see ci_migrate.h. */
#include <stdlib.h>
#include <string.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "ci_log.h"
#include "ci_migrate.h"

static const char *const bootstrap_sql =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)";

/* NNN_name.sql with name in [a-z0-9_]; returns the version or -1. */
static int parse_name(apr_pool_t *p, const char *fname, const char **name)
{
    size_t len = strlen(fname), i;

    if (len < 9 || strcmp(fname + len - 4, ".sql") || fname[3] != '_') {
        return -1;
    }
    for (i = 0; i < 3; i++) {
        if (fname[i] < '0' || fname[i] > '9') {
            return -1;
        }
    }
    for (i = 4; i < len - 4; i++) {
        char c = fname[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return -1;
        }
    }
    *name = apr_pstrmemdup(p, fname + 4, len - 8);
    return atoi(fname);
}

static int by_version(const void *a, const void *b)
{
    return ((const ci_migration_t *)a)->version
         - ((const ci_migration_t *)b)->version;
}

apr_status_t ci_migrate_list(apr_pool_t *p, const char *sql_dir,
                             ci_dialect_t dialect, apr_array_header_t **out,
                             const char **err)
{
    const char *dir = apr_pstrcat(p, sql_dir, "/",
                                  dialect == CI_DIALECT_PGSQL ? "pgsql"
                                                              : "sqlite",
                                  NULL);
    apr_array_header_t *list = apr_array_make(p, 8, sizeof(ci_migration_t));
    apr_finfo_t fi;
    apr_dir_t *d;
    apr_status_t rv;
    int i;

    rv = apr_dir_open(&d, dir, p);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot read migrations in %s", dir);
        return rv;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)
           == APR_SUCCESS) {
        ci_migration_t *m;
        const char *name;
        int v;

        if (fi.filetype != APR_REG
            || (v = parse_name(p, fi.name, &name)) <= 0) {
            continue;
        }
        m = apr_array_push(list);
        m->version = v;
        m->name = name;
        m->path = apr_pstrcat(p, dir, "/", fi.name, NULL);
    }
    apr_dir_close(d);
    qsort(list->elts, (size_t)list->nelts, sizeof(ci_migration_t),
          by_version);
    for (i = 1; i < list->nelts; i++) {
        ci_migration_t *m = &APR_ARRAY_IDX(list, i, ci_migration_t);
        if (m[-1].version == m->version) {
            *err = apr_psprintf(p, "%s and %s have the same version number",
                                m[-1].path, m->path);
            return APR_EINVAL;
        }
    }
    *out = list;
    return APR_SUCCESS;
}

apr_status_t ci_migrate_version(ci_db_t *db, apr_pool_t *p, int *version)
{
    ci_db_rows_t *rows;
    apr_status_t rv;

    rv = ci_db_exec_raw(db, bootstrap_sql);
    if (rv == APR_SUCCESS) {
        rv = ci_db_select(db, p, CI_STMT_SCHEMA_VERSION, NULL, &rows);
    }
    if (rv == APR_SUCCESS) {
        *version = (int)ci_db_cell_i64(rows, 0, 0, 0);
    }
    return rv;
}

typedef struct {
    const ci_migration_t *m;
    const char *sql;
    int skipped;
} apply_ctx_t;

static apr_status_t apply_one(ci_db_t *db, apr_pool_t *p, void *baton)
{
    apply_ctx_t *ctx = baton;
    ci_db_rows_t *rows;
    apr_status_t rv;

    /* Serialize with other runners, then re-read the version under the
     * lock (SQLite's BEGIN IMMEDIATE already holds the write lock). */
    if (ci_db_dialect(db) == CI_DIALECT_PGSQL) {
        rv = ci_db_exec_raw(db, "LOCK TABLE schema_version IN EXCLUSIVE MODE");
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    rv = ci_db_select(db, p, CI_STMT_SCHEMA_VERSION, NULL, &rows);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    ctx->skipped = ci_db_cell_i64(rows, 0, 0, 0) >= ctx->m->version;
    if (ctx->skipped) {
        return APR_SUCCESS;
    }
    if (*ctx->sql) {
        rv = ci_db_exec_raw(db, ctx->sql);
        ci_db_forget_all(db);           /* the schema just changed */
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return ci_db_exec(db, p, CI_STMT_SCHEMA_VERSION_ADD,
                      CI_ARGS(apr_itoa(p, ctx->m->version), ctx->m->name,
                              ci_db_i64(p, (apr_int64_t)apr_time_now())),
                      NULL);
}

/* Removes "--" comments (outside quotes) and trailing blanks in place:
 * apr_dbd's SQLite driver prepares the text after the last ';' as one more,
 * empty, statement and fails on it ("not an error"). A file left empty is
 * a migration with no SQL (a number kept in step with the other dialect). */
static void strip_comments(char *sql)
{
    char *in = sql, *out = sql, quote = 0;
    size_t n;

    while (*in) {
        if (quote) {
            if (*in == quote) {
                quote = 0;
            }
            *out++ = *in++;
        }
        else if (*in == '\'' || *in == '"') {
            quote = *in;
            *out++ = *in++;
        }
        else if (in[0] == '-' && in[1] == '-') {
            while (*in && *in != '\n') {
                in++;
            }
        }
        else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    n = strlen(sql);
    while (n > 0 && (sql[n - 1] == ' ' || sql[n - 1] == '\t'
                     || sql[n - 1] == '\n' || sql[n - 1] == '\r')) {
        sql[--n] = '\0';
    }
}

static apr_status_t read_file(apr_pool_t *p, const char *path,
                              const char **text)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    apr_status_t rv;
    char *buf;

    rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv == APR_SUCCESS) {
        n = (apr_size_t)fi.size;
        buf = apr_palloc(p, n + 1);
        rv = apr_file_read_full(f, buf, n, &n);
        buf[n] = '\0';
        strip_comments(buf);
        *text = buf;
    }
    apr_file_close(f);
    return rv;
}

apr_status_t ci_migrate_run(ci_db_t *db, apr_pool_t *p, const char *sql_dir,
                            int *from, int *to, const char **err)
{
    apr_array_header_t *list;
    apr_status_t rv;
    int i;

    rv = ci_migrate_list(p, sql_dir, ci_db_dialect(db), &list, err);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    if (ci_db_dialect(db) == CI_DIALECT_SQLITE) {
        /* Persistent in the file; it answers with a row, which the driver
         * reports as an error: the effect is what counts. */
        ci_db_exec_raw(db, "PRAGMA journal_mode=WAL");
    }
    rv = ci_migrate_version(db, p, from);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot read schema_version: %s",
                            ci_db_error(db));
        goto leave;
    }
    *to = *from;
    for (i = 0; i < list->nelts; i++) {
        apply_ctx_t ctx;

        ctx.m = &APR_ARRAY_IDX(list, i, ci_migration_t);
        if (ctx.m->version <= *to) {
            continue;
        }
        rv = read_file(p, ctx.m->path, &ctx.sql);
        if (rv != APR_SUCCESS) {
            *err = apr_psprintf(p, "cannot read %s", ctx.m->path);
            goto leave;
        }
        ctx.skipped = 0;
        rv = ci_db_txn(db, p, apply_one, &ctx);
        if (rv != APR_SUCCESS) {
            *err = apr_psprintf(p, "%s failed: %s", ctx.m->path,
                                ci_db_error(db));
            goto leave;
        }
        if (!ctx.skipped) {
            ci_log_perror(CI_LOG_MARK, CI_LOG_NOTICE, APR_SUCCESS, p,
                          CILOGNO(10001) "applied migration %03d_%s",
                          ctx.m->version, ctx.m->name);
        }
        *to = ctx.m->version;
    }
leave:
    return rv;
}
