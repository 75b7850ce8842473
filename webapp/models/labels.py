"""What each field of a model is called: one table per model, read by the screens (their `label_columns`)
and by the validation rules (the field a message names). A label is written once, here.
"""

from __future__ import annotations

from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l

from webapp.models.billing import AvtaleGiroMandate, DirectDuesRate, IncomeBand, Invoice, InvoiceAdjustment
from webapp.models.contacts import DeductionContact
from webapp.models.courses import Course, CourseApplication
from webapp.models.deductions import DuesRate
from webapp.models.documents import MemberDocument
from webapp.models.lifecycle import (
    HomeUnitRule,
    LoUnion,
    MembershipApplication,
    MembershipTransfer,
    PolicyText,
    Postcode,
)
from webapp.models.member_requests import EmploymentChange
from webapp.models.members import Employment, Member, Position
from webapp.models.organisation import Employer, OrgUnit, Workplace
from webapp.models.outreach import Ballot, CollectiveAgreement
from webapp.models.recruitment import Prize, Recruitment
from webapp.models.refunds import RefundPolicy, RefundPool, RefundRun
from webapp.models.regions import OperatingUnit

_FIELD_LABELS: dict[type, dict] = {
    Member: {
        "member_no": _l("Membership number"),
        "national_id": _l("National identity number"),
        "first_name": _l("First name"),
        "last_name": _l("Last name"),
        "address": _l("Address"),
        "postcode": _l("Postcode"),
        "city": _l("City"),
        "email_work": _l("Work e-mail"),
        "email_private": _l("Private e-mail"),
        "email_to": _l("Send e-mail to"),
        "mobile_work": _l("Work mobile"),
        "mobile_private": _l("Private mobile"),
        "preferred_mobile": _l("Preferred mobile"),
        "magazine": _l("Member magazine"),
        "category": _l("Category"),
        "home_unit": _l("Organisational unit"),
        "joined_on": _l("Date joined"),
        "left_on": _l("Date left"),
        "seniority_on": _l("Seniority from"),
        "travel_insurance": _l("Travel insurance"),
        "contents_insurance": _l("Contents insurance"),
    },
    Employment: {
        "member": _l("Member"),
        "employer": _l("Employer"),
        "workplace": _l("Workplace"),
        "start_date": _l("Start date"),
        "end_date": _l("End date"),
        "position_pct": _l("Percentage of full time"),
        "on_deduction": _l("Payroll deduction"),
    },
    Position: {
        "member": _l("Member"),
        "type": _l("Position"),
        "org_unit": _l("Organisational unit"),
        "workplace": _l("Workplace"),
        "operating_unit": _l("Operating unit"),
        "start_date": _l("Start date"),
        "end_date": _l("End date"),
    },
    OrgUnit: {
        "code": _l("Code"),
        "name": _l("Name"),
        "level": _l("Level"),
        "parent": _l("Parent unit"),
        "bank_account": _l("Account number"),
        "receives_refunds": _l("Receives refunds"),
    },
    Employer: {
        "org_number": _l("Organisation number"),
        "name": _l("Name"),
        "address": _l("Address"),
        "postcode": _l("Postcode"),
        "city": _l("City"),
        "association": _l("Employers' association"),
        "sector": _l("Sector"),
        "has_deduction_agreement": _l("Deduction agreement"),
        "customer_no": _l("Customer number"),
    },
    Workplace: {
        "employer": _l("Employer"),
        "name": _l("Name"),
        "municipality": _l("Municipality"),
        "county": _l("County"),
        "org_unit": _l("Organisational unit"),
        "operating_unit": _l("Operating unit"),
    },
    OperatingUnit: {
        "employer": _l("Employer"),
        "name": _l("Name"),
        "parent": _l("Part of operating unit"),
    },
    DeductionContact: {
        "user": _l("User"),
        "employer": _l("Employer"),
        "phone": _l("Mobile"),
        "start_date": _l("From"),
        "end_date": _l("To"),
    },
    DuesRate: {
        "valid_from": _l("Valid from"),
        "percent": _l("Dues (% of pay)"),
        "monthly_min_ore": _l("Monthly minimum (kr)"),
        "monthly_max_ore": _l("Monthly maximum (kr)"),
        "contents_insurance_ore": _l("Contents insurance (kr)"),
        "travel_insurance_ore": _l("Travel insurance (kr)"),
        "apprentice_flat_ore": _l("Apprentice flat rate (kr)"),
        "note": _l("Note"),
    },
    IncomeBand: {
        "code": _l("Code"),
        "lower_ore": _l("Yearly income from (kr)"),
        "upper_ore": _l("Yearly income up to (kr)"),
        "is_default": _l("Default band"),
    },
    DirectDuesRate: {
        "valid_from": _l("Valid from"),
        "category": _l("Category"),
        "income_band": _l("Income band"),
        "monthly_ore": _l("Monthly dues (kr)"),
        "note": _l("Note"),
    },
    Invoice: {
        "member": _l("Member"), "period": _l("Period"), "kid": _l("KID"), "method": _l("Payment method"),
        "issued_on": _l("Issued"), "due_date": _l("Due date"), "dues_ore": _l("Dues"),
        "contents_insurance_ore": _l("Contents insurance"), "travel_insurance_ore": _l("Travel insurance"),
        "amount_ore": _l("Amount"), "paid_ore": _l("Paid"), "credited_ore": _l("Credited"),
        "written_off_ore": _l("Written off"), "status": _l("Status"), "sent_at": _l("Sent"),
        "delivery": _l("Sent as"), "sent_to": _l("Sent to"), "first_reminder_on": _l("First reminder"),
        "second_reminder_on": _l("Second reminder"),
    },
    InvoiceAdjustment: {
        "invoice": _l("Invoice"), "kind": _l("Kind"), "amount_ore": _l("Amount"), "reason": _l("Reason"),
        "created_at": _l("Date"), "created_by": _l("By"),
    },
    AvtaleGiroMandate: {
        "member": _l("Member"), "kid": _l("KID"), "notify": _l("Notice of each claim"), "active": _l("Active"),
        "registered_at": _l("Registered"), "changed_at": _l("Changed"), "deleted_at": _l("Deleted"),
    },
    Course: {
        "title": _l("Title"),
        "description": _l("Description"),
        "place": _l("Place"),
        "starts_on": _l("Start date"),
        "ends_on": _l("End date"),
        "application_deadline": _l("Application deadline"),
        "capacity": _l("Capacity"),
    },
    CourseApplication: {
        "course": _l("Course"),
        "member": _l("Member"),
        "status": _l("Status"),
        "applied_at": _l("Applied"),
        "withdrawn_at": _l("Withdrawn"),
        "completed_at": _l("Attendance complete"),
        # Given by the member when applying, for the office only (webapp/services/course_lists.py).
        "special_needs": _l("Special needs"),
        "special_needs_given_at": _l("Special needs given by the member"),
    },
    Recruitment: {
        "recruiter": _l("Recruiter"),
        "recruit": _l("Recruit"),
        "recruited_on": _l("Date"),
        "fixed_points": _l("Points of a collected entry"),
        "note": _l("Note"),
        "registered_at": _l("Registered"),
    },
    Prize: {"name": _l("Name"), "description": _l("Description"), "points": _l("Points"), "active": _l("In the shop")},
    MemberDocument: {
        "member": _l("Member"), "kind": _l("Kind"), "title": _l("Title"), "created_at": _l("Date"),
        "body": _l("Text"), "amount_ore": _l("Amount"), "due_date": _l("Due date"), "pdf": _l("PDF file"),
    },
    EmploymentChange: {
        "member": _l("Member"), "employer": _l("Employer"), "workplace": _l("Workplace"),
        "start_date": _l("Start date"),
        "position_pct": _l("Percentage of full time"), "employment": _l("Replaces"), "comment": _l("Comment"),
        "status": _l("Status"), "reported_at": _l("Reported"), "decided_at": _l("Dealt with"),
    },
    RefundPolicy: {
        "valid_from": _l("Valid from (quarter)"),
        "pool_ore": _l("Fixed pool (kr)"),
        "pool_percent": _l("Share of dues paid (%)"),
        "share_national_association": _l("Share of national associations (%)"),
        "share_branch": _l("Share of branches (%)"),
        "share_club": _l("Share of clubs (%)"),
        "weight_ordinary": _l("Weight, ordinary"),
        "weight_apprentice": _l("Weight, apprentice"),
        "weight_student": _l("Weight, student"),
        "weight_retired": _l("Weight, retired"),
        "weight_unemployed": _l("Weight, unemployed"),
        "note": _l("Note"),
    },
    RefundPool: {"quarter": _l("Quarter"), "pool_ore": _l("Pool (kr)"), "note": _l("Note")},
    RefundRun: {"quarter": _l("Quarter")},
    LoUnion: {"code": _l("Code"), "name": _l("Name"), "org_number": _l("Organisation number"),
              "email": _l("E-mail"), "active": _l("Active")},
    Postcode: {"code": _l("Postcode"), "place": _l("Place"), "municipality": _l("Municipality"),
               "county": _l("County")},
    HomeUnitRule: {"kind": _l("Applies to"), "employer": _l("Employer"), "county": _l("County"),
                   "org_unit": _l("Home unit")},
    PolicyText: {"kind": _l("Kind"), "version": _l("Version"), "published_on": _l("Published on"),
                 "title": _l("Title"), "body": _l("Text")},
    MembershipApplication: {
        "submitted_at": _l("Received"), "first_name": _l("First name"), "last_name": _l("Last name"),
        "national_id": _l("National identity number"), "address": _l("Address"), "postcode": _l("Postcode"),
        "city": _l("City"), "email": _l("E-mail"), "mobile": _l("Mobile"), "work_situation": _l("Work situation"),
        "employer_id": _l("Employer"), "workplace_id": _l("Workplace"), "employer_text": _l("Employer as typed"),
        "position_pct": _l("Percentage of full time"), "category": _l("Category"),
        "travel_insurance": _l("Travel insurance"), "magazine": _l("Member magazine"),
        "from_lo_union_id": _l("From LO union"), "from_union_since": _l("Member there since"),
        "terms_id": _l("Membership terms"), "privacy_id": _l("Privacy statement"),
        "existing_member_id": _l("Member with the same national identity number"), "decided_at": _l("Decided"),
        "reject_reason": _l("Reason for the rejection"),
    },
    MembershipTransfer: {
        "direction": _l("Direction"), "lo_union_id": _l("LO union"), "transfer_on": _l("Date"),
        "other_union_since": _l("Member of the other union since"), "reference": _l("Reference"),
        "application_id": _l("Application"), "registered_at": _l("Registered"),
    },
    CollectiveAgreement: {
        "name": _l("Name"), "counterpart_association": _l("Counterpart association"),
        "counterpart_employer": _l("Counterpart employer"), "valid_from": _l("Valid from"),
        "valid_to": _l("Valid to"), "employers": _l("Employers covered"), "note": _l("Note"),
    },
    Ballot: {
        "agreement": _l("Collective agreement"), "title": _l("Title"), "cutoff_date": _l("Cut-off date"),
        "closes_on": _l("Closes on"), "status": _l("Status"), "locked_at": _l("Locked"), "locked_by": _l("Locked by"),
        "voter_count": _l("Voters"), "voters_deleted_at": _l("Voter list deleted"), "created_at": _l("Created"),
    },
}

# What a reference to a row of these models is called, where a unique reference (a member's login, a
# certificate's course application) is named in a message.
_ROW_NAMES: dict[type, object] = {User: _l("User"), CourseApplication: _l("Course application")}


def labels_for(model: type) -> dict:
    """The model's labels, as a dict of its own: FAB adds the labels of unlabelled columns to a view's
    `label_columns` in place, which must not reach the shared table."""
    return dict(_FIELD_LABELS.get(model, {}))


def field_label(model: type, name: str):
    """The label of a field, or of the relation a foreign key column belongs to; else the name itself."""
    labels = _FIELD_LABELS.get(model, {})
    if name in labels:
        return labels[name]
    for relationship in model.__mapper__.relationships:
        if any(column.key == name for column in relationship.local_columns):
            return labels.get(relationship.key) or _ROW_NAMES.get(relationship.mapper.class_, name)
    return name
