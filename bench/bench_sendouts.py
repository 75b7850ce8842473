"""Send-outs at 100,000 members: a segment's count, the recipient list, and the whole send-out as a background job.

    python bench/bench_sendouts.py [--database-url URL] [--members 100000] [--runs 5] [--no-job]

Targets (issue 16), on SQLite and PostgreSQL: a segment's count (segments.count: one query, the members, those
who said no to the channel and those without an address) under 1 s; building the recipient list
(segments.insert_recipients: one INSERT ... SELECT of member and address into send_out_recipient) under 5 s.
Each count and list is timed `--runs` times after warm-up runs (bench.common.timed); the recipient rows are
removed between runs.

Then the whole send-out to every member (for it every member says yes to e-mail and has an address, so it is
100,000 e-mails) runs as a job: `sendouts.start_sending`
(what the "Send" button does in the web process: the recipients fixed, the job queued) is timed apart, and a
Huey consumer in a thread of this process (over a SQLite queue file in a temporary folder) sends the e-mails to
a null mail backend (MAIL_SUPPRESS_SEND: each message is made, handed to Flask-Mail and not delivered) in
batches of SENDOUT_BATCH, while this process polls the job's row and prints its progress as the job page would
show it.

The dataset is its own database (default: SQLite file instance/bench_sendouts_100k.db), the benchmark register
of seed.generator (made set-based when the database is empty), plus, made by this script and idempotent: every
member active (as bench_direct_billing does), every tenth saying no to e-mail, and a collective agreement
covering every third employer.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The settings are read when config.py is imported: the null mail backend and a queue of the benchmark's own.
os.environ["MAIL_SUPPRESS_SEND"] = "1"
os.environ["HUEY_URL"] = "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="bench_sendouts_"), "huey.db")
os.environ.setdefault("HUEY_IMMEDIATE", "0")

from bench.common import bench_app, bench_arguments, timed

DEFAULT_DB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "instance",
                          "bench_sendouts_100k.db")
COUNT_TARGET_MS, LIST_TARGET_S = 1000, 5.0
AGREEMENT = "Benchmark-avtalen"
BENCH_DOMAIN = "@bench-sendouts.example"


def analyze() -> None:
    """Fresh planner statistics on PostgreSQL (autovacuum's job in production)."""
    from sqlalchemy import text

    from webapp.extensions import db

    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))


def prepare() -> dict:
    """Every tenth member says no to e-mail; an agreement covers every third employer; the ids the cases use."""
    from sqlalchemy import func, select, update

    from webapp.extensions import db
    from webapp.models import Employer, Member, OrgUnit, Workplace
    from webapp.models.choices import OrgLevel
    from webapp.models.outreach import AgreementEmployer, CollectiveAgreement, Job, SendOut

    db.session.execute(update(Member).values(left_on=None, leave_reason=None, info_by_email=(Member.id % 10) != 0))
    db.session.execute(update(Member).where(Member.email_private.like(f"%{BENCH_DOMAIN}"))
                       .values(email_private=None))
    agreement = db.session.scalars(select(CollectiveAgreement).where(CollectiveAgreement.name == AGREEMENT)).first()
    if agreement is None:
        agreement = CollectiveAgreement(name=AGREEMENT, valid_from=dt.date(2000, 1, 1))
        db.session.add(agreement)
        db.session.flush()
        employer_ids = db.session.scalars(select(Employer.id).where(Employer.id % 3 == 0)).all()
        db.session.execute(AgreementEmployer.__table__.insert(),
                           [{"agreement_id": agreement.id, "employer_id": e} for e in employer_ids])
    # Leftovers of an interrupted run.
    bench_send_outs = select(SendOut.id).where(SendOut.subject.like("Benchmark%"))
    job_ids = db.session.scalars(select(SendOut.job_id).where(SendOut.id.in_(bench_send_outs))).all()
    from webapp.models.outreach import SendOutRecipient

    db.session.execute(SendOutRecipient.__table__.delete().where(SendOutRecipient.send_out_id.in_(bench_send_outs)))
    db.session.execute(SendOut.__table__.delete().where(SendOut.subject.like("Benchmark%")))
    db.session.execute(Job.__table__.delete().where(Job.id.in_([j for j in job_ids if j])))
    analyze()

    def biggest(level):
        return db.session.execute(
            select(OrgUnit.id, OrgUnit.name, func.count(Member.id)).join(Member, Member.home_unit_id == OrgUnit.id,
                                                                          isouter=True)
            .where(OrgUnit.level == level).group_by(OrgUnit.id, OrgUnit.name)
            .order_by(func.count(Member.id).desc(), OrgUnit.id).limit(1)).first()

    county = db.session.execute(select(Workplace.county, func.count()).where(Workplace.county.is_not(None))
                                .group_by(Workplace.county).order_by(func.count().desc()).limit(1)).first()
    return {
        "members": db.session.scalar(select(func.count(Member.id))),
        "agreement_id": agreement.id,
        "association": biggest(OrgLevel.national_association),
        "branch": biggest(OrgLevel.branch),
        "county": county[0],
    }


def cases(facts: dict) -> list[tuple[str, dict, str, object, bool]]:
    """(name, criteria, channel, officer's units or None, survey) for each segment measured."""
    from webapp.security.scope import unit_subtree_ids

    association_id, association_name, _ = facts["association"]
    branch_id, branch_name, _ = facts["branch"]
    branch_scope = unit_subtree_ids({branch_id})
    return [
        ("all active members, e-mail", {}, "email", None, False),
        (f"a national association and below ({association_name}), e-mail",
         {"unit_id": association_id, "unit_below": True}, "email", None, False),
        (f"an officer of a branch ({branch_name}), all in scope, SMS", {}, "sms", branch_scope, False),
        (f"county of the main employment ({facts['county']}), e-mail", {"county": facts["county"]}, "email", None,
         False),
        ("ordinary members aged 30-50, survey by e-mail",
         {"categories": ["ordinary"], "age_min": 30, "age_max": 50}, "email", None, True),
        ("covered by an agreement (a third of the employers), e-mail", {"agreement_id": facts["agreement_id"]},
         "email", None, False),
    ]


def bench_counts(facts: dict, runs: int) -> None:
    from webapp.models.choices import SendOutChannel
    from webapp.services import segments

    print(f"segment count (target < {COUNT_TARGET_MS} ms), median of {runs} runs:")
    for name, criteria, channel, scope, survey in cases(facts):
        checked = segments.validate(criteria, scope)
        result = segments.count(checked, SendOutChannel[channel], scope, survey=survey)
        figures = timed(lambda c=checked, ch=SendOutChannel[channel], s=scope, sv=survey:
                        segments.count(c, ch, s, survey=sv), runs, warmup=1)
        verdict = "within" if figures["median_ms"] < COUNT_TARGET_MS else "OVER"
        print(f"  {name}: {figures['median_ms']:.0f} ms (p90 {figures['p90_ms']:.0f}, max {figures['max_ms']:.0f}), "
              f"{verdict}; {result.matching:,} members, {result.opted_out:,} said no, {result.no_address:,} without "
              f"an address, {result.reachable:,} get it")


def _bench_send_out(subject: str):
    from webapp.extensions import db
    from webapp.models.choices import SendOutChannel, SendOutStatus
    from webapp.models.outreach import SendOut

    send_out = SendOut(channel=SendOutChannel.email, criteria="{}", subject=subject, body="Hei!\n\nNytt fra forbundet.",
                       status=SendOutStatus.draft, created_at=dt.datetime.now(), sent_count=0)
    db.session.add(send_out)
    db.session.commit()
    return send_out


def bench_recipient_list(facts: dict, runs: int) -> None:
    from sqlalchemy import delete

    from webapp.extensions import db
    from webapp.models.choices import SendOutChannel
    from webapp.models.outreach import SendOut, SendOutRecipient
    from webapp.services import segments

    send_out_id = _bench_send_out("Benchmark: recipient list").id
    print(f"recipient list, INSERT ... SELECT (target < {LIST_TARGET_S:.0f} s), median of {runs} runs:")
    for name, criteria, channel, scope, survey in cases(facts)[:4]:
        checked = segments.validate(criteria, scope)
        seconds, rows = [], 0
        for _ in range(runs):
            db.session.execute(delete(SendOutRecipient).where(SendOutRecipient.send_out_id == send_out_id))
            analyze()
            started = time.perf_counter()
            rows = segments.insert_recipients(send_out_id, checked, SendOutChannel[channel], scope, survey=survey)
            db.session.commit()
            seconds.append(time.perf_counter() - started)
        median = statistics.median(seconds)
        verdict = "within" if median < LIST_TARGET_S else "OVER"
        print(f"  {name}: {median:.2f} s ({', '.join(f'{s:.2f}' for s in seconds)}), {verdict}; {rows:,} recipients")
    db.session.execute(delete(SendOutRecipient).where(SendOutRecipient.send_out_id == send_out_id))
    db.session.execute(delete(SendOut).where(SendOut.id == send_out_id))
    analyze()


def everyone_reachable() -> None:
    """For the whole send-out: every member says yes to e-mail, and those without an address get one of the
    benchmark's own (taken away again by `prepare` on the next run)."""
    from sqlalchemy import String, cast, literal, update

    from webapp.extensions import db
    from webapp.models import Member

    db.session.execute(update(Member).values(info_by_email=True))
    db.session.execute(update(Member).where(Member.email_private.is_(None), Member.email_work.is_(None))
                       .values(email_private=literal("m") + cast(Member.id, String) + BENCH_DOMAIN))
    analyze()


def bench_job(app) -> None:
    """The whole send-out as a job in a real consumer thread, its progress polled as the job page does."""
    from sqlalchemy import delete

    from webapp import jobs
    from webapp.extensions import db
    from webapp.models.choices import JobStatus
    from webapp.models.outreach import Job, SendOut, SendOutRecipient
    from webapp.services import sendouts

    everyone_reachable()
    send_out_id = _bench_send_out("Benchmark: the whole send-out").id
    jobs.use_app(app)
    consumer = jobs.start_consumer_thread(workers=1)
    try:
        started = time.perf_counter()
        job = sendouts.start_sending(send_out_id, None)
        web_part = time.perf_counter() - started
        job_id = job.id
        recipients = db.session.get(SendOut, send_out_id).recipient_count
        print(f"the whole send-out as a job (batches of {app.config['SENDOUT_BATCH']}, null mail backend):")
        print(f"  'Send' in the web process (recipients fixed, job queued): {web_part:.2f} s for {recipients:,} "
              f"recipients; the job is {job.status.value} when it returns")
        seen = None
        while True:
            db.session.expire_all()
            job = db.session.get(Job, job_id)
            line = f"{jobs.percent(job)} % ({job.done:,} of {job.total or 0:,}), {job.status.value}"
            if line != seen:
                print(f"  {time.perf_counter() - started:6.1f} s  {line}")
                seen = line
            db.session.commit()
            if job.status in (JobStatus.done, JobStatus.failed):
                break
            time.sleep(1)
        total = time.perf_counter() - started
        send_out = db.session.get(SendOut, send_out_id)
        print(f"  done in {total:.1f} s ({recipients / total:,.0f} e-mails a second): send-out "
              f"{send_out.status.value}, {send_out.sent_count:,} sent; job log: {' | '.join(jobs.log_lines(job))}")
        if job.error:
            print(f"  job error: {job.error}")
    finally:
        consumer.stop(graceful=True)
        db.session.execute(delete(SendOutRecipient).where(SendOutRecipient.send_out_id == send_out_id))
        db.session.execute(delete(SendOut).where(SendOut.id == send_out_id))
        db.session.execute(delete(Job).where(Job.title.like("%Benchmark%")))
        db.session.commit()


def main() -> int:
    parser = bench_arguments(runs=5)
    parser.add_argument("--database-url", dest="db", help="database URL (default: SQLite file "
                        "instance/bench_sendouts_100k.db)")
    parser.add_argument("--no-job", action="store_true", help="skip the whole send-out as a job")
    args = parser.parse_args()
    app = bench_app(args.db or "sqlite:///" + DEFAULT_DB, args.members, args.employers)

    from webapp.extensions import db

    with app.app_context():
        facts = prepare()
        print(f"send-outs, {facts['members']:,} members, {db.engine.dialect.name}")
        bench_counts(facts, args.runs)
        bench_recipient_list(facts, args.runs)
        if not args.no_job:
            bench_job(app)
    print(f"  process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
