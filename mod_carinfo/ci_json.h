/* ci_json: jansson in APR pools.
 *
 * A json_t handed to ci_json_own() is released when its pool is cleared, so
 * request code never calls json_decref() itself. Parsing never logs: it
 * returns a status and a client-safe message.
 */
#ifndef mod_carinfo_ci_json_h
#define mod_carinfo_ci_json_h

#include <apr_pools.h>
#include <jansson.h>

/* Ties `j` (a new reference) to `p`: json_decref runs at pool cleanup.
 * Returns `j` (NULL passes through). */
json_t *ci_json_own(apr_pool_t *p, json_t *j);

/* Parses a request body. Rejects invalid UTF-8, NUL characters (\u0000),
 * duplicate keys and trailing garbage. On success *out is owned by `p` and
 * APR_SUCCESS is returned; on failure APR_EINVAL and *err says why in words
 * fit for a client ("JSON parse error - line 1 column 5: ..."). */
apr_status_t ci_json_parse(apr_pool_t *p, const char *buf, apr_size_t len,
                           json_t **out, const char **err);

/* Compact serialization into `p`; *len receives the length. Never NULL. */
const char *ci_json_dump(apr_pool_t *p, const json_t *j, apr_size_t *len);

/* A JSON type name as DRF's messages use it ("string", "integer", ...). */
const char *ci_json_type_name(const json_t *j);

/* Sets key to a string copy, or to null when `s` is NULL. */
void ci_json_set_str(json_t *obj, const char *key, const char *s);

#endif /* mod_carinfo_ci_json_h */
