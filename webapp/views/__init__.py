"""Registers every screen and API with AppBuilder, with menu names and labels."""

from flask_babel import lazy_gettext as _l

from webapp.views.contacts import DeductionContactView
from webapp.views.members import EmploymentApi, EmploymentView, MemberApi, MemberView, PositionApi, PositionView
from webapp.views.organisation import EmployerApi, EmployerView, OrgUnitApi, OrgUnitView, WorkplaceApi, WorkplaceView
from webapp.views.pages import ActingRoleView, MyPageView, PortalView, StatisticsView, UnitPageView
from webapp.views.typeahead import TypeaheadView

REGISTER = ("Register", _l("Register"))


def register_views(appbuilder) -> None:
    category, category_label = REGISTER
    menu = [
        (MemberView, "Members", _l("Medlemmer"), "fa-users"),
        (EmploymentView, "Employments", _l("Arbeidsforhold"), "fa-briefcase"),
        (PositionView, "Positions", _l("Verv"), "fa-id-badge"),
        (OrgUnitView, "OrgUnits", _l("Organisasjonsledd"), "fa-sitemap"),
        (EmployerView, "Employers", _l("Virksomheter"), "fa-building"),
        (WorkplaceView, "Workplaces", _l("Arbeidssteder"), "fa-map-marker"),
        (DeductionContactView, "DeductionContacts", _l("Trekkontakter"), "fa-address-book"),
    ]
    for view, name, label, icon in menu:
        appbuilder.add_view(view, name, label=label, icon=icon, category=category, category_label=category_label)
    appbuilder.add_view(StatisticsView, "Statistics", label=_l("Statistikk"), icon="fa-bar-chart")
    for view in (ActingRoleView, UnitPageView, PortalView, MyPageView, TypeaheadView):
        appbuilder.add_view_no_menu(view)
    for api in (OrgUnitApi, EmployerApi, WorkplaceApi, MemberApi, EmploymentApi, PositionApi):
        appbuilder.add_api(api)
