"""Benchmark: seed the demo dataset (seed.generator.generate) into an empty database; print time and peak memory.

    python bench/bench_seed.py [--members 100000] [--employers N] [--db URL]

Without --db the data goes into a new SQLite file under /tmp. With --db the schema of that database is dropped
and made again (PostgreSQL: DROP SCHEMA public), so never point it at a database others use. Employers default
to 3 per 100 members, as bench.common.bench_app seeds them.

Prints the wall-clock seconds `generate` took, the CPU seconds of this process over the same span (on a shared
machine the wall clock waits for other processes too) and the peak RSS of the process. The target: a million
members in under 5 minutes and under 1 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TARGET_SECONDS_PER_MILLION = 300
TARGET_RSS_MB = 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--employers", type=int, help="default: 3 per 100 members")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", "--database-url", dest="url", help="default: a new SQLite file under /tmp")
    args = parser.parse_args(argv)
    employers = args.employers or max(1, args.members * 3 // 100)

    url = args.url
    if not url:
        directory = tempfile.mkdtemp(prefix="bench_seed_", dir="/tmp")
        url = "sqlite:///" + os.path.join(directory, "bench.db")

    from seed.generator import generate
    from webapp import create_app
    from webapp.services.database import upgrade_schema

    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade_schema(fresh=True)
        engine = app.extensions["sqlalchemy"].engine.dialect.name
        started, cpu_started = time.perf_counter(), time.process_time()
        result = generate(members=args.members, employers=employers, seed=args.seed, reset=False, progress=False)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    target = TARGET_SECONDS_PER_MILLION * max(args.members, 1) / 1_000_000
    print(result.summary())
    print(f"database: {url}")
    print("| operation | engine | members | wall | CPU | peak RSS |")
    print("|---|---|---|---|---|---|")
    print(f"| seed | {engine} | {args.members:,} | {seconds:.1f} s | {cpu:.1f} s | {peak_mb:.0f} MB |")
    print(f"target: under {target:.0f} s (5 minutes a million members) and under {TARGET_RSS_MB} MB")
    return 0 if seconds < target and peak_mb < TARGET_RSS_MB else 1


if __name__ == "__main__":
    sys.exit(main())
