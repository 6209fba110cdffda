"""Per-site certificates chosen by SNI: one site with its own tls_cert/tls_key, another
covered by [server] tls_dir, the default site on the server's certificate. curl --resolve
verifies each name against its own CA only (a wrong certificate fails verification), over
HTTP/1.1 and HTTP/2. A broken pair is refused by check-config (the check every start runs)."""

import subprocess
from pathlib import Path

import pytest

import http_helpers as X
import pigeon_harness as H


def make_cert(directory, name, stem=None):
    """A self-signed EC certificate for name (CN and subjectAltName); returns (crt, key)."""
    stem = stem or name
    crt, key = Path(directory) / (stem + ".crt"), Path(directory) / (stem + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=DNS:" + name, "-keyout", str(key), "-out",
                    str(crt)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return crt, key


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    root = tmp_path_factory.mktemp("http_sni")
    certs = root / "certs"
    tls_dir = root / "tls_dir"
    certs.mkdir()
    tls_dir.mkdir()
    alpha = make_cert(certs, "alpha.test")
    beta = make_cert(tls_dir, "beta.test")
    d = H.Daemon(root, name="pigeond[http_sni]")
    d.sections["server"]["tls_dir"] = str(tls_dir)
    www = X.make_site(root)
    hd = X.HTTPDaemon(d, www, extra_sites={
        "alpha": {"name": "alpha.test", "root": "{www}", "tls_cert": str(alpha[0]),
                  "tls_key": str(alpha[1])},
        "beta": {"name": "beta.test", "root": "{www}"},
    })
    hd.ca = {"alpha.test": alpha[0], "beta.test": beta[0]}
    d.setup()
    d.start()
    yield hd
    X.finish(d)


def fetch(web, name, ca, *args):
    url = "https://%s:%d/style.css" % (name, web.tls_port)
    return X.curl("--cacert", ca, "--resolve", "%s:%d:127.0.0.1" % (name, web.tls_port),
                  "-o", "/dev/null", "-w", "%{http_code} %{http_version}", *args, url)


@pytest.mark.parametrize("version,shown", [("--http1.1", "1.1"), ("--http2", "2")])
def test_each_name_gets_its_certificate(web, version, shown):
    for name, ca in web.ca.items():
        rc, out, err = fetch(web, name, ca, version)
        assert rc == 0, "%s: %s" % (name, err)
        assert out.decode() == "200 " + shown


def test_wrong_ca_fails(web):
    # alpha's name is not answered with beta's certificate, nor the reverse, and the
    # default site keeps the server's certificate.
    rc, _, err = fetch(web, "alpha.test", web.ca["beta.test"])
    assert rc == 60, err
    rc, _, err = fetch(web, "beta.test", web.ca["alpha.test"])
    assert rc == 60, err
    rc, _, err = fetch(web, "hamburger.edu", web.ca["alpha.test"])
    assert rc == 60, err
    rc, out, err = X.curl("-k", "--resolve", "hamburger.edu:%d:127.0.0.1" % web.tls_port,
                          "-o", "/dev/null", "-w", "%{http_code}",
                          "https://hamburger.edu:%d/" % web.tls_port)
    assert rc == 0 and out == b"200", err


def test_broken_pairs_refused(tmp_path):
    a_crt, a_key = make_cert(tmp_path, "a.test")
    b_crt, b_key = make_cert(tmp_path, "b.test")
    d = H.Daemon(tmp_path / "d", name="pigeond[http_sni_bad]")
    www = X.make_site(tmp_path)
    for site, want in (({"tls_cert": str(a_crt)}, "tls_cert and tls_key must be set together"),
                       ({"tls_cert": str(a_crt), "tls_key": str(b_key)}, "mismatch"),
                       ({"tls_cert": str(tmp_path / "none.crt"), "tls_key": str(a_key)},
                        "none.crt")):
        keys = {"name": "a.test", "root": str(www)}
        keys.update(site)
        d.sections["http a"] = keys
        d.sections["http a"]["listen_tls"] = "127.0.0.1:%d" % H.free_port()
        d.write_conf()
        p = d.cli("check-config", check=False)
        assert p.returncode != 0
        assert want in p.stderr.decode(), p.stderr.decode()
