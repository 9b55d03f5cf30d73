/* mod_carinfo_relay.c: see mod_carinfo_relay.h. */
#include <httpd.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <ap_mpm.h>
#include <http_core.h>
#include <http_log.h>
#include <unistd.h>
#include <unixd.h>

#include "mod_carinfo_relay.h"

APLOG_USE_MODULE(carinfo);

#define QUICK_DEATH_SECS 2      /* a relay that dies this fast ... */
#define QUICK_DEATH_MAX 5       /* ... this many times in a row: give up */

typedef struct {
    const char *const *argv;    /* as configured, argv[0] the binary */
    int argc;
} relay_conf_t;

typedef struct {
    apr_pool_t *pool;           /* pconf */
    server_rec *s;
    apr_proc_t proc;
    apr_time_t started;
    int quick_deaths;
} relay_child_t;

/* Set while reading the config; read in post_config (single-threaded). */
static relay_conf_t relay_conf;

void ci_relay_pre_config(void)
{
    relay_conf.argv = NULL;
    relay_conf.argc = 0;
}

const char *ci_relay_cmd(cmd_parms *cmd, void *dc, const char *args)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char **argv = NULL;
    int argc = 0;

    if (err) {
        return err;
    }
    if (apr_tokenize_to_argv(args, &argv, cmd->pool) != APR_SUCCESS
        || !argv[0]) {
        return CI_DIR_RELAY ": takes the relay's path and its arguments";
    }
    while (argv[argc]) {
        argc++;
    }
    argv[0] = ap_server_root_relative(cmd->pool, argv[0]);
    if (!argv[0] || access(argv[0], X_OK)) {
        return apr_pstrcat(cmd->pool, CI_DIR_RELAY ": '", argv[0] ? argv[0]
                           : "", "' is not an executable file", NULL);
    }
    /* DESIGN's short form: CarInfoRelay /usr/sbin/carinfo-relay ADDR:PORT */
    if (argc == 2 && argv[1][0] != '-') {
        const char **a = apr_pcalloc(cmd->pool, 4 * sizeof(char *));
        a[0] = argv[0];
        a[1] = "--listen";
        a[2] = argv[1];
        relay_conf.argv = a;
        relay_conf.argc = 3;
        return NULL;
    }
    relay_conf.argv = (const char *const *)argv;
    relay_conf.argc = argc;
    return NULL;
}

static void child_errfn(apr_pool_t *p, apr_status_t rv, const char *desc)
{
    ap_log_error(APLOG_MARK, APLOG_ERR, rv, NULL,
                 "CI10124: cannot start carinfo-relay: %s", desc);
}

static void relay_maint(int reason, void *data, apr_wait_t status);

static apr_status_t spawn(relay_child_t *c)
{
    apr_procattr_t *attr;
    const char **argv;
    apr_status_t rv;
    int i, n = 0;

    argv = apr_pcalloc(c->pool, sizeof(char *) * (size_t)(relay_conf.argc
                                                          + 5));
    for (i = 0; i < relay_conf.argc; i++) {
        argv[n++] = relay_conf.argv[i];
    }
    argv[n++] = "--parent-pid";
    argv[n++] = apr_ltoa(c->pool, (long)getpid());
    if (geteuid() == 0 && ap_unixd_config.user_name) {
        argv[n++] = "--user";
        argv[n++] = ap_unixd_config.user_name;
    }
    if ((rv = apr_procattr_create(&attr, c->pool)) != APR_SUCCESS
        || (rv = apr_procattr_cmdtype_set(attr, APR_PROGRAM)) != APR_SUCCESS
        || (rv = apr_procattr_error_check_set(attr, 1)) != APR_SUCCESS
        || (rv = apr_procattr_child_errfn_set(attr, child_errfn))
           != APR_SUCCESS
        || (rv = apr_procattr_io_set(attr, APR_NO_FILE, APR_NO_PIPE,
                                     APR_NO_PIPE)) != APR_SUCCESS) {
        goto leave;
    }
    /* stdout and stderr stay httpd's: the relay's lines land in the
     * error log. */
    rv = apr_proc_create(&c->proc, argv[0], argv, NULL, attr, c->pool);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    c->started = apr_time_now();
    apr_pool_note_subprocess(c->pool, &c->proc, APR_KILL_AFTER_TIMEOUT);
    apr_proc_other_child_register(&c->proc, relay_maint, c, NULL, c->pool);
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, c->s,
                 "CI10125: carinfo-relay started (pid %d): %s",
                 (int)c->proc.pid, argv[0]);
leave:
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, c->s,
                     "CI10126: cannot start carinfo-relay %s", argv[0]);
    }
    return rv;
}

static int mpm_stopping(void)
{
    int state = AP_MPMQ_STARTING;

    ap_mpm_query(AP_MPMQ_MPM_STATE, &state);
    return state == AP_MPMQ_STOPPING;
}

static void relay_maint(int reason, void *data, apr_wait_t status)
{
    relay_child_t *c = data;

    switch (reason) {
    case APR_OC_REASON_DEATH:
    case APR_OC_REASON_LOST:
        apr_proc_other_child_unregister(c);
        if (mpm_stopping()) {
            break;
        }
        /* The MPM passes the exit code (or the signal number) as is. */
        if (status == CI_RELAY_EXIT_CONFIG) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, c->s,
                         "CI10127: carinfo-relay (pid %d) refused its "
                         "configuration (exit status %d); not restarting "
                         "it: fix CarInfoRelay and restart httpd",
                         (int)c->proc.pid, CI_RELAY_EXIT_CONFIG);
            break;
        }
        c->quick_deaths = apr_time_now() - c->started
                          < apr_time_from_sec(QUICK_DEATH_SECS)
                          ? c->quick_deaths + 1 : 0;
        if (c->quick_deaths >= QUICK_DEATH_MAX) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, c->s,
                         "CI10128: carinfo-relay died %d times within %d s "
                         "of its start; not restarting it", c->quick_deaths,
                         QUICK_DEATH_SECS);
            break;
        }
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, c->s,
                     "CI10129: carinfo-relay (pid %d) went away (exit "
                     "status or signal %d); restarting it",
                     (int)c->proc.pid, (int)status);
        spawn(c);
        break;
    case APR_OC_REASON_RESTART:
        /* pconf's cleanup terminates it; the new generation starts one */
        apr_proc_other_child_unregister(c);
        break;
    case APR_OC_REASON_UNREGISTER:
    case APR_OC_REASON_RUNNING:
    default:
        break;
    }
}

int ci_relay_post_config(apr_pool_t *pconf, server_rec *s)
{
    relay_child_t *c;

    if (!relay_conf.argv
        || ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    c = apr_pcalloc(pconf, sizeof(*c));
    c->pool = pconf;
    c->s = s;
    return spawn(c) == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}
