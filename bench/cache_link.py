#!/usr/bin/env python3
"""The load and the report of bench/cache_link.sh (the lecture notes' access-link example).

run:   an open-loop Poisson stream of --rate requests/s for --duration seconds, each for a
       1 Mbit object: with probability --hit one of 20 popular objects (fetched once before,
       so a cache holds them), else an object asked for only once. Straight to --origin, or
       through --proxy (absolute-form requests). Writes every request's response time, the
       hit ratio seen (Cache-Status) and the access link's utilisation (octets received on
       --dev during the run, over duration x link speed) to --out (JSON).
plot:  an SVG of the response-time distributions (CDF) of the runs given, with their
       utilisation and median in the legend; written by hand, no plotting package needed.
table: the Markdown table of the runs given.
delay: a TCP relay (in the Internet's namespace, in front of the origin servers) that holds
       every octet for --ms milliseconds in each direction before passing it on: the
       "Internet delay" of the lecture notes, on a kernel without sch_netem. The delay is
       added to the data, not to the packets: TCP between the institution and the relay sees
       the access link's own round trip (its window and losses are those of the shaped link),
       and a connection's handshake is not delayed.
"""

import asyncio

import argparse
import http.client
import json
import random
import statistics
import sys
import threading
import time
from urllib.parse import urlsplit

HOT = 20


def rx_bytes(dev):
    with open("/sys/class/net/%s/statistics/rx_bytes" % dev) as f:
        return int(f.read())


def one(target, proxy, results, i, scheduled):
    """Fetches target (a path on the origin), records (i, seconds, hit, ok)."""
    o = urlsplit(target)
    host, port = (urlsplit(proxy).hostname, urlsplit(proxy).port) if proxy else \
        (o.hostname, o.port or 80)
    try:
        c = http.client.HTTPConnection(host, port, timeout=300)
        c.request("GET", target if proxy else o.path)
        r = c.getresponse()
        body = r.read()
        status = r.getheader("Cache-Status") or ""
        c.close()
        ok = r.status == 200 and len(body) == 125000
        results[i] = (time.monotonic() - scheduled, "; hit" in status, ok)
    except OSError as e:
        results[i] = (time.monotonic() - scheduled, False, False)
        print("request %d failed: %s" % (i, e), file=sys.stderr)


def run(a):
    rng = random.Random(15)
    if a.proxy:  # the cache holds the popular objects before the run
        for h in range(HOT):
            one("%s/hot/%d" % (a.origin, h), a.proxy, {}, 0, time.monotonic())
    times, t = [], 0.0
    while t < a.duration:
        t += rng.expovariate(a.rate)
        times.append(t)
    targets = []
    cold = 0
    for _ in times:
        if rng.random() < a.hit:
            targets.append("%s/hot/%d" % (a.origin, rng.randrange(HOT)))
        else:
            targets.append("%s/cold/%d" % (a.origin, cold))
            cold += 1
    results, threads = {}, []
    rx0 = rx_bytes(a.dev)
    start = time.monotonic()
    for i, (at, target) in enumerate(zip(times, targets)):
        delay = start + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # open loop: the schedule, not the answers, sets the pace
        th = threading.Thread(target=one, args=(target, a.proxy, results, i, start + at))
        th.start()
        threads.append(th)
    rx_at_end = rx_bytes(a.dev)  # octets that crossed during the arrival period
    for th in threads:
        th.join()
    elapsed = time.monotonic() - start
    rx1 = rx_bytes(a.dev)
    rt = [results[i][0] for i in range(len(times))]
    out = {
        "name": a.name,
        "requests": len(times),
        "failed": sum(1 for i in results if not results[i][2]),
        "hit_ratio": sum(1 for i in results if results[i][1]) / len(times),
        "utilisation": (rx_at_end - rx0) * 8 / (a.duration * a.link_mbps * 1e6),
        "utilisation_all": (rx1 - rx0) * 8 / (elapsed * a.link_mbps * 1e6),
        "median": statistics.median(rt),
        "mean": statistics.mean(rt),
        "p90": sorted(rt)[int(0.9 * len(rt))],
        "drain_seconds": elapsed - a.duration,
        "times": rt,
    }
    with open(a.out, "w") as f:
        json.dump(out, f)
    print("%s: %d requests, hit ratio %.2f, link utilisation %.0f%%, median %.3f s, p90 %.3f s"
          % (a.name, out["requests"], out["hit_ratio"], 100 * out["utilisation"],
             out["median"], out["p90"]), file=sys.stderr)


def table(paths):
    runs = [json.load(open(p)) for p in paths]
    print("| | " + " | ".join(r["name"] for r in runs) + " |")
    print("|---|" + "---:|" * len(runs))
    rows = [("requests (failed)", lambda r: "%d (%d)" % (r["requests"], r["failed"])),
            ("hit ratio seen", lambda r: "%.2f" % r["hit_ratio"]),
            ("access link utilisation", lambda r: "%.0f%%" % (100 * r["utilisation"])),
            ("median response time", lambda r: "%.3f s" % r["median"]),
            ("mean response time", lambda r: "%.3f s" % r.get("mean", float("nan"))),
            ("90th percentile", lambda r: "%.3f s" % r["p90"])]
    for label, f in rows:
        print("| %s | %s |" % (label, " | ".join(f(r) for r in runs)))


async def delayed_copy(reader, writer, delay):
    """Copies reader to writer, each piece sent delay seconds after it was read (in order;
    reading goes on meanwhile, as a long link holds what is in flight)."""
    loop = asyncio.get_running_loop()
    q = asyncio.Queue()

    async def sender():
        while True:
            due, data = await q.get()
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    task = asyncio.create_task(sender())
    try:
        while True:
            data = await reader.read(65536)
            q.put_nowait((loop.time() + delay, data))
            if not data:
                break
        await task
    except (ConnectionError, OSError):
        task.cancel()


async def relay(listen, to, ms):
    lhost, lport = listen.rsplit(":", 1)
    thost, tport = to.rsplit(":", 1)

    async def on_client(cr, cw):
        try:
            sr, sw = await asyncio.open_connection(thost, int(tport))
        except OSError:
            cw.close()
            return
        await asyncio.gather(delayed_copy(cr, sw, ms / 1000), delayed_copy(sr, cw, ms / 1000))
        sw.close()
        cw.close()

    server = await asyncio.start_server(on_client, lhost, int(lport), backlog=4096)
    async with server:
        await server.serve_forever()


def plot(out, paths, title):
    runs = [json.load(open(p)) for p in paths]
    W, H, L, R, T, B = 640, 400, 70, 20, 40, 60
    xmax = max(max(r["times"]) for r in runs)
    xmax = max(0.5, float("%.1g" % (xmax * 1.05)) if xmax < 1 else int(xmax) + 1)
    colours = ["#c0392b", "#2471a3", "#1e8449", "#7d3c98"]

    def px(x):
        return L + (W - L - R) * x / xmax

    def py(y):
        return H - B - (H - T - B) * y

    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="22" font-size="14">%s</text>' % (L, title)]
    for k in range(11):  # axes and grid
        y = k / 10
        svg.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>'
                   % (L, py(y), W - R, py(y)))
        svg.append('<text x="%d" y="%.1f" text-anchor="end">%.1f</text>' % (L - 6, py(y) + 4, y))
    for k in range(11):
        x = xmax * k / 10
        svg.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>'
                   % (px(x), T, px(x), H - B))
        svg.append('<text x="%.1f" y="%d" text-anchor="middle">%.2g</text>'
                   % (px(x), H - B + 16, x))
    svg.append('<text x="%d" y="%d" text-anchor="middle">response time (s)</text>'
               % ((L + W - R) // 2, H - 20))
    svg.append('<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle">'
               'fraction of requests</text>' % ((T + H - B) // 2, (T + H - B) // 2))
    for n, r in enumerate(runs):
        ts = sorted(r["times"])
        pts = " ".join("%.1f,%.1f" % (px(t), py((i + 1) / len(ts))) for i, t in enumerate(ts))
        c = colours[n % len(colours)]
        svg.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (c, pts))
        ly = H - B - 12 - 18 * (len(runs) - 1 - n)  # lower right, clear of the curves
        svg.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>'
                   % (W - R - 330, ly - 4, W - R - 310, ly - 4, c))
        svg.append('<text x="%d" y="%d">%s: link %.0f%%, median %.2f s</text>'
                   % (W - R - 304, ly, r["name"], 100 * r["utilisation"], r["median"]))
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--origin", required=True)
    r.add_argument("--proxy")
    r.add_argument("--dev", required=True)
    r.add_argument("--rate", type=float, default=15)
    r.add_argument("--hit", type=float, default=0.4)
    r.add_argument("--duration", type=float, default=30)
    r.add_argument("--link-mbps", type=float, default=15)
    r.add_argument("--name", required=True)
    r.add_argument("--out", required=True)
    pl = sub.add_parser("plot")
    pl.add_argument("--out", required=True)
    pl.add_argument("--title", default="Response time, 15 Mbps access link, "
                    "15 requests/s of 1 Mbit")
    pl.add_argument("runs", nargs="+")
    t = sub.add_parser("table")
    t.add_argument("runs", nargs="+")
    d = sub.add_parser("delay")
    d.add_argument("--listen", required=True, help="address:port to accept on")
    d.add_argument("--to", required=True, help="address:port of the origin server")
    d.add_argument("--ms", type=float, required=True, help="one-way delay, milliseconds")
    a = p.parse_args()
    if a.cmd == "run":
        run(a)
    elif a.cmd == "plot":
        plot(a.out, a.runs, a.title)
    elif a.cmd == "delay":
        asyncio.run(relay(a.listen, a.to, a.ms))
    else:
        table(a.runs)


if __name__ == "__main__":
    main()
