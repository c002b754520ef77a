"""Servers as subprocesses on loopback, and the memory of their worker processes.

Every server the bench starts (the app, the ceiling, the peer) runs as its own process tree
with its output in a log file, is waited for until it answers, and is stopped by its own
process id: nothing else on the machine is touched.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

#: Where the project is: the servers import `app` and `bench` from it.
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running server: its main process and where it listens."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        """The worker processes: children of the main process (uvicorn's spawned workers,
        gunicorn's forked ones), apart from multiprocessing's resource tracker."""
        found = []
        for pid in _children(self.process.pid):
            cmdline = _read(f"/proc/{pid}/cmdline").replace("\0", " ")
            if "resource_tracker" not in cmdline:
                found.append(pid)
        return found


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _children(parent: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _read(f"/proc/{entry.name}/stat")
        # The command name is in parentheses and may hold spaces: the ppid follows it.
        after = stat.rpartition(")")[2].split()
        if len(after) > 1 and after[1] == str(parent):
            children.append(int(entry.name))
    return sorted(children)


def rss_kib(pid: int, field_name: str = "VmRSS") -> int:
    """A process's resident memory (VmRSS), or its peak so far (VmHWM), in KiB; 0 if gone."""
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


@contextmanager
def start(
    command: Sequence[str],
    *,
    port: int,
    env: dict[str, str],
    cwd: Path,
    log: Path,
    ready_path: str = "/",
    workers: int = 0,
    timeout: float = 90.0,
) -> Iterator[Server]:
    """Start a server and wait until `ready_path` answers (any status) and its `workers`
    worker processes exist; stop it (SIGTERM, then SIGKILL) on the way out."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, port, log)
    try:
        _wait(server, ready_path, workers, timeout)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server's process group, which it leads (`start_new_session`)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    else:
        # The main process ended: make sure no worker of its group lingers.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def _wait(server: Server, path: str, workers: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"the server stopped (exit {server.process.returncode}); its log:\n"
                + server.log.read_text(errors="replace")[-3000:]
            )
        if len(server.workers()) >= workers:
            try:
                with urllib.request.urlopen(server.base + path, timeout=10):  # noqa: S310
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {timeout:.0f} s; see {server.log}")


def run(command: Sequence[str], *, env: dict[str, str], cwd: Path, what: str) -> str:
    """Run a command to its end; its output comes back, or in the error if it fails."""
    done = subprocess.run(
        list(command), cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


@dataclass
class Memory:
    """Peak resident memory of each worker process while a scenario runs."""

    pids: list[int]
    peak_kib: dict[int, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Memory:
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._take()

    def _take(self) -> None:
        for pid in self.pids:
            self.peak_kib[pid] = max(self.peak_kib.get(pid, 0), rss_kib(pid))

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self._take()

    @property
    def peak_mib(self) -> float:
        """The largest worker's peak: the target is per worker."""
        return max(self.peak_kib.values(), default=0) / 1024


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """One GET: status, headers (lower-case names) and body."""
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


#: A request line of uvicorn's access log: `"GET /path HTTP/1.1" 200 OK`.
ACCESS = re.compile(r'"(?:GET|POST|PUT|PATCH|DELETE|HEAD) (\S+) HTTP/[\d.]+" (\d{3})')


UNHANDLED = re.compile(r"Unhandled error on [A-Z]+ (\S+)")


def settle(log: Path, quiet: float = 1.5, limit: float = 45.0) -> int:
    """Wait until the server's log has stopped growing for `quiet` seconds (requests still in
    flight when wrk stopped have ended, or failed); returns its size then."""
    deadline = time.monotonic() + limit
    size = log.stat().st_size
    still = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = log.stat().st_size
        if now != size:
            size, still = now, time.monotonic()
        elif time.monotonic() - still >= quiet:
            break
    return size


def statuses(log: Path, start: int, end: int, path: str) -> dict[str, int]:
    """Answers to `path` outside 2xx that the access log recorded between two offsets, by
    status: wrk misses those that end after its run (a request waiting on a lock, say)."""
    with log.open("rb") as stream:
        stream.seek(start)
        text = stream.read(end - start).decode(errors="replace")
    found: dict[str, int] = {}
    for match in ACCESS.finditer(text):
        status = match.group(2)
        if match.group(1) == path and not status.startswith("2"):
            found[status] = found.get(status, 0) + 1
    # A request whose error escaped the app gets uvicorn's 500 without an access-log line;
    # the app logs it as "Unhandled error on METHOD path" (path without the query).
    unhandled = sum(1 for m in UNHANDLED.finditer(text) if m.group(1) == path.split("?")[0])
    if unhandled > found.get("500", 0):
        found["500"] = unhandled
    return found
