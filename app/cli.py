"""The `normsforum` command: serve, migrate, seed the demo, manage users and tokens, polls."""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.orm import Session

from app.config import ConfigError, Settings
from app.db import create_db_engine, utcnow
from app.errors import DomainError

#: mallopt's parameter for the number of malloc arenas (glibc's malloc.h).
M_ARENA_MAX = -8


def _settings() -> Settings:
    """Settings from the environment, with the password hash cost they ask for."""
    from app.accounts import passwords

    settings = Settings()
    passwords.configure(
        time_cost=settings.argon2_time_cost,
        memory_cost_kib=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
    )
    return settings


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    engine = create_db_engine(settings.database_url)
    try:
        with Session(bind=engine, expire_on_commit=False) as db:
            yield db
    finally:
        engine.dispose()


@click.group()
def main() -> None:
    """Norms Forum: community norms, deliberated in the open."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
@click.option(
    "--forwarded-allow-ips",
    default=None,
    help="Addresses of reverse proxies whose X-Forwarded-* headers are trusted "
    "(default: uvicorn's, 127.0.0.1, or $FORWARDED_ALLOW_IPS).",
)
def serve(host: str, port: int, workers: int, forwarded_allow_ips: str | None) -> None:
    """Serve the site with uvicorn."""
    import uvicorn

    settings = Settings()
    try:
        settings.check_for_serving()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Norms Forum on {settings.base_url} (listening on {host}:{port})")
    _limit_malloc_arenas()
    uvicorn.run(
        "app.main:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level="info",
        # The supervisor kills a worker that misses its 5-second health ping; a worker busy
        # with 32 concurrent requests on 2 cores missed it and was killed mid-load
        # (bench/load). A worker that cannot answer for 30 s is hung indeed.
        timeout_worker_healthcheck=30,
        # Live streams stay open for minutes: on a restart, stop waiting for them after a few
        # seconds (browsers reconnect to the new process and resume where they left off).
        timeout_graceful_shutdown=5,
    )


def _limit_malloc_arenas() -> None:
    """glibc gives each busy thread of the request pool its own malloc arena (up to 16 on 2
    cores). Python allocates under its global lock anyway, so one arena costs no speed: two
    kept a worker about 40 MB smaller under load than glibc's default (bench/load), one
    about 6 MB smaller again (bench/memory.py).

    Worker processes start after this and read the variable. glibc reads it only as a
    process starts, so this process, which is the worker with `--workers 1`, is told by
    `mallopt` (before its request threads exist).
    """
    os.environ.setdefault("MALLOC_ARENA_MAX", "1")
    try:
        arenas = int(os.environ["MALLOC_ARENA_MAX"])
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, arenas)
    except (OSError, AttributeError, ValueError):
        pass  # not glibc, or a value glibc would not take either


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from app import migrate as migrations

    settings = Settings()
    migrations.upgrade(settings.database_url)
    click.echo("Database is up to date.")


@main.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only when the database has no users yet.")
def seed_demo(if_empty: bool) -> None:
    """Create the demo communities and a demo user of every role."""
    from app import demo

    settings = _settings()
    with _session(settings) as db:
        if if_empty and demo.has_users(db):
            return
        try:
            logins = demo.seed(db, now=utcnow())
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        db.commit()
    click.echo("Seeded the demo community. Sign in at /login with any of these (shown once):")
    for username, password, role in logins:
        click.echo(f"  {username:<14} {password:<22} {role}")


@main.command("create-user")
@click.option("--username", required=True)
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--display-name", default=None)
@click.option("--admin", is_flag=True, help="Make the user a site administrator.")
def create_user(
    username: str, email: str, password: str, display_name: str | None, admin: bool
) -> None:
    """Create an account (optionally a site administrator)."""
    from app.accounts import service as accounts_service

    settings = _settings()
    with _session(settings) as db:
        try:
            user = accounts_service.create_user(
                db,
                username=username,
                email=email,
                password=password,
                display_name=display_name,
                is_admin=admin,
                now=utcnow(),
            )
        except DomainError as exc:
            details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            raise click.ClickException(f"{exc.message} {details}".strip()) from None
        db.commit()
        click.echo(f"Created {'admin ' if admin else ''}user {user.username}.")


@main.command("create-token")
@click.argument("username")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read", show_default=True)
@click.option("--name", default=None, help="A name to tell tokens apart (default: cli-<time>).")
def create_token(username: str, scope: str, name: str | None) -> None:
    """Create a personal access token and print it (it is shown only this once)."""
    from app.accounts import service as accounts_service

    settings = Settings()
    now = utcnow()
    with _session(settings) as db:
        try:
            user = accounts_service.get_user(db, username)
            _, plain = accounts_service.create_token(
                db,
                actor=user,
                name=name or f"cli-{now:%Y%m%d-%H%M%S}",
                scope=scope,
                now=now,
            )
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        db.commit()
    click.echo(plain)


@main.command()
def sweep() -> None:
    """Close polls past their closing time for good; safe to run from cron on every host."""
    from app.db import make_session_factory
    from app.polls import sweeper

    settings = Settings()
    engine = create_db_engine(settings.database_url)
    try:
        closed = sweeper.sweep_once(make_session_factory(engine))
    finally:
        engine.dispose()
    click.echo(f"Closed {closed} poll{'' if closed == 1 else 's'}.")


@main.command()
@click.option("--once", is_flag=True, help="Do what is waiting, then stop (for cron or tests).")
def worker(once: bool) -> None:
    """Send the outbox and do the other background deliveries; several may run at once."""
    import time

    from app import worker as jobs
    from app.db import make_session_factory

    settings = _settings()
    engine = create_db_engine(settings.database_url)
    factory = make_session_factory(engine)
    try:
        while True:
            done = jobs.work_once(factory, settings)
            if once:
                click.echo(f"Delivered {done}.")
                return
            time.sleep(settings.worker_interval_seconds)
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()


class UnreadableExport(click.ClickException):
    """A file that is not a poll export: exit code 2, apart from a mismatch's 1."""

    exit_code = 2


@main.command("verify-tally")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def verify_tally(file: str) -> None:
    """Recount a poll export (JSON or CSV) and say whether it matches its published tally.

    Exits 0 when it matches, 1 when it does not, 2 when FILE is not a readable export.
    """
    import json

    from app.polls import exports
    from app.polls import service as polls_service

    try:
        with click.open_file(file, encoding="utf-8") as stream:
            text = stream.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableExport(f"Cannot read {file}: {exc}") from None
    try:
        data = exports.from_csv(text) if text.lstrip().startswith("#") else json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("it holds no JSON object")
        result = polls_service.verify(data)
    except ValueError as exc:
        raise UnreadableExport(f"{file} is not a poll export: {exc}") from None
    except DomainError as exc:
        raise UnreadableExport(f"{file}: {exc.message}") from None
    recounted = result.recounted
    if result.matches:
        click.echo(
            f"The recount matches the published tally: {recounted.outcome}. {recounted.sentence()}"
        )
        return
    click.echo("The recount does NOT match the published tally:")
    for difference in result.differences:
        click.echo(f"  - {difference}")
    sys.exit(1)


@main.command("export-poll")
@click.argument("poll_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--csv", "as_csv", is_flag=True, help="CSV instead of JSON.")
def export_poll(poll_id: int, as_csv: bool) -> None:
    """Print a closed poll's export: counted ballots, policy, roll and frozen tally."""
    import json

    from app.polls import exports
    from app.polls import service as polls_service
    from app.polls.models import Poll

    with _session(Settings()) as db:
        poll = db.get(Poll, poll_id)
        if poll is None:
            raise click.ClickException(f"There is no poll {poll_id}.")
        try:
            data = polls_service.export(db, poll)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(exports.to_csv(data) if as_csv else json.dumps(data, indent=2), nl=not as_csv)


def _size(n: int) -> str:
    value, unit = float(n), "bytes"
    for larger in ("KiB", "MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{n} bytes" if unit == "bytes" else f"{value:.1f} {unit}"


def _migration_advice(revision: str | None) -> str:
    """What to do when a backup holds an older schema than this version of the code."""
    from alembic.script import ScriptDirectory

    from app import migrate as migrations

    head = ScriptDirectory.from_config(migrations.alembic_config("sqlite://")).get_current_head()
    if revision is None or revision == head:
        return ""
    return (
        f" It holds schema revision {revision} (this version's is {head}): "
        "run `normsforum migrate` before serving it."
    )


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace PATH if it exists.")
def backup(path: Path, overwrite: bool) -> None:
    """Back the whole database up to PATH while the site runs (SQLite's online backup, or
    pg_dump's custom format)."""
    from app import backup as backups

    try:
        done = backups.backup(Settings().database_url, path, overwrite=overwrite)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Backed up the {done.kind} database to {path} ({_size(done.size)}, {done.seconds:.2f} s)."
    )


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--force", is_flag=True, help="Replace a database that holds data (back it up first)."
)
def restore(path: Path, force: bool) -> None:
    """Replace the database with the backup at PATH; refused over data unless --force.

    Stop the site first. On PostgreSQL the backup is restored in one transaction, after the
    database's schema is dropped: if it fails, restore again into the now empty database.
    """
    from app import backup as backups

    try:
        done = backups.restore(Settings().database_url, path, force=force)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Restored the {done.kind} database from {path} ({done.seconds:.2f} s)."
        + _migration_advice(done.revision)
    )


if __name__ == "__main__":
    sys.exit(main())
