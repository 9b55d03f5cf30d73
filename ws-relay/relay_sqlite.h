/* relay_sqlite: SQLite WAL checkpoints off the relay's event loop.
 *
 * A commit in WAL mode appends pages to the -wal file; a checkpoint copies
 * them back into the database and fsyncs it. SQLite runs one inside the
 * commit that crosses wal_autocheckpoint (1000 pages), which on the relay
 * would stall every room for the copy and the fsync (milliseconds, more on
 * a busy disk). So the relay's connection turns autocheckpoints off
 * (WAL_NO_AUTOCHECKPOINT) and a thread of its own, on a connection of its
 * own (the SQLite API, not apr_dbd, whose SQLite driver serializes every
 * call on one process-wide mutex), runs a PASSIVE checkpoint every
 * CI_RELAY_CKPT_INTERVAL: it copies what is committed without blocking
 * writers. A WAL only starts over when a checkpoint has copied all of it,
 * which a steady stream of commits can keep from happening; when the WAL
 * has grown past CI_RELAY_CKPT_HIGH pages, ci_relay_ckpt_due() asks the
 * loop to run the last short PASSIVE checkpoint itself, between two
 * commits, after which the next commit starts the WAL over.
 */
#ifndef ws_relay_relay_sqlite_h
#define ws_relay_relay_sqlite_h

#include <apr_pools.h>

#define CI_RELAY_CKPT_INTERVAL apr_time_from_msec(200)
#define CI_RELAY_CKPT_HIGH 4096     /* WAL pages (16 MB at 4 KB) */

typedef struct ci_relay_ckpt_t ci_relay_ckpt_t;

/* Starts the checkpoint thread for the SQLite database `path` (as given
 * to --dbparams; a "file:" URI works). Returns NULL, logged, when the
 * thread cannot start: SQLite's own autocheckpoints then stay on. */
ci_relay_ckpt_t *ci_relay_ckpt_start(apr_pool_t *pool, const char *path);

/* Whether the loop should run a checkpoint now (see above); clears the
 * request. Thread-safe; NULL is never due. */
int ci_relay_ckpt_due(ci_relay_ckpt_t *ck);

/* Stops the thread and waits for it; NULL is fine. */
void ci_relay_ckpt_stop(ci_relay_ckpt_t *ck);

#endif /* ws_relay_relay_sqlite_h */
