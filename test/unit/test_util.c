/* test_util.c: ci_util (ids, random tokens, time, integers, UTF-8). */
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "unit.h"
#include "ci_util.h"

/* Whether `s` is a canonical lower-case 8-4-4-4-12 UUID. */
static int is_lower_uuid(const char *s)
{
    int i;

    if (!s || strlen(s) != CI_UUID_LEN) {
        return 0;
    }
    for (i = 0; i < CI_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
        }
        else if (!strchr("0123456789abcdef", s[i]) || !s[i]) {
            return 0;
        }
    }
    return 1;
}

/* ---- ci_uuid4 / ci_uuid_normalize ------------------------------------ */

START_TEST(uuid4_format)
{
    const char *u = ci_uuid4(ut_pool);

    ck_assert_ptr_nonnull(u);
    ck_assert_msg(is_lower_uuid(u), "not a canonical uuid: %s", u);
    ck_assert_int_eq(u[14], '4');                      /* version 4 */
    ck_assert_ptr_nonnull(strchr("89ab", u[19]));      /* RFC 4122 variant */
}
END_TEST

START_TEST(uuid7_format_and_order)
{
    /* 2026-11-22T08:00:00.123456Z */
    apr_int64_t t = APR_INT64_C(1795334400123456);
    const char *a = ci_uuid7(ut_pool, t), *b = ci_uuid7(ut_pool, t + 1);
    const char *c = ci_uuid7(ut_pool, t + 1000), *d = ci_uuid7(ut_pool, t);
    int i;

    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(ci_uuid_normalize(ut_pool, a), a);
    /* 1795334400123 ms = 0x1a20244e87b; 456 us = 1867/4096 ms = 0x74b */
    ck_assert_msg(!strncmp(a, "01a20244-e87b-774b-", 19), "%s", a);
    ck_assert(strchr("89ab", a[19]) != NULL);           /* variant 10xx */
    ck_assert_int_lt(strcmp(a, c), 0);                  /* a ms later */
    ck_assert_int_le(strncmp(a, b, 18), 0);             /* 1 us later */
    ck_assert_str_ne(a, d);                             /* random tail */
    ck_assert_ptr_null(ci_uuid7(ut_pool, -1));
    for (i = 0; i < 1000; i++) {
        const char *n = ci_uuid7(ut_pool, t + 1000 * (i + 2));
        ck_assert_int_lt(strcmp(c, n), 0);
        c = n;
    }
}
END_TEST

/* The random tail comes from the caller's bytes, variant bits forced. */
START_TEST(uuid7_with_given_bits)
{
    static const unsigned char rnd[8] = { 0xff, 0x01, 0x23, 0x45, 0x67,
                                          0x89, 0xab, 0xcd };
    apr_int64_t t = APR_INT64_C(1795334400123456);

    ck_assert_str_eq(ci_uuid7_with(ut_pool, t, rnd),
                     "01a20244-e87b-774b-bf01-23456789abcd");
    ck_assert_ptr_null(ci_uuid7_with(ut_pool, -1, rnd));
}
END_TEST

START_TEST(uuid4_unique_1000)
{
    apr_hash_t *seen = apr_hash_make(ut_pool);
    int i;

    for (i = 0; i < 1000; i++) {
        const char *u = ci_uuid4(ut_pool);
        ck_assert_msg(is_lower_uuid(u), "not a canonical uuid: %s", u);
        ck_assert_int_eq(u[14], '4');
        ck_assert_ptr_nonnull(strchr("89ab", u[19]));
        ck_assert_msg(apr_hash_get(seen, u, APR_HASH_KEY_STRING) == NULL,
                      "uuid repeated after %d: %s", i, u);
        apr_hash_set(seen, u, APR_HASH_KEY_STRING, u);
    }
    ck_assert_int_eq(apr_hash_count(seen), 1000);
}
END_TEST

START_TEST(uuid_normalize_valid)
{
    const char *lower = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

    ck_assert_str_eq(ci_uuid_normalize(ut_pool, lower), lower);
    ck_assert_str_eq(ci_uuid_normalize(ut_pool,
                                       "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"),
                     lower);
    ck_assert_str_eq(ci_uuid_normalize(ut_pool,
                                       "0a1B2c3D-4e5F-4A6b-8C7d-9e0F1a2B3c4D"),
                     lower);
    /* Any version: the router also takes ids it did not mint. */
    ck_assert_str_eq(ci_uuid_normalize(ut_pool,
                                       "00000000-0000-0000-0000-000000000000"),
                     "00000000-0000-0000-0000-000000000000");
}
END_TEST

START_TEST(uuid_normalize_invalid)
{
    static const char *const bad[] = {
        "",
        "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4",        /* 35 chars */
        "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d0",      /* 37 chars */
        "0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d",           /* no dashes */
        "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4g",       /* non-hex */
        "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4 ",       /* space */
        "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4\n",
        "0a1b2c3d04e5f-4a6b-8c7d-9e0f1a2b3c4d",       /* dash moved */
        "0a1b2c3d-4e5f-4a6b-8c7d+9e0f1a2b3c4d",
        "{a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4}",       /* braces */
        "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c\xc3\xa9",
        "------------------------------------",
    };
    apr_size_t i;

    ck_assert_ptr_null(ci_uuid_normalize(ut_pool, NULL));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(ci_uuid_normalize(ut_pool, bad[i]) == NULL,
                      "accepted '%s'", bad[i]);
    }
}
END_TEST

/* ---- ci_random_hex / ci_now_usec ------------------------------------- */

START_TEST(random_hex)
{
    const char *a = ci_random_hex(ut_pool, 16), *b = ci_random_hex(ut_pool, 16);
    const char *big = ci_random_hex(ut_pool, 1000);

    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(strlen(a), 32);
    ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 32);
    ck_assert_str_ne(a, b);
    ck_assert_uint_eq(strlen(big), 2000);
    ck_assert_uint_eq(strspn(big, "0123456789abcdef"), 2000);
    ck_assert_str_eq(ci_random_hex(ut_pool, 0), "");
}
END_TEST

START_TEST(now_usec)
{
    apr_int64_t before = (apr_int64_t)apr_time_now();
    apr_int64_t now = ci_now_usec();
    apr_int64_t after = (apr_int64_t)apr_time_now();

    ck_assert_int_ge(now, before);
    ck_assert_int_le(now, after);
    ck_assert_int_gt(now, APR_INT64_C(1577836800000000));  /* 2020-01-01 */
}
END_TEST

/* ---- ci_time_iso ----------------------------------------------------- */

START_TEST(time_iso_known_values)
{
    static const struct { apr_int64_t usec; const char *iso; } cases[] = {
        { 0, "1970-01-01T00:00:00Z" },
        { 1, "1970-01-01T00:00:00.000001Z" },
        { 999999, "1970-01-01T00:00:00.999999Z" },
        { 1000000, "1970-01-01T00:00:01Z" },
        { APR_INT64_C(1770289560000000), "2026-02-05T11:06:00Z" },
        { APR_INT64_C(1770289560250000), "2026-02-05T11:06:00.250000Z" },
        { APR_INT64_C(1770289560000001), "2026-02-05T11:06:00.000001Z" },
        { APR_INT64_C(1709164800000000), "2024-02-29T00:00:00Z" },
        { APR_INT64_C(951782400000000), "2000-02-29T00:00:00Z" },
        { APR_INT64_C(4102444799999999), "2099-12-31T23:59:59.999999Z" },
        { APR_INT64_C(253402300799000000), "9999-12-31T23:59:59Z" },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_str_eq(ci_time_iso(ut_pool, cases[i].usec), cases[i].iso);
    }
}
END_TEST

START_TEST(time_iso_fraction_digits)
{
    const char *s = ci_time_iso(ut_pool, APR_INT64_C(1770289560000000) + 7);
    const char *dot = strchr(s, '.');

    ck_assert_ptr_nonnull(dot);
    ck_assert_str_eq(dot, ".000007Z");
    ck_assert_ptr_null(strchr(ci_time_iso(ut_pool,
                                          APR_INT64_C(1770289560000000)),
                              '.'));
}
END_TEST

/* ---- ci_parse_int64 -------------------------------------------------- */

START_TEST(parse_int64_valid)
{
    static const struct { const char *s; apr_int64_t v; } cases[] = {
        { "0", 0 },
        { "1", 1 },
        { "-1", -1 },
        { "42", 42 },
        { "1000000", 1000000 },
        { "9223372036854775807", APR_INT64_MAX },
        { "-9223372036854775807", -APR_INT64_MAX },
        { "-9223372036854775808", APR_INT64_MIN },
        { "9223372036854775800", APR_INT64_C(9223372036854775800) },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        apr_int64_t v = 12345;
        ck_assert_msg(ci_parse_int64(cases[i].s, &v) == 0, "rejected '%s'",
                      cases[i].s);
        ck_assert_msg(v == cases[i].v, "'%s' gave %" APR_INT64_T_FMT,
                      cases[i].s, v);
    }
}
END_TEST

START_TEST(parse_int64_invalid)
{
    static const char *const bad[] = {
        "", "-", "+", "+1", "01", "00", "-01", "-0", " 1", "1 ", "1\n", "\t1",
        "1a", "a1", "0x10", "1.0", "1e3", "--1", "1-", "\xd9\xa1",
        "9223372036854775808",          /* INT64_MAX + 1 */
        "-9223372036854775809",         /* INT64_MIN - 1 */
        "9223372036854775810",
        "18446744073709551615",         /* UINT64_MAX */
        "18446744073709551616",
        "99999999999999999999999999",
    };
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        apr_int64_t v = 12345;
        ck_assert_msg(ci_parse_int64(bad[i], &v) == -1, "accepted '%s'",
                      bad[i]);
        ck_assert_msg(v == 12345, "'%s' wrote *out on failure", bad[i]);
    }
    ck_assert_int_eq(ci_parse_int64(NULL, NULL), -1);
}
END_TEST

/* ---- ci_utf8_valid / ci_utf8_len ------------------------------------- */

/* Checks ci_utf8_valid on `s` placed against a guard page: a read past
 * the given length crashes the test instead of passing by luck. */
static int utf8_guarded(const char *s, apr_size_t len)
{
    const char *g = ut_guarded(s, len);
    int ok = ci_utf8_valid(g, len);

    ut_guarded_free(g, len);
    return ok;
}

START_TEST(utf8_valid_accepts)
{
    static const char *const good[] = {
        "",
        "plain ascii",
        "\x7f",
        "\xc2\x80",                     /* U+0080, smallest 2-byte */
        "\xc3\xa9t\xc3\xa9",            /* été */
        "\xdf\xbf",                     /* U+07FF */
        "\xe0\xa0\x80",                 /* U+0800, smallest 3-byte */
        "\xe2\x82\xac",                 /* € */
        "\xed\x9f\xbf",                 /* U+D7FF, below the surrogates */
        "\xee\x80\x80",                 /* U+E000, above them */
        "\xef\xbf\xbf",                 /* U+FFFF */
        "\xf0\x90\x80\x80",             /* U+10000, smallest 4-byte */
        "\xf0\x9f\x98\x80",             /* 😀 */
        "\xf4\x8f\xbf\xbf",             /* U+10FFFF, the last */
        "a\xd0\x96\xe4\xb8\xad\xf0\x9f\x8e\x89z",
    };
    apr_size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_msg(utf8_guarded(good[i], strlen(good[i])),
                      "rejected case %d", (int)i);
    }
    /* NUL is a valid code point; the length is what counts. */
    ck_assert_int_eq(utf8_guarded("a\0b", 3), 1);
}
END_TEST

START_TEST(utf8_valid_rejects)
{
    static const char *const bad[] = {
        "\x80",                         /* lone continuation */
        "\xbf",
        "a\x80z",
        "\xc0\x80",                     /* overlong NUL */
        "\xc0\xaf",                     /* overlong '/' */
        "\xc1\xbf",                     /* overlong U+007F */
        "\xe0\x80\x80",                 /* overlong 3-byte */
        "\xe0\x80\xaf",
        "\xe0\x9f\xbf",                 /* overlong U+07FF */
        "\xf0\x80\x80\x80",             /* overlong 4-byte */
        "\xf0\x80\x80\xaf",
        "\xf0\x8f\xbf\xbf",             /* overlong U+FFFF */
        "\xed\xa0\x80",                 /* U+D800, high surrogate */
        "\xed\xad\xbf",
        "\xed\xb0\x80",                 /* U+DC00, low surrogate */
        "\xed\xbf\xbf",                 /* U+DFFF */
        "\xed\xa0\xbd\xed\xb8\x80",     /* CESU-8 pair */
        "\xf4\x90\x80\x80",             /* U+110000 */
        "\xf5\x80\x80\x80",
        "\xf7\xbf\xbf\xbf",
        "\xf8\x88\x80\x80\x80",         /* 5-byte form */
        "\xfc\x84\x80\x80\x80\x80",     /* 6-byte form */
        "\xfe", "\xff", "\xff\xfe",
        "\xc3\x28",                     /* bad continuation */
        "\xe2\x28\xa1",
        "\xe2\x82\x28",
        "\xf0\x28\x8c\xbc",
        "\xf0\x90\x28\xbc",
        "\xf0\x9f\x98\x28",
        "\xc3",                         /* truncated at the end */
        "\xe2\x82",
        "\xe2",
        "\xf0\x9f\x98",
        "\xf0\x9f",
        "\xf0",
        "ok\xe2\x82",
    };
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!utf8_guarded(bad[i], strlen(bad[i])),
                      "accepted case %d", (int)i);
    }
    /* Truncated by the length, although the buffer goes on. */
    ck_assert_int_eq(utf8_guarded("\xc3\xa9", 1), 0);
    ck_assert_int_eq(utf8_guarded("\xf0\x9f\x98\x80", 3), 0);
    ck_assert_int_eq(utf8_guarded("\xf0\x9f\x98\x80", 4), 1);
}
END_TEST

START_TEST(utf8_len)
{
    ck_assert_uint_eq(ci_utf8_len(""), 0);
    ck_assert_uint_eq(ci_utf8_len("abc"), 3);
    ck_assert_uint_eq(ci_utf8_len("\xc3\xa9"), 1);
    ck_assert_uint_eq(ci_utf8_len("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"), 5);
    ck_assert_uint_eq(ci_utf8_len("\xf4\x8f\xbf\xbf"), 1);
}
END_TEST

/* ---- ci_ct_equal ----------------------------------------------------- */

START_TEST(ct_equal)
{
    const char a[] = "0123456789abcdef", b[] = "0123456789abcdef";
    char c[sizeof(a)];

    ck_assert_int_eq(ci_ct_equal(a, b, sizeof(a)), 1);
    ck_assert_int_eq(ci_ct_equal(a, "x", 0), 1);
    memcpy(c, a, sizeof(a));
    c[0] ^= 1;
    ck_assert_int_eq(ci_ct_equal(a, c, sizeof(a)), 0);
    memcpy(c, a, sizeof(a));
    c[sizeof(a) - 2] = 'F';
    ck_assert_int_eq(ci_ct_equal(a, c, sizeof(a)), 0);
    ck_assert_int_eq(ci_ct_equal(a, c, sizeof(a) - 2), 1);
    memcpy(c, a, sizeof(a));
    c[7] = (char)0x80;                  /* high bit only */
    ck_assert_int_eq(ci_ct_equal(a, c, sizeof(a)), 0);
}
END_TEST

START_TEST(conninfo_hide_password)
{
    static const struct {
        const char *in, *out;
        apr_size_t hidden;
    } cases[] = {
        { "host=db port=5432 dbname=carinfo user=carinfo password=s3cret "
          "connect_timeout=5",
          "host=db port=5432 dbname=carinfo user=carinfo password=****** "
          "connect_timeout=5", 6 },
        { "password=x", "password=*", 1 },
        { "user=a password = 'it\\'s' host=b",
          "user=a password = '*****' host=b", 5 },
        { "password='a b\\\\c' dbname=d", "password='******' dbname=d",
          6 },
        { "passwordx=1 xpassword=2 password", "passwordx=1 xpassword=2 "
          "password", 0 },
        { "postgresql://carinfo:pa%40ss@db:5432/carinfo",
          "postgresql://carinfo:*******@db:5432/carinfo", 7 },
        { "postgres://u@db/x?sslmode=require&password=pw&x=1",
          "postgres://u@db/x?sslmode=require&password=**&x=1", 2 },
        { "postgresql://db/carinfo", "postgresql://db/carinfo", 0 },
        /* as libpq reads them: a backslash escapes unquoted values too,
         * a keyword may follow a quoted value directly, the authority
         * ends at '/' only, a query value at '&' only */
        { "password=ab\\ cd host=x", "password=****** host=x", 6 },
        { "user='u'password=s", "user='u'password=*", 1 },
        { "postgresql://u:p?w#x@db/x", "postgresql://u:*****@db/x", 5 },
        { "postgres://u@db/x?password=a#b&x=1",
          "postgres://u@db/x?password=***&x=1", 3 },
        { "/var/lib/carinfo/carinfo.db", "/var/lib/carinfo/carinfo.db", 0 },
        { "", "", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *s = apr_pstrdup(ut_pool, cases[i].in);
        apr_size_t n = ci_conninfo_hide_password(s);

        ck_assert_msg(!strcmp(s, cases[i].out), "%s -> %s", cases[i].in, s);
        ck_assert_msg(n == cases[i].hidden, "%s: %lu hidden", cases[i].in,
                      (unsigned long)n);
    }
}
END_TEST

Suite *ut_util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc;

    tc = ut_tcase("uuid");
    tcase_add_test(tc, uuid4_format);
    tcase_add_test(tc, uuid4_unique_1000);
    tcase_add_test(tc, uuid7_format_and_order);
    tcase_add_test(tc, uuid7_with_given_bits);
    tcase_add_test(tc, uuid_normalize_valid);
    tcase_add_test(tc, uuid_normalize_invalid);
    tcase_add_test(tc, random_hex);
    tcase_add_test(tc, now_usec);
    suite_add_tcase(s, tc);

    tc = ut_tcase("time");
    tcase_add_test(tc, time_iso_known_values);
    tcase_add_test(tc, time_iso_fraction_digits);
    suite_add_tcase(s, tc);

    tc = ut_tcase("int64");
    tcase_add_test(tc, parse_int64_valid);
    tcase_add_test(tc, parse_int64_invalid);
    suite_add_tcase(s, tc);

    tc = ut_tcase("utf8");
    tcase_add_test(tc, utf8_valid_accepts);
    tcase_add_test(tc, utf8_valid_rejects);
    tcase_add_test(tc, utf8_len);
    tcase_add_test(tc, ct_equal);
    suite_add_tcase(s, tc);

    tc = ut_tcase("conninfo");
    tcase_add_test(tc, conninfo_hide_password);
    suite_add_tcase(s, tc);
    return s;
}
