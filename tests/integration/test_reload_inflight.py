"""`pigeon reload` of [ftp], [dhcp-subnet] and [jmap] (issue 12), each seen by a client, with
something in flight across the reload that must not be dropped: an FTP download that started
before it (ftplib then sees the new per-user limit, a new passive port range and a new tree),
a DHCP lease (the scapy probe of test_dhcp.py and busybox udhcpc then get the new router and
lease time, the kept client its address), a JMAP WebSocket (the Session resource then shows the new limits,
and uploads and requests over them are refused)."""

import ftplib
import hashlib
import json
import shutil
import socket
import subprocess

import pigeon_harness as H
from ftp_helpers import Control, add_ftp, home
from reload_helpers import finish, reload


# --------------------------------------------------------------------------------------------
# FTP


def ftp_login(d, user="bob", password="hungry"):
    f = ftplib.FTP()
    f.connect("127.0.0.1", d.ftp_port, timeout=H.IO_TIMEOUT)
    f.login(user, password)
    return f


def test_ftp_reload_with_a_download_in_flight(tmp_path):
    d = H.Daemon(tmp_path / "d", name="ftp-reload")
    add_ftp(d, pasv_ports="40000-40009")
    d.setup()
    d.start()
    try:
        h = home(d)
        big = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(1 << 19))  # 16 MiB
        (h / "big.bin").write_bytes(big)
        with Control(d.ftp_port) as c:
            c.login()
            c.expect("TYPE I", 200)
            host, port = c.pasv()
            assert 40000 <= port <= 40009, port
            ds = socket.create_connection((host, port))
            ds.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            c.expect("RETR big.bin", 150)
            data = ds.recv(65536)
            f = ftp_login(d)  # a second session of the same user is fine before the reload
            f.quit()
            new_root = tmp_path / "ftp2"
            (new_root / "bob@hamburger.edu").mkdir(parents=True)
            (new_root / "bob@hamburger.edu" / "moved.txt").write_bytes(b"the new tree\n")
            d.sections["ftp"].update(max_connections_per_user=2, pasv_ports="41000-41009",
                                     root=str(new_root))
            d.write_conf()
            out = reload(d)
            for key in ("max_connections_per_user", "pasv_ports", "root"):
                assert "applied: [ftp] %s" % key in out, out
            assert "needs restart" not in out, out
            # one more session fits the new limit of 2, in the new tree and port range
            f = ftp_login(d)
            assert f.nlst() == ["moved.txt"], f.nlst()
            assert 41000 <= int(f.sendcmd("EPSV").split("|")[3]) <= 41009
            # a third is refused: the session downloading and f hold the user's two places
            try:
                ftp_login(d)
                raise AssertionError("third session accepted after the reload")
            except ftplib.error_temp as e:
                assert str(e).startswith("421"), e
            f.quit()
            # the transfer that started before the reload finishes whole, from the old tree
            while True:
                chunk = ds.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
            ds.close()
            assert c.reply().code == 226
            assert data == big, len(data)
            # ... and that session stays in the tree it logged in to
            assert c.expect("SIZE big.bin", 213).lines[0] == "213 %d" % len(big)
        # a root that cannot be opened changes nothing, and says so
        (tmp_path / "not-a-dir").write_bytes(b"")
        d.sections["ftp"]["root"] = str(tmp_path / "not-a-dir")
        d.write_conf()
        out = reload(d, ok=False)
        assert "ftp: root %s" % (tmp_path / "not-a-dir") in out, out
        assert "the running settings stay" in out, out
        f = ftp_login(d)
        assert f.nlst() == ["moved.txt"]
        f.quit()
    finally:
        finish(d)


# --------------------------------------------------------------------------------------------
# DHCP (the veth pair and scapy probe of test_dhcp.py)

from test_dhcp import CLI_IF, SERVER, dhcp_daemon, dora, leases, udhcpc_files  # noqa: E402
from test_dhcp import net  # noqa: E402,F401 (a fixture)
from test_dhcp import start as dhcp_start  # noqa: E402


def test_dhcp_subnet_reload_keeps_leases(tmp_path, net):  # noqa: F811
    d = dhcp_daemon(tmp_path)
    dhcp_start(d)
    try:
        _, a1 = dora(net, "52:54:00:aa:00:01")
        assert a1["options"]["router"] == SERVER and a1["options"]["lease_time"] == "600", a1
        sub = d.sections["dhcp-subnet 10.77.0.0/24"]
        sub["router"] = "10.77.0.254"
        sub["lease_time"] = 1200
        d.sections["dhcp"]["port"] = 6700  # not applied: the socket is bound once
        d.write_conf()
        out = reload(d)
        assert "applied: [dhcp-subnet 10.77.0.0/24] router" in out, out
        assert "applied: [dhcp-subnet 10.77.0.0/24] lease_time" in out, out
        assert "needs restart: [dhcp] port" in out, out
        assert "dhcp: 1 subnet(s) in force, leases kept" in out, out
        # a new client gets the new options, and not the address leased before the reload
        _, a2 = dora(net, "52:54:00:aa:00:02")
        assert a2["options"]["router"] == "10.77.0.254", a2
        assert a2["options"]["lease_time"] == "1200" and a2["yiaddr"] != a1["yiaddr"], a2
        # the client of the kept lease gets its address again, with the new options
        _, again = dora(net, "52:54:00:aa:00:01")
        assert again["yiaddr"] == a1["yiaddr"], (a1, again)
        assert again["options"]["router"] == "10.77.0.254", again
        assert a1["yiaddr"] in leases(d)
        # and a stock client (busybox udhcpc) sees the new router too
        script, out, env = udhcpc_files(tmp_path)
        p = subprocess.run(["ip", "netns", "exec", net, shutil.which("udhcpc"), "-i", CLI_IF,
                            "-f", "-q", "-n", "-t", "5", "-T", "2", "-s", str(script)],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        assert p.returncode == 0, p.stdout.decode()
        got = dict(line.split("=", 1) for line in out.read_text().split())
        assert got["router"] == "10.77.0.254" and got["ip"].startswith("10.77.0.10"), got
        # subnets that do not fit change nothing, and say so (a pool of more addresses than
        # the engine holds)
        sub["pool"] = "10.0.0.1 - 10.255.255.254"
        d.sections.pop("dhcp-subnet 10.77.0.0/24")
        d.sections["dhcp-subnet 10.0.0.0/8"] = sub
        d.write_conf()
        out = reload(d, ok=False)
        assert "the running ones stay" in out, out
        _, a3 = dora(net, "52:54:00:aa:00:03")
        assert a3["yiaddr"].startswith("10.77.0.1"), a3
        assert a3["options"]["router"] == "10.77.0.254", a3
    finally:
        finish(d)


# --------------------------------------------------------------------------------------------
# JMAP limits


def test_jmap_limits_reload(tmp_path):
    import websocket

    import jmap_helpers as J
    web = J.start_jmap(tmp_path, "jmap-reload")
    d = web.d
    try:
        c = J.Client(web)
        before = c.session["capabilities"][J.CORE]
        c.upload(b"x" * 4096)
        tok = c.headers()["Authorization"]
        ws = websocket.create_connection("ws://127.0.0.1:%d/jmap/ws/" % web.port,
                                         subprotocols=["jmap"], timeout=H.WAIT_TIMEOUT,
                                         header=["Authorization: " + tok])
        d.sections["jmap"]["max_size_upload"] = "2K"
        d.sections["jmap"]["max_calls_in_request"] = 2
        d.write_conf()
        out = reload(d)
        assert "applied: [jmap] max_size_upload" in out, out
        assert "applied: [jmap] max_calls_in_request" in out and "needs restart" not in out, out
        core = c.get_json("/.well-known/jmap")["capabilities"][J.CORE]
        assert core["maxSizeUpload"] == 2048 != before["maxSizeUpload"], core
        assert core["maxCallsInRequest"] == 2 != before["maxCallsInRequest"], core
        status, _, body = c.raw("POST", "/jmap/upload/%s/" % c.account, b"x" * 4096,
                                {"Content-Type": "application/octet-stream"})
        assert status == 413, (status, body)
        status, resp = c.post({"using": J.USING, "methodCalls": [
            ["Mailbox/get", {"accountId": c.account, "ids": []}, "c%d" % i] for i in range(3)]})
        assert status == 400 and "limit" in json.dumps(resp), (status, resp)
        # the WebSocket opened before the reload still answers
        ws.send(json.dumps({"@type": "Request", "id": "R1", "using": J.USING,
                            "methodCalls": [["Core/echo", {"after": "reload"}, "c1"]]}))
        r = json.loads(ws.recv())
        assert r["requestId"] == "R1" and r["methodResponses"][0][1] == {"after": "reload"}, r
        ws.close()
        # `enabled` and `webmail` stay until a restart, and the reload says so
        d.sections["jmap"]["webmail"] = str(tmp_path)
        d.write_conf()
        assert "needs restart: [jmap] webmail" in reload(d)
    finally:
        finish(d)
