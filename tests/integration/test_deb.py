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
                "libidn2-0", "libnghttp2-14", "libcrypt1", "adduser", "publicsuffix"):
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
