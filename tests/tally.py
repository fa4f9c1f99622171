"""Counts test cases from meson's testlog.json files (each test speaks TAP,
so each 'ok'/'not ok' line is one case) and prints 'N passed, N failed'.
A test that failed without reporting a failing case counts as one failure;
one that passed without TAP (a fuzzer's run) counts as one case passed.
A case marked TODO (known to fail for now) counts as neither when it fails
and as a failure when it passes: its TODO is then out of date."""
import json
import re
import sys

passed = failed = todo = 0
TODO = r" # TODO\b"
for path in sys.argv[1:]:
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError as e:
        print(f"tally: {path}: {e}", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        out = t.get("stdout") or ""
        ok = len(re.findall(r"^ok \d+(?!.*%s)" % TODO, out, re.M))
        bad = len(re.findall(r"^not ok \d+(?!.*%s)" % TODO, out, re.M))
        todo += len(re.findall(r"^not ok \d+.*%s" % TODO, out, re.M))
        for case in re.findall(r"^ok \d+.*%s.*" % TODO, out, re.M):
            bad += 1
            print(f"tally: {t.get('name')}: passes, yet marked TODO: {case}",
                  file=sys.stderr)
        if t.get("result") not in ("OK", "EXPECTEDFAIL", "SKIP") and bad == 0:
            bad = 1
            print(f"tally: {t.get('name')} in {path}: {t.get('result')}",
                  file=sys.stderr)
        if t.get("result") == "OK" and ok == 0 and bad == 0:
            ok = 1
        passed += ok
        failed += bad
if todo:
    print(f"tally: {todo} cases marked TODO failed, as expected",
          file=sys.stderr)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
