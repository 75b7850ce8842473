"""Benchmark: seed 100,000 members and 3,000 employers into a fresh SQLite file.

    python bench/bench_seed.py [--members 100000] [--employers 3000] [--database-url URL]

Prints the seconds `generate` took and the peak RSS of the process. The target
is under 60 s on SQLite on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--employers", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="default: a new SQLite file under /tmp")
    args = parser.parse_args(argv)

    url = args.database_url
    if not url:
        directory = tempfile.mkdtemp(prefix="bench_seed_", dir="/tmp")
        url = "sqlite:///" + os.path.join(directory, "bench.db")

    from seed.generator import generate
    from webapp import create_app
    from webapp.services.database import upgrade_schema

    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade_schema(fresh=True)
        started = time.perf_counter()
        result = generate(members=args.members, employers=args.employers, seed=args.seed, reset=False, progress=False)
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(result.summary())
    print(f"database: {url}")
    print(
        f"seed time: {seconds:.1f} s for {args.members:,} members and {args.employers:,} employers "
        f"(target < 60 s); peak RSS {peak_mb:.0f} MB"
    )
    return 0 if seconds < 60 else 1


if __name__ == "__main__":
    sys.exit(main())
