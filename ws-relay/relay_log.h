/* relay_log: carinfo-relay's error log.
 *
 * The relay writes every line in httpd's error-log format on stderr, which
 * it inherits from httpd when mod_carinfo starts it, so its lines land in
 * httpd's error_log next to the module's:
 *   [Sun Nov 22 05:07:00.123456 2026] [carinfo-relay:notice] [pid N]
 *   CI10500: ...  (one line)
 * Two sources feed it: the core's ci_log_perror() (the relay's own messages,
 * tagged CILOGNO(105nn)) and libwebsockets' own log, whose lines all carry
 * the tag of relay_log.c's emit call site.
 */
#ifndef ws_relay_relay_log_h
#define ws_relay_relay_log_h

#include <apr.h>

#include "ci_log.h"

/* Installs the stderr sink for ci_log (ident "carinfo-relay") and routes
 * lws's log into it. `level` is the most verbose level written; notices are
 * always written, as httpd does, so the start and stop lines always show.
 * lws's levels map to ours as: err -> error, warn -> warn, notice and user
 * -> info (lws's notices are chatty), info and debug -> trace1 (lws's info
 * is a line per header table and write, so LogLevel debug stays ours).
 * Call once, before lws_create_context(); safe to call again to change the
 * level. Never fails. */
void ci_relay_log_init(ci_log_level_t level);

/* Copies `s` into buf[0..size) for a log line, the way httpd escapes
 * request data: control bytes, '"', '\\' and bytes >= 0x7f become \xNN,
 * and a string too long is cut with "...". Returns `buf`. `size` must be
 * at least 8. */
const char *ci_relay_log_escape(char *buf, apr_size_t size, const char *s);

/* Copies `s` into buf[0..size) as one line: every run of white space and
 * control bytes (libpq's messages hold "\n\t") becomes one space, ends are
 * trimmed, and a string too long is cut with "...". Returns `buf`. `size`
 * must be at least 4. */
const char *ci_relay_log_oneline(char *buf, apr_size_t size, const char *s);

#endif /* ws_relay_relay_log_h */
