/* ci_sql.c: see ci_sql.h. */
#include <string.h>

#include "ci_sql.h"

typedef struct {
    const char *name;
    const char *sql[2];
} stmt_def_t;

static const stmt_def_t stmts[CI_STMT__COUNT] = {
#define CI_SQL_DEF(n, s, pg) { #n, { s, pg } },
    CI_SQL_STATEMENTS(CI_SQL_DEF)
#undef CI_SQL_DEF
};

const char *ci_sql_name(ci_stmt_id_t id)
{
    return stmts[id].name;
}

const char *ci_sql_text(ci_stmt_id_t id, ci_dialect_t dialect)
{
    const char *pg = stmts[id].sql[CI_DIALECT_PGSQL];

    if (dialect == CI_DIALECT_PGSQL && pg) {
        return pg;
    }
    return stmts[id].sql[CI_DIALECT_SQLITE];
}

int ci_sql_nargs(ci_stmt_id_t id)
{
    return ci_sql_qmarks(stmts[id].sql[CI_DIALECT_SQLITE], NULL);
}

int ci_sql_qmarks(const char *s, char *out)
{
    int n = 0;

    while (*s) {
        if (s[0] == '%' && s[1] == '%') {
            s += 2;
            if (out) {
                *out++ = '%';
            }
            continue;
        }
        if (s[0] == '%' && strchr("sdlf", s[1]) && s[1]) {
            for (s++; *s == 'l'; s++) {
            }
            s += *s != '\0';       /* the conversion letter */
            n++;
            if (out) {
                *out++ = '?';
            }
            continue;
        }
        if (out) {
            *out++ = *s;
        }
        s++;
    }
    if (out) {
        *out = '\0';
    }
    return n;
}
