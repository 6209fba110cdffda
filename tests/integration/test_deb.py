"""Debian packaging and `make install` on a live system.

`scripts/build-deb.sh` (`make deb`) runs dpkg-buildpackage -us -uc -b on a scratch copy of
the tree, reusing build/release; the .deb it makes is checked: control fields (library
dependencies found by dh_shlibdeps), the file list with modes, conffiles, the maintainer
scripts (user, state directory, systemd enable/start), the unit's paths, and the programs
extracted from it run. Then `make install` without DESTDIR, as root, inside a mount
namespace of its own where /etc is a copy, and /usr/local and /var/lib are empty tmpfs: the
pigeon user, /var/lib/pigeon and the configuration's group are made as on a real machine,
and nothing of it reaches the host."""

import os
import re
import subprocess
from pathlib import Path

import pytest

import pigeon_harness as H

REPO = Path(__file__).resolve().parents[2]
VERSION = re.search(r'#define PIGEON_VERSION "([^"]+)"',
                    (REPO / "src/core/version.h").read_text()).group(1)


def run(cmd, timeout=1800, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                       **kw)
    return p.returncode, p.stdout.decode(errors="replace")


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    out = tmp_path_factory.mktemp("deb")
    rc, log = run([str(REPO / "scripts/build-deb.sh"), str(out)])
    assert rc == 0, log[-6000:]
    path = out / ("pigeon_%s_amd64.deb" % VERSION)
    assert path.exists(), sorted(os.listdir(out))
    return path


def deb_field(deb, name):
    rc, out = run(["dpkg-deb", "-f", str(deb), name])
    assert rc == 0, out
    return out.strip()


def test_control_fields(deb):
    assert deb_field(deb, "Package") == "pigeon"
    assert deb_field(deb, "Version") == VERSION
    depends = deb_field(deb, "Depends")
    for lib in ("libevent-2.1-7", "libevent-openssl-2.1-7", "libsqlite3-0", "libssl3",
                "libidn2-0", "libnghttp2-14", "libcrypt1", "adduser", "ca-certificates",
                "publicsuffix"):
        assert lib in depends, depends


def test_file_list_and_modes(deb):
    rc, out = run(["dpkg-deb", "-c", str(deb)])
    assert rc == 0, out
    listed = {}
    for line in out.splitlines():
        perms, owner, _size, _date, _time, name = line.split(None, 5)
        listed[name.lstrip(".")] = (perms, owner)
    want = {
        "/usr/sbin/pigeond": "-rwxr-xr-x", "/usr/bin/pigeon": "-rwxr-xr-x",
        "/lib/systemd/system/pigeond.service": "-rw-r--r--",
        "/usr/lib/sysusers.d/pigeon.conf": "-rw-r--r--",
        "/etc/pigeon/pigeon.conf": "-rw-r-----",
        "/etc/fail2ban/filter.d/pigeon.conf": "-rw-r--r--",
        "/etc/fail2ban/jail.d/pigeon.conf": "-rw-r--r--",
        "/usr/share/man/man8/pigeond.8.gz": "-rw-r--r--",
        "/usr/share/man/man1/pigeon.1.gz": "-rw-r--r--",
        "/usr/share/man/man5/pigeon.conf.5.gz": "-rw-r--r--",
        "/usr/share/doc/pigeon/copyright": "-rw-r--r--",
    }
    for name, perms in want.items():
        assert name in listed, name
        assert listed[name] == (perms, "root/root"), (name, listed[name])
    # nothing from the build or the tests, nothing under /usr/local or /var
    assert not [n for n in listed if n.startswith(("/usr/local", "/var", "/build"))]


def test_control_scripts(deb, tmp_path):
    ctl = tmp_path / "DEBIAN"
    rc, out = run(["dpkg-deb", "-e", str(deb), str(ctl)])
    assert rc == 0, out
    assert (ctl / "conffiles").read_text().split() == [
        "/etc/fail2ban/filter.d/pigeon.conf", "/etc/fail2ban/jail.d/pigeon.conf",
        "/etc/pigeon/pigeon.conf"]
    postinst = (ctl / "postinst").read_text()
    for script in ("postinst", "postrm", "prerm"):
        rc, out = run(["sh", "-n", str(ctl / script)])
        assert rc == 0, (script, out)
    assert "systemd-sysusers pigeon.conf" in postinst
    assert "adduser --system --group --home /var/lib/pigeon" in postinst
    assert "install -d -o pigeon -g pigeon -m 0750 /var/lib/pigeon" in postinst
    assert "chown root:pigeon /etc/pigeon/pigeon.conf" in postinst
    # dh_installsystemd: enabled on first install, started (restarted on upgrade)
    assert "deb-systemd-helper enable 'pigeond.service'" in postinst
    assert "deb-systemd-invoke $_dh_action 'pigeond.service'" in postinst


def test_extracted_programs_run(deb, tmp_path):
    root = tmp_path / "root"
    rc, out = run(["dpkg-deb", "-x", str(deb), str(root)])
    assert rc == 0, out
    unit = (root / "lib/systemd/system/pigeond.service").read_text()
    assert "ExecStart=/usr/sbin/pigeond -c /etc/pigeon/pigeon.conf" in unit
    assert "ExecReload=/usr/bin/pigeon -c /etc/pigeon/pigeon.conf reload" in unit
    rc, out = run([str(root / "usr/sbin/pigeond"), "--version"])
    assert (rc, out) == (0, "pigeond %s\n" % VERSION)
    rc, out = run([str(root / "usr/bin/pigeon"), "--version"])
    assert rc == 0 and VERSION in out
    # the shipped configuration is one pigeond accepts (paths as in the package)
    conf = root / "etc/pigeon/pigeon.conf"
    rc, out = run([str(root / "usr/sbin/pigeond"), "-t", "-c", str(conf)])
    assert rc == 0, out


# Inside `unshare -m` (private propagation): /etc becomes a copy, /usr/local and /var/lib
# empty tmpfs; each is checked before `make install` runs, so a failed mount can never let
# it write to the host.
LIVE_INSTALL = r"""
set -eu
cp -a /etc/. "$ETC_COPY/"
: > "$ETC_COPY/.pigeon-test-copy"
mount --bind "$ETC_COPY" /etc
mount -t tmpfs tmpfs /usr/local
mount -t tmpfs tmpfs /var/lib
test -e /etc/.pigeon-test-copy
test "$(stat -f -c %T /usr/local)" = tmpfs
test "$(stat -f -c %T /var/lib)" = tmpfs
test -z "$(ls -A /usr/local)"
make --no-print-directory -C "$REPO" install MODE="$MODE" BUILD="$BUILD"
echo "== user"; getent passwd pigeon
echo "== state"; stat -c '%n %U:%G %a' /var/lib/pigeon /etc/pigeon/pigeon.conf
echo "== files"; find /usr/local -type f | sort
echo "== check"; /usr/local/sbin/pigeond -t -c /etc/pigeon/pigeon.conf
echo "== unit"; grep '^Exec' /usr/local/lib/systemd/system/pigeond.service
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a private mount namespace")
def test_make_install_on_a_live_system(tmp_path):
    etc_copy = tmp_path / "etc"
    etc_copy.mkdir()
    host_passwd = Path("/etc/passwd").read_text()
    mode = "asan" if H.BUILD.name == "asan" else "release"
    env = dict(os.environ, ETC_COPY=str(etc_copy), REPO=str(REPO), MODE=mode, BUILD=str(H.BUILD))
    rc, out = run(["unshare", "-m", "sh", "-c", LIVE_INSTALL], env=env)
    assert rc == 0, out[-6000:]
    sections = dict(re.findall(r"^== (\w+)\n(.*?)(?=^== |\Z)", out, re.S | re.M))
    user = sections["user"].strip().split(":")
    assert user[0] == "pigeon" and user[5:] == ["/var/lib/pigeon", "/usr/sbin/nologin"]
    assert sections["state"].splitlines() == ["/var/lib/pigeon pigeon:pigeon 750",
                                              "/etc/pigeon/pigeon.conf root:pigeon 640"]
    files = sections["files"].split()
    for f in ("/usr/local/sbin/pigeond", "/usr/local/bin/pigeon",
              "/usr/local/share/man/man8/pigeond.8", "/usr/local/share/man/man1/pigeon.1",
              "/usr/local/share/man/man5/pigeon.conf.5",
              "/usr/local/lib/systemd/system/pigeond.service",
              "/usr/local/lib/sysusers.d/pigeon.conf"):
        assert f in files, (f, files)
    assert "/etc/pigeon/pigeon.conf: ok" in sections["check"]
    assert "ExecStart=/usr/local/sbin/pigeond -c /etc/pigeon/pigeon.conf" in sections["unit"]
    # the host saw none of it
    assert Path("/etc/passwd").read_text() == host_passwd
    assert not Path("/usr/local/sbin/pigeond").exists()
    assert not Path("/var/lib/pigeon").exists()
    assert (etc_copy / "pigeon" / "pigeon.conf").exists()  # it went to the copy


# `dpkg -i` for real, in a throwaway root: inside `unshare -m -n`, /usr, /etc and /var are
# overlays whose upper layers live under the test's directory (so dpkg's database, the pigeon
# user, the unit's enablement and the installed files all land there), and the network is
# the namespace's own loopback (the package's configuration listens on 25, 53, 110 ...).
# Each overlay is checked before dpkg runs. systemd is not running here, so
# deb-systemd-invoke does not start the unit: pigeond is started as the unit's ExecStart
# would run it, served to real clients, stopped; then `dpkg -r` and `dpkg --purge`.
DPKG_INSTALL = r"""
set -eu
ip link set lo up
for d in usr etc var; do
    mkdir -p "$T/$d.upper" "$T/$d.work"
    mount -t overlay overlay -o "lowerdir=/$d,upperdir=$T/$d.upper,workdir=$T/$d.work" "/$d"
    test "$(stat -f -c %T /$d)" = overlayfs
done
echo "== install"; dpkg -i "$DEB" 2>&1
echo "== status"; dpkg-query -W -f '${Status}\n' pigeon
echo "== user"; getent passwd pigeon
echo "== state"; stat -c '%n %U:%G %a' /var/lib/pigeon /etc/pigeon/pigeon.conf
echo "== enabled"; readlink /etc/systemd/system/multi-user.target.wants/pigeond.service
echo "== check"; pigeond -t -c /etc/pigeon/pigeon.conf
sed -i 's/^log = syslog$/log = stderr/' /etc/pigeon/pigeon.conf
pigeon domain add example.org
printf 'hungry\n' | pigeon user add bob@example.org
/usr/sbin/pigeond -c /etc/pigeon/pigeon.conf > "$T/pigeond.log" 2>&1 &
pid=$!
i=0
until grep -q "pigeond ready" "$T/pigeond.log"; do
    i=$((i + 1)); [ $i -lt 600 ] || { cat "$T/pigeond.log"; exit 1; }
    kill -0 $pid || { cat "$T/pigeond.log"; exit 1; }
    sleep 0.1
done
echo "== uid"; for t in /proc/$pid/task/*; do awk '/^Uid:/ {print $2}' "$t/status"; done | sort -u
echo "== smtp"; swaks --server 127.0.0.1:25 --from alice@example.net --to bob@example.org \
    --header 'Subject: from the package' --body 'delivered by the .deb' 2>&1 | grep -E '^<[-~] +250 2.0.0'
echo "== pop3"; curl -sk 'pop3s://bob%40example.org:hungry@127.0.0.1:995/1' | grep -E '^(Subject|delivered)'
echo "== dns"; dig @127.0.0.1 -p 53 example.org SOA +noall +comments | grep -o 'status: [A-Z]*'
kill -TERM $pid; wait $pid
echo "== remove"; dpkg -r pigeon 2>&1
echo "== after remove"; ls /usr/sbin/pigeond /etc/pigeon/pigeon.conf 2>&1 || true
echo "== purge"; dpkg --purge pigeon 2>&1
echo "== after purge"; ls /etc/pigeon/pigeon.conf 2>&1 || true
dpkg-query -W -f '${Status}\n' pigeon 2>&1 || true
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for mount and network namespaces")
def test_dpkg_install_serve_remove(deb, tmp_path):
    env = dict(os.environ, T=str(tmp_path), DEB=str(deb))
    host_status = run(["dpkg-query", "-W", "-f", "${Status}", "pigeon"])
    rc, out = run(["unshare", "-m", "-n", "sh", "-c", DPKG_INSTALL], env=env, timeout=600)
    assert rc == 0, out[-6000:]
    s = dict(re.findall(r"^== ([\w ]+)\n(.*?)(?=^== |\Z)", out, re.S | re.M))
    assert s["status"].strip() == "install ok installed", out
    assert s["user"].split(":")[0] == "pigeon"
    assert s["state"].splitlines() == ["/var/lib/pigeon pigeon:pigeon 750",
                                       "/etc/pigeon/pigeon.conf root:pigeon 640"]
    assert s["enabled"].strip() == "/lib/systemd/system/pigeond.service", out
    assert "/etc/pigeon/pigeon.conf: ok" in s["check"]
    uids = s["uid"].split()
    assert uids and "0" not in uids, out  # every thread runs as pigeon
    assert " 250 2.0.0 Ok: queued as" in s["smtp"], out
    assert "Subject: from the package" in s["pop3"] and "delivered by the .deb" in s["pop3"]
    assert s["dns"].strip() == "status: REFUSED", out  # it answers: no zone is configured
    # remove keeps the conffile, purge takes it; the host never saw the package
    assert "No such file" in s["after remove"] and "/etc/pigeon/pigeon.conf\n" in \
        s["after remove"], out
    assert "No such file" in s["after purge"], out
    assert run(["dpkg-query", "-W", "-f", "${Status}", "pigeon"]) == host_status
    assert not Path("/usr/sbin/pigeond").exists()


# The same with systemd for real: only where systemd is PID 1 (a VM or a full container),
# because the unit is started on the host. The pytest process sits in a private network
# namespace (conftest.py), so the clients join PID 1's with nsenter.
def systemd_is_init():
    try:
        return Path("/proc/1/comm").read_text().strip() == "systemd"
    except OSError:
        return False


@pytest.mark.skipif(not systemd_is_init(), reason="systemd is not PID 1 on this machine")
def test_systemd_install_start_remove(deb):
    if run(["dpkg-query", "-W", "-f", "${Status}", "pigeon"])[1].startswith("install ok"):
        raise AssertionError("pigeon is already installed on this host: not touching it")
    host = ["nsenter", "-t", "1", "-n"]
    busy = run(host + ["ss", "-Hltn", "sport = :25"])[1].strip()
    assert not busy, "port 25 is taken on the host: %s" % busy
    try:
        rc, out = run(["dpkg", "-i", str(deb)])
        assert rc == 0, out
        rc, out = run(["systemctl", "is-active", "pigeond"])
        assert out.strip() == "active", run(["journalctl", "-u", "pigeond", "-n", "50"])[1]
        rc, out = run(host + ["swaks", "--server", "127.0.0.1:25", "--quit-after", "EHLO"])
        assert rc == 0 and "250" in out, out
        rc, out = run(["pigeon", "reload"])
        assert rc == 0 and out.rstrip().endswith("pigeond: reloaded"), out
    finally:
        rc, out = run(["dpkg", "--purge", "pigeon"])
    assert rc == 0, out
    assert run(["systemctl", "is-active", "pigeond"])[1].strip() != "active"


def test_lintian(deb):
    """lintian finds no error or warning (the overrides in debian/pigeon.lintian-overrides
    say why each is intended); its informational tags are printed by -I."""
    rc, out = run(["lintian", "--fail-on", "error,warning", str(deb)])
    assert rc == 0, out
    assert not [l for l in out.splitlines() if l[:2] in ("E:", "W:")], out
