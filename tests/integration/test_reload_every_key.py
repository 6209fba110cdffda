"""Every key of the sample configuration (etc/pigeon.conf, every section), changed alone, is
named by `pigeon reload` (issue 12): "applied: [S] K", or "needs restart: [S] K (reason)" —
never silently ignored. pigeond runs the sample as `make run` does (scripts/sample-setup.sh,
then the file's own loopback ports, inside the suite's private network namespace); each key
is taken out of the file (or, where pigeond requires it, written differently), reloaded, and
put back."""

import re

import pytest

import dns_auth_helpers as A
import sample_instance as S

# A key pigeond cannot do without, written otherwise with the same meaning where it is a path.
REQUIRED = {("server", "hostname"): "mx.hamburger.edu",
            ("server", "primary_domain"): "example.org",
            ("server", "data_dir"): "./../var"}


def sample_keys(text):
    """[(section, key, line number)] of every key line, in file order."""
    out, section = [], None
    for i, line in enumerate(text.splitlines()):
        s = line.strip()
        if not s or s.startswith(("#", ";")):
            continue
        m = re.match(r"^\[(.+)\]$", s)
        if m:
            section = m.group(1)
            continue
        key = s.split("=", 1)[0].strip()
        out.append((section, key, i))
    return out


def alternative(section, key, value):
    if (section, key) in REQUIRED:
        return REQUIRED[(section, key)]
    if "/" in value and ":" not in value and not value.startswith("/"):
        return "./" + value  # the same path, written otherwise
    return None


@pytest.fixture
def sample(tmp_path):
    d, _ = S.start(tmp_path)
    yield d
    report = A.finish(d)
    assert report is None, report


def reload(d):
    p = d.cli("reload", check=False)
    return p.returncode, p.stdout.decode() + p.stderr.decode()


def named(out, section, key):
    """How the reload named [section] key: "applied", "restart" (with its reason), or None."""
    s, k = re.escape(section), re.escape(key)
    if re.search(r"^applied: \[%s\] %s$" % (s, k), out, re.M):
        return "applied"
    if re.search(r"^needs restart: \[%s\] %s \(\S.*\)$" % (s, k), out, re.M):
        return "restart"
    return None


def test_every_sample_key_is_applied_or_needs_a_restart(sample):
    d = sample
    conf = d.root / d.conf
    original = conf.read_text()
    lines = original.splitlines(keepends=True)
    keys = sample_keys(original)
    sections = {s for s, _, _ in keys}
    assert len(keys) > 40 and {"server", "smtp", "ftp", "dns", "http hamburger", "jmap",
                               "torrent", "proxy"} <= sections, keys
    seen = {}
    for section, key, i in keys:
        value = lines[i].split("=", 1)[1].strip()
        tries = [lines[:i] + lines[i + 1:]]  # the key left out
        alt = alternative(section, key, value)
        if alt is not None:
            tries.append(lines[:i] + ["%s = %s\n" % (key, alt)] + lines[i + 1:])
        how, outs = None, []
        for variant in tries:
            conf.write_text("".join(variant))
            rc, out = reload(d)
            outs.append(out)
            if "nothing reloaded" in out:  # pigeond would not start with it: try another
                assert rc != 0, out
                continue
            how = named(out, section, key)
            break
        assert how, "[%s] %s changed, and the reload did not name it:\n%s" % (
            section, key, "\n---\n".join(outs))
        # back to the sample: named again, the same way
        conf.write_text(original)
        rc, out = reload(d)
        assert named(out, section, key) == how, (section, key, how, out)
        seen[(section, key)] = how
        assert d.running, d.log_tail()
    # what the sample's keys are, as the docs' reload table says
    for k in [("server", "log_level"), ("smtp", "max_message_size"), ("ftp", "pasv_ports"),
              ("zone hamburger.edu", "dnssec"), ("http hamburger", "root"),
              ("resolver", "allow"), ("torrent", "watch_dir")]:
        assert seen[k] == "applied", (k, seen[k])
    for k in [("server", "workers"), ("smtp", "listen"), ("jmap", "enabled"),
              ("server", "data_dir")]:
        assert seen[k] == "restart", (k, seen[k])
