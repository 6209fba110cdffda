"""`pigeon lookup NAME` without @SERVER asks the nameservers of /etc/resolv.conf in turn, as
dig does. Runs in its own network and mount namespace (unshare -mn): a pigeond [dns] on
127.0.0.3:53 and a private resolv.conf bind-mounted over /etc/resolv.conf whose first
nameserver (127.0.0.2) does not answer."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pigeon_harness as H

REPO = Path(__file__).resolve().parents[2]

INSIDE = textwrap.dedent("""
    import subprocess, sys, time
    pigeond, pigeon, conf, log, resolv = sys.argv[1:6]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    subprocess.run(["mount", "--bind", resolv, "/etc/resolv.conf"], check=True)
    d = subprocess.Popen([pigeond, "-c", conf], stderr=open(log, "ab"))
    deadline = time.monotonic() + 60
    while b"pigeond ready" not in open(log, "rb").read():
        assert d.poll() is None and time.monotonic() < deadline, open(log).read()
        time.sleep(0.05)
    p = subprocess.run([pigeon, "lookup", "www.hamburger.edu"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    d.terminate()
    d.wait()
    sys.stdout.write(p.stdout.decode())
    sys.exit(p.returncode)
""")


def test_lookup_without_server_uses_resolv_conf(tmp_path):
    conf = tmp_path / "pigeon.conf"
    conf.write_text(H._render_conf({
        "server": {"hostname": H.HOSTNAME, "primary_domain": H.DOMAIN,
                   "data_dir": str(tmp_path / "data")},
        "dns": {"listen": "127.0.0.3:53"},
        "zone hamburger.edu": {"file": str(REPO / "etc/zones/hamburger.edu.zone")},
    }))
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("# test resolvers\nsearch example.org\nnameserver 127.0.0.2\n"
                      "nameserver 127.0.0.3\n")
    p = subprocess.run(["unshare", "-mn", "--propagation", "private", sys.executable, "-c",
                        INSIDE, str(H.PIGEOND), str(H.PIGEON), str(conf),
                        str(tmp_path / "pigeond.log"), str(resolv)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120,
                       env=H.sanitizer_env())
    out = p.stdout.decode()
    assert p.returncode == 0, out + p.stderr.decode() + (tmp_path / "pigeond.log").read_text()
    assert "status: NOERROR" in out
    answer = out.split("ANSWER SECTION:\n")[1].split("\n\n")[0]
    assert answer.split() == ["www.hamburger.edu.", answer.split()[1], "IN", "A", "127.0.0.1"]
    assert ";; SERVER: 127.0.0.3#53" in out, out
