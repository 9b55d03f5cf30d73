"""Helpers for the accounts tests: stickers, users, tokens, raw SQL."""
import base64
import hashlib
import hmac
import json
import sqlite3
import time
import uuid

JSON = {"Content-Type": "application/json"}
_seq = [int(time.time()) % 100000]


def unique_phone():
    """A fresh E.164 number per call (Uzbek mobile range, as in 004)."""
    _seq[0] += 1
    return "+99890%07d" % (_seq[0] % 10000000)


def unique_addr():
    """A fresh client address from TEST-NET-3, sent as X-Forwarded-For."""
    _seq[0] += 1
    return "203.0.%d.%d" % ((_seq[0] // 250) % 250, _seq[0] % 250 + 1)


def mint(env, n=1):
    return env.inst.mint(n)


def register(client, sticker, phone=None, password="secret123", addr=None,
             **profile):
    body = {"user_id": sticker, "phone_number": phone or unique_phone(),
            "password": password}
    body.update(profile)
    headers = dict(JSON)
    headers["X-Forwarded-For"] = addr or unique_addr()
    return client.post("/api/user/register/", data=json.dumps(body),
                       headers=headers)


def new_user(env, client, **profile):
    """Registers a fresh sticker; returns (phone, password, session JSON)."""
    sticker = mint(env)[0]
    phone = unique_phone()
    r = register(client, sticker, phone, **profile)
    assert r.status_code == 201, r.text
    return phone, "secret123", r.json()


def login(client, phone, password, addr=None):
    headers = dict(JSON)
    headers["X-Forwarded-For"] = addr or unique_addr()
    return client.post("/api/login/", headers=headers,
                       data=json.dumps({"phone_number": phone,
                                        "password": password}))


def bearer(token):
    return {"Authorization": "Bearer " + token}


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(key, claims, alg="HS256", header=None):
    """A JWT signed with `key` (bytes) using `alg` (HS256/HS512/none)."""
    head = header or {"alg": alg, "typ": "JWT"}
    signing = (b64(json.dumps(head).encode()) + "." +
               b64(json.dumps(claims).encode()))
    if alg == "none":
        return signing + "."
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    sig = hmac.new(key, signing.encode(), digest).digest()
    return signing + "." + b64(sig)


def claims(user_id, token_type="access", exp_in=300):
    now = int(time.time())
    return {"token_type": token_type, "exp": now + exp_in, "iat": now,
            "jti": uuid.uuid4().hex, "user_id": user_id}


def jwt_key(env):
    with open(env.inst.jwt_key, "rb") as f:
        return f.read().strip()


def sql(env, statement):
    """Runs one SQL statement on the test database; returns rows."""
    if env.db == "pgsql":
        out = env.pg.psql(statement, dbname="carinfo")
        return out
    con = sqlite3.connect(env.db_params, timeout=10)
    try:
        rows = con.execute(statement).fetchall()
        con.commit()
        return rows
    finally:
        con.close()


def jansson_text(value):
    """`value` (parsed JSON) as jansson's compact dump writes it (bytes):
    keys in order, UTF-8 as it is, \\u00XX in upper-case hex for the
    control characters without a short escape. The module's writer
    (ci_jbuf) must match it byte for byte."""
    short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f",
             "\n": "\\n", "\r": "\\r", "\t": "\\t"}

    def text(v):
        if isinstance(v, dict):
            return "{" + ",".join(text(k) + ":" + text(x)
                                  for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ",".join(text(x) for x in v) + "]"
        if isinstance(v, str):
            return '"' + "".join(short.get(c) or ("\\u%04X" % ord(c)
                                                  if ord(c) < 0x20 else c)
                                 for c in v) + '"'
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)
    return text(value).encode()


def django_pbkdf2(password, salt="s4ltS4lt", iterations=1000):
    dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(),
                             iterations, 32)
    return "pbkdf2_sha256$%d$%s$%s" % (iterations, salt,
                                      base64.b64encode(dk).decode())
