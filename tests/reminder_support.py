"""Local receivers for the reminder channels (127.0.0.1 only) and small helpers.

A webhook receiver (an HTTP server that records each request and answers
with the status codes it is told), an SMTP server with STARTTLS and AUTH
(aiosmtpd, with a throwaway self-signed certificate the client is told to
trust), and a channel that fails on demand.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tracker.reminders.channels import Outgoing, SendFailed

LOOPBACK = "127.0.0.1"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def document(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """Records every POST; answers ``statuses`` in turn (then 200), sleeping ``delay_s`` first."""

    statuses: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://{LOOPBACK}:{self.server.server_address[1]}/hooks/secret-token"

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.received]

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}  # case-blind
                receiver.received.append(Received(headers, body))
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 (openssl, two days)."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            f"/CN={LOOPBACK}",
            "-addext",
            f"subjectAltName=IP:{LOOPBACK}",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class SmtpServer:
    """aiosmtpd on 127.0.0.1 requiring STARTTLS and, when ``password`` is set, AUTH."""

    folder: Path
    user: str = "learner@example.org"
    password: str = ""
    reject_first: int = 0  # answer the first N messages with 451 (a retry is due)
    messages: list[bytes] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0
    cert: Path | None = None
    controller: Any = None

    def start(self) -> SmtpServer:
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.cert, key = make_certificate(self.folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        server = self

        class Handler:
            async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
                server.messages.append(envelope.original_content or envelope.content)
                if server.reject_first > 0:
                    server.reject_first -= 1
                    return "451 4.3.0 try again later"
                return "250 OK"

        def authenticate(_server: Any, _session: Any, _envelope: Any, _mech: str, data: Any) -> Any:
            login, password = data.login.decode(), data.password.decode()
            server.logins.append((login, password))
            return AuthResult(success=(login, password) == (server.user, server.password))

        self.port = free_port()
        self.controller = Controller(
            Handler(),
            hostname=LOOPBACK,
            port=self.port,
            tls_context=context,
            require_starttls=True,
            authenticator=authenticate if self.password else None,
            auth_require_tls=True,
            auth_required=bool(self.password),
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            asyncio.set_event_loop(None)

    def settings(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "smtp_host": LOOPBACK,
            "smtp_port": self.port,
            "email_to": "learner@example.org",
            "email_from": "tracker@example.org",
        }
        if self.password:
            values["smtp_user"] = self.user
        return values


class FlakyChannel:
    """A channel that fails its first ``failures`` tries (then works), recording each try."""

    def __init__(self, name: str, failures: int, *, retry: bool = True) -> None:
        self.name = name
        self.failures = failures
        self.retry = retry
        self.tries: list[Outgoing] = []

    def send(self, message: Outgoing) -> None:
        self.tries.append(message)
        if len(self.tries) <= self.failures:
            raise SendFailed(f"{self.name}: down (try {len(self.tries)})", retry=self.retry)


class BrokenChannel:
    """A channel with a bug: it raises something that is not SendFailed."""

    name = "webhook"

    def send(self, message: Outgoing) -> None:
        raise RuntimeError("boom")
