#!/usr/bin/env -S /usr/bin/python3 -u # A STAND-IN for imgroups-purple (tests only): hands its socketpair end to the scenario harness, so that tests play the worker without libpurple or a network.
"""fake_worker: what imgroups runs as `[legacy] worker` in the bridge
scenario tests (tests/scenario/bridgeharness.py). The core starts it as it
starts imgroups-purple (--fd N --user-dir DIR, the account being the last
part of DIR); it passes fd N and the account's name over the unix socket
named by IMGROUPS_FAKE_WORKER to the harness, which speaks the protocol of
transports/protocol.h on it. It then waits until the harness hangs up or
it is signalled, and exits 0. Python 3 standard library only."""

import os
import signal
import socket
import sys


def main(argv):
    fd = user_dir = None
    for i, a in enumerate(argv[:-1]):
        if a == "--fd":
            fd = int(argv[i + 1])
        elif a == "--user-dir":
            user_dir = argv[i + 1]
    path = os.environ.get("IMGROUPS_FAKE_WORKER")
    if fd is None or user_dir is None or not path:
        sys.stderr.write("fake_worker: needs --fd, --user-dir and "
                         "IMGROUPS_FAKE_WORKER\n")
        return 2
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    account = os.path.basename(user_dir.rstrip("/")).encode()
    ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ctl.connect(path)
    socket.send_fds(ctl, [account], [fd])
    os.close(fd)
    while ctl.recv(64):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
