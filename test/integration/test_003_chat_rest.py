"""Visitor chat over REST (issue 4, specs 001/004): start, rooms, history,
send, close, block; credentials that do not open a room get 404."""
import json

import pytest

from accounts import (JSON, bearer, jansson_text, mint, new_user, sql,
                      unique_addr)

ROOM_KEYS = {"id", "owner_id", "visitor_name", "is_active",
             "visitor_blocked", "created_at", "updated_at"}
MSG_KEYS = {"id", "room_id", "sender_type", "content", "created_at"}


def start(client, owner_ref, name=None, addr=None):
    body = {"user_id": owner_ref}
    if name is not None:
        body["visitor_name"] = name
    return client.post("/api/chat/start/", data=json.dumps(body),
                       headers=dict(JSON, **{"X-Forwarded-For":
                                             addr or unique_addr()}))


def send(client, room, text, visitor=None, token=None, key="message"):
    path = "/api/chat/rooms/%s/messages/" % room
    if visitor:
        path += "?visitor=" + visitor
    h = dict(JSON, **(bearer(token) if token else {}))
    return client.post(path, data=json.dumps({key: text}), headers=h)


def history(client, room, visitor=None, token=None, query=""):
    path = "/api/chat/rooms/%s/messages/?%s" % (room, query)
    if visitor:
        path += "&visitor=" + visitor
    return client.get(path, headers=bearer(token) if token else {})


@pytest.fixture
def owner(env, client):
    _, _, reg = new_user(env, client, full_name="Owner One")
    return reg


def test_ci_003_01_start(env, client, owner):
    r = start(client, owner["user"]["id"], "Anvar")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"room_id", "visitor_token", "ws_path"}
    assert body["ws_path"] == "/ws/chat/%s/" % body["room_id"]
    assert len(body["visitor_token"]) >= 32          # >= 128 bits
    # stored only as a hash
    dump = str(sql(env, "SELECT visitor_token_hash FROM rooms WHERE uuid = "
                   "'%s'" % body["room_id"]))
    assert body["visitor_token"] not in dump
    assert len(body["visitor_token"]) > 0 and "Anvar" not in dump


def test_ci_003_02_start_under_back(env, owner):
    from conftest import Client
    c = Client(env.back(), "back-start")
    r = start(c, owner["user"]["id"])
    assert r.status_code == 201
    assert r.json()["ws_path"] == "/back/ws/chat/%s/" % r.json()["room_id"]
    c.close()


def test_ci_003_03_start_owner_refs(env, client, owner):
    # a sticker claimed by the owner resolves to the owner (the sticker is
    # the owner's uuid in 004)
    assert start(client, owner["user"]["id"].upper()).status_code == 201
    free = mint(env)[0]
    r = start(client, free)
    assert r.status_code == 404 and r.json() == {"detail": "Not found."}
    r = start(client, "00000000-0000-4000-8000-000000000001")
    assert r.status_code == 404
    r = start(client, "nope")
    assert r.status_code == 400 and r.json() == {"user_id": [
        "Must be a valid UUID."]}
    r = start(client, owner["user"]["id"], "x" * 101)
    assert r.status_code == 400
    env.errorlog.ignore_recent(lognos=["CI10105"])


def test_ci_003_04_conversation(env, client, owner):
    tok = owner["tokens"]["access"]
    room = start(client, owner["user"]["id"], "Guest").json()
    rid, vt = room["room_id"], room["visitor_token"]
    r = send(client, rid, "Salom", visitor=vt)
    assert r.status_code == 201 and set(r.json()) == MSG_KEYS
    assert r.json()["sender_type"] == "visitor"
    r = send(client, rid, "Assalomu alaykum", token=tok, key="content")
    assert r.status_code == 201 and r.json()["sender_type"] == "owner"
    send(client, rid, "<script>alert(1)</script>", visitor=vt)
    for who in ({"visitor": vt}, {"token": tok}):
        h = history(client, rid, **who)
        assert h.status_code == 200
        msgs = h.json()
        assert [m["content"] for m in msgs] == [
            "Salom", "Assalomu alaykum", "<script>alert(1)</script>"]
        assert all(set(m) == MSG_KEYS and m["room_id"] == rid for m in msgs)
    # since (uuid or integer id) and limit
    first = msgs[0]["id"]
    after = history(client, rid, visitor=vt, query="since=%s" % first).json()
    assert [m["id"] for m in after] == [m["id"] for m in msgs[1:]]
    one = history(client, rid, visitor=vt, query="limit=1").json()
    assert [m["id"] for m in one] == [first]


def test_ci_003_05_inbox(env, client, owner):
    tok = owner["tokens"]["access"]
    a = start(client, owner["user"]["id"], "A").json()
    b = start(client, owner["user"]["id"], "B").json()
    send(client, a["room_id"], "from A 1", visitor=a["visitor_token"])
    send(client, a["room_id"], "from A 2", visitor=a["visitor_token"])
    send(client, b["room_id"], "from B", visitor=b["visitor_token"])
    r = client.get("/api/chat/rooms/", headers=bearer(tok))
    assert r.status_code == 200
    rooms = r.json()
    assert [x["id"] for x in rooms][:2] == [b["room_id"], a["room_id"]]
    top = rooms[0]
    assert ROOM_KEYS <= set(top)
    assert top["owner_id"] == owner["user"]["id"]
    assert top["last_message"]["content"] == "from B"
    assert rooms[1]["unread_count"] == 2
    # reading the history as owner marks it read
    history(client, a["room_id"], token=tok)
    rooms = client.get("/api/chat/rooms/", headers=bearer(tok)).json()
    assert {x["id"]: x["unread_count"] for x in rooms}[a["room_id"]] == 0
    # the visitor's own messages are not "unread" for the visitor side list
    assert client.get("/api/chat/rooms/").status_code == 401
    env.errorlog.ignore_recent(lognos=["CI10051"])


def test_ci_003_06_isolation(env, client, owner):
    _, _, other = new_user(env, client)
    a = start(client, owner["user"]["id"]).json()
    b = start(client, owner["user"]["id"]).json()
    # visitor token of room A on room B, another owner's token, garbage,
    # a room that does not exist: all the same 404
    cases = [history(client, b["room_id"], visitor=a["visitor_token"]),
             history(client, a["room_id"], token=other["tokens"]["access"]),
             history(client, a["room_id"], visitor="0" * 64),
             history(client, "00000000-0000-4000-8000-00000000beef",
                     visitor=a["visitor_token"]),
             send(client, b["room_id"], "hi", visitor=a["visitor_token"])]
    for r in cases:
        assert r.status_code == 404 and r.json() == {"detail": "Not found."}
    r = history(client, a["room_id"])
    assert r.status_code == 401
    r = history(client, a["room_id"], token="x.y.z")
    assert r.status_code == 401
    # other owners never see the room in their inbox
    assert client.get("/api/chat/rooms/", headers=bearer(
        other["tokens"]["access"])).json() == []
    env.errorlog.ignore_recent(lognos=["CI10109", "CI10110", "CI10052"])


def test_ci_003_07_close_and_block(env, client, owner):
    tok = owner["tokens"]["access"]
    room = start(client, owner["user"]["id"]).json()
    rid, vt = room["room_id"], room["visitor_token"]
    r = client.request("PATCH", "/api/chat/rooms/%s/" % rid,
                       headers=dict(JSON, **bearer(tok)),
                       data=json.dumps({"is_active": False}))
    assert r.status_code == 200 and r.json()["is_active"] is False
    r = send(client, rid, "still there?", visitor=vt)
    assert r.status_code == 403
    assert r.json() == {"detail": "This chat is closed."}
    assert send(client, rid, "owner may", token=tok).status_code == 201
    assert history(client, rid, visitor=vt).status_code == 200
    # the visitor cannot close or block
    r = client.request("PATCH", "/api/chat/rooms/%s/?visitor=%s" % (rid, vt),
                       headers=JSON, data=json.dumps({"is_active": True}))
    assert r.status_code in (401, 404)
    r = client.post("/api/chat/rooms/%s/block/" % rid, headers=bearer(tok))
    assert r.status_code == 200 and r.json()["visitor_blocked"] is True
    assert history(client, rid, visitor=vt).status_code == 404
    env.errorlog.ignore_recent(lognos=["CI10109", "CI10110", "CI10121"])


@pytest.mark.parametrize("body,field,msg", [
    ({}, "message", "This field is required."),
    ({"message": "   "}, "message", "This field may not be blank."),
    ({"message": 5}, "message", "Not a valid string."),
    ({"message": "x" * 4001}, "message",
     "Ensure this field has no more than 4000 characters."),
    ({"message": "hi", "extra": 1}, "extra", "Unknown field."),
])
def test_ci_003_08_bad_messages(env, client, owner, body, field, msg):
    room = start(client, owner["user"]["id"]).json()
    r = client.post("/api/chat/rooms/%s/messages/?visitor=%s"
                    % (room["room_id"], room["visitor_token"]),
                    data=json.dumps(body), headers=JSON)
    assert r.status_code == 400
    assert r.json()[field] == [msg]
    assert history(client, room["room_id"],
                   visitor=room["visitor_token"]).json() == []


def test_ci_003_09_bad_bytes_and_sql(env, client, owner):
    room = start(client, owner["user"]["id"]).json()
    path = "/api/chat/rooms/%s/messages/?visitor=%s" % (
        room["room_id"], room["visitor_token"])
    r = client.post(path, data=b'{"message": "\xff"}', headers=JSON)
    assert r.status_code == 400
    r = client.post(path, data=b'{"message": "a\\u0000b"}', headers=JSON)
    assert r.status_code == 400
    meta = "'); DROP TABLE messages; -- %s %d"
    assert send(client, room["room_id"], meta,
                visitor=room["visitor_token"]).status_code == 201
    got = history(client, room["room_id"], visitor=room["visitor_token"])
    assert [m["content"] for m in got.json()] == [meta]
    r = history(client, room["room_id"], visitor=room["visitor_token"],
                query="since=nope")
    assert r.status_code == 400


def test_ci_003_10_start_limit_per_address(env, client, owner):
    addr = unique_addr()
    codes = [start(client, owner["user"]["id"], addr=addr).status_code
             for _ in range(21)]
    assert codes[:20] == [201] * 20
    assert codes[20] == 429
    r = start(client, owner["user"]["id"], addr=addr)
    assert int(r.headers["Retry-After"]) > 0
    assert start(client, owner["user"]["id"]).status_code == 201
    env.errorlog.ignore_recent(lognos=["CI10101"])


def test_ci_003_11_lists_write_the_bytes_of_single_objects(env, client,
                                                           owner):
    # A posted message, the history, a room and the inbox are written by
    # ci_jbuf (ci_chat_message_jbuf, room_members): each object must be the
    # same bytes wherever it appears, escapes included (the unit tests hold
    # the writer to jansson's bytes).
    tok = owner["tokens"]["access"]
    room = start(client, owner["user"]["id"],
                 'Q"uote \\ \u00e9\u20ac\U0001F697').json()
    rid, vt = room["room_id"], room["visitor_token"]
    texts = ['q"uote \\ back\\slash \\"',
             "".join(chr(c) for c in range(1, 32)) + "\x7f end",
             "\u00e9\u0416 \u20ac\u4e2d \U0001F600 </script> \u2028"]
    posted = []
    for i, text in enumerate(texts):
        r = send(client, rid, text, **({"token": tok} if i == 1
                                        else {"visitor": vt}))
        assert r.status_code == 201, r.text
        assert r.json()["content"] == text
        assert r.content == jansson_text(r.json())
        posted.append(r.content)
    h = history(client, rid, visitor=vt)
    assert h.content == b"[" + b",".join(posted) + b"]"
    assert history(client, rid, visitor=vt, query="limit=1").content == \
        b"[" + posted[0] + b"]"
    # The inbox entry: the single-room object, then the last message and
    # the unread count.
    one = client.get("/api/chat/rooms/%s/" % rid, headers=bearer(tok))
    assert one.status_code == 200 and set(one.json()) == ROOM_KEYS
    assert one.json()["visitor_name"] == 'Q"uote \\ \u00e9\u20ac\U0001F697'
    assert one.content == jansson_text(one.json())
    listed = client.get("/api/chat/rooms/", headers=bearer(tok))
    assert listed.content == jansson_text(listed.json())
    entry = one.content[:-1] + b',"last_message":' + posted[-1] + \
        b',"unread_count":2}'
    assert listed.content.startswith(b"[" + entry + b",") or \
        listed.content == b"[" + entry + b"]"
    # A room without messages: null.
    empty = start(client, owner["user"]["id"], "").json()
    one = client.get("/api/chat/rooms/%s/" % empty["room_id"],
                     headers=bearer(tok))
    listed = client.get("/api/chat/rooms/", headers=bearer(tok))
    assert listed.content.startswith(
        b"[" + one.content[:-1] + b',"last_message":null,"unread_count":0},')


def test_ci_003_12_unread_counts(env, client, owner):
    tok = owner["tokens"]["access"]
    _, _, other = new_user(env, client)
    a = start(client, owner["user"]["id"], "A").json()
    b = start(client, owner["user"]["id"], "B").json()      # owner only
    start(client, owner["user"]["id"], "C")                  # no message
    d = start(client, owner["user"]["id"], "D").json()      # deleted room
    x = start(client, other["user"]["id"], "X").json()      # another owner
    ids = {}
    for n in range(4):
        r = send(client, a["room_id"], "a%d" % n, visitor=a["visitor_token"])
        ids["a%d" % n] = r.json()["id"]
        send(client, a["room_id"], "owner %d" % n, token=tok)
    send(client, b["room_id"], "owner alone", token=tok)
    send(client, d["room_id"], "gone", visitor=d["visitor_token"])
    for n in range(3):
        send(client, x["room_id"], "x%d" % n, visitor=x["visitor_token"])

    def unread(token=tok):
        rooms = client.get("/api/chat/rooms/", headers=bearer(token)).json()
        return {r["visitor_name"]: r["unread_count"] for r in rooms}

    assert unread() == {"A": 4, "B": 0, "C": 0, "D": 1}
    assert unread(other["tokens"]["access"]) == {"X": 3}
    # A deleted visitor message is not unread, nor is a deleted room listed.
    sql(env, "UPDATE messages SET is_deleted = 1 WHERE uuid = '%s'"
        % ids["a1"])
    sql(env, "UPDATE rooms SET is_deleted = 1 WHERE uuid = '%s'"
        % d["room_id"])
    assert unread() == {"A": 3, "B": 0, "C": 0}
    # The owner reads four messages (a1 is deleted): what follows them
    # stays unread.
    h = history(client, a["room_id"], token=tok, query="limit=4")
    assert [m["content"] for m in h.json()] == ["a0", "owner 0", "owner 1",
                                                "a2"]
    assert unread() == {"A": 1, "B": 0, "C": 0}
    send(client, a["room_id"], "a4", visitor=a["visitor_token"])
    assert unread() == {"A": 2, "B": 0, "C": 0}
    # The visitor reading does not change the owner's count.
    history(client, a["room_id"], visitor=a["visitor_token"])
    assert unread() == {"A": 2, "B": 0, "C": 0}
    history(client, a["room_id"], token=tok)
    assert unread() == {"A": 0, "B": 0, "C": 0}
    assert unread(other["tokens"]["access"]) == {"X": 3}
