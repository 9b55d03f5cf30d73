"""Accounts (issue 3, spec 004): register after a QR scan, phone login,
JWT refresh with rotation and reuse detection, profile, public users."""
import json
import threading

import pytest

from accounts import (JSON, bearer, claims, django_pbkdf2, forge, jwt_key,
                      login, mint, new_user, register, sql, unique_addr,
                      unique_phone)

PROFILE_STRINGS = ["full_name", "phone_number_2", "car_model",
                   "car_plate_number", "instagram", "telegram", "whatsapp"]
OWNER_KEYS = {"id", "phone_number", "email", "full_name", "phone_number_2",
              "car_model", "car_plate_number", "instagram", "telegram",
              "whatsapp", "is_profile_public", "created_at", "updated_at"}
PUBLIC_KEYS = {"id", "full_name", "phone_number_2", "car_model",
               "car_plate_number", "instagram", "telegram", "whatsapp"}


def post(client, path, body, headers=None, raw=None):
    h = dict(JSON)
    h["X-Forwarded-For"] = unique_addr()
    h.update(headers or {})
    return client.post(path, data=raw if raw is not None else json.dumps(body),
                       headers=h)


# ------------------------------------------------------------- register
def test_ci_002_01_register_logs_in(env, client):
    sticker = mint(env)[0]
    phone = unique_phone()
    spaced = "%s (%s) %s-%s" % (phone[:4], phone[4:6], phone[6:9], phone[9:])
    r = register(client, sticker, spaced, full_name="Ali Valiyev",
                 car_model="Chevrolet Cobalt", car_plate_number="01A123BC",
                 telegram="@ali", is_profile_public=True)
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"user", "tokens"}
    assert set(body["tokens"]) == {"refresh", "access"}
    user = body["user"]
    assert set(user) == OWNER_KEYS
    assert user["id"] == sticker
    assert user["phone_number"] == phone          # stored as E.164
    assert user["car_model"] == "Chevrolet Cobalt"
    assert user["is_profile_public"] is True
    assert "password" not in r.text and "secret123" not in r.text
    # logged in at once: the access token opens the profile
    p = client.get("/api/profile/", headers=bearer(body["tokens"]["access"]))
    assert p.status_code == 200 and p.json()["id"] == sticker


def test_ci_002_02_register_twice(env, client):
    sticker = mint(env)[0]
    assert register(client, sticker).status_code == 201
    r = register(client, sticker)
    assert r.status_code == 400
    assert r.json() == {"user_id": ["User already registered. Please login."]}
    env.errorlog.ignore_recent(lognos=["CI10064"])


@pytest.mark.parametrize("user_id,msg", [
    ("not-a-uuid", "Must be a valid UUID."),
    ("00000000-0000-4000-8000-000000000000",
     "No QR sticker with this id exists."),
    (42, "Not a valid string."),
])
def test_ci_002_03_register_bad_sticker(env, client, user_id, msg):
    r = register(client, user_id)
    assert r.status_code == 400
    assert r.json() == {"user_id": [msg]}


@pytest.mark.parametrize("phone,password,field,msg", [
    ("12345", "secret123", "phone_number", "Enter a valid phone number."),
    ("+998 90 12x", "secret123", "phone_number",
     "Enter a valid phone number."),
    (None, "short", "password", "This password is too short. It must "
     "contain at least 8 characters."),
    (None, "12345678901", "password", "This password is entirely numeric."),
    (None, "password123", "password", "This password is too common."),
    (None, "", "password", "This field may not be blank."),
])
def test_ci_002_04_register_bad_fields(env, client, phone, password, field,
                                       msg):
    r = register(client, mint(env)[0], phone or unique_phone(), password)
    assert r.status_code == 400
    assert r.json() == {field: [msg]}


def test_ci_002_05_register_missing_unknown_wrong_types(env, client):
    r = post(client, "/api/user/register/", {"nickname": "x",
                                             "is_profile_public": "maybe",
                                             "full_name": 5})
    assert r.status_code == 400
    body = r.json()
    assert body["user_id"] == ["This field is required."]
    assert body["phone_number"] == ["This field is required."]
    assert body["password"] == ["This field is required."]
    assert body["nickname"] == ["Unknown field."]
    assert body["is_profile_public"] == ["Must be a valid boolean."]
    assert body["full_name"] == ["Not a valid string."]
    r = post(client, "/api/user/register/", [1, 2])
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": [
        "Invalid data. Expected a dictionary, but got array."]}


def test_ci_002_06_register_phone_taken_normalized(env, client):
    phone, _, _ = new_user(env, client)
    spaced = phone[:4] + " " + phone[4:6] + "-" + phone[6:]
    r = register(client, mint(env)[0], spaced)
    assert r.status_code == 400
    assert r.json() == {"phone_number": [
        "user with this phone number already exists."]}
    # 00-prefixed form is the same number too
    r = register(client, mint(env)[0], "00" + phone[1:])
    assert r.status_code == 400


def test_ci_002_07_oversized_and_bad_utf8(env, client):
    r = register(client, mint(env)[0], full_name="x" * 256)
    assert r.status_code == 400
    assert r.json() == {"full_name": [
        "Ensure this field has no more than 255 characters."]}
    raw = ('{"user_id": "%s", "phone_number": "%s", "password": "secret123",'
           ' "full_name": "\xff\xfe"}' % (mint(env)[0], unique_phone()))
    r = post(client, "/api/user/register/", None,
             raw=raw.encode("latin-1"))
    assert r.status_code == 400
    assert "UTF-8" in r.json()["detail"]
    r = post(client, "/api/user/register/", None, raw=b'{"user_id": ')
    assert r.status_code == 400 and "JSON parse error" in r.json()["detail"]
    r = register(client, mint(env)[0], full_name="a\u0000b")
    assert r.status_code == 400
    r = register(client, mint(env)[0], full_name="line\x07bell")
    assert r.json() == {"full_name": ["Control characters are not allowed."]}


SQL_META = ["'; DROP TABLE users; --", "\" OR 1=1 --", "%s%d%%", "\\x00\\",
            "Robert'); DELETE FROM qr_codes;--", "ñandú ☃ 𝄞"]


def test_ci_002_08_sql_metacharacters_are_data(env, client):
    for i, meta in enumerate(SQL_META):
        fields = {f: meta for f in PROFILE_STRINGS}
        fields["phone_number_2"] = meta[:32]
        fields["car_plate_number"] = meta[:32]
        sticker = mint(env)[0]
        r = register(client, sticker, **fields)
        assert r.status_code == 201, (meta, r.text)
        user = r.json()["user"]
        for f in PROFILE_STRINGS:
            assert user[f] == fields[f].strip(), (f, meta)
        tok = r.json()["tokens"]["access"]
        r = client.request("PATCH", "/api/profile/", headers=dict(
            JSON, **bearer(tok)), data=json.dumps({"car_model": meta}))
        assert r.status_code == 200 and r.json()["car_model"] == meta.strip()
        # login with metacharacters as phone and password: plain refusal
        r = login(client, meta, meta)
        assert r.status_code == 401
    env.errorlog.ignore_recent(lognos=["CI10076"])
    assert client.get("/api/health/").status_code == 200
    assert client.get("/api/users/").status_code == 200


def test_ci_002_09_concurrent_registrations_one_wins(env, client):
    sticker = mint(env)[0]
    results = []

    def attempt(i):
        r = register(client.__class__(env.inst, "race-%d" % i), sticker)
        results.append((r.status_code, r.json()))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 20
    won = [b for s, b in results if s == 201]
    lost = [b for s, b in results if s != 201]
    assert len(won) == 1
    assert all(b == {"user_id": ["User already registered. Please login."]}
               for b in lost), lost
    env.errorlog.ignore_recent(lognos=["CI10064", "CI10069"])


# ---------------------------------------------------------------- login
def test_ci_002_10_login(env, client):
    phone, pw, reg = new_user(env, client, full_name="Dilshod")
    r = login(client, phone, pw)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"tokens", "user"}
    assert set(body["tokens"]) == {"refresh", "access"}
    assert body["user"]["id"] == reg["user"]["id"]
    assert body["user"]["full_name"] == "Dilshod"
    # the same number typed differently logs in too
    assert login(client, phone[:4] + " " + phone[4:], pw).status_code == 200


def test_ci_002_11_login_no_enumeration(env, client):
    phone, _, _ = new_user(env, client)
    wrong_pw = login(client, phone, "not-the-password")
    no_user = login(client, unique_phone(), "not-the-password")
    bad_phone = login(client, "garbage", "x")
    for r in (wrong_pw, no_user, bad_phone):
        assert r.status_code == 401
        assert r.json() == {"detail": "No active account found with the "
                                      "given credentials"}
    env.errorlog.ignore_recent(lognos=["CI10076"])


def test_ci_002_12_login_limit_per_phone(env, client):
    phone, pw, _ = new_user(env, client)
    codes = [login(client, phone, "wrong-one").status_code for _ in range(5)]
    assert codes == [401] * 5
    r = login(client, phone, pw)          # 6th attempt in the window
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert r.json()["detail"].startswith("Request was throttled.")
    env.errorlog.ignore_recent(lognos=["CI10072", "CI10076"])


def test_ci_002_13_login_limit_per_address(env, client):
    addr = unique_addr()
    codes = [login(client, unique_phone(), "whatever1", addr=addr).status_code
             for _ in range(31)]
    assert codes[:30] == [401] * 30
    assert codes[30] == 429
    # another address is not affected
    phone, pw, _ = new_user(env, client)
    assert login(client, phone, pw).status_code == 200
    env.errorlog.ignore_recent(lognos=["CI10072", "CI10076"])


def test_ci_002_14_django_hash_accepted_and_rehashed(env, client):
    phone, _, reg = new_user(env, client)
    uid = reg["user"]["id"]
    sql(env, "UPDATE users SET password_hash = '%s' WHERE uuid = '%s'"
        % (django_pbkdf2("from-django-1"), uid))
    assert login(client, phone, "secret123").status_code == 401
    r = login(client, phone, "from-django-1")
    assert r.status_code == 200, r.text
    stored = sql(env, "SELECT password_hash FROM users WHERE uuid = '%s'"
                 % uid)
    assert "$2y$" in str(stored) and "pbkdf2" not in str(stored)
    assert login(client, phone, "from-django-1").status_code == 200
    env.errorlog.ignore_recent(lognos=["CI10076"])


# -------------------------------------------------------------- refresh
def test_ci_002_20_refresh_rotates(env, client):
    _, _, reg = new_user(env, client)
    r1 = post(client, "/api/token/refresh/",
              {"refresh": reg["tokens"]["refresh"]})
    assert r1.status_code == 200, r1.text
    assert set(r1.json()) == {"access", "refresh"}
    assert r1.json()["refresh"] != reg["tokens"]["refresh"]
    p = client.get("/api/profile/", headers=bearer(r1.json()["access"]))
    assert p.status_code == 200
    r2 = post(client, "/api/token/refresh/", {"refresh": r1.json()["refresh"]})
    assert r2.status_code == 200


def test_ci_002_21_refresh_reuse_revokes_family(env, client):
    phone, pw, reg = new_user(env, client)
    first = reg["tokens"]["refresh"]
    second = post(client, "/api/token/refresh/", {"refresh": first}).json()
    # the stolen copy of `first` comes back: refused, family revoked
    r = post(client, "/api/token/refresh/", {"refresh": first})
    assert r.status_code == 401
    assert r.json() == {"detail": "Token is invalid or expired",
                        "code": "token_not_valid"}
    r = post(client, "/api/token/refresh/", {"refresh": second["refresh"]})
    assert r.status_code == 401
    # another login is another family, untouched
    other = login(client, phone, pw).json()["tokens"]["refresh"]
    assert post(client, "/api/token/refresh/",
                {"refresh": other}).status_code == 200
    env.errorlog.ignore_recent(lognos=["CI10081"])


def test_ci_002_22_refresh_bad_input(env, client):
    r = post(client, "/api/token/refresh/", {})
    assert r.status_code == 400
    assert r.json() == {"refresh": ["This field is required."]}
    r = post(client, "/api/token/refresh/", {"refresh": 12})
    assert r.json() == {"refresh": ["Not a valid string."]}
    r = post(client, "/api/token/refresh/", {"refresh": "garbage"})
    assert r.status_code == 401


def _forged_cases(env, uid):
    key = jwt_key(env)
    return {
        "expired": forge(key, claims(uid, exp_in=-5)),
        "other key": forge(b"k" * 64, claims(uid)),
        "alg none": forge(key, claims(uid), alg="none"),
        "alg NONE": forge(key, claims(uid), header={"alg": "NONE",
                                                   "typ": "JWT"}),
        "HS512 right key": forge(key, claims(uid), alg="HS512"),
        "no user_id": forge(key, {k: v for k, v in claims(uid).items()
                                  if k != "user_id"}),
        "no exp": forge(key, {k: v for k, v in claims(uid).items()
                              if k != "exp"}),
        "garbage": "a.b.c",
        "empty": "",
    }


def test_ci_002_23_forged_access_tokens(env, client):
    _, _, reg = new_user(env, client)
    uid = reg["user"]["id"]
    # sanity: a well-formed token with the right key works
    good = forge(jwt_key(env), claims(uid))
    assert client.get("/api/profile/", headers=bearer(good)).status_code == 200
    for name, tok in _forged_cases(env, uid).items():
        r = client.get("/api/profile/", headers=bearer(tok))
        assert r.status_code == 401, name
        assert r.headers["WWW-Authenticate"].startswith("Bearer"), name
        assert "detail" in r.json(), name
    r = client.get("/api/profile/")
    assert r.status_code == 401
    assert r.json() == {"detail": "Authentication credentials were not "
                                  "provided."}
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    env.errorlog.ignore_recent(lognos=["CI10051", "CI10052"])


def test_ci_002_24_token_types_not_interchangeable(env, client):
    _, _, reg = new_user(env, client)
    access, refresh = reg["tokens"]["access"], reg["tokens"]["refresh"]
    r = client.get("/api/profile/", headers=bearer(refresh))
    assert r.status_code == 401
    r = post(client, "/api/token/refresh/", {"refresh": access})
    assert r.status_code == 401
    for name, tok in _forged_cases(env, reg["user"]["id"]).items():
        r = post(client, "/api/token/refresh/", {"refresh": tok})
        assert r.status_code in (400, 401), name
    env.errorlog.ignore_recent(lognos=["CI10052", "CI10078", "CI10081"])


def test_ci_002_25_secrets_never_logged(env, client):
    phone, pw, reg = new_user(env, client)
    login(client, phone, "Wr0ng-Secret-Passw0rd")
    post(client, "/api/token/refresh/", {"refresh": reg["tokens"]["access"]})
    client.get("/api/profile/", headers=bearer(reg["tokens"]["refresh"]))
    text = "\n".join(env.errorlog.lines_since_mark())
    for secret in ("Wr0ng-Secret-Passw0rd", pw, reg["tokens"]["access"],
                   reg["tokens"]["refresh"]):
        assert secret not in text
    env.errorlog.ignore_recent(lognos=["CI10052", "CI10076", "CI10081"])


# -------------------------------------------------------------- profile
def test_ci_002_30_profile_put_patch(env, client):
    _, _, reg = new_user(env, client, car_model="Nexia", telegram="@a")
    h = dict(JSON, **bearer(reg["tokens"]["access"]))
    r = client.request("PUT", "/api/profile/", headers=h,
                       data=json.dumps({"car_model": "Gentra"}))
    assert r.status_code == 200
    assert r.json()["car_model"] == "Gentra"
    assert r.json()["telegram"] == "@a"          # PUT is partial (004)
    r = client.request("PATCH", "/api/profile/", headers=h,
                       data=json.dumps({"is_profile_public": False,
                                        "email": "Owner@Example.COM"}))
    assert r.status_code == 200
    assert r.json()["is_profile_public"] is False
    assert r.json()["email"] == "Owner@example.com"
    assert client.get("/api/profile/", headers=h).json()["email"] == \
        "Owner@example.com"


def test_ci_002_31_profile_refuses_protected_fields(env, client):
    _, _, reg = new_user(env, client)
    h = dict(JSON, **bearer(reg["tokens"]["access"]))
    for field, value in [("id", "x"), ("phone_number", "+998900000000"),
                         ("is_registered", False), ("password", "newpass12"),
                         ("user_id", "x")]:
        r = client.request("PATCH", "/api/profile/", headers=h,
                           data=json.dumps({field: value}))
        assert r.status_code == 400
        assert r.json() == {field: ["This field cannot be changed."]}
    r = client.request("PATCH", "/api/profile/", headers=h,
                       data=json.dumps({"email": "not-an-email"}))
    assert r.json() == {"email": ["Enter a valid email address."]}
    me = client.get("/api/profile/", headers=h).json()
    assert me["phone_number"] == reg["user"]["phone_number"]


def test_ci_002_32_email_unique(env, client):
    _, _, a = new_user(env, client)
    _, _, b = new_user(env, client)
    mail = "dup-%s@example.com" % a["user"]["id"][:8]
    for who in (a, b):
        r = client.request("PATCH", "/api/profile/", headers=dict(
            JSON, **bearer(who["tokens"]["access"])),
            data=json.dumps({"email": mail}))
        if who is a:
            assert r.status_code == 200
        else:
            assert r.status_code == 400
            assert r.json() == {"email": [
                "user with this email already exists."]}


# ---------------------------------------------------------- public side
def test_ci_002_40_public_profile(env, client):
    _, _, reg = new_user(env, client, full_name="Public Pete",
                         car_model="Spark", is_profile_public=True)
    uid = reg["user"]["id"]
    r = client.get("/user/%s/" % uid)
    assert r.status_code == 200
    assert set(r.json()) == PUBLIC_KEYS
    assert r.json()["full_name"] == "Public Pete"
    assert reg["user"]["phone_number"] not in r.text
    # uppercase UUID resolves too
    assert client.get("/user/%s/" % uid.upper()).status_code == 200


def test_ci_002_41_hidden_unregistered_unknown(env, client):
    _, _, reg = new_user(env, client, is_profile_public=False)
    r = client.get("/user/%s/" % reg["user"]["id"])
    assert r.status_code == 404 and r.json() == {"detail": "Not found."}
    free = mint(env)[0]
    r = client.get("/user/%s/" % free)
    assert r.status_code == 404
    assert r.json()["code"] == "not_registered"
    r = client.get("/user/%s/" % "00000000-0000-4000-8000-00000000abcd")
    assert r.json() == {"detail": "Not found."}
    assert client.get("/user/not-a-uuid/").status_code == 404


def test_ci_002_42_users_list_and_paging(env, client):
    made = [new_user(env, client, full_name="Lister %d" % i)[2]["user"]["id"]
            for i in range(3)]
    _, _, hidden = new_user(env, client, is_profile_public=False)
    r = client.get("/api/users/")
    assert r.status_code == 200
    users = r.json()
    assert isinstance(users, list)
    ids = [u["id"] for u in users]
    assert all(u in ids for u in made)
    assert hidden["user"]["id"] not in ids
    assert all(set(u) == PUBLIC_KEYS for u in users)
    total = int(r.headers["X-Total-Count"])
    assert total >= 3
    # stable order, and pages that add up to the whole list
    assert client.get("/api/users/").json() == users
    seen, offset = [], 0
    while True:
        page = client.get("/api/users/?limit=2&offset=%d" % offset).json()
        assert page["count"] == total
        seen += [u["id"] for u in page["results"]]
        if not page["next"]:
            break
        assert "limit=2" in page["next"]
        offset += 2
    assert seen == ids[:len(seen)] and len(seen) == total
    assert client.get("/api/users/?limit=0").status_code == 400
    assert client.get("/api/users/?limit=abc").status_code == 400
    assert client.get("/api/users/?offset=-1").status_code == 400
