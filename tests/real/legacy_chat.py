"""Talk as a person on MSN or Yahoo from a terminal, through the project's
stand-in servers (fake_msn.py, fake_ymsg.py: stand-ins for a revival
server, not real ones) and their test clients (MsnClient, YmsgClient).
Logs in, adds the bot to the contact list, then sends each line read from
stdin to the bot and prints each message that arrives, as
"<from> text" (lines starting with / are the bot's commands: /help).
Ctrl-D or Ctrl-C signs off. scripts/demo prints the exact command for its
servers:

    /usr/bin/python3 tests/real/legacy_chat.py msn --port NS_PORT \\
        --nexus URL carol@example.com:carol --to lobbybot@example.com
    /usr/bin/python3 tests/real/legacy_chat.py yahoo --port PORT \\
        yuki:yuki --to lobbybot
"""

import argparse
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_ymsg  # noqa: E402
from fake_msn import MsnClient  # noqa: E402

# Lines printed, one per event, flushed at once: a script (the demo's
# test) reads them too.
READY = "ready: type a line and Enter to send it to %s"


def say(text):
    print(text, flush=True)


async def lines():
    """stdin, line by line, without blocking the loop."""
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        if line.strip():
            yield line.rstrip("\n")


async def msn(args, who, password):
    c = MsnClient(args.host, args.port, args.nexus, who, password)
    await c.login()
    await c.add(args.to)
    say("logged in to MSN (stand-in) as %s" % who)
    seen = 0

    async def show():
        nonlocal seen
        while True:
            await c.wait(lambda: len(c.messages) > seen, "a message", 3600)
            for sender, text in c.messages[seen:]:
                say("<%s> %s" % (sender, text))
            seen = len(c.messages)
    shower = asyncio.ensure_future(show())
    say(READY % args.to)
    try:
        async for line in lines():
            await c.say(args.to, line)
    finally:
        shower.cancel()
        await c.quit()


async def yahoo(args, who, password):
    c = fake_ymsg.YmsgClient(args.port, who, password, host=args.host)
    await c.login()
    c.add_buddy(args.to, text="hi")
    say("logged in to Yahoo (stand-in) as %s" % who)

    async def show():
        while True:
            p = await c.wait(lambda p: p[0] == fake_ymsg.MESSAGE,
                             "a message", 3600)
            text = fake_ymsg.get(p[2], 14, "")
            say("<%s> %s" % (fake_ymsg.get(p[2], 4, "?"), text))
    shower = asyncio.ensure_future(show())
    say(READY % args.to)
    try:
        async for line in lines():
            c.message(args.to, line)
    finally:
        shower.cancel()
        await c.quit()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("network", choices=("msn", "yahoo"))
    ap.add_argument("account", help="EMAIL:PASSWORD (MSN), ID:PASSWORD "
                    "(Yahoo)")
    ap.add_argument("--to", required=True, help="the bot to talk to")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True,
                    help="MSN: the notification server's; Yahoo: the server's")
    ap.add_argument("--nexus", help="MSN: the Passport nexus URL")
    args = ap.parse_args(argv[1:])
    who, _, password = args.account.partition(":")
    if args.network == "msn" and not args.nexus:
        ap.error("msn needs --nexus")
    try:
        asyncio.run((msn if args.network == "msn" else yahoo)(
            args, who, password))
    except KeyboardInterrupt:
        pass
    except Exception as e:  # a test client: say what went wrong, briefly
        say("legacy_chat: %s: %s" % (type(e).__name__, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
