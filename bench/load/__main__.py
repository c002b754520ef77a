"""The load benchmark: seed a large community, serve it as production does, push it with wrk.

For each database (SQLite, then PostgreSQL on a throwaway cluster):

1. a fresh database, migrated by `normsforum migrate`, seeded (`bench.load.seed`);
2. `normsforum serve --workers N` with production settings; each scenario gets a short wrk
   warm-up, then the measured run, while the workers' memory is sampled;
3. the ceiling (`bench.load.ceiling`): the same stack serving each read page's captured
   bytes, under the same load;
4. the peer (`bench.load.peer`): django-machina's topic page of 10,000 posts, same load;
5. the table, the targets with PASS or FAIL, and a non-zero exit if any target fails.

All traffic stays on loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.load import ceiling, peer, procs, seed, wrk

#: Targets of issue 9.
CEILING_SHARE = 0.5
WORKER_MIB = 150.0
HISTORY_SHARE = 0.7


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    #: A write: the method and JSON body (`{n}` becomes the request's number).
    method: str = "GET"
    body: str = ""
    #: Held to the ceiling target (the small community's pages are there for the history
    #: comparison only).
    main: bool = True
    #: The same page in the small community, for "time independent of history size".
    small: str = ""
    #: Read by signed-in members (each request with another member's token): never a kept
    #: visitor's page, always rendered, so held to the peer but not to the ceiling.
    member: bool = False

    @property
    def read(self) -> bool:
        return self.method == "GET"

    @property
    def tokens(self) -> bool:
        """Whether each request carries a member's token."""
        return self.member or not self.read

    def signed(self, tokens: Path, readers: Path) -> wrk.Write | None:
        """How wrk signs this scenario's requests: writes each with the next of all members'
        `tokens`, members' reads with the next of the `readers` (as many as connections, each
        signed in throughout, as a browser's session is); visitors' reads not at all."""
        if not self.tokens:
            return None
        return wrk.Write(self.method, self.body, readers if self.read else tokens)


def scenarios(seeded: seed.Seeded) -> list[Scenario]:
    big, small = seed.BIG_SLUG, seed.SMALL_SLUG
    proposal = f"/c/{big}/proposals/{seeded.big_proposal}"
    return [
        Scenario("guidelines page", f"/c/{big}/guidelines", small="guidelines page, small"),
        Scenario("guidelines JSON", f"/api/v1/communities/{big}/guidelines"),
        Scenario("proposal list", f"/c/{big}/proposals"),
        Scenario("proposal page", proposal, small="proposal page, small"),
        Scenario("thread page", f"{proposal}?cursor={seeded.deep_cursor}"),
        Scenario("poll results", f"/c/{big}/polls/{seeded.closed_poll}"),
        Scenario("proposal page, member", proposal, member=True, main=False),
        Scenario(
            "thread page, member",
            f"{proposal}?cursor={seeded.deep_cursor}",
            member=True,
            main=False,
        ),
        Scenario("guidelines page, small", f"/c/{small}/guidelines", main=False),
        Scenario(
            "proposal page, small", f"/c/{small}/proposals/{seeded.small_proposal}", main=False
        ),
        Scenario(
            "cast a ballot",
            f"/api/v1/polls/{seeded.open_poll}/ballot",
            method="PUT",
            body='{"position": "consent", "reason": ""}',
        ),
        Scenario(
            "post a comment",
            f"/api/v1/proposals/{seeded.big_proposal}/comments",
            method="POST",
            body='{"body": "Load test comment {n}: agreed, with credit upstream.", '
            '"alignment": "supports"}',
        ),
    ]


@dataclass
class Measured:
    """One scenario's figures (a dict of `wrk.Result` fields, for the JSON record)."""

    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    statuses: dict[str, int]
    errors: int
    peak_mib: float
    ceiling_rps: float | None = None

    def logged(self, log: Path, start: int, end: int, path: str) -> None:
        """Take the server's own count of answers outside 2xx (warm-up included) when it
        finds more than wrk did: wrk does not see the answers that come after its run."""
        found = procs.statuses(log, start, end, path)
        if sum(found.values()) > self.non2xx:
            self.non2xx, self.statuses = sum(found.values()), found

    @classmethod
    def of(cls, name: str, result: wrk.Result, memory: procs.Memory) -> Measured:
        return cls(
            name=name,
            rps=result.rps,
            p50_ms=result.p50_ms,
            p99_ms=result.p99_ms,
            non2xx=result.non2xx,
            statuses=result.statuses,
            errors=result.socket_errors + result.timeouts,
            peak_mib=memory.peak_mib,
        )


@dataclass
class Run:
    kind: str
    seed_seconds: float
    rows: list[Measured] = field(default_factory=list)
    peer: Measured | None = None
    peer_note: str = ""
    #: Lifetime peak (VmHWM) of each app worker at the end of the run, MiB.
    worker_hwm_mib: list[float] = field(default_factory=list)
    seconds: float = 0.0
    #: The machine's 1-minute load average when the measuring began and ended: anything
    #: well above the server's own share says other work shared the cores.
    load_average: tuple[float, float] = (0.0, 0.0)

    def row(self, name: str) -> Measured:
        return next(r for r in self.rows if r.name == name)


@dataclass(frozen=True)
class Options:
    workers: int
    load: wrk.Load
    warmup: float
    with_peer: bool


@contextmanager
def database(kind: str, folder: Path) -> Iterator[tuple[str, str | None]]:
    """The app's database URL, and the server's (PostgreSQL) for the peer's database."""
    if kind == "postgresql":
        from tests.support import postgres

        with postgres.cluster() as server:
            yield postgres.create_database(server, "bench_load"), server
        return
    yield f"sqlite:///{folder / 'load.sqlite'}", None


def app_env(url: str, port: int) -> dict[str, str]:
    """Production settings: a secret of its own, loopback base URL, no in-process worker.

    No rate limit is relaxed: no setting exists for the comment limit (10 a minute per
    member), and the write scenarios stay under it by rotating over 10,000 members.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("NORMSFORUM_")}
    return env | {
        "NORMSFORUM_ENVIRONMENT": "production",
        "NORMSFORUM_SECRET_KEY": secrets.token_urlsafe(48),
        "NORMSFORUM_BASE_URL": f"http://127.0.0.1:{port}",
        "NORMSFORUM_DATABASE_URL": url,
        "NORMSFORUM_WORKER_IN_PROCESS": "false",
    }


def check_write(base: str, scenario: Scenario, token: str) -> None:
    """One request by hand first: a signed request that fails says why, not a count of 4xx."""
    request = urllib.request.Request(  # noqa: S310 - loopback
        base + scenario.path,
        data=scenario.body.replace("{n}", "0").encode(),
        method=scenario.method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310
            return
    except urllib.error.HTTPError as error:
        raise RuntimeError(
            f"{scenario.method} {scenario.path} answered {error.code}: {error.read()[:500]!r}"
        ) from None


#: Each measured run is cut in this many slices, taken in turn with the runs it is compared
#: with (a page and its ceiling, a large page and its small one): whatever else the machine
#: does meanwhile then falls on both sides alike.
SLICES = 2


def alternate(
    targets: list[tuple[procs.Server, str]],
    options: Options,
    folder: Path,
    write: wrk.Write | None = None,
) -> list[tuple[wrk.Result, procs.Memory]]:
    """A warm-up of each target, then the measured runs in slices, target after target; each
    target's slices merged, with its workers' memory sampled while it ran."""
    load = options.load
    if options.warmup > 0:
        warm = wrk.Load(load.connections, load.threads, options.warmup)
        for server, path in targets:
            procs.settle(server.log, quiet=0.5)
            wrk.run(server.base + path, warm, folder, write)
    piece = wrk.Load(load.connections, load.threads, load.seconds / SLICES)
    results: list[list[wrk.Result]] = [[] for _ in targets]
    memories = [procs.Memory(server.workers()) for server, _ in targets]
    for _ in range(SLICES):
        for n, (server, path) in enumerate(targets):
            # Requests of the run before that were still queued or under way when wrk
            # stopped are finished first: a new run must not wait behind them.
            procs.settle(server.log, quiet=0.5)
            with memories[n]:
                results[n].append(wrk.run(server.base + path, piece, folder, write))
    return [(wrk.merge(r), m) for r, m in zip(results, memories, strict=True)]


@contextmanager
def ceiling_server(
    url: str, plan: list[Scenario], app: procs.Server, options: Options, folder: Path
) -> Iterator[procs.Server]:
    """The ceiling beside the app: each read page captured once from the app (before any
    write), served from memory by the same stack."""
    pages: dict[str, tuple[dict[str, str], bytes]] = {}
    for scenario in plan:
        if scenario.read and not scenario.member:
            status, headers, body = procs.fetch(app.base + scenario.path)
            if status != 200:
                raise RuntimeError(f"GET {scenario.path} answered {status}")
            pages[scenario.path] = (headers, body)
    pages_file = folder / "pages.json"
    ceiling.save(pages, pages_file)
    port = procs.free_port()
    env = app_env(url, port) | {
        "BENCH_CEILING_PAGES": str(pages_file),
        "PYTHONPATH": str(procs.ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.load.ceiling:app_factory",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(options.workers),
        "--proxy-headers",
        "--log-level",
        "info",
    ]
    with procs.start(
        command,
        port=port,
        env=env,
        cwd=folder,
        log=folder / "ceiling.log",
        ready_path=plan[0].path,
        workers=options.workers,
    ) as server:
        yield server


def run_app(kind: str, options: Options, folder: Path, peer_site: peer.Peer | None) -> Run:
    started = time.perf_counter()
    print(f"\n=== {kind} ===\nSeeding:", flush=True)
    with database(kind, folder) as (url, pg_server):
        bin_dir = Path(sys.executable).parent
        port = procs.free_port()
        env = app_env(url, port)
        procs.run([str(bin_dir / "normsforum"), "migrate"], env=env, cwd=folder, what="migrate")
        seeded = seed.seed(url)
        outcome = Run(kind, seeded.seconds)
        print(f"Seeding took {seeded.seconds:.0f} s.", flush=True)
        tokens = folder / "tokens.txt"
        tokens.write_text("\n".join(seeded.tokens) + "\n")
        # Members who read: as many as the connections, each signed in throughout, as a
        # browser's session is. (Every request a new member would make each one a write: a
        # token's first use of the day is recorded.)
        readers = folder / "readers.txt"
        readers.write_text("\n".join(seeded.tokens[: options.load.connections]) + "\n")
        plan = scenarios(seeded)
        command = [
            str(bin_dir / "normsforum"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(options.workers),
        ]
        with (
            procs.start(
                command,
                port=port,
                env=env,
                cwd=folder,
                log=folder / f"app-{kind}.log",
                ready_path="/healthz",
                workers=options.workers,
            ) as app,
            ceiling_server(url, plan, app, options, folder) as roof,
        ):
            workers = app.workers()
            before = os.getloadavg()[0]
            pairs = {s.small for s in plan if s.small}
            by_name = {s.name: s for s in plan}
            for scenario in plan:
                if scenario.name in pairs:
                    continue  # measured beside its large community's page
                start = procs.settle(app.log)
                write = scenario.signed(tokens, readers)
                if write is not None:
                    check_write(app.base, scenario, seeded.tokens[-1])
                    ((result, memory),) = alternate([(app, scenario.path)], options, folder, write)
                    row = Measured.of(scenario.name, result, memory)
                    row.logged(app.log, start, procs.settle(app.log), scenario.path)
                    outcome.rows.append(row)
                    _progress(row)
                    continue
                group = [scenario] + ([by_name[scenario.small]] if scenario.small else [])
                targets = [(app, s.path) for s in group] + [(roof, s.path) for s in group]
                figures = alternate(targets, options, folder)
                end = procs.settle(app.log)
                for n, measured in enumerate(group):
                    result, memory = figures[n]
                    roof_result, _ = figures[len(group) + n]
                    if roof_result.non2xx:
                        raise RuntimeError(f"the ceiling answered {roof_result.statuses}")
                    row = Measured.of(measured.name, result, memory)
                    row.logged(app.log, start, end, measured.path)
                    row.ceiling_rps = roof_result.rps
                    outcome.rows.append(row)
                    _progress(row)
            outcome.worker_hwm_mib = [procs.rss_kib(p, "VmHWM") / 1024 for p in workers]
            outcome.load_average = (before, os.getloadavg()[0])

        if peer_site is not None:
            try:
                outcome.peer = run_peer(kind, url, pg_server, peer_site, options, folder)
            except RuntimeError as exc:
                outcome.peer_note = str(exc)[:2000]
                print(f"The peer could not be measured: {outcome.peer_note}", flush=True)
    outcome.seconds = time.perf_counter() - started
    return outcome


def run_peer(
    kind: str,
    url: str,
    pg_server: str | None,
    site: peer.Peer,
    options: Options,
    folder: Path,
) -> Measured:
    print("Peer (django-machina, gunicorn sync workers):", flush=True)
    if pg_server is not None:
        from tests.support import postgres

        database = peer.database_settings(postgres.create_database(pg_server, "peer"), folder)
    else:
        database = peer.database_settings(url, folder)
    env, path = peer.prepare(site, database)
    port = procs.free_port()
    log = folder / f"peer-{kind}.log"
    with procs.start(
        peer.command(site, port, options.workers),
        port=port,
        env=env,
        cwd=site.site,
        log=log,
        ready_path=path,
        workers=options.workers,
    ) as server:
        status, _, _ = procs.fetch(server.base + path)
        if status != 200:
            raise RuntimeError(f"the peer's topic page answered {status}")
        ((result, memory),) = alternate([(server, path)], options, folder)
    measured = Measured.of("peer: machina topic page", result, memory)
    _progress(measured)
    return measured


def _progress(row: Measured) -> None:
    print(
        f"  {row.name:<24}{row.rps:>9.1f} req/s  p50 {row.p50_ms:>8.1f} ms  "
        f"p99 {row.p99_ms:>8.1f} ms  non-2xx {row.non2xx}  RSS {row.peak_mib:.0f} MiB",
        flush=True,
    )


# --- Report ------------------------------------------------------------------------------------


@dataclass
class Verdict:
    name: str
    ok: bool
    detail: str


def verdicts(outcome: Run) -> list[Verdict]:
    found: list[Verdict] = []
    main_reads = [r for r in outcome.rows if r.ceiling_rps is not None and _is_main(r.name)]
    for row in main_reads:
        assert row.ceiling_rps is not None
        share = row.rps / row.ceiling_rps
        found.append(
            Verdict(
                f"{row.name} >= {CEILING_SHARE} of its ceiling",
                share >= CEILING_SHARE,
                f"{share:.3f} ({row.rps:.0f} of {row.ceiling_rps:.0f} req/s)",
            )
        )
    if outcome.peer is not None:
        for name in (
            "proposal page",
            "thread page",
            "proposal page, member",
            "thread page, member",
        ):
            row = outcome.row(name)
            found.append(
                Verdict(
                    f"{name} faster than the peer's topic page",
                    row.rps > outcome.peer.rps,
                    f"{row.rps / outcome.peer.rps:.2f}x ({row.rps:.0f} vs "
                    f"{outcome.peer.rps:.0f} req/s)",
                )
            )
    else:
        found.append(Verdict("pages faster than the peer's", False, "peer not measured"))
    peak = max([r.peak_mib for r in outcome.rows] + outcome.worker_hwm_mib)
    found.append(
        Verdict(
            f"memory per worker < {WORKER_MIB:.0f} MB",
            peak < WORKER_MIB,
            f"largest worker peak {peak:.0f} MiB (VmHWM "
            + ", ".join(f"{m:.0f}" for m in outcome.worker_hwm_mib)
            + ")",
        )
    )
    for large, small in (
        ("proposal page", "proposal page, small"),
        ("guidelines page", "guidelines page, small"),
    ):
        big_row, small_row = outcome.row(large), outcome.row(small)
        share = big_row.rps / small_row.rps
        found.append(
            Verdict(
                f"{large}: large >= {HISTORY_SHARE} of small",
                share >= HISTORY_SHARE,
                f"{share:.2f} ({big_row.rps:.0f} vs {small_row.rps:.0f} req/s)",
            )
        )
    failing = [r for r in outcome.rows if r.non2xx or r.errors]
    found.append(
        Verdict(
            "every answer 2xx, no socket errors",
            not failing,
            "; ".join(f"{r.name}: {r.statuses} {r.errors} errors" for r in failing) or "all 2xx",
        )
    )
    return found


def _is_main(name: str) -> bool:
    return not name.endswith((", small", ", member"))


def report(outcome: Run, options: Options) -> bool:
    load = options.load
    print(
        f"\nLoad on {outcome.kind}: normsforum serve --workers {options.workers}, "
        f"wrk -c{load.connections} -t{load.threads} -d{load.seconds:g}s on loopback "
        f"(seeded in {outcome.seed_seconds:.0f} s, run in {outcome.seconds / 60:.1f} min;\n"
        f"load average {outcome.load_average[0]:.1f} when measuring began, "
        f"{outcome.load_average[1]:.1f} when it ended)\n"
    )
    header = (
        f"{'scenario':<26}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}"
        f"{'ceiling':>9}{'ratio':>8}{'RSS/worker MiB':>16}"
    )
    print(header)
    print("-" * len(header))
    rows = list(outcome.rows)
    if outcome.peer is not None:
        rows.append(outcome.peer)
    for row in rows:
        ceiling_text = f"{row.ceiling_rps:>9.0f}" if row.ceiling_rps else f"{'':>9}"
        ratio = f"{row.rps / row.ceiling_rps:>8.3f}" if row.ceiling_rps else f"{'':>8}"
        print(
            f"{row.name:<26}{row.rps:>8.1f}{row.p50_ms:>9.1f}{row.p99_ms:>9.1f}"
            f"{row.non2xx:>9}{ceiling_text}{ratio}{row.peak_mib:>16.0f}"
        )
    if outcome.peer is not None:
        peer_rps = outcome.peer.rps
        print(
            f"\nAgainst the peer's topic page ({peer_rps:.1f} req/s): proposal page "
            f"{outcome.row('proposal page').rps / peer_rps:.2f}x, thread page "
            f"{outcome.row('thread page').rps / peer_rps:.2f}x"
        )
    elif outcome.peer_note:
        print(f"\nThe peer was not measured: {outcome.peer_note}")
    print()
    ok = True
    for verdict in verdicts(outcome):
        ok = ok and verdict.ok
        print(f"{'PASS' if verdict.ok else 'FAIL'}: {verdict.name}: {verdict.detail}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn (and gunicorn) workers")
    parser.add_argument("--connections", "-c", type=int, default=32)
    parser.add_argument("--threads", "-t", type=int, default=2, help="wrk threads")
    parser.add_argument("--duration", "-d", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per run")
    parser.add_argument("--no-peer", action="store_true", help="skip django-machina")
    parser.add_argument("--save", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args()
    try:
        wrk.check()
    except wrk.WrkMissing as exc:
        print(exc, file=sys.stderr)
        return 2
    options = Options(
        workers=args.workers,
        load=wrk.Load(args.connections, args.threads, args.duration),
        warmup=args.warmup,
        with_peer=not args.no_peer,
    )
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    folder = Path(tempfile.mkdtemp(prefix="normsforum-load-"))
    if os.geteuid() == 0:
        # The PostgreSQL cluster runs as `postgres`; the folder only holds files of ours.
        folder.chmod(0o755)
    results: list[Run] = []
    ok = True
    try:
        site = None
        if options.with_peer:
            print("Installing the peer (django-machina) into a throwaway venv...", flush=True)
            site = peer.install(folder / "peer")
        for kind in kinds:
            run_folder = folder / kind
            run_folder.mkdir()
            results.append(run_app(kind, options, run_folder, site))
        for outcome in results:
            ok = report(outcome, options) and ok
        if args.save:
            args.save.write_text(json.dumps([asdict(r) for r in results], indent=2))
    finally:
        if args.keep:
            print(f"\nLogs and files kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print(
        f"\n{'PASS' if ok else 'FAIL'}: every target of the load benchmark"
        + ("" if ok else " (see above)")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
