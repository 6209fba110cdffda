"""`pigeon reload` of the sections whose hooks are small (issue 12), each seen by a client:
[proxy] (who may use it and which local origins it may fetch from; a keep-alive connection
opened before the reload keeps being served) and a `proxy_to` site's origins; the [torrent]
peer (max_peers and the watch directory, a peer connected before the reload kept); the
[tracker] (interval and its allow-list file, the swarm kept); [mail_dns] publishing turned on
and [mta_sts] from mode none to enforce and back (dig and curl)."""

import os
import re
import subprocess

import cache_helpers as C
import dns_auth_helpers as DH
import pigeon_harness as H
from http_helpers import curl
from reload_helpers import finish, reload


# --------------------------------------------------------------------------------------------
# [proxy] and proxy_to


def test_proxy_access_and_origins_reload(tmp_path):
    origin, other = C.Origin(), C.Origin()
    no_store = {"Cache-Control": "no-store"}
    origin.routes["/a"] = {"body": b"from the origin\n", "headers": no_store}
    other.routes["/a"] = {"body": b"from the other origin\n", "headers": no_store}
    site_port = H.free_port()
    px = C.ProxyDaemon(tmp_path / "px", "pigeond[proxy-reload]", extra={
        "http rev": {"listen": "127.0.0.1:%d" % site_port, "name": "rev.test",
                     "proxy_to": "http://127.0.0.1:%d" % origin.port}})
    d = px.d
    url = "http://127.0.0.1:%d/a" % origin.port
    try:
        r, body = px.get(url)
        assert r.status == 200 and body == b"from the origin\n", (r.status, body)
        kept = px.conn()  # a keep-alive connection from before the reload
        kept.request("GET", url)
        r = kept.getresponse()
        assert r.status == 200 and r.read() == b"from the origin\n"
        rev = "http://127.0.0.1:%d/a" % site_port
        assert curl("-H", "Host: rev.test", rev)[1] == b"from the origin\n"
        # loopback may no longer use the proxy; the site goes to the other origin
        d.sections["proxy"]["allow"] = "192.0.2.0/24"
        d.sections["http rev"]["proxy_to"] = "http://127.0.0.1:%d" % other.port
        d.write_conf()
        out = reload(d)
        assert "applied: [proxy] allow" in out and "applied: [http rev] proxy_to" in out, out
        assert "needs restart" not in out, out
        r, body = px.get(url)
        assert r.status == 403 and b"does not serve your address" in body, (r.status, body)
        kept.request("GET", url)  # the connection opened before keeps its permission
        r = kept.getresponse()
        assert r.status == 200 and r.read() == b"from the origin\n"
        kept.close()
        assert curl("-H", "Host: rev.test", rev)[1] == b"from the other origin\n"
        # local origins are no longer allowed (the SSRF rule), loopback clients are again
        del d.sections["proxy"]["allow"]
        del d.sections["proxy"]["allow_origins"]
        d.sections["proxy"]["via"] = "edge"  # not applied, and said so with the reason
        d.write_conf()
        out = reload(d)
        assert "applied: [proxy] allow_origins" in out, out
        assert re.search(r"^needs restart: \[proxy\] via \(.+\)$", out, re.M), out
        # (an origin the proxy holds no idle connection to: one kept from before is reused)
        third = C.Origin()
        third.routes["/a"] = {"body": b"from a third origin\n", "headers": no_store}
        r, body = px.get("http://127.0.0.1:%d/a" % third.port)
        third.close()
        assert r.status == 403 and b"local or private" in body, (r.status, body)
        assert "/a" not in third.hits, third.hits
        assert origin.hits["/a"] == 4 and other.hits["/a"] == 1, (origin.hits, other.hits)
    finally:
        C.finish(d)
        origin.close()
        other.close()


# --------------------------------------------------------------------------------------------
# the [torrent] peer and the [tracker]


def test_torrent_peer_reload(tmp_path):
    from test_torrent_peer import info_hash, peer_daemon, raw_hash, status, wait_state
    from torrent_helpers import ScriptedPeer, make_file, mktorrent
    hd = peer_daemon(tmp_path / "d", "pigeond[torrent-reload]")
    d = hd.d
    try:
        hd.downloads.mkdir(exist_ok=True)
        make_file(hd.downloads / "one.bin", 1 << 20, seed=b"one")
        t = mktorrent(hd.downloads / "one.bin", tmp_path / "one.torrent", announce=[hd.announce])
        d.cli("torrent", "add", str(t), str(hd.downloads))
        wait_state(hd, info_hash(t), "seeding", "pigeon seeds one.bin")
        first = ScriptedPeer.dial(hd.peer_port, raw_hash(t), peer_id=b"-PY0001-reloadpeer01")
        first.read_handshake()
        new_watch = tmp_path / "watch2"
        d.sections["torrent"].update(max_peers=1, watch_dir=str(new_watch))
        d.write_conf()
        out = reload(d)
        assert "applied: [torrent] max_peers" in out and "applied: [torrent] watch_dir" in out
        assert "needs restart" not in out, out
        d.wait_log(r"torrent: 1 peers per torrent")
        # a second peer no longer fits; the first, connected before the reload, is served
        second = ScriptedPeer.dial(hd.peer_port, raw_hash(t), peer_id=b"-PY0001-reloadpeer02")
        try:
            second.read_handshake()
            while True:  # anything but being dropped would be a second peer served
                second.next_message()
        except (ConnectionError, OSError):
            pass
        first.send(2)  # interested: the choker unchokes it
        while first.choked:
            first.next_message()
        first.close()
        # a torrent dropped into the new watch directory is added
        make_file(hd.downloads / "two.bin", 1 << 20, seed=b"two")
        t2 = mktorrent(hd.downloads / "two.bin", tmp_path / "two.torrent",
                       announce=[hd.announce])
        ih2 = info_hash(t2)
        os.replace(t2, new_watch / "two.torrent")
        wait_state(hd, ih2, "seeding", "the torrent of the new watch directory is added")
        assert ih2 in status(hd)
    finally:
        finish(d)


def test_tracker_reload_keeps_the_swarm(tmp_path):
    from torrent_helpers import announce_by_hand, tracker_daemon
    allow = tmp_path / "allow.txt"
    a, b = b"\x11" * 20, b"\x22" * 20
    allow.write_text("# allowed\n%s\n" % a.hex())
    hd = tracker_daemon(tmp_path / "d", "pigeond[tracker-reload]",
                        tracker={"allow_list": str(allow)})
    d = hd.d
    try:
        seed = announce_by_hand(hd, a, 7001, 0)
        assert b"8:intervali30e" in seed, seed
        assert b"failure reason" in announce_by_hand(hd, b, 7002, 0)
        allow.write_text("# allowed\n%s\n%s\n" % (a.hex(), b.hex()))
        d.sections["tracker"]["interval"] = 60
        d.write_conf()
        out = reload(d)
        assert "applied: [tracker] interval" in out and "needs restart" not in out, out
        leech = announce_by_hand(hd, a, 7003, 5)
        assert b"8:intervali60e" in leech, leech
        # the seed announced before the reload is still in the swarm
        assert b"8:completei1e" in leech and b"\x7f\x00\x00\x01\x1b\x59" in leech, leech
        assert b"failure reason" not in announce_by_hand(hd, b, 7002, 0)
    finally:
        finish(d)


# --------------------------------------------------------------------------------------------
# [mail_dns], [mta_sts], [arc]

ZONE = """$TTL 300
@        IN SOA ns.hamburger.edu. hostmaster.hamburger.edu. 1 60 60 3600 60
@        IN NS  ns
ns       IN A   127.0.0.1
mail     IN A   127.0.0.1
"""


def sts(d):
    """https://mta-sts.hamburger.edu/.well-known/mta-sts.txt from pigeond's own site."""
    url = "https://mta-sts.hamburger.edu:%d/.well-known/mta-sts.txt" % d.https_port
    p = subprocess.run(["curl", "-sS", "-k", "-o", "-", "-w", "\n%{http_code}", "--resolve",
                        "mta-sts.hamburger.edu:%d:127.0.0.1" % d.https_port, url],
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    body, _, code = p.stdout.rpartition(b"\n")
    return int(code), body


def txt(d, name):
    r = DH.query(d.dns_port, name, "TXT")
    return [b"".join(rd.strings).decode() for rrset in r.answer for rd in rrset]


def test_mail_dns_and_mta_sts_turned_on(tmp_path):
    d = DH.auth_daemon(tmp_path / "d", {"hamburger.edu": ZONE})
    (tmp_path / "www").mkdir()
    d.https_port = H.free_port()
    d.sections["http web"] = {"root": str(tmp_path / "www"),
                              "listen_tls": "127.0.0.1:%d" % d.https_port}
    d.ports.append(d.https_port)
    # the publisher's rounds run, publishing nothing; [mta_sts] mode none (the default)
    d.sections["mail_dns"] = {"publish": "no", "interval": 1}
    d.sections["mta_sts"] = {"mode": "none"}
    d.write_conf()
    d.setup()
    d.start()
    try:
        assert sts(d)[0] == 404
        assert txt(d, "_dmarc.hamburger.edu") == []
        d.sections["mail_dns"]["publish"] = "yes"
        d.sections["mta_sts"] = {"mode": "enforce", "max_age": 86400}  # from none
        d.sections["dmarc_report"] = {"send": "no"}
        d.write_conf()
        out = reload(d)
        assert "applied: [mail_dns] publish" in out and "applied: [mta_sts] mode" in out, out
        assert re.search(r"^needs restart: \[dmarc_report\] send \(.+\)$", out, re.M), out
        assert out.count("needs restart") == 1, out
        code, body = sts(d)
        assert code == 200 and b"mode: enforce\r\n" in body, (code, body)
        H.wait_until(lambda: txt(d, "_dmarc.hamburger.edu"), what="the DMARC record published")
        H.wait_until(lambda: txt(d, "_mta-sts.hamburger.edu"), what="the _mta-sts record")
        # and back to none: the policy is no longer served
        d.sections["mta_sts"]["mode"] = "none"
        d.write_conf()
        reload(d)
        assert sts(d)[0] == 404
    finally:
        finish(d)
