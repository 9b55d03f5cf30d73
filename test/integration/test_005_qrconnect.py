"""QRConnect (issue 5, spec 000): scan-qr, guest messages under a pseudo,
user-to-user discussions, both path spellings, isolation, limits."""
import json
import threading

import pytest

from accounts import JSON, bearer, jansson_text, mint, new_user, unique_addr

SPELLINGS = ["/api/chat", "/api/auth/chat"]


def scan(client, token, access=None):
    h = dict(JSON, **(bearer(access) if access else {}))
    return client.post("/api/auth/scan-qr/", data=json.dumps({"token": token}),
                       headers=h)


def send(client, body, access=None, addr=None, prefix="/api/chat",
         headers=None):
    h = dict(JSON, **{"X-Forwarded-For": addr or unique_addr()})
    if access:
        h.update(bearer(access))
    h.update(headers or {})
    return client.post(prefix + "/send/", data=json.dumps(body), headers=h)


def int_id(env, client, reg):
    """The integer id that 000 shows, via scan-qr of the owner's sticker."""
    r = scan(client, reg["user"]["id"])
    assert r.status_code == 200, r.text
    return r.json()["owner_id"]


@pytest.fixture
def owner(env, client):
    _, _, reg = new_user(env, client, full_name="Propriétaire")
    reg["int_id"] = int_id(env, client, reg)
    return reg


# -------------------------------------------------------------- scan-qr
def test_ci_005_01_scan_branches(env, client, owner):
    free = mint(env)[0]
    r = scan(client, free)                          # free, anonymous
    assert r.status_code == 200
    assert r.json()["status"] == "inactive"
    assert r.json()["detail"] == "QR non activé."
    r = scan(client, free, owner["tokens"]["access"])   # free, logged in
    assert r.status_code == 200
    assert r.json()["detail"] == "QR code associé."
    assert r.json()["owner_id"] == owner["int_id"]
    r = scan(client, free)                          # linked
    body = r.json()
    assert body["status"] == "active"
    assert body["owner_id"] == owner["int_id"]
    assert body["nom"] == "Propriétaire"
    assert body["chat_url"] == "/chat/%d" % owner["int_id"]
    # the claimed sticker now shows the owner's public profile
    assert client.get("/user/%s/" % free).json()["id"] == owner["user"]["id"]


def test_ci_005_02_scan_bad_input(env, client):
    r = scan(client, "00000000-0000-4000-8000-0000000000ff")
    assert r.status_code == 404 and r.json() == {"detail": "QR code inconnu."}
    r = scan(client, "not-a-uuid")
    assert r.status_code == 400 and r.json() == {"token": [
        "Must be a valid UUID."]}
    r = client.post("/api/auth/scan-qr/", data="{}", headers=JSON)
    assert r.json() == {"token": ["This field is required."]}
    r = scan(client, mint(env)[0], "bad.token.here")
    assert r.status_code == 401
    env.errorlog.ignore_recent(lognos=["CI10143", "CI10052"])


def test_ci_005_03_claim_race_one_wins(env, client):
    free = mint(env)[0]
    users = [new_user(env, client)[2] for _ in range(6)]
    out = []

    def claim(u):
        out.append(scan(client.__class__(env.inst, "claim"), free,
                        u["tokens"]["access"]).json())
    ts = [threading.Thread(target=claim, args=(u,)) for u in users]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    linked = [o for o in out if o.get("detail") == "QR code associé."]
    assert len(linked) == 1
    assert len({o["owner_id"] for o in out}) == 1


# ---------------------------------------------------------- guest sends
@pytest.mark.parametrize("prefix", SPELLINGS)
def test_ci_005_10_guest_conversation(env, client, owner, prefix):
    addr = unique_addr()
    pseudo = "Invité-%s" % unique_addr().replace(".", "")[-4:]
    r = send(client, {"receiver": owner["int_id"], "sender_name": pseudo,
                      "content": "Vos phares sont allumés"}, addr=addr,
             prefix=prefix)
    assert r.status_code == 201, r.text
    assert r.json()["detail"] == "Message envoyé avec succès."
    token = r.json()["guest_token"]
    # by uuid as receiver, with the token
    r = send(client, {"receiver": owner["user"]["id"], "sender_name": pseudo,
                      "content": "Merci de vérifier", "guest_token": token},
             prefix=prefix)
    assert r.status_code == 201 and "guest_token" not in r.json()
    # an old client that only sends the pseudo, from the same address
    r = send(client, {"receiver": str(owner["int_id"]), "sender_name": pseudo,
                      "content": "(sans jeton)"}, addr=addr, prefix=prefix)
    assert r.status_code == 201
    # the owner answers by pseudo
    r = send(client, {"pseudo": pseudo, "content": "J'arrive"},
             access=owner["tokens"]["access"], prefix=prefix)
    assert r.status_code == 201
    acc = bearer(owner["tokens"]["access"])
    r = client.get(prefix + "/conversations-anonymes/", headers=acc)
    assert r.json() == {"pseudos": [pseudo]}
    r = client.get(prefix + "/discussion-anonyme/", params={"pseudo": pseudo},
                   headers=acc)
    msgs = r.json()
    assert [m["content"] for m in msgs] == [
        "Vos phares sont allumés", "Merci de vérifier", "(sans jeton)",
        "J'arrive"]
    assert msgs[0]["sender_name"] == pseudo
    assert msgs[0]["receiver"] == owner["int_id"]
    assert msgs[-1]["receiver"] == pseudo
    assert [m["created_at"] for m in msgs] == sorted(m["created_at"]
                                                     for m in msgs)
    # it is a room of the owner's inbox too
    rooms = client.get("/api/chat/rooms/", headers=acc).json()
    assert pseudo in [x["visitor_name"] for x in rooms]


def test_ci_005_11_pseudo_isolation(env, client, owner):
    addr = unique_addr()
    pseudo = "Invité-1234"
    first = send(client, {"receiver": owner["int_id"], "sender_name": pseudo,
                          "content": "le vrai"}, addr=addr)
    assert first.status_code == 201
    # someone else guesses the pseudo: refused with or without a token
    for extra in ({}, {"guest_token": "f" * 64}):
        body = {"receiver": owner["int_id"], "sender_name": pseudo,
                "content": "usurpation"}
        body.update(extra)
        r = send(client, body)
        assert r.status_code == 403
    # another owner's guest with the same pseudo is another conversation
    _, _, other = new_user(env, client)
    r = send(client, {"receiver": other["user"]["id"], "sender_name": pseudo,
                      "content": "autre propriétaire"})
    assert r.status_code == 201
    msgs = client.get("/api/chat/discussion-anonyme/",
                      params={"pseudo": pseudo},
                      headers=bearer(owner["tokens"]["access"])).json()
    assert [m["content"] for m in msgs] == ["le vrai"]
    # a guest cannot read any discussion
    r = client.get("/api/chat/discussion-anonyme/", params={"pseudo": pseudo})
    assert r.status_code == 401
    env.errorlog.ignore_recent(lognos=["CI10151", "CI10051"])


def test_ci_005_12_block_pseudo(env, client, owner):
    addr = unique_addr()
    r = send(client, {"receiver": owner["int_id"], "sender_name": "Spammeur",
                      "content": "pub"}, addr=addr)
    token = r.json()["guest_token"]
    r = client.post("/api/chat/conversations-anonymes/block/",
                    data=json.dumps({"pseudo": "Spammeur"}),
                    headers=dict(JSON, **bearer(owner["tokens"]["access"])))
    assert r.status_code == 200 and r.json()["blocked"] is True
    r = send(client, {"receiver": owner["int_id"], "sender_name": "Spammeur",
                      "content": "encore", "guest_token": token}, addr=addr)
    assert r.status_code == 403
    env.errorlog.ignore_recent(lognos=["CI10150"])


@pytest.mark.parametrize("body,field,msg", [
    ({"sender_name": "X", "content": "hi"}, "receiver",
     "This field is required."),
    ({"receiver": 999999999, "sender_name": "X", "content": "hi"},
     "receiver", 'Invalid pk "999999999" - object does not exist.'),
    ({"receiver": "nobody", "sender_name": "X", "content": "hi"},
     "receiver", 'Invalid pk "nobody" - object does not exist.'),
    ({"receiver": "OWNER", "content": "hi"}, "sender_name",
     "This field is required."),
    ({"receiver": "OWNER", "sender_name": "  ", "content": "hi"},
     "sender_name", "This field may not be blank."),
    ({"receiver": "OWNER", "sender_name": "X" * 51, "content": "hi"},
     "sender_name", "Ensure this field has no more than 50 characters."),
    ({"receiver": "OWNER", "sender_name": "X"}, "content",
     "This field is required."),
    ({"receiver": "OWNER", "sender_name": "X", "content": " "}, "content",
     "This field may not be blank."),
    ({"receiver": "OWNER", "sender_name": "X", "content": "x" * 4001},
     "content", "Ensure this field has no more than 4000 characters."),
    ({"receiver": "OWNER", "sender_name": "a\u0007b", "content": "x"},
     "sender_name", "Control characters are not allowed."),
    ({"receiver": "OWNER", "sender_name": 5, "content": "x"},
     "sender_name", "Not a valid string."),
])
def test_ci_005_13_bad_sends(env, client, owner, body, field, msg):
    if body.get("receiver") == "OWNER":
        body["receiver"] = owner["int_id"]
    r = send(client, body)
    assert r.status_code == 400
    assert r.json()[field] == [msg]


def test_ci_005_14_bad_bytes(env, client, owner):
    for raw in (b'{"receiver": %d, "sender_name": "\xff", "content": "x"}',
                b'{"receiver": %d, "sender_name": "a\\u0000", "content": "x"}',
                b'{"receiver": %d, "sender_name": "a", "content": "\xc3("}',
                b'{"receiver": %d, "sender_name": "a", "content": "\\u0000"}'):
        r = client.post("/api/chat/send/", data=raw % owner["int_id"],
                        headers=dict(JSON, **{"X-Forwarded-For":
                                              unique_addr()}))
        assert r.status_code == 400, raw


def test_ci_005_15_guest_limits(env, client, owner):
    addr = unique_addr()
    codes = [send(client, {"receiver": owner["int_id"], "sender_name": "Rapide",
                           "content": "m%d" % i}, addr=addr).status_code
             for i in range(31)]
    assert codes[:30] == [201] * 30 and codes[30] == 429
    env.errorlog.ignore_recent(lognos=["CI10146"])


def test_ci_005_16_send_answer_bytes(env, client, owner):
    # The 201 is written by ci_jbuf: jansson's bytes, escapes included.
    text = 'q"uote \\ ' + "".join(chr(c) for c in range(1, 32)) + \
        "\x7f \u00e9\u20ac\U0001F697"
    r = send(client, {"receiver": owner["int_id"], "sender_name": "Octet",
                      "content": text})
    assert r.status_code == 201, r.text
    assert list(r.json()) == ["detail", "message", "guest_token"]
    assert r.json()["message"]["content"] == text
    assert r.content == jansson_text(r.json())
    r = send(client, {"receiver": owner["int_id"], "sender_name": "Octet",
                      "content": "again",
                      "guest_token": r.json()["guest_token"]})
    assert r.status_code == 201, r.text
    assert list(r.json()) == ["detail", "message"]
    assert r.content == jansson_text(r.json())


# ------------------------------------------------------- user to user
@pytest.mark.parametrize("prefix", SPELLINGS)
def test_ci_005_20_direct_discussion(env, client, prefix):
    _, _, a = new_user(env, client, full_name="Alice")
    _, _, b = new_user(env, client, full_name="Bakhtiyor")
    a_id, b_id = int_id(env, client, a), int_id(env, client, b)
    assert send(client, {"receiver": b_id, "content": "Salut B"},
                access=a["tokens"]["access"], prefix=prefix).status_code == 201
    assert send(client, {"receiver": a["user"]["id"], "content": "Salut A"},
                access=b["tokens"]["access"], prefix=prefix).status_code == 201
    for me, other, other_ref in ((a, b_id, b_id), (b, a_id, a["user"]["id"])):
        r = client.get("%s/discussion/%s/" % (prefix, other_ref),
                       headers=bearer(me["tokens"]["access"]))
        assert r.status_code == 200
        msgs = r.json()
        assert [m["content"] for m in msgs] == ["Salut B", "Salut A"]
        assert msgs[0]["sender"] == a_id and msgs[0]["receiver"] == b_id
        conv = client.get(prefix + "/conversations/",
                          headers=bearer(me["tokens"]["access"])).json()
        assert conv[0]["user"]["id"] == other
        assert conv[0]["last_message"]["content"] == "Salut A"
    # the document's doubled slash
    r = client.get("/api/auth/chat//discussion/%d/" % b_id,
                   headers=bearer(a["tokens"]["access"]))
    assert r.status_code == 200 and len(r.json()) == 2
    # a third user sees none of it
    _, _, c = new_user(env, client)
    r = client.get("%s/discussion/%d/" % (prefix, b_id),
                   headers=bearer(c["tokens"]["access"]))
    assert r.status_code == 200 and r.json() == []
    assert client.get(prefix + "/discussion/999999/", headers=bearer(
        a["tokens"]["access"])).status_code == 404
    env.errorlog.ignore_recent(lognos=["CI10173"])


def test_ci_005_30_owner_sees_guest_on_socket(env, client, owner):
    """A guest's message lands on the owner's open socket at once (the
    notify bus), with no polling."""
    from wsclient import WS
    addr = unique_addr()
    r = send(client, {"receiver": owner["int_id"], "sender_name": "Invité-77",
                      "content": "premier"}, addr=addr)
    token = r.json()["guest_token"]
    room = r.json()["message"]["room_id"]
    o = WS("ws://127.0.0.1:%d/ws/chat/%s/?token=%s"
           % (env.inst.port, room, owner["tokens"]["access"]))
    try:
        r = send(client, {"receiver": owner["int_id"],
                          "sender_name": "Invité-77", "content": "deuxième",
                          "guest_token": token}, addr=addr)
        assert r.status_code == 201
        m = o.recv()
        assert m["message"] == "deuxième" and m["sender_type"] == "visitor"
        assert m["id"] == r.json()["message"]["id"]
        # the owner answers on the socket; the guest reads it in 000's view
        o.send({"message": "je viens"})
        assert o.recv()["message"] == "je viens"
        msgs = client.get("/api/chat/discussion-anonyme/",
                          params={"pseudo": "Invité-77"},
                          headers=bearer(owner["tokens"]["access"])).json()
        assert [x["content"] for x in msgs] == ["premier", "deuxième",
                                                "je viens"]
    finally:
        o.close()
