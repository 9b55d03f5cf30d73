"""The web files (web/) as files, and as the module serves them: content
types, validators, the Content-Security-Policy of the pages, content
negotiation on the sticker URL. The browser tests are in test_e2e.py."""
import os
import re
import uuid
from html.parser import HTMLParser

import pytest

from openapi_check import REPO

WEB = os.path.join(REPO, "web")
PAGES = ["sticker.html", "inbox.html", "docs/swagger.html",
         "docs/redoc.html"]
OWN_JS = ["static/common.js", "static/chat.js", "static/sticker.js",
          "static/inbox.js", "docs/swagger-init.js", "docs/redoc-init.js"]
# The policy the module sends with the pages (its contract with web/).
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
            "img-src 'self' data:; connect-src 'self' ws: wss:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
HTML_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,"
               "image/avif,image/webp,*/*;q=0.8")


class Page(HTMLParser):
    """What a page asks the browser to do."""

    def __init__(self):
        super().__init__()
        self.scripts, self.inline_scripts, self.styles = [], 0, 0
        self.style_attrs, self.handlers, self.urls = [], [], []
        self.controls, self.labels, self.ids = [], set(), set()
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, name))
            if name == "style":
                self.style_attrs.append(tag)
            if name in ("src", "href", "action", "formaction") and value:
                self.urls.append((tag, name, value))
        if tag == "script":
            if a.get("src"):
                self.scripts.append(a["src"])
            else:
                self._in_script = True
        if tag == "style":
            self.styles += 1
        if tag in ("input", "textarea", "select") and \
                a.get("type") not in ("hidden", "submit", "button"):
            self.controls.append(a.get("id"))
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1


def parse(rel):
    p = Page()
    with open(os.path.join(WEB, rel), encoding="utf-8") as f:
        p.feed(f.read())
    return p


# ------------------------------------------------------------ the files

@pytest.mark.parametrize("rel", PAGES)
def test_pages_01_no_inline_script_or_style(rel):
    p = parse(rel)
    assert p.inline_scripts == 0, "inline <script> in %s" % rel
    assert not p.handlers, "event handler attributes in %s: %s" % (
        rel, p.handlers)
    assert not p.style_attrs and not p.styles, "inline style in %s" % rel
    assert p.scripts, rel


@pytest.mark.parametrize("rel", PAGES)
def test_pages_02_relative_urls_of_existing_files(rel):
    """Every URL is relative to the page (works under any mount), never
    another host; the files it names exist in web/ (vendor/ comes from
    fetch-vendor.sh)."""
    p = parse(rel)
    served_at = {"sticker.html": "q/TOKEN/", "inbox.html": "inbox/",
                 "docs/swagger.html": "api/docs/",
                 "docs/redoc.html": "api/redoc/"}[rel]
    where = {"static/": "static", "api/docs/": "docs",
             "api/vendor/": "vendor"}
    for tag, attr, url in p.urls:
        assert not re.match(r"^([a-z]+:|//|/)", url, re.I), \
            "%s: %s %s=%r is not relative" % (rel, tag, attr, url)
        if url.startswith("#"):
            continue
        # resolve against <mount>/<served_at>
        parts = served_at.split("/")[:-1]
        for seg in url.split("#")[0].split("/"):
            if seg == "..":
                parts.pop()
            elif seg not in ("", "."):
                parts.append(seg)
        target = "/".join(parts) + ("/" if url.endswith("/") else "")
        for prefix, d in where.items():
            if target.startswith(prefix) and not target.endswith("/"):
                name = target[len(prefix):]
                if d == "vendor":
                    assert name in ("swagger-ui.css", "swagger-ui-bundle.js",
                                    "swagger-ui-standalone-preset.js",
                                    "redoc.standalone.js"), url
                else:
                    assert os.path.isfile(os.path.join(WEB, d, name)), \
                        "%s: %s names a missing file" % (rel, url)
                break
        else:
            assert target in ("inbox/", "api/docs/", "api/redoc/",
                              "api/schema/", "q/TOKEN/"), \
                "%s: %s resolves to an unknown page %s" % (rel, url, target)


@pytest.mark.parametrize("rel", ["sticker.html", "inbox.html"])
def test_pages_03_every_field_has_a_label(rel):
    p = parse(rel)
    assert p.controls
    unlabelled = [c for c in p.controls if c not in p.labels]
    assert not unlabelled, "%s: fields without <label for>: %s" % (
        rel, unlabelled)
    # and aria-describedby names elements that exist
    with open(os.path.join(WEB, rel), encoding="utf-8") as f:
        text = f.read()
    for ids in re.findall(r'aria-describedby="([^"]+)"', text):
        for i in ids.split():
            assert i in p.ids, "%s: aria-describedby names #%s" % (rel, i)


FORBIDDEN_JS = [
    (r"\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write",
     "HTML from strings"),
    (r"\beval\s*\(|new\s+Function\s*\(|set(Timeout|Interval)\s*\(\s*['\"`]",
     "code from strings (CSP has no 'unsafe-eval')"),
    (r"\.style\.|setAttribute\(\s*['\"]style|cssText",
     "inline styles (CSP style-src 'self')"),
    (r"javascript:", "javascript: URLs"),
    (r"https?://(?!www\.instagram\.com/|t\.me/|wa\.me/)",
     "absolute URLs other than the contact links"),
]


@pytest.mark.parametrize("rel", OWN_JS)
def test_pages_04_scripts_keep_to_the_csp(rel):
    with open(os.path.join(WEB, rel), encoding="utf-8") as f:
        code = f.read()
    # comments may say anything
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
    code = re.sub(r"(?m)^\s*//.*$", "", code)
    for pattern, what in FORBIDDEN_JS:
        m = re.search(pattern, code)
        assert not m, "%s: %s (%r)" % (rel, what, m.group(0))


def test_pages_05_static_names_are_servable():
    """/static/{file} serves a flat directory of [A-Za-z0-9._-] names."""
    for d in ("static", "docs"):
        for name in os.listdir(os.path.join(WEB, d)):
            assert re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*", name), name
            assert os.path.isfile(os.path.join(WEB, d, name)), name
            assert name.rsplit(".", 1)[-1] in ("js", "css", "svg", "png",
                                               "ico", "woff2", "html"), name


# ------------------------------------------------------------ as served

def test_pages_10_sticker_url_negotiates(web, session, inst):
    token = web.mint(1)[0].strip()
    url = inst.url("/q/%s/" % token)
    page = session.get(url, headers={"Accept": HTML_ACCEPT}, timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Content-Security-Policy"] == PAGE_CSP
    assert page.headers.get("X-Content-Type-Options") == "nosniff"
    with open(os.path.join(WEB, "sticker.html"), "rb") as f:
        assert page.content == f.read()
    for accept in ("application/json", None, "*/*"):
        h = {"Accept": accept} if accept else {}
        r = session.get(url, headers=h, timeout=10)
        assert r.status_code == 200, accept
        assert r.json() == {"token": token, "registered": False,
                            "register_url": (inst.mount.rstrip("/")
                                             + "/api/user/register/")}
    # an unknown token: still the page for a browser (it says so), 404
    # for JSON
    other = inst.url("/q/%s/" % uuid.uuid4())
    assert session.get(other, headers={"Accept": HTML_ACCEPT},
                       timeout=10).status_code == 200
    assert session.get(other, timeout=10).status_code == 404


def test_pages_11_inbox_and_static(web, session, inst):
    r = session.get(inst.url("/inbox/"), timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Content-Security-Policy"] == PAGE_CSP
    types = {"common.js": "text/javascript", "carinfo.css": "text/css",
             "icon.svg": "image/svg+xml"}
    for name, ctype in types.items():
        r = session.get(inst.url("/static/" + name), timeout=10)
        assert r.status_code == 200, name
        assert r.headers["Content-Type"].startswith(ctype), name
        with open(os.path.join(WEB, "static", name), "rb") as f:
            assert r.content == f.read(), name
        etag = r.headers["ETag"]
        assert r.headers.get("Last-Modified")
        again = session.get(inst.url("/static/" + name), timeout=10,
                            headers={"If-None-Match": etag})
        assert again.status_code == 304, name
    for bad in ("nothing.js", ".gitignore", "%2E%2E", "..%2Fsticker.html"):
        r = session.get(inst.url("/static/" + bad), timeout=10)
        assert r.status_code == 404, bad
        if "%2F" not in bad:    # httpd itself refuses encoded slashes
            assert r.headers["Content-Type"].startswith("application/json")


def test_pages_12_api_reference_files(web, session, inst):
    for path in ("/api/docs/", "/api/redoc/"):
        r = session.get(inst.url(path), timeout=10)
        assert r.status_code == 200, path
        assert r.headers["Content-Type"].startswith("text/html"), path
        csp = r.headers["Content-Security-Policy"]
        script = [d.strip() for d in csp.split(";")
                  if d.strip().startswith("script-src")]
        assert script == ["script-src 'self'"], csp
        assert "frame-ancestors 'none'" in csp
    for name in ("swagger-init.js", "redoc-init.js", "docs.css"):
        r = session.get(inst.url("/api/docs/" + name), timeout=10)
        assert r.status_code == 200, name
    for name, ctype in (("swagger-ui-bundle.js", "text/javascript"),
                        ("swagger-ui-standalone-preset.js",
                         "text/javascript"),
                        ("redoc.standalone.js", "text/javascript"),
                        ("swagger-ui.css", "text/css")):
        path = os.path.join(WEB, "vendor", name)
        if not os.path.exists(path):
            pytest.skip("web/vendor/ not fetched (web/fetch-vendor.sh)")
        r = session.get(inst.url("/api/vendor/" + name), timeout=10)
        assert r.status_code == 200, name
        assert r.headers["Content-Type"].startswith(ctype), name
        assert len(r.content) == os.path.getsize(path), name


def test_pages_20_sticker_url_varies_on_accept(web, session):
    token = web.mint(1)[0].strip()
    url = web.root.url("/q/%s/" % token)
    for h in ({"Accept": HTML_ACCEPT}, {"Accept": "application/json"}):
        r = session.get(url, headers=h, timeout=10)
        assert "accept" in r.headers.get("Vary", "").lower(), h


def test_pages_21_page_urls_redirect_to_the_slash_form(web, session):
    token = web.mint(1)[0].strip()
    for path in ("/q/%s" % token, "/inbox", "/api/docs", "/api/redoc"):
        r = session.get(web.back.url(path), allow_redirects=False,
                        headers={"Accept": HTML_ACCEPT}, timeout=10)
        assert r.status_code in (301, 308), path
        assert r.headers["Location"].endswith(web.back.mount + path + "/")
