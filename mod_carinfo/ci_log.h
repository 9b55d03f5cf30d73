/* ci_log: logging for the httpd-free core.
 *
 * The core never writes to a log itself: it calls ci_log_perror(), which
 * forwards to the sink installed by the host program. mod_carinfo installs a
 * sink that calls ap_log_error(); carinfo-relay and carinfoctl install one that
 * writes httpd's error-log format to stderr. Tags: CILOGNO(n) expands to
 * "CInnnnn: ", numbers come from tools/next-logno and are never reused.
 */
#ifndef mod_carinfo_ci_log_h
#define mod_carinfo_ci_log_h

#include <stdarg.h>
#include <apr_pools.h>
#include <apr_errno.h>

#define CILOGNO(n) "CI" #n ": "

/* Levels mirror httpd's APLOG_* values so the module sink passes them on. */
typedef enum {
    CI_LOG_EMERG = 0, CI_LOG_ALERT, CI_LOG_CRIT, CI_LOG_ERR, CI_LOG_WARNING,
    CI_LOG_NOTICE, CI_LOG_INFO, CI_LOG_DEBUG, CI_LOG_TRACE1
} ci_log_level_t;

#define CI_LOG_MARK __FILE__, __LINE__

typedef void ci_log_sink_fn(void *baton, const char *file, int line,
                            ci_log_level_t level, apr_status_t rv,
                            const char *msg);

/* Installs the process-wide sink and the most verbose level it wants.
 * Not thread-safe: call once at start-up, before threads exist. */
void ci_log_set_sink(ci_log_sink_fn *sink, void *baton, ci_log_level_t max);

/* Whether a message at `level` would be written (to skip costly formatting). */
int ci_log_is_level(ci_log_level_t level);

/* Formats into `p` (a scratch pool; may be NULL for a 512-byte stack buffer)
 * and hands the message to the sink. Never fails. */
void ci_log_perror(const char *file, int line, ci_log_level_t level,
                   apr_status_t rv, apr_pool_t *p, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* The stderr sink of the relay and carinfoctl: one line in httpd's error-log
 * format, "[Sat Nov 22 05:07:00.123456 2026] [<ident>:<level>] [pid N] msg".
 * `baton` is the ident string (static storage). */
void ci_log_stderr_sink(void *baton, const char *file, int line,
                        ci_log_level_t level, apr_status_t rv,
                        const char *msg);

/* "error", "warn", ... as httpd prints them. */
const char *ci_log_level_name(ci_log_level_t level);

/* Parses "error", "warn", "info", "debug" ...; returns -1 when unknown. */
int ci_log_level_parse(const char *name);

#endif /* mod_carinfo_ci_log_h */
