/* mod_carinfo_config.c: CarInfo* directives with create/merge and "unset"
 * sentinels (-1 / NULL); defaults are applied by the getters. Every setter
 * names its directive in its error. Documented in INSTALL. */
#include <httpd.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <http_core.h>

#include "mod_carinfo_config.h"
#include "ci_util.h"

#define MERGE(f, unset) (add->f != (unset) ? add->f : base->f)

void *ci_config_create_dir(apr_pool_t *p, char *dir)
{
    ci_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->mount = NULL;
    c->max_body = -1;
    c->debug_echo = -1;
    return c;
}

void *ci_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    ci_dir_conf_t *base = basev, *add = addv;
    ci_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->mount = MERGE(mount, NULL);
    c->max_body = MERGE(max_body, -1);
    c->debug_echo = MERGE(debug_echo, -1);
    return c;
}

/* Mount points, set once in post_config (before any request thread). */
static apr_array_header_t *mounts;

/* "/back/" -> "/back", "/" -> "" */
static const char *trim_slashes(apr_pool_t *p, const char *path)
{
    apr_size_t n = strlen(path);

    while (n > 0 && path[n - 1] == '/') {
        n--;
    }
    return apr_pstrmemdup(p, path, n);
}

static int says_carinfo_handler(const ap_directive_t *d)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "SetHandler")
            && !strcasecmp(d->args, "carinfo")) {
            return 1;
        }
    }
    return 0;
}

static void walk_tree(apr_pool_t *p, const ap_directive_t *d)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "<Location") && d->args
            && says_carinfo_handler(d->first_child)) {
            /* args is the path and the closing '>', maybe quoted */
            char *path = apr_pstrdup(p, d->args);
            char *gt = strrchr(path, '>');
            if (gt) {
                *gt = '\0';
            }
            path = ap_getword_conf(p, (const char **)&path);
            if (path[0] == '/') {
                *(const char **)apr_array_push(mounts) = trim_slashes(p, path);
            }
        }
        if (d->first_child) {
            walk_tree(p, d->first_child);
        }
    }
}

static int longest_first(const void *a, const void *b)
{
    return (int)strlen(*(const char *const *)b)
         - (int)strlen(*(const char *const *)a);
}

void ci_config_find_mounts(apr_pool_t *pconf)
{
    mounts = apr_array_make(pconf, 4, sizeof(const char *));
    walk_tree(pconf, ap_conftree);
    qsort(mounts->elts, (size_t)mounts->nelts, sizeof(const char *),
          longest_first);
}

const apr_array_header_t *ci_config_mounts(void)
{
    return mounts;
}

apr_off_t ci_config_max_body(const ci_dir_conf_t *c)
{
    return c->max_body >= 0 ? c->max_body : CI_DEFAULT_MAX_BODY;
}

int ci_config_debug_echo(const ci_dir_conf_t *c)
{
    return c->debug_echo > 0;
}

static const char *set_max_body(cmd_parms *cmd, void *dc, const char *arg)
{
    ci_dir_conf_t *c = dc;
    apr_int64_t v;

    if (ci_parse_int64(arg, &v) || v < 1 || v > APR_INT64_C(1) << 40) {
        return apr_pstrcat(cmd->pool, CI_DIR_MAX_BODY, ": '", arg,
                           "' is not a size in bytes from 1 to 2^40", NULL);
    }
    c->max_body = (apr_off_t)v;
    return NULL;
}

static const char *set_mount(cmd_parms *cmd, void *dc, const char *arg)
{
    ci_dir_conf_t *c = dc;

    if (arg[0] != '/' || strstr(arg, "//") || ap_strchr_c(arg, '?')) {
        return apr_pstrcat(cmd->pool, CI_DIR_MOUNT, ": '", arg,
                           "' must be a URL path starting with '/'", NULL);
    }
    c->mount = trim_slashes(cmd->pool, arg);
    return NULL;
}

static const char *set_debug_echo(cmd_parms *cmd, void *dc, int flag)
{
    ((ci_dir_conf_t *)dc)->debug_echo = flag;
    return NULL;
}

const command_rec ci_config_cmds[] = {
    AP_INIT_TAKE1(CI_DIR_MAX_BODY, set_max_body, NULL, RSRC_CONF | ACCESS_CONF,
                  "largest request body in bytes; more is refused with 413 "
                  "(default 1048576)"),
    AP_INIT_TAKE1(CI_DIR_MOUNT, set_mount, NULL, RSRC_CONF | ACCESS_CONF,
                  "URL path the API routes are relative to (default: the "
                  "enclosing <Location>)"),
    AP_INIT_FLAG(CI_DIR_DEBUG_ECHO, set_debug_echo, NULL,
                 RSRC_CONF | ACCESS_CONF,
                 "serve POST <mount>/api/echo/ for testing body handling "
                 "(default off; never in production)"),
    { NULL }
};
