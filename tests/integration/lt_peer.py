#!/usr/bin/python3
"""A libtorrent peer for the torrent tests, run as its own process:

    lt_peer.py TORRENT|MAGNET|- SAVE_DIR LISTEN_PORT [--seed] [--host ADDR] [--show-peers]
               [--download-limit BYTES] [--peer HOST:PORT ...] [--dht BOOT_HOST:PORT|none]
               [--timeline SEED_IP]

Prints "progress <0..1> peers <n> seeds <n> state <s>" on every status change (at most twice
a second, woken by libtorrent's alerts through wait_for_alert rather than polling); "metadata"
once a magnet link's info dictionary arrived; "finished" once every piece is verified (a
downloader then exits unless --seed); a seed runs until it is killed. --show-peers prints
"peer IP:PORT source N" for each peer met (N: libtorrent's source flags, 4 = PEX). Listens on 127.0.0.1
(or --host, e.g. ::1). No LSD, no UPnP/NAT-PMP, no encryption forced; no DHT unless --dht
names a node to join it through (BEP 5; loopback addresses allowed, several nodes per
address allowed). --timeline (bench/torrent_dist.sh) adds once a second "timeline <unix time>
<progress> <up B/s> <down B/s> <from SEED_IP B/s> <peers> <peers unchoking us> <peers we
unchoke> <SEED_IP unchokes us: 0/1> <requests queued to SEED_IP> <its round trip, ms>". With "-" as the torrent it is only a DHT node: it prints "dht nodes <n>"
whenever its routing table's size changes."""
import sys
import time

import libtorrent as lt


def main():
    args = sys.argv[1:]
    torrent, save, port = args[0], args[1], int(args[2])
    seed = "--seed" in args
    opt = {a: args[i + 1] for i, a in enumerate(args[:-1])
           if a in ("--host", "--download-limit", "--dht", "--timeline")}
    show_peers = "--show-peers" in args
    peers = [a for i, a in enumerate(args) if i > 0 and args[i - 1] == "--peer"]
    host = opt.get("--host", "127.0.0.1")
    dht = {"enable_dht": False}
    if "--dht" in opt:
        boot = "" if opt["--dht"] == "none" else opt["--dht"]
        dht = {"enable_dht": True, "dht_bootstrap_nodes": boot,
               "dht_restrict_routing_ips": False, "dht_restrict_search_ips": False,
               "dht_ignore_dark_internet": False, "dht_block_ratelimit": 10000,
               "dht_prefer_verified_node_ids": False}
    s = lt.session(dict(dht, **{
        "listen_interfaces": ("[%s]:%d" if ":" in host else "%s:%d") % (host, port),
        "enable_lsd": False, "enable_upnp": False,
        "enable_natpmp": False, "allow_multiple_connections_per_ip": True,
        "announce_to_all_trackers": True, "announce_to_all_tiers": True,
        "alert_mask": lt.alert.category_t.error_notification |
        lt.alert.category_t.status_notification,
    }))
    if torrent == "-":
        return dht_node(s)
    if torrent.startswith("magnet:"):
        params = lt.parse_magnet_uri(torrent)
    else:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(torrent)
    params.save_path = save
    h = s.add_torrent(params)
    if "--download-limit" in opt:
        h.set_download_limit(int(opt["--download-limit"]))
    seen = set()
    for p in peers:
        phost, pport = p.rsplit(":", 1)
        h.connect_peer((phost.strip("[]"), int(pport)), 0)
    announced, had_metadata, last, last_tl = False, False, None, 0.0
    last_dht = time.time()
    while True:
        # A magnet's first DHT lookup can run before the bootstrap has answered (a busy
        # machine); libtorrent would then look again only after dht_announce_interval (15 min).
        if "--dht" in opt and time.time() - last_dht >= 5.0 and h.status().num_peers == 0:
            last_dht = time.time()
            h.force_dht_announce()
        if "--timeline" in opt and time.time() - last_tl >= 1.0:
            last_tl = time.time()
            timeline(h, opt["--timeline"], last_tl)
        st = h.status()
        line = "progress %.4f peers %d seeds %d state %s" % (
            st.progress, st.num_peers, st.num_seeds, st.state)
        if line != last:
            print(line, flush=True)
            last = line
        for p in h.get_peer_info() if show_peers else ():
            key = (p.ip[0], p.ip[1])
            if key not in seen:
                seen.add(key)
                print("peer %s:%d source %d" % (p.ip[0], p.ip[1], p.source), flush=True)
        if st.has_metadata and not had_metadata:
            print("metadata", flush=True)
            had_metadata = True
        if st.is_seeding and not announced:
            print("finished", flush=True)
            announced = True
            if not seed:
                return
        # woken by the next alert (a piece, a peer, a state change), else every 0.5 s for
        # the rates in the progress line
        s.wait_for_alert(500)
        for a in s.pop_alerts():
            if a.category() & lt.alert.category_t.error_notification:
                print("alert %s" % a.message(), flush=True)


def timeline(h, seed_ip, now):
    """One line of the per-leecher progress timeline (see the docstring)."""
    st = h.status()
    peers = h.get_peer_info()
    from_seed = sum(p.payload_down_speed for p in peers if p.ip[0] == seed_ip)
    unchoking_us = sum(1 for p in peers if not p.flags & lt.peer_info.remote_choked)
    we_unchoke = sum(1 for p in peers if not p.flags & lt.peer_info.choked)
    seed = [p for p in peers if p.ip[0] == seed_ip]
    seed_unchokes = sum(1 for p in seed if not p.flags & lt.peer_info.remote_choked)
    print("timeline %.1f %.4f %d %d %d %d %d %d %d %d %d" % (
        now, st.progress, st.upload_payload_rate, st.download_payload_rate, from_seed,
        len(peers), unchoking_us, we_unchoke, seed_unchokes,
        sum(p.download_queue_length for p in seed), max([p.rtt for p in seed] or [0])),
        flush=True)
    # each other peer: whether we want something of it and it of us, the requests both ways,
    # how many pieces it has (we have st.num_pieces)
    for p in peers:
        if p.ip[0] != seed_ip:
            print("lpeer %.1f %s ours %d its %d interesting %d remote_interested %d "
                  "choked %d remote_choked %d dq %d uq %d down %d up %d" % (
                      now, p.ip[0], st.num_pieces, p.num_pieces,
                      bool(p.flags & lt.peer_info.interesting),
                      bool(p.flags & lt.peer_info.remote_interested),
                      bool(p.flags & lt.peer_info.choked),
                      bool(p.flags & lt.peer_info.remote_choked),
                      p.download_queue_length, p.upload_queue_length,
                      p.payload_down_speed, p.payload_up_speed), flush=True)


def dht_node(s):
    """Only a DHT node: reports its routing table's size as it changes."""
    last = None
    while True:
        n = s.status().dht_nodes
        if n != last:
            print("dht nodes %d" % n, flush=True)
            last = n
        s.wait_for_alert(500)
        s.pop_alerts()


if __name__ == "__main__":
    main()
