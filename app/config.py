"""Typed settings read from `NORMSFORUM_` environment variables and an optional `.env` file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Used only in development and tests; `check_for_serving` refuses it anywhere else.
DEVELOPMENT_SECRET = "development-only-secret-do-not-use-in-production"  # noqa: S105

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """Settings that must not be served, with a message for the operator."""


class OIDCProvider(BaseModel):
    """One OpenID Connect provider people may sign in with (an entry of `oidc_providers`)."""

    #: In addresses (`/auth/oidc/<name>/...`) and the provider's redirect URI; keep it stable.
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    #: On the button: "Sign in with <display_name>".
    display_name: str = Field(min_length=1, max_length=64)
    #: The issuer URL; its `/.well-known/openid-configuration` must name the same issuer.
    issuer: str = Field(pattern=r"^https?://[^?#\s]+$")
    client_id: str = Field(min_length=1)
    client_secret: SecretStr

    @property
    def metadata_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


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
    # On PostgreSQL each process listens for the others' live events (LISTEN/NOTIFY), so a
    # comment posted through one process reaches viewers connected to any other at once.
    live_events_listen: bool = True

    # The language of the interface for visitors whose browser asks for none we have: `en`
    # or `ja`.
    default_language: Literal["en", "ja"] = "en"

    # Pages for visitors (not signed in) are kept in each process's memory and served again
    # while nothing visible changed, for at most `page_cache_seconds`; 0 MB turns it off.
    page_cache_mb: int = Field(default=16, ge=0)
    page_cache_seconds: float = Field(default=30.0, gt=0)
    # The largest request body taken (a 2 MB preview image in its multipart envelope is the
    # largest anyone needs); larger ones are refused with 413 before they are read.
    max_request_bytes: int = Field(default=3 * 1024 * 1024, ge=64 * 1024)

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
    # Members who chose a daily digest get it from this hour (UTC) on, once a day.
    notification_digest_hour: int = Field(default=8, ge=0, le=23)

    # New accounts, for their first `new_account_hours` (0: no limits), post at most this
    # many comments and proposals an hour, and no links in comments unless allowed here.
    new_account_hours: int = Field(default=24, ge=0)
    new_account_comments_per_hour: int = Field(default=10, ge=1)
    new_account_proposals_per_hour: int = Field(default=3, ge=1)
    new_account_links: bool = False

    # Sign-in with OpenID Connect: a JSON list of providers, each with name, display_name,
    # issuer, client_id and client_secret. Each provider's redirect URI is
    # `<base_url>/auth/oidc/<name>/callback`.
    oidc_providers: list[OIDCProvider] = Field(default_factory=list)

    # Links mailed to prove an address or reset a password: how long they work, and how many
    # such mails one account or address may be sent per hour (a reset request for an address
    # counts whether or not an account has it); resets requested per network per hour.
    email_verification_hours: int = Field(default=48, ge=1)
    password_reset_minutes: int = Field(default=60, ge=5)
    account_mails_per_hour: int = Field(default=3, ge=1)
    password_resets_per_ip: int = Field(default=20, ge=1)

    @field_validator("oidc_providers")
    @classmethod
    def _unique_provider_names(cls, value: list[OIDCProvider]) -> list[OIDCProvider]:
        names = [provider.name for provider in value]
        if len(set(names)) != len(names):
            raise ValueError("each OpenID Connect provider needs a name of its own")
        return value

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
