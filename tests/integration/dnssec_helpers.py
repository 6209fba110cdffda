"""Shared by the DNSSEC tests: a zone with every shape a proof must handle (apex data, an
empty non-terminal b.c, a wildcard, an insecure delegation sub and a secure one sec)."""

ZONE = """$ORIGIN example.
$TTL 3600
@ IN SOA ns1.example. admin.example. 100 7200 3600 1209600 300
@ IN NS ns1.example.
@ IN MX 10 mail.example.
ns1 IN A 192.0.2.1
mail IN A 192.0.2.3
www IN A 192.0.2.2
www IN AAAA 2001:db8::2
*.wild IN TXT "wildcard"
a.b.c IN A 192.0.2.4
sub IN NS ns.sub.example.
ns.sub IN A 192.0.2.5
sec IN NS ns.sec.example.
sec IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
ns.sec IN A 192.0.2.6
"""
