"""Frames of the core–worker protocol (transports/protocol.h) for Python
tests: a frame is a 4-byte big-endian length, then a serialised GVariant
"(uv)" holding the message type id and its body. Type ids and body types are
read from the X-macro table in protocol.h (ids are the table's order, from
0), so this module never goes stale. Needs python3-gi: run with
/usr/bin/python3.

    w = Wire(sock)
    w.send("hello", (1,))
    t, body = w.recv(timeout=5)          # ("hello", (1,))
    w.expect("account_up", timeout=30)   # skips nothing: see wait_for()
"""

import os
import re
import select
import struct
import time

import gi

gi.require_version("GLib", "2.0")
from gi.repository import GLib  # noqa: E402

PROTOCOL_H = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "..", "..", "transports", "protocol.h")


def load_messages(path=PROTOCOL_H):
    """[(name, body type)] in id order, from protocol.h's PROTO_MESSAGES."""
    with open(path) as f:
        text = f.read()
    start = text.index("#define PROTO_MESSAGES(X)")
    end = text.index("enum proto_type", start)
    rows = re.findall(r'X\(\s*PROTO_\w+\s*,\s*"([^"]+)"\s*,\s*"([^"]+)"\s*\)',
                      text[start:end])
    if not rows:
        raise RuntimeError("no messages found in %s" % path)
    return rows


MESSAGES = load_messages()
TYPE_ID = {name: i for i, (name, _) in enumerate(MESSAGES)}
BODY_TYPE = {name: body for name, body in MESSAGES}
FRAME_MAX = 1024 * 1024


def encode(name, value):
    """One frame: `value` is the body as a Python tuple of the body type."""
    body = GLib.Variant(BODY_TYPE[name], value)
    frame = GLib.Variant("(uv)", (TYPE_ID[name], body))
    data = frame.get_data_as_bytes().get_data()
    return struct.pack(">I", len(data)) + data


def decode(data):
    """(name, body tuple) from the bytes after a frame's length."""
    v = GLib.Variant.new_from_bytes(GLib.VariantType.new("(uv)"),
                                    GLib.Bytes.new(data), False)
    type_id = v.get_child_value(0).get_uint32()
    body = v.get_child_value(1).get_variant()
    if type_id >= len(MESSAGES):
        raise ValueError("unknown message type %d" % type_id)
    name, body_type = MESSAGES[type_id]
    if body.get_type_string() != body_type:
        raise ValueError("%s with a body of type %s"
                         % (name, body.get_type_string()))
    return name, body.unpack()


class Closed(Exception):
    """The peer closed the socket."""


class Wire:
    """Both directions over one socket. Received messages that a wait_for()
    skipped stay in `seen` for later checks."""

    def __init__(self, sock, log=None):
        self.sock = sock
        self.buf = b""
        self.seen = []
        self.history = []  # every message received, in order
        self.log = log

    def send(self, name, value):
        if self.log:
            self.log("> %s %r" % (name, value))
        self.sock.sendall(encode(name, value))

    def _frame(self):
        if len(self.buf) < 4:
            return None
        (size,) = struct.unpack(">I", self.buf[:4])
        if size > FRAME_MAX:
            raise ValueError("frame of %d bytes" % size)
        if len(self.buf) < 4 + size:
            return None
        data, self.buf = self.buf[4:4 + size], self.buf[4 + size:]
        return decode(data)

    def recv(self, timeout):
        """The next message, or None after `timeout` seconds. Raises Closed
        at EOF."""
        deadline = time.monotonic() + timeout
        while True:
            msg = self._frame()
            if msg:
                self.history.append(msg)
                if self.log:
                    self.log("< %s %r" % msg)
                return msg
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed()
            self.buf += chunk

    def wait_for(self, pred, timeout):
        """The first message (name, body) for which pred(name, body) is
        true, within `timeout` seconds, or None. Messages before it are kept
        in `seen`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            msg = self.recv(left)
            if msg is None:
                return None
            if pred(*msg):
                return msg
            self.seen.append(msg)

    def expect(self, name, timeout, match=None):
        """wait_for a message called `name` whose body satisfies match(body)
        (if given)."""
        return self.wait_for(
            lambda n, b: n == name and (match is None or match(b)), timeout)
