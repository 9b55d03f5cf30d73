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

/* Room and message columns, in the order ci_chat reads them. */
#define CI_SQL_ROOM_COLS \
    "r.id, r.uuid, r.kind, r.owner_id, o.uuid, r.visitor_name, " \
    "r.visitor_token_hash, r.visitor_blocked, r.is_active, r.created_at, " \
    "r.updated_at, r.owner_last_read_id"
#define CI_SQL_MSG_COLS_WITH(room_uuid) \
    "m.id, m.uuid, " room_uuid ", m.sender_type, m.sender_name, " \
    "m.content, m.created_at, m.room_id"
#define CI_SQL_MSG_COLS CI_SQL_MSG_COLS_WITH("r.uuid")
/* Typed NULLs in the shape of the room and of the message columns. */
#define CI_SQL_NULL_I "CAST(NULL AS BIGINT)"
#define CI_SQL_NULL_T "CAST(NULL AS TEXT)"
#define CI_SQL_NULLS_ROOM \
    CI_SQL_NULL_I ", " CI_SQL_NULL_T ", " CI_SQL_NULL_T ", " CI_SQL_NULL_I \
    ", " CI_SQL_NULL_T ", " CI_SQL_NULL_T ", " CI_SQL_NULL_T ", " \
    CI_SQL_NULL_I ", " CI_SQL_NULL_I ", " CI_SQL_NULL_I ", " CI_SQL_NULL_I \
    ", " CI_SQL_NULL_I
#define CI_SQL_NULLS_MSG \
    CI_SQL_NULL_I ", " CI_SQL_NULL_T ", " CI_SQL_NULL_T ", " CI_SQL_NULL_T \
    ", " CI_SQL_NULL_T ", " CI_SQL_NULL_T ", " CI_SQL_NULL_I ", " \
    CI_SQL_NULL_I

/* X(NAME, sqlite-or-common SQL, PostgreSQL SQL or NULL) */
#define CI_SQL_STATEMENTS(X) \
    X(PING, "SELECT 1", NULL) \
    /* carinfo-relay on SQLite: checkpoints off its loop (relay_sqlite.h) */ \
    X(WAL_NO_AUTOCHECKPOINT, "PRAGMA wal_autocheckpoint=0", "SELECT 0") \
    X(WAL_CHECKPOINT, "PRAGMA wal_checkpoint(PASSIVE)", "SELECT 0, 0, 0") \
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
    X(RATE_RESET, "DELETE FROM rate_limits WHERE bucket = %s", NULL) \
    X(ROOM_CREATE_VISITOR, \
      "INSERT INTO rooms (uuid, kind, owner_id, visitor_name, " \
      "visitor_token_hash, created_at, updated_at) " \
      "VALUES (%s, 'visitor', %lld, %s, %s, %lld, %lld)", NULL) \
    X(ROOM_BY_UUID, \
      "SELECT " CI_SQL_ROOM_COLS " FROM rooms r " \
      "LEFT JOIN users o ON o.id = r.owner_id " \
      "WHERE r.uuid = %s AND r.is_deleted = 0", NULL) \
    /* The unread count is stored in the room (006): counts grouped and \
     * joined in ran over all of the owner's rooms before the LIMIT on \
     * PostgreSQL (9-120 ms for an owner of 50,000 rooms), and one count \
     * per listed room cost PostgreSQL ~3.5 us a room. */ \
    X(ROOMS_OF_OWNER, \
      "SELECT " CI_SQL_ROOM_COLS ", m.uuid, m.sender_type, m.content, " \
      "m.created_at, r.owner_unread " \
      "FROM rooms r JOIN users o ON o.id = r.owner_id " \
      "LEFT JOIN messages m ON m.id = r.last_message_id " \
      "WHERE r.owner_id = %lld AND r.kind = 'visitor' AND r.is_deleted = 0 " \
      "ORDER BY r.updated_at DESC, r.id DESC LIMIT %d OFFSET %lld", NULL) \
    X(ROOMS_OF_OWNER_COUNT, \
      "SELECT COUNT(*) FROM rooms r WHERE r.owner_id = %lld " \
      "AND r.kind = 'visitor' AND r.is_deleted = 0", NULL) \
    /* Posting (ci_chat_post_many), one statement per batch. Arguments are \
     * JSON arrays (SQLite's json_each, PostgreSQL's json functions), so a \
     * batch of any size is one prepared statement. PostgreSQL locks the \
     * rooms, in id order, until the commit: posts into one room then \
     * take their ids in commit order. PostgreSQL plans a set-returning \
     * function for 100 rows, so a cached generic plan joined rooms by a \
     * sequential scan until the table outgrew ~12,000 rows (3 ms a batch \
     * at 20,000 rows): rooms are found by "id = ANY(ARRAY(...))" instead, \
     * which the planner costs as ~10 index probes. */ \
    X(ROOMS_LOCK, \
      "SELECT r.id, COALESCE(r.last_message_id, 0), r.is_active, " \
      "r.visitor_blocked, r.is_deleted FROM rooms r " \
      "WHERE r.id IN (SELECT j.value FROM json_each(%s) j)", \
      "SELECT r.id, COALESCE(r.last_message_id, 0), r.is_active, " \
      "r.visitor_blocked, r.is_deleted FROM rooms r " \
      "WHERE r.id = ANY(ARRAY(SELECT j::bigint FROM " \
      "json_array_elements_text(%s::json) j)) ORDER BY r.id FOR UPDATE") \
    /* [[uuid, room id, sender type, sender id or null, name, text]...] */ \
    X(MSGS_INSERT, \
      "INSERT INTO messages (uuid, room_id, sender_type, sender_id, " \
      "sender_name, content, created_at, updated_at) " \
      "SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, " \
      "j.value ->> 4, j.value ->> 5, %lld, %lld FROM json_each(%s) j " \
      "ORDER BY j.key RETURNING id, uuid", \
      "INSERT INTO messages (uuid, room_id, sender_type, sender_id, " \
      "sender_name, content, created_at, updated_at) " \
      "SELECT j.e ->> 0, (j.e ->> 1)::bigint, j.e ->> 2, " \
      "(j.e ->> 3)::bigint, j.e ->> 4, j.e ->> 5, %lld, %lld " \
      "FROM json_array_elements(%s::json) WITH ORDINALITY AS j(e, n) " \
      "ORDER BY j.n RETURNING id, uuid") \
    /* [[room id, its last message id, its new visitor messages]...]; \
     * PostgreSQL also NOTIFYs carinfo_chat with "<room id>:<last message \
     * id>" for each room. */ \
    X(ROOMS_TOUCH, \
      "WITH j AS (SELECT value ->> 0 AS id, value ->> 1 AS last, " \
      "value ->> 2 AS unread FROM json_each(%s)) " \
      "UPDATE rooms SET updated_at = %lld, last_message_id = j.last, " \
      "owner_unread = owner_unread + j.unread " \
      "FROM j WHERE rooms.id = j.id RETURNING rooms.id", \
      "WITH j AS (SELECT (e ->> 0)::bigint AS id, (e ->> 1)::bigint AS " \
      "last, (e ->> 2)::bigint AS unread " \
      "FROM json_array_elements(%s::json) e) " \
      "UPDATE rooms SET updated_at = %lld, last_message_id = j.last, " \
      "owner_unread = rooms.owner_unread + j.unread FROM j WHERE rooms.id = j.id AND rooms.id = ANY(ARRAY(" \
      "SELECT id FROM j)) RETURNING pg_notify(" \
      "'carinfo_chat', rooms.id || ':' || rooms.last_message_id)") \
    X(ROOM_SET_STATE, \
      "UPDATE rooms SET is_active = COALESCE(%d, is_active), " \
      "visitor_blocked = COALESCE(%d, visitor_blocked), updated_at = %lld " \
      "WHERE id = %lld", NULL) \
    /* The owner has read up to message %lld: what it read leaves the \
     * unread count. Every message up to it was committed before the \
     * owner saw it (a room's ids grow in commit order: posts lock the \
     * room first), so the count is exact under concurrent posts. */ \
    X(ROOM_OWNER_READ, \
      "UPDATE rooms SET owner_unread = owner_unread - (SELECT COUNT(*) " \
      "FROM messages x WHERE x.room_id = rooms.id " \
      "AND x.sender_type = 'visitor' AND x.is_deleted = 0 " \
      "AND x.id > rooms.owner_last_read_id AND x.id <= %lld), " \
      "owner_last_read_id = %lld " \
      "WHERE id = %lld AND owner_last_read_id < %lld", NULL) \
    X(MSG_ID_IN_ROOM, \
      "SELECT m.id FROM messages m WHERE m.uuid = %s AND m.room_id = %lld", \
      NULL) \
    /* The caller knows the room's uuid (ci_chat_history): no join, which \
     * was one rooms probe per message. */ \
    X(MSGS_AFTER, \
      "SELECT " CI_SQL_MSG_COLS_WITH("''") " FROM messages m " \
      "WHERE m.room_id = %lld AND m.id > %lld AND m.is_deleted = 0 " \
      "ORDER BY m.id LIMIT %d", NULL) \
    /* A room (kind 0, its CI_SQL_ROOM_COLS) and its messages after an id \
     * (kind 1, CI_SQL_MSG_COLS after 12 NULLs) in one statement, so the \
     * messages list is one round trip to PostgreSQL (ci_chat_room_history; \
     * SQLite runs ROOM_BY_UUID and MSGS_AFTER); the typed NULLs let \
     * PostgreSQL unify the two halves. */ \
    X(ROOM_HISTORY, \
      "SELECT 0 AS k, " CI_SQL_ROOM_COLS ", " CI_SQL_NULLS_MSG " " \
      "FROM rooms r LEFT JOIN users o ON o.id = r.owner_id " \
      "WHERE r.uuid = %s AND r.is_deleted = 0 " \
      "UNION ALL SELECT * FROM (SELECT 1 AS k, " CI_SQL_NULLS_ROOM ", " \
      CI_SQL_MSG_COLS_WITH("''") " FROM messages m " \
      "WHERE m.room_id = (SELECT x.id FROM rooms x WHERE x.uuid = %s " \
      "AND x.is_deleted = 0) AND m.id > %lld AND m.is_deleted = 0 " \
      "ORDER BY m.id LIMIT %d) h ORDER BY 1, 14", NULL) \
    X(MSG_BY_ID, \
      "SELECT " CI_SQL_MSG_COLS " FROM messages m " \
      "JOIN rooms r ON r.id = m.room_id WHERE m.id = %lld", NULL) \
    X(MSG_LAST_ID, \
      "SELECT COALESCE(MAX(m.id), 0) FROM messages m WHERE m.room_id = %lld", \
      NULL) \
    X(USER_BY_ID, \
      "SELECT " CI_SQL_USER_COLS " FROM users u WHERE u.id = %lld", NULL) \
    X(QR_CLAIM, \
      "UPDATE qr_codes SET user_id = %lld, claimed_at = %lld " \
      "WHERE token = %s AND user_id IN " \
      "(SELECT id FROM users WHERE is_registered = 0)", NULL) \
    X(GUEST_ROOM, \
      "SELECT " CI_SQL_ROOM_COLS ", r.guest_addr_hash FROM rooms r " \
      "LEFT JOIN users o ON o.id = r.owner_id WHERE r.owner_id = %lld " \
      "AND r.origin = 'guest' AND r.visitor_name = %s " \
      "AND r.is_deleted = 0", NULL) \
    X(GUEST_ROOM_CREATE, \
      "INSERT INTO rooms (uuid, kind, origin, owner_id, visitor_name, " \
      "visitor_token_hash, guest_addr_hash, created_at, updated_at) " \
      "VALUES (%s, 'visitor', 'guest', %lld, %s, %s, %s, %lld, %lld)", \
      NULL) \
    X(GUEST_PSEUDOS, \
      "SELECT r.visitor_name FROM rooms r WHERE r.owner_id = %lld " \
      "AND r.origin = 'guest' AND r.is_deleted = 0 " \
      "ORDER BY r.updated_at DESC, r.id DESC LIMIT %d", NULL) \
    X(DIRECT_ROOM, \
      "SELECT " CI_SQL_ROOM_COLS " FROM rooms r " \
      "LEFT JOIN users o ON o.id = r.owner_id " \
      "WHERE r.kind = 'direct' AND r.name = %s", NULL) \
    X(DIRECT_ROOM_CREATE, \
      "INSERT INTO rooms (uuid, kind, origin, owner_id, name, created_at, " \
      "updated_at) VALUES (%s, 'direct', 'direct', %lld, %s, %lld, %lld)", \
      NULL) \
    X(MEMBER_ADD, \
      "INSERT INTO room_members (room_id, user_id, joined_at) " \
      "VALUES (%lld, %lld, %lld) ON CONFLICT DO NOTHING", NULL) \
    X(MSGS_WITH_SENDER, \
      "SELECT m.id, m.uuid, m.sender_type, m.sender_id, m.sender_name, " \
      "m.content, m.created_at FROM messages m WHERE m.room_id = %lld " \
      "AND m.is_deleted = 0 ORDER BY m.created_at, m.id LIMIT %d", NULL) \
    X(DIRECT_PARTNERS, \
      "SELECT u.id, u.uuid, u.full_name, r.uuid, r.updated_at, " \
      "m.content, m.sender_id, m.created_at FROM room_members me " \
      "JOIN rooms r ON r.id = me.room_id AND r.kind = 'direct' " \
      "JOIN room_members them ON them.room_id = r.id " \
      "AND them.user_id <> me.user_id " \
      "JOIN users u ON u.id = them.user_id " \
      "LEFT JOIN messages m ON m.id = r.last_message_id " \
      "WHERE me.user_id = %lld ORDER BY r.updated_at DESC, r.id DESC " \
      "LIMIT %d", NULL)

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

/* Walks the apr_dbd placeholders (%s, %d, %lld, %f) of `sql` and returns
 * how many there are; when `out` is not NULL (strlen(sql) + 1 bytes) it
 * gets the SQL with each one as "?" and "%%" as "%" (SQLite's form). */
int ci_sql_qmarks(const char *sql, char *out);

#endif /* mod_carinfo_ci_sql_h */
