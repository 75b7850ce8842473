"""The largest unit's refund member list: rendered in the request (before) against handed to a job (now).

    python bench/bench_document_jobs.py [--db URL] [--queue HUEY_URL] [--runs 30] [--quarter YYYY-Qn] [--skip-before]

On the 100,000-member dataset, with an approved quarter (the last complete quarter is calculated and approved
when it is not yet), for the unit with the most counted members:

- before: `reports.refunds.member_list_pdf` called directly, as the route did in the request until the job took
  over (the list rendered and kept on the first download); timed once, with the kept copy removed first;
- now: the office's request to /refunds/<id>/list.pdf when the list is not kept: the route starts the job and
  answers with the redirect to the job page (server time in-process, Flask test client); each run starts a new
  job (the previous one is marked done between runs, outside the timing); also a request that joins the job
  already running, and the request once the list is kept (the PDF read back);
- the job itself, run by a real Huey consumer (threads of this process) over a queue of the benchmark's own (a
  new SQLite file, or --queue: redis://127.0.0.1:6379/13 as in production; a Redis database nobody else uses):
  its duration from the job row (started → finished) and its stages from the log.

Target (issue 17): the route answers in under 200 ms (median) and hands the work to a job.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import bench_app, bench_arguments

TARGET_MS = 200


def percentiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {"median": statistics.median(samples), "p90": samples[max(0, int(len(samples) * 0.9) - 1)],
            "min": samples[0], "max": samples[-1]}


def run_job_for_real(client, url: str) -> tuple[float, float, list[str]]:
    """A real consumer takes the list's job from the queue: the job's own duration (started → finished, from its
    row), the time from the request to done, and its log."""
    from webapp import jobs
    from webapp.extensions import db
    from webapp.models.choices import JobStatus
    from webapp.models.outreach import Job

    consumer = jobs.start_consumer_thread(workers=1)
    try:
        location = client.get(url).headers["Location"]
        job_id = int(location.rsplit("/", 1)[1])
        wall_started = time.perf_counter()
        while True:
            db.session.expire_all()
            job = db.session.get(Job, job_id)
            if job.status in (JobStatus.done, JobStatus.failed):
                break
            db.session.rollback()
            time.sleep(0.2)
        wall_s = time.perf_counter() - wall_started
    finally:
        jobs.stop_consumer(consumer)
    assert job.status == JobStatus.done, job.error
    job_s = (job.finished_at - job.started_at).total_seconds()
    log = jobs.log_lines(job)
    db.session.remove()
    return job_s, wall_s, log


def print_rows(now: dict, join: dict, read: dict) -> None:
    for label, row in (("now: request -> redirect to a new job", now),
                       ("now: request -> joins the waiting job", join),
                       ("now: request once kept (the PDF read back)", read)):
        print(f"  {label:48} {row['median']:9.1f} {row['p90']:9.1f} {row['min']:9.1f} {row['max']:9.1f}  ms")


def main() -> int:
    parser = bench_arguments(runs=30)
    parser.add_argument("--quarter", help="the approved quarter (default: the last complete quarter, approved now "
                                          "when it is not)")
    parser.add_argument("--queue", help="HUEY_URL of the benchmark's queue (default: a new SQLite file)")
    parser.add_argument("--skip-before", action="store_true", help="do not time the old render in the request")
    args = parser.parse_args()

    app = bench_app(args.db, args.members, args.employers)
    from sqlalchemy import delete, func, select, update

    from reports.refunds import member_list_pdf
    from seed.refunds import ensure_default_policy, last_quarters
    from webapp import jobs
    from webapp.extensions import db
    from webapp.models import DemoAccount, Member, RefundDocument, RefundUnit
    from webapp.models.choices import JobStatus, RefundStatus
    from webapp.models.outreach import Job
    from webapp.services import refunds
    from webapp.services.periods import Quarter

    # A queue of the benchmark's own, consumed only by the consumer started below.
    queue = args.queue or "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="bench_jobs_"), "huey.db")
    jobs.configure(queue)
    jobs.huey.flush()  # the benchmark's queue only: nothing left from an earlier run
    jobs.use_app(app)

    quarter = Quarter.parse(args.quarter) if args.quarter else last_quarters(dt.date.today(), 1)[0]
    with app.app_context():
        ensure_default_policy()
        run = refunds.get_run(quarter)
        members = db.session.scalar(select(func.count(Member.id)))
        if run is None or run.status != RefundStatus.approved:
            started = time.perf_counter()
            refunds.calculate(quarter, pool_ore=members * 65_00, actor="bench")
            refunds.approve(quarter, actor="bench")
            print(f"{quarter} calculated and approved in {time.perf_counter() - started:.1f} s")
            run = refunds.get_run(quarter)
        largest = db.session.scalars(
            select(RefundUnit).where(RefundUnit.run_id == run.id, RefundUnit.receives_refunds.is_(True))
            .order_by(RefundUnit.member_count.desc())).first()
        unit_id, unit_code, unit_members = largest.id, largest.code, largest.member_count
        office = db.session.scalars(select(DemoAccount).where(DemoAccount.role == "office")).first()
        office_name = office.username
        engine = db.engine.dialect.name

        def forget_list() -> None:
            db.session.execute(delete(RefundDocument).where(RefundDocument.refund_unit_id == unit_id,
                                                            RefundDocument.kind == "list"))
            db.session.commit()

        def end_active_jobs() -> None:
            """Between runs (not timed): the list's waiting job is marked done, so the next request starts one."""
            with app.app_context():
                db.session.execute(update(Job).where(Job.key.like(f"refund_list:{unit_id}:%"),
                                                     Job.status.in_((JobStatus.queued, JobStatus.running)))
                                   .values(status=JobStatus.done, finished_at=dt.datetime.now()))
                db.session.commit()
                db.session.remove()

        forget_list()
        end_active_jobs()
        before_s, old_size = None, 0
        if not args.skip_before:
            with app.test_request_context():
                started = time.perf_counter()
                old_size = len(member_list_pdf(db.session.get(RefundUnit, unit_id)))
                before_s = time.perf_counter() - started
            forget_list()
        db.session.remove()

    client = app.test_client()
    response = client.post("/login/", data={"username": office_name, "password": app.config["DEMO_PASSWORD"]})
    assert response.status_code == 302, "login failed"
    url = f"/refunds/{unit_id}/list.pdf"

    def request(expected: int) -> float:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == expected, (url, response.status_code, expected)
        return elapsed

    starting, joining = [], []
    for index in range(args.runs + 3):
        end_active_jobs()
        sample = request(303)  # a new job, queued: the redirect to its page
        joined = request(303)  # the same list asked again while that job waits: joins it
        if index >= 3:  # warm-up
            starting.append(sample)
            joining.append(joined)
    end_active_jobs()
    with app.app_context():
        job_s, wall_s, log = run_job_for_real(client, url)
    kept = [request(200) for _ in range(max(5, args.runs // 3))]
    kept_size = len(client.get(url).data)

    now, join, read = percentiles(starting), percentiles(joining), percentiles(kept)
    print(f"refund member list of {unit_code} ({unit_members:,} members), quarter {quarter}, {members:,} members, "
          f"{engine}, queue {jobs.queue_label(queue).split(':')[0]}, {args.runs} runs")
    print(f"  {'':48} {'median':>9} {'p90':>9} {'min':>9} {'max':>9}")
    if before_s is not None:
        print(f"  {'before: rendered in the request (member_list_pdf)':48} {before_s * 1000:9.0f} ms  (1 run, "
              f"{old_size:,} bytes)")
    print_rows(now, join, read)
    print(f"  {'the job (a real consumer): started -> finished':48} {job_s * 1000:9.0f} ms  "
          f"(queue to done {wall_s:.1f} s, {kept_size:,} bytes)")
    for line in log:
        print(f"      {line}")
    verdict = "meets" if now["median"] < TARGET_MS else "MISSES"
    print(f"  the route's median {now['median']:.1f} ms {verdict} the target of {TARGET_MS} ms")
    return 0 if now["median"] < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
