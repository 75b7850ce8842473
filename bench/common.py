"""Shared setup for the benchmarks: an app over a seeded database, built once and reused."""

from __future__ import annotations

import argparse
import os
import statistics
import time

DEFAULT_SQLITE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "instance", "bench_100k.db")


def bench_arguments(runs: int) -> argparse.ArgumentParser:
    """The options every benchmark over the seeded database takes; a script adds its own."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="database URL (default: SQLite file instance/bench_100k.db)")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--employers", type=int, default=3_000)
    parser.add_argument("--runs", type=int, default=runs)
    return parser


def bench_app(url: str | None, members: int, employers: int):
    """An app over `url` (default: a SQLite file under instance/), seeded when empty."""
    from seed.generator import database_is_empty, generate
    from webapp import create_app
    from webapp.services.database import upgrade_schema

    url = url or "sqlite:///" + DEFAULT_SQLITE
    app = create_app("config.Config", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False, AUTH_RATE_LIMITED=False,
                     WTF_CSRF_ENABLED=False)
    with app.app_context():
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
