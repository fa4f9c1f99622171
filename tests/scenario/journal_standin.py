#!/usr/bin/env -S /usr/bin/python3 -u
# A STAND-IN for systemd-journald (tests only): run inside a private mount namespace (unshare -m), it puts its own sockets where the journal's are and records what arrives.
"""journal_standin: runs a command as systemd would, with stderr connected
to the journal's stream socket, and records the datagrams written to the
journal's native socket.

    unshare -m journal_standin.py OUTDIR -- COMMAND ARGS...

In its own mount namespace it mounts a tmpfs on /run (the host's /run is
not touched), binds /run/systemd/journal/socket (datagrams: the native
protocol g_log_writer_journald speaks) and /run/systemd/journal/stdout (the
stream stderr is connected to, as systemd does for a service). Each record
goes to OUTDIR/journal.jsonl as one JSON object of its fields; the stream
to OUTDIR/stream.log. Exits with the command's status; SIGTERM and SIGHUP
are passed on. Python 3 standard library only."""

import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys


def parse(data):
    """The native protocol: KEY=value\\n, or KEY\\n<le64 size>value\\n."""
    fields = {}
    i = 0
    while i < len(data):
        nl = data.index(b'\n', i)
        line = data[i:nl]
        if b'=' in line:
            k, v = line.split(b'=', 1)
            i = nl + 1
        else:
            k = line
            (size,) = struct.unpack('<Q', data[nl + 1:nl + 9])
            v = data[nl + 9:nl + 9 + size]
            i = nl + 9 + size + 1
        fields[k.decode()] = v.decode('utf-8', 'replace')
    return fields


def main(argv):
    out, cmd = argv[1], argv[3:]
    subprocess.run(['mount', '-t', 'tmpfs', 'none', '/run'], check=True)
    os.makedirs('/run/systemd/journal')
    native = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    native.bind('/run/systemd/journal/socket')
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind('/run/systemd/journal/stdout')
    listener.listen(1)
    stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stream.connect('/run/systemd/journal/stdout')
    peer, _ = listener.accept()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stderr=stream.fileno())
    stream.close()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _: proc.send_signal(signum))
    with open(os.path.join(out, 'journal.jsonl'), 'a') as records, \
            open(os.path.join(out, 'stream.log'), 'ab') as text:
        watched = [native, peer]
        while True:
            try:
                r, _, _ = select.select(watched, [], [], 0.1)
            except InterruptedError:
                continue
            if native in r:
                records.write(json.dumps(parse(native.recv(1 << 20))) + '\n')
                records.flush()
            if peer in r:
                chunk = peer.recv(65536)
                if not chunk:  # the command closed its stderr
                    watched.remove(peer)
                text.write(chunk)
                text.flush()
            if native not in r and proc.poll() is not None:
                return proc.returncode


if __name__ == '__main__':
    sys.exit(main(sys.argv))
