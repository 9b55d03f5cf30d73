/* test_route.c: ci_route (matching, typed parameters, 405, table checks). */
#include <string.h>
#include <apr_strings.h>

#include "unit.h"
#include "ci_route.h"

/* Handlers are opaque to the matcher: any distinct addresses will do. */
static const char h_ping[] = "ping", h_disc_get[] = "disc_get",
    h_disc_put[] = "disc_put", h_msg_list[] = "msg_list",
    h_msg_post[] = "msg_post", h_qr[] = "qr", h_qr_special[] = "qr_special",
    h_me_get[] = "me_get", h_me_patch[] = "me_patch", h_me_del[] = "me_del",
    h_login[] = "login", h_two[] = "two", h_root[] = "root";

static const ci_route_t routes[] = {
    { "GET", "/api/ping/", h_ping, 0, "liveness" },
    { "GET", "/api/auth/chat/discussion/{id:int}/", h_disc_get, 1, "" },
    { "PUT", "/api/auth/chat/discussion/{id:int}/", h_disc_put, 1, "" },
    { "GET", "/api/chat/rooms/{room_id:uuid}/messages/", h_msg_list, 1, "" },
    { "POST", "/api/chat/rooms/{room_id:uuid}/messages/", h_msg_post, 1, "" },
    { "GET", "/api/qr/{token:str}/", h_qr, 0, "" },
    { "GET", "/api/qr/special/", h_qr_special, 0, "shadowed by the above" },
    { "GET", "/api/users/me/", h_me_get, 1, "" },
    { "PATCH", "/api/users/me/", h_me_patch, 1, "" },
    { "DELETE", "/api/users/me/", h_me_del, 1, "" },
    { "POST", "/api/auth/login", h_login, 0, "no trailing slash" },
    { "GET", "/api/a/{x:int}/b/{y:str}", h_two, 0, "" },
    { "GET", "/", h_root, 0, "" },
};
#define NROUTES ((int)(sizeof(routes) / sizeof(routes[0])))

typedef struct {
    ci_route_result_t res;
    ci_route_match_t m;
    const char *allow;
} found_t;

static found_t find_in(const ci_route_t *table, int n, const char *method,
                       const char *path)
{
    found_t f;

    memset(&f, 0, sizeof(f));
    f.res = ci_route_find(ut_pool, table, n, method, path, &f.m, &f.allow);
    return f;
}

static found_t find(const char *method, const char *path)
{
    return find_in(routes, NROUTES, method, path);
}

/* Asserts that `meth path` reaches the route whose handler is `want`. */
#define ck_route(meth, path, want) do { \
    found_t f_ = find(meth, path); \
    ck_assert_msg(f_.res == CI_ROUTE_FOUND, "%s %s: result %d", meth, \
                  path, (int)f_.res); \
    ck_assert_msg(f_.m.route && f_.m.route->handler == (want), \
                  "%s %s: wrong route %s %s", meth, path, \
                  f_.m.route ? f_.m.route->method : "-", \
                  f_.m.route ? f_.m.route->pattern : "-"); \
} while (0)

#define ck_no_route(meth, path) do { \
    found_t f_ = find(meth, path); \
    ck_assert_msg(f_.res == CI_ROUTE_NOT_FOUND, "%s %s: result %d (%s)", \
                  meth, path, (int)f_.res, \
                  f_.m.route ? f_.m.route->pattern : "-"); \
} while (0)

START_TEST(table_is_valid)
{
    const char *msg = ci_route_check(ut_pool, routes, NROUTES);

    ck_assert_msg(msg == NULL, "%s", msg);
}
END_TEST

START_TEST(literal_matches)
{
    found_t f = find("GET", "/api/ping/");

    ck_assert_int_eq(f.res, CI_ROUTE_FOUND);
    ck_assert_ptr_eq(f.m.route, &routes[0]);
    ck_assert_int_eq(f.m.nparams, 0);
    ck_route("GET", "/api/users/me/", h_me_get);
    ck_route("PATCH", "/api/users/me/", h_me_patch);
    ck_route("DELETE", "/api/users/me/", h_me_del);
    ck_route("POST", "/api/auth/login", h_login);
    ck_route("GET", "/", h_root);

    ck_no_route("GET", "/api/pin/");
    ck_no_route("GET", "/api/pingg/");
    ck_no_route("GET", "/api/ping/extra");
    ck_no_route("GET", "/api/ping/extra/");
    ck_no_route("GET", "/api/");
    ck_no_route("GET", "/api");
    ck_no_route("GET", "/API/ping/");            /* case-sensitive */
    ck_no_route("GET", "/api/users/me/x/");
    ck_no_route("GET", "/api/users/");
}
END_TEST

START_TEST(trailing_slash_optional)
{
    ck_route("GET", "/api/ping", h_ping);
    ck_route("GET", "/api/ping/", h_ping);
    ck_route("POST", "/api/auth/login", h_login);
    ck_route("POST", "/api/auth/login/", h_login);
    ck_route("GET", "/api/auth/chat/discussion/5", h_disc_get);
    ck_route("GET", "/api/auth/chat/discussion/5/", h_disc_get);
    ck_route("GET", "/api/a/1/b/x/", h_two);
    ck_route("GET", "", h_root);
}
END_TEST

START_TEST(repeated_slashes_collapse)
{
    found_t f = find("GET", "/api/auth/chat//discussion/5/");

    ck_assert_int_eq(f.res, CI_ROUTE_FOUND);
    ck_assert_ptr_eq(f.m.route->handler, h_disc_get);
    ck_assert_str_eq(ci_route_param(&f.m, "id"), "5");
    ck_route("GET", "//api/ping", h_ping);
    ck_route("GET", "/api//ping//", h_ping);
    ck_route("GET", "/api/ping///", h_ping);
    ck_route("GET", "///", h_root);
    ck_route("PUT", "/api/auth//chat///discussion//7//", h_disc_put);
    /* An empty segment is never a parameter value. */
    ck_no_route("GET", "/api/qr//");
    ck_no_route("GET", "/api/auth/chat/discussion//");
}
END_TEST

START_TEST(uuid_param)
{
    const char *u = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    found_t f = find("GET", apr_pstrcat(ut_pool, "/api/chat/rooms/", u,
                                        "/messages/", NULL));

    ck_assert_int_eq(f.res, CI_ROUTE_FOUND);
    ck_assert_ptr_eq(f.m.route->handler, h_msg_list);
    ck_assert_int_eq(f.m.nparams, 1);
    ck_assert_str_eq(f.m.params[0].name, "room_id");
    ck_assert_str_eq(f.m.params[0].value, u);

    /* Upper case is accepted and handed over in lower case. */
    f = find("POST", "/api/chat/rooms/0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"
                     "/messages");
    ck_assert_int_eq(f.res, CI_ROUTE_FOUND);
    ck_assert_ptr_eq(f.m.route->handler, h_msg_post);
    ck_assert_str_eq(ci_route_param(&f.m, "room_id"), u);
}
END_TEST

START_TEST(uuid_param_bad)
{
    /* A malformed id is "no such resource", never 405 or a match. */
    ck_no_route("GET", "/api/chat/rooms/not-a-uuid/messages/");
    ck_no_route("GET", "/api/chat/rooms/5/messages/");
    ck_no_route("GET", "/api/chat/rooms/0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d/"
                       "messages/");
    ck_no_route("GET", "/api/chat/rooms/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4/"
                       "messages/");
    ck_no_route("GET", "/api/chat/rooms/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4dd/"
                       "messages/");
    ck_no_route("GET", "/api/chat/rooms/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4g/"
                       "messages/");
    ck_no_route("DELETE", "/api/chat/rooms/zzz/messages/");
}
END_TEST

START_TEST(int_param)
{
    found_t f = find("GET", "/api/auth/chat/discussion/42/");

    ck_assert_int_eq(f.res, CI_ROUTE_FOUND);
    ck_assert_str_eq(ci_route_param(&f.m, "id"), "42");
    f = find("GET", "/api/auth/chat/discussion/9223372036854775807/");
    ck_assert_int_eq(f.res, CI_ROUTE_FOUND);
    ck_assert_str_eq(ci_route_param(&f.m, "id"), "9223372036854775807");
    ck_route("GET", "/api/auth/chat/discussion/1", h_disc_get);

    /* Positive decimals that fit in 63 bits only. */
    ck_no_route("GET", "/api/auth/chat/discussion/0/");
    ck_no_route("GET", "/api/auth/chat/discussion/-1/");
    ck_no_route("GET", "/api/auth/chat/discussion/+1/");
    ck_no_route("GET", "/api/auth/chat/discussion/01/");
    ck_no_route("GET", "/api/auth/chat/discussion/1e3/");
    ck_no_route("GET", "/api/auth/chat/discussion/0x10/");
    ck_no_route("GET", "/api/auth/chat/discussion/abc/");
    ck_no_route("GET", "/api/auth/chat/discussion/5a/");
    ck_no_route("GET", "/api/auth/chat/discussion/9223372036854775808/");
    ck_no_route("PUT", "/api/auth/chat/discussion/0/");
}
END_TEST

START_TEST(str_param)
{
    found_t f = find("GET", "/api/qr/AbC-123_x.y~z%20/");

    ck_assert_int_eq(f.res, CI_ROUTE_FOUND);
    ck_assert_ptr_eq(f.m.route->handler, h_qr);
    ck_assert_str_eq(ci_route_param(&f.m, "token"), "AbC-123_x.y~z%20");
    ck_no_route("GET", "/api/qr/");
    ck_no_route("GET", "/api/qr/a/b/");
}
END_TEST

START_TEST(two_params)
{
    found_t f = find("GET", "/api/a/17/b/hello");

    ck_assert_int_eq(f.res, CI_ROUTE_FOUND);
    ck_assert_int_eq(f.m.nparams, 2);
    ck_assert_str_eq(f.m.params[0].name, "x");
    ck_assert_str_eq(f.m.params[0].value, "17");
    ck_assert_str_eq(f.m.params[1].name, "y");
    ck_assert_str_eq(f.m.params[1].value, "hello");
    ck_assert_str_eq(ci_route_param(&f.m, "x"), "17");
    ck_assert_str_eq(ci_route_param(&f.m, "y"), "hello");
    ck_assert_ptr_null(ci_route_param(&f.m, "z"));
    ck_assert_ptr_null(ci_route_param(&f.m, "X"));
    ck_assert_ptr_null(ci_route_param(&f.m, ""));
    ck_no_route("GET", "/api/a/0/b/hello");
}
END_TEST

START_TEST(head_matches_get)
{
    found_t f = find("HEAD", "/api/ping");

    ck_assert_int_eq(f.res, CI_ROUTE_FOUND);
    ck_assert_str_eq(f.m.route->method, "GET");
    ck_route("HEAD", "/api/auth/chat/discussion/3/", h_disc_get);

    /* ...but no other method. */
    f = find("HEAD", "/api/auth/login");
    ck_assert_int_eq(f.res, CI_ROUTE_BAD_METHOD);
    ck_assert_str_eq(f.allow, "POST");
}
END_TEST

START_TEST(bad_method_allow)
{
    found_t f = find("DELETE", "/api/auth/chat/discussion/5/");

    ck_assert_int_eq(f.res, CI_ROUTE_BAD_METHOD);
    ck_assert_str_eq(f.allow, "GET, HEAD, PUT");

    f = find("POST", "/api/users/me");
    ck_assert_int_eq(f.res, CI_ROUTE_BAD_METHOD);
    ck_assert_str_eq(f.allow, "GET, HEAD, PATCH, DELETE");

    f = find("GET", "/api/auth/login/");
    ck_assert_int_eq(f.res, CI_ROUTE_BAD_METHOD);
    ck_assert_str_eq(f.allow, "POST");

    f = find("PUT", "/api/chat/rooms/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/"
                    "messages");
    ck_assert_int_eq(f.res, CI_ROUTE_BAD_METHOD);
    ck_assert_str_eq(f.allow, "GET, HEAD, POST");

    /* Method names are case-sensitive (RFC 9110). */
    f = find("get", "/api/ping/");
    ck_assert_int_eq(f.res, CI_ROUTE_BAD_METHOD);
    ck_assert_str_eq(f.allow, "GET, HEAD");
}
END_TEST

START_TEST(allow_has_no_duplicates)
{
    static const ci_route_t t[] = {
        { "GET", "/x/{id:int}/", h_ping, 0, "" },
        { "GET", "/x/{name:str}/", h_ping, 0, "" },
        { "PUT", "/x/{id:int}/", h_ping, 0, "" },
        { "PUT", "/x/{name:str}/", h_ping, 0, "" },
        { "GET", "/x/{u:uuid}/", h_ping, 0, "" },
    };
    found_t f = find_in(t, 5, "DELETE", "/x/5/");

    ck_assert_int_eq(f.res, CI_ROUTE_BAD_METHOD);
    ck_assert_str_eq(f.allow, "GET, HEAD, PUT");
    f = find_in(t, 5, "POST", "/x/abc");
    ck_assert_int_eq(f.res, CI_ROUTE_BAD_METHOD);
    ck_assert_str_eq(f.allow, "GET, HEAD, PUT");
}
END_TEST

START_TEST(allow_explicit_head_before_get)
{
    /* A table may route HEAD itself; Allow still names each method once. */
    static const ci_route_t t[] = {
        { "HEAD", "/h/", h_ping, 0, "" },
        { "GET", "/h/", h_qr, 0, "" },
    };
    found_t f = find_in(t, 2, "HEAD", "/h/");

    ck_assert_int_eq(f.res, CI_ROUTE_FOUND);
    ck_assert_ptr_eq(f.m.route, &t[0]);
    f = find_in(t, 2, "POST", "/h/");
    ck_assert_int_eq(f.res, CI_ROUTE_BAD_METHOD);
    ck_assert_str_eq(f.allow, "HEAD, GET");
}
END_TEST

START_TEST(allow_method_substring)
{
    /* A method that is a substring of one already listed is still listed
     * (WebDAV's LOCK after UNLOCK). */
    static const ci_route_t t[] = {
        { "UNLOCK", "/d/", h_ping, 0, "" },
        { "LOCK", "/d/", h_qr, 0, "" },
    };
    found_t f = find_in(t, 2, "GET", "/d/");

    ck_assert_int_eq(f.res, CI_ROUTE_BAD_METHOD);
    ck_assert_str_eq(f.allow, "UNLOCK, LOCK");
}
END_TEST

START_TEST(first_match_wins)
{
    /* "special" is a valid {token:str}: the earlier route takes it. */
    found_t f = find("GET", "/api/qr/special/");

    ck_assert_int_eq(f.res, CI_ROUTE_FOUND);
    ck_assert_ptr_eq(f.m.route, &routes[5]);
    ck_assert_str_eq(ci_route_param(&f.m, "token"), "special");
}
END_TEST

START_TEST(later_route_with_method_wins_over_405)
{
    /* An earlier path match for another method does not stop the search. */
    static const ci_route_t t[] = {
        { "POST", "/r/{id:int}/", h_ping, 0, "" },
        { "GET", "/r/{name:str}/", h_qr, 0, "" },
    };
    found_t f = find_in(t, 2, "GET", "/r/12/");

    ck_assert_int_eq(f.res, CI_ROUTE_FOUND);
    ck_assert_ptr_eq(f.m.route, &t[1]);
    ck_assert_int_eq(f.m.nparams, 1);
    ck_assert_str_eq(ci_route_param(&f.m, "name"), "12");
    ck_assert_ptr_null(ci_route_param(&f.m, "id"));
}
END_TEST

START_TEST(max_params)
{
    static const ci_route_t t[] = {
        { "GET", "/{a:int}/{b:str}/{c:uuid}/{d:str}/", h_ping, 0, "" },
    };
    found_t f;

    ck_assert_ptr_null(ci_route_check(ut_pool, t, 1));
    f = find_in(t, 1, "GET",
                "/1/two/0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D/four/");
    ck_assert_int_eq(f.res, CI_ROUTE_FOUND);
    ck_assert_int_eq(f.m.nparams, CI_ROUTE_MAX_PARAMS);
    ck_assert_str_eq(ci_route_param(&f.m, "a"), "1");
    ck_assert_str_eq(ci_route_param(&f.m, "b"), "two");
    ck_assert_str_eq(ci_route_param(&f.m, "c"),
                     "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
    ck_assert_str_eq(ci_route_param(&f.m, "d"), "four");
}
END_TEST

START_TEST(empty_table)
{
    found_t f = find_in(routes, 0, "GET", "/api/ping/");

    ck_assert_int_eq(f.res, CI_ROUTE_NOT_FOUND);
    ck_assert_ptr_null(ci_route_check(ut_pool, routes, 0));
}
END_TEST

/* ---- ci_route_check -------------------------------------------------- */

static const char *check_one(const char *method, const char *pattern,
                             const void *handler)
{
    ci_route_t t[1];

    t[0].method = method;
    t[0].pattern = pattern;
    t[0].handler = handler;
    t[0].access = 0;
    t[0].summary = "";
    return ci_route_check(ut_pool, t, 1);
}

START_TEST(check_accepts)
{
    static const char *const good[] = {
        "/", "/a", "/a/", "/a/b/c/", "/{id:int}/", "/a/{u:uuid}",
        "/a/{long_name_2:str}/b/", "/a.b/c-d/e_f~/",
    };
    apr_size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const char *msg = check_one("GET", good[i], h_ping);
        ck_assert_msg(msg == NULL, "%s: %s", good[i], msg);
    }
}
END_TEST

START_TEST(check_rejects_bad_patterns)
{
    static const char *const bad[] = {
        "",
        "api/ping/",                    /* no leading slash */
        "/a/{id}/",                     /* no type */
        "/a/{id:}/",                    /* empty type */
        "/a/{:int}/",                   /* no name */
        "/a/{id:float}/",               /* unknown type */
        "/a/{id:INT}/",
        "/a/{id:int/",                  /* unclosed */
        "/a/{id:int}x/",
        "/a/{}/",
        "/a/{/",
        "/a/{id:uuid}/{x:integer}",
    };
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(check_one("GET", bad[i], h_ping) != NULL,
                      "accepted pattern '%s'", bad[i]);
    }
    ck_assert_ptr_nonnull(check_one("GET", NULL, h_ping));
    ck_assert_ptr_nonnull(check_one(NULL, "/a/", h_ping));
    ck_assert_ptr_nonnull(check_one("GET", "/a/", NULL));
}
END_TEST

START_TEST(check_names_the_bad_segment)
{
    const char *msg = check_one("PUT", "/a/{id:float}/", h_ping);

    ck_assert_ptr_nonnull(msg);
    ck_assert_msg(strstr(msg, "PUT") && strstr(msg, "/a/{id:float}/")
                  && strstr(msg, "'{id:float}'"), "message: %s", msg);
}
END_TEST

START_TEST(check_rejects_duplicates)
{
    static const ci_route_t t[] = {
        { "GET", "/a/", h_ping, 0, "" },
        { "POST", "/a/", h_ping, 0, "" },
        { "GET", "/b/{id:int}/", h_ping, 0, "" },
        { "GET", "/a/", h_qr, 0, "" },
    };
    const char *msg = ci_route_check(ut_pool, t, 4);

    ck_assert_ptr_nonnull(msg);
    ck_assert_msg(strstr(msg, "GET /a/") != NULL, "message: %s", msg);
    /* Same pattern, other method: fine. */
    ck_assert_ptr_null(ci_route_check(ut_pool, t, 3));
}
END_TEST

START_TEST(check_rejects_too_many_params)
{
    const char *msg = check_one("GET", "/{a:int}/{b:int}/{c:int}/{d:int}/"
                                "{e:int}/", h_ping);

    ck_assert_ptr_nonnull(msg);
    ck_assert_msg(strstr(msg, "too many") != NULL, "message: %s", msg);
    ck_assert_ptr_null(check_one("GET", "/{a:int}/{b:int}/{c:int}/{d:int}/",
                                 h_ping));
}
END_TEST

Suite *ut_route_suite(void)
{
    Suite *s = suite_create("route");
    TCase *tc;

    tc = ut_tcase("find");
    tcase_add_test(tc, table_is_valid);
    tcase_add_test(tc, literal_matches);
    tcase_add_test(tc, trailing_slash_optional);
    tcase_add_test(tc, repeated_slashes_collapse);
    tcase_add_test(tc, uuid_param);
    tcase_add_test(tc, uuid_param_bad);
    tcase_add_test(tc, int_param);
    tcase_add_test(tc, str_param);
    tcase_add_test(tc, two_params);
    tcase_add_test(tc, head_matches_get);
    tcase_add_test(tc, first_match_wins);
    tcase_add_test(tc, later_route_with_method_wins_over_405);
    tcase_add_test(tc, max_params);
    tcase_add_test(tc, empty_table);
    suite_add_tcase(s, tc);

    tc = ut_tcase("allow");
    tcase_add_test(tc, bad_method_allow);
    tcase_add_test(tc, allow_has_no_duplicates);
    tcase_add_test(tc, allow_explicit_head_before_get);
    tcase_add_test(tc, allow_method_substring);
    suite_add_tcase(s, tc);

    tc = ut_tcase("check");
    tcase_add_test(tc, check_accepts);
    tcase_add_test(tc, check_rejects_bad_patterns);
    tcase_add_test(tc, check_names_the_bad_segment);
    tcase_add_test(tc, check_rejects_duplicates);
    tcase_add_test(tc, check_rejects_too_many_params);
    suite_add_tcase(s, tc);
    return s;
}
