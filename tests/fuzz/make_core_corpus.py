"""Writes the seed corpora of the core's fuzz targets:

- tests/fuzz/corpus/jid/: every JID of the table in tests/test_jid.c, and a
  few the table lacks (look-alike and compatibility characters, a long
  resource, a part at the length limit);
- tests/fuzz/corpus/config/: every INI example in README.md (an [account:]
  example behind a minimal [component] and [storage]), one file setting
  every key of README's configuration reference to its documented default,
  and a few broken files;
- tests/fuzz/corpus/schema/: one record of each type as schema/ writes it
  (GVariant normal form, built with GLib through PyGObject), behind the
  byte fuzz_schema reads as the length of a stray key tail; and a few
  records of a wrong version or with a stray key tail.

    /usr/bin/python3 tests/fuzz/make_core_corpus.py

The output is deterministic.
"""

import os
import re
import sys

from gi.repository import GLib

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.join(HERE, "..", "..")
CORPUS = os.path.join(HERE, "corpus")


def c_string(literal):
    """The bytes of a C string literal's body (ASCII source, \\x escapes)."""
    return literal.encode("latin-1").decode("unicode_escape").encode(
        "latin-1")


def jid_seeds():
    with open(os.path.join(TOP, "tests", "test_jid.c"), encoding="utf-8") as f:
        text = f.read()
    table = text[text.index("cases[] = {"):text.index("};")]
    seeds = {}
    for i, m in enumerate(re.finditer(r'^\s*\{"((?:[^"\\]|\\.)*)"', table,
                                      re.M)):
        seeds["table-%02d" % i] = c_string(m.group(1))
    extra = {
        "kelvin-sign": "\u212aelvin@groups.localhost",
        "fullwidth": "\uff4c\uff4f\uff42\uff42\uff59@groups.localhost",
        "ligature": "\ufb01le@groups.localhost",
        "sharp-s": "stra\u00dfe@groups.localhost",
        "zero-width": "lob\u200bby@groups.localhost/ni\u200dck",
        "resource-with-slashes": "room@groups.localhost/a/b/c@d",
        "long-resource": "room@groups.localhost/" + "r" * 1023,
        "long-node": "n" * 1023 + "@groups.localhost",
        "trailing-dot": "room@groups.localhost.",
        "ip-domain": "room@127.0.0.1/x",
        # NFKC makes it a capital that folds on: found by fuzz_jid.
        "upsilon-hook-symbol": "\u03d2@groups.localhost",
        # Nicks: the look-alikes of issue 9, item 8.
        "nick-two-spaces": "Big  Boss",
        "nick-hangul-filler": "Big Boss\u3164",
        "nick-zero-width": "Big\u200bBoss",
        "nick-soft-hyphen": "Big\u00adBoss",
        "nick-bidi": "\u202eBig Boss",
        "nick-variation-selector": "Boss\ufe0f",
        "nick-fullwidth-spaced": "  \uff22ig\u3000Boss  ",
        "nick-sigma": "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3",
    }
    for name, s in extra.items():
        seeds[name] = s.encode("utf-8")
    return seeds


MINIMAL = ("[component]\njid = groups.localhost\nhost = 127.0.0.1\n"
           "port = 5347\nsecret = changeme\n\n[storage]\npath = /tmp/x\n\n")


REQUIRED = {"jid": "groups.localhost", "host": "127.0.0.1", "port": "5347",
            "secret": "changeme", "path": "/tmp/x", "admins": "admin@localhost;",
            "plugin_dir": "/tmp", "protocol": "prpl-irc",
            "username": "bot@127.0.0.1", "group": "lobby"}


def config_seeds():
    with open(os.path.join(TOP, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    seeds = {}
    for i, block in enumerate(re.findall(r"```ini\n(.*?)```", readme, re.S)):
        if "[component]" not in block:
            block = MINIMAL + block
        seeds["readme-%02d" % i] = block.encode("utf-8")
    # README's reference: | `[group]` | `key` | meaning | `default` |
    full, group = [], None
    for m in re.finditer(r"^\| (?:`\[([^]]+)\]`)? *\| `([a-z_.]+)`"
                         r"(?:, `([a-z_]+)`)? \|.*\| (.*) \|$", readme, re.M):
        if m.group(1):
            group = m.group(1).replace("NAME", "lobby")
            full.append("\n[%s]" % group)
        keys = [k for k in m.group(2, 3) if k and k != "option.KEY"]
        defaults = re.findall(r"`([^`]*)`", m.group(4))
        for key, value in zip(keys, defaults + [""] * len(keys)):
            full.append("%s = %s" % (key, value))
    text = "\n".join(full) + "\n"
    # Required keys have no default: the values of the minimal file.
    for key, value in REQUIRED.items():
        text = text.replace("\n%s = \n" % key, "\n%s = %s\n" % (key, value))
    seeds["reference-defaults"] = text.encode("utf-8")
    seeds["empty"] = b""
    seeds["not-utf8"] = MINIMAL.encode() + b"[service]\nadmins = \xff@x;\n"
    seeds["unknown-key"] = MINIMAL.encode() + b"[component]\nsecrte = x\n"
    seeds["account-without-name"] = MINIMAL.encode() + (
        b"[account:]\nprotocol = prpl-irc\nusername = a\ngroup = g\n")
    seeds["numbers-out-of-range"] = (
        MINIMAL.replace("5347", "70000") +
        "[limits]\nrate = -1\nburst = 99999999999999999999\n").encode()
    seeds["escapes-and-lists"] = MINIMAL.encode() + (
        b"[service]\nadmins = a@b\\;c;d@e;;\n[log]\nlevel = debug\n"
        b"link = error\n")
    return seeds


def record(type_, value):
    return GLib.Variant(type_, value).get_normal_form().get_data_as_bytes(
    ).get_data()


def v(type_, value):
    return GLib.Variant(type_, value)


def schema_seeds():
    group = record("(qa{sv})", (1, {
        "name": v("s", "Lobby"), "description": v("s", "the lobby"),
        "public": v("b", True), "persistent": v("b", True),
        "created": v("x", 1700000000), "members_only": v("b", False),
        "password": v("s", ""), "moderated": v("b", False),
        "whois_anyone": v("b", False), "change_subject": v("b", True),
        "allow_pm": v("s", "anyone"), "max_users": v("u", 0),
        "history_len": v("i", 20), "keep_days": v("i", -1),
        "subject": v("s", "welcome"), "subject_nick": v("s", "alice")}))
    seeds = {
        "groups": group,
        "groups-version-2": record("(qa{sv})", (2, {"name": v("s", "x")})),
        "affiliations": record("(qsa{sv})", (1, "owner", {
            "reason": v("s", "founder"), "since": v("x", 1700000000)})),
        "affiliations-unknown-name": record("(qsa{sv})", (1, "boss", {})),
        "accounts": record("(qa{sv})", (1, {
            "protocol": v("s", "prpl-irc"), "username": v("s", "bot@irc"),
            "group": v("s", "g"), "mode": v("s", "chat"),
            "chat": v("s", "#lobby"),
            "options": v("a{ss}", {"port": "6667"}),
            "enabled": v("b", True), "pace_burst": v("u", 5),
            "pace_rate": v("d", 1.0), "from_config": v("b", True)})),
        "secrets": record("(qs)", (1, "s3cret")),
        "members": record("(qa{sv})", (1, {
            "group": v("s", "g"), "nick": v("s", "carol"),
            "alias": v("s", "Carol"), "muted": v("b", False),
            "welcomed": v("b", True), "since": v("x", 1700000000000000),
            "seen": v("x", 1700000001000000)})),
        "outbox": record("(qa{sv})", (1, {
            "group": v("s", "g"), "archive_seq": v("t", 1),
            "time": v("x", 1700000000000000), "nick": v("s", "alice"),
            "body": v("s", "hello"), "action": v("b", True)})),
        "mark": record("(qt)", (1, 41)),
        "mark-exhausted": record("(qt)", (1, 2**64 - 1)),
        "archive": record("(qsxsmsa{sv})", (
            1, "0000000000000001abcdef01", 1700000000000000, "alice",
            "hello", {"subject": v("s", "topic"),
                      "occupant_id": v("s", "occ1"),
                      "sender_jid": v("s", "alice@localhost"),
                      "sender_account": v("s", "a"),
                      "sender_handle": v("s", "h"),
                      "origin_id": v("s", "orig-1")})),
        "archive-subject-only": record("(qsxsmsa{sv})", (
            1, "0000000000000001abcdef01", 1, "", None,
            {"subject": v("s", "topic")})),
    }
    out = {name: b"\x00" + data for name, data in seeds.items()}
    # The same records behind stray key tails: a second archive message, a
    # second member handle, a key without its separator.
    out["archive-tail-seq-2"] = (b"\x09" + b"\x00" * 8 + b"\x02" +
                                 seeds["archive"])
    out["members-tail-handle"] = b"\x02" + b"h2" + seeds["members"]
    out["outbox-tail-entry"] = (b"\x0c" + b"ix\x00" + b"\x00" * 7 + b"\x05" +
                                seeds["outbox"])
    out["groups-tail-not-utf8"] = b"\x02" + b"\xff\xfe" + seeds["groups"]
    out["truncated"] = b"\x00" + seeds["groups"][:-5]
    return out


def write(name, seeds):
    out = os.path.join(CORPUS, name)
    os.makedirs(out, exist_ok=True)
    for old in os.listdir(out):
        os.unlink(os.path.join(out, old))
    for file, data in sorted(seeds.items()):
        with open(os.path.join(out, file), "wb") as f:
            f.write(data)
    print("%s: %d files" % (out, len(seeds)))


def main():
    write("jid", jid_seeds())
    write("config", config_seeds())
    write("schema", schema_seeds())


if __name__ == "__main__":
    sys.exit(main())
