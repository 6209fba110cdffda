#!/usr/bin/python3
"""A libtorrent peer for the torrent tests, run as its own process:

    lt_peer.py TORRENT SAVE_DIR LISTEN_PORT [--seed] [--no-upload] [--peer HOST:PORT ...]

Prints one line per second: "progress <0..1> peers <n> seeds <n> state <s>"; prints
"finished" once every piece is verified (a downloader then exits unless --seed); a seed runs
until it is killed. Only loopback: no DHT, no LSD, no UPnP/NAT-PMP, no encryption forced."""
import sys
import time

import libtorrent as lt


def main():
    args = sys.argv[1:]
    torrent, save, port = args[0], args[1], int(args[2])
    seed = "--seed" in args
    peers = [a for i, a in enumerate(args) if i > 0 and args[i - 1] == "--peer"]
    s = lt.session({
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
        "enable_natpmp": False, "allow_multiple_connections_per_ip": True,
        "announce_to_all_trackers": True, "announce_to_all_tiers": True,
        "alert_mask": lt.alert.category_t.error_notification |
        lt.alert.category_t.status_notification,
    })
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent)
    params.save_path = save
    h = s.add_torrent(params)
    for p in peers:
        host, pport = p.rsplit(":", 1)
        h.connect_peer((host, int(pport)), 0)
    announced = False
    while True:
        st = h.status()
        print("progress %.4f peers %d seeds %d state %s" % (
            st.progress, st.num_peers, st.num_seeds, st.state), flush=True)
        if st.is_seeding and not announced:
            print("finished", flush=True)
            announced = True
            if not seed:
                return
        for a in s.pop_alerts():
            if a.category() & lt.alert.category_t.error_notification:
                print("alert %s" % a.message(), flush=True)
        time.sleep(0.5)


if __name__ == "__main__":
    main()
