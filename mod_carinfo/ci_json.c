/* ci_json.c: see ci_json.h. */
#include <string.h>
#include <apr_strings.h>

#include "ci_json.h"
#include "ci_util.h"

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

json_t *ci_json_own(apr_pool_t *p, json_t *j)
{
    if (j) {
        apr_pool_cleanup_register(p, j, json_cleanup, apr_pool_cleanup_null);
    }
    return j;
}

apr_status_t ci_json_parse(apr_pool_t *p, const char *buf, apr_size_t len,
                           json_t **out, const char **err)
{
    json_error_t jerr;
    json_t *j;

    *out = NULL;
    if (!ci_utf8_valid(buf, len)) {
        *err = "JSON parse error - request body is not valid UTF-8";
        return APR_EINVAL;
    }
    if (len == 0) {
        /* As Django REST framework: an empty body is empty data. */
        *out = ci_json_own(p, json_object());
        return APR_SUCCESS;
    }
    j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!j && strstr(jerr.text, "\\u0000")) {
        *err = apr_psprintf(p, "JSON parse error - line %d column %d: NUL "
                            "characters (\\u0000) are not allowed",
                            jerr.line, jerr.column);
        return APR_EINVAL;
    }
    if (!j) {
        *err = apr_psprintf(p, "JSON parse error - line %d column %d: %s",
                            jerr.line, jerr.column, jerr.text);
        return APR_EINVAL;
    }
    *out = ci_json_own(p, j);
    return APR_SUCCESS;
}

typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap;
} dump_buf_t;

static int dump_cb(const char *buf, size_t size, void *data)
{
    dump_buf_t *d = data;

    if (d->len + size + 1 > d->cap) {
        apr_size_t cap = d->cap * 2;
        char *nb;
        while (cap < d->len + size + 1) {
            cap *= 2;
        }
        nb = apr_palloc(d->p, cap);
        memcpy(nb, d->buf, d->len);
        d->buf = nb;
        d->cap = cap;
    }
    memcpy(d->buf + d->len, buf, size);
    d->len += size;
    return 0;
}

const char *ci_json_dump(apr_pool_t *p, const json_t *j, apr_size_t *len)
{
    dump_buf_t d;

    d.p = p;
    d.cap = 2048;
    d.len = 0;
    d.buf = apr_palloc(p, d.cap);
    json_dump_callback(j, dump_cb, &d, JSON_COMPACT | JSON_ENCODE_ANY);
    d.buf[d.len] = '\0';
    if (len) {
        *len = d.len;
    }
    return d.buf;
}

const char *ci_json_type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:  return "object";
    case JSON_ARRAY:   return "array";
    case JSON_STRING:  return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL:    return "number";
    case JSON_TRUE:
    case JSON_FALSE:   return "boolean";
    default:           return "null";
    }
}

void ci_json_set_str(json_t *obj, const char *key, const char *s)
{
    json_object_set_new(obj, key, s ? json_string(s) : json_null());
}
