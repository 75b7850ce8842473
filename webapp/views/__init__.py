"""Registers every screen and API with AppBuilder, with menu names and labels."""

from flask import current_app
from flask_babel import lazy_gettext as _l

from webapp.views.accounts import AccessRequestFormView, PasswordView
from webapp.views.agreements import AgreementView, BallotView
from webapp.views.applications import ApplicationView
from webapp.views.billing import (
    ArrearsView,
    DirectDuesRateView,
    IncomeBandView,
    InvoiceApi,
    InvoiceView,
    MandateView,
    member_billing,
)
from webapp.views.contacts import DeductionContactView
from webapp.views.deductions import (
    AccessRequestView,
    DeductionListApi,
    DeductionListView,
    DeductionMonthApi,
    DeductionMonthView,
    DeductionNoticeView,
    DuesRateView,
    PaymentApi,
    PaymentImportView,
    PaymentView,
)
from webapp.views.enrollment import EnrollmentView
from webapp.views.guide import GuideView
from webapp.views.imports import FileImportView, InvoiceRunView
from webapp.views.jobs import JobView
from webapp.views.lifecycle_data import HomeUnitRuleView, LoUnionView, PolicyTextView, PostcodeView
from webapp.views.member_services import (
    CourseApplicationView,
    CourseView,
    EmploymentChangeView,
    MemberDocumentView,
    PrizeOrderView,
    PrizeView,
    RecruitmentView,
)
from webapp.views.members import EmploymentApi, EmploymentView, MemberApi, MemberView, PositionApi, PositionView
from webapp.views.messages import MessagesView, latest_threads
from webapp.views.mypage import MyPageView
from webapp.views.operations import OperationsView
from webapp.views.organisation import (
    EmployerApi,
    EmployerView,
    OperatingUnitApi,
    OperatingUnitView,
    OrgUnitApi,
    OrgUnitView,
    WorkplaceApi,
    WorkplaceView,
)
from webapp.views.pages import ActingRoleView, StatisticsView, UnitPageView
from webapp.views.password_reset import ForgotPasswordView
from webapp.views.payments_queue import PaymentQueueView
from webapp.views.portal import PortalView
from webapp.views.privacy import AuditLogView, ConfidentialityView
from webapp.views.refunds import RefundApi, RefundDocumentView, RefundPolicyView, RefundPoolView, RefundRunView
from webapp.views.reports import MembershipReportView, ReportDispatchView
from webapp.views.sendouts import SegmentView, SendOutView, UnsubscribeView, member_sendouts, my_sendouts
from webapp.views.subject_access import SubjectAccessView
from webapp.views.transfers import TransferView, member_leaving
from webapp.views.typeahead import TypeaheadView

REGISTER = ("Register", _l("Register"))
DEDUCTIONS = ("Deductions", _l("Deductions"))
DIRECT_PAYMENT = ("DirectPayment", _l("Direct payment"))
REFUNDS = ("Refunds", _l("Refunds"))
REPORTS = ("Reports", _l("Reports"))
MEMBERSHIP = ("Membership", _l("Membership"))


def register_views(appbuilder) -> None:
    category, category_label = REGISTER
    menu = [
        (MemberView, "Members", _l("Members"), "fa-users"),
        (EmploymentView, "Employments", _l("Employments"), "fa-briefcase"),
        (PositionView, "Positions", _l("Positions"), "fa-id-badge"),
        (OrgUnitView, "OrgUnits", _l("Organisational units"), "fa-sitemap"),
        (EmployerView, "Employers", _l("Employers"), "fa-building"),
        (WorkplaceView, "Workplaces", _l("Workplaces"), "fa-map-marker"),
        (OperatingUnitView, "OperatingUnits", _l("Operating units"), "fa-object-group"),
        (DeductionContactView, "DeductionContacts", _l("Deduction contacts"), "fa-address-book"),
        (LoUnionView, "LoUnions", _l("LO unions"), "fa-handshake-o"),
        (HomeUnitRuleView, "HomeUnitRules", _l("Home-unit rules"), "fa-random"),
        (PostcodeView, "Postcodes", _l("Postcodes"), "fa-envelope-o"),
        (PolicyTextView, "PolicyTexts", _l("Terms and privacy texts"), "fa-file-text-o"),
        (AgreementView, "Agreements", _l("Collective agreements"), "fa-handshake-o"),
    ]
    for view, name, label, icon in menu:
        appbuilder.add_view(view, name, label=label, icon=icon, category=category, category_label=category_label)
    category, category_label = MEMBERSHIP
    appbuilder.add_view(ApplicationView, "Applications", label=_l("Applications"), icon="fa-user-plus",
                        category=category, category_label=category_label)
    appbuilder.add_view(TransferView, "Transfers", label=_l("Transfers"), icon="fa-exchange",
                        category=category, category_label=category_label)
    appbuilder.add_view(BallotView, "Ballots", label=_l("Ballots"), icon="fa-check-square",
                        category=category, category_label=category_label)
    current_app.jinja_env.globals["member_leaving"] = member_leaving
    category, category_label = DEDUCTIONS
    deductions_menu = [
        (DeductionMonthView, "DeductionMonths", _l("Reconciliation"), "fa-balance-scale"),
        (DeductionListView, "DeductionLists", _l("Deduction lists"), "fa-list"),
        (PaymentView, "Payments", _l("Payments"), "fa-money"),
        (PaymentImportView, "PaymentImports", _l("Payment files"), "fa-file"),
        (FileImportView, "FileImports", _l("File imports"), "fa-upload"),
        (DeductionNoticeView, "DeductionNotices", _l("Notices sent"), "fa-envelope"),
        (AccessRequestView, "AccessRequests", _l("Access requests"), "fa-user-plus"),
        (DuesRateView, "DuesRates", _l("Dues rates"), "fa-percent"),
    ]
    for view, name, label, icon in deductions_menu:
        appbuilder.add_view(view, name, label=label, icon=icon, category=category, category_label=category_label)
    category, category_label = DIRECT_PAYMENT
    direct_payment_menu = [
        (InvoiceView, "Invoices", _l("Invoices"), "fa-file-text-o"),
        (InvoiceRunView, "InvoiceRuns", _l("Invoice runs"), "fa-paper-plane-o"),
        (PaymentQueueView, "UnmatchedPayments", _l("Unmatched payments"), "fa-question-circle"),
        (MandateView, "AvtaleGiroMandates", _l("AvtaleGiro mandates"), "fa-handshake-o"),
        (ArrearsView, "Arrears", _l("Arrears"), "fa-exclamation-triangle"),
        (DirectDuesRateView, "DirectDuesRates", _l("Direct dues rates"), "fa-percent"),
        (IncomeBandView, "IncomeBands", _l("Income bands"), "fa-bars"),
    ]
    for view, name, label, icon in direct_payment_menu:
        appbuilder.add_view(view, name, label=label, icon=icon, category=category, category_label=category_label)
    current_app.jinja_env.globals["member_billing"] = member_billing
    category, category_label = REFUNDS
    refunds_menu = [
        (RefundRunView, "RefundRuns", _l("Quarterly refunds"), "fa-undo"),
        (RefundPolicyView, "RefundPolicies", _l("Refund policy"), "fa-sliders"),
        (RefundPoolView, "RefundPools", _l("Refund pools"), "fa-database"),
    ]
    for view, name, label, icon in refunds_menu:
        appbuilder.add_view(view, name, label=label, icon=icon, category=category, category_label=category_label)
    appbuilder.add_view_no_menu(RefundDocumentView)
    appbuilder.add_api(RefundApi)
    # Membership holds the life cycle (applications, transfers) and the services to members: one menu for both,
    # so the office's top bar stays on one line.
    category, category_label = MEMBERSHIP
    member_services_menu = [
        (EmploymentChangeView, "EmploymentChanges", _l("Reported employment changes"), "fa-exchange"),
        (CourseView, "Courses", _l("Courses"), "fa-graduation-cap"),
        (CourseApplicationView, "CourseApplications", _l("Course applications"), "fa-check-square-o"),
        (RecruitmentView, "Recruitments", _l("Recruitments"), "fa-user-plus"),
        (PrizeView, "Prizes", _l("Recruitment prizes"), "fa-gift"),
        (PrizeOrderView, "PrizeOrders", _l("Prize orders"), "fa-shopping-cart"),
        (MemberDocumentView, "MemberDocuments", _l("Member documents"), "fa-file-text"),
    ]
    for view, name, label, icon in member_services_menu:
        appbuilder.add_view(view, name, label=label, icon=icon, category=category, category_label=category_label)
    # Targeted send-outs (office; a unit's leader for their units) and the public page of their unsubscribe link.
    for view, name, label, icon in ((SendOutView, "SendOuts", _l("Send-outs"), "fa-paper-plane"),
                                    (SegmentView, "Segments", _l("Segments"), "fa-filter")):
        appbuilder.add_view(view, name, label=label, icon=icon, category=category, category_label=category_label)
    # Background jobs (webapp/jobs.py), the send-outs' among them: everyone sees the jobs they started, the office
    # all of them. In Membership beside the send-outs, so the office's top bar stays on one line.
    appbuilder.add_view(JobView, "Jobs", label=_l("Jobs"), icon="fa-tasks", category=category,
                        category_label=category_label)
    # The office starts the monthly and nightly runs by hand here (webapp/views/operations.py), beside the jobs.
    appbuilder.add_view(OperationsView, "Runs", label=_l("Runs"), icon="fa-play-circle", category=category,
                        category_label=category_label)
    appbuilder.add_view_no_menu(UnsubscribeView)
    current_app.jinja_env.globals["member_sendouts"] = member_sendouts
    current_app.jinja_env.globals["my_sendouts"] = my_sendouts
    appbuilder.add_view(AuditLogView, "AuditLog", label=_l("Audit log"), icon="fa-history", category="Security")
    appbuilder.add_view(StatisticsView, "Statistics", label=_l("Statistics"), icon="fa-bar-chart")
    category, category_label = REPORTS
    for view, name, label, icon in (
        (MembershipReportView, "MembershipReports", _l("Membership reports"), "fa-file-excel-o"),
        (ReportDispatchView, "ReportDispatches", _l("Reports sent"), "fa-paper-plane"),
    ):
        appbuilder.add_view(view, name, label=label, icon=icon, category=category, category_label=category_label)
    appbuilder.add_view(MessagesView, "Messages", label=_l("Messages"), icon="fa-envelope")
    current_app.jinja_env.globals["latest_threads"] = latest_threads
    for view in (ActingRoleView, UnitPageView, PortalView, MyPageView, TypeaheadView, PasswordView,
                 AccessRequestFormView, ForgotPasswordView, ConfidentialityView, SubjectAccessView, GuideView,
                 EnrollmentView):
        appbuilder.add_view_no_menu(view)
    # Every role's menu: the guide of the role acted in (roles.py grants the menu item to all of them).
    appbuilder.add_link("UserGuide", href="/guide/mine", label=_l("Help"), icon="fa-question-circle")
    apis = (OrgUnitApi, EmployerApi, WorkplaceApi, MemberApi, EmploymentApi, PositionApi, DeductionMonthApi,
            DeductionListApi, PaymentApi, InvoiceApi, OperatingUnitApi)
    for api in apis:
        appbuilder.add_api(api)
