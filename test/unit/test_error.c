/* test_error.c: ci_error (DRF-shaped bodies, the log line). */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "unit.h"
#include "ci_error.h"
#include "ci_json.h"

/* The body of `pr`, checked to be well-formed JSON whose length is *len. */
static const char *body_of(const ci_problem_t *pr, json_t **parsed)
{
    apr_size_t len = (apr_size_t)-1;
    const char *body = ci_problem_body(ut_pool, pr, &len);
    const char *err = NULL;
    json_t *j = NULL;

    ck_assert_ptr_nonnull(body);
    ck_assert_uint_eq(len, strlen(body));
    ck_assert_msg(ci_json_parse(ut_pool, body, len, &j, &err) == APR_SUCCESS,
                  "body is not JSON: %s (%s)", body, err);
    ck_assert(json_is_object(j));
    if (parsed) {
        *parsed = j;
    }
    return body;
}

/* `j` re-serialized with sorted keys, from ut_pool. */
static const char *sorted(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    const char *copy = apr_pstrdup(ut_pool, s);

    free(s);
    return copy;
}

START_TEST(detail_body)
{
    ci_problem_t *pr = ci_problem_make(ut_pool, 404, 10042, "Not found.");

    ck_assert_int_eq(pr->status, 404);
    ck_assert_int_eq(pr->logno, 10042);
    ck_assert_str_eq(pr->detail, "Not found.");
    ck_assert_ptr_null(pr->fields);
    ck_assert_ptr_null(pr->log_msg);
    ck_assert_int_eq(pr->retry_after, 0);
    ck_assert_int_eq(ci_problem_has_fields(pr), 0);
    ck_assert_str_eq(body_of(pr, NULL), "{\"detail\":\"Not found.\"}");
}
END_TEST

START_TEST(detail_body_escaping)
{
    ci_problem_t *pr = ci_problem_make(ut_pool, 401, 1,
        "Given token not valid for any token type \"x\" \\ \xc3\xa9\n");
    json_t *j;

    body_of(pr, &j);
    ck_assert_uint_eq(json_object_size(j), 1);
    ck_assert_str_eq(json_string_value(json_object_get(j, "detail")),
                     pr->detail);
}
END_TEST

START_TEST(detail_body_default)
{
    ci_problem_t *pr = ci_problem_make(ut_pool, 500, 7, NULL);

    ck_assert_str_eq(body_of(pr, NULL), "{\"detail\":\"Error.\"}");
}
END_TEST

START_TEST(invalid_without_fields)
{
    ci_problem_t *pr = ci_problem_invalid(ut_pool, 12);

    ck_assert_int_eq(pr->status, 400);
    ck_assert_int_eq(pr->logno, 12);
    ck_assert_int_eq(ci_problem_has_fields(pr), 0);
    ck_assert_str_eq(body_of(pr, NULL), "{\"detail\":\"Invalid input.\"}");
}
END_TEST

START_TEST(field_body_one)
{
    ci_problem_t *pr = ci_problem_invalid(ut_pool, 12);

    ck_assert_ptr_eq(ci_problem_field(ut_pool, pr, "phone_number",
                                      "This field is required."), pr);
    ck_assert_int_eq(ci_problem_has_fields(pr), 1);
    ck_assert_int_eq(pr->status, 400);
    ck_assert_str_eq(body_of(pr, NULL),
                     "{\"phone_number\":[\"This field is required.\"]}");
}
END_TEST

START_TEST(field_body_many)
{
    ci_problem_t *pr = ci_problem_invalid(ut_pool, 12);
    json_t *j, *want;

    ci_problem_field(ut_pool, pr, "phone_number", "This field is required.");
    ci_problem_field(ut_pool, pr, "password",
                     "Ensure this field has at least 8 characters.");
    ci_problem_field(ut_pool, pr, "phone_number",
                     "Enter a valid phone number.");
    ci_problem_field(ut_pool, ci_problem_field(ut_pool, pr, "email",
                                               "Enter a valid email address."),
                     "password", "This password is too common.");
    body_of(pr, &j);

    want = ci_json_own(ut_pool, json_pack(
        "{s:[s,s], s:[s,s], s:[s]}",
        "phone_number", "This field is required.",
        "Enter a valid phone number.",
        "password", "Ensure this field has at least 8 characters.",
        "This password is too common.",
        "email", "Enter a valid email address."));
    ck_assert_msg(json_equal(j, want), "body: %s", sorted(j));
    ck_assert_str_eq(sorted(j),
        "{\"email\":[\"Enter a valid email address.\"],"
        "\"password\":[\"Ensure this field has at least 8 characters.\","
        "\"This password is too common.\"],"
        "\"phone_number\":[\"This field is required.\","
        "\"Enter a valid phone number.\"]}");
    /* No "detail" beside the fields: DRF sends one shape or the other. */
    ck_assert_ptr_null(json_object_get(j, "detail"));
}
END_TEST

START_TEST(field_on_detail_problem)
{
    /* Adding a field turns any problem into a validation problem body. */
    ci_problem_t *pr = ci_problem_make(ut_pool, 400, 3, "Bad request.");

    ci_problem_field(ut_pool, pr, "non_field_errors",
                     "Unable to log in with provided credentials.");
    ck_assert_str_eq(body_of(pr, NULL),
                     "{\"non_field_errors\":[\"Unable to log in with provided"
                     " credentials.\"]}");
}
END_TEST

START_TEST(field_messages_are_copied)
{
    ci_problem_t *pr = ci_problem_invalid(ut_pool, 12);
    char field[8] = "name", msg[16] = "Too long.";

    ci_problem_field(ut_pool, pr, field, msg);
    memcpy(field, "XXXX", 4);
    memcpy(msg, "XXXX", 4);
    ck_assert_str_eq(body_of(pr, NULL), "{\"name\":[\"Too long.\"]}");
}
END_TEST

START_TEST(log_text_detail)
{
    ci_problem_t *pr = ci_problem_make(ut_pool, 404, 10042, "Not found.");

    ck_assert_str_eq(ci_problem_log_text(ut_pool, pr), "Not found.");
}
END_TEST

START_TEST(log_text_with_log_msg)
{
    /* ci_error.h: "<detail or field summary>[ (log_msg)]". */
    ci_problem_t *pr = ci_problem_make(ut_pool, 500, 10050,
                                       "A server error occurred.");

    pr->log_msg = "database is locked";
    ck_assert_str_eq(ci_problem_log_text(ut_pool, pr),
                     "A server error occurred. (database is locked)");
}
END_TEST

START_TEST(log_text_fields)
{
    ci_problem_t *pr = ci_problem_invalid(ut_pool, 12);
    const char *text;

    ci_problem_field(ut_pool, pr, "phone_number", "secret-ish 555-0100");
    ci_problem_field(ut_pool, pr, "password", "hunter2 is too common");
    ci_problem_field(ut_pool, pr, "phone_number", "again");
    text = ci_problem_log_text(ut_pool, pr);
    ck_assert_msg(strstr(text, "phone_number") && strstr(text, "password"),
                  "log text: %s", text);
    /* Field names only, once each: messages may echo client input. */
    ck_assert_msg(!strstr(text, "555") && !strstr(text, "hunter2"),
                  "log text: %s", text);
    ck_assert_ptr_null(strstr(strstr(text, "phone_number") + 1,
                              "phone_number"));
    ck_assert_ptr_null(strchr(text, '\n'));
}
END_TEST

START_TEST(log_text_default)
{
    ci_problem_t *pr = ci_problem_make(ut_pool, 500, 1, NULL);

    ck_assert_str_eq(ci_problem_log_text(ut_pool, pr), "error");
}
END_TEST

START_TEST(problem_fields_freed_with_pool)
{
    /* The fields object belongs to the pool it was created from: valgrind
     * reports a definite leak if no cleanup releases it. */
    apr_pool_t *sub;
    ci_problem_t *pr;
    int i;

    ck_assert_int_eq(apr_pool_create(&sub, ut_pool), APR_SUCCESS);
    pr = ci_problem_invalid(sub, 12);
    for (i = 0; i < 50; i++) {
        ci_problem_field(sub, pr, apr_psprintf(sub, "f%d", i % 7), "msg");
    }
    ck_assert_uint_eq(json_object_size(pr->fields), 7);
    apr_pool_destroy(sub);
}
END_TEST

Suite *ut_error_suite(void)
{
    Suite *s = suite_create("error");
    TCase *tc;

    tc = ut_tcase("body");
    tcase_add_test(tc, detail_body);
    tcase_add_test(tc, detail_body_escaping);
    tcase_add_test(tc, detail_body_default);
    tcase_add_test(tc, invalid_without_fields);
    tcase_add_test(tc, field_body_one);
    tcase_add_test(tc, field_body_many);
    tcase_add_test(tc, field_on_detail_problem);
    tcase_add_test(tc, field_messages_are_copied);
    tcase_add_test(tc, problem_fields_freed_with_pool);
    suite_add_tcase(s, tc);

    tc = ut_tcase("log");
    tcase_add_test(tc, log_text_detail);
    tcase_add_test(tc, log_text_with_log_msg);
    tcase_add_test(tc, log_text_fields);
    tcase_add_test(tc, log_text_default);
    suite_add_tcase(s, tc);
    return s;
}
