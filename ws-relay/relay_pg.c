/* relay_pg.c: the PostgreSQL LISTEN connection (see relay_pg.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>
#include <libpq-fe.h>
#include <libwebsockets.h>

#include "ci_chat.h"
#include "ci_log.h"
#include "relay.h"
#include "relay_log.h"
#include "relay_room.h"
#include "relay_pg.h"

#define BACKOFF_MIN (1 * LWS_US_PER_SEC)
#define BACKOFF_MAX (30 * LWS_US_PER_SEC)

struct ci_relay_pg_t {
    ci_relay_t *relay;
    PGconn *conn;                   /* NULL while disconnected */
    struct lws *wsi;                /* the adopted dup of its socket */
    lws_sorted_usec_list_t sul;     /* the retry timer */
    lws_usec_t backoff;
    int failing;                    /* the outage has been logged */
};

static void retry(lws_sorted_usec_list_t *sul);

/* Logs a failure: at error the first time, at debug while it lasts. */
static void failed(struct ci_relay_pg_t *pg, const char *what,
                   const char *text)
{
    char why[400];

    ci_relay_log_oneline(why, sizeof(why), text && *text ? text
                                                         : "unknown error");
    if (!pg->failing) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_ERR, APR_SUCCESS, NULL,
                      CILOGNO(10550) "PostgreSQL LISTEN connection: %s "
                      "failed: %s; messages from other processes wait for "
                      "it (retrying)", what, why);
        pg->failing = 1;
    }
    else {
        ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                      CILOGNO(10551) "PostgreSQL LISTEN connection: %s "
                      "still failing: %s", what, why);
    }
}

static void schedule_retry(struct ci_relay_pg_t *pg)
{
    if (pg->relay->stopping) {
        return;
    }
    lws_sul_schedule(pg->relay->context, 0, &pg->sul, retry, pg->backoff);
    pg->backoff = pg->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX
                                                : pg->backoff * 2;
}

/* Runs a statement on `c`; NULL (after logging) unless it returned
 * `want`. */
static PGresult *run(struct ci_relay_pg_t *pg, PGconn *c, const char *sql,
                     ExecStatusType want)
{
    PGresult *r = PQexec(c, sql);

    if (PQresultStatus(r) != want) {
        failed(pg, sql, r ? PQresultErrorMessage(r) : PQerrorMessage(c));
        PQclear(r);
        return NULL;
    }
    return r;
}

/* Reads what arrived and hands each notification to the chat code.
 * Returns -1 when the connection is broken. */
static int drain(struct ci_relay_pg_t *pg)
{
    apr_int64_t room_id, msg_id;
    PGnotify *n;

    if (!PQconsumeInput(pg->conn)) {
        failed(pg, "reading", PQerrorMessage(pg->conn));
        return -1;
    }
    while ((n = PQnotifies(pg->conn))) {
        if (strcmp(n->relname, CI_CHAT_NOTIFY_CHANNEL)
            || ci_chat_notify_parse(n->extra, &room_id, &msg_id)) {
            ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                          CILOGNO(10552) "ignoring a malformed "
                          "notification");
        }
        else {
            ci_relay_room_notify(pg->relay, room_id, msg_id);
        }
        PQfreemem(n);
    }
    return 0;
}

/* Adopts a dup of the connection's socket into the loop. */
static int adopt(struct ci_relay_pg_t *pg, PGconn *c)
{
    lws_sock_file_fd_type u;
    int fd = fcntl(PQsocket(c), F_DUPFD_CLOEXEC, 0);

    if (fd < 0) {
        failed(pg, "dup", strerror(errno));
        return -1;
    }
    u.filefd = fd;
    pg->wsi = lws_adopt_descriptor_vhost(pg->relay->vhost,
                                         LWS_ADOPT_RAW_FILE_DESC, u,
                                         CI_RELAY_PG_PROTOCOL, NULL);
    if (!pg->wsi) {                 /* lws closed the dup */
        failed(pg, "adopting the socket", "lws refused it");
        return -1;
    }
    return 0;
}

/* Connects, LISTENs and adopts; then catches up, since nobody listened
 * for a while (at start there is no room yet: nothing to do). */
static int connect_now(struct ci_relay_pg_t *pg)
{
    ci_relay_t *relay = pg->relay;
    PGconn *c = PQconnectdb(relay->conf->dbparams);
    PGresult *r;

    if (PQstatus(c) != CONNECTION_OK) {
        failed(pg, "connecting", PQerrorMessage(c));
        goto fail;
    }
    r = run(pg, c, "LISTEN " CI_CHAT_NOTIFY_CHANNEL, PGRES_COMMAND_OK);
    if (!r) {
        goto fail;
    }
    PQclear(r);
    if (adopt(pg, c)) {
        goto fail;
    }
    pg->conn = c;
    ci_log_perror(CI_LOG_MARK, pg->failing ? CI_LOG_NOTICE : CI_LOG_DEBUG,
                  APR_SUCCESS, NULL, CILOGNO(10553) "PostgreSQL LISTEN "
                  "connection %s (channel " CI_CHAT_NOTIFY_CHANNEL ")",
                  pg->failing ? "back" : "open");
    pg->failing = 0;
    pg->backoff = BACKOFF_MIN;
    /* Every commit from now on is notified; those before are read. */
    ci_relay_room_catch_up(relay);
    return drain(pg) ? -1 : 0;      /* a -1 here: RX will close it */
fail:
    PQfinish(c);
    return -1;
}

static void retry(lws_sorted_usec_list_t *sul)
{
    struct ci_relay_pg_t *pg = lws_container_of(sul, struct ci_relay_pg_t,
                                                sul);

    if (!pg->conn && connect_now(pg) && !pg->conn) {
        schedule_retry(pg);
    }
}

static apr_status_t cleanup(void *data)
{
    struct ci_relay_pg_t *pg = data;

    if (pg->conn) {
        PQfinish(pg->conn);
        pg->conn = NULL;
    }
    return APR_SUCCESS;
}

void ci_relay_pg_start(ci_relay_t *relay)
{
    struct ci_relay_pg_t *pg = apr_pcalloc(relay->pool, sizeof(*pg));

    pg->relay = relay;
    pg->backoff = BACKOFF_MIN;
    relay->pg = pg;
    apr_pool_cleanup_register(relay->pool, pg, cleanup,
                              apr_pool_cleanup_null);
    if (connect_now(pg) && !pg->conn) {
        schedule_retry(pg);
    }
}

void ci_relay_pg_stop(ci_relay_t *relay)
{
    if (relay->pg) {
        lws_sul_cancel(&relay->pg->sul);
    }
}

static int pg_callback(struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len)
{
    ci_relay_t *relay = lws_context_user(lws_get_context(wsi));
    struct ci_relay_pg_t *pg = relay->pg;

    switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT_FILE:
        return 0;
    case LWS_CALLBACK_RAW_RX_FILE:
        if (!pg || pg->wsi != wsi || !pg->conn) {
            return -1;
        }
        return drain(pg);
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (!pg || pg->wsi != wsi) {
            return 0;
        }
        pg->wsi = NULL;
        if (pg->conn) {
            PQfinish(pg->conn);
            pg->conn = NULL;
        }
        if (!relay->stopping) {
            failed(pg, "the connection", "closed");
            schedule_retry(pg);
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols ci_relay_pg_protocol = {
    .name = CI_RELAY_PG_PROTOCOL,
    .callback = pg_callback,
};
