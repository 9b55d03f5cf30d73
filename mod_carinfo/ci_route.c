/* ci_route.c: see ci_route.h. */
#include <string.h>
#include <apr_strings.h>

#include "ci_route.h"
#include "ci_util.h"

typedef enum {
    SEG_END, SEG_LIT, SEG_UUID, SEG_INT, SEG_STR, SEG_BAD
} seg_kind_t;

/* Next path segment of `s` (skipping repeated slashes); sets *len. */
static const char *next_seg(const char *s, apr_size_t *len)
{
    while (*s == '/') {
        s++;
    }
    *len = strcspn(s, "/");
    return s;
}

/* Classifies a pattern segment; for a parameter sets *name and *nlen. */
static seg_kind_t pattern_kind(const char *seg, apr_size_t len,
                               const char **name, apr_size_t *nlen)
{
    const char *colon;
    apr_size_t tlen;

    if (len == 0) {
        return SEG_END;
    }
    if (seg[0] != '{') {
        return SEG_LIT;
    }
    if (len < 4 || seg[len - 1] != '}') {
        return SEG_BAD;
    }
    colon = memchr(seg, ':', len);
    if (!colon || colon == seg + 1) {
        return SEG_BAD;
    }
    *name = seg + 1;
    *nlen = (apr_size_t)(colon - seg - 1);
    tlen = (apr_size_t)(seg + len - 1 - colon - 1);
    if (tlen == 4 && !strncmp(colon + 1, "uuid", 4)) {
        return SEG_UUID;
    }
    if (tlen == 3 && !strncmp(colon + 1, "int", 3)) {
        return SEG_INT;
    }
    if (tlen == 3 && !strncmp(colon + 1, "str", 3)) {
        return SEG_STR;
    }
    return SEG_BAD;
}

/* Matches one path against one pattern; on success fills m's params. */
static int path_matches(apr_pool_t *p, const char *pattern, const char *path,
                        ci_route_match_t *m)
{
    const char *ps = pattern, *us = path;
    apr_size_t plen, ulen;

    m->nparams = 0;
    for (;;) {
        const char *name = NULL, *val;
        apr_size_t nlen = 0;
        seg_kind_t kind;
        apr_int64_t iv;

        ps = next_seg(ps, &plen);
        us = next_seg(us, &ulen);
        kind = pattern_kind(ps, plen, &name, &nlen);
        if (kind == SEG_END) {
            return ulen == 0 && *us == '\0';
        }
        if (ulen == 0) {
            return 0;
        }
        switch (kind) {
        case SEG_LIT:
            if (plen != ulen || strncmp(ps, us, plen)) {
                return 0;
            }
            break;
        case SEG_UUID:
        case SEG_INT:
        case SEG_STR:
            if (m->nparams >= CI_ROUTE_MAX_PARAMS) {
                return 0;
            }
            val = apr_pstrmemdup(p, us, ulen);
            if (kind == SEG_UUID && !(val = ci_uuid_normalize(p, val))) {
                return 0;
            }
            if (kind == SEG_INT && (ci_parse_int64(val, &iv) || iv <= 0)) {
                return 0;
            }
            m->params[m->nparams].name = apr_pstrmemdup(p, name, nlen);
            m->params[m->nparams].value = val;
            m->nparams++;
            break;
        default:
            return 0;
        }
        ps += plen;
        us += ulen;
    }
}

static int method_matches(const char *route_method, const char *method)
{
    return !strcmp(route_method, method)
        || (!strcmp(method, "HEAD") && !strcmp(route_method, "GET"));
}

/* Appends `method` to the Allow list unless it is there already. */
static const char *allow_add(apr_pool_t *p, const char *list,
                             const char *method)
{
    const char *s = list;
    apr_size_t n = strlen(method);

    while (s && *s) {
        apr_size_t len = strcspn(s, ",");
        if (len == n && !strncmp(s, method, n)) {
            return list;
        }
        s += len;
        while (*s == ',' || *s == ' ') {
            s++;
        }
    }
    return list ? apr_pstrcat(p, list, ", ", method, NULL) : method;
}

ci_route_result_t ci_route_find(apr_pool_t *p, const ci_route_t *routes,
                                int n, const char *method, const char *path,
                                ci_route_match_t *m, const char **allow)
{
    const char *methods = NULL;
    int i;

    for (i = 0; i < n; i++) {
        ci_route_match_t tmp;
        if (!path_matches(p, routes[i].pattern, path, &tmp)) {
            continue;
        }
        if (method_matches(routes[i].method, method)) {
            *m = tmp;
            m->route = &routes[i];
            return CI_ROUTE_FOUND;
        }
        methods = allow_add(p, methods, routes[i].method);
        if (!strcmp(routes[i].method, "GET")) {
            methods = allow_add(p, methods, "HEAD");
        }
    }
    if (methods) {
        *allow = methods;
        return CI_ROUTE_BAD_METHOD;
    }
    return CI_ROUTE_NOT_FOUND;
}

const char *ci_route_param(const ci_route_match_t *m, const char *name)
{
    int i;

    for (i = 0; i < m->nparams; i++) {
        if (!strcmp(m->params[i].name, name)) {
            return m->params[i].value;
        }
    }
    return NULL;
}

const char *ci_route_check(apr_pool_t *p, const ci_route_t *routes, int n)
{
    int i, j;

    for (i = 0; i < n; i++) {
        const char *ps = routes[i].pattern;
        apr_size_t plen;
        int params = 0;

        if (!routes[i].method || !ps || ps[0] != '/' || !routes[i].handler) {
            return apr_psprintf(p, "route %d: method, pattern starting with "
                                "'/' and handler are required", i);
        }
        for (;;) {
            const char *name;
            apr_size_t nlen;
            seg_kind_t kind;

            ps = next_seg(ps, &plen);
            kind = pattern_kind(ps, plen, &name, &nlen);
            if (kind == SEG_END) {
                break;
            }
            if (kind == SEG_BAD) {
                return apr_psprintf(p, "route %s %s: bad segment '%.*s'",
                                    routes[i].method, routes[i].pattern,
                                    (int)plen, ps);
            }
            if (kind != SEG_LIT && ++params > CI_ROUTE_MAX_PARAMS) {
                return apr_psprintf(p, "route %s %s: too many parameters",
                                    routes[i].method, routes[i].pattern);
            }
            ps += plen;
        }
        for (j = 0; j < i; j++) {
            if (!strcmp(routes[i].method, routes[j].method)
                && !strcmp(routes[i].pattern, routes[j].pattern)) {
                return apr_psprintf(p, "route %s %s is listed twice",
                                    routes[i].method, routes[i].pattern);
            }
        }
    }
    return NULL;
}
