"""What the long tests share: tests/real on the import path (servers,
bridgebase, the XMPP and IRC clients), the slixmpp check, and their knobs
from the environment."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "real"))
try:
    import xmppclient  # noqa: E402,F401  (needs slixmpp)
except ImportError as e:
    sys.stderr.write("%s: %s (run it with /usr/bin/python3, which sees "
                     "Debian's python3-slixmpp)\n" % (sys.argv[0], e))
    sys.exit(2)


def knob(name, default):
    """A number from the environment variable `name`, or `default`."""
    return type(default)(os.environ.get(name, default))
