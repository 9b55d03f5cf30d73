"""carinfo_dev: the private development instance of mod_carinfo.

One implementation serves both `make run` (``python3 -m devtools.carinfo_dev
serve``) and the integration tests (test/integration/conftest.py):

- build.py     the paths ./configure found (build.ini)
- instance.py  a private httpd + carinfo-relay from conf/dev.conf.in
- pg.py        a throw-away PostgreSQL server on a free loopback port
- errorlog.py  the error-log discipline of httpd's pyhttpd harness

Python 3.9+ standard library only (the tests add requests and pytest).
"""
