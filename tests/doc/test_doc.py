"""The configuration reference has one source, doc/config.txt: README's
table must be what doc/mkdoc.py makes of it, its keys exactly those
component/config.c accepts (`imgroups --config-keys`), and the man pages made
from it must render without a warning. Prints TAP.

    /usr/bin/python3 tests/doc/test_doc.py /path/to/imgroups MAN_PAGE...
"""

import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import tap  # noqa: E402  (tests/tap.py)

ROOT = os.path.join(HERE, "..", "..")
MKDOC = os.path.join(ROOT, "doc", "mkdoc.py")
CONFIG = os.path.join(ROOT, "doc", "config.txt")
README = os.path.join(ROOT, "README.md")


def run(args, env=None):
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, env=env)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def main(t, binary, pages):
    rc, out, err = run([sys.executable, MKDOC, "readme", CONFIG, README, "--check"])
    t.check(rc == 0, "README's configuration table is the one doc/config.txt makes "
            "(doc/mkdoc.py readme doc/config.txt README.md rewrites it)", out + err)

    rc, out, err = run([sys.executable, MKDOC, "keys", CONFIG])
    documented = set(out.splitlines())
    rc2, out2, err2 = run([binary, "--config-keys"])
    accepted = set(out2.splitlines())
    t.check(rc == 0 and rc2 == 0 and documented and documented == accepted,
            "doc/config.txt documents exactly the keys config.c accepts",
            "accepted, not documented: %s\ndocumented, not accepted: %s\n%s%s"
            % (sorted(accepted - documented), sorted(documented - accepted), err, err2))

    rc, out, err = run([binary, "--help"])
    options = sorted(set(re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z-]*)", out, re.M)))
    if rc != 0 or "--config" not in options:
        raise tap.Abort("imgroups --help: %s%s" % (out, err))

    for page in pages:
        name = os.path.basename(page)
        rc, out, err = run(["groff", "-man", "-ww", "-z", page])
        t.check(rc == 0 and not err.strip(), "%s renders with groff -man -ww without a warning"
                % name, err)
        env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0", MANPAGER="cat",
                   PAGER="cat")
        rc, out, err = run(["man", "-l", page], env=env)
        # overstrikes (bold, underline) off; words hyphenated across lines joined
        text = re.sub(".\b", "", out)
        text = re.sub("[\u2010-]\n\\s*", "", text).replace("\u2010", "-")
        missing = []
        if name.startswith("imgroups.ini"):
            missing = [k for k in sorted(documented) if k.split(" ", 1)[1] not in text]
        if name.startswith("imgroups.8"):
            missing = [o for o in options if o not in text]
        t.check(rc == 0 and "NAME" in text and not missing,
                "man -l %s shows the page, %s" % (name, "every key in it"
                                                  if name.startswith("imgroups.ini")
                                                  else "every option of --help in it"),
                "missing: %s\n%s" % (missing, err))


if __name__ == "__main__":
    tap.usage(sys.argv, "/path/to/imgroups MAN_PAGE...", lambda a: len(a) >= 2)
    pages = sys.argv[2:]
    plan = 2 + 2 * len(pages)
    if not shutil.which("groff") or not shutil.which("man"):
        sys.stderr.write("test_doc.py needs groff and man (scripts/deps)\n")
    sys.exit(tap.run(lambda: tap.FnRun(plan, lambda t: main(t, sys.argv[1], pages)), 120, "doc"))
