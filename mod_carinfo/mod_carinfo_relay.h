/* mod_carinfo_relay: httpd starts, watches and stops carinfo-relay.
 *
 * With `CarInfoRelay PATH [ARGS...]` in the main server config, the real
 * start (not the config dry run, not `-t`) spawns the relay as a child of
 * the httpd parent, the way mod_cgid runs its daemon: the process is
 * registered as an "other child", so the MPM tells us when it dies and we
 * start it again (unless httpd is stopping, or the relay said its
 * configuration is wrong: exit status 254). It is killed (SIGTERM, then
 * SIGKILL after 3 s) when the configuration pool goes, i.e. on stop and
 * on every restart, which then starts a fresh one. The relay gets
 * --parent-pid, so it also exits if httpd disappears, and --user with
 * httpd's User when httpd starts as root.
 */
#ifndef mod_carinfo_relay_h
#define mod_carinfo_relay_h

#include <httpd.h>
#include <http_config.h>

#define CI_DIR_RELAY "CarInfoRelay"
#define CI_RELAY_EXIT_CONFIG 254

/* The directive's handler (RAW_ARGS, main server only). */
const char *ci_relay_cmd(cmd_parms *cmd, void *dc, const char *args);

/* pre_config: forgets the previous generation's settings. */
void ci_relay_pre_config(void);

/* post_config: spawns the relay on the real start. Returns OK, or an
 * HTTP error status when it cannot be started at all. */
int ci_relay_post_config(apr_pool_t *pconf, server_rec *s);

#endif /* mod_carinfo_relay_h */
