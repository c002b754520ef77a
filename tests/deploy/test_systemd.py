"""The sample systemd units (deploy/systemd) start commands the `normsforum` CLI has, with options
it accepts, and serve on loopback ports that match the sample nginx upstream."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from app.cli import main
from app.config import PROJECT_ROOT

UNITS = PROJECT_ROOT / "deploy" / "systemd"
NGINX = PROJECT_ROOT / "deploy" / "nginx" / "normsforum.conf"


def exec_start(unit: Path) -> list[str]:
    lines = [line for line in unit.read_text().splitlines() if line.startswith("ExecStart=")]
    assert len(lines) == 1, unit.name
    return shlex.split(lines[0].removeprefix("ExecStart="))


@pytest.mark.parametrize(
    ("unit", "command"),
    [
        ("normsforum@.service", "serve"),
        ("normsforum-worker.service", "worker"),
        ("normsforum-sweep.service", "sweep"),
    ],
)
def test_each_unit_runs_a_normsforum_command(unit, command):
    program, name, *args = exec_start(UNITS / unit)
    assert Path(program).name == "normsforum"
    assert Path(program).is_absolute()
    assert name == command
    subcommand = main.commands[name]
    # Parses the options as the CLI would (an unknown one raises), without running anything.
    with click.Context(main) as parent:
        subcommand.make_context(name, [arg.replace("%i", "8000") for arg in args], parent=parent)


def test_the_app_units_listen_where_nginx_sends_requests():
    unit = UNITS / "normsforum@.service"
    _, _, *args = exec_start(unit)
    assert args == ["--host", "127.0.0.1", "--port", "%i"]
    upstream = re.findall(r"^\s*server 127\.0\.0\.1:(\d+)", NGINX.read_text(), re.MULTILINE)
    enable = re.search(r"systemctl enable --now ((?:normsforum@\d+ ?)+)", unit.read_text())
    assert enable is not None
    assert re.findall(r"normsforum@(\d+)", enable.group(1)) == upstream
