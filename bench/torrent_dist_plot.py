#!/usr/bin/python3
"""Draws bench/torrent_dist.sh's table as an SVG: distribution time against N, one line per
seed (Pigeon, Transmission, libtorrent) and one for the lecture's lower bound.

    bench/torrent_dist.sh ... | tee dist.txt
    bench/torrent_dist_plot.py dist.txt docs/img/torrent_dist.svg

Reads the rows "SEED N TIME BOUND RATIO" (other lines are ignored); no plotting library
needed."""
import sys

COLOURS = {"bound": "#444444", "pigeon": "#1f77b4", "transmission": "#d62728",
           "libtorrent": "#2ca02c"}


def read(path):
    rows = {}
    bound = {}
    for line in open(path):
        f = line.split()
        if len(f) != 5 or not f[1].isdigit():
            continue
        try:
            n, t, b = int(f[1]), float(f[2]), float(f[3])
        except ValueError:
            continue
        rows.setdefault(f[0], {})[n] = t
        bound[n] = b
    rows["bound"] = bound
    return rows


def svg(rows, title):
    W, H, L, R, T, B = 640, 400, 60, 150, 40, 50
    ns = sorted({n for r in rows.values() for n in r})
    ymax = max(t for r in rows.values() for t in r.values()) * 1.1
    x = lambda n: L + (W - L - R) * (ns.index(n) / max(1, len(ns) - 1))
    y = lambda t: H - B - (H - T - B) * t / ymax
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="20" font-size="14">%s</text>' % (L, title),
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (L, H - B, W - R, H - B),
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (L, T, L, H - B),
           '<text x="%d" y="%d">leechers N</text>' % ((W - R + L) // 2 - 30, H - 12),
           '<text x="12" y="%d" transform="rotate(-90 12 %d)">time (s)</text>'
           % (H // 2, H // 2)]
    for n in ns:
        out.append('<text x="%.0f" y="%d" text-anchor="middle">%d</text>' % (x(n), H - B + 16, n))
    step = 10 ** max(0, len(str(int(ymax))) - 1)
    if ymax / step < 4:
        step = max(1, step // 2)
    v = 0
    while v <= ymax:
        out.append('<text x="%d" y="%.0f" text-anchor="end">%d</text>' % (L - 6, y(v) + 4, v))
        out.append('<line x1="%d" y1="%.0f" x2="%d" y2="%.0f" stroke="#eeeeee"/>'
                   % (L, y(v), W - R, y(v)))
        v += step
    for i, (name, r) in enumerate(sorted(rows.items())):
        pts = " ".join("%.1f,%.1f" % (x(n), y(t)) for n, t in sorted(r.items()))
        col = COLOURS.get(name, "#888888")
        dash = ' stroke-dasharray="6,4"' if name == "bound" else ""
        out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>'
                   % (pts, col, dash))
        for n, t in sorted(r.items()):
            out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (x(n), y(t), col))
        ly = T + 20 * i
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>'
                   % (W - R + 15, ly, W - R + 40, ly, col, dash))
        out.append('<text x="%d" y="%d">%s</text>' % (W - R + 46, ly + 4,
                                                      "lower bound" if name == "bound" else name))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: torrent_dist_plot.py TABLE.txt OUT.svg")
    rows = read(sys.argv[1])
    if len(rows) < 2:
        sys.exit("no rows found in %s" % sys.argv[1])
    with open(sys.argv[2], "w") as f:
        f.write(svg(rows, "Distribution time of one file to N leechers (bench/torrent_dist.sh)"))


if __name__ == "__main__":
    main()
