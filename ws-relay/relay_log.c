/* relay_log.c: carinfo-relay's error log (see relay_log.h). */
#include <string.h>
#include <apr_time.h>
#include <libwebsockets.h>

#include "relay.h"
#include "relay_log.h"

/* lws's level bit -> ours. */
static ci_log_level_t map_lws_level(int lws_level)
{
    switch (lws_level) {
    case LLL_ERR:
        return CI_LOG_ERR;
    case LLL_WARN:
        return CI_LOG_WARNING;
    case LLL_NOTICE:
    case LLL_USER:
        return CI_LOG_INFO;
    default:
        return CI_LOG_TRACE1;
    }
}

/* The lws levels worth asking for when we write up to `level`. */
static int lws_mask_for(ci_log_level_t level)
{
    int mask = LLL_ERR;

    if (level >= CI_LOG_WARNING) {
        mask |= LLL_WARN;
    }
    if (level >= CI_LOG_INFO) {
        mask |= LLL_NOTICE | LLL_USER;
    }
    if (level >= CI_LOG_TRACE1) {
        mask |= LLL_INFO | LLL_DEBUG | LLL_CLIENT | LLL_THREAD;
    }
    return mask;
}

#define LWS_LINES_PER_SEC 10        /* lws errors logged a second, at most */

/* Whether an lws error or warning may be logged now: lws logs some
 * conditions once per event (a socket refused at the descriptor limit),
 * which a burst of clients would turn into a flood. Says how many were
 * dropped once a later second lets a line through. The loop thread
 * only. */
static int lws_line_allowed(void)
{
    static apr_time_t window;
    static unsigned int lines, dropped;
    apr_time_t now = apr_time_sec(apr_time_now());

    if (now != window) {
        if (dropped) {
            ci_log_perror(CI_LOG_MARK, CI_LOG_WARNING, APR_SUCCESS, NULL,
                          CILOGNO(10563) "lws: %u more errors in the last "
                          "second(s) not logged", dropped);
        }
        window = now;
        lines = dropped = 0;
    }
    if (lines >= LWS_LINES_PER_SEC) {
        dropped++;
        return 0;
    }
    lines++;
    return 1;
}

/* lws's emit function: one formatted line, usually ending in '\n'. */
static void lws_emit(int lws_level, const char *line)
{
    size_t len;

    if ((lws_level & (LLL_ERR | LLL_WARN)) && !lws_line_allowed()) {
        return;
    }

    while (*line == ' ') {
        line++;
    }
    len = strlen(line);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
        len--;
    }
    ci_log_perror(CI_LOG_MARK, map_lws_level(lws_level), APR_SUCCESS, NULL,
                  CILOGNO(10505) "lws: %.*s", (int)len, line);
}

void ci_relay_log_init(ci_log_level_t level)
{
    ci_log_set_sink(ci_log_stderr_sink, (void *)CI_RELAY_NAME,
                    level < CI_LOG_NOTICE ? CI_LOG_NOTICE : level);
    lws_set_log_level(lws_mask_for(level), lws_emit);
}

const char *ci_relay_log_escape(char *buf, apr_size_t size, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *c = (const unsigned char *)s;
    apr_size_t n = 0;

    for (; *c; c++) {
        if (n + 4 + 4 > size) {     /* room for "\xNN" and "...\0" */
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }
        if (*c < 0x20 || *c >= 0x7f || *c == '"' || *c == '\\') {
            buf[n++] = '\\';
            buf[n++] = 'x';
            buf[n++] = hex[*c >> 4];
            buf[n++] = hex[*c & 0xf];
        }
        else {
            buf[n++] = (char)*c;
        }
    }
    buf[n] = '\0';
    return buf;
}

const char *ci_relay_log_oneline(char *buf, apr_size_t size, const char *s)
{
    const unsigned char *c = (const unsigned char *)s;
    apr_size_t n = 0;
    int space = 0;

    for (; *c; c++) {
        if (*c <= ' ' || *c == 0x7f) {
            space = n > 0;
            continue;
        }
        if (n + space + 1 + 4 > size) {     /* room for "...\0" */
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }
        if (space) {
            buf[n++] = ' ';
            space = 0;
        }
        buf[n++] = (char)*c;
    }
    buf[n] = '\0';
    return buf;
}
