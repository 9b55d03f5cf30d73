/* mod_carinfo_config.c: CarInfo* directives with create/merge and "unset"
 * sentinels (-1 / NULL); defaults are applied by the getters. Every setter
 * names its directive in its error. Documented in INSTALL. */
#include <httpd.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <http_core.h>

#include "mod_carinfo_config.h"
#include "mod_carinfo_relay.h"
#include "ci_jwt.h"
#include "ci_password.h"
#include "ci_util.h"

#define MERGE(f, unset) (add->f != (unset) ? add->f : base->f)

void *ci_config_create_dir(apr_pool_t *p, char *dir)
{
    ci_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->mount = NULL;
    c->max_body = -1;
    c->debug_echo = -1;
    c->access_ttl = -1;
    c->refresh_ttl = -1;
    c->password_cost = -1;
    c->login_phone.limit = -1;
    c->login_addr.limit = -1;
    c->list_max = -1;
    c->start_addr.limit = -1;
    c->start_owner.limit = -1;
    c->guest_addr.limit = -1;
    c->guest_owner.limit = -1;
    return c;
}

void *ci_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    ci_dir_conf_t *base = basev, *add = addv;
    ci_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->mount = MERGE(mount, NULL);
    c->max_body = MERGE(max_body, -1);
    c->debug_echo = MERGE(debug_echo, -1);
    c->jwt_key = MERGE(jwt_key, NULL);
    c->access_ttl = MERGE(access_ttl, -1);
    c->refresh_ttl = MERGE(refresh_ttl, -1);
    c->password_cost = MERGE(password_cost, -1);
#define MERGE_LIMIT(f) (add->f.limit != -1 ? add->f : base->f)
    c->login_phone = MERGE_LIMIT(login_phone);
    c->login_addr = MERGE_LIMIT(login_addr);
    c->start_addr = MERGE_LIMIT(start_addr);
    c->start_owner = MERGE_LIMIT(start_owner);
    c->guest_addr = MERGE_LIMIT(guest_addr);
    c->guest_owner = MERGE_LIMIT(guest_owner);
    c->ws_base = MERGE(ws_base, NULL);
    c->relay_socket = MERGE(relay_socket, NULL);
    c->web_root = MERGE(web_root, NULL);
    c->openapi_file = MERGE(openapi_file, NULL);
    c->list_max = MERGE(list_max, -1);
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

apr_int64_t ci_config_access_ttl(const ci_dir_conf_t *c)
{
    return c->access_ttl > 0 ? c->access_ttl : CI_DEFAULT_ACCESS_TTL;
}

apr_int64_t ci_config_refresh_ttl(const ci_dir_conf_t *c)
{
    return c->refresh_ttl > 0 ? c->refresh_ttl : CI_DEFAULT_REFRESH_TTL;
}

int ci_config_password_cost(const ci_dir_conf_t *c)
{
    return c->password_cost > 0 ? c->password_cost : CI_DEFAULT_PW_COST;
}

static ci_limit_t limit_or(ci_limit_t set, int limit, int window)
{
    ci_limit_t d;

    if (set.limit != -1) {
        return set;
    }
    d.limit = limit;
    d.window = window;
    return d;
}

ci_limit_t ci_config_login_phone(const ci_dir_conf_t *c)
{
    return limit_or(c->login_phone, 5, 300);
}

ci_limit_t ci_config_login_addr(const ci_dir_conf_t *c)
{
    return limit_or(c->login_addr, 30, 300);
}

ci_limit_t ci_config_start_addr(const ci_dir_conf_t *c)
{
    return limit_or(c->start_addr, 20, 600);
}

ci_limit_t ci_config_start_owner(const ci_dir_conf_t *c)
{
    return limit_or(c->start_owner, 200, 3600);
}

int ci_config_list_max(const ci_dir_conf_t *c)
{
    return c->list_max > 0 ? c->list_max : CI_DEFAULT_LIST_MAX;
}

ci_limit_t ci_config_guest_addr(const ci_dir_conf_t *c)
{
    return limit_or(c->guest_addr, 30, 60);
}

ci_limit_t ci_config_guest_owner(const ci_dir_conf_t *c)
{
    return limit_or(c->guest_owner, 300, 60);
}

/* Parses a whole number in [lo, hi]; NULL or the directive's error. */
static const char *parse_range(cmd_parms *cmd, const char *arg,
                               apr_int64_t lo, apr_int64_t hi,
                               apr_int64_t *out)
{
    if (ci_parse_int64(arg, out) || *out < lo || *out > hi) {
        return apr_psprintf(cmd->pool, "%s: '%s' must be a whole number "
                            "from %" APR_INT64_T_FMT " to %" APR_INT64_T_FMT,
                            cmd->directive->directive, arg, lo, hi);
    }
    return NULL;
}

static const char *set_jwt_key(cmd_parms *cmd, void *dc, const char *arg)
{
    ci_dir_conf_t *c = dc;
    ci_jwt_key_t *key = apr_pcalloc(cmd->pool, sizeof(*key));
    const char *path = ap_server_root_relative(cmd->pool, arg), *err = NULL;

    /* Read now, while httpd still runs as root: the file can be 0600. */
    if (!path || ci_jwt_key_load(cmd->pool, path, key, &err)
        != APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, CI_DIR_JWT_KEY, ": ",
                           err ? err : "bad path", NULL);
    }
    c->jwt_key = key;
    return NULL;
}

static const char *set_ttl(cmd_parms *cmd, void *dc, const char *arg)
{
    ci_dir_conf_t *c = dc;
    apr_int64_t v;
    const char *err = parse_range(cmd, arg, 10, 365 * 86400, &v);

    if (!err) {
        if (cmd->info) {
            c->refresh_ttl = v;
        }
        else {
            c->access_ttl = v;
        }
    }
    return err;
}

static const char *set_pw_cost(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_int64_t v;
    const char *err = parse_range(cmd, arg, CI_PASSWORD_MIN_COST,
                                  CI_PASSWORD_MAX_COST, &v);

    if (!err) {
        ((ci_dir_conf_t *)dc)->password_cost = (int)v;
    }
    return err;
}

static const char *set_limit(cmd_parms *cmd, void *dc, const char *n,
                             const char *secs)
{
    /* cmd->info is the member's offset in ci_dir_conf_t */
    ci_limit_t *l = (ci_limit_t *)((char *)dc + (apr_size_t)cmd->info);
    apr_int64_t a, b;
    const char *err = parse_range(cmd, n, 1, 1000000, &a);

    if (!err) {
        err = parse_range(cmd, secs, 1, 86400, &b);
    }
    if (!err) {
        l->limit = (int)a;
        l->window = (int)b;
    }
    return err;
}

static const char *set_list_max(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_int64_t v;
    const char *err = parse_range(cmd, arg, 1, 10000, &v);

    if (!err) {
        ((ci_dir_conf_t *)dc)->list_max = (int)v;
    }
    return err;
}

static const char *set_ws_base(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_size_t n = strlen(arg);

    if (!(arg[0] == '/' || !strncmp(arg, "ws://", 5)
          || !strncmp(arg, "wss://", 6)) || ap_strchr_c(arg, '?')) {
        return apr_pstrcat(cmd->pool, CI_DIR_WS_BASE, ": '", arg, "' must be "
                           "a path or a ws:// or wss:// URL", NULL);
    }
    while (n > 1 && arg[n - 1] == '/') {
        n--;
    }
    ((ci_dir_conf_t *)dc)->ws_base = apr_pstrmemdup(cmd->pool, arg, n);
    return NULL;
}

static const char *set_relay_socket(cmd_parms *cmd, void *dc,
                                    const char *arg)
{
    const char *path = ap_runtime_dir_relative(cmd->pool, arg);

    if (!path || strlen(path) >= 100) {
        return apr_pstrcat(cmd->pool, CI_DIR_RELAY_SOCK, ": '", arg,
                           "' is not a usable socket path (at most 99 "
                           "bytes)", NULL);
    }
    ((ci_dir_conf_t *)dc)->relay_socket = path;
    return NULL;
}

/* A file or directory path, relative to ServerRoot; cmd->info is the
 * member's offset. Existence is checked per request (404 when absent). */
static const char *set_path(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);

    if (!path) {
        return apr_pstrcat(cmd->pool, cmd->directive->directive, ": '", arg,
                           "' is not a valid path", NULL);
    }
    *(const char **)((char *)dc + (apr_size_t)cmd->info) = path;
    return NULL;
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
    AP_INIT_TAKE1(CI_DIR_JWT_KEY, set_jwt_key, NULL, RSRC_CONF | ACCESS_CONF,
                  "file holding the HS256 key of the JWTs (carinfoctl keygen);"
                  " read at start-up as root"),
    AP_INIT_TAKE1(CI_DIR_ACCESS_TTL, set_ttl, NULL, RSRC_CONF | ACCESS_CONF,
                  "access token lifetime in seconds (default 300)"),
    AP_INIT_TAKE1(CI_DIR_REFRESH_TTL, set_ttl, (void *)1,
                  RSRC_CONF | ACCESS_CONF,
                  "refresh token lifetime in seconds (default 86400)"),
    AP_INIT_TAKE1(CI_DIR_PW_COST, set_pw_cost, NULL, RSRC_CONF | ACCESS_CONF,
                  "bcrypt cost of new password hashes, 4-17 (default 12)"),
    AP_INIT_TAKE2(CI_DIR_LOGIN_PHONE, set_limit,
                  (void *)APR_OFFSETOF(ci_dir_conf_t, login_phone),
                  RSRC_CONF | ACCESS_CONF,
                  "login attempts allowed per phone number: N SECONDS "
                  "(default 5 300)"),
    AP_INIT_TAKE2(CI_DIR_LOGIN_ADDR, set_limit,
                  (void *)APR_OFFSETOF(ci_dir_conf_t, login_addr),
                  RSRC_CONF | ACCESS_CONF,
                  "login attempts allowed per client address: N SECONDS "
                  "(default 30 300)"),
    AP_INIT_TAKE1(CI_DIR_LIST_MAX, set_list_max, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "most items a list answers without ?limit= paging, and "
                  "the largest ?limit= (default 100)"),
    AP_INIT_TAKE2(CI_DIR_START_ADDR, set_limit,
                  (void *)APR_OFFSETOF(ci_dir_conf_t, start_addr),
                  RSRC_CONF | ACCESS_CONF,
                  "chat rooms a client address may start: N SECONDS "
                  "(default 20 600)"),
    AP_INIT_TAKE2(CI_DIR_START_OWNER, set_limit,
                  (void *)APR_OFFSETOF(ci_dir_conf_t, start_owner),
                  RSRC_CONF | ACCESS_CONF,
                  "chat rooms visitors may start with one owner: N SECONDS "
                  "(default 200 3600)"),
    AP_INIT_TAKE2(CI_DIR_GUEST_ADDR, set_limit,
                  (void *)APR_OFFSETOF(ci_dir_conf_t, guest_addr),
                  RSRC_CONF | ACCESS_CONF,
                  "guest messages (POST /api/chat/send/ without login) per "
                  "client address: N SECONDS (default 30 60)"),
    AP_INIT_TAKE2(CI_DIR_GUEST_OWNER, set_limit,
                  (void *)APR_OFFSETOF(ci_dir_conf_t, guest_owner),
                  RSRC_CONF | ACCESS_CONF,
                  "guest messages to one owner: N SECONDS (default 300 60)"),
    AP_INIT_TAKE1(CI_DIR_WS_BASE, set_ws_base, NULL, RSRC_CONF | ACCESS_CONF,
                  "base of the ws_path handed to clients: a path or a "
                  "ws(s):// URL (default <mount>/ws)"),
    AP_INIT_TAKE1(CI_DIR_RELAY_SOCK, set_relay_socket, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "the relay's unix datagram socket for new-message "
                  "notifications (relative to DefaultRuntimeDir)"),
    AP_INIT_TAKE1(CI_DIR_WEB_ROOT, set_path,
                  (void *)APR_OFFSETOF(ci_dir_conf_t, web_root),
                  RSRC_CONF | ACCESS_CONF,
                  "directory of the web pages and API reference (default: "
                  "the installed share/carinfo/web)"),
    AP_INIT_TAKE1(CI_DIR_OPENAPI, set_path,
                  (void *)APR_OFFSETOF(ci_dir_conf_t, openapi_file),
                  RSRC_CONF | ACCESS_CONF,
                  "the OpenAPI document served at /api/schema/ (default: "
                  "<CarInfoWebRoot>/openapi.json)"),
    AP_INIT_RAW_ARGS(CI_DIR_RELAY, ci_relay_cmd, NULL, RSRC_CONF,
                     "PATH [ARGS...]: run carinfo-relay as httpd's child, "
                     "restarted when it dies, stopped with httpd"),
    { NULL }
};
