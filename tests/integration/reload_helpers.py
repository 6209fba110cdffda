"""What the reload tests (test_reload_*.py) share: `pigeon reload` with the exit status it
must have, and stopping a daemon that must leave no sanitizer report."""

import dns_auth_helpers as A


def reload(d, ok=True):
    """`pigeon reload`, which returns once pigeond answered: its output (stdout, then
    stderr); exit 0 when ok, 1 otherwise."""
    p = d.cli("reload", check=False)
    out = p.stdout.decode() + p.stderr.decode()
    assert (p.returncode == 0) == ok, out
    return out


def finish(d):
    """Stops d (SIGTERM, then SIGKILL) and fails on a sanitizer report in its log."""
    report = A.finish(d)
    assert report is None, report
