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

/* ---- ci_jbuf: JSON text written straight into a pool buffer ---------
 *
 * For the list responses of hot paths: no jansson tree (an object is a hash
 * table and every value a malloc'd copy; building, dumping and freeing one
 * cost more than the query). The text is byte for byte what ci_json_dump()
 * writes for the tree built with the same calls: compact, keys in the order
 * written, strings escaped as jansson does (", \, control characters;
 * UTF-8 passes through). Strings must be valid UTF-8 (everything the
 * store holds came through ci_json_parse()).
 *
 * Values and keys separate themselves: each is preceded by a comma unless
 * it opens the text, an object or an array, or follows a key. So
 *     ci_jbuf_open(b, '{'); ci_jbuf_set_int(b, "a", 1);
 *     ci_jbuf_key(b, "b"); ci_jbuf_null(b); ci_jbuf_close(b, '}');
 * writes {"a":1,"b":null}. Nothing can fail: the buffer grows from its
 * pool, and b->buf is always NUL-terminated after b->len bytes.
 */
typedef struct ci_jbuf_t {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap;
} ci_jbuf_t;

/* Starts an empty text in `p` with room for about `cap` bytes. */
void ci_jbuf_init(ci_jbuf_t *b, apr_pool_t *p, apr_size_t cap);

/* Opens ('{' or '[') or closes ('}' or ']') an object or an array. */
void ci_jbuf_open(ci_jbuf_t *b, char c);
void ci_jbuf_close(ci_jbuf_t *b, char c);

/* A member's key; its value is the next thing written. */
void ci_jbuf_key(ci_jbuf_t *b, const char *key);

/* Values: a string (null when `s` is NULL, as ci_json_set_str() does), an
 * integer, a boolean (any non-zero `v` is true), null. */
void ci_jbuf_str(ci_jbuf_t *b, const char *s);
void ci_jbuf_int(ci_jbuf_t *b, apr_int64_t v);
void ci_jbuf_bool(ci_jbuf_t *b, int v);
void ci_jbuf_null(ci_jbuf_t *b);

/* A member: ci_jbuf_key() then the value. */
void ci_jbuf_set_str(ci_jbuf_t *b, const char *key, const char *s);
void ci_jbuf_set_int(ci_jbuf_t *b, const char *key, apr_int64_t v);
void ci_jbuf_set_bool(ci_jbuf_t *b, const char *key, int v);

#endif /* mod_carinfo_ci_json_h */
