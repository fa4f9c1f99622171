#!/usr/bin/python3
"""Makes the configuration reference's outputs from doc/config.txt (its
format is described at its top):

    mkdoc.py readme CONFIG README.md [--check]   the table in README.md,
        between its markers (--check: exit 1 with a diff if it differs)
    mkdoc.py man CONFIG TEMPLATE OUT VERSION     a man page: TEMPLATE with
        @REFERENCE@ (the sections and keys in groff) and @VERSION@ filled in
    mkdoc.py keys CONFIG                         the keys, "SECTION KEY" a
        line, as `imgroups --config-keys` prints those config.c accepts

Python 3 standard library only."""

import difflib
import re
import sys

BEGIN = ("<!-- configuration reference: made from doc/config.txt by "
         "doc/mkdoc.py; edit it there -->")
END = "<!-- /configuration reference -->"
HEAD = re.compile(r"^\[([^\]]+)\]( (.+?) \| (.*))?$")


class Row:
    def __init__(self, section, names, default):
        self.section = section
        self.names = [n.strip() for n in names.split(",")]
        self.default = default
        self.keys = [n for n in self.names if not n.startswith("*")]
        self.text = []


def parse(path):
    """[(section, intro, [Row])] in file order."""
    sections, cur, where = [], None, None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line.strip():
                where = None
                continue
            m = HEAD.match(line)
            if m:
                name = m.group(1)
                if not m.group(2):
                    cur = (name, [], [])
                    sections.append(cur)
                    where = cur[1]
                    continue
                if not cur or cur[0] != name:
                    sys.exit("%s:%d: [%s] key before its section" % (path, n, name))
                row = Row(name, m.group(3), m.group(4))
                cur[2].append(row)
                where = row
                continue
            if isinstance(where, Row) and line.startswith("keys:"):
                where.keys += line[5:].split()
            elif isinstance(where, Row):
                where.text.append(line.strip())
            elif where is not None:
                where.append(line.strip())
            else:
                sys.exit("%s:%d: text outside a block" % (path, n))
    for name, _, rows in sections:
        for r in rows:
            if not r.keys or not r.text:
                sys.exit("%s: [%s] %s: no keys or no text" % (path, name, ", ".join(r.names)))
    return sections


def table(sections):
    out = ["| section | key | meaning | default |", "|---|---|---|---|"]
    for name, _, rows in sections:
        for i, r in enumerate(rows):
            names = ", ".join(n if n.startswith("*") else "`%s`" % n for n in r.names)
            first = "| `[%s]` |" % name if i == 0 else "| |"
            out.append("%s %s | %s | %s |" % (first, names, " ".join(r.text), r.default))
    return "\n".join(out) + "\n"


def readme(config, path, check):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        a = text.index(BEGIN) + len(BEGIN) + 1
        b = text.index(END, a)
    except ValueError:
        sys.exit("%s: the markers of the configuration reference are missing" % path)
    new = text[:a] + table(parse(config)) + text[b:]
    if new == text:
        return 0
    if check:
        sys.stdout.writelines(difflib.unified_diff(
            text.splitlines(True), new.splitlines(True), path, "made from " + config))
        return 1
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)
    return 0


def roff(s):
    """Inline Markdown (`code`, *emphasis*) as groff; non-ASCII as \\[uXXXX]."""
    s = s.replace("\\", "\\e")
    s = re.sub(r"`([^`]*)`", r"\\fB\1\\fR", s)
    s = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*", r"\\fI\1\\fR", s)
    s = "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in s)
    s = s.replace("-", "\\-")
    return "\\&" + s if s[:1] in (".", "'") else s


def reference(sections):
    out = []
    for name, intro, rows in sections:
        out += [".SS \\fB[%s]\\fR" % roff(name), roff(" ".join(intro))]
        for r in rows:
            names = ", ".join(roff(n) if n.startswith("*") else "\\fB%s\\fR" % roff(n)
                              for n in r.names)
            out += [".TP", names, roff(" ".join(r.text)) + ".",
                    ".br", "Default: %s." % roff(r.default)]
    return "\n".join(out)


def man(config, template, out, version):
    with open(template, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("@REFERENCE@", reference(parse(config)))
    text = text.replace("@VERSION@", version)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


def keys(config):
    for name, _, rows in parse(config):
        for r in rows:
            for k in r.keys:
                print("%s %s" % (name, k))
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "readme":
        return readme(argv[2], argv[3], "--check" in argv[4:])
    if len(argv) == 6 and argv[1] == "man":
        return man(*argv[2:])
    if len(argv) == 3 and argv[1] == "keys":
        return keys(argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
