"""The one TAP writer and run loop of every Python test (tests/scenario,
tests/real, tests/long, tests/msn): a plan known up front, numbered checks,
a watchdog, and a run whose plan is always finished and whose processes are
always cleaned up, whatever happens. Python 3 standard library only.

A test directory puts this one (tests/) on its import path:
    sys.path.insert(0, os.path.join(os.path.dirname(
        os.path.abspath(__file__)), ".."))
"""

import signal
import sys
import time
import traceback


class Tap:
    """Numbered TAP lines. plan: the names of the checks in order (a list,
    which also names the checks never reached) or just their number."""

    def __init__(self, plan):
        self.names = list(plan) if not isinstance(plan, int) else []
        self.plan = len(self.names) if self.names else plan
        self.n = 0
        self.failed = 0
        print("1..%d" % self.plan, flush=True)

    def diag(self, text):
        for line in str(text).rstrip("\n").splitlines() or [""]:
            print("# " + line, flush=True)

    def check(self, ok, desc, diag=None, todo=None):
        """One numbered line; diag (any text) is shown under a failure.
        todo: why the check is known to fail for now (TAP's TODO directive:
        its failure is expected, its success is reported as unexpected).
        Returns ok, so that a caller can stop on a failure."""
        self.n += 1
        # TAP has no escape for '#' in a description, and meson's parser
        # takes the first one as the start of a directive: a TODO after
        # "disco#items" would be lost and its expected failure counted.
        desc = desc.replace("#", "\u266f")
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, desc,
                                " # TODO " + todo if todo else ""),
              flush=True)
        if not ok:
            if not todo:
                self.failed += 1
            if diag:
                self.diag(diag)
        return ok

    def name(self, i=None):
        """The planned name of check i (0-based; the next one by default)."""
        i = self.n if i is None else i
        return self.names[i] if i < len(self.names) else "check %d" % (i + 1)

    def finish(self, why):
        """Fails every planned check not yet run, naming why."""
        while self.n < self.plan:
            self.check(False, "%s (not run: %s)" % (self.name(), why))


class Abort(Exception):
    """A check whose failure makes the following ones meaningless."""


def on_signal(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def run(make, watchdog, label=""):
    """Builds a run with make() and runs it: run.tap is its Tap,
    run.main() makes the checks, run.cleanup() stops what it started (called
    whatever happens). SIGTERM, Ctrl-C and the watchdog (seconds; 0 for
    none) interrupt main(); the checks not made are failed with the reason.
    Returns the exit status: 0 when every planned check ran and passed."""
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_signal)
    signal.alarm(watchdog)
    start = time.monotonic()
    r = make()
    t = r.tap
    try:
        r.main()
        if t.n > t.plan:
            t.diag("ran %d checks, planned %d" % (t.n, t.plan))
            t.failed += 1
        t.finish("not reached")
    except Abort as e:
        if str(e):
            t.diag("aborted: %s" % e)
        t.finish("an earlier check failed")
    except KeyboardInterrupt as e:
        t.finish("interrupted (%s)" % (e or "watchdog/Ctrl-C"))
    except Exception as e:
        t.diag(traceback.format_exc())
        t.finish("the test crashed: %s" % e)
    finally:
        signal.alarm(0)
        try:
            r.cleanup()
        except Exception:
            t.diag("cleanup: " + traceback.format_exc())
            t.failed += 1
    t.diag("%s%d of %d checks failed, %.1f s"
           % (label + ": " if label else "", t.failed, t.plan,
              time.monotonic() - start))
    return 1 if t.failed else 0


class FnRun:
    """A run that is one function: fn(t) makes the checks on t, a Tap of
    plan; done() (when given) stops what fn started."""

    def __init__(self, plan, fn, done=None):
        self.tap = Tap(plan)
        self.fn = fn
        self.done = done

    def main(self):
        self.fn(self.tap)

    def cleanup(self):
        if self.done:
            self.done()


def usage(argv, words, ok):
    """Exits with status 2 and a usage line unless ok(argv[1:])."""
    try:
        good = ok(argv[1:])
    except Exception:
        good = False
    if not good:
        sys.stderr.write("usage: %s %s\n" % (argv[0], words))
        sys.exit(2)
