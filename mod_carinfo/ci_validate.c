/* ci_validate.c: see ci_validate.h. */
#include <string.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "ci_json.h"
#include "ci_util.h"
#include "ci_validate.h"

#define PASSWORD_MIN 8
#define PASSWORD_MAX 128
#define EMAIL_MAX 254

static const char *const common_passwords[] = {
    "password", "password1", "password123", "12345678", "123456789",
    "1234567890", "qwerty123", "qwertyuiop", "11111111", "00000000",
    "iloveyou", "abc12345", "abcd1234", "letmein1", "welcome1",
    "admin123", "passw0rd", "sunshine", "football", "baseball",
    NULL
};

const char *ci_validate_phone(apr_pool_t *p, const char *in)
{
    char *out = apr_palloc(p, strlen(in) + 2), *o = out;
    const char *s = in;
    int digits = 0;

    while (*s == ' ') {
        s++;
    }
    if (s[0] == '+') {
        s++;
    }
    else if (s[0] == '0' && s[1] == '0') {
        s += 2;
    }
    else {
        return NULL;                    /* international form only */
    }
    *o++ = '+';
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9') {
            if (digits == 0 && *s == '0') {
                return NULL;            /* country codes never start 0 */
            }
            *o++ = *s;
            digits++;
        }
        else if (!strchr(" -().", *s)) {
            return NULL;
        }
    }
    *o = '\0';
    return digits >= 8 && digits <= 15 ? out : NULL;
}

const char *ci_validate_password(const char *pw)
{
    apr_size_t n = ci_utf8_len(pw);
    int i, numeric = 1;

    if (n < PASSWORD_MIN) {
        return "This password is too short. It must contain at least 8 "
               "characters.";
    }
    if (n > PASSWORD_MAX) {
        return "Ensure this field has no more than 128 characters.";
    }
    for (i = 0; pw[i]; i++) {
        if (pw[i] < '0' || pw[i] > '9') {
            numeric = 0;
        }
    }
    for (i = 0; common_passwords[i]; i++) {
        if (!strcasecmp(pw, common_passwords[i])) {
            return "This password is too common.";
        }
    }
    return numeric ? "This password is entirely numeric." : NULL;
}

static const char *validate_email(apr_pool_t *p, const char *in)
{
    const char *at = strchr(in, '@');
    char *out;
    apr_size_t i;

    if (!*in) {
        return "";
    }
    if (!at || at == in || strchr(at + 1, '@') || !strchr(at + 1, '.')
        || at[1] == '.' || in[strlen(in) - 1] == '.'
        || strlen(in) > EMAIL_MAX || (apr_size_t)(at - in) > 64) {
        return NULL;
    }
    out = apr_pstrdup(p, in);
    for (i = 0; out[i]; i++) {
        if ((unsigned char)out[i] <= ' ' || strchr("()<>,;:\\\"[]", out[i])) {
            return NULL;
        }
        if (i > (apr_size_t)(at - in)) {
            out[i] = (char)apr_tolower(out[i]);
        }
    }
    return out;
}

/* Trimmed copy; NULL when it holds control characters. */
static const char *clean_string(apr_pool_t *p, const char *s, int trim)
{
    apr_size_t b = 0, e = strlen(s), i;

    if (trim) {
        while (b < e && apr_isspace(s[b])) {
            b++;
        }
        while (e > b && apr_isspace(s[e - 1])) {
            e--;
        }
    }
    for (i = b; i < e; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return NULL;
        }
    }
    return apr_pstrmemdup(p, s + b, e - b);
}

static const char *text_of(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Checks one present value; returns an error message or NULL. */
static const char *check_value(apr_pool_t *p, const ci_field_t *f,
                               const json_t *v, ci_value_t *out)
{
    const char *s = text_of(v);

    if (json_is_null(v)) {
        return "This field may not be null.";
    }
    switch (f->type) {
    case CI_FIELD_BOOL:
        if (json_is_boolean(v)) {
            out->flag = json_is_true(v);
        }
        else if (s && (!strcmp(s, "true") || !strcmp(s, "false"))) {
            out->flag = s[0] == 't';
        }
        else if (json_is_integer(v) && json_integer_value(v) >= 0
                 && json_integer_value(v) <= 1) {
            out->flag = (int)json_integer_value(v);
        }
        else {
            return "Must be a valid boolean.";
        }
        return NULL;
    case CI_FIELD_INT:
        if (json_is_integer(v)) {
            out->num = json_integer_value(v);
        }
        else if (!s || ci_parse_int64(s, &out->num)) {
            return "A valid integer is required.";
        }
        return NULL;
    default:
        break;
    }
    if (!s) {
        return "Not a valid string.";
    }
    if (f->max_len && ci_utf8_len(s) > (apr_size_t)f->max_len) {
        return apr_psprintf(p, "Ensure this field has no more than %d "
                            "characters.", f->max_len);
    }
    if (f->type == CI_FIELD_RAW) {
        out->str = s;
        return NULL;
    }
    if (f->type == CI_FIELD_PASSWORD) {
        if (!*s) {
            return "This field may not be blank.";
        }
        out->str = s;
        return ci_validate_password(s);
    }
    if (!(s = clean_string(p, s, 1))) {
        return "Control characters are not allowed.";
    }
    switch (f->type) {
    case CI_FIELD_UUID:
        out->str = ci_uuid_normalize(p, s);
        return out->str ? NULL : "Must be a valid UUID.";
    case CI_FIELD_PHONE:
        if (!*s) {
            return "This field may not be blank.";
        }
        out->str = ci_validate_phone(p, s);
        return out->str ? NULL : "Enter a valid phone number.";
    case CI_FIELD_EMAIL:
        out->str = validate_email(p, s);
        return out->str ? NULL : "Enter a valid email address.";
    default:
        if (!*s && f->use == CI_FIELD_REQUIRED) {
            return "This field may not be blank.";
        }
        out->str = s;
        return NULL;
    }
}

int ci_validate(apr_pool_t *p, const json_t *body, const ci_field_t *fields,
                int n, ci_value_t *vals, ci_problem_t *pr)
{
    const char *key;
    json_t *v;
    int i, ok = 1;

    memset(vals, 0, sizeof(*vals) * (apr_size_t)n);
    if (!json_is_object(body)) {
        ci_problem_field(p, pr, "non_field_errors", apr_psprintf(p,
                         "Invalid data. Expected a dictionary, but got %s.",
                         ci_json_type_name(body)));
        return 0;
    }
    json_object_foreach((json_t *)body, key, v) {
        for (i = 0; i < n && strcmp(fields[i].name, key); i++) {
        }
        if (i == n) {
            ci_problem_field(p, pr, key, "Unknown field.");
            ok = 0;
        }
    }
    for (i = 0; i < n; i++) {
        const char *msg = NULL;

        v = json_object_get(body, fields[i].name);
        if (!v) {
            if (fields[i].use == CI_FIELD_REQUIRED) {
                msg = "This field is required.";
            }
        }
        else if (fields[i].use == CI_FIELD_READ_ONLY) {
            msg = "This field cannot be changed.";
        }
        else {
            vals[i].present = 1;
            msg = check_value(p, &fields[i], v, &vals[i]);
        }
        if (msg) {
            ci_problem_field(p, pr, fields[i].name, msg);
            ok = 0;
        }
    }
    return ok;
}
