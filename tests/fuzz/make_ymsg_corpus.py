"""Writes the seed corpus of fuzz_ymsg (tests/fuzz/corpus/ymsg/) from the
captured YMSG10 session, shared/protocols/transcripts/ymsg10.log: every
packet of it encoded to bytes as it went over the wire (server packets
with version 0, client ones with version 10), the whole of alice's login
as one stream, and a few shapes the transcript does not show (LIST in
chunks, offline messages, a refusal, formatted text).

    /usr/bin/python3 tests/fuzz/make_ymsg_corpus.py [path/to/ymsg10.log]

Without a path it uses the transcript beside the repository, else the copy
in tests/real/test_fake_ymsg.py. The output is deterministic.
"""

import os
import sys

sys.dont_write_bytecode = True   # leave no __pycache__ in tests/real
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "real"))
import fake_ymsg  # noqa: E402
import test_fake_ymsg  # noqa: E402
from fake_ymsg import encode  # noqa: E402

OUT = os.path.join(HERE, "corpus", "ymsg")


def main(argv):
    path = argv[1] if len(argv) > 1 else test_fake_ymsg.DEFAULT
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    else:
        text = test_fake_ymsg.COPY
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.unlink(os.path.join(OUT, name))
    files = {}
    login = b""
    for i, (who, d, service, status, pairs) in enumerate(
            test_fake_ymsg.parse(text)):
        server = d == "<<<"
        data = encode(service, status, pairs, session=0x1234 if server else 0,
                      version=0 if server else 10)
        name = "transcript-%02d-%s-%s-%s" % (
            i, who, "server" if server else "client",
            fake_ymsg.NAMES[service])
        files[name] = data
        if who == "alice" and i < 8:
            login += data
    files["stream-alice-login"] = login
    files["list-in-two-chunks"] = (
        encode(fake_ymsg.LIST, 5, [(87, "(No Group):bob,carol\n")]) +
        encode(fake_ymsg.LIST, 0, [(87, "Work:dave\n"), (88, ""),
                                   (89, "alice")]))
    files["offline-messages"] = encode(fake_ymsg.MESSAGE, 5, [
        (31, 6), (32, 6), (4, "bob"), (5, "alice"), (14, "one"),
        (15, 1700000000), (97, 1), (31, 6), (32, 6), (4, "carol"),
        (5, "alice"), (14, "caf\u00e9"), (15, 1700000001), (97, 1)])
    files["login-refused"] = encode(fake_ymsg.AUTHRESP, 0xFFFFFFFF,
                                    [(66, 13)])
    files["formatted-text"] = encode(fake_ymsg.MESSAGE, 1, [
        (5, "alice"), (4, "bob"),
        (14, "\x1b[1m\x1b[#ff0000m<font face=\"Arial\" size=\"10\">hi"
             "</font> <alice>"), (97, 1)])
    files["newcontact-added"] = encode(fake_ymsg.NEWCONTACT, 3, [
        (1, "alice"), (3, "carol"), (14, "let me in")])
    for name, data in sorted(files.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print("%d files in %s" % (len(files), OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
