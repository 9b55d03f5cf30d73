"""docs/openapi.json against the module: every route of the route table in
mod_carinfo/mod_carinfo_handler.c is documented, nothing else is, and the
real responses of a live instance have the documented statuses and shapes.

The first tests read files only (no server); the live ones use the web
fixture of conftest.py.
"""
import copy
import os
import subprocess
import uuid

import pytest

from openapi_check import (HERE, HTTP_METHODS, Validator, load_doc,
                           operations, parse_routes)
from webenv import ensure_node_modules

DOC = load_doc()
ROUTES = parse_routes()


def documented_routes(doc):
    """{(METHOD, path)} of the document, HEAD excluded."""
    return {k for k in operations(doc) if k[0] != "HEAD"}


def served_routes(routes):
    """{(METHOD, path)} of the route table, HEAD and debug-only routes
    (CI_ACCESS_DEBUG, e.g. /api/echo/) excluded."""
    return {(r["method"], r["path"]) for r in routes
            if r["method"] != "HEAD" and r["access"] != "CI_ACCESS_DEBUG"}


def compare(routes, doc):
    """(served but not documented, documented but not served)."""
    served, documented = served_routes(routes), documented_routes(doc)
    return sorted(served - documented), sorted(documented - served)


# ------------------------------------------------------------ route table

def test_openapi_01_route_table_parsed():
    assert len(ROUTES) >= 20
    assert ("POST", "/api/echo/") in {(r["method"], r["path"])
                                      for r in ROUTES}
    r = next(r for r in ROUTES
             if r["pattern"] == "/api/chat/rooms/{room_id:uuid}/messages/"
             and r["method"] == "GET")
    assert r["path"] == "/api/chat/rooms/{room_id}/messages/"
    assert r["summary"].startswith("A room's messages")


def test_openapi_02_every_route_documented_and_no_other():
    undocumented, unserved = compare(ROUTES, DOC)
    assert not undocumented, "served but not in docs/openapi.json: %s" % (
        undocumented,)
    assert not unserved, "in docs/openapi.json but not served: %s" % (
        unserved,)


def test_openapi_03_the_comparison_catches_both_directions():
    """The check above fails when either side gains a route."""
    routes = ROUTES + [{"method": "DELETE", "path": "/api/profile/",
                        "access": "CI_ACCESS_USER"}]
    assert compare(routes, DOC) == ([("DELETE", "/api/profile/")], [])
    doc = copy.deepcopy(DOC)
    doc["paths"]["/api/nothing/"] = {"get": {"responses": {}}}
    assert compare(ROUTES, doc) == ([], [("GET", "/api/nothing/")])
    debug = [r for r in ROUTES if r["access"] == "CI_ACCESS_DEBUG"]
    assert debug and compare(debug, {"paths": {}}) == ([], [])


def test_openapi_04_summaries_are_the_route_table_s():
    ops = operations(DOC)
    wrong = ["%s %s: %r != %r" % (r["method"], r["path"],
                                  ops[(r["method"], r["path"])]["summary"],
                                  r["summary"])
             for r in ROUTES if (r["method"], r["path"]) in ops
             and ops[(r["method"], r["path"])]["summary"] != r["summary"]]
    assert not wrong, "\n".join(wrong)


def test_openapi_05_auth_of_every_operation():
    ops = operations(DOC)
    schemes = DOC["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": schemes["bearerAuth"]["description"]}
    assert (schemes["visitorToken"]["type"], schemes["visitorToken"]["in"],
            schemes["visitorToken"]["name"]) == ("apiKey", "query",
                                                 "visitor")
    for r in ROUTES:
        op = ops.get((r["method"], r["path"]))
        if op is None:
            continue
        assert "security" in op, "%s %s: no security" % (r["method"],
                                                         r["path"])
        if r["access"] == "CI_ACCESS_USER":
            assert op["security"] == [{"bearerAuth": []}], r["path"]
            assert "401" in op["responses"], r["path"]
        for req in op["security"]:
            assert set(req) <= set(schemes), (r["path"], req)
    # the rooms a visitor opens take either credential
    for key in [("GET", "/api/chat/rooms/{room_id}/"),
                ("GET", "/api/chat/rooms/{room_id}/messages/"),
                ("POST", "/api/chat/rooms/{room_id}/messages/")]:
        assert {"visitorToken": []} in ops[key]["security"], key
        assert {"bearerAuth": []} in ops[key]["security"], key


def _params(op):
    out = []
    for p in op.get("parameters", []):
        if "$ref" in p:
            p = DOC["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]
        out.append(p)
    return out


def test_openapi_06_path_parameters_and_ids():
    seen = set()
    for (method, path), op in operations(DOC).items():
        names = {p["name"] for p in _params(op) if p["in"] == "path"
                 and p.get("required")}
        wanted = set(part[1:-1] for part in path.split("/")
                     if part.startswith("{"))
        assert names == wanted, (method, path, names, wanted)
        assert op.get("operationId") and op["operationId"] not in seen
        seen.add(op["operationId"])
        assert op.get("description") and op.get("tags"), (method, path)


def test_openapi_07_errors_are_drf_shapes():
    """4xx/5xx JSON bodies are {"detail"} (Detail) or, for 400, the field
    map (ValidationError)."""
    comps = DOC["components"]["responses"]
    for (method, path), op in operations(DOC).items():
        for status, resp in op["responses"].items():
            if not status[0] in "45":
                continue
            if "$ref" in resp:
                resp = comps[resp["$ref"].rsplit("/", 1)[1]]
            schema = resp["content"]["application/json"]["schema"]["$ref"]
            want = ("#/components/schemas/ValidationError" if status == "400"
                    else "#/components/schemas/Detail")
            assert schema == want, (method, path, status, schema)
            assert "X-CarInfo-Problem" in resp.get("headers", {}), (
                method, path, status)


def test_openapi_08_examples_match_their_schemas():
    v = Validator(DOC)
    n = sum(v.request_example(m, p) for (m, p), op in operations(DOC).items()
            if "requestBody" in op)
    assert n >= 8
    assert v.examples_of_responses() >= 5


def test_openapi_09_valid_openapi_document(node_modules):
    """The OpenAPI 3.0 JSON schema and $ref resolution (swagger-parser)."""
    r = subprocess.run(["node", os.path.join(HERE, "e2e",
                                             "validate-openapi.mjs"),
                        os.path.join(HERE, "..", "..", "docs",
                                     "openapi.json")],
                       cwd=HERE, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "openapi: valid (3.0" in r.stdout


def test_openapi_10_methods_are_http_methods():
    for path, item in DOC["paths"].items():
        assert path.startswith("/") and path.endswith(("/", "}")), path
        for key in item:
            assert key in HTTP_METHODS, (path, key)


# ------------------------------------------------------------ live server

class Live:
    """Calls a mount and checks every answer against the document."""

    def __init__(self, inst, session):
        self.inst = inst
        self.s = session
        self.v = Validator(DOC)
        self.hits = {}

    def call(self, method, template, status, path_args=None, headers=None,
             **kw):
        path = template.format(**(path_args or {}))
        kw.setdefault("timeout", 10)
        kw.setdefault("allow_redirects", False)
        r = self.s.request(method, self.inst.url(path), headers=headers,
                           **kw)
        assert r.status_code == status, "%s %s: %d, expected %d: %s" % (
            method, path, r.status_code, status, r.text[:300])
        ctype = r.headers.get("Content-Type", "")
        body = r.json() if "json" in ctype and r.content else r.content
        self.v.response(method, template, status, ctype, body)
        self.hits.setdefault((method, template), set()).add(status)
        return r


def _bearer(tokens):
    return {"Authorization": "Bearer " + tokens["access"]}


def test_openapi_11_served_schema_is_the_document(web, session, inst):
    r = session.get(inst.url("/api/schema/"), timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == DOC


def test_openapi_12_real_responses_match(web, session, new_phone):
    """Every documented operation, called for real on the root mount: its
    statuses are documented and its JSON bodies have the documented
    shapes (no undocumented field)."""
    L = Live(web.root, session)
    J = {"Accept": "application/json"}
    phone, password = new_phone(), "Parking-2026"
    free, other = [t.strip() for t in web.mint(2)]

    L.call("GET", "/api/health/", 200)
    L.call("GET", "/q/{token}/", 200, {"token": free}, headers=J)
    L.call("GET", "/q/{token}/", 200, {"token": free},
           headers={"Accept": "text/html"})
    L.call("GET", "/q/{token}/", 404, {"token": str(uuid.uuid4())},
           headers=J)
    L.call("GET", "/user/{user_id}/", 404, {"user_id": free})

    # accounts
    L.call("POST", "/api/user/register/", 400, json={
        "user_id": free, "phone_number": "123", "password": "x",
        "colour": "red"})
    reg = L.call("POST", "/api/user/register/", 201, json={
        "user_id": free, "phone_number": phone, "password": password,
        "full_name": "Doc Owner", "car_model": "Lada", "telegram": "doc_o",
        "is_profile_public": True}).json()
    L.call("GET", "/q/{token}/", 200, {"token": free}, headers=J)
    L.call("POST", "/api/login/", 401, json={"phone_number": phone,
                                             "password": "wrong-pass-1"})
    login = L.call("POST", "/api/login/", 200, json={
        "phone_number": phone, "password": password}).json()
    L.call("POST", "/api/login/", 400, json={"phone_number": phone})
    pair = L.call("POST", "/api/token/refresh/", 200,
                  json={"refresh": login["tokens"]["refresh"]}).json()
    L.call("POST", "/api/token/refresh/", 401,
           json={"refresh": "not.a.token"})
    L.call("POST", "/api/token/refresh/", 400, json={})
    L.call("POST", "/api/logout/", 204, json={"refresh": pair["refresh"]})
    L.call("POST", "/api/logout/", 401, json={"refresh": "x.y.z"})
    L.call("POST", "/api/logout/", 415, data="refresh=x",
           headers={"Content-Type": "application/x-www-form-urlencoded"})
    tokens = reg["tokens"]
    L.call("GET", "/api/profile/", 200, headers=_bearer(tokens))
    L.call("GET", "/api/profile/", 401)
    L.call("PUT", "/api/profile/", 200, headers=_bearer(tokens),
           json={"car_model": "Lada Vesta"})
    L.call("PATCH", "/api/profile/", 200, headers=_bearer(tokens),
           json={"is_profile_public": True, "email": ""})
    L.call("PATCH", "/api/profile/", 400, headers=_bearer(tokens),
           json={"phone_number": "+998900000000"})
    L.call("GET", "/api/users/", 200)
    L.call("GET", "/api/users/", 200, params={"limit": 2, "offset": 0})
    L.call("GET", "/api/users/", 400, params={"limit": 0})
    L.call("GET", "/user/{user_id}/", 200, {"user_id": free})
    L.call("GET", "/user/{user_id}/", 404, {"user_id": str(uuid.uuid4())})

    # chat
    L.call("POST", "/api/chat/start/", 404, json={"user_id": other})
    L.call("POST", "/api/chat/start/", 400, json={"user_id": "nope"})
    start = L.call("POST", "/api/chat/start/", 201, json={
        "user_id": free, "visitor_name": "Doc Visitor"}).json()
    room, vt = start["room_id"], start["visitor_token"]
    rp = {"room_id": room}
    L.call("GET", "/api/chat/rooms/", 200, headers=_bearer(tokens))
    L.call("GET", "/api/chat/rooms/", 401)
    L.call("GET", "/api/chat/rooms/{room_id}/", 200, rp,
           params={"visitor": vt})
    L.call("GET", "/api/chat/rooms/{room_id}/", 200, rp,
           headers=_bearer(tokens))
    L.call("GET", "/api/chat/rooms/{room_id}/", 401, rp)
    L.call("GET", "/api/chat/rooms/{room_id}/", 404, rp,
           params={"visitor": "0" * 64})
    sent = L.call("POST", "/api/chat/rooms/{room_id}/messages/", 201, rp,
                  params={"visitor": vt}, json={"message": "Salom"}).json()
    L.call("POST", "/api/chat/rooms/{room_id}/messages/", 201, rp,
           headers=_bearer(tokens), json={"content": "Hello"})
    L.call("POST", "/api/chat/rooms/{room_id}/messages/", 400, rp,
           params={"visitor": vt}, json={"message": "   "})
    L.call("GET", "/api/chat/rooms/{room_id}/messages/", 200, rp,
           params={"visitor": vt})
    L.call("GET", "/api/chat/rooms/{room_id}/messages/", 200, rp,
           headers=_bearer(tokens), params={"since": sent["id"]})
    L.call("GET", "/api/chat/rooms/{room_id}/messages/", 400, rp,
           params={"visitor": vt, "since": str(uuid.uuid4())})
    rooms = L.call("GET", "/api/chat/rooms/", 200,
                   headers=_bearer(tokens)).json()
    assert rooms[0]["last_message"]["content"] == "Hello"
    L.call("PATCH", "/api/chat/rooms/{room_id}/", 200, rp,
           headers=_bearer(tokens), json={"is_active": False})
    L.call("PATCH", "/api/chat/rooms/{room_id}/", 400, rp,
           headers=_bearer(tokens), json={})
    L.call("PATCH", "/api/chat/rooms/{room_id}/", 404, rp,
           params={"visitor": vt}, json={"is_active": True})
    L.call("POST", "/api/chat/rooms/{room_id}/messages/", 403, rp,
           params={"visitor": vt}, json={"message": "closed?"})
    L.call("POST", "/api/chat/rooms/{room_id}/block/", 200, rp,
           headers=_bearer(tokens))
    L.call("POST", "/api/chat/rooms/{room_id}/block/", 401, rp)
    L.call("GET", "/api/chat/rooms/{room_id}/messages/", 404, rp,
           params={"visitor": vt})

    # QRConnect (000), both spellings
    free2 = web.mint(1)[0].strip()
    scan = L.call("POST", "/api/auth/scan-qr/", 200,
                  json={"token": free}).json()
    assert scan["status"] == "active"
    L.call("POST", "/api/auth/scan-qr/", 200, json={"token": free2})
    L.call("POST", "/api/auth/scan-qr/", 404,
           json={"token": str(uuid.uuid4())})
    L.call("POST", "/api/auth/scan-qr/", 401, json={"token": free2},
           headers={"Authorization": "Bearer nope"})
    L.call("POST", "/api/auth/scan-qr/", 400, json={"token": "x"})
    other_user = web.register_owner(session, new_phone(),
                                     full_name="Second User")
    other_tokens = other_user["tokens"]
    for pre in ("/api/chat", "/api/auth/chat"):
        pseudo = "Invité-%04d" % (len(L.hits) % 10000)
        guest = L.call("POST", pre + "/send/", 201, json={
            "receiver": scan["owner_id"], "sender_name": pseudo,
            "content": "Bonjour"}).json()
        L.call("POST", pre + "/send/", 201, json={
            "receiver": scan["owner_id"], "sender_name": pseudo,
            "content": "Encore", "guest_token": guest["guest_token"]})
        L.call("POST", pre + "/send/", 201, headers=_bearer(tokens),
               json={"pseudo": pseudo, "content": "Merci"})
        L.call("POST", pre + "/send/", 201, headers=_bearer(other_tokens),
               json={"receiver": scan["owner_id"], "content": "Salut"})
        L.call("POST", pre + "/send/", 400, json={"content": "x"})
        L.call("GET", pre + "/discussion-anonyme/", 200,
               headers=_bearer(tokens), params={"pseudo": pseudo})
        L.call("GET", pre + "/discussion-anonyme/", 400,
               headers=_bearer(tokens))
        L.call("GET", pre + "/conversations-anonymes/", 200,
               headers=_bearer(tokens))
        L.call("GET", pre + "/discussion/{user_id}/", 200,
               {"user_id": scan["owner_id"]},
               headers=_bearer(other_tokens))
        L.call("GET", pre + "/discussion/{user_id}/", 404,
               {"user_id": "999999999"}, headers=_bearer(other_tokens))
        L.call("GET", pre + "/conversations/", 200, headers=_bearer(tokens))
        L.call("GET", pre + "/conversations/", 401)
        L.call("POST", pre + "/conversations-anonymes/block/", 200,
               headers=_bearer(tokens), json={"pseudo": pseudo})
        L.call("POST", pre + "/send/", 403, json={
            "receiver": scan["owner_id"], "sender_name": pseudo,
            "content": "Encore?", "guest_token": guest["guest_token"]})
        L.call("POST", pre + "/conversations-anonymes/block/", 400,
               headers=_bearer(tokens), json={"pseudo": "Nobody-0000"})

    # pages and the reference
    L.call("GET", "/inbox/", 200)
    L.call("GET", "/static/{file}", 200, {"file": "carinfo.css"})
    L.call("GET", "/static/{file}", 404, {"file": "nothing.js"})
    L.call("GET", "/api/docs/", 200)
    L.call("GET", "/api/docs/{file}", 200, {"file": "swagger-init.js"})
    L.call("GET", "/api/redoc/", 200)
    L.call("GET", "/api/vendor/{file}", 200,
           {"file": "swagger-ui-bundle.js"})
    L.call("GET", "/api/schema/", 200)

    # every operation was called, and answered a success at least once
    missing = [k for k in operations(DOC)
               if not any(s < 300 for s in L.hits.get(k, ()))]
    assert not missing, "operations not exercised: %s" % missing


@pytest.fixture(scope="session")
def node_modules():
    ensure_node_modules()
