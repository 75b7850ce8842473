"""Shared setup for the benchmarks: an app over a seeded database, built once and reused."""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

INSTANCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "instance")
DEFAULT_SQLITE = os.path.join(INSTANCE, "bench_100k.db")


def default_sqlite(members: int) -> str:
    """The SQLite file of a benchmark dataset: instance/bench_100k.db, or instance/bench_<members>.db."""
    return DEFAULT_SQLITE if members == 100_000 else os.path.join(INSTANCE, f"bench_{members}.db")


def bench_arguments(runs: int) -> argparse.ArgumentParser:
    """The options every benchmark over the seeded database takes; a script adds its own."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="database URL (default: SQLite file instance/bench_100k.db)")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--employers", type=int, help="employers when the database is seeded (default: 3 per 100 "
                                                       "members, so 3,000 at 100k and 30,000 at 1M)")
    parser.add_argument("--runs", type=int, default=runs)
    return parser


def bench_app(url: str | None, members: int, employers: int | None = None):
    """An app over `url` (default: a SQLite file under instance/ named by `members`), seeded when empty.

    Benchmarks started at once over the same database wait for the first one's seeding (a lock file)."""
    from seed.generator import database_is_empty, generate
    from webapp import create_app
    from webapp.services.database import upgrade_schema

    url = url or "sqlite:///" + default_sqlite(members)
    employers = employers or max(1, members * 3 // 100)
    app = create_app("config.Config", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False, AUTH_RATE_LIMITED=False,
                     WTF_CSRF_ENABLED=False, LOG_FORMAT="off")
    os.makedirs(INSTANCE, exist_ok=True)
    lock_name = "bench_seed_" + "".join(c if c.isalnum() else "_" for c in url)[-80:] + ".lock"
    with open(os.path.join(INSTANCE, lock_name), "w") as lock, app.app_context():
        fcntl.flock(lock, fcntl.LOCK_EX)
        upgrade_schema()
        if database_is_empty():
            started = time.perf_counter()
            generate(members=members, employers=employers, seed=1, reset=False, progress=True)
            print(f"seeded {members} members in {time.perf_counter() - started:.1f} s")
    return app


def timed(fn, runs: int, warmup: int = 3) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": statistics.median(samples),
        "p90_ms": samples[int(len(samples) * 0.9) - 1],
        "min_ms": samples[0],
        "max_ms": samples[-1],
    }


def peak_rss_mib() -> float:
    """This process's peak resident memory so far: VmHWM of /proc/self/status, the high-water mark of this program's
    own memory. Not ru_maxrss: Linux keeps that across execve, so a benchmark started by a process that had seeded a
    million members reported the seeding's peak (1.3 GB for every operation)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_seconds(fn: Callable[[], object], runs: int, before_each: Callable[[], object] | None = None) -> float:
    samples = []
    for _ in range(runs):
        if before_each is not None:
            before_each()
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


@dataclass
class Operation:
    """One bulk operation of the project beside one hand-written SQL statement computing the same result.

    `project` and `sql` run inside the app context; `before_each` (when given) puts the database back before
    each run of either, outside the timing (say, deleting the month's bases); `warm_up` (when given) runs once in
    the project's process before its timed runs: what a long-lived worker has already done after its first job
    (say, importing the libraries that write the files), which one run in a fresh process would otherwise count."""

    name: str
    project: Callable[[], object]
    sql: Callable[[], object]
    before_each: Callable[[], object] | None = None
    warm_up: Callable[[], object] | None = None


def compare_operations(app, operations: list[Operation], args, script: str) -> int:
    """Print each operation's median time beside its SQL baseline, the ratio and the project's peak memory.

    The project and the SQL of each operation run in processes of their own (this script again with --only NAME
    --side project|sql), so the peak memory shown is the project's alone; `args` are the script's parsed options,
    which must include those of `bench_arguments` and `add_only_argument`."""
    if getattr(args, "only", None):
        operation = next(op for op in operations if op.name == args.only)
        sides = [args.side] if getattr(args, "side", None) else ["sql", "project"]
        seconds = {}
        with app.app_context():
            for side in sides:
                if side == "project" and operation.warm_up is not None:
                    operation.warm_up()
                seconds[side] = median_seconds(getattr(operation, side), args.runs, operation.before_each)
            engine = app.extensions["sqlalchemy"].engine.dialect.name
        print(json.dumps({"name": operation.name, "seconds": seconds, "rss_mib": peak_rss_mib(), "engine": engine}))
        return 0
    results = []
    for operation in operations:
        result = {"name": operation.name}
        for side in ("sql", "project"):
            argv = [sys.executable, script, *sys.argv[1:], "--only", operation.name, "--side", side]
            done = subprocess.run(argv, capture_output=True, text=True)
            if done.returncode != 0:
                print(done.stdout + done.stderr, file=sys.stderr)
                return done.returncode
            measured = json.loads(done.stdout.strip().splitlines()[-1])
            result[side + "_s"], result[side + "_rss"] = measured["seconds"][side], measured["rss_mib"]
            result["engine"] = measured["engine"]
        results.append(result)
    engine = results[0]["engine"] if results else "?"
    print(f"{args.members:,} members on {engine}, median of {args.runs} runs")
    print("| operation | project | SQL | ratio | peak RSS (project) |")
    print("|---|---|---|---|---|")
    for r in results:
        ratio = r["project_s"] / r["sql_s"] if r["sql_s"] > 0 else float("inf")
        print(f"| {r['name']} | {r['project_s']:.2f} s | {r['sql_s']:.2f} s | {ratio:.1f}x "
              f"| {r['project_rss']:.0f} MiB |")
    return 0


def add_only_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", help=argparse.SUPPRESS)
    parser.add_argument("--side", choices=("project", "sql"), help=argparse.SUPPRESS)
