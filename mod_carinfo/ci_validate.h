/* ci_validate: request-body validation with Django REST framework's
 * messages, so existing clients show the same texts.
 *
 * A face describes its body as an array of ci_field_t; ci_validate()
 * checks a parsed JSON object against it, fills one ci_value_t per field
 * and adds every problem to a ci_problem_t as {"field": ["message"]}.
 */
#ifndef mod_carinfo_ci_validate_h
#define mod_carinfo_ci_validate_h

#include <apr_pools.h>
#include <jansson.h>

#include "ci_error.h"

typedef enum {
    CI_FIELD_STRING,        /* trimmed text, control characters refused */
    CI_FIELD_BOOL,          /* true/false (also "true"/"false", 0/1) */
    CI_FIELD_UUID,          /* canonical UUID, returned in lower case */
    CI_FIELD_PHONE,         /* normalized to E.164 (+ and 8-15 digits) */
    CI_FIELD_EMAIL,         /* lower-cased domain; "" clears */
    CI_FIELD_PASSWORD,      /* not trimmed; strength rules apply */
    CI_FIELD_INT,           /* a JSON integer (or its decimal string) */
    CI_FIELD_RAW            /* a string as sent: no trimming, no rules */
} ci_field_type_t;

typedef enum {
    CI_FIELD_OPTIONAL = 0,
    CI_FIELD_REQUIRED = 1,
    CI_FIELD_READ_ONLY = 2  /* present in the body: refused */
} ci_field_use_t;

typedef struct ci_field_t {
    const char *name;
    ci_field_type_t type;
    ci_field_use_t use;
    int max_len;            /* characters, for strings; 0 = no limit */
} ci_field_t;

typedef struct ci_value_t {
    int present;
    const char *str;        /* strings, uuid, phone, email, password */
    int flag;               /* bool */
    apr_int64_t num;        /* int */
} ci_value_t;

/* Checks `body` against fields[0..n): a non-object body, unknown keys,
 * missing required fields, read-only fields, wrong types and bad values
 * each add a message to `pr`. vals[i] receives fields[i]'s value. Returns
 * 1 when no problem was added. Strings are from `p`. */
int ci_validate(apr_pool_t *p, const json_t *body, const ci_field_t *fields,
                int n, ci_value_t *vals, ci_problem_t *pr);

/* E.164 form of a phone number ("+998 90 123-45-67", "00998...") from
 * `p`, or NULL when it is not one. */
const char *ci_validate_phone(apr_pool_t *p, const char *in);

/* NULL when `pw` is strong enough, else Django's message for the first
 * rule it breaks. */
const char *ci_validate_password(const char *pw);

#endif /* mod_carinfo_ci_validate_h */
