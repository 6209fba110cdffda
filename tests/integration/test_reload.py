"""`pigeon reload` and `pigeon dns reload` wait for the running pigeond's answer on its control
socket (DATA/pigeond.ctl): exit 0 with each zone's serial when everything reloaded, exit 1 with
the daemon's reason otherwise (a zone file's file:line error, a configuration error as
`pigeon check-config` words it, a certificate that does not load); a daemon that is not
running is said so; garbage on the control socket gets an error and the daemon stays up."""

import os
import socket

import pytest

import dns_auth_helpers as A
import pigeon_harness as H

ZONE = """$ORIGIN reload.test.
$TTL 3600
@   SOA ns1 hostmaster %d 7200 900 1209600 300
@   NS  ns1
ns1 A   127.0.0.1
www A   192.0.2.%d
"""


@pytest.fixture
def auth(tmp_path):
    d = A.auth_daemon(tmp_path / "auth", {"reload.test": ZONE % (1, 1)})
    d.setup()
    d.start()
    H.wait_file(os.path.join(d.data_dir, "pigeond.ctl"))
    yield d
    report = A.finish(d)
    assert report is None, report


def www(d):
    return A.query(d.dns_port, "www.reload.test", "A").answer[0][0].to_text()


def test_reload_reports_the_new_serial(auth):
    auth.zone_files["reload.test"].write_text(ZONE % (7, 7))
    p = auth.cli("reload")
    out = p.stdout.decode()
    assert "zone reload.test: serial 7" in out
    assert out.rstrip().endswith("pigeond: reloaded")
    assert p.stderr == b""
    # the answer came after the zone was swapped in: no waiting needed
    assert www(auth) == "192.0.2.7"
    # once more without a change: still success, the serial said unchanged
    out = auth.cli("dns", "reload").stdout.decode()
    assert "zone reload.test: serial 7, unchanged" in out


def test_reload_bad_zone_fails_with_file_line(auth):
    path = auth.zone_files["reload.test"]
    path.write_text(ZONE % (8, 8) + "bad  A   300.1.2.3\n")
    for cmd in (("reload",), ("dns", "reload")):
        p = auth.cli(*cmd, check=False)
        err = p.stderr.decode()
        assert p.returncode == 1, (p.stdout, err)
        assert ("pigeon: zone reload.test not reloaded: %s:7:" % path) in err, err
        assert "(the previous version keeps serving)" in err
        assert err.rstrip().endswith("pigeon: reload failed")
    assert www(auth) == "192.0.2.1"  # the old version still serves
    path.write_text(ZONE % (9, 9))
    assert auth.cli("reload").returncode == 0
    assert www(auth) == "192.0.2.9"


def test_reload_bad_config_fails_like_check_config(auth):
    conf = open(auth.conf).read()
    with open(auth.conf, "a") as f:
        f.write("\n[server]\nno_such_key = 1\n")
    want = auth.cli("check-config", check=False).stderr.decode().strip()
    assert want.startswith("pigeon: %s:" % auth.conf)  # file:line
    reason = want[len("pigeon: "):]
    auth.zone_files["reload.test"].write_text(ZONE % (5, 5))
    # the tool checks first, as pigeond would
    p = auth.cli("reload", check=False)
    err = p.stderr.decode()
    assert p.returncode == 1
    assert err.startswith(want + "\npigeon: nothing reloaded"), (want, err)
    # pigeond itself refuses the same file with the same words (SIGHUP, or a request that
    # reaches it anyway): nothing is reloaded
    assert ctl_exchange(auth, b"reload\n") == \
        "error configuration not valid, nothing reloaded: %s\nfailed 1\n" % reason
    assert www(auth) == "192.0.2.1"
    open(auth.conf, "w").write(conf)
    assert "zone reload.test: serial 5" in auth.cli("reload").stdout.decode()
    assert www(auth) == "192.0.2.5"


def test_reload_bad_certificate_fails(tmp_path):
    cert, key = tmp_path / "live.crt", tmp_path / "live.key"
    H.subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=mail.hamburger.edu",
                      "-days", "2", "-keyout", str(key), "-out", str(cert)],
                     check=True, capture_output=True)
    d = H.make_daemon(tmp_path / "d", server={"tls_cert": str(cert), "tls_key": str(key)})
    try:
        H.wait_file(os.path.join(d.data_dir, "pigeond.ctl"))
        p = d.cli("reload")
        assert "TLS: certificate sha256 " in p.stdout.decode()
        key.write_text("not a key\n")
        p = d.cli("reload", check=False)
        err = p.stderr.decode()
        assert p.returncode == 1
        assert "pigeon: TLS: certificate not reloaded, the previous one stays:" in err
        assert "live.key" in err
    finally:
        report = A.finish(d)
    assert report is None, report


def test_not_running(tmp_path):
    d = A.auth_daemon(tmp_path / "d", {"reload.test": ZONE % (1, 1)})
    d.setup()
    for cmd in (("reload",), ("dns", "reload")):
        p = d.cli(*cmd, check=False)
        assert p.returncode == 1
        assert b"pigeond is not running (nothing listens on" in p.stderr
    d.start()
    H.wait_file(os.path.join(d.data_dir, "pigeond.ctl"))
    assert A.finish(d) is None
    assert not os.path.exists(os.path.join(d.data_dir, "pigeond.ctl"))  # removed at exit
    assert b"not running" in d.cli("reload", check=False).stderr


def ctl_exchange(d, data):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(os.path.join(d.data_dir, "pigeond.ctl"))
        s.sendall(data)
        out = b""
        while True:
            b = s.recv(4096)
            if not b:
                return out.decode()
            out += b


def test_control_socket_garbage(auth):
    # a word no service takes (services answer their own words: "nta ...")
    assert ctl_exchange(auth, b"status\n") == "error unknown request\nfailed 1\n"
    assert ctl_exchange(auth, b"nta list\n") == \
        "error the resolver does not run (no [resolver] listen address)\nfailed 1\n"
    assert ctl_exchange(auth, b"x" * 5000) == "error request line too long\nfailed 1\n"
    assert ctl_exchange(auth, b"rel\x00oad\n") == "error bad request line\nfailed 1\n"
    # a client that leaves before the answer does not hurt the daemon
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(os.path.join(auth.data_dir, "pigeond.ctl"))
        s.sendall(b"reload\n")
    assert ctl_exchange(auth, b"reload\n").endswith("ok\n")
    assert os.stat(os.path.join(auth.data_dir, "pigeond.ctl")).st_mode & 0o777 == 0o600
    assert www(auth) == "192.0.2.1"


def test_reload_applies_log_level(auth):
    auth.sections["server"]["log_level"] = "warn"
    auth.write_conf()
    out = auth.cli("reload").stdout.decode()
    assert "applied: [server] log_level" in out
    start = auth.log_size()
    auth.zone_files["reload.test"].write_text(ZONE % (3, 3))
    auth.cli("reload")
    assert www(auth) == "192.0.2.3"
    assert " info " not in auth.log_tail(start=start)  # info lines are no longer written
    auth.sections["server"]["log_level"] = "info"
    auth.write_conf()
    assert "applied: [server] log_level" in auth.cli("reload").stdout.decode()
    auth.wait_log(r"info dns: zone reload\.test: serial 3|info control: reload answered",
                  start=start)
