"""A large object through the Web cache with bounded memory (issue 15): a miss fetched once
from the origin and passed to three curl clients at the same time (the first, and two
collapsed behind it that read the object's file as it grows), then a hit from the store.
The daemon's peak RSS (VmHWM) may grow by at most 64 MiB over what it was before, so the
body can never have sat in memory. 200 MB by default, to keep `make check` quick;
PIGEON_CACHE_BIG=1 makes it 1 GB (the size the issue names)."""

import os
import subprocess

import cache_helpers as C

SIZE = 10**9 if os.environ.get("PIGEON_CACHE_BIG") == "1" else 200 * 10**6
BOUND = 64 << 20


def status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


def fetch(port, url):
    """curl through the proxy, the body hashed on the way: a Popen of the pipeline."""
    cmd = "curl -s -S --max-time 600 -x http://127.0.0.1:%d '%s' | sha256sum" % (port, url)
    return subprocess.Popen(["sh", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def digest(p):
    out, err = p.communicate(timeout=900)
    assert p.returncode == 0, err.decode()
    return out.split()[0].decode()


def test_large_object_bounded_rss(tmp_path, monkeypatch):
    # ASan keeps freed memory in a quarantine (256 MiB by default), which would count as RSS.
    monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:quarantine_size_mb=4")
    origin = C.Origin()
    p = C.ProxyDaemon(tmp_path, "pigeond[cache_big]",
                      proxy={"cache_disk": str(3 * SIZE), "max_object_size": str(2 * SIZE)})
    try:
        import threading
        arrived = threading.Event()
        origin.routes["/warm"] = {"headers": {"Cache-Control": "max-age=300"}, "body": b"w"}
        origin.routes["/big"] = {"headers": {"Cache-Control": "max-age=300"}, "size": SIZE,
                                 "arrived": arrived}
        p.get(origin.url("/warm"))
        pid = p.d.proc.pid
        base = status_kib(pid, "VmRSS")
        want = C.pattern_sha256(SIZE)
        first = fetch(p.port, origin.url("/big"))
        assert arrived.wait(60), "the origin was never asked"
        others = [fetch(p.port, origin.url("/big")) for _ in range(2)]
        assert [digest(x) for x in [first] + others] == [want] * 3
        assert origin.count("/big") == 1
        peak = status_kib(pid, "VmHWM")
        print("cache_big: %d octets x 3 clients: RSS before %d KiB, peak %d KiB" % (
            SIZE, base >> 10, peak >> 10))
        assert peak - base < BOUND, "RSS grew by %d MiB (base %d MiB, peak %d MiB)" % (
            (peak - base) >> 20, base >> 20, peak >> 20)
        assert digest(fetch(p.port, origin.url("/big"))) == want  # a hit, from the file
        assert origin.count("/big") == 1
        assert status_kib(pid, "VmHWM") - base < BOUND
    finally:
        C.finish(p.d)
        origin.close()
