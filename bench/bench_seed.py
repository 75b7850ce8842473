"""Benchmark: the whole demo dataset (seed.demo.seed_demo_data, as `flask seed` builds it) into an empty database;
print each stage's time, the total and the peak memory.

    python bench/bench_seed.py [--members 100000] [--employers N] [--months 12] [--db URL] [--profile FILE]

Without --db the data goes into a new SQLite file under /tmp. With --db the schema of that database is dropped
and made again (PostgreSQL: DROP SCHEMA public), so never point it at a database others use. Employers default
to 3 per 100 members, as bench.common.bench_app seeds them. `--months 0` times the register alone (the history's
stages then have nothing to play). `--profile FILE` writes a cProfile of the run (read it with pstats).

Prints the wall-clock seconds of each stage and of the whole, the CPU seconds of this process over the same span
(on a shared machine the wall clock waits for other processes too) and the peak RSS of the process. The target: a
million members with 12 months of history in under 5 minutes and under 1 GB.
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
    parser.add_argument("--months", type=int, default=12, help="months of history, as `flask seed --months`")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", "--database-url", dest="url", help="default: a new SQLite file under /tmp")
    parser.add_argument("--profile", help="write a cProfile of the seed to this file")
    args = parser.parse_args(argv)
    employers = args.employers or max(1, args.members * 3 // 100)

    url = args.url
    if not url:
        directory = tempfile.mkdtemp(prefix="bench_seed_", dir="/tmp")
        url = "sqlite:///" + os.path.join(directory, "bench.db")

    from seed.demo import seed_demo_data
    from webapp import create_app
    from webapp.services.database import upgrade_schema

    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade_schema(fresh=True)
        engine = app.extensions["sqlalchemy"].engine.dialect.name
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started, cpu_started = time.perf_counter(), time.process_time()
        result = seed_demo_data(members=args.members, employers=employers, seed=args.seed, months=args.months,
                                echo=lambda line: print(line, flush=True))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    target = TARGET_SECONDS_PER_MILLION * max(args.members, 1) / 1_000_000
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"database: {url}")
    print(f"load average at the end: {load}")
    print("| stage | engine | members | months | wall | CPU |")
    print("|---|---|---|---|---|---|")
    for name, stage_seconds, stage_cpu, _summary in result.stages:
        print(f"| {name} | {engine} | {args.members:,} | {args.months} | {stage_seconds:.1f} s | {stage_cpu:.1f} s |")
    print(f"| **total** (peak RSS {peak_mb:.0f} MB) | {engine} | {args.members:,} | {args.months} | {seconds:.1f} s "
          f"| {cpu:.1f} s |")
    print(f"target: under {target:.0f} s (5 minutes a million members) and under {TARGET_RSS_MB} MB")
    return 0 if seconds < target and peak_mb < TARGET_RSS_MB else 1


if __name__ == "__main__":
    sys.exit(main())
