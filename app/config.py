"""Typed settings read from `NORMSFORUM_` environment variables and an optional `.env` file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Used only in development and tests; `check_for_serving` refuses it anywhere else.
DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"  # noqa: S105

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """Settings that must not be served, with a message for the operator."""


class Settings(BaseSettings):
    """Everything an operator can configure; see the README for each setting."""

    model_config = SettingsConfigDict(env_prefix="NORMSFORUM_", env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "production"
    database_url: str = "sqlite:///var/normsforum.db"
    secret_key: SecretStr = SecretStr("")
    base_url: str = "http://127.0.0.1:8000"
    sql_echo: bool = False

    # Sessions: an idle member is signed out after `session_idle_minutes`, everyone after
    # `session_absolute_hours`, whatever they do.
    session_idle_minutes: int = Field(default=60 * 24 * 7, ge=5)
    session_absolute_hours: int = Field(default=24 * 30, ge=1)

    # argon2id cost; the defaults are argon2-cffi's (OWASP ASVS level); tests lower them.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)

    # Rate limits: attempts per window, counted in the database so that every process shares them.
    login_attempts_per_ip: int = 30
    login_failures_per_account: int = 10
    login_window_minutes: int = 15
    registrations_per_ip: int = 5
    registration_window_minutes: int = 60

    # Live thread updates (server-sent events): how often a stream looks in the database when
    # nothing woke it (comments posted through another process), and how long one connection
    # lasts before the browser reconnects where it left off.
    live_poll_seconds: float = Field(default=10.0, gt=0)
    live_stream_seconds: float = Field(default=300.0, gt=0)

    # Polls past their closing time read as closed at once; each app process also closes them
    # for good (tally frozen, proposal settled) this often. 0 turns the loop off, for hosts
    # that run `normsforum sweep` from cron instead.
    sweep_interval_seconds: float = Field(default=60.0, ge=0)

    # Mail: sent by SMTP when a host is set, else written to the log (and the admins' outbox
    # page). `smtp_security` is starttls (port 587), ssl (port 465) or none (a local relay).
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_timeout_seconds: float = Field(default=20.0, gt=0)
    mail_from: str = "Norms Forum <noreply@localhost>"
    # The worker (mail and other deliveries) runs as `normsforum worker`; in development the
    # app runs it too, unless this says otherwise. It looks for work this often.
    worker_in_process: bool | None = None
    worker_interval_seconds: float = Field(default=5.0, gt=0)

    @property
    def runs_worker(self) -> bool:
        if self.worker_in_process is not None:
            return self.worker_in_process
        return self.environment == "development"

    @field_validator("database_url")
    @classmethod
    def _use_psycopg3(cls, value: str) -> str:
        # Operators paste `postgresql://` URLs; SQLAlchemy would pick psycopg2 for them.
        for prefix in ("postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @property
    def is_https(self) -> bool:
        return urlsplit(self.base_url).scheme == "https"

    @property
    def base_origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def secret(self) -> str:
        value = self.secret_key.get_secret_value()
        if not value and self.environment != "production":
            return DEVELOPMENT_SECRET
        return value

    def check_for_serving(self) -> None:
        """Refuse to serve with a secret anyone can read in the source."""
        if self.environment == "production":
            value = self.secret_key.get_secret_value()
            if not value or value == DEVELOPMENT_SECRET:
                raise ConfigError(
                    "NORMSFORUM_SECRET_KEY is not set. Outside development the server needs "
                    "a secret of its own: generate one with `python3 -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))'` and set it in the environment, or set "
                    "NORMSFORUM_ENVIRONMENT=development on your own machine."
                )
            if len(value) < 32:
                raise ConfigError("NORMSFORUM_SECRET_KEY must be at least 32 characters long.")
