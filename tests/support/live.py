"""The app served by uvicorn in a process of its own, on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.conftest import TEST_SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch(database_url: str, port: int, **settings: str) -> subprocess.Popen[bytes]:
    """Start uvicorn serving the app on `port` (without waiting for it); see `serve`."""
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "NORMSFORUM_ENVIRONMENT": "test",
        "NORMSFORUM_DATABASE_URL": database_url,
        "NORMSFORUM_SECRET_KEY": TEST_SECRET,
        "NORMSFORUM_BASE_URL": base,
        "NORMSFORUM_ARGON2_TIME_COST": "1",
        "NORMSFORUM_ARGON2_MEMORY_COST_KIB": "8",
        "NORMSFORUM_ARGON2_PARALLELISM": "1",
        **{f"NORMSFORUM_{name.upper()}": value for name, value in settings.items()},
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:app_factory",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, env=env)


def wait_until_up(base: str, server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Wait for the app's health check to answer; RuntimeError if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError("the app server did not start")
        time.sleep(0.05)


@contextmanager
def serve(database_url: str, **settings: str) -> Iterator[str]:
    """Serve the app on `database_url` (already migrated) and yield its base URL; `settings`
    are extra NORMSFORUM_ variables (`sweep_interval_seconds="0"`)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = launch(database_url, port, **settings)
    try:
        wait_until_up(base, server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
