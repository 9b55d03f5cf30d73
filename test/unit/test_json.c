/* test_json.c: ci_json (strict request parsing, dumping, pool ownership,
 * the ci_jbuf writer against jansson). */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "unit.h"
#include "ci_json.h"

/* Parses `len` bytes placed against a guard page (see ut_guarded). */
static apr_status_t parse_guarded(const char *buf, apr_size_t len,
                                  json_t **out, const char **err)
{
    const char *g = ut_guarded(buf, len);
    apr_status_t rv = ci_json_parse(ut_pool, g, len, out, err);

    ut_guarded_free(g, len);
    return rv;
}

/* Asserts that `body` is refused; returns the message. */
static const char *refused(const char *body, apr_size_t len)
{
    json_t *j = (json_t *)1;
    const char *err = NULL;
    apr_status_t rv = parse_guarded(body, len, &j, &err);

    ck_assert_msg(rv == APR_EINVAL, "accepted '%s'", body);
    ck_assert_ptr_null(j);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(!strncmp(err, "JSON parse error - ", 19),
                  "message: %s", err);
    return err;
}

static json_t *accepted(const char *body)
{
    json_t *j = NULL;
    const char *err = NULL;
    apr_status_t rv = parse_guarded(body, strlen(body), &j, &err);

    ck_assert_msg(rv == APR_SUCCESS, "refused '%s': %s", body,
                  err ? err : "-");
    ck_assert_ptr_nonnull(j);
    return j;
}

/* ---- ci_json_parse --------------------------------------------------- */

START_TEST(parse_rejects_invalid_utf8)
{
    static const char *const bad[] = {
        "{\"a\":\"\xc0\xaf\"}",                 /* overlong 2-byte */
        "{\"a\":\"\xc1\xbf\"}",
        "{\"a\":\"\xe0\x80\xaf\"}",             /* overlong 3-byte */
        "{\"a\":\"\xf0\x80\x80\xaf\"}",         /* overlong 4-byte */
        "{\"a\":\"\xed\xa0\x80\"}",             /* UTF-16 surrogate */
        "{\"a\":\"\xed\xbf\xbf\"}",
        "{\"a\":\"\xf4\x90\x80\x80\"}",         /* above U+10FFFF */
        "{\"a\":\"\xe2\x82\"}",                 /* truncated */
        "{\"a\":\"\xf0\x9f\x98\"}",
        "{\"a\":\"\x80\"}",                     /* lone continuation */
        "{\"a\":\"\xff\"}",
        "{\"\xc3\x28\":1}",                     /* in a key */
        "{\"a\":1}\xc3",                        /* truncated at the end */
    };
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *err = refused(bad[i], strlen(bad[i]));
        ck_assert_msg(strstr(err, "UTF-8") != NULL, "case %d: %s", (int)i,
                      err);
    }
}
END_TEST

START_TEST(parse_rejects_nul)
{
    const char *err = refused("{\"a\":\"x\\u0000y\"}", 16);

    ck_assert_msg(strstr(err, "\\u0000") != NULL, "message: %s", err);
    refused("{\"a\\u0000\":1}", 13);
    refused("[\"\\u0000\"]", 10);
    /* A raw NUL byte, in a string or after the document. */
    refused("{\"a\":\"x\0y\"}", 11);
    refused("{\"a\":1}\0", 8);
}
END_TEST

START_TEST(parse_rejects_escaped_surrogates)
{
    refused("[\"\\ud800\"]", 10);                /* lone high */
    refused("[\"\\udc00\"]", 10);                /* lone low */
    refused("[\"\\ud800x\"]", 11);
    /* A proper pair is fine. */
    accepted("[\"\\ud83d\\ude00\"]");
}
END_TEST

START_TEST(parse_rejects_duplicate_keys)
{
    const char *err = refused("{\"a\":1,\"a\":2}", 13);

    ck_assert_msg(strstr(err, "line 1") != NULL, "message: %s", err);
    refused("{\"a\":1,\"b\":2,\"a\":1}", 19);
    refused("{\"o\":{\"k\":1,\"k\":1}}", 19);
    refused("[{\"k\":null,\"k\":null}]", 21);
    /* Same key in different objects is fine. */
    accepted("{\"o\":{\"k\":1},\"p\":{\"k\":1}}");
}
END_TEST

START_TEST(parse_rejects_trailing_garbage)
{
    refused("{} x", 4);
    refused("{}{}", 4);
    refused("[1]]", 4);
    refused("{\"a\":1},", 8);
    refused("1 2", 3);
    /* Trailing white space is not garbage. */
    accepted("{\"a\":1} \r\n\t");
}
END_TEST

START_TEST(parse_rejects_malformed)
{
    static const char *const bad[] = {
        "{", "}", "[", "{\"a\"}", "{\"a\":}", "{a:1}", "{'a':1}", "[1,]",
        "{\"a\":1,}", "nul", "tru", "[01]", "[1.]", "[.5]", "[NaN]",
        "[Infinity]", "\"unterminated", "[\"\\x41\"]", "[\"a\tb\"]",
        " ", "/* c */ {}",
    };
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        refused(bad[i], strlen(bad[i]));
    }
}
END_TEST

START_TEST(parse_error_position)
{
    const char *err = refused("{\n  \"a\": tru\n}", 14);

    ck_assert_msg(strstr(err, "line 2 column") != NULL, "message: %s", err);
}
END_TEST

START_TEST(parse_accepts_nested)
{
    const char *body =
        "{\"a\":[1,2,{\"b\":null,"
        "\"c\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}],"
        " \"d\":{\"e\":true,\"f\":{\"g\":[[],[{}]],\"h\":-1.5e3}},"
        " \"i\":\"\\u00e9\\ud83d\\ude00\\n\\\"\",\"n\":9007199254740993}";
    json_t *j = accepted(body), *a, *c;

    ck_assert(json_is_object(j));
    a = json_object_get(j, "a");
    ck_assert_uint_eq(json_array_size(a), 3);
    ck_assert_int_eq(json_integer_value(json_array_get(a, 1)), 2);
    c = json_object_get(json_array_get(a, 2), "c");
    ck_assert_str_eq(json_string_value(c),
                     "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    ck_assert(json_is_null(json_object_get(json_array_get(a, 2), "b")));
    ck_assert(json_is_true(json_object_get(json_object_get(j, "d"), "e")));
    ck_assert_str_eq(json_string_value(json_object_get(j, "i")),
                     "\xc3\xa9\xf0\x9f\x98\x80\n\"");
    ck_assert(json_integer_value(json_object_get(j, "n"))
              == APR_INT64_C(9007199254740993));
}
END_TEST

START_TEST(parse_deeply_nested)
{
    /* 500 levels: well within jansson's depth limit of 2048. */
    char buf[1001];

    memset(buf, '[', 500);
    memset(buf + 500, ']', 500);
    buf[1000] = '\0';
    ck_assert(json_is_array(accepted(buf)));
}
END_TEST

START_TEST(parse_empty_body_is_empty_object)
{
    json_t *j = NULL;
    const char *err = NULL;

    ck_assert_int_eq(ci_json_parse(ut_pool, "", 0, &j, &err), APR_SUCCESS);
    ck_assert(json_is_object(j));
    ck_assert_uint_eq(json_object_size(j), 0);
    /* The length counts, not the NUL. */
    j = NULL;
    ck_assert_int_eq(ci_json_parse(ut_pool, "{\"a\":1}", 0, &j, &err),
                     APR_SUCCESS);
    ck_assert(json_is_object(j));
    ck_assert_uint_eq(json_object_size(j), 0);
}
END_TEST

START_TEST(parse_result_is_pool_owned)
{
    apr_pool_t *sub;
    json_t *j = NULL;
    const char *err;

    ck_assert_int_eq(apr_pool_create(&sub, ut_pool), APR_SUCCESS);
    ck_assert_int_eq(ci_json_parse(sub, "{\"a\":[1]}", 9, &j, &err),
                     APR_SUCCESS);
    json_incref(j);
    ck_assert_uint_eq(j->refcount, 2);
    apr_pool_destroy(sub);
    ck_assert_uint_eq(j->refcount, 1);
    json_decref(j);
}
END_TEST

/* ---- ci_json_dump ---------------------------------------------------- */

/* Dumps `j`, checks length and NUL, parses it back and compares. */
static const char *round_trip(const json_t *j)
{
    apr_size_t len = (apr_size_t)-1;
    const char *s = ci_json_dump(ut_pool, j, &len);
    json_t *back = NULL;
    const char *err = NULL;

    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(len, strlen(s));
    ck_assert_int_eq(ci_json_parse(ut_pool, s, len, &back, &err),
                     APR_SUCCESS);
    ck_assert_msg(json_equal((json_t *)j, back), "round trip changed %s", s);
    return s;
}

START_TEST(dump_compact)
{
    json_t *j = ci_json_own(ut_pool, json_pack("{s:i, s:[s, b, n], s:{}}",
                                                "a", 1, "b", "x", 1, "c"));

    ck_assert_str_eq(round_trip(j),
                     "{\"a\":1,\"b\":[\"x\",true,null],\"c\":{}}");
}
END_TEST

START_TEST(dump_unicode)
{
    json_t *j = ci_json_own(ut_pool, json_object());
    const char *s;

    json_object_set_new(j, "\xc3\xa9", json_string(
        "\xe2\x82\xac \xf0\x9f\x98\x80 \"q\" \\ \n \x01 \xd0\x96"));
    s = round_trip(j);
    /* UTF-8 stays UTF-8; only what JSON requires is escaped. */
    ck_assert_str_eq(s, "{\"\xc3\xa9\":\"\xe2\x82\xac \xf0\x9f\x98\x80 "
                        "\\\"q\\\" \\\\ \\n \\u0001 \xd0\x96\"}");
}
END_TEST

START_TEST(dump_large_grows_buffer)
{
    json_t *j = ci_json_own(ut_pool, json_array());
    const char *s;
    char *ref;
    int i;

    for (i = 0; i < 2000; i++) {
        json_array_append_new(j, json_pack("{s:i,s:s}", "i", i, "v",
                                           "\xc3\xa9t\xc3\xa9 "
                                           "\xf0\x9f\x9a\x97"));
    }
    s = round_trip(j);
    ck_assert_uint_gt(strlen(s), 2048 * 16);
    ref = json_dumps(j, JSON_COMPACT);
    ck_assert_str_eq(s, ref);
    free(ref);
}
END_TEST

START_TEST(dump_sizes_around_initial_buffer)
{
    /* A string of n bytes dumps to n + 2: cross the 2 KB start size one
     * byte at a time. */
    apr_size_t n;

    for (n = 2030; n <= 2060; n++) {
        char *v = apr_palloc(ut_pool, n + 1);
        json_t *j;
        apr_size_t len;
        const char *s;

        memset(v, 'x', n);
        v[n] = '\0';
        j = ci_json_own(ut_pool, json_string(v));
        s = ci_json_dump(ut_pool, j, &len);
        ck_assert_uint_eq(len, n + 2);
        ck_assert_uint_eq(strlen(s), n + 2);
        ck_assert_int_eq(s[0], '"');
        ck_assert_int_eq(s[n + 1], '"');
        ck_assert_int_eq(memcmp(s + 1, v, n), 0);
    }
}
END_TEST

START_TEST(dump_scalars_and_null_len)
{
    json_t *j = ci_json_own(ut_pool, json_integer(42));

    ck_assert_str_eq(ci_json_dump(ut_pool, j, NULL), "42");
    ck_assert_str_eq(ci_json_dump(ut_pool, json_true(), NULL), "true");
    ck_assert_str_eq(ci_json_dump(ut_pool, json_null(), NULL), "null");
}
END_TEST

/* ---- ci_jbuf: byte for byte what jansson writes ---------------------- */

/* What ci_json_dump() writes for `j` (a new reference, released here):
 * json_dumps() with the same flags. */
static const char *jansson_text(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *copy;

    ck_assert_ptr_nonnull(s);
    copy = apr_pstrdup(ut_pool, s);
    free(s);
    json_decref(j);
    return copy;
}

/* The writer's text, checked for its length and terminating NUL. */
static const char *jbuf_text(const ci_jbuf_t *b)
{
    ck_assert_uint_eq(strlen(b->buf), b->len);
    ck_assert_uint_lt(b->len, b->cap);
    return b->buf;
}

/* Asserts that ci_jbuf_str(s) writes what jansson writes for s. */
static void same_string(const char *s, const char *what)
{
    ci_jbuf_t b;

    ci_jbuf_init(&b, ut_pool, 0);
    ci_jbuf_str(&b, s);
    ck_assert_msg(!strcmp(jbuf_text(&b), jansson_text(json_string(s))),
                  "%s: writer %s", what, b.buf);
}

START_TEST(jbuf_quotes_and_backslashes)
{
    same_string("\"", "quote");
    same_string("\\", "backslash");
    same_string("a \"quoted\" word", "quotes inside");
    same_string("C:\\dir\\\"x\"\\\\", "backslashes and quotes");
    same_string("\\u0041 \\n", "escapes spelled out");
    same_string("/ </script> \"\\\"", "slash (not escaped)");
    same_string("{\"a\":[1,2]}", "JSON in a string");
}
END_TEST

START_TEST(jbuf_control_characters)
{
    char all[0x20], one[4];
    int c;

    for (c = 0x01; c <= 0x1f; c++) {
        one[0] = 'a';
        one[1] = (char)c;
        one[2] = 'b';
        one[3] = '\0';
        same_string(one, apr_psprintf(ut_pool, "0x%02x", c));
        one[0] = (char)c;
        one[1] = '\0';
        same_string(one, apr_psprintf(ut_pool, "lone 0x%02x", c));
        all[c - 1] = (char)c;
    }
    all[0x1f] = '\0';
    same_string(all, "0x01-0x1f in a row");
    same_string("\x7f", "0x7f");
    same_string("a\x7f\x1f\x7f" "b", "0x7f beside 0x1f");
}
END_TEST

START_TEST(jbuf_utf8)
{
    same_string("\xc3\xa9\xd0\x96", "2-byte");
    same_string("\xe2\x82\xac\xe4\xb8\xad\xef\xbf\xbd", "3-byte");
    same_string("\xf0\x9f\x98\x80\xf0\x9f\x9a\x97\xf4\x8f\xbf\xbf",
                "4-byte");
    same_string("a\xc2\x80" "b\xdf\xbf" "c\xe0\xa0\x80" "d\xf0\x90\x80\x80"
                "\n\"\\", "mixed with escapes");
}
END_TEST

START_TEST(jbuf_empty_and_null)
{
    json_t *o = json_object();
    ci_jbuf_t b;

    same_string("", "empty string");
    ci_jbuf_init(&b, ut_pool, 0);
    ci_jbuf_str(&b, NULL);
    ck_assert_str_eq(jbuf_text(&b), jansson_text(json_null()));
    /* As a member: ci_json_set_str() stores NULL as null too. */
    ci_jbuf_init(&b, ut_pool, 0);
    ci_jbuf_open(&b, '{');
    ci_jbuf_set_str(&b, "a", NULL);
    ci_jbuf_set_str(&b, "b", "");
    ci_jbuf_key(&b, "c");
    ci_jbuf_null(&b);
    ci_jbuf_close(&b, '}');
    ci_json_set_str(o, "a", NULL);
    ci_json_set_str(o, "b", "");
    json_object_set_new(o, "c", json_null());
    ck_assert_str_eq(jbuf_text(&b), jansson_text(o));
}
END_TEST

START_TEST(jbuf_integers_and_booleans)
{
    static const apr_int64_t ints[] = {
        0, 1, -1, 42, 9007199254740993LL, APR_INT64_MAX, APR_INT64_MIN,
    };
    json_t *a = json_array();
    ci_jbuf_t b;
    apr_size_t i;

    ci_jbuf_init(&b, ut_pool, 0);
    ci_jbuf_open(&b, '[');
    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        ci_jbuf_int(&b, ints[i]);
        json_array_append_new(a, json_integer(ints[i]));
    }
    ci_jbuf_bool(&b, 1);
    ci_jbuf_bool(&b, 0);
    ci_jbuf_bool(&b, 7);                /* any non-zero is true */
    ci_jbuf_close(&b, ']');
    json_array_append_new(a, json_true());
    json_array_append_new(a, json_false());
    json_array_append_new(a, json_boolean(7));
    ck_assert_str_eq(jbuf_text(&b), jansson_text(a));
    /* Alone, and as members. */
    ci_jbuf_init(&b, ut_pool, 0);
    ci_jbuf_int(&b, -7);
    ck_assert_str_eq(jbuf_text(&b), jansson_text(json_integer(-7)));
    ci_jbuf_init(&b, ut_pool, 0);
    ci_jbuf_open(&b, '{');
    ci_jbuf_set_int(&b, "n", 12);
    ci_jbuf_set_bool(&b, "t", 1);
    ci_jbuf_set_bool(&b, "f", 0);
    ci_jbuf_close(&b, '}');
    ck_assert_str_eq(jbuf_text(&b), jansson_text(json_pack(
        "{s:i, s:b, s:b}", "n", 12, "t", 1, "f", 0)));
}
END_TEST

START_TEST(jbuf_nesting_and_separators)
{
    json_t *list = json_array(), *o;
    ci_jbuf_t b;
    int i;

    /* The shape of the inbox: a list of objects, a nested object or null,
     * empty containers, keys that need escaping. */
    ci_jbuf_init(&b, ut_pool, 0);
    ci_jbuf_open(&b, '[');
    for (i = 0; i < 3; i++) {
        ci_jbuf_open(&b, '{');
        ci_jbuf_set_str(&b, "id", "r");
        ci_jbuf_key(&b, "last");
        o = json_pack("{s:s}", "id", "r");
        if (i == 1) {
            ci_jbuf_null(&b);
            json_object_set_new(o, "last", json_null());
        }
        else {
            ci_jbuf_open(&b, '{');
            ci_jbuf_set_str(&b, "x", ":");
            ci_jbuf_key(&b, "e");
            ci_jbuf_open(&b, '[');
            ci_jbuf_close(&b, ']');
            ci_jbuf_key(&b, "o");
            ci_jbuf_open(&b, '{');
            ci_jbuf_close(&b, '}');
            ci_jbuf_close(&b, '}');
            json_object_set_new(o, "last", json_pack("{s:s, s:[], s:{}}",
                                                     "x", ":", "e", "o"));
        }
        ci_jbuf_set_int(&b, "k\"\n", i);
        ci_jbuf_close(&b, '}');
        json_object_set_new(o, "k\"\n", json_integer(i));
        json_array_append_new(list, o);
    }
    ci_jbuf_open(&b, '[');
    ci_jbuf_str(&b, "a");
    ci_jbuf_str(&b, "b");
    ci_jbuf_int(&b, 1);
    ci_jbuf_close(&b, ']');
    ci_jbuf_close(&b, ']');
    json_array_append_new(list, json_pack("[s, s, i]", "a", "b", 1));
    ck_assert_str_eq(jbuf_text(&b), jansson_text(list));
    /* An empty list. */
    ci_jbuf_init(&b, ut_pool, 0);
    ci_jbuf_open(&b, '[');
    ci_jbuf_close(&b, ']');
    ck_assert_str_eq(jbuf_text(&b), "[]");
}
END_TEST

START_TEST(jbuf_grows_past_initial_capacity)
{
    /* From the smallest start (64 bytes), one value at a time across the
     * first growth, then well past it, with escapes straddling each edge. */
    apr_size_t n;
    json_t *a = json_array();
    ci_jbuf_t big;
    int i;

    for (n = 50; n <= 140; n++) {
        char *v = apr_palloc(ut_pool, n + 1);
        ci_jbuf_t b;

        memset(v, 'x', n);
        v[n] = '\0';
        v[n / 2] = '\n';
        v[n - 1] = '"';
        ci_jbuf_init(&b, ut_pool, 1);
        ck_assert_uint_eq(b.cap, 64);
        ci_jbuf_str(&b, v);
        ck_assert_str_eq(jbuf_text(&b), jansson_text(json_string(v)));
    }
    ci_jbuf_init(&big, ut_pool, 64);
    ci_jbuf_open(&big, '[');
    for (i = 0; i < 2000; i++) {
        const char *v = apr_psprintf(ut_pool, "%d \xc3\xa9\x01\"\\ "
                                     "\xf0\x9f\x9a\x97", i);
        ci_jbuf_open(&big, '{');
        ci_jbuf_set_int(&big, "i", i);
        ci_jbuf_set_str(&big, "v", v);
        ci_jbuf_close(&big, '}');
        json_array_append_new(a, json_pack("{s:i, s:s}", "i", i, "v", v));
    }
    ci_jbuf_close(&big, ']');
    ck_assert_uint_gt(big.len, 64 * 1024);
    ck_assert_str_eq(jbuf_text(&big), jansson_text(a));
}
END_TEST

/* ---- ci_json_own and the small helpers ------------------------------- */

START_TEST(own_releases_on_pool_destroy)
{
    apr_pool_t *sub;
    json_t *j, *big;
    int i;

    ck_assert_int_eq(apr_pool_create(&sub, ut_pool), APR_SUCCESS);
    j = json_object();
    ck_assert_ptr_eq(ci_json_own(sub, j), j);
    json_incref(j);                     /* watch it */
    ck_assert_uint_eq(j->refcount, 2);
    /* Nothing but the pool holds this one: valgrind reports it if the
     * cleanup does not run. */
    big = ci_json_own(sub, json_array());
    for (i = 0; i < 100; i++) {
        json_array_append_new(big, json_string("leak me if you can"));
    }
    apr_pool_destroy(sub);
    ck_assert_uint_eq(j->refcount, 1);
    json_decref(j);
    ck_assert_ptr_null(ci_json_own(ut_pool, NULL));
}
END_TEST

START_TEST(own_releases_on_pool_clear)
{
    apr_pool_t *sub;
    json_t *j = json_string("x");

    ck_assert_int_eq(apr_pool_create(&sub, ut_pool), APR_SUCCESS);
    ci_json_own(sub, json_incref(j));
    ck_assert_uint_eq(j->refcount, 2);
    apr_pool_clear(sub);
    ck_assert_uint_eq(j->refcount, 1);
    json_decref(j);
}
END_TEST

START_TEST(type_names)
{
    json_t *o = ci_json_own(ut_pool, json_pack("{s:{},s:[],s:s,s:i,s:f,s:b,"
                                                "s:b,s:n}", "o", "a", "s", "x",
                                                "i", 1, "r", 1.5, "t", 1, "f",
                                                0, "n"));

    ck_assert_str_eq(ci_json_type_name(json_object_get(o, "o")), "object");
    ck_assert_str_eq(ci_json_type_name(json_object_get(o, "a")), "array");
    ck_assert_str_eq(ci_json_type_name(json_object_get(o, "s")), "string");
    ck_assert_str_eq(ci_json_type_name(json_object_get(o, "i")), "integer");
    ck_assert_str_eq(ci_json_type_name(json_object_get(o, "r")), "number");
    ck_assert_str_eq(ci_json_type_name(json_object_get(o, "t")), "boolean");
    ck_assert_str_eq(ci_json_type_name(json_object_get(o, "f")), "boolean");
    ck_assert_str_eq(ci_json_type_name(json_object_get(o, "n")), "null");
}
END_TEST

START_TEST(set_str)
{
    json_t *o = ci_json_own(ut_pool, json_object());
    char buf[4] = "abc";

    ci_json_set_str(o, "a", buf);
    buf[0] = 'X';                       /* it copied */
    ci_json_set_str(o, "n", NULL);
    ci_json_set_str(o, "r", "1");
    ci_json_set_str(o, "r", "2");       /* replaces */
    ck_assert_str_eq(ci_json_dump(ut_pool, o, NULL),
                     "{\"a\":\"abc\",\"n\":null,\"r\":\"2\"}");
}
END_TEST

Suite *ut_json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc;

    tc = ut_tcase("parse");
    tcase_add_test(tc, parse_rejects_invalid_utf8);
    tcase_add_test(tc, parse_rejects_nul);
    tcase_add_test(tc, parse_rejects_escaped_surrogates);
    tcase_add_test(tc, parse_rejects_duplicate_keys);
    tcase_add_test(tc, parse_rejects_trailing_garbage);
    tcase_add_test(tc, parse_rejects_malformed);
    tcase_add_test(tc, parse_error_position);
    tcase_add_test(tc, parse_accepts_nested);
    tcase_add_test(tc, parse_deeply_nested);
    tcase_add_test(tc, parse_empty_body_is_empty_object);
    tcase_add_test(tc, parse_result_is_pool_owned);
    suite_add_tcase(s, tc);

    tc = ut_tcase("dump");
    tcase_add_test(tc, dump_compact);
    tcase_add_test(tc, dump_unicode);
    tcase_add_test(tc, dump_large_grows_buffer);
    tcase_add_test(tc, dump_sizes_around_initial_buffer);
    tcase_add_test(tc, dump_scalars_and_null_len);
    suite_add_tcase(s, tc);

    tc = ut_tcase("jbuf");
    tcase_add_test(tc, jbuf_quotes_and_backslashes);
    tcase_add_test(tc, jbuf_control_characters);
    tcase_add_test(tc, jbuf_utf8);
    tcase_add_test(tc, jbuf_empty_and_null);
    tcase_add_test(tc, jbuf_integers_and_booleans);
    tcase_add_test(tc, jbuf_nesting_and_separators);
    tcase_add_test(tc, jbuf_grows_past_initial_capacity);
    suite_add_tcase(s, tc);

    tc = ut_tcase("own");
    tcase_add_test(tc, own_releases_on_pool_destroy);
    tcase_add_test(tc, own_releases_on_pool_clear);
    tcase_add_test(tc, type_names);
    tcase_add_test(tc, set_str);
    suite_add_tcase(s, tc);
    return s;
}
