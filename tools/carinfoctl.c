/* carinfoctl: the administration tool of mod_carinfo.
 *
 *   carinfoctl [--dbdriver D] [--dbparams P] [--sql-dir DIR] COMMAND
 *     migrate            apply pending migrations (run before httpd starts
 *                        or while it serves; never by the module itself)
 *     version            print the schema version and the newest available
 *     verify             prepare every SQL statement the servers use
 *     mint N [--url B]   mint N free QR sticker tokens, one per line
 *     keygen FILE [--force]  write a JWT signing key file, mode 0600
 *
 * --dbdriver/--dbparams take what DBDriver/DBDParams take in httpd.conf;
 * CARINFO_DBDRIVER and CARINFO_DBPARAMS are read when they are not given.
 * Exit status: 0 success, 1 failure, 2 usage error. Messages go to stderr
 * in httpd's error-log format; stdout carries only the command's output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_getopt.h>
#include <apr_strings.h>

#include "ci_db.h"
#include "ci_log.h"
#include "ci_migrate.h"
#include "ci_util.h"

#ifndef CI_SQL_DIR
#define CI_SQL_DIR "/usr/local/share/carinfo/sql"
#endif
#define CTL_MAX_MINT 100000
#define CTL_KEY_BYTES 64

typedef struct {
    apr_pool_t *pool;
    const char *driver;
    const char *params;
    const char *sql_dir;
    const char *url;
    int force;
    int argc;
    const char *const *argv;
} ctl_t;

static void usage(FILE *out)
{
    fprintf(out,
        "usage: carinfoctl [--dbdriver sqlite3|pgsql] [--dbparams PARAMS]\n"
        "                  [--sql-dir DIR] COMMAND [ARGS]\n"
        "commands:\n"
        "  migrate               apply pending migrations\n"
        "  version               print current and newest schema version\n"
        "  verify                prepare every SQL statement of the servers\n"
        "  mint N [--url BASE]   mint N free sticker tokens (one per line;\n"
        "                        with --url, BASE/q/<token>/ instead)\n"
        "  keygen FILE [--force] write a JWT key file with mode 0600\n"
        "--dbdriver/--dbparams are DBDriver/DBDParams of httpd.conf\n"
        "(defaults: $CARINFO_DBDRIVER or sqlite3, $CARINFO_DBPARAMS).\n"
        "--sql-dir defaults to %s.\n", CI_SQL_DIR);
}

static int fail(const char *what, const char *why)
{
    ci_log_perror(CI_LOG_MARK, CI_LOG_ERR, APR_SUCCESS, NULL,
                  CILOGNO(10002) "%s: %s", what, why);
    return 1;
}

static apr_status_t open_db(ctl_t *ctl, ci_db_t **db)
{
    const char *err = NULL;
    apr_status_t rv;

    if (!ctl->params) {
        fail("database", "no --dbparams (or CARINFO_DBPARAMS) given");
        return APR_EINVAL;
    }
    rv = ci_db_open(db, ctl->pool, ctl->driver, ctl->params, &err);
    if (rv != APR_SUCCESS) {
        fail("database", err);
    }
    return rv;
}

static int cmd_migrate(ctl_t *ctl)
{
    const char *err = "";
    int from = 0, to = 0;
    ci_db_t *db;

    if (open_db(ctl, &db) != APR_SUCCESS) {
        return 1;
    }
    if (ci_migrate_run(db, ctl->pool, ctl->sql_dir, &from, &to, &err)
        != APR_SUCCESS) {
        return fail("migrate", err);
    }
    printf("schema version %d\n", to);
    return 0;
}

static int cmd_version(ctl_t *ctl)
{
    apr_array_header_t *list;
    const char *err = "";
    int cur = 0, newest = 0;
    ci_db_t *db;

    if (open_db(ctl, &db) != APR_SUCCESS) {
        return 1;
    }
    if (ci_migrate_list(ctl->pool, ctl->sql_dir, ci_db_dialect(db), &list,
                        &err) != APR_SUCCESS) {
        return fail("version", err);
    }
    if (ci_migrate_version(db, ctl->pool, &cur) != APR_SUCCESS) {
        return fail("version", ci_db_error(db));
    }
    if (list->nelts) {
        newest = APR_ARRAY_IDX(list, list->nelts - 1, ci_migration_t).version;
    }
    printf("schema version %d (newest available %d)\n", cur, newest);
    return cur == newest ? 0 : 1;
}

static int cmd_verify(ctl_t *ctl)
{
    ci_stmt_id_t bad = CI_STMT_PING;
    ci_db_t *db;

    if (open_db(ctl, &db) != APR_SUCCESS) {
        return 1;
    }
    if (ci_db_prepare_all(db, &bad) != APR_SUCCESS) {
        return fail(apr_psprintf(ctl->pool, "verify: statement %s",
                                 ci_sql_name(bad)), ci_db_error(db));
    }
    printf("%d statements prepared on %s\n", (int)CI_STMT__COUNT,
           ctl->driver);
    return 0;
}

typedef struct {
    int n;
    const char **tokens;
} mint_ctx_t;

static apr_status_t mint_all(ci_db_t *db, apr_pool_t *p, void *baton)
{
    mint_ctx_t *m = baton;
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; i < m->n && rv == APR_SUCCESS; i++) {
        const char *now = ci_db_i64(p, ci_now_usec());
        const char *token = ci_uuid4(p);
        ci_db_rows_t *rows;

        if (!token) {
            return APR_EGENERAL;
        }
        m->tokens[i] = token;
        rv = ci_db_select(db, p, CI_STMT_QR_INSERT_FREE,
                          CI_ARGS(token, now, now), &rows);
        if (rv == APR_SUCCESS) {
            rv = ci_db_exec(db, p, CI_STMT_QR_INSERT,
                            CI_ARGS(token, ci_db_cell(rows, 0, 0), now),
                            NULL);
        }
    }
    return rv;
}

static int cmd_mint(ctl_t *ctl)
{
    apr_int64_t n = 0;
    mint_ctx_t m;
    ci_db_t *db;
    int i;

    if (ctl->argc != 1 || ci_parse_int64(ctl->argv[0], &n) || n < 1
        || n > CTL_MAX_MINT) {
        fprintf(stderr, "carinfoctl: mint takes a count from 1 to %d\n",
                CTL_MAX_MINT);
        return 2;
    }
    if (open_db(ctl, &db) != APR_SUCCESS) {
        return 1;
    }
    m.n = (int)n;
    m.tokens = apr_pcalloc(ctl->pool, sizeof(char *) * (apr_size_t)n);
    if (ci_db_txn(db, ctl->pool, mint_all, &m) != APR_SUCCESS) {
        return fail("mint", ci_db_error(db));
    }
    for (i = 0; i < m.n; i++) {
        if (ctl->url) {
            size_t l = strlen(ctl->url);
            printf("%.*s/q/%s/\n", (int)(l && ctl->url[l - 1] == '/' ? l - 1
                                                                    : l),
                   ctl->url, m.tokens[i]);
        }
        else {
            printf("%s\n", m.tokens[i]);
        }
    }
    return 0;
}

static int cmd_keygen(ctl_t *ctl)
{
    const char *path, *key;
    int fd, flags = O_WRONLY | O_CREAT | O_EXCL;
    size_t len;

    if (ctl->argc != 1) {
        fprintf(stderr, "carinfoctl: keygen takes one file name\n");
        return 2;
    }
    path = ctl->argv[0];
    key = ci_random_hex(ctl->pool, CTL_KEY_BYTES);
    if (!key) {
        return fail("keygen", "the system random generator failed");
    }
    if (ctl->force) {
        unlink(path);
    }
    fd = open(path, flags, 0600);
    if (fd < 0) {
        return fail(apr_psprintf(ctl->pool, "keygen: %s", path),
                    errno == EEXIST ? "exists (use --force to replace it)"
                                    : strerror(errno));
    }
    len = strlen(key);
    if (write(fd, key, len) != (ssize_t)len || write(fd, "\n", 1) != 1
        || fsync(fd) || close(fd)) {
        return fail(apr_psprintf(ctl->pool, "keygen: %s", path),
                    strerror(errno));
    }
    return 0;
}

static const apr_getopt_option_t opts[] = {
    { "dbdriver", 'd', 1, "DBDriver" },
    { "dbparams", 'p', 1, "DBDParams" },
    { "sql-dir",  's', 1, "migrations directory" },
    { "url",      'u', 1, "base URL for mint" },
    { "force",    'f', 0, "replace an existing key file" },
    { "help",     'h', 0, "this help" },
    { NULL, 0, 0, NULL }
};

static int run(apr_pool_t *pool, int argc, const char *const *argv)
{
    ctl_t ctl;
    apr_getopt_t *go;
    const char *arg, *cmd;
    int ch;
    apr_status_t rv;

    memset(&ctl, 0, sizeof(ctl));
    ctl.pool = pool;
    ctl.driver = getenv("CARINFO_DBDRIVER") ? getenv("CARINFO_DBDRIVER")
                                            : "sqlite3";
    ctl.params = getenv("CARINFO_DBPARAMS");
    ctl.sql_dir = CI_SQL_DIR;
    apr_getopt_init(&go, pool, argc, argv);
    go->interleave = 1;
    go->errfn = NULL;
    while ((rv = apr_getopt_long(go, opts, &ch, &arg)) == APR_SUCCESS) {
        switch (ch) {
        case 'd': ctl.driver = arg; break;
        case 'p':
            ctl.params = ci_conninfo_from_argv(ctl.pool, (char *)arg);
            break;
        case 's': ctl.sql_dir = arg; break;
        case 'u': ctl.url = arg; break;
        case 'f': ctl.force = 1; break;
        case 'h': usage(stdout); return 0;
        }
    }
    if (rv != APR_EOF || go->ind >= argc) {
        usage(stderr);
        return 2;
    }
    cmd = go->argv[go->ind];
    ctl.argc = argc - go->ind - 1;
    ctl.argv = go->argv + go->ind + 1;
    if (!strcmp(cmd, "mint")) {
        return cmd_mint(&ctl);
    }
    if (!strcmp(cmd, "keygen")) {
        return cmd_keygen(&ctl);
    }
    if (ctl.argc != 0) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(cmd, "migrate")) {
        return cmd_migrate(&ctl);
    }
    if (!strcmp(cmd, "version")) {
        return cmd_version(&ctl);
    }
    if (!strcmp(cmd, "verify")) {
        return cmd_verify(&ctl);
    }
    usage(stderr);
    return 2;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *pool;
    int rc;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&pool, NULL);
    ci_log_set_sink(ci_log_stderr_sink, "carinfoctl", CI_LOG_NOTICE);
    rc = run(pool, argc, argv);
    fflush(stdout);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
