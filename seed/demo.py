"""The whole demo dataset in one call: the register, then the history played on top of it.

`flask --app run seed`, `python run.py` on an empty database and bench/bench_seed.py all call
`seed_demo_data`, so the demo data they build (and the time it takes) is the same sequence of stages.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class DemoDataResult:
    """Each stage's name, wall-clock seconds, CPU seconds of this process (SQLite's work included, a database
    server's not) and summary line, in the order they ran."""

    stages: list[tuple[str, float, float, str]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(stage[1] for stage in self.stages)


def seed_demo_data(members: int, employers: int, seed: int = 1, months: int = 12, reset: bool = False,
                   progress: bool = False, today: dt.date | None = None,
                   echo: Callable[[str], None] | None = None) -> DemoDataResult:
    """The register (`seed.generator.generate`), `months` months of the deduction cycle and of direct billing, and
    the demo's other data (my page, refunds, regions, lifecycle, outreach). `echo` gets each stage's summary as it
    ends. Raises SeedRefused (nothing written) when the arguments or the database do not allow a seed."""
    from seed.cycle import play_cycle
    from seed.generator import generate
    from seed.mypage import seed_member_page
    from seed.phases.direct_billing import play_direct_billing
    from seed.phases.lifecycle import seed_lifecycle
    from seed.phases.outreach import seed_outreach
    from seed.phases.regions import seed_regions
    from seed.refunds import seed_refunds
    from webapp.services import bulk

    stages: list[tuple[str, Callable[[], object]]] = [
        ("register", lambda: generate(members=members, employers=employers, seed=seed, reset=reset,
                                      progress=progress, today=today)),
        ("deduction cycle", lambda: play_cycle(months, seed, today=today, progress=progress)),
        ("direct billing", lambda: play_direct_billing(seed, months, today=today, progress=progress)),
        ("my page", lambda: seed_member_page(seed, today=today)),
        ("refunds", lambda: seed_refunds(today=today)),
        ("regions", lambda: seed_regions(today=today)),
        ("lifecycle", lambda: seed_lifecycle(seed, today=today)),
        ("outreach", lambda: seed_outreach(today=today)),
    ]
    result = DemoDataResult()
    # A bulk job: with Python's collector thresholds its passes were a fifth of the seed's time (100,000 members,
    # 12 months: 137 -> 112 s on SQLite).
    with bulk.fewer_collections():
        for name, run in stages:
            started, cpu_started = time.perf_counter(), time.process_time()
            summary = run().summary()
            result.stages.append((name, time.perf_counter() - started, time.process_time() - cpu_started, summary))
            if echo:
                echo(summary)
    return result
