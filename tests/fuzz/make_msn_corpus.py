"""Writes tests/fuzz/corpus/msn/: the seed corpus of fuzz_msn, from
shared/protocols/transcripts/msnp12.log. One file per server line (a
payload line carries a payload of the logged length: the one the
transcript shows where it shows one, else MIME filler), and one file per
connection holding all its server lines in order. Each file starts with
the byte fuzz_msn reads as its read size.

    /usr/bin/python3 tests/fuzz/make_msn_corpus.py [path/to/msnp12.log]
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "msn")
SEEN = (b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
        b"X-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=22\r\n\r\n"
        b"hello from alice")


def payload(n):
    if n == len(SEEN):
        return SEEN
    head = (b"MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; "
            b"charset=UTF-8\r\n\r\n")
    if n <= len(head):
        return (b"<Data><PSM></PSM><CurrentMedia></CurrentMedia></Data>"
                + b" " * n)[:n]
    return head + b"x" * (n - len(head))


def main(argv):
    path = argv[1] if len(argv) > 1 else os.path.join(
        HERE, "..", "..", "..", "shared", "protocols", "transcripts",
        "msnp12.log")
    os.makedirs(OUT, exist_ok=True)
    streams = {}
    n = 0
    with open(path) as f:
        for raw in f:
            m = re.match(r"\[(\w+/\w+)\] <<< (.*?)(?:  \(\+(\d+) bytes\))?$",
                         raw.rstrip("\n"))
            if not m:
                continue
            data = m.group(2).encode() + b"\r\n"
            if m.group(3):
                data += payload(int(m.group(3)))
            streams.setdefault(m.group(1), b"")
            streams[m.group(1)] += data
            n += 1
            name = "line-%02d-%s" % (n, m.group(2)[:3])
            with open(os.path.join(OUT, name), "wb") as o:
                o.write(bytes([n % 64]) + data)
    for who, data in streams.items():
        name = "stream-%s" % who.replace("/", "-")
        with open(os.path.join(OUT, name), "wb") as o:
            o.write(b"\x00" + data)
        with open(os.path.join(OUT, name + "-split7"), "wb") as o:
            o.write(b"\x06" + data)
    print("%d lines, %d streams in %s" % (n, len(streams), OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
