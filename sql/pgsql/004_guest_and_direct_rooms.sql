-- 004_guest_and_direct_rooms: QRConnect (spec 000) on the one messaging
-- core. A guest conversation is a visitor room of the owner named by the
-- guest's pseudo (origin 'guest'), bound to the guest's token and, for old
-- clients that send only the pseudo, to the address that started it. A
-- conversation between two registered users is a 'direct' room whose
-- name "dm:<low id>:<high id>" makes it unique.
ALTER TABLE rooms ADD COLUMN origin TEXT NOT NULL DEFAULT 'start';
ALTER TABLE rooms ADD COLUMN guest_addr_hash TEXT;
CREATE UNIQUE INDEX rooms_guest_pseudo ON rooms (owner_id, visitor_name)
    WHERE origin = 'guest';
CREATE UNIQUE INDEX rooms_direct_name ON rooms (name) WHERE kind = 'direct';
