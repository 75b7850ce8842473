"""Demo data for the members' own pages: courses, recruitments, prizes, messages and documents.

Made for the demo member (the `member` demo login) and the demo deduction
contact, through the real services wherever they hold logic (applications,
attendance, orders, messages), with dates relative to today. Runs after the
deduction cycle, whose delivered lists decide which recruitments have earned
points. A demo member who already has messages is left as they are, so a
second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, insert, select

from webapp.extensions import db
from webapp.models import (
    Course,
    CourseApplication,
    DemoAccount,
    Employer,
    Member,
    MemberDocument,
    MessageThread,
    Prize,
    Recruitment,
)
from webapp.models.choices import ApplicationStatus, DocumentKind, MemberCategory
from webapp.services import courses, messaging, recruitment

# (title, description, place, start in days from today, length in days, deadline days before start, capacity)
COURSES = [
    ("Grunnkurs for tillitsvalgte", "Rollen som tillitsvalgt, avtaleverket og medbestemmelse.", "Sørmarka kurssenter",
     -210, 2, 21, 24),
    ("Arbeidsrett i praksis", "Arbeidsmiljøloven, oppsigelse og omstilling med eksempler.", "Folkets Hus, Oslo",
     -95, 1, 14, 30),
    ("Lønnsforhandlinger i klubben", "Forberedelse, krav og gjennomføring av lokale forhandlinger.",
     "Scandic Bergen City", 40, 2, 20, 20),
    ("Helse, miljø og sikkerhet (HMS)", "Verneombudets oppgaver og det systematiske HMS-arbeidet.", "Digitalt (Teams)",
     60, 1, 25, 40),
    ("Lederskolen, trinn 1", "For ledere i klubber og avdelinger: styrearbeid, økonomi og verving.", "Trondheim",
     12, 3, 14, 16),
    ("Digital organisering", "Medlemsregister, Min side og sikre meldinger i tillitsvalgtsarbeidet.", "Tromsø",
     25, 1, 10, 12),
]

# Special needs some applicants to the courses ahead gave (each fifth of them, in turn); the demo member gives the
# first. Past courses have none: the privacy purge deletes them COURSE_SPECIAL_NEEDS_KEEP_DAYS after a course.
SPECIAL_NEEDS = [
    "Vegetarkost",
    "Glutenfri kost",
    "Nøtteallergi (alvorlig)",
    "Bruker rullestol: trenger rom og møtesal uten trapper",
    "Laktoseintoleranse",
    "Hørselshemmet: trenger teleslynge i møtesalen",
]
NEEDS_EVERY = 5

PRIZES = [
    ("Termokopp med logo", "Holder kaffen varm hele møtet.", 50),
    ("Paraply", "Stor golfparaply i forbundets farger.", 100),
    ("Ryggsekk", "Solid sekk med plass til PC.", 250),
    ("Fleecejakke", "Varm jakke, velg størrelse i kommentaren til kontoret.", 400),
    ("Gavekort 500 kr", "Gavekort som kan brukes i de fleste butikker.", 600),
    ("Helgeopphold for to", "En natt med frokost på et av forbundets samarbeidshoteller.", 1500),
]


@dataclass
class MyPageSeedResult:
    courses: int = 0
    applications: int = 0
    recruitments: int = 0
    prizes: int = 0
    orders: int = 0
    threads: int = 0
    documents: int = 0
    skipped: str = ""

    def summary(self) -> str:
        if self.skipped:
            return f"member pages: {self.skipped}"
        return (f"member pages: {self.courses} courses ({self.applications} applications), "
                f"{self.recruitments} recruitments, {self.prizes} prizes ({self.orders} orders), "
                f"{self.threads} message threads, {self.documents} documents")


def _demo_user(role: str) -> DemoAccount | None:
    return db.session.scalars(select(DemoAccount).where(DemoAccount.role == role).order_by(DemoAccount.id)).first()


def seed_member_page(seed: int = 1, today: dt.date | None = None) -> MyPageSeedResult:
    """Add the demo data; a demo member who already has messages is left as they are."""
    result = MyPageSeedResult()
    today = today or dt.date.today()
    now = dt.datetime.combine(today, dt.time(9, 0))
    rng = random.Random(seed * 4243 + 7)
    account = _demo_user("member")
    member = db.session.scalars(select(Member).where(Member.member_no == account.username)).first() if account else None
    if member is not None and db.session.scalar(
        select(MessageThread.id).where(MessageThread.member_id == member.id).limit(1)
    ) is not None:
        result.skipped = "the demo member has their page already, nothing added"
        return result

    course_rows = _courses(today)
    result.courses = len(course_rows)
    prizes = _prizes()
    result.prizes = len(prizes)
    result.applications = _applications(course_rows, member, now, rng)
    if member is not None:
        result.recruitments = _recruitments(member, today, now)
        points = recruitment.balance(member.id)
        affordable = [p for p in prizes if p.points <= points]
        if affordable:
            recruitment.order_prize(member.id, affordable[0].id, 1, now=now - dt.timedelta(days=20))
            result.orders = 1
        result.threads += _member_threads(member, now)
        result.documents = _documents(member, today, now)
    result.threads += _contact_threads(now)
    return result


def _courses(today: dt.date) -> list[Course]:
    """The demo courses; those already there (kept by a reset of the register) are reused."""
    existing = {c.title: c for c in db.session.scalars(select(Course).where(Course.title.in_([c[0] for c in COURSES])))}
    rows = []
    for title, text, place, start, days, deadline_before, capacity in COURSES:
        if title in existing:
            rows.append(existing[title])
            continue
        starts_on = today + dt.timedelta(days=start)
        course = Course(title=title, description=text, place=place, starts_on=starts_on,
                        ends_on=starts_on + dt.timedelta(days=days - 1),
                        application_deadline=starts_on - dt.timedelta(days=deadline_before), capacity=capacity)
        db.session.add(course)
        rows.append(course)
    db.session.commit()
    return rows


def _prizes() -> list[Prize]:
    existing = {p.name: p for p in db.session.scalars(select(Prize).where(Prize.name.in_([p[0] for p in PRIZES])))}
    rows = []
    for name, text, points in PRIZES:
        prize = existing.get(name) or Prize(name=name, description=text, points=points, active=True)
        db.session.add(prize)
        rows.append(prize)
    db.session.commit()
    return rows


def _applied_at(course: Course, now: dt.datetime, days_before_deadline: int) -> dt.datetime:
    """When a demo application was made: some days before the course's deadline, and never after `now` (a course
    whose deadline is weeks ahead was applied for in the last days, not on a date still to come)."""
    before_deadline = dt.datetime.combine(course.application_deadline - dt.timedelta(days=days_before_deadline),
                                          dt.time(12))
    return min(before_deadline, now.replace(microsecond=0) - dt.timedelta(days=1, hours=2))


def _applications(course_rows: list[Course], member: Member | None, now: dt.datetime, rng: random.Random) -> int:
    """Other members fill some seats (in bulk); the demo member took the two past courses and applied for two ahead."""
    others = db.session.scalars(
        select(Member.id).where(Member.left_on.is_(None), Member.id != (member.id if member else 0))
        .order_by(Member.id).limit(200)
    ).all()
    already = set(db.session.execute(
        select(CourseApplication.course_id, CourseApplication.member_id)
        .where(CourseApplication.course_id.in_([c.id for c in course_rows]))
    ).all())
    rows = []
    for course in course_rows:
        taken = rng.randint(course.capacity // 3, course.capacity * 2 // 3)
        applied_at = _applied_at(course, now, days_before_deadline=10)
        for member_id in rng.sample(others, min(taken, len(others))):
            if (course.id, member_id) in already:
                continue
            needs = _special_needs(course, now, len(rows))
            rows.append({"course_id": course.id, "member_id": member_id, "status": ApplicationStatus.applied,
                         "applied_at": applied_at, "special_needs": needs,
                         "special_needs_given_at": applied_at if needs else None})
    if rows:
        db.session.execute(insert(CourseApplication), rows)
        db.session.commit()
    past = [c for c in course_rows if c.ends_on < now.date()]
    for course in past:  # attendance of past courses is complete for everyone who applied
        ids = db.session.scalars(select(CourseApplication.id).where(CourseApplication.course_id == course.id)).all()
        courses.mark_completed(list(ids), now=dt.datetime.combine(course.ends_on, dt.time(16)))
    count = len(rows)
    if member is None:
        return count
    for course in past:
        application = courses.apply(member.id, course.id,
                                    now=dt.datetime.combine(course.application_deadline, dt.time(8)))
        courses.mark_completed([application.id], now=dt.datetime.combine(course.ends_on, dt.time(16)))
        count += 1
    # One whose deadline has passed (no withdrawing any more) and one that can still be withdrawn.
    ahead = sorted((c for c in course_rows if c.starts_on > now.date()), key=lambda c: c.application_deadline)
    for number, course in enumerate(ahead[:2]):
        courses.apply(member.id, course.id, now=_applied_at(course, now, days_before_deadline=7),
                      special_needs=SPECIAL_NEEDS[0] if number == 0 else None)
        count += 1
    return count


def _special_needs(course: Course, now: dt.datetime, row_number: int) -> str | None:
    """Every NEEDS_EVERY-th application to a course ahead gives special needs, from SPECIAL_NEEDS in turn."""
    if course.starts_on <= now.date() or row_number % NEEDS_EVERY:
        return None
    return SPECIAL_NEEDS[(row_number // NEEDS_EVERY) % len(SPECIAL_NEEDS)]


def _recruitments(member: Member, today: dt.date, now: dt.datetime) -> int:
    """Recent joiners recruited by the demo member: those who have paid three months earn points, one still waits."""
    candidates = (
        select(Member.id).where(Member.id != member.id, Member.joined_on >= today - dt.timedelta(days=720),
                                Member.category != MemberCategory.student)
        .order_by(Member.joined_on.desc(), Member.id).limit(60)
    )
    months = dict(db.session.execute(recruitment.paid_months_query(candidates)).all())
    _points, needed, _students = recruitment.settings()
    paid = [member_id for member_id, count in sorted(months.items()) if count >= needed][:3]
    waiting = [member_id for member_id in db.session.scalars(candidates).all() if months.get(member_id, 0) < needed][:1]
    joined = dict(db.session.execute(select(Member.id, Member.joined_on).where(Member.id.in_(paid + waiting))).all())
    rows = [
        Recruitment(recruiter_id=member.id, recruit_id=recruit_id, recruited_on=joined[recruit_id], registered_at=now,
                    note=None)
        for recruit_id in paid + waiting
    ]
    rows.append(Recruitment(recruiter_id=member.id, recruit_id=None, recruited_on=dt.date(2018, 1, 31),
                            fixed_points=150, note="Vervinger før februar 2018", registered_at=now))
    db.session.add_all(rows)
    db.session.commit()
    return len(rows)


def _office_user_id() -> int | None:
    user = current_app.appbuilder.sm.find_user(username="kontor")
    return user.id if user else None


def _member_threads(member: Member, now: dt.datetime) -> int:
    office = _office_user_id()
    first = messaging.start_thread(
        subject="Spørsmål om reiseforsikring", from_party=True, author_id=member.user_id, member_id=member.id,
        body="Hei!\n\nJeg reiser mye i jobben. Dekker reiseforsikringen også tjenestereiser, "
             "eller bare fritid?\n\nHilsen " + member.first_name,
        now=now - dt.timedelta(days=12, hours=3), notify=False,
    )
    messaging.reply(first, "Hei!\n\nReiseforsikringen gjelder fritidsreiser. Tjenestereiser skal arbeidsgiver dekke. "
                           "Ta gjerne kontakt om du lurer på mer.\n\nVennlig hilsen\nForbundskontoret",
                    office, from_party=False, now=now - dt.timedelta(days=11), notify=False)
    messaging.start_thread(
        subject="Lokale forhandlinger", from_party=True, author_id=member.user_id, member_id=member.id,
        org_unit_id=member.home_unit_id, now=now - dt.timedelta(days=3),
        body="Hei! Når starter de lokale forhandlingene i år, og hvordan melder jeg inn krav?", notify=False,
    )
    return 2


def _contact_threads(now: dt.datetime) -> int:
    account = _demo_user("deduction_contact")
    if account is None:
        return 0
    employer = db.session.scalars(select(Employer).where(Employer.customer_no == account.scope)).first()
    user = _demo_user_row(account.username)
    if employer is None or user is None:
        return 0
    thread = messaging.start_thread(
        subject="Trekkliste for forrige måned", from_party=False, author_id=_office_user_id(), employer_id=employer.id,
        body="Hei!\n\nVi har ikke mottatt trekklisten for forrige måned. Kan dere registrere den i trekkportalen?\n\n"
             "Vennlig hilsen\nForbundskontoret", now=now - dt.timedelta(days=6), notify=False,
    )
    messaging.reply(thread, "Hei! Den er registrert nå. Beklager forsinkelsen.", user.id, from_party=True,
                    now=now - dt.timedelta(days=5), notify=False)
    return 1


def _demo_user_row(username: str):
    return current_app.appbuilder.sm.find_user(username=username)


def _documents(member: Member, today: dt.date, now: dt.datetime) -> int:
    rows = [
        MemberDocument(member_id=member.id, kind=DocumentKind.letter, title="Velkommen som medlem",
                       created_at=dt.datetime.combine(member.joined_on, dt.time(10)),
                       body=f"Kjære {member.first_name}!\n\nVelkommen som medlem. Du finner medlemsfordelene, kursene "
                            "og dine opplysninger på Min side.\n\nVennlig hilsen\nForbundskontoret"),
        MemberDocument(member_id=member.id, kind=DocumentKind.invoice,
                       title="Faktura: kontingent for permisjonsperiode",
                       created_at=now - dt.timedelta(days=40), amount_ore=45000,
                       due_date=today - dt.timedelta(days=10),
                       body="Kontingent for tre måneder uten trekk i lønn (ulønnet permisjon)."),
        MemberDocument(member_id=member.id, kind=DocumentKind.letter, title="Endring i forsikringsvilkårene",
                       created_at=now - dt.timedelta(days=8),
                       body="Fra neste år endres vilkårene for innboforsikringen. Se vedlagt oversikt på nettsidene."),
    ]
    db.session.add_all(rows)
    db.session.commit()
    certificates = db.session.scalar(
        select(func.count(MemberDocument.id)).where(MemberDocument.member_id == member.id,
                                                       MemberDocument.kind == DocumentKind.certificate)
    )
    return len(rows) + (certificates or 0)
