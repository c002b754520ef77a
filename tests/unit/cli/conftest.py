"""Run the `normsforum` command against a fresh database of its own, migrated by the command."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from app.accounts import passwords
from app.cli import main
from app.db import create_db_engine

CHEAP_ARGON2_ENV = {
    "NORMSFORUM_ARGON2_TIME_COST": "1",
    "NORMSFORUM_ARGON2_MEMORY_COST_KIB": "8",
    "NORMSFORUM_ARGON2_PARALLELISM": "1",
}


@dataclass
class Cli:
    url: str
    env: dict[str, str | None]
    run: Callable[..., Result]


@pytest.fixture
def cli_env(make_database_url, monkeypatch, tmp_path) -> dict[str, str | None]:
    """The environment of one CLI run: a fresh empty database, test settings, cheap hashes."""
    # A developer's own .env or NORMSFORUM_ variables must not leak into the command.
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("NORMSFORUM_"):
            monkeypatch.delenv(name)
    return {
        "NORMSFORUM_DATABASE_URL": make_database_url("cli"),
        "NORMSFORUM_ENVIRONMENT": "test",
        **CHEAP_ARGON2_ENV,
    }


@pytest.fixture
def invoke(cli_env) -> Iterator[Callable[..., Result]]:
    """`invoke("create-user", "--username", ..., env={...})` runs the command in-process."""
    runner = CliRunner()

    def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
        return runner.invoke(main, list(args), env={**cli_env, **(env or {})})

    yield run
    # The CLI configures the password hasher from its settings; give the suite its own back.
    passwords.configure(time_cost=1, memory_cost_kib=8, parallelism=1)


@pytest.fixture
def cli(cli_env, invoke) -> Cli:
    """A database migrated by `normsforum migrate` itself."""
    result = invoke("migrate")
    assert result.exit_code == 0, result.output
    assert "Database is up to date." in result.output
    url = cli_env["NORMSFORUM_DATABASE_URL"]
    assert url is not None
    return Cli(url=url, env=cli_env, run=invoke)


@pytest.fixture
def cli_engine(cli: Cli) -> Iterator[Engine]:
    """An engine on the CLI's database, to look at what the commands stored."""
    engine = create_db_engine(cli.url)
    yield engine
    engine.dispose()
