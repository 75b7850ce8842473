"""Enumerations stored by name, shown to users by a translated label.

The value of each member is its code, so the API reads and writes the same
codes as the database; `str(member)` gives the label in the request's language.
"""

import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum as SAEnum


class LabelledEnum(enum.Enum):
    """An enum whose members print as their translated label."""

    @classmethod
    def labels(cls) -> dict:
        raise NotImplementedError

    @property
    def label(self) -> str:
        return str(self.labels()[self.name])

    def __str__(self) -> str:
        return self.label

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.name, member.label) for member in cls]


def enum_column_type(enum_class: type[LabelledEnum]) -> SAEnum:
    """The column type for an enum: a VARCHAR of the member names on every engine."""
    return SAEnum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=24,
        values_callable=lambda cls: [m.name for m in cls],
    )


class OrgLevel(LabelledEnum):
    union = "union"
    national_association = "national_association"
    branch = "branch"
    club = "club"

    @classmethod
    def labels(cls):
        return {
            "union": _l("Union"),
            "national_association": _l("National association"),
            "branch": _l("Branch"),
            "club": _l("Club"),
        }


class EmployerAssociation(LabelledEnum):
    spekter = "spekter"
    nho = "nho"
    virke = "virke"
    ks = "ks"
    staten = "staten"
    none = "none"

    @classmethod
    def labels(cls):
        return {
            "spekter": _l("Spekter"),
            "nho": _l("NHO"),
            "virke": _l("Virke"),
            "ks": _l("KS"),
            "staten": _l("The State"),
            "none": _l("None"),
        }


class Sector(LabelledEnum):
    state = "state"
    municipal = "municipal"
    private = "private"

    @classmethod
    def labels(cls):
        return {"state": _l("State"), "municipal": _l("Municipal"), "private": _l("Private")}


class MemberCategory(LabelledEnum):
    ordinary = "ordinary"
    apprentice = "apprentice"
    student = "student"
    retired = "retired"
    unemployed = "unemployed"

    @classmethod
    def labels(cls):
        return {
            "ordinary": _l("Ordinary"),
            "apprentice": _l("Apprentice"),
            "student": _l("Student"),
            "retired": _l("Retired"),
            "unemployed": _l("Unemployed"),
        }


class ContactChoice(LabelledEnum):
    """Which of the two e-mail addresses or mobiles is used."""

    work = "work"
    private = "private"

    @classmethod
    def labels(cls):
        return {"work": _l("Work"), "private": _l("Private")}


class Gender(LabelledEnum):
    female = "female"
    male = "male"

    @classmethod
    def labels(cls):
        return {"female": _l("Female"), "male": _l("Male")}


class PositionType(LabelledEnum):
    leader = "leader"
    treasurer = "treasurer"
    member_data_admin = "member_data_admin"
    workplace_trustee = "workplace_trustee"

    @classmethod
    def labels(cls):
        return {
            "leader": _l("Leader"),
            "treasurer": _l("Treasurer"),
            "member_data_admin": _l("Member data admin"),
            "workplace_trustee": _l("Workplace representative"),
        }


class BasisChange(LabelledEnum):
    """How a member's deduction changes from the month before."""

    start = "start"
    stop = "stop"
    change = "change"

    @classmethod
    def labels(cls):
        return {"start": _l("Start"), "stop": _l("Stop"), "change": _l("Change")}


class ListKind(LabelledEnum):
    main = "main"
    supplementary = "supplementary"

    @classmethod
    def labels(cls):
        return {"main": _l("Deduction list"), "supplementary": _l("Supplementary list")}


class ListStatus(LabelledEnum):
    draft = "draft"
    delivered = "delivered"

    @classmethod
    def labels(cls):
        return {"draft": _l("Draft"), "delivered": _l("Delivered")}


class DeviationReason(LabelledEnum):
    left_employer = "left_employer"
    leave_of_absence = "leave_of_absence"
    unpaid_leave = "unpaid_leave"
    deceased = "deceased"
    not_known = "not_known"
    other = "other"

    @classmethod
    def labels(cls):
        return {
            "left_employer": _l("Left the employer"),
            "leave_of_absence": _l("Leave of absence"),
            "unpaid_leave": _l("Unpaid leave"),
            "deceased": _l("Deceased"),
            "not_known": _l("Not known to the employer"),
            "other": _l("Other"),
        }


class ReconciliationStatus(LabelledEnum):
    ok = "ok"
    no_list = "no_list"
    no_payment = "no_payment"
    amount_differs = "amount_differs"
    members_not_reported = "members_not_reported"
    unknown_members = "unknown_members"
    open_deviations = "open_deviations"

    @classmethod
    def labels(cls):
        return {
            "ok": _l("OK"),
            "no_list": _l("No deduction list"),
            "no_payment": _l("No payment"),
            "amount_differs": _l("Amount differs"),
            "members_not_reported": _l("Basis members not reported"),
            "unknown_members": _l("Reported members unknown"),
            "open_deviations": _l("Open deviations"),
        }


class ApplicationStatus(LabelledEnum):
    """A member's application to a course."""

    applied = "applied"
    withdrawn = "withdrawn"
    completed = "completed"

    @classmethod
    def labels(cls):
        return {"applied": _l("Applied"), "withdrawn": _l("Withdrawn"), "completed": _l("Completed")}


class DocumentKind(LabelledEnum):
    letter = "letter"
    invoice = "invoice"
    certificate = "certificate"

    @classmethod
    def labels(cls):
        return {"letter": _l("Letter"), "invoice": _l("Invoice"), "certificate": _l("Course certificate")}


class RequestStatus(LabelledEnum):
    """A change a member reports, until the office has dealt with it."""

    pending = "pending"
    approved = "approved"
    rejected = "rejected"

    @classmethod
    def labels(cls):
        return {"pending": _l("Awaiting the union office"), "approved": _l("Approved"), "rejected": _l("Rejected")}


class OrderStatus(LabelledEnum):
    ordered = "ordered"
    sent = "sent"
    cancelled = "cancelled"

    @classmethod
    def labels(cls):
        return {"ordered": _l("Ordered"), "sent": _l("Sent"), "cancelled": _l("Cancelled")}


class RefundStatus(LabelledEnum):
    """A quarter's refund run: a draft can be recalculated; an approved run is frozen."""

    draft = "draft"
    approved = "approved"

    @classmethod
    def labels(cls):
        return {"draft": _l("Draft"), "approved": _l("Approved")}


class ReportKind(LabelledEnum):
    """The membership reports the union sends out."""

    lo = "lo"
    employer_association = "employer_association"

    @classmethod
    def labels(cls):
        return {"lo": _l("LO / LO Stat"), "employer_association": _l("Employer association")}


class PaymentMethod(LabelledEnum):
    """How a member pays the dues: through the employer's payroll, or directly by invoice or AvtaleGiro."""

    deduction = "deduction"
    invoice = "invoice"
    avtalegiro = "avtalegiro"

    @classmethod
    def labels(cls):
        return {"deduction": _l("Payroll deduction"), "invoice": _l("Invoice"), "avtalegiro": _l("AvtaleGiro")}


class InvoiceStatus(LabelledEnum):
    """An invoice's state; `overdue` is an open or partly paid invoice past its due date (never stored)."""

    open = "open"
    partly_paid = "partly_paid"
    paid = "paid"
    overdue = "overdue"
    credited = "credited"
    written_off = "written_off"

    @classmethod
    def labels(cls):
        return {
            "open": _l("Open"),
            "partly_paid": _l("Partly paid"),
            "paid": _l("Paid"),
            "overdue": _l("Overdue"),
            "credited": _l("Credited"),
            "written_off": _l("Written off"),
        }


class InvoiceAdjustmentKind(LabelledEnum):
    credit_note = "credit_note"
    write_off = "write_off"

    @classmethod
    def labels(cls):
        return {"credit_note": _l("Credit note"), "write_off": _l("Write-off")}


class InvoiceDelivery(LabelledEnum):
    email = "email"
    print = "print"
    avtalegiro = "avtalegiro"

    @classmethod
    def labels(cls):
        return {"email": _l("E-mail"), "print": _l("Print"), "avtalegiro": _l("AvtaleGiro claim")}


class PaymentFileKind(LabelledEnum):
    ocr = "ocr"
    avtalegiro_agreements = "avtalegiro_agreements"

    @classmethod
    def labels(cls):
        return {"ocr": _l("OCR giro transactions"), "avtalegiro_agreements": _l("AvtaleGiro agreements")}


class LeaveReason(LabelledEnum):
    """Why a membership ended. `resigned` is a resignation without a stated reason (and the older rows);
    the resignation reasons a member chooses from are RESIGNATION_REASONS."""

    resigned = "resigned"
    new_job = "new_job"
    retired = "retired"
    financial = "financial"
    dissatisfied = "dissatisfied"
    other = "other"
    transferred = "transferred"
    non_payment = "non_payment"
    deceased = "deceased"

    @classmethod
    def labels(cls):
        return {
            "resigned": _l("Resigned"),
            "new_job": _l("New job outside the union's field"),
            "retired": _l("Retired, not continuing as a member"),
            "financial": _l("Cannot afford the dues"),
            "dissatisfied": _l("Dissatisfied with the union"),
            "other": _l("Other reason"),
            "transferred": _l("Transferred to another LO union"),
            "non_payment": _l("Non-payment"),
            "deceased": _l("Deceased"),
        }


# The reasons a member (or the office, from a letter) gives for a resignation, in the order they are offered.
RESIGNATION_REASONS = (LeaveReason.new_job, LeaveReason.retired, LeaveReason.financial, LeaveReason.dissatisfied,
                       LeaveReason.other)


class EnrollmentStatus(LabelledEnum):
    """An online enrollment, until the office has decided."""

    pending = "pending"
    approved = "approved"
    rejected = "rejected"

    @classmethod
    def labels(cls):
        return {"pending": _l("Awaiting the union office"), "approved": _l("Approved"), "rejected": _l("Rejected")}


class WorkSituation(LabelledEnum):
    """What an applicant says about work: employed (with an employer), or one of the other situations."""

    employed = "employed"
    not_employed = "not_employed"
    student = "student"
    retired = "retired"
    other = "other"

    @classmethod
    def labels(cls):
        return {
            "employed": _l("Employed"),
            "not_employed": _l("Not employed"),
            "student": _l("Student"),
            "retired": _l("Retired"),
            "other": _l("Other"),
        }


class TransferDirection(LabelledEnum):
    incoming = "incoming"
    outgoing = "outgoing"

    @classmethod
    def labels(cls):
        return {"incoming": _l("From another LO union"), "outgoing": _l("To another LO union")}


class HomeUnitRuleKind(LabelledEnum):
    """What a home-unit rule maps from. A workplace's own unit (Workplace.org_unit_id) comes first and needs no rule."""

    employer = "employer"
    county = "county"

    @classmethod
    def labels(cls):
        return {"employer": _l("Employer"), "county": _l("County")}


class PolicyKind(LabelledEnum):
    terms = "terms"
    privacy = "privacy"

    @classmethod
    def labels(cls):
        return {"terms": _l("Membership terms"), "privacy": _l("Privacy statement")}


class BallotStatus(LabelledEnum):
    """A ballot's voter list: computed from the register while a draft, frozen once locked."""

    draft = "draft"
    locked = "locked"

    @classmethod
    def labels(cls):
        return {"draft": _l("Draft (the list follows the register)"), "locked": _l("Locked (the list is frozen)")}


class JobStatus(LabelledEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"

    @classmethod
    def labels(cls):
        return {"queued": _l("Waiting"), "running": _l("Running"), "done": _l("Done"), "failed": _l("Failed")}


class SendOutChannel(LabelledEnum):
    email = "email"
    sms = "sms"

    @classmethod
    def labels(cls):
        return {"email": _l("E-mail"), "sms": _l("SMS")}


class SendOutStatus(LabelledEnum):
    draft = "draft"
    sending = "sending"
    sent = "sent"
    failed = "failed"

    @classmethod
    def labels(cls):
        return {"draft": _l("Draft"), "sending": _l("Being sent"), "sent": _l("Sent"), "failed": _l("Failed")}


class RecipientStatus(LabelledEnum):
    queued = "queued"
    sent = "sent"
    failed = "failed"

    @classmethod
    def labels(cls):
        return {"queued": _l("Waiting"), "sent": _l("Sent"), "failed": _l("Failed")}
