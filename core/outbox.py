"""The optional notification channels (docs/procedure.md §8): e-mail over SMTP and the group robots
of WeCom 企业微信, DingTalk 钉钉 and Feishu 飞书 — what is configured, what a message says, what a
robot is sent, how a robot's answer is read, and when a failed message is tried again.

Pure: the outbox rows are written by the services, and adapters/delivery.py does the sending.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from core.errors import InvalidInput
from core.i18n import t

CHANNELS = ("email", "wecom", "dingtalk", "feishu")
ROBOTS = ("wecom", "dingtalk", "feishu")
SECURITY = ("starttls", "ssl", "none")
STATUSES = ("pending", "sent", "failed")
# Minutes to wait after the 1st, 2nd, 3rd … failed attempt; the last one repeats.
BACKOFF_MINUTES = (1, 2, 5, 15, 60, 120, 240, 480)
MAX_ATTEMPTS = 16  # about three days of retries, then the message is kept as failed
CLAIM_FOR = timedelta(minutes=5)  # a sender that dies mid-send frees its message after this
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$")


CHANNELS_KEY = "channels"  # the setting that holds the ChannelConfig
# Kept encrypted in the database (db/uow.py SqlSettings) and never shown whole on a screen:
# the SMTP password, and the robots' addresses, whose key / access_token / hook id is the
# robot's password (issue #11).
SECRET_FIELDS = ("smtp_password", "wecom_url", "dingtalk_url", "feishu_url")


def masked(url: str) -> str:
    """A robot address as a screen may show it: its host and its last four characters."""
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…{url[-4:]}" if parts.netloc else f"…{url[-4:]}"


def internal_address(ip: str) -> bool:
    """Whether an address is the server itself or the internal network (loopback,
    link-local, private, carrier-grade NAT, unspecified, multicast, reserved): where a
    notification must not be sent unless the administrator allowed internal hosts."""
    try:
        addr = ipaddress.ip_address(ip.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return (addr.is_loopback or addr.is_link_local or addr.is_private or addr.is_unspecified
            or addr.is_multicast or addr.is_reserved
            or addr in ipaddress.ip_network("100.64.0.0/10"))


def internal_host(host: str) -> bool:
    """An address named literally (an IP, or localhost) that is internal. Names are resolved
    when a message is sent (adapters/delivery.py)."""
    h = host.strip().strip("[]").rstrip(".").lower()
    return h == "localhost" or h.endswith(".localhost") or internal_address(h)


class DeliveryFailed(Exception):
    """A message could not be delivered; the text is the server's (or the network's) answer."""


@dataclass(frozen=True)
class ChannelConfig:
    """What the Admin page configured; a channel is off until its address is filled in."""

    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"  # starttls | ssl | none
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = ""
    wecom_url: str = ""
    dingtalk_url: str = ""
    dingtalk_keyword: str = ""
    feishu_url: str = ""
    robot_language: str = "zh"  # the group chats read one language
    app_url: str = ""  # the address users open kesu at, for links in messages
    allow_internal_hosts: bool = False  # robots on this network (loopback, 10.x, 192.168.x …)

    def enabled(self, channel: str) -> bool:
        if channel == "email":
            return bool(self.smtp_host and self.mail_from)
        return bool(self.url(channel))

    def url(self, channel: str) -> str:
        return str(getattr(self, f"{channel}_url", "")) if channel in ROBOTS else ""

    def robots(self) -> list[str]:
        return [r for r in ROBOTS if self.enabled(r)]

    @property
    def any_enabled(self) -> bool:
        return any(self.enabled(c) for c in CHANNELS)

    def stored(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None) -> ChannelConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in (stored or {}).items() if k in known and v is not None}
        if "smtp_port" in values:
            values["smtp_port"] = int(values["smtp_port"])
        if "allow_internal_hosts" in values:
            values["allow_internal_hosts"] = values["allow_internal_hosts"] is True
        return cls(**values)


def check_config(cfg: ChannelConfig) -> ChannelConfig:
    """The configuration trimmed and checked, or InvalidInput saying which field and why."""
    c = replace(
        cfg,
        **{
            f.name: getattr(cfg, f.name).strip()
            for f in fields(cfg)
            if isinstance(getattr(cfg, f.name), str) and f.name != "smtp_password"
        },
    )
    for name, limit in (("smtp_user", 200), ("smtp_password", 200), ("dingtalk_keyword", 50)):
        if len(getattr(c, name)) > limit:
            raise InvalidInput("err.too_long", field=name, n=limit)
    if c.smtp_host and not HOST.match(c.smtp_host):
        raise InvalidInput("err.smtp_host")
    if not 1 <= c.smtp_port <= 65535:
        raise InvalidInput("err.smtp_port")
    if c.smtp_security not in SECURITY:
        raise InvalidInput("err.smtp_security")
    if c.mail_from and (len(c.mail_from) > 200 or not EMAIL.match(c.mail_from)):
        raise InvalidInput("err.email_format")
    if c.smtp_host and not c.mail_from:
        raise InvalidInput("err.mail_from_needed")
    if c.smtp_password and not c.smtp_user:
        raise InvalidInput("err.smtp_user_needed")
    for name in ("wecom_url", "dingtalk_url", "feishu_url", "app_url"):
        value = getattr(c, name)
        parts = urlsplit(value)
        if value and (
            len(value) > 500
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or any(ch.isspace() for ch in value)
        ):
            raise InvalidInput("err.url_format", field=name)
        if (value and name != "app_url" and not c.allow_internal_hosts
                and internal_host(parts.hostname or "")):
            raise InvalidInput("err.internal_target", field=name)
    if c.robot_language not in ("zh", "en"):
        raise InvalidInput("err.invalid_input")
    return c


# ---------------------------------------------------------------- messages


@dataclass(frozen=True)
class Message:
    """One message for one channel; `key` makes it unique in the outbox (no double sending).

    `target` is the e-mail address, or for a robot the channel name: the webhook address is
    read from the configuration when the message is sent, so a corrected address also
    delivers what is still waiting, and the token in it is not copied into every row.
    """

    key: str
    channel: str
    target: str
    subject: str
    body: str


@dataclass(frozen=True)
class OutboxItem:
    """An outbox row as the services and the Admin page see it."""

    id: int
    message: Message
    status: str
    attempts: int
    next_try_at: datetime
    last_error: str
    created_at: datetime
    sent_at: datetime | None = None


def note_text(kind: str, params: dict[str, Any], lang: str) -> str:
    """The inbox line of a notification, in one language (a notice stored before its text
    named the reason reads "reason: —")."""
    shown = {k: v for k, v in params.items() if isinstance(v, (str, int))}
    return t("notify." + kind, lang, **{"reason": t("common.none", lang), **shown})


def case_link(cfg: ChannelConfig, complaint_id: int | None) -> str:
    if not cfg.app_url or not complaint_id:
        return ""
    return f"{cfg.app_url.rstrip('/')}/complaint?id={complaint_id}"


def email(key: str, address: str, name: str, lang: str, text: str, link: str) -> Message:
    """A notification e-mail in the recipient's language."""
    body = [t("mail.greeting", lang, name=name), "", text]
    if link:
        body += ["", t("mail.open_case", lang, url=link)]
    body += ["", "-- ", t("mail.footer", lang)]
    return Message(key, "email", address, _subject(t("mail.subject", lang, text=text)),
                   "\n".join(body))


def digest(key: str, address: str, name: str, lang: str, day: str,
           lines: list[tuple[str, str]]) -> Message:
    """The daily digest e-mail (My account): one line per notice (its local time and text,
    then the case link when there is one), instead of one e-mail per notice."""
    body = [t("mail.greeting", lang, name=name), "", t("mail.digest_intro", lang, day=day), ""]
    for text, link in lines:
        body.append("- " + text)
        if link:
            body.append("  " + link)
    body += ["", "-- ", t("mail.footer", lang)]
    return Message(key, "email", address, _subject(t("mail.digest_subject", lang, day=day)),
                   "\n".join(body))


def robot(key: str, channel: str, lang: str, text: str, names: list[str], link: str) -> Message:
    """A group-robot message: the notification, who it is for, the link."""
    lines = [text]
    if names:
        lines.append(t("mail.for_whom", lang, names=("、" if lang == "zh" else ", ").join(names)))
    if link:
        lines.append(link)
    return Message(key, channel, channel, "", "\n".join(lines))


def trial_message(channel: str, target: str, lang: str, now: datetime) -> Message:
    """What the Admin page's "send test message" sends."""
    text = t("mail.test_text", lang, at=now.strftime("%Y-%m-%d %H:%M:%S %Z"))
    if channel == "email":
        return Message(f"test:{now.isoformat()}", "email", target,
                       _subject(t("mail.test_subject", lang)), text)
    return Message(f"test:{now.isoformat()}", channel, channel, "", text)


def _subject(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= 150 else one_line[:149] + "…"


def robot_payload(channel: str, text: str, keyword: str = "") -> dict[str, Any]:
    """The JSON body each robot's webhook expects for a plain text message."""
    if channel == "wecom":
        return {"msgtype": "text", "text": {"content": text}}
    if channel == "dingtalk":
        # a robot secured by a keyword drops every message that does not contain it
        content = text if not keyword or keyword in text else f"[{keyword}] {text}"
        return {"msgtype": "text", "text": {"content": content}}
    if channel == "feishu":
        return {"msg_type": "text", "content": {"text": text}}
    raise ValueError(f"not a robot channel: {channel}")


def robot_error(answer: str) -> str | None:
    """Why a robot refused a message its server answered with 2xx, or None if it took it.

    WeCom and DingTalk answer {"errcode": 0, "errmsg": "ok"}; Feishu {"code": 0, "msg": …}
    (older Feishu robots {"StatusCode": 0, …}). A non-zero code is a refusal.
    """
    try:
        data = json.loads(answer)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    for code, text in (("errcode", "errmsg"), ("code", "msg"), ("StatusCode", "StatusMessage")):
        if code in data and data[code] not in (0, "0", None):
            return f"{code} {data[code]}: {data.get(text, '')}".strip()
    return None


# ---------------------------------------------------------------- retry schedule


def next_try(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed attempts; None: give up (kept as failed)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    wait = BACKOFF_MINUTES[min(max(attempts, 1), len(BACKOFF_MINUTES)) - 1]
    return now + timedelta(minutes=wait)


def short_error(text: str, limit: int = 1000) -> str:
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[: limit - 1] + "…"
