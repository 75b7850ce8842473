"""Retention: anonymise members who left long ago, keeping only what the accounts need.

A member who left more than PRIVACY_RETENTION_MONTHS ago loses name, contact
data and national id everywhere they are stored: the member row, their login,
the deduction list lines that name them and the frozen refund member lists.
What they wrote or was written to them goes too: their message threads are
deleted, their documents keep kind, date and amount but lose title, text and
stored PDF, and the free-text notes of their employment changes and
recruitments are blanked; kept refund documents are dropped, to be rendered
anew. What the accounts need stays: the member row itself (id, member number,
category, unit, join and leave dates, birth year and gender for statistics),
and every amount. So counts, refunds and reconciliation totals of past
periods are the same after a purge as before it.

The record of sent e-mails (who got which mail, when) is deleted after
MAIL_OUTBOX_KEEP_DAYS, whoever it concerns.

Online applications: a rejected one (the applicant never became a member) is
deleted ENROLLMENT_REJECTED_KEEP_MONTHS after the decision; an approved one
(the consent record of a member) goes when its member is anonymised, and
applications that were flagged as that member's lose the flag.

Ballots: the frozen voter list of a ballot (member number, name, e-mail,
mobile) is deleted BALLOT_VOTERS_KEEP_DAYS after the ballot closed; the
ballot keeps its title, dates and number of voters (webapp.services.ballots).

Courses: the special needs members gave on their applications are blanked (text and date)
COURSE_SPECIAL_NEEDS_KEEP_DAYS after the course's last day: kept through that day, gone the day after.

Background jobs: the files jobs read (uploads) and made (reports, member lists) are deleted JOB_FILE_KEEP_DAYS
after they were stored; the jobs themselves stay (their page says the file is gone).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from webapp.extensions import db
from webapp.models import (
    Course,
    CourseApplication,
    DeductionListLine,
    EmploymentChange,
    Member,
    MemberDocument,
    MembershipApplication,
    MembershipTransfer,
    Message,
    MessageThread,
    Recruitment,
    SendOutRecipient,
)
from webapp.models.choices import EnrollmentStatus
from webapp.models.outreach import JobFile
from webapp.services import audit, ballots, mail
from webapp.services.periods import Month
from webapp.services.refund_documents import forget_kept_documents

ANONYMOUS_NAME = "Anonymisert"
# Deduction list lines keep their amounts; the national id they were reported with goes.
ANONYMOUS_LIST_ID = "00000000000"


@dataclass
class PurgeResult:
    cutoff: dt.date
    dry_run: bool
    members: list[tuple[int, str, dt.date]] = field(default_factory=list)
    sent_mails_forgotten: int = 0
    rejected_before: dt.date | None = None
    rejected_applications: int = 0
    ballot_voters_before: dt.date | None = None
    ballot_voter_lists: int = 0
    ballot_voters: int = 0
    special_needs_before: dt.date | None = None
    special_needs_forgotten: int = 0
    job_files_before: dt.datetime | None = None
    job_files: int = 0

    def summary(self) -> str:
        verb = "would anonymise" if self.dry_run else "anonymised"
        lines = [f"members who left before {self.cutoff:%Y-%m-%d}: {verb} {len(self.members)}"]
        lines.append(f"applications rejected before {self.rejected_before:%Y-%m-%d}: "
                     f"{'would delete' if self.dry_run else 'deleted'} {self.rejected_applications}")
        lines.append(f"voter lists of ballots closed before {self.ballot_voters_before:%Y-%m-%d}: "
                     f"{'would delete' if self.dry_run else 'deleted'} {self.ballot_voter_lists} "
                     f"({self.ballot_voters} voters)")
        lines.append(f"special needs given for courses that ended before {self.special_needs_before:%Y-%m-%d}: "
                     f"{'would blank' if self.dry_run else 'blanked'} {self.special_needs_forgotten}")
        lines.append(f"job files stored before {self.job_files_before:%Y-%m-%d}: "
                     f"{'would delete' if self.dry_run else 'deleted'} {self.job_files}")
        if not self.dry_run:
            lines.append(f"records of sent e-mails deleted: {self.sent_mails_forgotten}")
        if self.dry_run:
            lines += [f"  {member_no}  left {left_on:%Y-%m-%d}" for _id, member_no, left_on in self.members]
        return "\n".join(lines)


def cutoff_date(today: dt.date) -> dt.date:
    months = int(current_app.config["PRIVACY_RETENTION_MONTHS"])
    return Month.of(today).shift(-months).first_day


def rejected_cutoff(today: dt.date) -> dt.date:
    months = int(current_app.config["ENROLLMENT_REJECTED_KEEP_MONTHS"])
    return Month.of(today).shift(-months).first_day


def _rejected_applications(before: dt.date):
    return (MembershipApplication.status == EnrollmentStatus.rejected,
            MembershipApplication.decided_at < dt.datetime.combine(before, dt.time()))


def special_needs_cutoff(today: dt.date) -> dt.date:
    """Courses that ended before this day have their participants' special needs deleted."""
    return today - dt.timedelta(days=int(current_app.config["COURSE_SPECIAL_NEEDS_KEEP_DAYS"]))


def forget_special_needs(today: dt.date, dry_run: bool = False) -> tuple[dt.date, int]:
    """Blank the special needs of applications to courses that ended before the cut-off, in the caller's
    transaction (audited); a dry run only counts them. Returns (cut-off, applications)."""
    before = special_needs_cutoff(today)
    ended = select(Course.id).where(Course.ends_on < before)
    expired = (CourseApplication.course_id.in_(ended),
               or_(CourseApplication.special_needs.is_not(None), CourseApplication.special_needs_given_at.is_not(None)))
    if dry_run:
        return before, db.session.scalar(select(func.count(CourseApplication.id)).where(*expired))
    count = db.session.execute(
        update(CourseApplication).where(*expired).values(special_needs=None, special_needs_given_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if count:
        audit.record("purge_special_needs", "course_application", None, count=count, cutoff=str(before))
    return before, count


def job_files_cutoff(today: dt.date) -> dt.datetime:
    """Job files stored before this moment are deleted (JOB_FILE_KEEP_DAYS)."""
    return dt.datetime.combine(today, dt.time()) - dt.timedelta(days=int(current_app.config["JOB_FILE_KEEP_DAYS"]))


def forget_job_files(today: dt.date, dry_run: bool = False) -> tuple[dt.datetime, int]:
    """Delete the files of jobs stored before the cut-off, in the caller's transaction; a dry run only counts
    them. Returns (cut-off, files)."""
    before = job_files_cutoff(today)
    if dry_run:
        return before, db.session.scalar(select(func.count(JobFile.id)).where(JobFile.created_at < before))
    count = db.session.execute(
        delete(JobFile).where(JobFile.created_at < before).execution_options(synchronize_session=False)).rowcount
    if count:
        audit.record("purge_job_files", "job", None, count=count, cutoff=str(before))
    return before, count


def anonymous_national_id(member_id: int) -> str:
    """Unique like a national id, never valid as one."""
    return f"A{member_id:010d}"


def purge(dry_run: bool = False, today: dt.date | None = None) -> PurgeResult:
    today = today or dt.date.today()
    result = PurgeResult(cutoff=cutoff_date(today), dry_run=dry_run)
    result.members = [
        tuple(row)
        for row in db.session.execute(
            select(Member.id, Member.member_no, Member.left_on)
            .where(Member.left_on.is_not(None), Member.left_on < result.cutoff, Member.anonymised_at.is_(None))
            .order_by(Member.left_on, Member.id)
        ).all()
    ]
    result.rejected_before = rejected_cutoff(today)
    rejected = _rejected_applications(result.rejected_before)
    ballot_keep_days = int(current_app.config["BALLOT_VOTERS_KEEP_DAYS"])
    result.ballot_voters_before = ballots.voters_purge_cutoff(today, ballot_keep_days)
    if dry_run:
        result.rejected_applications = db.session.scalar(select(func.count(MembershipApplication.id))
                                                         .where(*rejected))
        result.ballot_voter_lists, result.ballot_voters = ballots.purge_voters(today, ballot_keep_days, dry_run=True)
        result.special_needs_before, result.special_needs_forgotten = forget_special_needs(today, dry_run=True)
        result.job_files_before, result.job_files = forget_job_files(today, dry_run=True)
        return result
    try:
        result.rejected_applications = db.session.execute(
            delete(MembershipApplication).where(*rejected).execution_options(synchronize_session=False)
        ).rowcount
        if result.rejected_applications:
            audit.record("purge_applications", "membership_application", None, count=result.rejected_applications,
                         cutoff=str(result.rejected_before))
        result.ballot_voter_lists, result.ballot_voters = ballots.purge_voters(today, ballot_keep_days)
        result.special_needs_before, result.special_needs_forgotten = forget_special_needs(today)
        result.job_files_before, result.job_files = forget_job_files(today)
        keep_days = int(current_app.config["MAIL_OUTBOX_KEEP_DAYS"])
        result.sent_mails_forgotten = mail.forget_sent(dt.datetime.combine(today,
                                                                           dt.time()) - dt.timedelta(days=keep_days))
        if result.members:
            for start in range(0, len(result.members), 500):
                _anonymise([member_id for member_id, _no, _left in result.members[start : start + 500]], today)
            forget_kept_documents()  # once: they are rendered anew, without the names
            audit.record("purge", "member", None, count=len(result.members), cutoff=str(result.cutoff))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def _forget_texts(ids: list[int]) -> None:
    """Delete the members' message threads; blank the free text and stored files that name or concern them."""
    threads = select(MessageThread.id).where(MessageThread.member_id.in_(ids)).scalar_subquery()
    db.session.execute(delete(Message).where(Message.thread_id.in_(threads)).execution_options(synchronize_session=False))
    db.session.execute(delete(MessageThread).where(MessageThread.member_id.in_(ids))
                       .execution_options(synchronize_session=False))
    db.session.execute(
        update(MemberDocument).where(MemberDocument.member_id.in_(ids))
        .values(title=ANONYMOUS_NAME, body=None, pdf=None).execution_options(synchronize_session=False)
    )
    db.session.execute(update(EmploymentChange).where(EmploymentChange.member_id.in_(ids)).values(comment=None)
                       .execution_options(synchronize_session=False))
    db.session.execute(
        update(Recruitment).where(or_(Recruitment.recruiter_id.in_(ids), Recruitment.recruit_id.in_(ids)))
        .values(note=None).execution_options(synchronize_session=False)
    )
    db.session.execute(update(CourseApplication).where(CourseApplication.member_id.in_(ids))
                       .values(special_needs=None, special_needs_given_at=None)
                       .execution_options(synchronize_session=False))
    # Which send-outs went to the member and at which address: the send-outs keep only their numbers.
    db.session.execute(delete(SendOutRecipient).where(SendOutRecipient.member_id.in_(ids))
                       .execution_options(synchronize_session=False))
    # Their places on ballot voter lists (name and addresses); the ballots keep their number of voters.
    ballots.forget_voters(ids)
    _forget_applications(ids)


def _forget_applications(ids: list[int]) -> None:
    """Delete the applications that made these members (their transfers in stay, without the link), and drop
    the flag on other applications that named them."""
    made = select(MembershipApplication.id).where(MembershipApplication.member_id.in_(ids)).scalar_subquery()
    db.session.execute(update(MembershipTransfer).where(MembershipTransfer.application_id.in_(made))
                       .values(application_id=None).execution_options(synchronize_session=False))
    db.session.execute(delete(MembershipApplication).where(MembershipApplication.member_id.in_(ids))
                       .execution_options(synchronize_session=False))
    db.session.execute(update(MembershipApplication).where(MembershipApplication.existing_member_id.in_(ids))
                       .values(existing_member_id=None).execution_options(synchronize_session=False))


def _anonymise(ids: list[int], today: dt.date) -> None:
    """Blank one batch of members everywhere they are named, in set-based updates."""
    from webapp.models.refunds import RefundMember

    members = db.session.execute(
        select(Member.id, Member.member_no, Member.user_id, Member.birth_date).where(Member.id.in_(ids))
    ).all()
    db.session.execute(
        update(Member),
        [
            {
                "id": m.id,
                "first_name": ANONYMOUS_NAME,
                "last_name": f"#{m.member_no}",
                "national_id": anonymous_national_id(m.id),
                # The birth year stays for age statistics; the day goes.
                "birth_date": dt.date(m.birth_date.year, 1, 1) if m.birth_date else None,
                "address": None, "postcode": None, "city": None,
                "email_work": None, "email_private": None, "email_to": None,
                "mobile_work": None, "mobile_private": None, "preferred_mobile": None,
                "anonymised_at": today,
            }
            for m in members
        ],
    )
    db.session.execute(
        update(DeductionListLine)
        .where(DeductionListLine.member_id.in_(ids))
        .values(name=ANONYMOUS_NAME, national_id=ANONYMOUS_LIST_ID)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(RefundMember).where(RefundMember.member_id.in_(ids)).values(name=ANONYMOUS_NAME)
        .execution_options(synchronize_session=False)
    )
    _forget_texts(ids)
    user_ids = [m.user_id for m in members if m.user_id]
    if user_ids:
        user_model = current_app.appbuilder.sm.user_model
        db.session.execute(
            update(user_model),
            [{"id": uid, "first_name": ANONYMOUS_NAME, "last_name": "-", "active": False, "password": "",
              "email": f"anonymised-{uid}@brukere.forbundet.example"} for uid in user_ids],
        )
