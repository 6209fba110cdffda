#!/usr/bin/python3
"""`make demo`: the textbook scenario, step by step. Exit 0 only if Bob got the message
byte-identical (over POP3, and over IMAP when pigeond serves it)."""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
import textbook  # noqa: E402


def main():
    build = os.environ.get("PIGEON_BUILD", str(Path(__file__).resolve().parent.parent / "build/release"))
    sc = textbook.Scenario(build, keep="--keep" in sys.argv)
    body = ("From: Alice <alice@crepes.fr>\r\nTo: Bob <bob@hamburger.edu>\r\n"
            "Subject: Lunch?\r\nMessage-ID: <demo.%d@crepes.fr>\r\nDate: Sun, 22 Nov 2026 12:00:00 +0000\r\n"
            "\r\nDo you like ketchup?\r\nHow about pickles?\r\n" % int(time.time() * 1000))
    ok = False
    try:
        sc.setup()
        if not sc.with_resolver:
            print("(this pigeond has no recursive resolver yet: each server asks the other's "
                  "authoritative DNS directly)")
        sc.send(body.encode())
        if not sc.wait_delivered():
            print("Bob's server never stored the message")
            return 1
        steps_ok = sc.narrate()
        if sc.with_resolver:
            print("   The chain of trust the resolver validated for hamburger.edu's MX:")
            chain, secure = textbook.chain_of_trust()
            for line in chain:
                print("     " + line)
            steps_ok = steps_ok and secure
        got = textbook.strip_trace(sc.read_pop3())
        same = got == body.encode()
        print("   POP3 copy is %s" % ("byte-identical" if same else "DIFFERENT"))
        try:
            got_imap = textbook.strip_trace(sc.read_imap())
            same_imap = got_imap == body.encode()
            print("   IMAP copy is %s" % ("byte-identical" if same_imap else "DIFFERENT"))
        except OSError as e:
            same_imap = True
            print("   (IMAP not available on this build: %s)" % e)
        ok = steps_ok and same and same_imap
    finally:
        sc.teardown()
    print("Textbook scenario: %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
