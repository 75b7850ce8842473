"""What the register serves beyond the dues: collective agreements and the ballots held under them, targeted
send-outs to members (e-mail, SMS, survey invitations) and the background jobs that carry out long work."""

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import relationship

from webapp.models.choices import (
    BallotStatus,
    EmployerAssociation,
    JobStatus,
    MemberCategory,
    RecipientStatus,
    SendOutChannel,
    SendOutStatus,
    enum_column_type,
)


class CollectiveAgreement(Model):
    """A collective agreement (tariffavtale) with an employer association or a single employer.

    A member is covered on a day when the agreement is valid that day, an employment of theirs at a covered
    employer is current that day (periods.current_on) and their category is covered (no categories listed: all)."""

    __tablename__ = "collective_agreement"

    id = Column(Integer, primary_key=True)
    name = Column(String(150), nullable=False, unique=True)
    counterpart_association = Column(enum_column_type(EmployerAssociation))
    counterpart_employer_id = Column(Integer, ForeignKey("employer.id", name="fk_agreement_counterpart_employer"),
                                     index=True)
    valid_from = Column(Date, nullable=False)
    valid_to = Column(Date)
    note = Column(String(500))

    counterpart_employer = relationship("Employer", foreign_keys=[counterpart_employer_id])
    employers = relationship("Employer", secondary="agreement_employer", order_by="Employer.name")

    def __repr__(self) -> str:
        return self.name


class AgreementEmployer(Model):
    """An employer (enterprise) a collective agreement covers."""

    __tablename__ = "agreement_employer"

    agreement_id = Column(Integer, ForeignKey("collective_agreement.id", name="fk_agreement_employer_agreement",
                                              ondelete="CASCADE"), primary_key=True)
    employer_id = Column(Integer, ForeignKey("employer.id", name="fk_agreement_employer_employer"), primary_key=True,
                         index=True)


class AgreementCategory(Model):
    """A member category a collective agreement covers; an agreement without rows here covers every category."""

    __tablename__ = "agreement_category"

    agreement_id = Column(Integer, ForeignKey("collective_agreement.id", name="fk_agreement_category_agreement",
                                              ondelete="CASCADE"), primary_key=True)
    category = Column(enum_column_type(MemberCategory), primary_key=True)


class Ballot(Model):
    """A ballot (uravstemning) among the members an agreement covers on the cut-off date.

    While a draft, the voter list is computed from the register; locking freezes it into BallotVoter rows (the
    only list that is ever exported). The votes are held by the vendor, never by the union. The privacy purge
    deletes the frozen list a year after the ballot closes (`voters_deleted_at`)."""

    __tablename__ = "ballot"

    id = Column(Integer, primary_key=True)
    agreement_id = Column(Integer, ForeignKey("collective_agreement.id", name="fk_ballot_agreement"), nullable=False,
                          index=True)
    title = Column(String(200), nullable=False)
    cutoff_date = Column(Date, nullable=False)
    closes_on = Column(Date, nullable=False)
    status = Column(enum_column_type(BallotStatus), nullable=False, default=BallotStatus.draft)
    locked_at = Column(DateTime)
    locked_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_ballot_locked_by"))
    voter_count = Column(Integer)
    voters_deleted_at = Column(DateTime)
    created_at = Column(DateTime, nullable=False)

    agreement = relationship("CollectiveAgreement")
    locked_by = relationship(User)

    def __repr__(self) -> str:
        return self.title


class BallotVoter(Model):
    """A member on a locked voter list, with the four fields the vendor gets, as they were at the lock."""

    __tablename__ = "ballot_voter"

    ballot_id = Column(Integer, ForeignKey("ballot.id", name="fk_ballot_voter_ballot", ondelete="CASCADE"),
                       primary_key=True)
    member_id = Column(Integer, ForeignKey("member.id", name="fk_ballot_voter_member"), primary_key=True, index=True)
    member_no = Column(String(8), nullable=False)
    name = Column(String(170), nullable=False)
    email = Column(String(254))
    mobile = Column(String(20))


class Segment(Model):
    """A saved choice of members for send-outs: the criteria as JSON (webapp/services/segments.py reads them).
    `unit_id` set: an officer's segment, limited to that unit and the units below it."""

    __tablename__ = "segment"

    id = Column(Integer, primary_key=True)
    name = Column(String(150), nullable=False)
    criteria = Column(Text, nullable=False)
    unit_id = Column(Integer, ForeignKey("org_unit.id", name="fk_segment_unit"), index=True)
    created_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_segment_created_by"))
    created_at = Column(DateTime, nullable=False)

    unit = relationship("OrgUnit")
    created_by = relationship(User)

    __table_args__ = (UniqueConstraint("name", "unit_id", name="uq_segment_name_unit"),)

    def __repr__(self) -> str:
        return self.name


class Job(Model):
    """A piece of long work run by the background worker (Huey), with its progress for the page that shows it.

    A job is idempotent: run again (a retry), it picks up where it stopped and never does a step twice."""

    __tablename__ = "job"

    id = Column(Integer, primary_key=True)
    kind = Column(String(40), nullable=False, index=True)
    title = Column(String(200), nullable=False)
    status = Column(enum_column_type(JobStatus), nullable=False, default=JobStatus.queued, index=True)
    params = Column(Text)
    done = Column(Integer, nullable=False, default=0)
    total = Column(Integer)
    log = Column(Text)
    result_url = Column(String(300))
    error = Column(Text)
    created_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_job_created_by"), index=True)
    created_at = Column(DateTime, nullable=False, index=True)
    started_at = Column(DateTime)
    finished_at = Column(DateTime)
    attempts = Column(Integer, nullable=False, default=0)
    # The same work asked for again while a job of its key waits or runs joins that job (one winner: the partial
    # unique index); the calendar's runs are keyed by task and day, a document by what it renders.
    key = Column(String(120))
    # The worker (host:pid) that runs it, so a job whose worker died is found (jobs.sweep_stale_jobs).
    worker = Column(String(120))

    created_by = relationship(User)
    files = relationship("JobFile", back_populates="job", cascade="all, delete-orphan", passive_deletes=True,
                         order_by="JobFile.id")

    __table_args__ = (
        Index("uq_job_active_key", "key", unique=True,
              postgresql_where=text("status IN ('queued', 'running')"),
              sqlite_where=text("status IN ('queued', 'running')")),
    )

    def __repr__(self) -> str:
        return self.title



class JobFile(Model):
    """A file a job read (an uploaded bank file: purpose input) or made (a report's PDF: purpose result).

    Kept in the database, so the web servers and the workers need share no disk; the privacy purge deletes
    them JOB_FILE_KEEP_DAYS after they were made."""

    __tablename__ = "job_file"

    id = Column(Integer, primary_key=True)
    job_id = Column(Integer, ForeignKey("job.id", name="fk_job_file_job", ondelete="CASCADE"), nullable=False,
                    index=True)
    purpose = Column(String(10), nullable=False)
    filename = Column(String(200), nullable=False)
    content_type = Column(String(100), nullable=False)
    size = Column(Integer, nullable=False)
    data = Column(LargeBinary, nullable=False)
    created_at = Column(DateTime, nullable=False, index=True)

    job = relationship(Job, back_populates="files")

    def __repr__(self) -> str:
        return self.filename


class WorkerHeartbeat(Model):
    """A background worker's sign of life, written every few seconds while it runs (/health reads it)."""

    __tablename__ = "worker_heartbeat"

    name = Column(String(120), primary_key=True)
    started_at = Column(DateTime, nullable=False)
    seen_at = Column(DateTime, nullable=False, index=True)

class SendOut(Model):
    """A message to the members of a segment by e-mail or SMS (a survey invitation: with its link).

    The criteria are copied from the form (or a saved segment) when it is made; the recipients are fixed when it
    is sent (SendOutRecipient), leaving out those who said no to the channel or have no address for it."""

    __tablename__ = "send_out"

    id = Column(Integer, primary_key=True)
    channel = Column(enum_column_type(SendOutChannel), nullable=False)
    criteria = Column(Text, nullable=False)
    segment_id = Column(Integer, ForeignKey("segment.id", name="fk_send_out_segment"), index=True)
    # An officer's send-out reaches only this unit and the units below it.
    unit_id = Column(Integer, ForeignKey("org_unit.id", name="fk_send_out_unit"), index=True)
    subject = Column(String(200))
    body = Column(Text, nullable=False)
    survey_url = Column(String(500))
    status = Column(enum_column_type(SendOutStatus), nullable=False, default=SendOutStatus.draft, index=True)
    recipient_count = Column(Integer)
    sent_count = Column(Integer, nullable=False, default=0)
    job_id = Column(Integer, ForeignKey("job.id", name="fk_send_out_job"), index=True)
    created_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_send_out_created_by"))
    created_at = Column(DateTime, nullable=False)
    sent_at = Column(DateTime)

    segment = relationship("Segment")
    unit = relationship("OrgUnit")
    job = relationship("Job")
    created_by = relationship(User)

    def __repr__(self) -> str:
        return self.subject or self.body[:40]


class SendOutRecipient(Model):
    """A member a send-out went (or goes) to, with the address used; one row per member and send-out."""

    __tablename__ = "send_out_recipient"

    id = Column(Integer, primary_key=True)
    send_out_id = Column(Integer, ForeignKey("send_out.id", name="fk_recipient_send_out", ondelete="CASCADE"),
                         nullable=False)
    member_id = Column(Integer, ForeignKey("member.id", name="fk_recipient_member"), nullable=False, index=True)
    address = Column(String(254), nullable=False)
    status = Column(enum_column_type(RecipientStatus), nullable=False, default=RecipientStatus.queued)
    sent_at = Column(DateTime)
    error = Column(String(300))
    # Set when the member used the unsubscribe link of this message (a link works once).
    unsubscribed_at = Column(DateTime)

    send_out = relationship("SendOut")
    member = relationship("Member")

    __table_args__ = (
        UniqueConstraint("send_out_id", "member_id", name="uq_send_out_recipient_member"),
        Index("ix_send_out_recipient_status", "send_out_id", "status"),
    )

