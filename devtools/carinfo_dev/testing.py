"""Pieces both pytest suites share (test/integration, test/web)."""
import sys

import pytest
import requests

from devtools.carinfo_dev.build import Build, BuildError


def require_build():
    """The configured build, or the end of the session (exit status 3)
    when the tree is not configured or not built."""
    try:
        build = Build()
    except BuildError as e:
        pytest.exit("carinfo: %s" % e, returncode=3)
    missing = build.missing_binaries()
    if missing:
        pytest.exit("carinfo: not built: %s (run make)" % ", ".join(missing),
                    returncode=3)
    return build


def stop_all(instances):
    """Stops the instances, last started first, going on past failures
    (said on stderr)."""
    for inst in reversed(instances):
        try:
            inst.stop()
        except Exception as e:
            print("stopping %s: %s" % (inst.root, e), file=sys.stderr)


def new_session(test_name):
    """A requests.Session that ignores proxy settings and names the test
    (AP-Test-Name, logged in the access log)."""
    s = requests.Session()
    s.trust_env = False
    s.headers["AP-Test-Name"] = test_name
    return s


def mark_logs(instances):
    """Remembers where every instance's error log ends now."""
    for inst in instances:
        inst.errorlog.mark()


def log_problems(instances):
    """The unexpected error-log lines since mark_logs(), as one message,
    or None when there are none."""
    problems = []
    for inst in instances:
        missed = inst.errorlog.check()
        if missed:
            problems.append("%s:\n  %s" % (inst.error_log_path,
                                           "\n  ".join(missed)))
    if problems:
        return "unexpected error-log lines:\n" + "\n".join(problems)
    return None
