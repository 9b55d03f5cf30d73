"""Helpers of test_openapi.py: the route table of mod_carinfo_handler.c and
the OpenAPI document, and validation of real responses against it.

The OpenAPI 3.0 schemas are turned into JSON Schema (draft 4, which
python3-jsonschema knows): `nullable: true` becomes a "null" type, and for
responses every object that lists its properties gets
additionalProperties: false, so a field the server sends but the document
does not name fails the test (the document must show the real shapes).
"""
import copy
import json
import os
import re
import shutil
import subprocess

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
HANDLER_C = os.path.join(REPO, "mod_carinfo", "mod_carinfo_handler.c")
OPENAPI_FILE = os.path.join(REPO, "docs", "openapi.json")

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
                "trace")

# ROUTE("METHOD", "pattern" "more", handler, CI_ACCESS_x, "summary" "more")
STRINGS = r'((?:"(?:[^"\\]|\\.)*"\s*)+)'
ROUTE_RE = re.compile(
    r'ROUTE\(\s*"([A-Z]+)"\s*,\s*' + STRINGS + r',\s*(\w+)\s*,\s*'
    r'(CI_ACCESS_\w+)\s*,\s*' + STRINGS + r'\)', re.S)
PARAM_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):[a-z]+\}")


def _c_string(literals):
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', literals)
    return "".join(parts).encode().decode("unicode_escape")


def _preprocess(text):
    """The file through the C preprocessor, so that routes written by a
    macro (QR_ROUTES("/api/chat"), ...) are expanded, but with ROUTE itself
    left as written and without the #includes (httpd's headers are not
    needed to read a table)."""
    text = re.sub(r"^[ \t]*#[ \t]*include[^\n]*", "", text, flags=re.M)
    text = re.sub(r"^[ \t]*#[ \t]*define[ \t]+ROUTE\((?:[^\n]*\\\n)*[^\n]*",
                  "", text, flags=re.M)
    cpp = shutil.which("cpp")
    if not cpp:
        raise AssertionError("cpp not found (gcc's preprocessor reads the "
                             "route table)")
    r = subprocess.run([cpp, "-P", "-w", "-x", "c", "-"], input=text,
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("cpp failed on the route table: %s" % r.stderr)
    return r.stdout


def parse_routes(path=HANDLER_C):
    """[{method, pattern, path, handler, access, summary}] of the route
    table; `path` is the OpenAPI form ({name:type} -> {name})."""
    with open(path) as f:
        text = _preprocess(f.read())
    start = text.find("routes[] = {")
    if start < 0:
        raise AssertionError("%s: no `routes[] = {` table" % path)
    end = text.find("};", start)
    table = text[start:end]
    routes = []
    for m in ROUTE_RE.finditer(table):
        method, pattern, handler, access, summary = m.groups()
        pattern = _c_string(pattern)
        routes.append({
            "method": method, "pattern": pattern, "handler": handler,
            "access": access, "summary": _c_string(summary),
            "path": PARAM_RE.sub(r"{\1}", pattern),
        })
    # every ROUTE( line of the table was understood
    if table.count("ROUTE(") != len(routes):
        raise AssertionError("%s: %d ROUTE( lines, %d parsed" % (
            path, table.count("ROUTE("), len(routes)))
    return routes


def load_doc(path=OPENAPI_FILE):
    with open(path) as f:
        return json.load(f)


def operations(doc):
    """{(METHOD, path): operation} of the document."""
    ops = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                ops[(method.upper(), path)] = op
    return ops


# ------------------------------------------------------------ schemas

def _to_json_schema(node, strict):
    if isinstance(node, list):
        return [_to_json_schema(x, strict) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v, strict) for k, v in node.items()
           if k not in ("nullable", "example", "examples", "discriminator",
                        "xml", "externalDocs", "readOnly", "writeOnly",
                        "deprecated")}
    if strict and out.get("type") == "object" and "properties" in out \
            and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        else:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


_FORMATS = jsonschema.FormatChecker(())


@_FORMATS.checks("uuid")
def _is_uuid(value):
    return not isinstance(value, str) or bool(re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        value))


@_FORMATS.checks("date-time")
def _is_time(value):
    # what the module prints: UTC, Z, optional microseconds
    return not isinstance(value, str) or bool(re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", value))


class Validator:
    """Validates bodies against the document's schemas."""

    def __init__(self, doc):
        self.doc = doc
        self.response_doc = _to_json_schema(copy.deepcopy(doc), strict=True)
        self.request_doc = _to_json_schema(copy.deepcopy(doc), strict=False)

    def _validate(self, root, schema, value, what):
        resolver = jsonschema.RefResolver.from_schema(root)
        v = jsonschema.Draft4Validator(schema, resolver=resolver,
                                       format_checker=_FORMATS)
        errors = sorted(v.iter_errors(value), key=lambda e: list(e.path))
        if errors:
            raise AssertionError("%s does not match the document:\n  %s\n"
                                 "body: %s" % (what, "\n  ".join(
                                     "%s: %s" % ("/".join(map(str, e.path)),
                                                 e.message)
                                     for e in errors[:8]),
                                     json.dumps(value)[:800]))

    def _translated(self, root, pointer):
        node = root
        for part in pointer:
            node = node[part]
        return node

    def response(self, method, path, status, content_type, body):
        """Checks that `status` is documented for the operation and the
        body matches its schema (JSON bodies)."""
        op = operations(self.doc).get((method, path))
        assert op, "%s %s is not documented" % (method, path)
        responses = op["responses"]
        key = str(status) if str(status) in responses else (
            "%dXX" % (status // 100) if "%dXX" % (status // 100) in responses
            else "default")
        assert key in responses, "%s %s answered %d, which the document " \
            "does not list (%s)" % (method, path, status,
                                    ", ".join(sorted(responses)))
        resp = responses[key]
        pointer = ["paths", path, method.lower(), "responses", key]
        if "$ref" in resp:
            name = resp["$ref"].rsplit("/", 1)[1]
            resp = self.doc["components"]["responses"][name]
            pointer = ["components", "responses", name]
        content = resp.get("content") or {}
        if not content:
            assert body in (None, b"", ""), "%s %s %d: body not documented" \
                % (method, path, status)
            return
        media = (content_type or "").split(";")[0].strip()
        if media not in content:
            if "*/*" in content:
                return
            raise AssertionError("%s %s %d: Content-Type %s not documented "
                                 "(%s)" % (method, path, status, media,
                                           ", ".join(content)))
        if not media.endswith("json"):
            return
        schema = self._translated(self.response_doc,
                                  pointer + ["content", media, "schema"])
        self._validate(self.response_doc, schema, body,
                       "%s %s %d" % (method, path, status))

    def request_example(self, method, path):
        op = operations(self.doc)[(method, path)]
        media = op["requestBody"]["content"]["application/json"]
        if "example" not in media:
            return False
        schema = self._translated(self.request_doc, [
            "paths", path, method.lower(), "requestBody", "content",
            "application/json", "schema"])
        self._validate(self.request_doc, schema, media["example"],
                       "request example of %s %s" % (method, path))
        return True

    def examples_of_responses(self):
        """Every response example in the document matches its schema."""
        n = 0
        for (method, path), op in operations(self.doc).items():
            for status, resp in op["responses"].items():
                if "$ref" in resp:
                    continue
                for media, m in (resp.get("content") or {}).items():
                    if "example" in m and media.endswith("json"):
                        schema = self._translated(self.response_doc, [
                            "paths", path, method.lower(), "responses",
                            status, "content", media, "schema"])
                        self._validate(self.response_doc, schema,
                                       m["example"], "example of %s %s %s"
                                       % (method, path, status))
                        n += 1
        return n
