/* ci_error.c: see ci_error.h. */
#include <apr_strings.h>

#include "ci_error.h"
#include "ci_json.h"

ci_problem_t *ci_problem_make(apr_pool_t *p, int status, int logno,
                              const char *detail)
{
    ci_problem_t *pr = apr_pcalloc(p, sizeof(*pr));

    pr->status = status;
    pr->logno = logno;
    pr->detail = detail;
    return pr;
}

ci_problem_t *ci_problem_invalid(apr_pool_t *p, int logno)
{
    return ci_problem_make(p, 400, logno, "Invalid input.");
}

ci_problem_t *ci_problem_field(apr_pool_t *p, ci_problem_t *pr,
                               const char *field, const char *msg)
{
    json_t *list;

    if (!pr->fields) {
        pr->fields = ci_json_own(p, json_object());
    }
    list = json_object_get(pr->fields, field);
    if (!list) {
        list = json_array();
        json_object_set_new(pr->fields, field, list);
    }
    json_array_append_new(list, json_string(msg));
    return pr;
}

int ci_problem_has_fields(const ci_problem_t *pr)
{
    return pr->fields && json_object_size(pr->fields) > 0;
}

const char *ci_problem_body(apr_pool_t *p, const ci_problem_t *pr,
                            apr_size_t *len)
{
    json_t *body;

    if (ci_problem_has_fields(pr)) {
        return ci_json_dump(p, pr->fields, len);
    }
    body = ci_json_own(p, json_object());
    json_object_set_new(body, "detail", json_string(pr->detail ? pr->detail
                                                    : "Error."));
    if (pr->code) {
        json_object_set_new(body, "code", json_string(pr->code));
    }
    return ci_json_dump(p, body, len);
}

const char *ci_problem_log_text(apr_pool_t *p, const ci_problem_t *pr)
{
    const char *text = pr->detail ? pr->detail : "error";

    if (ci_problem_has_fields(pr)) {
        const char *key;
        json_t *v;
        text = "invalid fields:";
        json_object_foreach(pr->fields, key, v) {
            text = apr_pstrcat(p, text, " ", key, NULL);
        }
    }
    if (pr->log_msg) {
        text = apr_pstrcat(p, text, " (", pr->log_msg, ")", NULL);
    }
    return text;
}
