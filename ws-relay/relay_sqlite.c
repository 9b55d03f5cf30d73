/* relay_sqlite.c: the checkpoint thread (see relay_sqlite.h). */
#include <sqlite3.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "ci_log.h"
#include "relay_sqlite.h"

struct ci_relay_ckpt_t {
    const char *path;
    apr_thread_t *thread;
    apr_thread_mutex_t *mu;
    apr_thread_cond_t *cv;
    int stop;                       /* under mu */
    volatile apr_uint32_t due;      /* the loop should finish the job */
};

/* One PASSIVE checkpoint on `db`; logs a change between working and
 * failing once. */
static void checkpoint(ci_relay_ckpt_t *ck, sqlite3 *db, int *failing)
{
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                       &log, &done);

    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        if (!*failing) {
            ci_log_perror(CI_LOG_MARK, CI_LOG_WARNING, APR_SUCCESS, NULL,
                          CILOGNO(10560) "WAL checkpoint of %s failed: %s; "
                          "retrying", ck->path, sqlite3_errmsg(db));
        }
        *failing = 1;
        return;
    }
    *failing = 0;
    if (log >= CI_RELAY_CKPT_HIGH) {
        apr_atomic_set32(&ck->due, 1);
    }
}

static void *APR_THREAD_FUNC run(apr_thread_t *thread, void *data)
{
    ci_relay_ckpt_t *ck = data;
    sqlite3 *db = NULL;
    int failing = 0;

    apr_thread_mutex_lock(ck->mu);
    while (!ck->stop) {
        apr_thread_cond_timedwait(ck->cv, ck->mu, CI_RELAY_CKPT_INTERVAL);
        if (ck->stop) {
            break;
        }
        apr_thread_mutex_unlock(ck->mu);
        if (!db && sqlite3_open_v2(ck->path, &db, SQLITE_OPEN_READWRITE
                                   | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
            if (!failing) {
                ci_log_perror(CI_LOG_MARK, CI_LOG_WARNING, APR_SUCCESS,
                              NULL, CILOGNO(10561) "cannot open %s for WAL "
                              "checkpoints: %s; retrying", ck->path,
                              db ? sqlite3_errmsg(db) : "out of memory");
            }
            failing = 1;
            sqlite3_close(db);
            db = NULL;
        }
        else {
            checkpoint(ck, db, &failing);
        }
        apr_thread_mutex_lock(ck->mu);
    }
    apr_thread_mutex_unlock(ck->mu);
    sqlite3_close(db);
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

ci_relay_ckpt_t *ci_relay_ckpt_start(apr_pool_t *pool, const char *path)
{
    ci_relay_ckpt_t *ck = apr_pcalloc(pool, sizeof(*ck));
    apr_status_t rv;

    ck->path = apr_pstrdup(pool, path);
    rv = apr_thread_mutex_create(&ck->mu, APR_THREAD_MUTEX_DEFAULT, pool);
    if (rv == APR_SUCCESS) {
        rv = apr_thread_cond_create(&ck->cv, pool);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_thread_create(&ck->thread, NULL, run, ck, pool);
    }
    if (rv != APR_SUCCESS) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_WARNING, rv, NULL,
                      CILOGNO(10562) "cannot start the WAL checkpoint "
                      "thread; SQLite checkpoints in the event loop");
        return NULL;
    }
    return ck;
}

int ci_relay_ckpt_due(ci_relay_ckpt_t *ck)
{
    return ck && apr_atomic_xchg32(&ck->due, 0);
}

void ci_relay_ckpt_stop(ci_relay_ckpt_t *ck)
{
    apr_status_t ignored;

    if (!ck) {
        return;
    }
    apr_thread_mutex_lock(ck->mu);
    ck->stop = 1;
    apr_thread_cond_signal(ck->cv);
    apr_thread_mutex_unlock(ck->mu);
    apr_thread_join(&ignored, ck->thread);
}
