"""The ways a reminder reaches the learner: terminal/log, desktop, email, webhook.

Each channel sends one message or raises ``SendFailed`` with a one-line
reason (never a secret); ``retry=False`` says trying again cannot help here
(no D-Bus session, no SMTP host configured). Every network call has a
timeout, so a dead server delays only its own channel: the use case sends
the channels side by side and records each outcome on its own.

- terminal: always works; ``tracker remind --once`` prints to stdout,
  ``tracker serve`` writes to its log.
- desktop: ``notify-send`` on the session's D-Bus. Without
  ``DBUS_SESSION_BUS_ADDRESS`` (cron, ssh) a notification would vanish
  silently, so the channel reports itself unavailable instead.
- email: SMTP with STARTTLS; the password comes from ``TRACKER_SMTP_PASSWORD``
  or a mode-0600 file, and is never sent over a connection without TLS.
  The ``Message-ID`` is derived from the delivery, the same on every retry.
- webhook: a JSON POST with the Standard Webhooks headers: ``webhook-id``
  (the same on every retry), ``webhook-timestamp`` and, with a secret,
  ``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of id.timestamp.body).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tracker.config import Settings

PASSWORD_ENV = "TRACKER_SMTP_PASSWORD"
WEBHOOK_SECRET_ENV = "TRACKER_WEBHOOK_SECRET"
DESKTOP_TIMEOUT_S = 10
SMTP_TIMEOUT_S = 20


class SendFailed(Exception):
    """One try of one channel failed; the message is the one-line error recorded."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Outgoing:
    """One delivery's message, the same bytes on every try but its attempt number."""

    kind: str
    subject: str
    text: str
    document: dict[str, Any]  # the reminder as JSON (Reminder.as_dict)
    message_id: str
    created_at: datetime  # when the delivery was first claimed
    attempt: int


class Channel(Protocol):
    name: str

    def send(self, message: Outgoing) -> None:
        """Deliver ``message`` or raise SendFailed."""


class TerminalChannel:
    """Writes the reminder to a stream: stdout for `remind --once`, the log for `serve`."""

    name = "terminal"

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def send(self, message: Outgoing) -> None:
        try:
            self.write(message.text)
        except (OSError, ValueError) as exc:
            raise SendFailed(f"terminal: cannot write: {exc}") from None


class DesktopChannel:
    name = "desktop"

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = dict(os.environ if env is None else env)

    def send(self, message: Outgoing) -> None:
        import shutil
        import subprocess

        if not self.env.get("DBUS_SESSION_BUS_ADDRESS"):
            raise SendFailed(
                "desktop: unavailable: no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)",
                retry=False,
            )
        program = shutil.which("notify-send", path=self.env.get("PATH"))
        if program is None:
            raise SendFailed(
                "desktop: unavailable: notify-send not found (install libnotify-bin)", retry=False
            )
        command = [program, "--app-name=tracker", "--", message.subject, message.text]
        try:
            done = subprocess.run(
                command, env=self.env, capture_output=True, text=True, timeout=DESKTOP_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            raise SendFailed(
                f"desktop: notify-send gave no answer in {DESKTOP_TIMEOUT_S} s"
            ) from None
        except OSError as exc:
            raise SendFailed(f"desktop: cannot run notify-send: {exc.strerror}") from None
        if done.returncode != 0:
            detail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
            raise SendFailed(f"desktop: notify-send failed: {detail}")


def smtp_password(settings: Settings, env: Mapping[str, str]) -> str | None:
    """The SMTP password: the environment variable, else the 0600 file, else None."""
    if env.get(PASSWORD_ENV):
        return env[PASSWORD_ENV]
    if not settings.smtp_password_file:
        return None
    import stat
    from pathlib import Path

    path = Path(settings.smtp_password_file)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SendFailed(
                f"email: {path} is readable by others (mode {mode:04o}): chmod 600 {path}",
                retry=False,
            )
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SendFailed(f"email: cannot read {path}: {exc.strerror}", retry=False) from None


class EmailChannel:
    name = "email"

    def __init__(self, settings: Settings, env: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.env = dict(os.environ if env is None else env)

    def sender(self) -> str:
        settings = self.settings
        if settings.email_from:
            return settings.email_from
        return settings.smtp_user if "@" in settings.smtp_user else settings.email_to

    def build(self, message: Outgoing) -> Any:  # email.message.EmailMessage
        from email.message import EmailMessage
        from email.utils import format_datetime

        sender = self.sender()
        domain = sender.rsplit("@", 1)[1] if "@" in sender else "tracker.localhost"
        mail = EmailMessage()
        mail["From"] = sender
        mail["To"] = self.settings.email_to
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(message.created_at)
        mail["Message-ID"] = f"<reminder-{message.message_id}@{domain}>"
        mail["X-Tracker-Reminder"] = f"{message.kind}; attempt {message.attempt}"
        mail.set_content(message.text + "\n")
        return mail

    def send(self, message: Outgoing) -> None:
        import smtplib
        import ssl

        settings = self.settings
        missing = [k for k in ("smtp_host", "email_to") if not getattr(settings, k)]
        if missing:
            raise SendFailed(
                f"email: not configured: set {' and '.join(missing)}"
                f" (tracker config set {missing[0]} ...)",
                retry=False,
            )
        password = smtp_password(settings, self.env)
        if settings.smtp_user and password is None:
            raise SendFailed(
                f"email: smtp_user is set but no password: set {PASSWORD_ENV} "
                "or smtp_password_file",
                retry=False,
            )
        if password is not None and not settings.smtp_starttls:
            raise SendFailed(
                "email: refusing to send the SMTP password without STARTTLS", retry=False
            )
        mail = self.build(message)
        where = f"{settings.smtp_host}:{settings.smtp_port}"
        try:
            with smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S
            ) as smtp:
                smtp.ehlo()
                if settings.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if settings.smtp_user:
                    smtp.login(settings.smtp_user, password or "")
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise SendFailed(f"email: {where} refused the login ({exc.smtp_code})") from None
        except smtplib.SMTPNotSupportedError:
            raise SendFailed(f"email: {where} does not offer STARTTLS", retry=False) from None
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else exc.smtp_error
            )
            raise SendFailed(f"email: {where} answered {exc.smtp_code} {text}".strip()) from None
        except smtplib.SMTPException as exc:
            raise SendFailed(f"email: {where}: {exc}") from None
        except ssl.SSLError as exc:
            raise SendFailed(f"email: TLS with {where} failed: {exc.reason or exc}") from None
        except OSError as exc:
            raise SendFailed(f"email: cannot reach {where}: {exc.strerror or exc}") from None


def _where(url: str) -> str:
    """scheme://host[:port] of a URL: webhook paths and queries often carry a token."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def webhook_secret(settings: Settings, env: Mapping[str, str]) -> str:
    return env.get(WEBHOOK_SECRET_ENV) or settings.webhook_secret


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks signature: ``v1,`` + base64(HMAC-SHA256(id.timestamp.body))."""
    import base64
    import hashlib
    import hmac

    key = (
        base64.b64decode(secret.removeprefix("whsec_"))
        if secret.startswith("whsec_")
        else secret.encode()
    )
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class WebhookChannel:
    name = "webhook"

    def __init__(
        self,
        settings: Settings,
        env: Mapping[str, str] | None = None,
        *,
        timestamp: Callable[[], int] | None = None,
    ) -> None:
        import time

        self.settings = settings
        self.env = dict(os.environ if env is None else env)
        self.timestamp = timestamp or (lambda: int(time.time()))

    def body(self, message: Outgoing) -> bytes:
        import json

        document = {
            "type": f"tracker.reminder.{message.kind}",
            "timestamp": message.created_at.isoformat(),
            "data": message.document,
        }
        return json.dumps(document, sort_keys=True, ensure_ascii=False).encode()

    def headers(self, message: Outgoing, body: bytes) -> dict[str, str]:
        webhook_id = f"msg_{message.message_id}"
        stamp = self.timestamp()  # of this try: receivers reject stale timestamps
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "tracker-reminders",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(stamp),
        }
        secret = webhook_secret(self.settings, self.env)
        if secret:
            try:
                headers["webhook-signature"] = sign(secret, webhook_id, stamp, body)
            except ValueError:
                raise SendFailed(
                    "webhook: webhook_secret starts with whsec_ but is not base64", retry=False
                ) from None
        return headers

    def send(self, message: Outgoing) -> None:
        import urllib.error
        import urllib.request

        url = self.settings.webhook_url
        if not url:
            raise SendFailed(
                "webhook: not configured: set webhook_url (tracker config set webhook_url ...)",
                retry=False,
            )
        body = self.body(message)
        request = urllib.request.Request(
            url, data=body, headers=self.headers(message, body), method="POST"
        )
        timeout, where = self.settings.webhook_timeout, _where(url)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read(1024)
        except urllib.error.HTTPError as exc:
            raise SendFailed(f"webhook: {where} answered {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            reason = getattr(exc.reason, "strerror", None) or exc.reason
            raise SendFailed(f"webhook: cannot reach {where}: {reason}") from None
        except TimeoutError:
            raise SendFailed(f"webhook: {where} gave no answer in {timeout} s") from None
        except OSError as exc:
            raise SendFailed(f"webhook: {where}: {exc.strerror or exc}") from None


def channels_for(
    settings: Settings,
    *,
    terminal: Callable[[str], None],
    env: Mapping[str, str] | None = None,
) -> dict[str, Channel]:
    """The configured channels by name, in the order the config lists them."""
    makers: dict[str, Callable[[], Channel]] = {
        "terminal": lambda: TerminalChannel(terminal),
        "desktop": lambda: DesktopChannel(env),
        "email": lambda: EmailChannel(settings, env),
        "webhook": lambda: WebhookChannel(settings, env),
    }
    return {name: makers[name]() for name in dict.fromkeys(settings.channels)}
