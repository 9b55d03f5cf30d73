-- 003_chat_read_cursors: what each side of a visitor room has read, for
-- the owner's unread counts.
ALTER TABLE rooms ADD COLUMN owner_last_read_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN visitor_last_read_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_room_sender ON messages (room_id, sender_type, id);
