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

/* ---- ci_jbuf ---------------------------------------------------------- */

void ci_jbuf_init(ci_jbuf_t *b, apr_pool_t *p, apr_size_t cap)
{
    b->p = p;
    b->cap = cap < 64 ? 64 : cap;
    b->len = 0;
    b->buf = apr_palloc(p, b->cap);
    b->buf[0] = '\0';
}

/* Makes room for n more bytes and the NUL: a buffer twice as large (or
 * more) from the pool, the old one left to it. */
static void jbuf_grow(ci_jbuf_t *b, apr_size_t n)
{
    apr_size_t cap = b->cap * 2;
    char *nb;

    while (cap < b->len + n + 1) {
        cap *= 2;
    }
    nb = apr_palloc(b->p, cap);
    memcpy(nb, b->buf, b->len);
    b->buf = nb;
    b->cap = cap;
}

/* Appends n bytes as they are, keeping the text NUL-terminated. Inline:
 * most appends are a few bytes (punctuation, a run between escapes). */
static APR_INLINE void jbuf_raw(ci_jbuf_t *b, const char *s, apr_size_t n)
{
    if (b->len + n + 1 > b->cap) {
        jbuf_grow(b, n);
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

#define jbuf_lit(b, s) jbuf_raw((b), (s), sizeof(s) - 1)

/* The comma before a value or key, unless it is the first of its
 * container (or of the text) or the value of a key. */
static void jbuf_sep(ci_jbuf_t *b)
{
    if (b->len) {
        char last = b->buf[b->len - 1];

        if (last != '{' && last != '[' && last != ':') {
            jbuf_lit(b, ",");
        }
    }
}

void ci_jbuf_open(ci_jbuf_t *b, char c)
{
    jbuf_sep(b);
    jbuf_raw(b, &c, 1);
}

void ci_jbuf_close(ci_jbuf_t *b, char c)
{
    jbuf_raw(b, &c, 1);
}

/* A quoted string, escaped as jansson's dump does without
 * JSON_ENSURE_ASCII or JSON_ESCAPE_SLASH: the two-character escapes where
 * JSON has one, \u00XX (upper-case hex) for the other control characters;
 * 0x7f and UTF-8 as they are. */
static void jbuf_quoted(ci_jbuf_t *b, const char *s)
{
    static const char hexd[] = "0123456789ABCDEF";
    const unsigned char *c = (const unsigned char *)s, *run;
    char u[6] = { '\\', 'u', '0', '0', 0, 0 };

    jbuf_lit(b, "\"");
    for (;;) {
        run = c;
        while (*c >= 0x20 && *c != '"' && *c != '\\') {
            c++;
        }
        jbuf_raw(b, (const char *)run, (apr_size_t)(c - run));
        if (!*c) {
            break;
        }
        switch (*c) {
        case '"':  jbuf_lit(b, "\\\""); break;
        case '\\': jbuf_lit(b, "\\\\"); break;
        case '\b': jbuf_lit(b, "\\b"); break;
        case '\f': jbuf_lit(b, "\\f"); break;
        case '\n': jbuf_lit(b, "\\n"); break;
        case '\r': jbuf_lit(b, "\\r"); break;
        case '\t': jbuf_lit(b, "\\t"); break;
        default:
            u[4] = hexd[*c >> 4];
            u[5] = hexd[*c & 15];
            jbuf_raw(b, u, sizeof(u));
        }
        c++;
    }
    jbuf_lit(b, "\"");
}

void ci_jbuf_key(ci_jbuf_t *b, const char *key)
{
    jbuf_sep(b);
    jbuf_quoted(b, key);
    jbuf_lit(b, ":");
}

void ci_jbuf_str(ci_jbuf_t *b, const char *s)
{
    if (!s) {
        ci_jbuf_null(b);
        return;
    }
    jbuf_sep(b);
    jbuf_quoted(b, s);
}

void ci_jbuf_int(ci_jbuf_t *b, apr_int64_t v)
{
    char num[24];
    int n = apr_snprintf(num, sizeof(num), "%" APR_INT64_T_FMT, v);

    jbuf_sep(b);
    jbuf_raw(b, num, (apr_size_t)n);
}

void ci_jbuf_bool(ci_jbuf_t *b, int v)
{
    jbuf_sep(b);
    if (v) {
        jbuf_lit(b, "true");
    }
    else {
        jbuf_lit(b, "false");
    }
}

void ci_jbuf_null(ci_jbuf_t *b)
{
    jbuf_sep(b);
    jbuf_lit(b, "null");
}

void ci_jbuf_set_str(ci_jbuf_t *b, const char *key, const char *s)
{
    ci_jbuf_key(b, key);
    ci_jbuf_str(b, s);
}

void ci_jbuf_set_int(ci_jbuf_t *b, const char *key, apr_int64_t v)
{
    ci_jbuf_key(b, key);
    ci_jbuf_int(b, v);
}

void ci_jbuf_set_bool(ci_jbuf_t *b, const char *key, int v)
{
    ci_jbuf_key(b, key);
    ci_jbuf_bool(b, v);
}

static int dump_cb(const char *buf, size_t size, void *data)
{
    jbuf_raw(data, buf, size);
    return 0;
}

const char *ci_json_dump(apr_pool_t *p, const json_t *j, apr_size_t *len)
{
    ci_jbuf_t b;

    ci_jbuf_init(&b, p, 2048);
    json_dump_callback(j, dump_cb, &b, JSON_COMPACT | JSON_ENCODE_ANY);
    if (len) {
        *len = b.len;
    }
    return b.buf;
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
