"""Registers every screen and API with AppBuilder, with menu names and labels."""

from flask_babel import lazy_gettext as _l

from webapp.views.contacts import DeductionContactView
from webapp.views.members import EmploymentApi, EmploymentView, MemberApi, MemberView, PositionApi, PositionView
from webapp.views.organisation import EmployerApi, EmployerView, OrgUnitApi, OrgUnitView, WorkplaceApi, WorkplaceView
from webapp.views.accounts import AccessRequestFormView, PasswordView
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
from webapp.views.pages import ActingRoleView, MyPageView, StatisticsView, UnitPageView
from webapp.views.portal import PortalView
from webapp.views.typeahead import TypeaheadView

REGISTER = ("Register", _l("Register"))
DEDUCTIONS = ("Deductions", _l("Deductions"))


def register_views(appbuilder) -> None:
    category, category_label = REGISTER
    menu = [
        (MemberView, "Members", _l("Members"), "fa-users"),
        (EmploymentView, "Employments", _l("Employments"), "fa-briefcase"),
        (PositionView, "Positions", _l("Positions"), "fa-id-badge"),
        (OrgUnitView, "OrgUnits", _l("Organisational units"), "fa-sitemap"),
        (EmployerView, "Employers", _l("Employers"), "fa-building"),
        (WorkplaceView, "Workplaces", _l("Workplaces"), "fa-map-marker"),
        (DeductionContactView, "DeductionContacts", _l("Deduction contacts"), "fa-address-book"),
    ]
    for view, name, label, icon in menu:
        appbuilder.add_view(view, name, label=label, icon=icon, category=category, category_label=category_label)
    category, category_label = DEDUCTIONS
    deductions_menu = [
        (DeductionMonthView, "DeductionMonths", _l("Reconciliation"), "fa-balance-scale"),
        (DeductionListView, "DeductionLists", _l("Deduction lists"), "fa-list"),
        (PaymentView, "Payments", _l("Payments"), "fa-money"),
        (PaymentImportView, "PaymentImports", _l("Payment files"), "fa-file"),
        (DeductionNoticeView, "DeductionNotices", _l("Notices sent"), "fa-envelope"),
        (AccessRequestView, "AccessRequests", _l("Access requests"), "fa-user-plus"),
        (DuesRateView, "DuesRates", _l("Dues rates"), "fa-percent"),
    ]
    for view, name, label, icon in deductions_menu:
        appbuilder.add_view(view, name, label=label, icon=icon, category=category, category_label=category_label)
    appbuilder.add_view(StatisticsView, "Statistics", label=_l("Statistics"), icon="fa-bar-chart")
    for view in (ActingRoleView, UnitPageView, PortalView, MyPageView, TypeaheadView, PasswordView, AccessRequestFormView):
        appbuilder.add_view_no_menu(view)
    apis = (OrgUnitApi, EmployerApi, WorkplaceApi, MemberApi, EmploymentApi, PositionApi, DeductionMonthApi,
            DeductionListApi, PaymentApi)
    for api in apis:
        appbuilder.add_api(api)
