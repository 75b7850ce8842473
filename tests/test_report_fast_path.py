"""The membership reports and the refund calculation on seeded data give the same rows and figures as before
their fast paths (issue 18), and the hand-written SQL the benchmarks time computes the same result.

The employer-association report's old queries are kept here as the reference; its PDF (now laid out by
reportlab's table) shows every enterprise, the totals and the page footers.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter

import pytest
from pypdf import PdfReader
from sqlalchemy import distinct, func, select, text

from bench.bench_refunds import COUNTS_SQL, SNAPSHOT_SQL, reopen
from bench.bench_reports import ASSOCIATION_SQL, LO_SQL, development_sql
from reports import exports
from reports.membership import (
    AGE_BANDS,
    REPORTED_ASSOCIATIONS,
    _membership_cube,
    _years_before,
    employer_association_report,
    membership_development,
)
from seed.refunds import ensure_default_policy
from tests.test_reports_demo import demo  # noqa: F401 (the module's seeded data, a fixture)
from webapp.extensions import db
from webapp.models import Employer, Employment, Member, RefundMember
from webapp.models.choices import MemberCategory, ReportKind
from webapp.services import refunds
from webapp.services.membership import active_member_clause, employment_counted_clause
from webapp.services.money import decimal_text
from webapp.services.periods import Month, covers_month
from webapp.services.statistics import national_association_of_units

TODAY = dt.date.today()
DATES = [TODAY, Month.of(TODAY).shift(-3).first_day + dt.timedelta(days=9)]


@pytest.fixture()
def ctx(demo):  # noqa: F811 (the fixture imported above)
    with demo.test_request_context("/"):
        yield demo
        db.session.remove()


def shown_number(count: int) -> str:
    """A pattern of the count as the PDF shows it (a space between thousands, which its text may give as any)."""
    return decimal_text(count).replace("\u00a0", r"\s")


def old_association_rows(association, day):
    """The report's queries before issue 18: employments joined to members and enterprises, grouped."""
    employed = (
        select(Employment.employer_id, Employment.member_id)
        .join(Member, Member.id == Employment.member_id)
        .join(Employer, Employer.id == Employment.employer_id)
        .where(Employer.association == association, employment_counted_clause(day), active_member_clause(day))
    ).subquery("employed")
    per_employer = (
        select(employed.c.employer_id, func.count(distinct(employed.c.member_id)).label("members"))
        .group_by(employed.c.employer_id)
        .subquery("per_employer")
    )
    rows = db.session.execute(
        select(Employer.org_number, Employer.name, func.coalesce(per_employer.c.members, 0))
        .outerjoin(per_employer, per_employer.c.employer_id == Employer.id)
        .where(Employer.association == association)
        .order_by(Employer.name, Employer.org_number)
    ).all()
    distinct_members = db.session.scalar(select(func.count(distinct(employed.c.member_id)))) or 0
    return [tuple(row) for row in rows], distinct_members


@pytest.mark.parametrize("day", DATES)
def test_association_reports_as_before_and_as_the_benchmark_sql(ctx, day):
    first = Month.of(day).first_day
    employed_somewhere = 0
    for association in REPORTED_ASSOCIATIONS:
        report = employer_association_report(association, day)
        rows = [(row.org_number, row.name, row.members) for row in report.rows]
        assert (rows, report.distinct_members) == old_association_rows(association, day)
        sql = db.session.execute(text(ASSOCIATION_SQL), {"first": first, "association": association.name}).all()
        assert rows == [tuple(row) for row in sql]
        employed_somewhere += report.total
    assert employed_somewhere > 0  # the seeded data employs members at the associations' enterprises


def test_association_pdf_shows_every_enterprise_and_numbered_pages(ctx):
    association = max(REPORTED_ASSOCIATIONS, key=lambda a: len(employer_association_report(a, TODAY).rows))
    report = employer_association_report(association, TODAY)
    # Enough enterprises to run over pages: the seeded ones many times over.
    report.rows = report.rows * 12
    [pdf, _csv, _xlsx] = exports.association_files(report)
    pages = PdfReader(io.BytesIO(pdf.data)).pages
    assert len(pages) >= 2
    text_of = [page.extract_text() for page in pages]
    whole = "\n".join(text_of)
    assert report.title in whole and "Organisasjonsnummer" in whole
    assert re.search(rf"Sum\s+{shown_number(report.total)}", whole)
    assert re.search(rf"Ulike medlemmer: {shown_number(report.distinct_members)}", whole)
    for row in report.rows[: len(report.rows) // 12]:
        shown = rf"{row.org_number}\s+{re.escape(row.name)}\s+{shown_number(row.members)}\b"
        assert len(re.findall(shown, whole)) == 12
    for number, page_text in enumerate(text_of, start=1):
        assert re.search(rf"{TODAY.strftime('%d.%m.%Y')} · {number}/\s*{len(pages)}\b", page_text), page_text
        assert "Organisasjonsnummer" in page_text  # the column headings on every page


@pytest.mark.parametrize("day", DATES)
def test_lo_cube_as_the_benchmark_sql(ctx, day):
    ages = {f"age{low}": _years_before(day, low) for low, _code, _label in AGE_BANDS[1:]}
    sql = db.session.execute(text(LO_SQL), {"first": Month.of(day).first_day, **ages}).all()

    def key(row):
        category, gender, band, county, sector, unit, members = row
        name = getattr  # enums from the project, their names from the SQL
        return (name(category, "name", category), name(gender, "name", gender), band, county,
                name(sector, "name", sector), unit, members)

    assert sorted(map(key, _membership_cube(day)), key=str) == sorted(map(key, sql), key=str)


def test_development_as_the_benchmark_sql(ctx):
    last = Month.of(TODAY)
    first = last.shift(-7)
    months = [first.shift(n) for n in range(8)]
    statement, params = development_sql(months)
    expected = Counter()
    for category, unit, *figures in db.session.execute(text(statement), params):
        for n, month in enumerate(months):
            for k, figure in enumerate(("members", "joins", "leaves")):
                expected[(str(month), category, unit, figure)] += figures[3 * n + k]
    association_of = national_association_of_units()
    project = Counter()
    for row in membership_development(first, last):
        for figure in ("members", "joins", "leaves"):
            project[(row.month, row.category, row.org_unit, figure)] += getattr(row, figure)
    by_association = Counter()
    for (month, category, unit, figure), count in expected.items():
        association = association_of.get(unit)
        by_association[(month, category, association[1] if association else "none", figure)] += count
    assert +project == +by_association and project


def test_refund_snapshot_as_the_benchmark_sql_and_a_count_in_python(ctx):
    ensure_default_policy()
    quarter = Month.of(TODAY).quarter  # the seed approves the complete quarters before it
    assert refunds.get_run(quarter) is None
    run = refunds.calculate(quarter, pool_ore=1_000_000, actor="test")
    counted_categories = refunds.Terms.from_policy(refunds.policy_for(quarter)).counted_categories
    expected = []
    for member in db.session.scalars(select(Member)):
        months = sum(covers_month(member.joined_on, member.left_on, month) for month in quarter.months)
        if months and member.category in counted_categories:
            expected.append((member.id, member.home_unit_id, member.member_no,
                             f"{member.last_name}, {member.first_name}", member.category, months))

    def counted() -> list:
        members = refunds.run_members(run)
        return sorted(db.session.execute(
            select(members.c.member_id, members.c.unit_id, members.c.member_no, members.c.name, members.c.category,
                   members.c.months)).all())

    # The draft counts from the register; it stores no members.
    draft = counted()
    assert draft == sorted(expected) and draft
    assert db.session.scalar(select(func.count(RefundMember.id)).where(RefundMember.run_id == run.id)) == 0
    assert run.member_count == len(draft) and run.member_months == sum(row[-1] for row in draft)

    # The benchmark's hand-written grouped SELECT gives the counts the calculation distributes.
    categories = ", ".join(f"'{category.name}'" for category in counted_categories)
    baseline = db.session.execute(text(COUNTS_SQL.format(categories=categories)),
                                  {f"m{n}": m.first_day for n, m in enumerate(quarter.months, start=1)}).all()
    draft_counts = sorted((count.unit_id, count.category.name, count.members, count.member_months)
                          for count in refunds.month_counts(refunds.run_members(run)))
    assert sorted((unit_id, MemberCategory(category).name, members, months) for unit_id, category, members, months
                  in baseline) == draft_counts
    db.session.rollback()
    try:
        # The approval stores the same members, as the benchmark's hand-written INSERT ... SELECT would.
        run, approved = refunds.approve(quarter, actor="test")
        assert approved and counted() == draft
        stored = sorted(db.session.execute(
            select(RefundMember.member_id, RefundMember.unit_id, RefundMember.member_no, RefundMember.name,
                   RefundMember.category, RefundMember.months).where(RefundMember.run_id == run.id)).all())
        assert stored == draft
        db.session.execute(text("DELETE FROM refund_member WHERE run_id = :run"), {"run": run.id})
        db.session.execute(text(SNAPSHOT_SQL.format(categories=categories)),
                           {"run": run.id, **{f"m{n}": m.first_day for n, m in enumerate(quarter.months, start=1)}})
        assert counted() == draft
    finally:
        db.session.rollback()
        reopen(run.id)
        refunds.discard_draft(quarter)


def test_report_spec_files_unchanged_in_shape(ctx):
    """Every association's CSV lists the same rows as the report, in its order."""
    for spec in exports.all_specs():
        if spec.kind != ReportKind.employer_association:
            continue
        report, files = exports.build(spec, TODAY)
        csv_lines = files[1].data.decode("utf-8-sig").splitlines()[1:]
        assert csv_lines == [f"{TODAY.isoformat()};{row.org_number};{row.name};{row.members}" for row in report.rows]
