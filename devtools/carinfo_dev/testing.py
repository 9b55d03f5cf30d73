"""Pieces both pytest suites share (test/integration, test/web)."""
import requests


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
