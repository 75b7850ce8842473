"""What the audit log's codes are called: each action the app records, and each kind of object it names.

The log stores codes (`open_member`, `invoice`); its screen shows these labels, in the user's language. A code
without a label is shown as it is (never an error): tests/test_norwegian_everywhere.py checks that every code the
code records has one here.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp import models

ACTION_LABELS = {
    "account_locked": _l("Login locked after failed attempts"),
    "add_contact": _l("Deduction contact added"),
    "add_member_document": _l("Document added"),
    "application_approved": _l("Enrollment approved"),
    "application_rejected": _l("Enrollment rejected"),
    "apply_course": _l("Course application"),
    "approve_employment_change": _l("Employment change approved"),
    "avtalegiro_agreements": _l("AvtaleGiro agreements read"),
    "ballot_created": _l("Ballot made"),
    "ballot_locked": _l("Ballot locked: voter list frozen"),
    "cancel_prize_order": _l("Prize order cancelled"),
    "change_travel_insurance": _l("Travel insurance changed"),
    "complete_course": _l("Course completed"),
    "confidentiality_declared": _l("Duty of confidentiality confirmed"),
    "course_special_needs": _l("Special needs for a course changed"),
    "create": _l("Created"),
    "declare_income_band": _l("Income band declared"),
    "delete": _l("Deleted"),
    "download": _l("Downloaded"),
    "end_contact": _l("Deduction contact ended"),
    "end_membership": _l("Membership ended"),
    "end_membership_non_payment": _l("Membership ended for non-payment"),
    "enrollment_submitted": _l("Enrollment received online"),
    "home_unit_moved": _l("Home unit changed"),
    "import_postcodes": _l("Postcode register imported"),
    "invoice_credit_note": _l("Credit note"),
    "invoice_write_off": _l("Write-off"),
    "login_refused_locked": _l("Login refused (locked)"),
    "open_member": _l("Member opened"),
    "order_prize": _l("Prize ordered"),
    "password_reset_sent": _l("Password link sent"),
    "payment_match_employer_month": _l("Payment matched to an employer's month"),
    "payment_match_invoice": _l("Payment matched to an invoice"),
    "payment_rematch": _l("Payment matched again"),
    "payment_return": _l("Payment returned"),
    "payment_undo": _l("Payment match undone"),
    "purge": _l("Former members' data deleted"),
    "purge_applications": _l("Rejected applications deleted"),
    "purge_ballot_voters": _l("Voter lists of closed ballots deleted"),
    "purge_special_needs": _l("Special needs of ended courses deleted"),
    "purge_job_files": _l("Old files of background jobs deleted"),
    "refund_approve": _l("Refunds approved"),
    "refund_calculate": _l("Refunds calculated"),
    "refund_discard": _l("Refund draft discarded"),
    "register_recruitment": _l("Recruitment registered"),
    "reject_employment_change": _l("Employment change rejected"),
    "reopen": _l("Deduction list reopened"),
    "rejoin": _l("Re-joined: membership re-opened"),
    "resignation": _l("Resignation registered"),
    "report_employment_change": _l("Employment change reported"),
    "report_sent": _l("Report sent"),
    "send_message": _l("Message sent"),
    "send_out_sent": _l("Send-out sent"),
    "send_prize_order": _l("Prize order sent"),
    "transfer_in": _l("Transfer from another LO union"),
    "transfer_out": _l("Transfer to another LO union"),
    "unsubscribe": _l("Unsubscribed from information by e-mail"),
    "update": _l("Changed"),
    "update_own_data": _l("Own data changed"),
    "update_recruitment": _l("Recruitment changed"),
    "withdraw_course": _l("Course application withdrawn"),
}

# The kinds of object the log names: tables (by their models' table names), and a few things that are no table.
OBJECT_LABELS = {
    **{model.__tablename__: label for model, label in (
        (models.AccessRequest, _l("Access request")),
        (models.AvtaleGiroMandate, _l("AvtaleGiro mandate")),
        (models.Ballot, _l("Ballot")),
        (models.CollectiveAgreement, _l("Collective agreement")),
        (models.Course, _l("Course")),
        (models.CourseApplication, _l("Course application")),
        (models.DeductionContact, _l("Deduction contact")),
        (models.DeductionList, _l("Deduction list")),
        (models.DirectDuesRate, _l("Direct dues rate")),
        (models.DuesRate, _l("Dues rate")),
        (models.Employer, _l("Employer")),
        (models.Employment, _l("Employment")),
        (models.HomeUnitRule, _l("Home-unit rule")),
        (models.EmploymentChange, _l("Employment change")),
        (models.IncomeBand, _l("Income band")),
        (models.Invoice, _l("Invoice")),
        (models.Job, _l("Background job")),
        (models.LoUnion, _l("LO union")),
        (models.Member, _l("Member")),
        (models.MembershipApplication, _l("Enrollment application")),
        (models.MembershipTransfer, _l("Transfer between LO unions")),
        (models.MemberDocument, _l("Member document")),
        (models.MessageThread, _l("Message")),
        (models.OperatingUnit, _l("Operating unit")),
        (models.OrgUnit, _l("Organisational unit")),
        (models.Payment, _l("Payment")),
        (models.PolicyText, _l("Terms or privacy text")),
        (models.Postcode, _l("Postcode")),
        (models.PaymentImport, _l("Payment file")),
        (models.Position, _l("Position")),
        (models.Prize, _l("Recruitment prize")),
        (models.PrizeOrder, _l("Prize order")),
        (models.Recruitment, _l("Recruitment")),
        (models.RefundPolicy, _l("Refund policy")),
        (models.RefundPool, _l("Refund pool")),
        (models.RefundRun, _l("Quarterly refunds")),
        (models.RefundUnit, _l("Refund document")),
        (models.ReportDispatch, _l("Report sent")),
        (models.SendOut, _l("Send-out")),
        (models.Workplace, _l("Workplace")),
    )},
    "report": _l("Membership report"),
    "subject_access": _l("Subject access"),
    "transfer_report": _l("Transfer report"),
    "user": _l("User"),
}


def action_label(code) -> str:
    return str(ACTION_LABELS.get(code, code or ""))


def object_label(code) -> str:
    return str(OBJECT_LABELS.get(code, code or ""))


def choices(labels: dict) -> list[tuple[str, str]]:
    """A select's options: every code by its label, in the order of the labels."""
    return sorted(((code, str(label)) for code, label in labels.items()), key=lambda option: option[1])
