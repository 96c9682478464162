"""A real SMTP server for the tests and benchmarks (aiosmtpd), on loopback.

    python3 tests/support/smtp_sink.py --dir DIR [--port 0] [--refuse-first N] [--code 451]

Prints `PORT <n>` on stdout once listening. Every accepted message is written to
DIR/<sequence>.eml (written beside, then renamed), with the envelope recipients in a first
`X-Sink-Rcpt:` line, and decoded (headers, text and HTML parts) in DIR/<sequence>.json. The first N messages are refused with --code (451: try again later; 550:
permanent). A file DIR/hold makes the server stall DATA until it is removed, so a test can kill
the client while a message is on the wire, before the server accepted it.
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory, refuse_first, code):
        self.directory = directory
        self.refuse_left = refuse_first
        self.code = code
        self.seq = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        while os.path.exists(os.path.join(self.directory, "hold")):
            await asyncio.sleep(0.05)
        if self.refuse_left > 0:
            self.refuse_left -= 1
            if self.code >= 500:
                return f"{self.code} 5.7.1 refused by the test server"
            return f"{self.code} 4.3.2 try again later (test server)"
        n = next(self.seq)
        path = os.path.join(self.directory, f"{n:06d}.eml")
        with open(path + ".partial", "wb") as f:
            f.write(b"X-Sink-Rcpt: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content)
        os.replace(path + ".partial", path)
        # Beside it, the message decoded (headers, text and HTML parts) for the tests to read.
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        parts = {}
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                parts.setdefault(part.get_content_subtype(), part.get_content())
        doc = {
            "rcpt": envelope.rcpt_tos,
            "headers": {k: str(v) for k, v in msg.items()},
            "text": parts.get("plain"),
            "html": parts.get("html"),
        }
        with open(path[:-4] + ".json.partial", "w") as f:
            json.dump(doc, f)
        os.replace(path[:-4] + ".json.partial", path[:-4] + ".json")
        return "250 2.0.0 accepted"


class LoopbackController(Controller):
    def factory(self):
        return SMTP(self.handler, hostname="sink.test", ident="guichet-test-sink")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--refuse-first", type=int, default=0)
    p.add_argument("--code", type=int, default=451)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    port = a.port
    if port == 0:
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
    c = LoopbackController(Sink(a.dir, a.refuse_first, a.code), hostname="127.0.0.1", port=port)
    c.start()
    print(f"PORT {port}", flush=True)
    try:
        # Until stdin closes (the parent died or is done) or a signal.
        sys.stdin.read()
    finally:
        c.stop()


if __name__ == "__main__":
    main()
