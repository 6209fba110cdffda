"""Writes an mbox of N generated messages for `pigeon import mbox` (bench/webmail.sh,
bench/jmap_callgrind.sh): one sender, distinct subjects and Message-IDs (so each message is
a conversation of its own), LINES lines of random words, dates spread over January 2026.

usage: mbox.py PATH N LINES"""
import random
import sys

path, msgs, lines = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(8621)
words = "the quick brown fox jumps over lazy dog mail pigeon ketchup pickles".split()
with open(path, "w") as f:
    for n in range(msgs):
        body = "\n".join(" ".join(rnd.choice(words) for _ in range(12)) for _ in range(lines))
        day, minute, sec = 1 + n * 28 // msgs, n // 60 % 60, n % 60
        f.write("From alice@crepes.fr Thu Jan %2d 10:%02d:%02d 2026\n"
                "From: Alice <alice@crepes.fr>\nTo: u1@bench.test\nSubject: bench %d %s\n"
                "Message-ID: <%d.bench@crepes.fr>\nDate: %d Jan 2026 10:%02d:%02d +0000\n\n"
                "%s\n\n" % (day, minute, sec, n, rnd.choice(words), n, day, minute, sec, body))
