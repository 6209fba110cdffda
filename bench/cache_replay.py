#!/usr/bin/env python3
"""bench/cache_replay.py — the client side of bench/cache.sh.

  zipf PROXY_PORT MODE ORIGIN_PORT N_OBJECTS N_REQUESTS SEED
      replays N_REQUESTS GETs of /obj/K (K Zipf-distributed, s = 0.9) through the cache,
      MODE "forward" (absolute-form to an HTTP proxy) or "reverse" (origin-form); prints the
      number of requests that reached the origin is measured by the caller (nginx's log).
  latency PORT MODE ORIGIN_PORT N
      N requests for distinct URLs (every one a miss); prints the median milliseconds.
"""
import bisect
import http.client
import random
import statistics
import sys
import time


def zipf_cdf(n, s):
    w = [1.0 / (k ** s) for k in range(1, n + 1)]
    total = sum(w)
    acc, cdf = 0.0, []
    for x in w:
        acc += x / total
        cdf.append(acc)
    return cdf


def target(mode, origin_port, path):
    return "http://127.0.0.1:%d%s" % (origin_port, path) if mode == "forward" else path


def main():
    cmd, port, mode, origin_port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    if cmd == "zipf":
        n, reqs, seed = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
        cdf = zipf_cdf(n, 0.9)
        rnd = random.Random(seed)
        for _ in range(reqs):
            k = bisect.bisect_left(cdf, rnd.random()) + 1
            c.request("GET", target(mode, origin_port, "/obj/%d" % min(k, n)))
            r = c.getresponse()
            r.read()
            if r.status != 200:
                sys.exit("status %d" % r.status)
        return
    if cmd == "latency":
        n = int(sys.argv[5])
        tag = int(time.time() * 1000)
        lat = []
        for i in range(n):
            t0 = time.perf_counter()
            c.request("GET", target(mode, origin_port, "/small.html?m=%d.%d" % (tag, i)))
            r = c.getresponse()
            r.read()
            lat.append((time.perf_counter() - t0) * 1000)
        print("%.3f" % statistics.median(lat))
        return
    sys.exit("unknown command")


main()
