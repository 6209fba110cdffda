"""The sample instance that `make run` starts, laid out in a test's directory: etc/ holds the
sample configuration (etc/pigeon.conf), its root hints and zones as in the repository, www/mail
is the repository's webmail, scripts/sample-setup.sh runs there as `make run` runs it (so the
data lands in var/), and pigeond is started from that directory with `-c etc/pigeon.conf`.
The sample's fixed loopback ports are private to the suite's network namespace (conftest.py)."""

import shutil
import subprocess

import pigeon_harness as H

SAMPLE = H.REPO / "etc" / "pigeon.conf"
CONF = "etc/pigeon.conf"  # relative to the instance's directory, as `make run` passes it


def lay_out(root):
    """root becomes what the repository root is to `make run`: etc/ and www/mail."""
    etc = root / "etc"
    etc.mkdir(parents=True)
    shutil.copy(SAMPLE, etc / "pigeon.conf")
    shutil.copy(H.REPO / "etc" / "root.hints", etc / "root.hints")
    shutil.copytree(H.REPO / "etc" / "zones", etc / "zones")
    (root / "www").mkdir()
    (root / "www" / "mail").symlink_to(H.REPO / "www" / "mail")


def start(root, name="sample"):
    """Lays out root, runs scripts/sample-setup.sh in it and starts pigeond on the sample file.
    Returns (daemon, what sample-setup printed). The daemon's conf is the relative CONF: its
    cli() and start() run in root."""
    lay_out(root)
    d = H.Daemon(root, name=name)
    d.conf = CONF
    d.data_dir = str(root / "var")
    d.sections = {"server": {}}  # the file is the sample's, never rewritten
    d.ports = [2525, 2587, 2110, 2143, 2053, 8080]
    p = subprocess.run(["sh", str(H.REPO / "scripts" / "sample-setup.sh"), str(H.BUILD), CONF],
                       cwd=str(root), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=H.sanitizer_env(), timeout=120)
    out = p.stdout.decode()
    assert p.returncode == 0, out
    d.start()
    H.wait_file(str(root / "var" / "pigeond.ctl"))
    return d, out
