/* mod_carinfo.c: the module record and its hooks; everything else is in
 * mod_carinfo_*.c (glue) and ci_*.c (the httpd-free core). */
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <ap_mpm.h>

#include "mod_carinfo_config.h"
#include "mod_carinfo_dbd.h"
#include "mod_carinfo_handler.h"
#include "mod_carinfo_relay.h"


static int ci_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s)
{
    const char *err;

    if ((err = ci_dbd_init(ptemp)) || (err = ci_handler_check_routes(ptemp))) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "CI10040: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ci_dbd_log_to_server(s);
    ci_config_find_mounts(pconf);
    return ci_relay_post_config(pconf, s);
}

static int ci_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                         apr_pool_t *ptemp)
{
    ci_relay_pre_config();
    return OK;
}

static void ci_register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(ci_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(ci_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(ci_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(carinfo) = {
    STANDARD20_MODULE_STUFF,
    ci_config_create_dir,
    ci_config_merge_dir,
    NULL,
    NULL,
    ci_config_cmds,
    ci_register_hooks,
    AP_MODULE_FLAG_NONE
};
