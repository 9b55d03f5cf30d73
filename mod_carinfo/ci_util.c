/* ci_util.c: see ci_util.h. */
#include <string.h>
#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "ci_util.h"

static const char hexd[] = "0123456789abcdef";

/* The canonical text of the 16 bytes of a UUID. */
static const char *uuid_text(apr_pool_t *p, const unsigned char *b)
{
    char *s, *o;
    int i;

    o = s = apr_palloc(p, CI_UUID_LEN + 1);
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            *o++ = '-';
        }
        *o++ = hexd[b[i] >> 4];
        *o++ = hexd[b[i] & 15];
    }
    *o = '\0';
    return s;
}

const char *ci_uuid4(apr_pool_t *p)
{
    unsigned char b[16];

    if (apr_generate_random_bytes(b, sizeof(b)) != APR_SUCCESS) {
        return NULL;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    return uuid_text(p, b);
}

const char *ci_uuid7(apr_pool_t *p, apr_int64_t usec)
{
    unsigned char rnd[8];

    if (apr_generate_random_bytes(rnd, sizeof(rnd)) != APR_SUCCESS) {
        return NULL;
    }
    return ci_uuid7_with(p, usec, rnd);
}

const char *ci_uuid7_with(apr_pool_t *p, apr_int64_t usec,
                          const unsigned char *rnd)
{
    apr_uint64_t ms = (apr_uint64_t)(usec / 1000);
    unsigned int frac = (unsigned int)((usec % 1000) * 4096 / 1000);
    unsigned char b[16];
    int i;

    if (usec < 0) {
        return NULL;
    }
    memcpy(b + 8, rnd, 8);
    for (i = 0; i < 6; i++) {                   /* 48 bits of Unix ms */
        b[i] = (unsigned char)(ms >> (8 * (5 - i)));
    }
    b[6] = (unsigned char)(0x70 | (frac >> 8)); /* version 7, then the */
    b[7] = (unsigned char)(frac & 0xff);        /* 1/4096 ms (rand_a) */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    return uuid_text(p, b);
}

const char *ci_uuid_normalize(apr_pool_t *p, const char *s)
{
    char *o;
    int i;

    if (!s || strlen(s) != CI_UUID_LEN) {
        return NULL;
    }
    o = apr_pstrmemdup(p, s, CI_UUID_LEN);
    for (i = 0; i < CI_UUID_LEN; i++) {
        char c = o[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return NULL;
            }
        }
        else if (c >= 'A' && c <= 'F') {
            o[i] = (char)(c - 'A' + 'a');
        }
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return NULL;
        }
    }
    return o;
}

const char *ci_random_hex(apr_pool_t *p, apr_size_t n)
{
    unsigned char *b = apr_palloc(p, n);
    char *s = apr_palloc(p, 2 * n + 1);
    apr_size_t i;

    if (apr_generate_random_bytes(b, n) != APR_SUCCESS) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        s[2 * i] = hexd[b[i] >> 4];
        s[2 * i + 1] = hexd[b[i] & 15];
    }
    s[2 * n] = '\0';
    memset(b, 0, n);
    return s;
}

apr_int64_t ci_now_usec(void)
{
    return (apr_int64_t)apr_time_now();
}

/* Writes `v` as `width` decimal digits, zero-padded, ending at `end`. */
static void put_digits(char *end, int v, int width)
{
    while (width--) {
        *--end = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Formatted by hand: apr_psprintf was a tenth of a 50-message list. */
const char *ci_time_iso(apr_pool_t *p, apr_int64_t usec)
{
    apr_time_exp_t t;
    int year;
    char *s;

    apr_time_exp_gmt(&t, (apr_time_t)usec);
    year = t.tm_year + 1900;
    if (year < 0 || year > 9999) {  /* beyond four digits */
        s = apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d", year,
                         t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min,
                         t.tm_sec);
        return t.tm_usec ? apr_psprintf(p, "%s.%06dZ", s, t.tm_usec)
                         : apr_pstrcat(p, s, "Z", NULL);
    }
    /* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" */
    s = apr_palloc(p, sizeof("0000-00-00T00:00:00.000000Z"));
    memcpy(s, "0000-00-00T00:00:00", 19);
    put_digits(s + 4, year, 4);
    put_digits(s + 7, t.tm_mon + 1, 2);
    put_digits(s + 10, t.tm_mday, 2);
    put_digits(s + 13, t.tm_hour, 2);
    put_digits(s + 16, t.tm_min, 2);
    put_digits(s + 19, t.tm_sec, 2);
    if (t.tm_usec) {
        s[19] = '.';
        put_digits(s + 26, t.tm_usec, 6);
        memcpy(s + 26, "Z", 2);
    }
    else {
        memcpy(s + 19, "Z", 2);
    }
    return s;
}

int ci_parse_int64(const char *s, apr_int64_t *out)
{
    apr_uint64_t v = 0, lim;
    int neg = 0;
    const char *d;

    if (!s || !*s) {
        return -1;
    }
    if (*s == '-') {
        neg = 1;
        s++;
    }
    if (!*s || (s[0] == '0' && s[1]) || (neg && s[0] == '0')) {
        return -1;
    }
    lim = neg ? (apr_uint64_t)APR_INT64_MAX + 1 : (apr_uint64_t)APR_INT64_MAX;
    for (d = s; *d; d++) {
        unsigned dig;
        if (*d < '0' || *d > '9') {
            return -1;
        }
        dig = (unsigned)(*d - '0');
        if (v > (lim - dig) / 10) {
            return -1;
        }
        v = v * 10 + dig;
    }
    *out = neg ? (apr_int64_t)(0 - v) : (apr_int64_t)v;
    return 0;
}

int ci_utf8_valid(const char *buf, apr_size_t len)
{
    const unsigned char *s = (const unsigned char *)buf, *e = s + len;

    while (s < e) {
        unsigned c = *s;
        apr_size_t n;
        unsigned cp;

        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1; cp = c & 0x1f;
        }
        else if (c >= 0xe0 && c <= 0xef) {
            n = 2; cp = c & 0x0f;
        }
        else if (c >= 0xf0 && c <= 0xf4) {
            n = 3; cp = c & 0x07;
        }
        else {
            return 0;
        }
        if ((apr_size_t)(e - s) <= n) {
            return 0;
        }
        for (apr_size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800)
            || (n == 3 && (cp < 0x10000 || cp > 0x10ffff))
            || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
        s += n + 1;
    }
    return 1;
}

apr_size_t ci_utf8_len(const char *s)
{
    apr_size_t n = 0;

    for (; *s; s++) {
        if (((unsigned char)*s & 0xc0) != 0x80) {
            n++;
        }
    }
    return n;
}

int ci_is_blank(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'
           || *s == '\f' || *s == '\v') {
        s++;
    }
    return *s == '\0';
}

int ci_ct_equal(const void *a, const void *b, apr_size_t len)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char d = 0;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        d |= (unsigned char)(x[i] ^ y[i]);
    }
    return d == 0;
}

/* Overwrites a URI's query value, up to '&' or the end; returns its
 * length. */
static apr_size_t hide_query_value(char *v)
{
    apr_size_t n = 0;

    for (; *v && *v != '&'; v++, n++) {
        *v = '*';
    }
    return n;
}

/* A postgresql:// URI: the password of user:password@ (the authority ends
 * at the first '/', as libpq reads it) and of ?...password=... */
static apr_size_t hide_uri(char *s)
{
    char *auth = strstr(s, "://") + 3;
    char *end = auth + strcspn(auth, "/");
    char *at = memchr(auth, '@', (apr_size_t)(end - auth));
    char *colon = at ? memchr(auth, ':', (apr_size_t)(at - auth)) : NULL;
    char *q = strchr(end, '?');
    apr_size_t n = 0;
    char *c;

    for (c = colon ? colon + 1 : at; c && c < at; c++, n++) {
        *c = '*';
    }
    while (q) {
        q++;
        if (!strncmp(q, "password=", 9)) {
            n += hide_query_value(q + 9);
        }
        q = strchr(q, '&');
    }
    return n;
}

apr_size_t ci_conninfo_hide_password(char *s)
{
    apr_size_t n = 0;

    if (!strncmp(s, "postgresql://", 13) || !strncmp(s, "postgres://", 11)) {
        return hide_uri(s);
    }
    /* keyword = value pairs, walked as libpq's conninfo parser does: a
     * value is quoted ('...') or runs to white space; \ escapes the next
     * character in both. */
    while (*s) {
        const char *kw;
        int secret, quoted;

        while (apr_isspace(*s)) {
            s++;
        }
        kw = s;
        while (*s && *s != '=' && !apr_isspace(*s)) {
            s++;
        }
        secret = s - kw == 8 && !strncmp(kw, "password", 8);
        while (apr_isspace(*s)) {
            s++;
        }
        if (*s != '=') {
            break;                  /* not a conninfo string: leave it */
        }
        s++;
        while (apr_isspace(*s)) {
            s++;
        }
        quoted = *s == '\'';
        s += quoted;
        while (*s && (quoted ? *s != '\'' : !apr_isspace(*s))) {
            if (*s == '\\' && s[1]) {
                n += secret;
                *s = secret ? '*' : *s;
                s++;
            }
            n += secret;
            *s = secret ? '*' : *s;
            s++;
        }
        s += quoted && *s;
    }
    return n;
}

const char *ci_conninfo_from_argv(apr_pool_t *p, char *arg)
{
    const char *copy = apr_pstrdup(p, arg);

    ci_conninfo_hide_password(arg);
    return copy;
}
