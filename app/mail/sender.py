"""Sending one mail: by SMTP where a server is configured, else to the log (development)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import Policy
from typing import Protocol

from app.config import Settings
from app.mail.models import OutboxMail

log = logging.getLogger("app.mail")


class Sender(Protocol):
    def send(self, mail: OutboxMail) -> None:
        """Hand the mail over, or raise."""


#: RFC 5322's limit on a line, header name included.
LINE_MAX = 998


class OneLineHeader(str):
    """An ASCII header field written on one line. Folded at 78 columns, Python would encode a
    long value such as List-Unsubscribe's `<https://...>` (RFC 2047), and mail programs would
    no longer find the URI in it; RFC 5322 allows such a line up to 998 characters."""

    name: str

    def __new__(cls, name: str, value: str) -> OneLineHeader:
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


def _extra_header(name: str, value: str) -> str:
    fits = len(name) + 2 + len(value) <= LINE_MAX
    if value.isascii() and value.isprintable() and fits:
        return OneLineHeader(name, value)
    return value  # folded (and encoded) as usual; a line break in it is refused there


def message(mail: OutboxMail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to_address
    msg["Subject"] = mail.subject
    for name, value in (mail.headers or {}).items():
        msg[name] = _extra_header(name, value)
    msg.set_content(mail.body)
    return msg


class SMTPSender:
    """One connection per batch would be faster; one per mail is simple and robust."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, mail: OutboxMail) -> None:
        settings = self.settings
        timeout = settings.smtp_timeout_seconds
        if settings.smtp_security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.smtp_host,
                settings.smtp_port,
                timeout=timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        with smtp:
            if settings.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            password = settings.smtp_password.get_secret_value()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, password)
            smtp.send_message(message(mail, settings.mail_from))


class ConsoleSender:
    """Development: the mail goes to the log; the admins' outbox page shows it too."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, mail: OutboxMail) -> None:
        log.info(
            "Mail to %s: %s\n%s",
            mail.to_address,
            mail.subject,
            message(mail, self.settings.mail_from),
        )


def sender_for(settings: Settings) -> Sender:
    return SMTPSender(settings) if settings.smtp_host else ConsoleSender(settings)
