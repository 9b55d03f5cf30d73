/* ci_sql: every SQL statement the module, the relay and carinfoctl run.
 *
 * One table, mirrored by the schema in sql/<dialect>/. Statements are
 * prepared lazily per connection by ci_db. Placeholders are apr_dbd's:
 * %s text, %d integer, %lld bigint; PostgreSQL is type-strict, so ids and
 * times are %lld and every statement is prepared on both drivers in the
 * tests (`carinfoctl verify`). A statement that needs other SQL on
 * PostgreSQL gives it as the third column; NULL means "same text".
 */
#ifndef mod_carinfo_ci_sql_h
#define mod_carinfo_ci_sql_h

/* X(NAME, sqlite-or-common SQL, PostgreSQL SQL or NULL) */
#define CI_SQL_STATEMENTS(X) \
    X(PING, "SELECT 1", NULL) \
    X(SCHEMA_VERSION, \
      "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL) \
    X(SCHEMA_VERSION_ADD, \
      "INSERT INTO schema_version (version, name, applied_at) " \
      "VALUES (%d, %s, %lld)", NULL) \
    X(QR_INSERT_FREE, \
      "INSERT INTO users (uuid, is_registered, is_profile_public, " \
      "created_at, updated_at) VALUES (%s, 0, 0, %lld, %lld) RETURNING id", \
      NULL) \
    X(QR_INSERT, \
      "INSERT INTO qr_codes (token, user_id, created_at) " \
      "VALUES (%s, %lld, %lld)", NULL) \
    X(QR_BY_TOKEN, \
      "SELECT u.uuid, u.is_registered, u.is_profile_public " \
      "FROM qr_codes q JOIN users u ON u.id = q.user_id WHERE q.token = %s", \
      NULL) \
    X(QR_COUNT_FREE, \
      "SELECT COUNT(*) FROM qr_codes q JOIN users u ON u.id = q.user_id " \
      "WHERE u.is_registered = 0", NULL)

typedef enum {
#define CI_SQL_ENUM(name, sql, pgsql) CI_STMT_##name,
    CI_SQL_STATEMENTS(CI_SQL_ENUM)
#undef CI_SQL_ENUM
    CI_STMT__COUNT
} ci_stmt_id_t;

typedef enum { CI_DIALECT_SQLITE = 0, CI_DIALECT_PGSQL = 1 } ci_dialect_t;

/* The statement's name ("PING") and its SQL for `dialect`. */
const char *ci_sql_name(ci_stmt_id_t id);
const char *ci_sql_text(ci_stmt_id_t id, ci_dialect_t dialect);

/* How many placeholders the statement takes (%% is not one). */
int ci_sql_nargs(ci_stmt_id_t id);

#endif /* mod_carinfo_ci_sql_h */
