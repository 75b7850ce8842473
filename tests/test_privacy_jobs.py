"""Retention purge and backup/restore: data goes where it should, figures stay the same."""

from __future__ import annotations

import datetime as dt

import pytest
from flask_appbuilder import Model
from sqlalchemy import func, select

from tests.factories import add_initial_rate
from webapp.extensions import db
from webapp.models import (
    DeductionBasis,
    DeductionList,
    DeductionListLine,
    EmploymentChange,
    Member,
    MemberDocument,
    Message,
    MessageThread,
    Payment,
    Recruitment,
)
from webapp.models.choices import DocumentKind
from webapp.services import deduction_basis, deduction_lists, messaging, payments
from webapp.services.kid import kid_for
from webapp.services.periods import Month
from webapp.services.reconciliation import reconcile

OLD_MONTH = Month(2020, 6)


def reconciliation_figures() -> list[tuple]:
    return db.session.execute(
        select(DeductionBasis.employer_id, DeductionBasis.period, DeductionBasis.member_count,
               DeductionBasis.reported_total_ore, DeductionBasis.paid_total_ore, DeductionBasis.reconciliation_status)
        .order_by(DeductionBasis.employer_id, DeductionBasis.period)
    ).all()


def old_history(world) -> int:
    """A delivered and paid list of June 2020 naming a member who left at the end of 2020; returns that member's id."""
    add_initial_rate()
    leaver = db.session.get(Member, world.members["outside"].id)
    leaver.left_on = dt.date(2020, 12, 31)
    db.session.commit()
    deduction_basis.generate(OLD_MONTH)
    employer_id = world.employers["E2"].id
    deduction_list = deduction_lists.create_list(employer_id, str(OLD_MONTH), None)
    assert [line.member_id for line in deduction_list.lines] == [leaver.id]
    deduction_lists.replace_lines(deduction_list, [deduction_lists.LineInput(leaver.national_id, "", "410,00")])
    deduction_lists.approve(deduction_list, None)
    payments.import_file("old.txt", payments.build_ocr_file(
        [(kid_for("00080000", OLD_MONTH), 41000, dt.date(2020, 6, 30))], "90010741504"))
    return leaver.id


def texts_about(member_id: int, world) -> None:
    """A message thread, an uploaded letter, an employment change and a recruitment, each with free text."""
    now = dt.datetime(2020, 11, 1, 9, 0)
    messaging.start_thread(subject="Sykemelding", body="Jeg er sykmeldt (privat-8841)", author_id=None, from_party=True,
                           member_id=member_id, now=now, notify=False)
    db.session.add_all([
        MemberDocument(member_id=member_id, kind=DocumentKind.invoice, title="Faktura til Per Utenfor",
                       body="Privat brev", pdf=b"%PDF-1.4 privat-8841", amount_ore=45000, created_at=now),
        EmploymentChange(member_id=member_id, employer_id=world.employers["E2"].id,
                         workplace_id=world.workplaces["W2"].id,
                         start_date=dt.date(2020, 10, 1), position_pct=100, comment="Privat-8841", reported_at=now),
        Recruitment(recruiter_id=world.members["inside"].id, recruit_id=member_id, recruited_on=dt.date(2015, 1, 1),
                    note="Vervet på festen (privat-8841)", registered_at=now),
    ])
    db.session.commit()


def test_purge_removes_name_and_national_id_everywhere_and_keeps_the_figures(app_ctx, world):
    leaver_id = old_history(world)
    texts_about(leaver_id, world)
    kept_thread = messaging.start_thread(subject="Hei", body="Fra Kari", author_id=None, from_party=True,
                                         member_id=world.members["inside"].id, notify=False).id
    national_id = db.session.get(Member, leaver_id).national_id
    before = reconciliation_figures()
    list_total = db.session.scalar(select(func.sum(DeductionListLine.amount_ore)))

    from webapp.services.retention import purge

    dry = purge(dry_run=True)
    assert [m[0] for m in dry.members] == [leaver_id] and "would anonymise 1" in dry.summary()
    assert db.session.get(Member, leaver_id).national_id == national_id  # a dry run changes nothing

    done = purge()
    assert len(done.members) == 1
    db.session.expire_all()
    member = db.session.get(Member, leaver_id)
    assert member.first_name == "Anonymisert" and member.national_id != national_id
    assert member.email_private is None and member.anonymised_at is not None
    line = db.session.scalars(select(DeductionListLine).where(DeductionListLine.member_id == leaver_id)).one()
    assert line.name == "Anonymisert" and line.national_id != national_id
    assert db.session.scalar(select(func.count(Member.id)).where(Member.national_id == national_id)) == 0
    # What they wrote or was written to them: the thread is gone, the rest blanked; others' threads stay.
    assert db.session.scalars(select(MessageThread.id)).all() == [kept_thread]
    assert db.session.scalar(select(func.count(Message.id))) == 1
    document = db.session.scalars(select(MemberDocument).where(MemberDocument.member_id == leaver_id)).one()
    assert (document.title, document.body, document.pdf, document.amount_ore) == ("Anonymisert", None, None, 45000)
    assert db.session.scalars(select(EmploymentChange.comment)).all() == [None]
    assert db.session.scalars(select(Recruitment.note)).all() == [None]

    reconcile(str(OLD_MONTH))
    db.session.commit()
    assert reconciliation_figures() == before  # to the øre
    assert db.session.scalar(select(func.sum(DeductionListLine.amount_ore))) == list_total
    assert purge().members == []  # a second run finds nothing


def test_recent_leavers_are_kept(app_ctx, world):
    from webapp.services.retention import purge

    member = db.session.get(Member, world.members["outside"].id)
    member.left_on = dt.date.today() - dt.timedelta(days=30)
    db.session.commit()
    assert purge(dry_run=True).members == []


def test_purge_deletes_rejected_applications_on_time_and_a_purged_members_own(app_ctx, world):
    from tests.factories import add_lo_union, make_application
    from webapp.models import MembershipApplication, MembershipTransfer
    from webapp.models.choices import EnrollmentStatus, TransferDirection
    from webapp.services.retention import purge

    today = dt.date.today()
    long_ago = dt.datetime.combine(today, dt.time()) - dt.timedelta(days=250)  # beyond the 6 months kept
    lately = dt.datetime.combine(today, dt.time()) - dt.timedelta(days=20)
    old_rejected = make_application(status=EnrollmentStatus.rejected, decided_at=long_ago, reject_reason="Ikke aktuell")
    new_rejected = make_application(status=EnrollmentStatus.rejected, decided_at=lately, reject_reason="Ikke aktuell")
    pending = make_application()
    leaver_id = old_history(world)
    made_leaver = make_application(status=EnrollmentStatus.approved, decided_at=long_ago, member_id=leaver_id)
    flagged = make_application(existing_member_id=leaver_id)
    union = add_lo_union()
    db.session.add(MembershipTransfer(member_id=leaver_id, direction=TransferDirection.incoming, lo_union_id=union.id,
                                      transfer_on=dt.date(2015, 1, 1), application_id=made_leaver.id,
                                      registered_at=long_ago))
    db.session.commit()
    old_id, new_id, pending_id, made_id, flagged_id = (old_rejected.id, new_rejected.id, pending.id, made_leaver.id,
                                                       flagged.id)

    dry = purge(dry_run=True)
    assert dry.rejected_applications == 1 and "would delete 1" in dry.summary()
    assert db.session.get(MembershipApplication, old_id) is not None  # a dry run changes nothing

    done = purge()
    assert done.rejected_applications == 1 and leaver_id in [m[0] for m in done.members]
    db.session.expire_all()
    left = set(db.session.scalars(select(MembershipApplication.id)).all())
    assert left == {new_id, pending_id, flagged_id}  # the old rejection and the leaver's own application are gone
    assert made_id not in left
    assert db.session.get(MembershipApplication, flagged_id).existing_member_id is None
    transfer = db.session.scalars(select(MembershipTransfer).where(MembershipTransfer.member_id == leaver_id)).one()
    assert transfer.application_id is None  # the transfer stays for the statistics, without the application


def test_purge_deletes_the_record_of_mails_sent_before_the_keeping_days(app_ctx):
    from flask_mail import Message as MailMessage

    from webapp.models import OutboxMail
    from webapp.services import mail
    from webapp.services.retention import purge

    today = dt.date.today()
    ages = {"old": 91, "recent": 89, "waiting": 400}
    for name, days in ages.items():
        row = mail.queue(MailMessage(subject=name, recipients=[f"{name}@example.no"], body="b", sender="s@example.no"))
        row.created_at = dt.datetime.combine(today, dt.time()) - dt.timedelta(days=days)
        row.sent_at = None if name == "waiting" else row.created_at
    db.session.commit()
    result = purge(today=today)
    assert result.sent_mails_forgotten == 1
    assert sorted(db.session.scalars(select(OutboxMail.subject))) == ["recent", "waiting"]
    assert "records of sent e-mails deleted: 1" in result.summary()


def table_fingerprint() -> dict[str, tuple]:
    """Row count per table, plus sums of the money columns."""
    result = {}
    for table in Model.metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        count = db.session.scalar(select(func.count()).select_from(table))
        sums = tuple(
            db.session.scalar(select(func.coalesce(func.sum(column), 0)))
            for column in table.columns if column.name.endswith("_ore")
        )
        result[table.name] = (count, sums)
    return result


@pytest.mark.parametrize("chunk", [None, 3], ids=["default-batches", "batches-of-3"])
def test_backup_and_restore_round_trip(app_ctx, world, tmp_path, monkeypatch, chunk):
    from tests.conftest import wipe_database
    from webapp.services import backup

    if chunk:  # restore inserts a table's rows in batches: a table longer than a batch comes back whole too
        monkeypatch.setattr(backup, "CHUNK", chunk)
    old_history(world)
    before = table_fingerprint()
    names = sorted(db.session.scalars(select(Member.last_name)))
    path = str(tmp_path / "backup.jsonl.gz")
    result = backup.backup(path)
    assert sum(result.counts.values()) > 0

    wipe_database()
    from webapp.services.database import ensure_roles

    ensure_roles()
    with pytest.raises(backup.BackupError, match="--replace"):
        backup.restore(path)
    backup.restore(path, replace=True)
    db.session.expire_all()
    assert table_fingerprint() == before
    assert sorted(db.session.scalars(select(Member.last_name))) == names
    # New rows get fresh ids after a restore (sequences moved on PostgreSQL).
    list_id = deduction_lists.create_list(world.employers["E1"].id, str(OLD_MONTH), None).id  # a month with a basis
    assert list_id > max(db.session.scalars(select(DeductionList.id).where(DeductionList.id != list_id)))
    assert db.session.scalar(select(func.count(Payment.id))) == before["payment"][0]


def test_restore_refuses_a_file_that_is_no_backup(app_ctx, tmp_path):
    import pytest

    from webapp.services import backup

    path = tmp_path / "x.gz"
    path.write_bytes(b"not gzip")
    with pytest.raises(backup.BackupError, match="file"):
        backup.restore(str(path))


def test_member_downloads_everything_held_about_them(client, world, dbs):
    import io
    import json as jsonlib

    from pypdf import PdfReader

    from tests.helpers import login_as

    me, other = world.members["inside"], world.members["outside"]
    messaging.start_thread(subject="Permisjon", body="Et spørsmål om permisjon (innsyn-5150)", author_id=None,
                           from_party=True, member_id=me.id, notify=False)
    dbs.add(Recruitment(recruiter_id=me.id, recruit_id=world.members["club"].id, recruited_on=dt.date(2026, 1, 5),
                        registered_at=dt.datetime.now()))
    dbs.add(MemberDocument(member_id=me.id, kind=DocumentKind.letter, title="Skannet brev", pdf=b"%PDF-1.4 x" * 100,
                           created_at=dt.datetime.now()))
    dbs.commit()
    login_as(client, world.logins["member"], "member")
    response = client.get(f"/subject-access/data.json?member_id={other.id}")  # the parameter is the office's only
    assert response.status_code == 200
    data = jsonlib.loads(response.data)
    assert data["member"][0]["id"] == me.id and data["member"][0]["national_id"] == me.national_id
    held = data["held_in"]
    assert "employment" in held and held["message"][0]["body"] == "Et spørsmål om permisjon (innsyn-5150)"
    assert held["recruitment"][0]["recruiter_id"] == me.id  # named as recruiter, not by a member_id column
    assert held["member_document"][0]["pdf"] == "<file, 1000 bytes>"
    assert held["ab_user"][0]["username"] == world.logins["member"] and "password" not in held["ab_user"][0]
    assert other.national_id not in response.get_data(as_text=True)
    pdf = client.get("/subject-access/data.pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert me.last_name in text and other.last_name not in text

    client.get("/logout/")
    login_as(client, world.logins["office"])
    answer = jsonlib.loads(client.get(f"/subject-access/data.json?member_id={other.id}").data)
    assert answer["member"][0]["id"] == other.id
    client.get("/logout/")
    login_as(client, world.logins["leader"], "leader")
    assert client.get(f"/subject-access/data.json?member_id={me.id}").status_code in (302, 403)
