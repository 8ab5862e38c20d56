"""Delivering the outbox (docs/procedure.md §8): e-mail over SMTP, JSON to the group robots'
webhooks,
with retry and backoff. Nothing is lost while a server is down: a message stays pending and
is tried again on the schedule of core.outbox until it is delivered (or kept as failed).
"""

from __future__ import annotations

import json
import logging
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

from core import outbox
from core.outbox import ChannelConfig, DeliveryFailed, Message
from core.ports import Sender, UowFactory

log = logging.getLogger("kesu.delivery")
TIMEOUT = 15.0  # seconds for one connection, one SMTP command or one HTTP request


class _Answer:
    """Keeps the server's reply to DATA: the answer the Admin page shows for a test."""

    last_reply: tuple[int, bytes] = (0, b"")

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.last_reply = super().data(msg)  # type: ignore[misc]
        return self.last_reply


class _SMTP(_Answer, smtplib.SMTP):
    pass


class _SMTPSSL(_Answer, smtplib.SMTP_SSL):
    pass


@dataclass
class SmtpSender:
    """SMTP with STARTTLS, implicit TLS (SMTPS, usually port 465) or plain, as configured."""

    timeout: float = TIMEOUT
    tls: ssl.SSLContext | None = None  # None: the system's trusted certificates

    def send(self, message: Message, config: ChannelConfig) -> str:
        if not config.enabled("email"):
            raise DeliveryFailed("e-mail is not configured")
        mail = EmailMessage()
        mail["From"] = config.mail_from
        mail["To"] = message.target
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = make_msgid(domain=config.mail_from.rpartition("@")[2] or None)
        mail.set_content(message.body)
        context = self.tls or ssl.create_default_context()
        try:
            smtp: _SMTP | _SMTPSSL
            if config.smtp_security == "ssl":
                smtp = _SMTPSSL(config.smtp_host, config.smtp_port, timeout=self.timeout,
                                context=context)
            else:
                smtp = _SMTP(config.smtp_host, config.smtp_port, timeout=self.timeout)
            with smtp as s:
                s.ehlo()
                if config.smtp_security == "starttls":
                    s.starttls(context=context)
                    s.ehlo()
                if config.smtp_user:
                    s.login(config.smtp_user, config.smtp_password)
                s.send_message(mail)
                code, text = smtp.last_reply
        except smtplib.SMTPRecipientsRefused as e:
            raise DeliveryFailed(
                "; ".join(f"{who}: {c} {_text(t)}" for who, (c, t) in e.recipients.items())
            ) from e
        except smtplib.SMTPResponseException as e:
            raise DeliveryFailed(f"{e.smtp_code} {_text(e.smtp_error)}") from e
        except (smtplib.SMTPException, OSError) as e:
            raise DeliveryFailed(_oserror(e)) from e
        return f"{code} {_text(text)}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A robot's webhook answers itself; a redirect is an error, not a place to post to."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _refuse_internal(url: str) -> None:
    """DeliveryFailed when the robot's host is, or resolves to, an internal address (issue
    #11: the webhook test POSTed to loopback). Resolved here, at each send, not only when the
    address was saved; redirects are not followed (_NoRedirect)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if outbox.internal_host(host):
        raise DeliveryFailed(f"refused: {host} is an internal address")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as e:
        raise DeliveryFailed(_oserror(e) if isinstance(e, OSError) else str(e)) from e
    for *_, sockaddr in found:
        ip = str(sockaddr[0])
        if outbox.internal_address(ip):
            raise DeliveryFailed(f"refused: {host} is an internal address ({ip})")


@dataclass
class WebhookSender:
    """POSTs the robot's JSON; a non-2xx answer or a robot error code is a failure."""

    timeout: float = TIMEOUT
    opener: urllib.request.OpenerDirector = field(
        default_factory=lambda: urllib.request.build_opener(_NoRedirect)
    )

    def send(self, message: Message, config: ChannelConfig) -> str:
        url = config.url(message.channel)
        if not url:
            raise DeliveryFailed(f"the {message.channel} robot is not configured")
        if not config.allow_internal_hosts:
            _refuse_internal(url)
        body = json.dumps(
            outbox.robot_payload(message.channel, message.body, config.dingtalk_keyword),
            ensure_ascii=False,
        ).encode("utf-8")
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "kesu"},
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as resp:
                status, answer = resp.status, resp.read(64_000).decode("utf-8", "replace")
        except urllib.error.HTTPError as e:  # the status only: the body is the remote's
            raise DeliveryFailed(f"HTTP {e.code} {e.reason}".strip()) from e
        except urllib.error.URLError as e:
            raise DeliveryFailed(
                _oserror(e.reason) if isinstance(e.reason, OSError) else str(e.reason)
            ) from e
        except (OSError, ValueError) as e:
            raise DeliveryFailed(_oserror(e)) from e
        refused = outbox.robot_error(answer)
        if refused:  # the robot's own error code and message, e.g. "93000 invalid webhook url"
            raise DeliveryFailed(f"HTTP {status}: {outbox.short_error(refused, 200)}")
        return f"HTTP {status}"  # not the body: an administrator's test must not read a server


@dataclass
class ChannelSender:
    """The Sender port: e-mail to SMTP, the rest to their robots."""

    smtp: SmtpSender = field(default_factory=SmtpSender)
    webhook: WebhookSender = field(default_factory=WebhookSender)

    def send(self, message: Message, config: ChannelConfig) -> str:
        if message.channel == "email":
            return self.smtp.send(message, config)
        return self.webhook.send(message, config)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _oserror(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


# ---------------------------------------------------------------- the delivery run


@dataclass
class Delivered:
    sent: int = 0
    retrying: int = 0  # failed this time, tried again later
    failed: int = 0  # failed for good (kept in the outbox as failed)
    skipped: int = 0  # taken by another sender first


def deliver_due(uow_factory: UowFactory, now: datetime, sender: Sender, limit: int = 50,
                keep_going: Callable[[], bool] = lambda: True) -> Delivered:
    """Send the pending messages whose time has come, each at most once.

    Each message is first claimed in its own short transaction (a conditional UPDATE on its
    status and attempt count): of two processes only one wins it. The claim also moves its
    next try CLAIM_FOR ahead, so a process that dies while sending leaves the message to be
    retried, not lost. `keep_going` is asked before each message (the scheduler renews its
    lease there and stops when it lost it).
    """
    done = Delivered()
    with uow_factory() as uow:
        config = ChannelConfig.from_stored(uow.settings.get("channels"))
        items = uow.outbox.due(now, limit)
    for item in items:
        if not keep_going():
            break
        with uow_factory(write=True) as uow:
            mine = uow.outbox.claim(item.id, item.attempts, now + outbox.CLAIM_FOR)
            uow.commit()
        if not mine:
            done.skipped += 1
            continue
        error = ""
        try:
            sender.send(item.message, config)
        except DeliveryFailed as e:
            error = outbox.short_error(str(e))
        except Exception as e:  # noqa: BLE001 - a bug in one message must not stop the rest
            log.exception("sending outbox message %s", item.id)
            error = outbox.short_error(f"{type(e).__name__}: {e}")
        with uow_factory(write=True) as uow:
            if not error:
                uow.outbox.mark_sent(item.id, now)
                done.sent += 1
            else:
                again = outbox.next_try(item.attempts + 1, now)
                uow.outbox.mark_failed(item.id, error, again)
                if again is None:
                    done.failed += 1
                else:
                    done.retrying += 1
                log.warning("outbox %s (%s) attempt %d failed: %s", item.id, item.message.channel,
                            item.attempts + 1, error)
            uow.commit()
    return done
