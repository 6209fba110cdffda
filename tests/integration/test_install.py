"""`make install DESTDIR=...`: the tree it makes, the systemd unit (systemd-analyze verify),
the manual pages, the default configuration, --version/--help, and the readiness
notification pigeond sends to systemd (Type=notify)."""

import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

import pigeon_harness as H

REPO = Path(__file__).resolve().parents[2]
VERSION = re.search(r'#define PIGEON_VERSION "([^"]+)"',
                    (REPO / "src/core/version.h").read_text()).group(1)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300,
                          env=kw.pop("env", H.sanitizer_env()), **kw)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """make install into a fresh DESTDIR, reusing the build under test (nothing recompiled)."""
    dest = tmp_path_factory.mktemp("destdir")
    mode = "asan" if H.BUILD.name == "asan" else "release"
    p = run(["make", "--no-print-directory", "-C", str(REPO), "install", "DESTDIR=%s" % dest,
             "PREFIX=/usr", "MODE=%s" % mode, "BUILD=%s" % H.BUILD])
    assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()
    return dest


def test_tree_has_every_file(tree):
    want = {
        "usr/sbin/pigeond": 0o755, "usr/bin/pigeon": 0o755,
        "usr/share/man/man8/pigeond.8": 0o644, "usr/share/man/man1/pigeon.1": 0o644,
        "usr/share/man/man5/pigeon.conf.5": 0o644,
        "lib/systemd/system/pigeond.service": 0o644, "usr/lib/sysusers.d/pigeon.conf": 0o644,
        "etc/pigeon/pigeon.conf": 0o640, "etc/fail2ban/filter.d/pigeon.conf": 0o644,
        "etc/fail2ban/jail.d/pigeon.conf": 0o644, "usr/share/doc/pigeon/config.md": 0o644,
        "usr/share/pigeon/www/mail/index.html": 0o644, "usr/share/pigeon/www/mail/app.js": 0o644,
    }
    for path, mode in want.items():
        st = os.stat(tree / path)
        assert st.st_mode & 0o777 == mode, "%s has mode %o" % (path, st.st_mode & 0o777)


def test_installed_config_is_not_overwritten(tree):
    conf = tree / "etc/pigeon/pigeon.conf"
    conf.write_text(conf.read_text() + "# edited by the administrator\n")
    mode = "asan" if H.BUILD.name == "asan" else "release"
    p = run(["make", "--no-print-directory", "-C", str(REPO), "install", "DESTDIR=%s" % tree,
             "PREFIX=/usr", "MODE=%s" % mode, "BUILD=%s" % H.BUILD])
    assert p.returncode == 0, p.stderr.decode()
    assert conf.read_text().endswith("# edited by the administrator\n")
    assert "keeping" in p.stdout.decode()


def test_versions_and_help(tree):
    for prog, name in (("usr/sbin/pigeond", "pigeond"), ("usr/bin/pigeon", "pigeon")):
        for opt in ("--version", "-V"):
            p = run([str(tree / prog), opt])
            assert p.returncode == 0 and p.stdout.decode() == "%s %s\n" % (name, VERSION)
    p = run([str(tree / "usr/sbin/pigeond"), "--help"])
    assert p.returncode == 0
    for opt in ("--config FILE", "--test", "--version", "/etc/pigeon/pigeon.conf"):
        assert opt in p.stdout.decode()
    p = run([str(tree / "usr/sbin/pigeond"), "--bogus"])
    assert p.returncode == 2 and b"usage: pigeond" in p.stderr


def test_default_config_is_valid_and_uses_standard_ports(tree):
    conf = tree / "etc/pigeon/pigeon.conf"
    p = run([str(tree / "usr/sbin/pigeond"), "-t", "-c", str(conf)])
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout.decode() == "%s: ok\n" % conf
    text = conf.read_text()
    ports = sorted({int(m) for m in re.findall(r"^listen = \S+:(\d+)$", text, re.M)})
    assert ports == [25, 53, 110, 143, 465, 587, 993, 995]
    assert re.search(r"^data_dir = /var/lib/pigeon$", text, re.M)


def test_systemd_analyze_verify_accepts_the_unit(tree, tmp_path):
    unit = (tree / "lib/systemd/system/pigeond.service").read_text()
    for key in ("Type=notify", "Restart=on-failure", "NoNewPrivileges=yes",
                "ProtectSystem=strict", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                "ReadWritePaths=/var/lib/pigeon", "User=pigeon"):
        assert re.search("^%s$" % re.escape(key), unit, re.M), key
    # verify checks that ExecStart= programs exist: point them into the DESTDIR tree.
    local = tmp_path / "pigeond.service"
    local.write_text(unit.replace("/usr/sbin/", "%s/usr/sbin/" % tree)
                     .replace("/usr/bin/", "%s/usr/bin/" % tree))
    p = run(["systemd-analyze", "verify", "--man=no", str(local)])
    out = p.stdout.decode() + p.stderr.decode()
    assert p.returncode == 0 and out == "", out
    # The check can fail: an unknown directive is reported.
    local.write_text(local.read_text().replace("NoNewPrivileges", "NoNewPrivilege"))
    p = run(["systemd-analyze", "verify", "--man=no", str(local)])
    assert b"Unknown key 'NoNewPrivilege' in section [Service]" in p.stdout + p.stderr


def test_manual_pages_render_without_warnings(tree):
    for page, must in (("man8/pigeond.8", "SIGHUP"), ("man1/pigeon.1", "queue list"),
                       ("man5/pigeon.conf.5", "primary_domain")):
        p = run(["man", "--warnings", "--no-hyphenation", "-l",
                 str(tree / "usr/share/man" / page)], env=dict(os.environ, MANWIDTH="100"))
        assert p.returncode == 0 and p.stderr.decode() == "", p.stderr.decode()
        assert must in re.sub(".\x08", "", p.stdout.decode())  # no overstrike bold


def test_readiness_notification(new_daemon, tmp_path):
    """pigeond sends READY=1 once its sockets are bound and STOPPING=1 on SIGTERM."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(H.START_TIMEOUT)
    d = new_daemon(start=False)
    env = H.sanitizer_env()
    env["NOTIFY_SOCKET"] = path
    d.log_file = open(d.log_path, "ab")
    d.proc = subprocess.Popen([str(H.PIGEOND), "-c", d.conf], stdout=d.log_file,
                              stderr=subprocess.STDOUT, env=env)
    assert sock.recv(4096) == b"READY=1"
    socket.create_connection(("127.0.0.1", d.smtp_port), timeout=5).close()
    d.signal(signal.SIGTERM)
    assert sock.recv(4096) == b"STOPPING=1"
    assert d.wait_exit(60) == 0
    sock.close()


INSIDE = textwrap.dedent("""
    import json, os, socket, ssl, subprocess, sys, time
    pigeond, conf, log = sys.argv[1:4]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    d = subprocess.Popen([pigeond, "-c", conf], stderr=open(log, "ab"))
    deadline = time.monotonic() + 120
    while b"pigeond ready" not in open(log, "rb").read():
        assert d.poll() is None and time.monotonic() < deadline, open(log).read()
        time.sleep(0.05)
    out = {"uids": {}, "greetings": {}}
    for task in os.listdir("/proc/%d/task" % d.pid):
        status = open("/proc/%d/task/%s/status" % (d.pid, task)).read()
        name = status.split("\\n", 1)[0].split(":", 1)[1].strip()
        uids = [int(x) for x in status.split("Uid:", 1)[1].split("\\n", 1)[0].split()]
        caps = status.split("CapEff:", 1)[1].split("\\n", 1)[0].strip()
        out["uids"][task] = [name, uids, caps]
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for port, tls in ((25, 0), (587, 0), (465, 1), (110, 0), (143, 0), (995, 1), (993, 1)):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        if tls:
            s = ctx.wrap_socket(s)
        out["greetings"][port] = s.recv(200).decode(errors="replace").split("\\r\\n")[0]
        s.close()
    q = bytes.fromhex("12340000000100000000000003777777096861" "6d627572676572036564750000010001")
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(30)
    u.sendto(q, ("127.0.0.1", 53))
    out["dns"] = u.recv(512).hex()
    d.terminate()
    out["rc"] = d.wait(60)
    print(json.dumps(out))
""")


def test_installed_pigeond_started_as_root_serves_as_its_user(tree):
    """The installed tree, started as root on the standard ports (in a network namespace of
    its own): every thread runs as [server] user with no capabilities, the data files are
    that user's, and every port answers."""
    assert os.geteuid() == 0, "this check starts pigeond as root"
    top = Path(tempfile.mkdtemp(prefix="pigeon-priv-"))   # nobody must reach the data dir
    try:
        top.chmod(0o755)
        data = top / "data"
        conf = top / "pigeon.conf"
        listen = lambda port: "127.0.0.1:%d" % port
        conf.write_text(H._render_conf({
            "server": {"hostname": H.HOSTNAME, "primary_domain": H.DOMAIN,
                       "data_dir": str(data), "user": "nobody"},
            "smtp": {"listen": listen(25)}, "submission": {"listen": listen(587)},
            "submissions": {"listen": listen(465)},
            "pop3": {"listen": listen(110)}, "pop3s": {"listen": listen(995)},
            "imap": {"listen": listen(143)}, "imaps": {"listen": listen(993)},
            "dns": {"listen": listen(53)},
            "zone hamburger.edu": {"file": str(REPO / "etc/zones/hamburger.edu.zone")},
        }))
        pigeon = [str(tree / "usr/bin/pigeon"), "-c", str(conf)]
        # The tool run as root works as the daemon's user too: its files are nobody's.
        assert run(pigeon + ["domain", "add", H.DOMAIN]).returncode == 0
        nobody = pwd.getpwnam("nobody")
        assert (data / "pigeon.db").stat().st_uid == nobody.pw_uid
        p = run(["unshare", "-n", sys.executable, "-c", INSIDE, str(tree / "usr/sbin/pigeond"),
                 str(conf), str(top / "pigeond.log")])
        log = (top / "pigeond.log").read_text()
        assert p.returncode == 0, p.stderr.decode() + log
        out = json.loads(p.stdout)
        assert "running as user nobody (uid %d)" % nobody.pw_uid in log
        for task, (name, uids, caps) in out["uids"].items():
            assert uids == [nobody.pw_uid] * 4, (task, name, uids)
            assert int(caps, 16) == 0, (task, name, caps)
        assert len(out["uids"]) >= 4       # main, 2 workers, committer, pools...
        g = out["greetings"]
        assert g["25"].startswith("220 ") and g["587"].startswith("220 ")
        assert g["465"].startswith("220 ")
        assert g["110"].startswith("+OK") and g["995"].startswith("+OK")
        assert g["143"].startswith("* OK") and g["993"].startswith("* OK")
        assert out["dns"][4:8] == "8400"   # a response, AA, NOERROR
        assert out["rc"] == 0
        for f in ("pigeon.db", "blobs", "tmp", "tls/key.pem"):
            assert (data / f).stat().st_uid == nobody.pw_uid, f
    finally:
        shutil.rmtree(top, ignore_errors=True)
