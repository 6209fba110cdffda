#!/usr/bin/python3
"""Sums up one bench/torrent_dist.sh run's leecher timelines (-T DIR): where the time goes.

    bench/torrent_timeline.py DIR/pigeon-n16-*.log [--step 5] [--up MBIT]

One row per STEP seconds from the first line: how many leechers are done, their mean
progress, the leechers' summed upload (Mbit/s, and as a share of N x --up, the capacity the
bound counts on), what all of them get from the seed (Mbit/s), the mean number of peers
unchoking a leecher, and the mean number a leecher unchokes. Then each leecher's finishing
time. Reads the "timeline" lines lt_peer.py --timeline prints."""
import sys


def read(path):
    rows = []
    for line in open(path):
        f = line.split()
        if len(f) >= 9 and f[0] == "timeline":
            rows.append([float(x) for x in f[1:]])
    return rows


def main():
    args = sys.argv[1:]
    step, up = 5.0, 5.0
    if "--step" in args:
        i = args.index("--step")
        step = float(args[i + 1])
        del args[i:i + 2]
    if "--up" in args:
        i = args.index("--up")
        up = float(args[i + 1])
        del args[i:i + 2]
    runs = {p: read(p) for p in args}
    runs = {p: r for p, r in runs.items() if r}
    if not runs:
        sys.exit("no timeline lines in " + " ".join(args))
    t0 = min(r[0][0] for r in runs.values())
    t1 = max(r[-1][0] for r in runs.values())
    n = len(runs)
    print("%6s %4s %6s %8s %6s %9s %6s %6s" % (
        "t (s)", "done", "prog", "up Mb/s", "of cap", "seed Mb/s", "unch", "we_un"))
    t = t0
    while t <= t1:
        done, prog, upr, seed, unch, weun, k = 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0
        for r in runs.values():
            row = [x for x in r if t <= x[0] < t + step]
            if not row:
                last = [x for x in r if x[0] < t]
                if last and last[-1][1] >= 1.0:
                    done += 1
                    prog += 1.0
                continue
            k += 1
            prog += row[-1][1]
            done += row[-1][1] >= 1.0
            upr += sum(x[2] for x in row) / len(row)
            seed += sum(x[4] for x in row) / len(row)
            unch += sum(x[6] for x in row) / len(row)
            weun += sum(x[7] for x in row) / len(row)
        mbit = lambda b: b * 8 / 1e6
        print("%6.0f %4d %6.3f %8.1f %6.2f %9.1f %6.1f %6.1f" % (
            t - t0, done, prog / n, mbit(upr), mbit(upr) / (n * up), mbit(seed),
            unch / max(k, 1), weun / max(k, 1)))
        t += step
    for p, r in sorted(runs.items()):
        fin = next((x[0] for x in r if x[1] >= 1.0), None)
        print("%s finished at %s" % (p, "%.1f s" % (fin - t0) if fin else "never"))


if __name__ == "__main__":
    main()
