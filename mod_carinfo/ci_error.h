/* ci_error: the one shape of a client-visible error.
 *
 * Bodies are what Django REST framework sends, because existing clients
 * parse them: {"detail": "..."} for 401/403/404/405/413/429/5xx, and
 * {"field": ["message", ...], ...} for a 400 validation error. Every problem
 * carries a log tag (CILOGNO number); the glue writes exactly one error-log
 * line with that tag and sends the tag back as "urn:carinfo:log:CInnnnn" in
 * the X-CarInfo-Problem header, so a client report maps to a log line.
 */
#ifndef mod_carinfo_ci_error_h
#define mod_carinfo_ci_error_h

#include <apr_pools.h>
#include <jansson.h>

typedef struct ci_problem_t {
    int status;             /* HTTP status */
    int logno;              /* log tag number, CI<logno> */
    const char *detail;     /* DRF "detail"; unused when `fields` is set */
    const char *code;       /* DRF/SimpleJWT "code" next to detail, or NULL */
    json_t *fields;         /* validation errors, or NULL (owned by the pool) */
    const char *log_msg;    /* optional text for the log line only; no secrets */
    apr_int64_t retry_after;/* seconds for 429/503's Retry-After, or 0 */
} ci_problem_t;

/* A problem with a DRF "detail" message, allocated from `p`. */
ci_problem_t *ci_problem_make(apr_pool_t *p, int status, int logno,
                              const char *detail);

/* A 400 validation problem with no field yet; add them with
 * ci_problem_field(). */
ci_problem_t *ci_problem_invalid(apr_pool_t *p, int logno);

/* Appends `msg` to field's message list (DRF's {"field": ["msg"]}); the
 * problem becomes a validation problem. Returns `pr` for chaining. */
ci_problem_t *ci_problem_field(apr_pool_t *p, ci_problem_t *pr,
                               const char *field, const char *msg);

/* Whether any field error was added. */
int ci_problem_has_fields(const ci_problem_t *pr);

/* The JSON body for `pr`, from `p`; *len receives its length. */
const char *ci_problem_body(apr_pool_t *p, const ci_problem_t *pr,
                            apr_size_t *len);

/* One line for the error log: "<detail or field summary>[ (log_msg)]". */
const char *ci_problem_log_text(apr_pool_t *p, const ci_problem_t *pr);

#endif /* mod_carinfo_ci_error_h */
