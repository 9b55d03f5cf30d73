-- 001_init: the data model of DESIGN section 2 (PostgreSQL).
-- Times are integer microseconds since the epoch; flags are 0/1 integers
-- (the same on PostgreSQL, so one statement set serves both drivers).

CREATE TABLE users (
    id                BIGSERIAL PRIMARY KEY,
    uuid              TEXT    NOT NULL UNIQUE,
    phone_number      TEXT    UNIQUE,
    email             TEXT    UNIQUE,
    password_hash     TEXT,
    full_name         TEXT    NOT NULL DEFAULT '',
    phone_number_2    TEXT    NOT NULL DEFAULT '',
    car_model         TEXT    NOT NULL DEFAULT '',
    car_plate_number  TEXT    NOT NULL DEFAULT '',
    instagram         TEXT    NOT NULL DEFAULT '',
    telegram          TEXT    NOT NULL DEFAULT '',
    whatsapp          TEXT    NOT NULL DEFAULT '',
    is_profile_public INTEGER NOT NULL DEFAULT 0,
    is_registered     INTEGER NOT NULL DEFAULT 0,
    school            BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

CREATE TABLE qr_codes (
    token       TEXT    PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    claimed_at  BIGINT
);
CREATE INDEX qr_codes_user ON qr_codes (user_id);

CREATE TABLE rooms (
    id                 BIGSERIAL PRIMARY KEY,
    uuid               TEXT    NOT NULL UNIQUE,
    kind               TEXT    NOT NULL CHECK (kind IN ('visitor', 'direct', 'group')),
    owner_id           BIGINT REFERENCES users (id),
    visitor_name       TEXT    NOT NULL DEFAULT '',
    visitor_token_hash TEXT,
    visitor_blocked    INTEGER NOT NULL DEFAULT 0,
    is_active          INTEGER NOT NULL DEFAULT 1,
    name               TEXT    NOT NULL DEFAULT '',
    details            TEXT    NOT NULL DEFAULT '',
    is_private         INTEGER NOT NULL DEFAULT 0,
    school             BIGINT,
    extra_data         TEXT    NOT NULL DEFAULT '{}',
    is_deleted         INTEGER NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    last_message_id    BIGINT
);
CREATE INDEX rooms_owner_activity ON rooms (owner_id, updated_at);
CREATE UNIQUE INDEX rooms_visitor_token ON rooms (visitor_token_hash);

CREATE TABLE room_members (
    room_id       BIGINT NOT NULL REFERENCES rooms (id),
    user_id       BIGINT NOT NULL REFERENCES users (id),
    last_read_id  BIGINT NOT NULL DEFAULT 0,
    joined_at     BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members (user_id);

CREATE TABLE messages (
    id           BIGSERIAL PRIMARY KEY,
    uuid         TEXT    NOT NULL UNIQUE,
    room_id      BIGINT NOT NULL REFERENCES rooms (id),
    sender_type  TEXT    NOT NULL CHECK (sender_type IN ('visitor', 'owner', 'user')),
    sender_id    BIGINT REFERENCES users (id),
    sender_name  TEXT    NOT NULL DEFAULT '',
    content      TEXT    NOT NULL,
    extra_data   TEXT    NOT NULL DEFAULT '{}',
    is_deleted   INTEGER NOT NULL DEFAULT 0,
    school       BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX messages_room ON messages (room_id, id);

CREATE TABLE refresh_tokens (
    jti         TEXT    PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    family      TEXT    NOT NULL,
    parent_jti  TEXT,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    revoked_at  BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
