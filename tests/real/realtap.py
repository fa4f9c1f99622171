"""What the real-server tests share: numbered TAP lines with a plan known up
front, and the main() that runs one Run against prosody or ejabberd under a
watchdog, finishing the plan and cleaning up whatever happens."""

import os
import signal
import sys
import time


class Tap:
    """Numbered TAP lines; a plan known up front."""

    def __init__(self, plan):
        self.n = 0
        self.failed = 0
        print("1..%d" % plan, flush=True)

    def diag(self, text):
        for line in str(text).splitlines() or [""]:
            print("# " + line, flush=True)

    def check(self, ok, desc, diag=None):
        self.n += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", self.n, desc),
              flush=True)
        if not ok:
            self.failed += 1
            if diag:
                self.diag(diag)
        return ok


class Abort(Exception):
    """A check whose failure makes the following ones meaningless."""


def on_signal(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main(argv, run_class, watchdog):
    """argv: [script, prosody|ejabberd, /path/to/imgroups]. run_class(server,
    binary) has .tap, .PLAN, .main(), .finish_plan(why) and .cleanup()."""
    if len(argv) != 3 or argv[1] not in ("prosody", "ejabberd"):
        sys.stderr.write("usage: %s prosody|ejabberd /path/to/imgroups\n"
                         % argv[0])
        return 2
    if not os.access(argv[2], os.X_OK):
        sys.stderr.write("%s: not an executable\n" % argv[2])
        return 2
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_signal)
    signal.alarm(watchdog)
    start = time.monotonic()
    run = run_class(argv[1], argv[2])
    try:
        run.main()
        if run.tap.n != run.PLAN:
            run.tap.diag("ran %d checks, planned %d" % (run.tap.n, run.PLAN))
            run.tap.failed += 1
    except Abort:
        run.finish_plan("an earlier check failed")
    except KeyboardInterrupt as e:
        run.finish_plan("interrupted (%s)" % (e or "watchdog/Ctrl-C"))
    except Exception as e:
        import traceback
        run.tap.diag(traceback.format_exc())
        run.finish_plan("the test crashed: %s" % e)
    finally:
        signal.alarm(0)
        run.cleanup()
    run.tap.diag("%s: %d of %d checks failed, %.1f s"
                 % (argv[1], run.tap.failed, run.PLAN,
                    time.monotonic() - start))
    return 1 if run.tap.failed else 0
