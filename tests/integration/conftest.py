"""pytest glue for Pigeon's integration tests.

As root the run happens in a private network namespace (only loopback, which is up); set
PIGEON_NETNS=0 to stay in the host's namespace.

Fixtures:
  daemon       module-scoped pigeond in a fresh temp dir, users bob/hungry and alice/crepes.
               A test module may set PIGEON_CONF = {"server": {...}, "smtp": {...},
               "submission": {...}} to override config keys, and PIGEON_USERS = {addr: pw}
               for extra users.
  new_daemon   factory for dedicated daemons inside one test: new_daemon(smtp={...}, ...).
On a failure the log of every daemon that wrote something during the test is attached to the
report. Daemons are always killed at the end, and a sanitizer report in a daemon's log fails
the test that owned the daemon.
"""

import atexit
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import pigeon_harness as H  # noqa: E402

# Before any thread or child exists: the whole run moves into a network namespace of its
# own (as `unshare -n`), so the tests that bind fixed addresses (127.0.53.x/127.0.54.x, ports
# 25 and 53) and every free_port() cannot collide with another suite on the same machine.
NETNS = H.enter_private_network()

atexit.register(H.kill_all)


def pytest_report_header(config):
    return "pigeon: network namespace: %s" % NETNS


def _require_binaries():
    missing = H.binaries_missing()
    if missing:
        pytest.fail("Pigeon binaries not built: %s (run `make MODE=asan all` or set PIGEON_BUILD)"
                    % ", ".join(missing), pytrace=False)


def _finish(d):
    """Stops d (if still running) and fails on a sanitizer report in its log."""
    rc = None
    try:
        rc = d.stop()
    finally:
        d.kill9()
    report = d.sanitizer_report()
    if report:
        pytest.fail("sanitizer report in %s log:\n%s" % (d.name, report), pytrace=False)
    return rc


@pytest.fixture(scope="module")
def daemon(request, tmp_path_factory):
    _require_binaries()
    conf = getattr(request.module, "PIGEON_CONF", {})
    extra_users = getattr(request.module, "PIGEON_USERS", {})
    root = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    d = H.Daemon(root, name="pigeond[%s]" % request.module.__name__, **conf)
    try:
        d.setup()
        for addr, pw in extra_users.items():
            d.add_user(addr, pw)
        d.start()
        yield d
    finally:
        rc = _finish(d)
    # A clean SIGTERM exit is part of the contract; a test may have stopped it already.
    if rc is not None and rc != 0:
        pytest.fail("%s exited with %s on SIGTERM\n%s" % (d.name, rc, d.log_tail(8000)),
                    pytrace=False)


@pytest.fixture
def new_daemon(request, tmp_path_factory):
    _require_binaries()
    made = []

    def make(start=True, **kw):
        root = tmp_path_factory.mktemp(request.node.name[:40].replace("[", "_").replace("]", ""))
        d = H.Daemon(root, name="pigeond[%s#%d]" % (request.node.name, len(made)), **kw)
        made.append(d)
        d.setup()
        if start:
            d.start()
        return d

    yield make
    errors = []
    for d in made:
        try:
            _finish(d)
        except BaseException as e:  # collect, then report all
            errors.append(str(e))
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    item._pigeon_log_offsets = {id(d): d.log_size() for d in H.DAEMONS}
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    offsets = getattr(item, "_pigeon_log_offsets", {})
    for d in H.DAEMONS:
        start = offsets.get(id(d), 0)
        if d.log_size() > start:
            rep.sections.append(("%s log (%s)" % (d.name, d.log_path),
                                 d.log_tail(20000, start)))


def pytest_sessionfinish(session, exitstatus):
    H.kill_all()
