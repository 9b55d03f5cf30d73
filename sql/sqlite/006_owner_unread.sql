-- 006_owner_unread: the owner's unread count of a room is stored in the
-- room (rooms.owner_unread) instead of counted from messages_unread (005)
-- on every inbox request. The posting transaction adds its visitor
-- messages (ROOMS_TOUCH), the owner's read subtracts what it read
-- (ROOM_OWNER_READ), and the triggers below follow a visitor message that
-- is deleted, flagged deleted or restored by any other hand. The index
-- cost a scattered page write per message.
ALTER TABLE rooms ADD COLUMN owner_unread INTEGER NOT NULL DEFAULT 0;
UPDATE rooms SET owner_unread = (SELECT COUNT(*) FROM messages m
    WHERE m.room_id = rooms.id AND m.sender_type = 'visitor'
      AND m.is_deleted = 0 AND m.id > rooms.owner_last_read_id);
DROP INDEX messages_unread;
CREATE TRIGGER messages_unread_flag AFTER UPDATE OF is_deleted ON messages
WHEN old.sender_type = 'visitor'
     AND (old.is_deleted = 0) <> (new.is_deleted = 0)
BEGIN
    UPDATE rooms SET owner_unread = owner_unread
        + CASE WHEN new.is_deleted = 0 THEN 1 ELSE -1 END
    WHERE id = new.room_id AND new.id > owner_last_read_id;
END;
CREATE TRIGGER messages_unread_gone AFTER DELETE ON messages
WHEN old.sender_type = 'visitor' AND old.is_deleted = 0
BEGIN
    UPDATE rooms SET owner_unread = owner_unread - 1
    WHERE id = old.room_id AND old.id > owner_last_read_id;
END;
