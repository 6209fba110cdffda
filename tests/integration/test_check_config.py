"""`pigeond -t`, `pigeon check-config` and a real start reject the same configurations with
the same message: a key set twice, two services on one port, a bad zone file, a certificate
that does not load, bad root hints. Each message names the file:line, section and key."""

import subprocess


import pigeon_harness as H

HEAD = "[server]\nhostname = mail.hamburger.edu\nprimary_domain = hamburger.edu\n" \
       "data_dir = %s\n"


def three_ways(conf):
    """(pigeond -t, pigeon check-config, pigeond start): each (exit code, stderr)."""
    out = []
    for cmd in ([str(H.PIGEOND), "-t", "-c", conf], [str(H.PIGEON), "-c", conf, "check-config"],
                [str(H.PIGEOND), "-c", conf]):
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                           env=H.sanitizer_env())
        out.append((p.returncode, p.stderr.decode()))
    return out


def check(tmp_path, body, message):
    conf = tmp_path / "pigeon.conf"
    conf.write_text(HEAD % (tmp_path / "data") + body)
    got = three_ways(str(conf))
    want = message.format(conf=conf, dir=tmp_path)
    assert got == [(1, "pigeond: %s\n" % want), (1, "pigeon: %s\n" % want),
                   (1, "pigeond: %s\n" % want)]


def test_key_set_twice(tmp_path):
    check(tmp_path, "[smtp]\nlisten = 127.0.0.1:%d\nmax_recipients = 10\nmax_recipients = 20\n"
          % H.free_port(), "{conf}:8: [smtp] max_recipients: set twice (first on line 7)")


def test_unknown_key_names_section_and_key(tmp_path):
    check(tmp_path, "[imap]\nplaintext_auht = yes\n",
          "{conf}:6: [imap] plaintext_auht: unknown key in this section")


def test_two_services_on_one_port(tmp_path):
    port = H.free_port()
    check(tmp_path, "[smtp]\nlisten = 127.0.0.1:%d\n[submission]\nlisten = 0.0.0.0:%d\n"
          % (port, port), "{conf}:8: [submission] listen 0.0.0.0:%d: TCP port %d is already "
          "[smtp]'s (line 6)" % (port, port))


def test_dns_and_resolver_on_one_udp_port(tmp_path):
    port = H.free_port()
    check(tmp_path, "[dns]\nlisten = 127.0.0.1:%d\n[resolver]\nlisten = 127.0.0.1:%d\n"
          % (port, port), "{conf}:8: [resolver] listen 127.0.0.1:%d: TCP port %d is already "
          "[dns]'s (line 6)" % (port, port))


def test_bad_zone_file(tmp_path):
    (tmp_path / "bad.zone").write_text("$ORIGIN example.org.\n$TTL 300\n"
                                       "@ IN SOA ns hostmaster 1 2 3 4 5\nwww IN A 300.1.1.1\n")
    check(tmp_path, "[dns]\nlisten = 127.0.0.1:%d\n[zone example.org]\nfile = %s\n"
          % (H.free_port(), tmp_path / "bad.zone"),
          "{conf}:7: [zone example.org] file: {dir}/bad.zone:4: bad IPv4 address")


def test_certificate_that_does_not_load(tmp_path):
    (tmp_path / "cert.pem").write_text("not a certificate\n")
    check(tmp_path, "tls_cert = {0}/cert.pem\ntls_key = {0}/cert.pem\n".format(tmp_path),
          "{conf}: [server] tls_cert/tls_key: {dir}/cert.pem: "
          "error:0480006C:PEM routines::no start line")


def test_bad_root_hints(tmp_path):
    (tmp_path / "hints").write_text(". 3600 IN NS a.root-servers.net.\nbogus line here\n")
    check(tmp_path, "[resolver]\nroot_hints = %s\n" % (tmp_path / "hints"),
          "{conf}: [resolver] root_hints: {dir}/hints:2: unknown RR type 'line'")


def test_valid_configuration_passes_all_three(tmp_path):
    conf = tmp_path / "pigeon.conf"
    conf.write_text(HEAD % (tmp_path / "data") + "[smtp]\nlisten = 127.0.0.1:%d\n"
                    "[submissions]\nlisten = 127.0.0.1:%d\n" % (H.free_port(), H.free_port()))
    for cmd in ([str(H.PIGEOND), "-t", "-c", str(conf)],
                [str(H.PIGEON), "-c", str(conf), "check-config"]):
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                           env=H.sanitizer_env())
        assert (p.returncode, p.stdout.decode()) == (0, "%s: ok\n" % conf), p.stderr


def test_bad_trust_anchor_file(tmp_path):
    """The resolver's trust anchor is opened and parsed by the check (not only at start)."""
    (tmp_path / "root.key").write_text("; an anchor file with a wrong record\n"
                                       ". 3600 IN A 192.0.2.1\n")
    check(tmp_path, "[resolver]\ntrust_anchor = %s\n" % (tmp_path / "root.key"),
          "{conf}: [resolver] trust_anchor: {dir}/root.key:2: a trust anchor is a DS or DNSKEY "
          "record")


def test_trust_anchor_without_anchors_or_missing(tmp_path):
    (tmp_path / "empty.key").write_text("; nothing but a comment\n")
    check(tmp_path, "[resolver]\ntrust_anchor = %s\n" % (tmp_path / "empty.key"),
          "{conf}: [resolver] trust_anchor: {dir}/empty.key: no DS or DNSKEY record")
    check(tmp_path, "[resolver]\ntrust_anchor = %s\n" % (tmp_path / "missing.key"),
          "{conf}: [resolver] trust_anchor: {dir}/missing.key: cannot read: No such file or "
          "directory")


def test_bad_negative_trust_anchor(tmp_path):
    # the form of Debian's /usr/share/dns/root.key: no TTL
    (tmp_path / "root.key").write_text(
        ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n")
    check(tmp_path, "[resolver]\ntrust_anchor = %s\nnegative_trust_anchors = corp.example "
          "bad..name\n" % (tmp_path / "root.key"),
          "{conf}: [resolver] trust_anchor: negative trust anchor 'bad..name': empty label")
