/* ci_log.c: the core's log indirection (see ci_log.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "ci_log.h"

static ci_log_sink_fn *log_sink;
static void *log_baton;
static ci_log_level_t log_max = CI_LOG_WARNING;

static const char *const level_names[] = {
    "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
    "trace1"
};

void ci_log_set_sink(ci_log_sink_fn *sink, void *baton, ci_log_level_t max)
{
    log_sink = sink;
    log_baton = baton;
    log_max = max;
}

int ci_log_is_level(ci_log_level_t level)
{
    return log_sink && level <= log_max;
}

const char *ci_log_level_name(ci_log_level_t level)
{
    if ((unsigned)level < sizeof(level_names) / sizeof(level_names[0])) {
        return level_names[level];
    }
    return "trace";
}

int ci_log_level_parse(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (!strcmp(name, level_names[i])) {
            return (int)i;
        }
    }
    return -1;
}

void ci_log_perror(const char *file, int line, ci_log_level_t level,
                   apr_status_t rv, apr_pool_t *p, const char *fmt, ...)
{
    char buf[512];
    const char *msg;
    va_list ap;

    if (!ci_log_is_level(level)) {
        return;
    }
    va_start(ap, fmt);
    if (p) {
        msg = apr_pvsprintf(p, fmt, ap);
    }
    else {
        apr_vsnprintf(buf, sizeof(buf), fmt, ap);
        msg = buf;
    }
    va_end(ap);
    log_sink(log_baton, file, line, level, rv, msg);
}

void ci_log_stderr_sink(void *baton, const char *file, int line,
                        ci_log_level_t level, apr_status_t rv,
                        const char *msg)
{
    char date[APR_CTIME_LEN];
    char err[120] = "";
    apr_time_t now = apr_time_now();

    apr_ctime(date, now);
    if (rv != APR_SUCCESS) {
        char ebuf[100];
        apr_snprintf(err, sizeof(err), "(%d)%s: ", rv,
                     apr_strerror(rv, ebuf, sizeof(ebuf)));
    }
    /* httpd prints "Sat Nov 22 05:07:00.123456 2026": splice the usecs in. */
    fprintf(stderr, "[%.19s.%06d %s] [%s:%s] [pid %ld] %s%s\n",
            date, (int)apr_time_usec(now), date + 20,
            baton ? (const char *)baton : "carinfo",
            ci_log_level_name(level), (long)getpid(), err, msg);
    fflush(stderr);
}
