/* ci_sql: every SQL statement the module, the relay and carinfoctl run.
 *
 * One table, mirrored by the schema in sql/<dialect>/. Statements are
 * prepared lazily per connection by ci_db. Placeholders are apr_dbd's:
 * %s text, %d integer, %lld bigint; PostgreSQL is type-strict, so ids and
 * times are %lld and every statement is prepared on both drivers in the
 * tests (`carinfoctl verify`). The SQLite driver binds every parameter as
 * text: compare parameters with columns (affinity converts them), never
 * with literals ("%d = 1" is false there). A statement that needs other SQL on
 * PostgreSQL gives it as the third column; NULL means "same text".
 */
#ifndef mod_carinfo_ci_sql_h
#define mod_carinfo_ci_sql_h

/* The user columns, in the order ci_account reads them. */
#define CI_SQL_USER_COLS \
    "u.id, u.uuid, u.phone_number, u.email, u.full_name, u.phone_number_2, " \
    "u.car_model, u.car_plate_number, u.instagram, u.telegram, u.whatsapp, " \
    "u.is_profile_public, u.is_registered, u.created_at, u.updated_at, " \
    "u.password_hash"
#define CI_SQL_PUBLIC_USER "u.is_registered = 1 AND u.is_profile_public = 1"

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
      "WHERE u.is_registered = 0", NULL) \
    X(USER_BY_UUID, \
      "SELECT " CI_SQL_USER_COLS " FROM users u WHERE u.uuid = %s", NULL) \
    X(USER_BY_PHONE, \
      "SELECT " CI_SQL_USER_COLS " FROM users u " \
      "WHERE u.phone_number = %s AND u.is_registered = 1", NULL) \
    X(USER_BY_STICKER, \
      "SELECT " CI_SQL_USER_COLS " FROM qr_codes q " \
      "JOIN users u ON u.id = q.user_id WHERE q.token = %s", NULL) \
    X(USER_REGISTER, \
      "UPDATE users SET phone_number = %s, password_hash = %s, email = %s, " \
      "full_name = %s, phone_number_2 = %s, car_model = %s, " \
      "car_plate_number = %s, instagram = %s, telegram = %s, whatsapp = %s, " \
      "is_profile_public = %d, is_registered = 1, updated_at = %lld " \
      "WHERE uuid = %s AND is_registered = 0", NULL) \
    X(USER_SET_PASSWORD, \
      "UPDATE users SET password_hash = %s WHERE id = %lld", NULL) \
    X(USER_UPDATE_PROFILE, \
      "UPDATE users SET full_name = COALESCE(%s, full_name), " \
      "phone_number_2 = COALESCE(%s, phone_number_2), " \
      "car_model = COALESCE(%s, car_model), " \
      "car_plate_number = COALESCE(%s, car_plate_number), " \
      "instagram = COALESCE(%s, instagram), " \
      "telegram = COALESCE(%s, telegram), " \
      "whatsapp = COALESCE(%s, whatsapp), " \
      "is_profile_public = COALESCE(%d, is_profile_public), " \
      "email = CASE WHEN %s IS NULL THEN email ELSE NULLIF(%s, '') END, " \
      "updated_at = %lld WHERE id = %lld", NULL) \
    X(USERS_PUBLIC_COUNT, \
      "SELECT COUNT(*) FROM users u WHERE " CI_SQL_PUBLIC_USER, NULL) \
    X(USERS_PUBLIC_PAGE, \
      "SELECT " CI_SQL_USER_COLS " FROM users u WHERE " CI_SQL_PUBLIC_USER \
      " ORDER BY u.id LIMIT %d OFFSET %lld", NULL) \
    X(REFRESH_INSERT, \
      "INSERT INTO refresh_tokens (jti, user_id, family, parent_jti, " \
      "expires_at, created_at) VALUES (%s, %lld, %s, %s, %lld, %lld)", NULL) \
    X(REFRESH_GET, \
      "SELECT r.user_id, r.family, r.expires_at, r.used_at, r.revoked_at, " \
      "u.uuid FROM refresh_tokens r JOIN users u ON u.id = r.user_id " \
      "WHERE r.jti = %s", NULL) \
    X(REFRESH_USE, \
      "UPDATE refresh_tokens SET used_at = %lld WHERE jti = %s " \
      "AND used_at IS NULL AND revoked_at IS NULL", NULL) \
    X(REFRESH_REVOKE_FAMILY, \
      "UPDATE refresh_tokens SET revoked_at = %lld WHERE family = %s " \
      "AND revoked_at IS NULL", NULL) \
    X(RATE_HIT, \
      "INSERT INTO rate_limits (bucket, window_start, hits) " \
      "VALUES (%s, %lld, 1) ON CONFLICT (bucket) DO UPDATE SET " \
      "hits = CASE WHEN rate_limits.window_start <= %lld THEN 1 " \
      "ELSE rate_limits.hits + 1 END, " \
      "window_start = CASE WHEN rate_limits.window_start <= %lld " \
      "THEN excluded.window_start ELSE rate_limits.window_start END " \
      "RETURNING hits, window_start", NULL) \
    X(RATE_RESET, "DELETE FROM rate_limits WHERE bucket = %s", NULL)

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
