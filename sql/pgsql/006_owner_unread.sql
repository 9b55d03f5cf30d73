-- 006_owner_unread: the owner's unread count of a room is stored in the
-- room (rooms.owner_unread) instead of counted from messages_unread (005)
-- on every inbox request. The posting transaction adds its visitor
-- messages (ROOMS_TOUCH), the owner's read subtracts what it read
-- (ROOM_OWNER_READ), and the trigger below follows a visitor message that
-- is deleted, flagged deleted or restored by any other hand. The index
-- cost a scattered page write per message.
ALTER TABLE rooms ADD COLUMN owner_unread BIGINT NOT NULL DEFAULT 0;
UPDATE rooms SET owner_unread = (SELECT COUNT(*) FROM messages m
    WHERE m.room_id = rooms.id AND m.sender_type = 'visitor'
      AND m.is_deleted = 0 AND m.id > rooms.owner_last_read_id);
DROP INDEX messages_unread;
CREATE FUNCTION carinfo_messages_unread() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.sender_type = 'visitor' AND OLD.is_deleted = 0 THEN
            UPDATE rooms SET owner_unread = owner_unread - 1
            WHERE id = OLD.room_id AND OLD.id > owner_last_read_id;
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.sender_type = 'visitor'
       AND (OLD.is_deleted = 0) <> (NEW.is_deleted = 0) THEN
        UPDATE rooms SET owner_unread = owner_unread
            + CASE WHEN NEW.is_deleted = 0 THEN 1 ELSE -1 END
        WHERE id = NEW.room_id AND NEW.id > owner_last_read_id;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER messages_unread AFTER UPDATE OF is_deleted OR DELETE
ON messages FOR EACH ROW EXECUTE FUNCTION carinfo_messages_unread();
