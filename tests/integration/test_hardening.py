"""Issue 10 item 10: the release binaries are built hardened (checksec: stack canaries,
FORTIFY_SOURCE, PIE, full RELRO, non-executable stack), and the files holding secrets are
owner-only: pigeon.db with its -wal/-shm (password hashes) and the TLS key, including a
database an older version left world-readable.

The release binaries are looked up in PIGEON_RELEASE_BUILD or build/release (`make check`
builds them before the integration tests)."""
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from pop3_helpers import deliver

RELEASE = Path(os.environ.get("PIGEON_RELEASE_BUILD",
                              Path(__file__).resolve().parents[2] / "build" / "release"))


@pytest.mark.parametrize("prog", ["pigeond", "pigeon"])
def test_release_binary_hardened(prog):
    path = RELEASE / prog
    assert path.exists(), "%s not built (run `make` first)" % path
    assert shutil.which("checksec"), "checksec not installed (scripts/install-deps.sh test)"
    p = subprocess.run(["checksec", "--output=json", "--file=%s" % path], capture_output=True,
                       check=True)
    report = next(iter(json.loads(p.stdout).values()))
    want = {"relro": "full", "canary": "yes", "nx": "yes", "pie": "yes", "fortify_source": "yes"}
    got = {k: report.get(k) for k in want}
    assert got == want, (prog, report)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_secret_files_owner_only(new_daemon):
    d = new_daemon(start=False)
    db = Path(d.data_dir) / "pigeon.db"
    os.chmod(db, 0o644)  # as an older version left it
    d.start()
    # A message makes the daemon write: the WAL and its index exist now.
    deliver(d, "bob@hamburger.edu", b"Subject: modes\r\n\r\nhello\r\n")
    for p in (db, Path(str(db) + "-wal"), Path(str(db) + "-shm"),
              Path(d.data_dir) / "tls" / "key.pem"):
        assert p.exists(), p
        assert mode(p) & 0o077 == 0, "%s is mode %o" % (p, mode(p))
