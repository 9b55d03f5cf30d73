/* relay.h: the state that the parts of carinfo-relay share.
 *
 * carinfo-relay is one libwebsockets event loop. main() owns one ci_relay_t
 * for the life of the process and hands it to lws as the context's user
 * pointer, so each protocol finds it again in LWS_CALLBACK_PROTOCOL_INIT
 * (lws_context_user()) and keeps a pointer to it in its per-vhost data.
 * Everything here is used from the service thread only.
 */
#ifndef ws_relay_relay_h
#define ws_relay_relay_h

#include <sys/types.h>
#include <apr_pools.h>
#include <apr_time.h>
#include <libwebsockets.h>

#include "ci_db.h"
#include "ci_jwt.h"
#include "ci_log.h"

#define CI_RELAY_NAME "carinfo-relay"
#ifndef CI_RELAY_VERSION
#define CI_RELAY_VERSION "0.1.0"
#endif

/* Exit statuses. A supervisor (mod_carinfo, like mod_cgid with its daemon)
 * respawns the relay after CI_RELAY_EXIT_FAILURE, never after
 * CI_RELAY_EXIT_CONFIG (mod_cgid's DAEMON_STARTUP_ERROR): the same command
 * line would fail again. */
#define CI_RELAY_EXIT_OK      0
#define CI_RELAY_EXIT_FAILURE 1     /* could not listen, service failure */
#define CI_RELAY_EXIT_CONFIG  254   /* bad command line */

#define CI_RELAY_DEFAULT_LISTEN "127.0.0.1:9001"
#define CI_RELAY_DEFAULT_MAX_FRAME 16384
#define CI_RELAY_DEFAULT_MAX_RATE 20    /* messages a second, per socket */
#define CI_RELAY_DEFAULT_MAX_BURST 40

struct ci_relay_chat_t;             /* relay_chat.c: rooms and sessions */
struct ci_relay_pg_t;               /* relay_pg.c: the LISTEN connection */
struct ci_relay_ckpt_t;             /* relay_sqlite.c: WAL checkpoints */

/* The command line, parsed and checked (relay_main.c). */
typedef struct ci_relay_config_t {
    const char *listen;         /* as given, for messages: "127.0.0.1:9001" */
    const char *iface;          /* numeric address to bind; NULL: all */
    int port;                   /* 1..65535 */
    int ipv6;                   /* iface is an IPv6 address, or NULL */
    const char *dbdriver;       /* "sqlite3" or "pgsql" */
    const char *dbparams;       /* as DBDParams; may hold a password */
    ci_log_level_t log_level;
    pid_t parent_pid;           /* --parent-pid; -1: not given, 0: no watch */
    const char *jwt_key_file;   /* --jwt-key; NULL: visitors only */
    const char *notify_socket;  /* --notify-socket; NULL: none */
    const char *user;           /* --user: who to become when root */
    apr_size_t max_frame;       /* --max-frame: largest client message */
    int ping_secs;              /* --ping-interval: idle time before a PING */
    int max_rate;               /* --max-rate: a socket's messages a second
                                 * (token bucket refill); 0: no limit */
    int max_burst;              /* --max-burst: the bucket's size */
} ci_relay_config_t;

typedef struct ci_relay_t {
    apr_pool_t *pool;           /* process lifetime */
    const ci_relay_config_t *conf;
    struct lws_context *context;
    struct lws_vhost *vhost;
    int stopping;               /* the context is being destroyed */
    int evlib;                  /* lws runs on libev (epoll) */
    int destroying;             /* ci_relay_woken() began the destruction */

    /* Owner authentication: the key of --jwt-key, read before dropping
     * privileges. key.key is NULL without --jwt-key. */
    ci_jwt_key_t jwt_key;

    /* The database connection (relay_db.c). */
    apr_pool_t *db_pool;        /* owns `db`; NULL while there is none */
    ci_db_t *db;
    apr_time_t db_last_open;    /* last open attempt, 0: never tried */
    int db_failing;             /* last check failed (log transitions once) */
    struct ci_relay_ckpt_t *ckpt;   /* SQLite: the checkpoint thread */

    unsigned int nsockets;      /* open WebSocket sessions (chat protocol) */
    struct ci_relay_chat_t *chat;   /* set by the chat protocol's init */

    /* The notify bus (relay_notify.c, relay_pg.c). */
    int notify_fd;              /* the datagram socket; -1: none */
    int notify_adopted;         /* lws owns notify_fd (and closes it) */
    int notify_bound;           /* we created conf->notify_socket */
    struct ci_relay_pg_t *pg;   /* NULL unless the driver is pgsql */

    /* The parent watch (relay_main.c). */
    lws_sorted_usec_list_t parent_sul;
    pid_t start_ppid;           /* getppid() at start */
    pid_t watch_pid;            /* the process to outlive; 0: none */
    int stop;                   /* set when the parent went away */
} ci_relay_t;

/* Called by a protocol on LWS_CALLBACK_EVENT_WAIT_CANCELLED (a signal or
 * the parent watch woke the loop): with libev, whose loop does not return
 * between passes, starts destroying the context when the relay should
 * stop (relay_main.c). */
void ci_relay_woken(ci_relay_t *relay);

#endif /* ws_relay_relay_h */
