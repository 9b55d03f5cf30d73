/* mod_carinfo_config: the CarInfo* directives, per-directory config. */
#ifndef mod_carinfo_config_h
#define mod_carinfo_config_h

#include <httpd.h>
#include <http_config.h>
#include <apr_tables.h>

/* Directive names, defined once. */
#define CI_DIR_MAX_BODY   "CarInfoMaxBodySize"
#define CI_DIR_MOUNT      "CarInfoMountPath"
#define CI_DIR_DEBUG_ECHO "CarInfoDebugEcho"
#define CI_DIR_JWT_KEY    "CarInfoJWTKeyFile"
#define CI_DIR_ACCESS_TTL "CarInfoAccessTokenLifetime"
#define CI_DIR_REFRESH_TTL "CarInfoRefreshTokenLifetime"
#define CI_DIR_PW_COST    "CarInfoPasswordCost"
#define CI_DIR_LOGIN_PHONE "CarInfoLoginLimitPerPhone"
#define CI_DIR_LOGIN_ADDR "CarInfoLoginLimitPerAddress"
#define CI_DIR_LIST_MAX   "CarInfoListMax"
#define CI_DIR_START_ADDR "CarInfoChatStartLimitPerAddress"
#define CI_DIR_START_OWNER "CarInfoChatStartLimitPerOwner"
#define CI_DIR_WS_BASE    "CarInfoWebSocketBase"
#define CI_DIR_RELAY_SOCK "CarInfoRelaySocket"
#define CI_DIR_WEB_ROOT   "CarInfoWebRoot"
#define CI_DIR_GUEST_ADDR "CarInfoGuestMessageLimitPerAddress"
#define CI_DIR_GUEST_OWNER "CarInfoGuestMessageLimitPerOwner"
#define CI_DIR_OPENAPI    "CarInfoOpenAPIFile"

#define CI_DEFAULT_MAX_BODY (1024 * 1024)
#define CI_DEFAULT_ACCESS_TTL 300
#define CI_DEFAULT_REFRESH_TTL 86400
#define CI_DEFAULT_PW_COST 12
#define CI_DEFAULT_LIST_MAX 100

/* "N per S seconds"; unset when limit is -1. */
typedef struct ci_limit_t {
    int limit;
    int window;
} ci_limit_t;

typedef struct ci_dir_conf_t {
    const char *mount;              /* CarInfoMountPath, NULL = unset */
    apr_off_t max_body;             /* -1 = unset */
    int debug_echo;                 /* -1 = unset */
    const struct ci_jwt_key_t *jwt_key;  /* NULL = unset */
    apr_int64_t access_ttl;         /* seconds, -1 = unset */
    apr_int64_t refresh_ttl;
    int password_cost;              /* -1 = unset */
    ci_limit_t login_phone;         /* limit -1 = unset */
    ci_limit_t login_addr;
    int list_max;                   /* -1 = unset */
    ci_limit_t start_addr;          /* chat rooms started per address */
    ci_limit_t start_owner;         /* chat rooms started per owner */
    ci_limit_t guest_addr;          /* guest messages per address */
    ci_limit_t guest_owner;         /* guest messages per owner */
    const char *ws_base;            /* NULL = unset: <mount>/ws */
    const char *relay_socket;       /* NULL = unset: no datagram */
    const char *web_root;           /* NULL = unset: the installed web/ */
    const char *openapi_file;       /* NULL = unset: <web root>/openapi.json */
} ci_dir_conf_t;

extern const command_rec ci_config_cmds[];

void *ci_config_create_dir(apr_pool_t *p, char *dir);
void *ci_config_merge_dir(apr_pool_t *p, void *basev, void *addv);

/* Finds every <Location> (in any virtual host) that says
 * "SetHandler carinfo" and records its path as a mount point, longest
 * first. Call in post_config with pconf; the list lives as long as it. */
void ci_config_find_mounts(apr_pool_t *pconf);

/* The mount points found, longest first ("" for "/"). */
const apr_array_header_t *ci_config_mounts(void);

/* Getters apply the defaults. */
apr_off_t ci_config_max_body(const ci_dir_conf_t *c);
int ci_config_debug_echo(const ci_dir_conf_t *c);
apr_int64_t ci_config_access_ttl(const ci_dir_conf_t *c);
apr_int64_t ci_config_refresh_ttl(const ci_dir_conf_t *c);
int ci_config_password_cost(const ci_dir_conf_t *c);
ci_limit_t ci_config_login_phone(const ci_dir_conf_t *c);
ci_limit_t ci_config_login_addr(const ci_dir_conf_t *c);
int ci_config_list_max(const ci_dir_conf_t *c);
ci_limit_t ci_config_start_addr(const ci_dir_conf_t *c);
ci_limit_t ci_config_start_owner(const ci_dir_conf_t *c);
ci_limit_t ci_config_guest_addr(const ci_dir_conf_t *c);
ci_limit_t ci_config_guest_owner(const ci_dir_conf_t *c);

#endif /* mod_carinfo_config_h */
