#!/usr/bin/env python3
"""A real SMTP server for the tests (aiosmtpd, Debian's python3-aiosmtpd).

    smtp_server.py DIR PORT

Listens on 127.0.0.1:PORT. Each accepted message is parsed and kept as
DIR/<n>.json (to, subject, text and HTML parts, decoded). Recipients whose
local part starts with "refuse" are refused for good (550), as a university
server refuses an unknown mailbox. Writes DIR/ready once listening."""
import email
import email.policy
import json
import os
import signal
import sys
import uuid

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, directory):
        self.directory = directory

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0].startswith("refuse"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        parts = {"text/plain": "", "text/html": ""}
        for part in message.walk():
            if part.get_content_type() in parts:
                parts[part.get_content_type()] = part.get_content()
        kept = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "text": parts["text/plain"],
            "html": parts["text/html"],
            "raw": envelope.original_content.decode("utf-8", "replace"),
        }
        path = os.path.join(self.directory, uuid.uuid4().hex + ".json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(kept, f)
        os.rename(path + ".tmp", path)
        return "250 Message accepted"


def main():
    directory, port = sys.argv[1], int(sys.argv[2])
    controller = Controller(Handler(directory), hostname="127.0.0.1", port=port)
    controller.start()
    open(os.path.join(directory, "ready"), "w").close()
    signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), sys.exit(0)))
    signal.pause()


if __name__ == "__main__":
    main()
