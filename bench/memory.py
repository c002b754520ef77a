"""Memory of one worker (issue 9: under 150 MB): at start, and at its peak under load.

1. *At start*: a fresh interpreter imports the app and builds it as a uvicorn worker does
   (`app.main:app_factory`), then reports its resident memory (VmRSS) and which of the
   libraries that only some requests need were imported anyway.
2. *Under load* (skipped with `--start-only`): the load benchmark's SQLite database
   (`bench.load.seed`), served by `normsforum serve --workers 1` with production settings
   (one process, which is then the worker); each main page, then each write, gets
   `wrk -c32 -t2` for `--seconds` on loopback while the worker's VmRSS is sampled every
   0.1 s. One worker takes all 32 connections: per worker, the worst case of `make bench`'s
   two.

    python -m bench.memory [--seconds 10] [--start-only] [--project DIR]

`--project` measures another copy of the project (say `git archive HEAD | tar -x -C DIR`,
for a before and after) with this one's virtualenv and bench.

It exits 1 if the worker's peak (VmHWM) reaches the target.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.load import procs, seed, wrk
from bench.load.__main__ import app_env, check_write, scenarios

#: As `make bench`: 32 clients at once, here all on one worker.
CONNECTIONS = 32

TARGET_MIB = 150.0

#: Libraries only some requests need; a worker should not hold them from the start.
ON_DEMAND = ("authlib", "httpx", "feedgen", "lxml", "PIL", "joserfc", "cryptography")

_AT_START = """
import json, os, sys
from app.main import app_factory
app_factory()
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:"))
print(json.dumps({"rss_kib": rss, "modules": len(sys.modules),
                  "loaded": sorted({m.split(".")[0] for m in sys.modules} & set(%r))}))
"""


def at_start(project: Path, env: dict[str, str]) -> tuple[float, int, list[str]]:
    """A worker's memory once the app is built, before its first request."""
    done = subprocess.run(
        [sys.executable, "-c", "import uvicorn.main\n" + _AT_START % (ON_DEMAND,)],
        env=env | {"PYTHONPATH": str(project), "MALLOC_ARENA_MAX": "2"},
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return found["rss_kib"] / 1024, found["modules"], found["loaded"]


def under_load(
    project: Path, folder: Path, seconds: float
) -> tuple[list[tuple[str, float, float]], float]:
    """Each scenario's req/s and the worker's peak RSS (MiB), and its VmHWM at the end."""
    url = f"sqlite:///{folder / 'memory.sqlite'}"
    port = procs.free_port()
    env = app_env(url, port)
    bin_dir = Path(sys.executable).parent
    procs.run([str(bin_dir / "normsforum"), "migrate"], env=env, cwd=folder, what="migrate")
    print("Seeding the load benchmark's database:", flush=True)
    seeded = seed.seed(url)
    tokens = folder / "tokens.txt"
    tokens.write_text("\n".join(seeded.tokens) + "\n")
    readers = folder / "readers.txt"
    readers.write_text("\n".join(seeded.tokens[:CONNECTIONS]) + "\n")
    serve = "from app.cli import main; main()"
    command = [sys.executable, "-c", serve, "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "1"]
    rows: list[tuple[str, float, float]] = []
    with procs.start(
        command,
        port=port,
        env=env | {"PYTHONPATH": str(project)},
        cwd=project,
        log=folder / "app.log",
        ready_path="/healthz",
    ) as app:
        worker = app.process.pid
        print(f"Worker at its first answer: {procs.rss_kib(worker) / 1024:.0f} MiB", flush=True)
        load = wrk.Load(CONNECTIONS, 2, seconds)
        for scenario in scenarios(seeded):
            # Members' pages with members' tokens, as `make bench` sends them: rendered for
            # each, never a kept page.
            write = scenario.signed(tokens, readers)
            if write is not None:
                check_write(app.base, scenario, seeded.tokens[-1])
            procs.settle(app.log, quiet=0.5)
            with procs.Memory([worker]) as memory:
                try:
                    result = wrk.run(app.base + scenario.path, load, folder, write)
                except RuntimeError as exc:
                    log = app.log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{exc}\nThe server's log ends:\n{log}") from None
            rows.append((scenario.name, result.rps, memory.peak_mib))
            print(
                f"  {scenario.name:<24}{result.rps:>8.1f} req/s  peak {memory.peak_mib:6.1f} MiB"
                f"  non-2xx {result.non2xx}",
                flush=True,
            )
        hwm = procs.rss_kib(worker, "VmHWM") / 1024
    return rows, hwm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="wrk's run per scenario")
    parser.add_argument("--start-only", action="store_true", help="only the memory at start")
    parser.add_argument("--project", type=Path, default=procs.ROOT, help="the app to measure")
    args = parser.parse_args()
    project = args.project.resolve()
    with tempfile.TemporaryDirectory(prefix="normsforum-memory-") as tmp:
        folder = Path(tmp)
        env = app_env(f"sqlite:///{folder / 'start.sqlite'}", 8000)
        rss, modules, loaded = at_start(project, env)
        print(
            f"At start: {rss:.0f} MiB, {modules} modules; "
            f"on-demand libraries loaded: {', '.join(loaded) or 'none'}",
            flush=True,
        )
        if args.start_only:
            return 0
        wrk.check()
        started = time.perf_counter()
        rows, hwm = under_load(project, folder, args.seconds)
    peak = max(p for _, _, p in rows)
    verdict = "PASS" if hwm < TARGET_MIB else "FAIL"
    print(
        f"\n{verdict}: one worker under wrk -c32, largest sample {peak:.0f} MiB, "
        f"VmHWM {hwm:.0f} MiB (target < {TARGET_MIB:.0f}); "
        f"{time.perf_counter() - started:.0f} s, load average {os.getloadavg()[0]:.1f}"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
