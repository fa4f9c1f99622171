"""A TCP relay between an IRC client (the worker) and a server that counts
the lines the client sends, for tests and benchmarks that must see what
goes over the wire: how many delivery PINGs ("PING :imgroups-N", from
transports/purple/pingpong.c) a burst of messages cost, and how many
PRIVMSGs. One client connection at a time; threads; stop() closes all.

    p = IrcProxy(ngircd_port).start()      # the worker connects to p.port
    p.wait_pings(1, timeout=10)
    p.pings, p.privmsgs
"""

import socket
import threading
import time

LOCAL = "127.0.0.1"
TOKEN = b"PING :imgroups-"


class IrcProxy:
    def __init__(self, upstream_port, host=LOCAL):
        self.upstream = (host, upstream_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Condition()
        self.pings = 0      # delivery PINGs the client sent
        self.privmsgs = 0   # PRIVMSG lines the client sent
        self.socks = []
        self.stopped = False

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self):
        while not self.stopped:
            try:
                down, _ = self.listener.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                down.close()
                continue
            up.settimeout(None)
            for s in (down, up):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.socks += [down, up]
            threading.Thread(target=self._pump, args=(down, up, True),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(up, down, False),
                             daemon=True).start()

    def _pump(self, src, dst, counting):
        buf = b""
        while True:
            try:
                chunk = src.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            if counting:
                buf += chunk
                *lines, buf = buf.split(b"\r\n")
                self._count(lines)
            try:
                dst.sendall(chunk)
            except OSError:
                break
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _count(self, lines):
        with self.lock:
            for line in lines:
                if line.startswith(TOKEN):
                    self.pings += 1
                elif line.startswith(b"PRIVMSG "):
                    self.privmsgs += 1
            self.lock.notify_all()

    def wait_pings(self, n, timeout):
        """Waits until at least n delivery PINGs went by; returns the
        count."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.pings < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.lock.wait(left)
            return self.pings

    def stop(self):
        self.stopped = True
        for s in [self.listener] + self.socks:
            try:
                s.close()
            except OSError:
                pass
