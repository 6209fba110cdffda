"""The zone-file corpus checked by BIND's named-checkzone and by `pigeon zone check`: both must
agree on which files are valid, files under valid/ must load and files under invalid/ must not.

Each *.zone file is for example.com unless it has a line "; origin: NAME". Files may $INCLUDE
*.inc files next to them; named-checkzone resolves $INCLUDE against its working directory, so it
runs in the file's directory (our reader resolves against the including file, the same here).

One deliberate difference: BIND only warns about out-of-zone data ("ignoring out-of-zone data")
and loads the rest; Pigeon rejects such a zone whole (issue 5). That warning counts as invalid.

Run: PIGEON_BUILD=$PWD/build/asan /usr/bin/python3 -m pytest -q tests/integration/test_zone_corpus.py
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("PIGEON_BUILD", REPO / "build" / "asan"))
PIGEON = BUILD / "pigeon"
CORPUS = REPO / "tests" / "dns" / "zones"
SAMPLES = REPO / "etc" / "zones"

SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:exitcode=86",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=87",
}


def zone_files(kind):
    return sorted((CORPUS / kind).glob("*.zone"))


def origin_of(path):
    m = re.search(r"^; origin: (\S+)\s*$", path.read_text(errors="replace"), re.M)
    return m.group(1) if m else "example.com"


def bind_verdict(path, origin):
    """(valid, output) according to named-checkzone."""
    exe = shutil.which("named-checkzone")
    if not exe:
        pytest.fail("named-checkzone not found: install bind9-utils (scripts/install-deps.sh)",
                    pytrace=False)
    p = subprocess.run([exe, origin, path.name], cwd=path.parent, capture_output=True,
                       text=True, timeout=60)
    out = p.stdout + p.stderr
    valid = p.returncode == 0 and "ignoring out-of-zone data" not in out
    return valid, out


def pigeon_verdict(path, origin):
    """(valid, stdout, stderr) according to `pigeon zone check`."""
    if not PIGEON.exists():
        pytest.fail("%s not built (run `make MODE=asan all`)" % PIGEON, pytrace=False)
    env = dict(os.environ, **SAN_ENV)
    env.pop("PIGEON_CONF", None)
    p = subprocess.run([str(PIGEON), "zone", "check", origin, str(path)], capture_output=True,
                       text=True, timeout=60, env=env)
    assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
    assert p.returncode in (0, 1), (p.returncode, p.stderr)
    if p.returncode == 0:
        assert re.fullmatch(r"ok: \d+ records\n", p.stdout), p.stdout
        assert p.stderr == ""
    else:
        # FILE:LINE: reason, naming the file (or an included one)
        assert re.match(r"^[^\n:]+:\d+: \S", p.stderr), p.stderr
    return p.returncode == 0, p.stdout, p.stderr


def test_corpus_size():
    assert len(zone_files("valid")) >= 15
    assert len(zone_files("invalid")) >= 15


@pytest.mark.parametrize("path", zone_files("valid"), ids=lambda p: p.name)
def test_valid_zone(path):
    origin = origin_of(path)
    bind_ok, bind_out = bind_verdict(path, origin)
    ours_ok, _, ours_err = pigeon_verdict(path, origin)
    assert bind_ok, "named-checkzone refuses a file in valid/:\n" + bind_out
    assert ours_ok, "pigeon refuses a file named-checkzone accepts:\n" + ours_err


@pytest.mark.parametrize("path", zone_files("invalid"), ids=lambda p: p.name)
def test_invalid_zone(path):
    origin = origin_of(path)
    bind_ok, bind_out = bind_verdict(path, origin)
    ours_ok, ours_out, ours_err = pigeon_verdict(path, origin)
    assert not bind_ok, "named-checkzone accepts a file in invalid/:\n" + bind_out
    assert not ours_ok, "pigeon accepts a file named-checkzone refuses:\n" + ours_out
    assert ours_err.startswith(str(path) + ":"), ours_err


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.zone")), ids=lambda p: p.name)
def test_sample_zones(path):
    """The zones the sample configuration serves load in both."""
    origin = path.name[: -len(".zone")]
    bind_ok, bind_out = bind_verdict(path, origin)
    ours_ok, _, ours_err = pigeon_verdict(path, origin)
    assert bind_ok, bind_out
    assert ours_ok, ours_err
