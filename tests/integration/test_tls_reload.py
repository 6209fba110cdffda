"""Certificate rotation: replace the files, SIGHUP, and a new TLS connection gets the new
certificate while an IMAP session opened before keeps working; a broken file on reload keeps
the previous certificate. TLS 1.2 uses forward-secret AEAD suites only."""

import hashlib
import imaplib
import re
import signal
import socket
import ssl
import subprocess

import pigeon_harness as H


def make_cert(path, cn):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj", "/CN=" + cn,
                    "-keyout", str(path) + ".key", "-out", str(path) + ".crt"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    der = ssl.PEM_cert_to_DER_cert((path.parent / (path.name + ".crt")).read_text())
    return hashlib.sha256(der).hexdigest()


def served(port, **kw):
    ctx = H.unverified_context()
    for k, v in kw.items():
        setattr(ctx, k, v)
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port),
                                                  timeout=H.IO_TIMEOUT)) as s:
        return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest(), s.cipher()


def test_sighup_reloads_the_certificate(new_daemon, tmp_path):
    fa = make_cert(tmp_path / "a", "a.hamburger.edu")
    fb = make_cert(tmp_path / "b", "b.hamburger.edu")
    live = tmp_path / "live"
    (tmp_path / "live.crt").write_bytes((tmp_path / "a.crt").read_bytes())
    (tmp_path / "live.key").write_bytes((tmp_path / "a.key").read_bytes())
    d = new_daemon(imaps={}, server={"tls_cert": str(live) + ".crt",
                                     "tls_key": str(live) + ".key"})
    assert served(d.imaps_port)[0] == fa
    old = imaplib.IMAP4_SSL("127.0.0.1", d.imaps_port, ssl_context=H.unverified_context(),
                            timeout=H.IO_TIMEOUT)
    old.login("bob", "hungry")
    assert old.select("INBOX")[0] == "OK"

    # certbot renews: new files, then the deploy hook's reload.
    (tmp_path / "live.crt").write_bytes((tmp_path / "b.crt").read_bytes())
    (tmp_path / "live.key").write_bytes((tmp_path / "b.key").read_bytes())
    start = d.log_size()
    d.signal(signal.SIGHUP)
    d.wait_log(r"TLS: certificate reloaded \(sha256 %s\)" %
                ":".join(fb[i:i + 2] for i in range(0, 64, 2)).upper(), start)
    assert served(d.imaps_port)[0] == fb
    assert old.noop()[0] == "OK" and old.select("INBOX")[0] == "OK"   # the old session lives
    old.logout()

    # A broken renewal: the previous certificate stays.
    (tmp_path / "live.key").write_text("garbage\n")
    start = d.log_size()
    d.signal(signal.SIGHUP)
    d.wait_log(r"TLS: certificate not reloaded, the previous one stays: .*live\.key", start)
    assert served(d.imaps_port)[0] == fb


def test_tls12_offers_forward_secret_aead_only(new_daemon):
    d = new_daemon(imaps={})
    for weak in ("AES256-SHA", "AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA"):
        ctx = H.unverified_context()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(weak)
        try:
            with ctx.wrap_socket(socket.create_connection(("127.0.0.1", d.imaps_port),
                                                          timeout=H.IO_TIMEOUT)):
                raise AssertionError("%s was accepted" % weak)
        except ssl.SSLError:
            pass
    _, cipher = served(d.imaps_port, maximum_version=ssl.TLSVersion.TLSv1_2)
    assert cipher[1] == "TLSv1.2" and cipher[0].startswith("ECDHE-"), cipher
    assert "GCM" in cipher[0] or "CHACHA20" in cipher[0], cipher


def test_tls10_and_tls11_refused_by_the_server(new_daemon):
    """TLS 1.2 is the oldest version served: a client that sends a ClientHello for TLS 1.0 or
    1.1 only (allowed on its side with SECLEVEL=0: it is written, not refused by the client)
    gets no handshake (OpenSSL's server ends it); the same client is served with TLS 1.2."""
    d = new_daemon(imaps={})
    for version in ("-tls1", "-tls1_1"):
        p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % d.imaps_port,
                            version, "-cipher", "DEFAULT@SECLEVEL=0"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        out = p.stdout.decode(errors="replace")
        assert p.returncode != 0 and "no protocols available" not in out, (version, out)
        assert re.search(r"SSL handshake has read \d+ bytes and written [1-9]\d* bytes", out), out
        assert "Cipher is (NONE)" in out, (version, out)
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % d.imaps_port,
                        "-tls1_2", "-cipher", "DEFAULT@SECLEVEL=0"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0 and "New, TLSv1.2, Cipher is ECDHE-" in out, out


def san_cert(path, name):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=DNS:%s" % name,
                    "-keyout", str(path) + ".key", "-out", str(path) + ".crt"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    der = ssl.PEM_cert_to_DER_cert(open(str(path) + ".crt").read())
    return hashlib.sha256(der).hexdigest()


def test_sni_picks_the_certificate_of_the_name(new_daemon, tmp_path):
    fdef = make_cert(tmp_path / "default", "mail.hamburger.edu")
    (tmp_path / "sni").mkdir()
    fa = san_cert(tmp_path / "sni" / "mail.crepes.fr", "mail.crepes.fr")
    fw = san_cert(tmp_path / "sni" / "wild", "*.example.org")
    d = new_daemon(imaps={}, server={"tls_cert": str(tmp_path / "default.crt"),
                                     "tls_key": str(tmp_path / "default.key"),
                                     "tls_dir": str(tmp_path / "sni")})

    def cert_for(name):
        ctx = H.unverified_context()
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", d.imaps_port),
                                                      timeout=H.IO_TIMEOUT),
                             server_hostname=name) as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()

    assert cert_for("mail.crepes.fr") == fa
    assert cert_for("imap.example.org") == fw
    assert cert_for("other.test") == fdef
    assert served(d.imaps_port)[0] == fdef        # no SNI at all
