/* relay_main.c: carinfo-relay's command line, lws context, signals, parent
 * watch and service loop.
 *
 *   carinfo-relay [--listen ADDR:PORT] [--dbdriver sqlite3|pgsql]
 *                 --dbparams PARAMS [--jwt-key FILE] [--notify-socket PATH]
 *                 [--user NAME] [--max-frame BYTES] [--ping-interval SECS]
 *                 [--log-level LEVEL]
 *                 [--parent-pid PID] [--help] [--version]
 *
 * Start-up order: read the JWT key, create the notify socket and listen
 * (all possibly as root), then become --user, and only then open the
 * database, so that an SQLite file and its -wal/-shm files are never
 * created by root.
 *
 * Exit status: 0 after SIGTERM/SIGINT or when the parent went away, 1 when
 * it cannot listen or the service loop fails, 254 (CI_RELAY_EXIT_CONFIG)
 * for a bad command line, so that a supervisor does not respawn it.
 * mod_carinfo starts it from post_config, like mod_cgid its daemon; it also
 * runs standalone (conf/ has a systemd unit).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <apr_general.h>
#include <apr_getopt.h>
#include <apr_strings.h>
#include <libwebsockets.h>

#include "ci_log.h"
#include "ci_util.h"
#include "relay.h"
#include "relay_chat.h"
#include "relay_db.h"
#include "relay_http.h"
#include "relay_log.h"
#include "relay_notify.h"
#include "relay_pg.h"
#include "relay_sqlite.h"

#define MAX_FDS 65536               /* sockets the relay plans for */
#define FD_RESERVE 64               /* descriptors lws does not see */
#define PING_SECS 30                /* below Apache's 60 s tunnel timeout */
#define PONG_GRACE_SECS 10          /* no PONG this long after a PING: hang up */
#define MAX_FRAME_MIN 256
#define MAX_FRAME_MAX (16 * 1024 * 1024)

/* The one global: the number of the signal that asked us to stop. */
static volatile sig_atomic_t interrupted;

/* What lws requires: lws_cancel_service() needs the context and a signal
 * handler gets no baton. Set only while the context exists; the process
 * has one thread, so the handler never sees a destroyed context. */
static struct lws_context *volatile signal_context;

enum {
    OPT_LISTEN = 256, OPT_DBDRIVER, OPT_DBPARAMS, OPT_LOG_LEVEL,
    OPT_PARENT_PID, OPT_JWT_KEY, OPT_NOTIFY_SOCKET, OPT_USER, OPT_MAX_FRAME,
    OPT_PING, OPT_MAX_RATE, OPT_MAX_BURST,
    OPT_HELP, OPT_VERSION
};

static const apr_getopt_option_t options[] = {
    { "listen", OPT_LISTEN, 1, "ADDR:PORT to listen on" },
    { "dbdriver", OPT_DBDRIVER, 1, "apr_dbd driver: sqlite3 or pgsql" },
    { "dbparams", OPT_DBPARAMS, 1, "the driver's parameters (DBDParams)" },
    { "log-level", OPT_LOG_LEVEL, 1, "most verbose level to log" },
    { "parent-pid", OPT_PARENT_PID, 1, "exit when this process is gone" },
    { "jwt-key", OPT_JWT_KEY, 1, "the JWT key file (owner sockets)" },
    { "notify-socket", OPT_NOTIFY_SOCKET, 1, "the unix datagram socket" },
    { "user", OPT_USER, 1, "the user to become when started as root" },
    { "max-frame", OPT_MAX_FRAME, 1, "largest client message in bytes" },
    { "ping-interval", OPT_PING, 1, "seconds of silence before a PING" },
    { "max-rate", OPT_MAX_RATE, 1, "messages a socket may send a second" },
    { "max-burst", OPT_MAX_BURST, 1, "messages a socket may send at once" },
    { "help", OPT_HELP, 0, "show this help" },
    { "version", OPT_VERSION, 0, "show the version" },
    { NULL, 0, 0, NULL }
};

typedef enum { ACTION_RUN, ACTION_HELP, ACTION_VERSION } action_t;

static void usage(FILE *f)
{
    fputs("Usage: " CI_RELAY_NAME " [--listen ADDR:PORT] "
          "[--dbdriver sqlite3|pgsql]\n"
          "                     --dbparams PARAMS [--jwt-key FILE]\n"
          "                     [--notify-socket PATH] [--user NAME] "
          "[--max-frame BYTES]\n"
          "                     [--max-rate N] [--max-burst N] "
          "[--ping-interval SECS]\n"
          "                     [--log-level LEVEL] [--parent-pid PID] "
          "[--help] [--version]\n"
          "  --listen ADDR:PORT  IPv4 address, [IPv6] or * (all), and port\n"
          "                      (default " CI_RELAY_DEFAULT_LISTEN ")\n"
          "  --dbdriver NAME     as DBDriver: sqlite3 or pgsql "
          "(default sqlite3)\n"
          "  --dbparams PARAMS   as DBDParams: the SQLite file, or a libpq\n"
          "                      conninfo string (required; else\n"
          "                      $CARINFO_DBPARAMS); its password is hidden\n"
          "                      from ps once read\n"
          "  --jwt-key FILE      the key of CarInfoJWTKeyFile, read at start; "
          "without\n"
          "                      it only visitors can open chat sockets\n"
          "  --notify-socket PATH  create this unix datagram socket for "
          "the\n"
          "                      module's CarInfoRelaySocket; removed at "
          "exit\n"
          "  --user NAME         when started as root, become NAME (e.g. "
          "www-data)\n"
          "                      after reading the key and creating the "
          "sockets\n"
          "  --max-frame BYTES   close sockets that send a larger message "
          "(1009;\n"
          "                      default 16384)\n"
          "  --max-rate N        messages a socket may send a second, "
          "on average\n"
          "                      (default 20; 0: no limit)\n"
          "  --max-burst N       messages a socket may send at once "
          "(default 40);\n"
          "                      beyond either, it is closed (1008)\n"
          "  --ping-interval SECS  PING a silent socket after SECS seconds "
          "(default 30;\n"
          "                      keep it below Apache's Timeout)\n"
          "  --log-level LEVEL   emerg, alert, crit, error, warn, notice, "
          "info,\n"
          "                      debug, trace1 (default warn; notices are "
          "always logged)\n"
          "  --parent-pid PID    exit when process PID is gone (default: "
          "the parent\n"
          "                      process; 0: never)\n"
          "Exit status: 0 on SIGTERM/SIGINT or when the parent is gone, 1 "
          "when it\n"
          "cannot listen, 254 for a bad command line.\n", f);
}

/* apr_getopt's error reporter: unknown option, missing argument. */
static void getopt_error(void *baton, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void getopt_error(void *baton, const char *fmt, ...)
{
    char buf[256];
    size_t n;
    va_list ap;

    (void)baton;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    n = strlen(buf);
    while (n && buf[n - 1] == '\n') {
        buf[--n] = '\0';
    }
    ci_log_perror(CI_LOG_MARK, CI_LOG_ERR, APR_SUCCESS, NULL,
                  CILOGNO(10517) "%s", buf);
}

/* "127.0.0.1:9001", "[::1]:9001" or "*:9001" into conf's iface/port/ipv6.
 * Only numeric addresses: lws would take a name for an interface. */
static apr_status_t parse_listen(apr_pool_t *p, const char *arg,
                                 ci_relay_config_t *conf, const char **err)
{
    unsigned char addr[16];
    const char *host, *port, *sep;
    apr_int64_t n;

    if (arg[0] == '[') {
        sep = strchr(arg, ']');
        if (!sep || sep[1] != ':') {
            goto bad;
        }
        host = apr_pstrmemdup(p, arg + 1, (apr_size_t)(sep - arg - 1));
        port = sep + 2;
        if (inet_pton(AF_INET6, host, addr) != 1) {
            goto bad;
        }
        conf->ipv6 = 1;
    }
    else {
        sep = strrchr(arg, ':');
        if (!sep) {
            goto bad;
        }
        host = apr_pstrmemdup(p, arg, (apr_size_t)(sep - arg));
        port = sep + 1;
        if (!strcmp(host, "*")) {
            host = NULL;
        }
        else if (inet_pton(AF_INET, host, addr) != 1) {
            goto bad;
        }
        conf->ipv6 = 0;
    }
    if (ci_parse_int64(port, &n) != 0 || n < 1 || n > 65535) {
        goto bad;
    }
    conf->listen = arg;
    conf->iface = host;
    conf->port = (int)n;
    return APR_SUCCESS;
bad:
    *err = apr_psprintf(p, "--listen '%s': expected ADDR:PORT with ADDR an "
                        "IPv4 address, [IPv6 address] or *, and PORT 1-65535",
                        arg);
    return APR_EINVAL;
}

/* One option's value into `conf`. */
static apr_status_t set_option(apr_pool_t *p, int optch, const char *arg,
                               ci_relay_config_t *conf, const char **err)
{
    apr_int64_t n;
    int level;

    switch (optch) {
    case OPT_LISTEN:
        return parse_listen(p, arg, conf, err);
    case OPT_DBDRIVER:
        if (strcmp(arg, "sqlite3") && strcmp(arg, "pgsql")) {
            *err = apr_psprintf(p, "--dbdriver '%s': expected sqlite3 or "
                                "pgsql", arg);
            return APR_EINVAL;
        }
        conf->dbdriver = arg;
        return APR_SUCCESS;
    case OPT_DBPARAMS:
        conf->dbparams = ci_conninfo_from_argv(p, (char *)arg);
        return APR_SUCCESS;
    case OPT_LOG_LEVEL:
        level = ci_log_level_parse(arg);
        if (level < 0) {
            *err = apr_psprintf(p, "--log-level '%s': expected emerg, alert, "
                                "crit, error, warn, notice, info, debug or "
                                "trace1", arg);
            return APR_EINVAL;
        }
        conf->log_level = (ci_log_level_t)level;
        return APR_SUCCESS;
    case OPT_PARENT_PID:
        if (ci_parse_int64(arg, &n) != 0 || n < 0 || n > 0x7fffffff) {
            *err = apr_psprintf(p, "--parent-pid '%s': expected a process "
                                "id, or 0 for none", arg);
            return APR_EINVAL;
        }
        conf->parent_pid = (pid_t)n;
        return APR_SUCCESS;
    case OPT_JWT_KEY:
        conf->jwt_key_file = arg;
        return APR_SUCCESS;
    case OPT_NOTIFY_SOCKET:
        if (arg[0] != '/') {
            *err = apr_psprintf(p, "--notify-socket '%s': expected an "
                                "absolute path", arg);
            return APR_EINVAL;
        }
        conf->notify_socket = arg;
        return APR_SUCCESS;
    case OPT_USER:
        conf->user = arg;
        return APR_SUCCESS;
    case OPT_MAX_FRAME:
        if (ci_parse_int64(arg, &n) != 0 || n < MAX_FRAME_MIN
            || n > MAX_FRAME_MAX) {
            *err = apr_psprintf(p, "--max-frame '%s': expected a number of "
                                "bytes from %d to %d", arg, MAX_FRAME_MIN,
                                MAX_FRAME_MAX);
            return APR_EINVAL;
        }
        conf->max_frame = (apr_size_t)n;
        return APR_SUCCESS;
    case OPT_PING:
        if (ci_parse_int64(arg, &n) != 0 || n < 1 || n > 3600) {
            *err = apr_psprintf(p, "--ping-interval '%s': expected seconds "
                                "from 1 to 3600 (keep it below Apache's "
                                "Timeout)", arg);
            return APR_EINVAL;
        }
        conf->ping_secs = (int)n;
        return APR_SUCCESS;
    case OPT_MAX_RATE:
    case OPT_MAX_BURST: {
        int rate = optch == OPT_MAX_RATE;   /* 0 allowed: no limit */

        if (ci_parse_int64(arg, &n) != 0 || n < !rate || n > 1000000) {
            *err = apr_psprintf(p, "--%s '%s': expected a number of "
                                "messages from %d to 1000000",
                                rate ? "max-rate" : "max-burst", arg, !rate);
            return APR_EINVAL;
        }
        *(rate ? &conf->max_rate : &conf->max_burst) = (int)n;
        return APR_SUCCESS;
    }
    default:
        *err = "unknown option";
        return APR_EINVAL;
    }
}

/* Parses the command line into `conf` (strings point into argv or `p`).
 * Returns APR_SUCCESS and *action, or APR_EINVAL after logging why. */
static apr_status_t parse_args(apr_pool_t *p, int argc,
                               const char *const *argv,
                               ci_relay_config_t *conf, action_t *action)
{
    const char *arg = NULL, *err = NULL;
    apr_getopt_t *opt;
    apr_status_t rv;
    int optch;

    memset(conf, 0, sizeof(*conf));
    conf->dbdriver = "sqlite3";
    conf->log_level = CI_LOG_WARNING;
    conf->parent_pid = -1;
    conf->max_frame = CI_RELAY_DEFAULT_MAX_FRAME;
    conf->ping_secs = PING_SECS;
    conf->max_rate = CI_RELAY_DEFAULT_MAX_RATE;
    conf->max_burst = CI_RELAY_DEFAULT_MAX_BURST;
    *action = ACTION_RUN;
    rv = parse_listen(p, CI_RELAY_DEFAULT_LISTEN, conf, &err);
    if (rv != APR_SUCCESS) {
        goto leave;
    }
    apr_getopt_init(&opt, p, argc, argv);
    opt->errfn = getopt_error;
    while ((rv = apr_getopt_long(opt, options, &optch, &arg))
           == APR_SUCCESS) {
        if (optch == OPT_HELP || optch == OPT_VERSION) {
            *action = optch == OPT_HELP ? ACTION_HELP : ACTION_VERSION;
            continue;
        }
        rv = set_option(p, optch, arg, conf, &err);
        if (rv != APR_SUCCESS) {
            goto leave;
        }
    }
    if (rv != APR_EOF) {
        rv = APR_EINVAL;            /* getopt_error() said why */
        goto leave;
    }
    rv = APR_SUCCESS;
    if (!conf->dbparams) {
        conf->dbparams = getenv("CARINFO_DBPARAMS");
    }
    if (opt->ind < argc) {
        err = apr_psprintf(p, "unexpected argument '%s'", argv[opt->ind]);
        rv = APR_EINVAL;
    }
    else if (*action == ACTION_RUN && !conf->dbparams) {
        err = "--dbparams (or CARINFO_DBPARAMS) is required (as DBDParams: "
              "the SQLite file, or a libpq conninfo string)";
        rv = APR_EINVAL;
    }
leave:
    if (rv != APR_SUCCESS && err) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_ERR, APR_SUCCESS, NULL,
                      CILOGNO(10503) "bad command line: %s", err);
    }
    return rv;
}

static void on_signal(int signo)
{
    struct lws_context *context = signal_context;

    interrupted = signo;
    if (context) {
        lws_cancel_service(context);
    }
}

/* lws's signal watcher with libev (SIGINT; libev owns that signal then):
 * the same as on_signal(). */
static void on_ev_signal(void *event_lib_handle, int signo)
{
    (void)event_lib_handle;
    on_signal(signo);
}

/* What comes before destroying the context, wherever that starts. */
static void begin_stop(ci_relay_t *relay)
{
    relay->stopping = 1;
    lws_sul_cancel(&relay->parent_sul);
    ci_relay_pg_stop(relay);
    signal_context = NULL;
}

void ci_relay_woken(ci_relay_t *relay)
{
    if (!relay->evlib || relay->destroying || !(interrupted || relay->stop)) {
        return;
    }
    /* libev runs the loop inside lws_service(), which returns once the
     * context is being destroyed; serve() finishes the destruction. */
    relay->destroying = 1;
    begin_stop(relay);
    lws_context_destroy(relay->context);
}

static apr_status_t setup_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL)) {
        return errno;
    }
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL)) {
        return errno;
    }
    return APR_SUCCESS;
}

/* The descriptor limit to run with: MAX_FDS, or the hard RLIMIT_NOFILE
 * if that is lower. */
static rlim_t fd_want(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return 1024;
    }
    return rl.rlim_max != RLIM_INFINITY && rl.rlim_max < MAX_FDS
           ? rl.rlim_max : MAX_FDS;
}

/* Sets the soft RLIMIT_NOFILE to `n` if it can; returns the limit in
 * force. */
static rlim_t fd_set_soft(rlim_t n)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return 1024;
    }
    if (rl.rlim_cur != n) {
        rlim_t cur = rl.rlim_cur;

        rl.rlim_cur = n;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            rl.rlim_cur = cur;
        }
    }
    return rl.rlim_cur;
}

/* The context with its one vhost, listening; NULL on failure (lws logs
 * why). "carinfo-http" is protocols[0] and gets plain HTTP; the pvo makes
 * "carinfo-chat" the default protocol, which confirms WebSocket upgrades. */
static struct lws_context *create_context(ci_relay_t *relay,
                                          const struct lws_protocols *prot)
{
    /* lws keeps a pointer: one context per process, so static is fine */
    static lws_retry_bo_t retry;
    static const struct lws_protocol_vhost_options pvo_default = {
        NULL, NULL, "default", "1"
    };
    static const struct lws_protocol_vhost_options pvo = {
        NULL, &pvo_default, CI_RELAY_CHAT_PROTOCOL, ""
    };
    const ci_relay_config_t *conf = relay->conf;
    struct lws_context_creation_info info;
    struct lws_context *context;
    rlim_t want, lws_fds;

    retry.secs_since_valid_ping = (uint16_t)conf->ping_secs;
    retry.secs_since_valid_hangup = (uint16_t)(conf->ping_secs
                                               + PONG_GRACE_SECS);
    memset(&info, 0, sizeof(info));
    info.iface = conf->iface;
    info.port = conf->port;
    info.protocols = prot;
    info.pvo = &pvo;
    info.vhost_name = CI_RELAY_NAME;
    info.server_string = CI_RELAY_NAME;
    info.user = relay;
    info.retry_and_idle_policy = &retry;
    info.uid = -1;                  /* serve() drops privileges itself */
    info.gid = -1;
    /* No LWS_SERVER_OPTION_VALIDATE_UTF8: lws would close a socket that
     * sends invalid UTF-8 (1007); the chat protocol answers it with an
     * error frame and keeps the socket, like any other bad frame. */
    info.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    /* lws 4.1 with IPv6 compiled in binds an IPv4 iface on "::" (every
     * address): an IPv4 address needs IPv6 off to bind to it alone. */
    if (conf->iface && !conf->ipv6) {
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    }
    /* lws sizes its table to the soft RLIMIT_NOFILE and stops accepting
     * when the table is full, starting again when a socket closes. The
     * relay also holds descriptors lws does not count (the database, its
     * WAL, the checkpoint thread's, stderr): lws gets FD_RESERVE fewer
     * than the process, or the kernel's EMFILE would come first, and a
     * listening socket that stays readable while accept() fails spins the
     * loop. Not with fd_limit_per_thread: lws 4.1 then finds a socket's
     * wsi by a linear search of its table on every event. */
    want = fd_want();
    lws_fds = fd_set_soft(want > 2 * FD_RESERVE ? want - FD_RESERVE
                                                 : want / 2);
    /* epoll through lws's libev plugin (libwebsockets-evlib-ev): lws's own
     * loop hands every socket to poll() on every pass, milliseconds at
     * 20,000 sockets. Without the plugin, that loop. */
    info.options |= LWS_SERVER_OPTION_LIBEV;
    info.signal_cb = on_ev_signal;
    context = lws_create_context(&info);
    relay->evlib = context != NULL;
    if (!context) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_NOTICE, APR_SUCCESS, NULL,
                      CILOGNO(10564) "lws's libev plugin is not there "
                      "(libwebsockets-evlib-ev): poll() serves the sockets, "
                      "which costs more with thousands of them");
        info.options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
        info.signal_cb = NULL;
        context = lws_create_context(&info);
    }
    fd_set_soft(want);
    ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                  CILOGNO(10512) "planning for %lu sockets of %lu file "
                  "descriptors", (unsigned long)lws_fds,
                  (unsigned long)want);
    return context;
}

/* Whether the process we outlive is gone: our parent when getppid()
 * changed (we were reparented), any other when kill(pid, 0) says ESRCH. */
static int parent_gone(const ci_relay_t *relay)
{
    if (relay->watch_pid == relay->start_ppid
        && getppid() != relay->start_ppid) {
        return 1;
    }
    return kill(relay->watch_pid, 0) != 0 && errno == ESRCH;
}

/* The 1-second parent watch timer. */
static void parent_watch(lws_sorted_usec_list_t *sul)
{
    ci_relay_t *relay = lws_container_of(sul, ci_relay_t, parent_sul);

    if (!parent_gone(relay)) {
        lws_sul_schedule(relay->context, 0, sul, parent_watch,
                         LWS_US_PER_SEC);
        return;
    }
    ci_log_perror(CI_LOG_MARK, CI_LOG_NOTICE, APR_SUCCESS, NULL,
                  CILOGNO(10502) "parent %ld went away, shutting down",
                  (long)relay->watch_pid);
    relay->stop = 1;
    lws_cancel_service(relay->context);
}

/* Runs until a signal, the parent watch or an lws failure stops it.
 * Returns the exit status. */
static int service_loop(ci_relay_t *relay)
{
    int n = 0;

    while (!interrupted && !relay->stop && n >= 0) {
        n = lws_service(relay->context, 0);
    }
    if (n < 0) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_ERR, APR_SUCCESS, NULL,
                      CILOGNO(10511) "the lws service loop failed, "
                      "exiting");
        return CI_RELAY_EXIT_FAILURE;
    }
    if (interrupted) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_NOTICE, APR_SUCCESS, NULL,
                      CILOGNO(10501) "caught %s, shutting down",
                      interrupted == SIGINT ? "SIGINT" : "SIGTERM");
    }
    return CI_RELAY_EXIT_OK;
}

/* Reads --jwt-key into relay->jwt_key (nothing without it). */
static apr_status_t load_key(ci_relay_t *relay)
{
    const char *file = relay->conf->jwt_key_file, *err = NULL;
    apr_status_t rv;

    if (!file) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_NOTICE, APR_SUCCESS, NULL,
                      CILOGNO(10554) "no --jwt-key: only visitors can open "
                      "chat sockets");
        return APR_SUCCESS;
    }
    rv = ci_jwt_key_load(relay->pool, file, &relay->jwt_key, &err);
    if (rv != APR_SUCCESS) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_ERR, APR_SUCCESS, NULL,
                      CILOGNO(10555) "--jwt-key: %s", err ? err : file);
    }
    return rv;
}

/* The user and group to become: those of --user when we are root;
 * (uid_t)-1 when there is nothing to do. Running as root without --user
 * is allowed, with a warning. */
static apr_status_t resolve_user(const ci_relay_config_t *conf, uid_t *uid,
                                 gid_t *gid)
{
    const struct passwd *pw;

    *uid = (uid_t)-1;
    *gid = (gid_t)-1;
    if (!conf->user) {
        if (geteuid() == 0) {
            ci_log_perror(CI_LOG_MARK, CI_LOG_WARNING, APR_SUCCESS, NULL,
                          CILOGNO(10556) "running as root: give --user "
                          "(e.g. www-data) so the relay drops privileges");
        }
        return APR_SUCCESS;
    }
    pw = getpwnam(conf->user);
    if (!pw || pw->pw_uid == 0 || (geteuid() != 0
                                   && pw->pw_uid != geteuid())) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_ERR, APR_SUCCESS, NULL,
                      CILOGNO(10557) "--user %s: %s", conf->user,
                      !pw ? "no such user"
                      : pw->pw_uid == 0 ? "must not be root"
                      : "only root can switch to another user");
        return APR_EINVAL;
    }
    if (geteuid() == 0) {
        *uid = pw->pw_uid;
        *gid = pw->pw_gid;
    }
    return APR_SUCCESS;
}

/* setgid, initgroups, setuid; then checks that root cannot come back. */
static apr_status_t drop_privileges(const char *name, uid_t uid, gid_t gid)
{
    apr_status_t rv = APR_SUCCESS;

    if (setgid(gid) != 0 || initgroups(name, gid) != 0
        || setuid(uid) != 0) {
        rv = errno;
    }
    else if (setuid(0) == 0) {
        rv = APR_EGENERAL;
    }
    if (rv != APR_SUCCESS) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_ERR, rv, NULL,
                      CILOGNO(10558) "cannot become user %s", name);
        return rv;
    }
    ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                  CILOGNO(10559) "running as user %s (uid %ld, gid %ld)",
                  name, (long)uid, (long)gid);
    return APR_SUCCESS;
}

/* Reads the key, creates the notify socket, listens, becomes --user;
 * then checks the database (a failure is logged and retried on demand),
 * starts the notify bus and serves until told to stop. Finally destroys
 * the context, removes the socket and closes the database. Returns the
 * exit status. */
static int serve(apr_pool_t *pool, const ci_relay_config_t *conf)
{
    struct lws_protocols protocols[] = {
        ci_relay_http_protocol,
        ci_relay_chat_protocol,
        ci_relay_notify_protocol,
        ci_relay_pg_protocol,
        { .name = NULL }
    };
    ci_relay_t *relay = apr_pcalloc(pool, sizeof(*relay));
    apr_int64_t version = 0;
    apr_pool_t *scratch;
    int status = CI_RELAY_EXIT_FAILURE;
    apr_status_t rv;
    uid_t uid;
    gid_t gid;

    relay->pool = pool;
    relay->conf = conf;
    relay->notify_fd = -1;
    relay->start_ppid = getppid();
    relay->watch_pid = conf->parent_pid < 0 ? relay->start_ppid
                                            : conf->parent_pid;
    rv = setup_signals();
    if (rv != APR_SUCCESS) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_ERR, rv, NULL,
                      CILOGNO(10510) "cannot install signal handlers");
        goto leave;
    }
    if (load_key(relay) != APR_SUCCESS
        || resolve_user(conf, &uid, &gid) != APR_SUCCESS
        || (conf->notify_socket
            && ci_relay_notify_open(relay, uid, gid) != APR_SUCCESS)) {
        status = CI_RELAY_EXIT_CONFIG;
        goto leave;
    }
    relay->context = create_context(relay, protocols);
    if (!relay->context) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_ERR, APR_SUCCESS, NULL,
                      CILOGNO(10504) "cannot listen on %s", conf->listen);
        goto leave;
    }
    signal_context = relay->context;     /* a signal before: loop sees it */
    relay->vhost = lws_get_vhost_by_name(relay->context, CI_RELAY_NAME);
    if (uid != (uid_t)-1 && drop_privileges(conf->user, uid, gid)) {
        status = CI_RELAY_EXIT_CONFIG;
        goto leave;
    }
    apr_pool_create(&scratch, pool);
    ci_relay_db_health(relay, scratch, &version);
    apr_pool_destroy(scratch);
    if (ci_relay_notify_start(relay) != APR_SUCCESS) {
        goto leave;
    }
    if (!strcmp(conf->dbdriver, "pgsql")) {
        ci_relay_pg_start(relay);
    }
    ci_log_perror(CI_LOG_MARK, CI_LOG_NOTICE, APR_SUCCESS, NULL,
                  CILOGNO(10500) "%s %s listening on %s (driver %s)",
                  CI_RELAY_NAME, CI_RELAY_VERSION, conf->listen,
                  conf->dbdriver);
    if (relay->watch_pid > 0) {
        lws_sul_schedule(relay->context, 0, &relay->parent_sul,
                         parent_watch, LWS_US_PER_SEC);
    }
    status = service_loop(relay);
leave:
    relay->stopping = 1;
    if (relay->context) {
        begin_stop(relay);
        lws_context_destroy(relay->context);
        relay->context = NULL;
    }
    ci_relay_notify_close(relay);
    ci_relay_ckpt_stop(relay->ckpt);
    ci_relay_db_close(relay);
    return status;
}

static int abort_on_oom(int retcode)
{
    ci_log_perror(CI_LOG_MARK, CI_LOG_EMERG, APR_ENOMEM, NULL,
                  CILOGNO(10518) "out of memory");
    abort();
    return retcode;
}

int main(int argc, const char *const argv[])
{
    ci_relay_config_t conf;
    apr_pool_t *pool = NULL;
    action_t action;
    int status;

    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS) {
        fputs(CI_RELAY_NAME ": cannot initialize APR\n", stderr);
        return CI_RELAY_EXIT_FAILURE;
    }
    ci_relay_log_init(CI_LOG_WARNING);
    apr_pool_create_ex(&pool, NULL, abort_on_oom, NULL);
    apr_pool_tag(pool, "carinfo-relay");
    if (parse_args(pool, argc, argv, &conf, &action) != APR_SUCCESS) {
        usage(stderr);
        status = CI_RELAY_EXIT_CONFIG;
    }
    else if (action == ACTION_HELP) {
        usage(stdout);
        status = CI_RELAY_EXIT_OK;
    }
    else if (action == ACTION_VERSION) {
        printf("%s %s\n", CI_RELAY_NAME, CI_RELAY_VERSION);
        status = CI_RELAY_EXIT_OK;
    }
    else {
        ci_relay_log_init(conf.log_level);
        status = serve(pool, &conf);
    }
    apr_pool_destroy(pool);
    apr_terminate();
    return status;
}
