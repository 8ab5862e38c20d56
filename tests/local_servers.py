"""Local stand-ins for the outside world of the notification channels (docs/procedure.md §8): an
SMTP
server (aiosmtpd) and an HTTP server for the robots' webhooks, both on 127.0.0.1 — tests
never reach the internet."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- a local SMTP server


@dataclass
class Mailbox:
    """What the local SMTP server received."""

    messages: list[Any] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 2.0.0 Ok: queued as KESU1"

    def texts(self) -> list[str]:
        return [m.get_content() for m in self.messages]


class SmtpServer:
    def __init__(self, port: int | None = None, **kw: Any) -> None:
        self.port = port or free_port()
        self.box = Mailbox()
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port, **kw)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the `cryptography` package ships with the
    authenticator's dependencies)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
    )
    return cert_file, key_file


# ---------------------------------------------------------------- a local HTTP server


class Hooks:
    """A local HTTP server standing in for the robots: records each JSON body by path and
    answers from a script (status, body), then 200 {"errcode":0,"errmsg":"ok"}."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        self.script: list[tuple[int, str]] = []
        self.lock = threading.Lock()
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with hooks.lock:
                    status, answer = (
                        hooks.script.pop(0)
                        if hooks.script
                        else (200, '{"errcode":0,"errmsg":"ok"}')
                    )
                    if status == 200:
                        hooks.received.append((self.path, json.loads(body)))
                data = answer.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
