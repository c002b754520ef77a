"""Sending one mail: by SMTP where a server is configured, else to the log (development)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

from app.config import Settings
from app.mail.models import OutboxMail

log = logging.getLogger("app.mail")


class Sender(Protocol):
    def send(self, mail: OutboxMail) -> None:
        """Hand the mail over, or raise."""


def message(mail: OutboxMail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to_address
    msg["Subject"] = mail.subject
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
