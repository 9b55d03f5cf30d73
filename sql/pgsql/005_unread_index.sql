-- 005_unread_index: the owner's unread counts (ROOMS_OF_OWNER) read only
-- this index. With is_deleted among its columns the count of a room's
-- visitor messages after the read cursor is one range of index entries
-- (SQLite: a covering index; PostgreSQL: an index-only scan), where
-- messages_room_sender (003) had to read every row for is_deleted.
DROP INDEX messages_room_sender;
CREATE INDEX messages_unread ON messages (room_id, sender_type, is_deleted, id);
