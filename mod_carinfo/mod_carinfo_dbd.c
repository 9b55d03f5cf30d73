/* mod_carinfo_dbd.c: see mod_carinfo_dbd.h. */
#include <httpd.h>
#include <apr_optional.h>
#include <http_log.h>
#include <apr_dbd.h>
#include <mod_dbd.h>

#include "mod_carinfo_dbd.h"
#include "ci_log.h"

APLOG_USE_MODULE(carinfo);

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;

const char *ci_dbd_init(apr_pool_t *p)
{
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    if (!dbd_acquire) {
        return "mod_carinfo requires mod_dbd: add "
               "\"LoadModule dbd_module modules/mod_dbd.so\"";
    }
    return NULL;
}

ci_db_t *ci_dbd_acquire(request_rec *r)
{
    ap_dbd_t *dbd = dbd_acquire ? dbd_acquire(r) : NULL;

    if (!dbd) {
        return NULL;
    }
    return ci_db_attach(dbd->pool, dbd->driver, dbd->handle);
}

static void server_sink(void *baton, const char *file, int line,
                        ci_log_level_t level, apr_status_t rv,
                        const char *msg)
{
    ap_log_error(file, line, APLOG_MODULE_INDEX, (int)level, rv,
                 (server_rec *)baton, "%s", msg);
}

void ci_dbd_log_to_server(server_rec *s)
{
    int level = ap_get_server_module_loglevel(s, APLOG_MODULE_INDEX);

    if (level > CI_LOG_TRACE1) {
        level = CI_LOG_TRACE1;
    }
    ci_log_set_sink(server_sink, s, (ci_log_level_t)level);
}
