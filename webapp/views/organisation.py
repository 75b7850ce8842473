"""Screens and APIs for org units, employers and workplaces."""

from flask_babel import lazy_gettext as _l

from webapp.models import Employer, OrgUnit, Workplace
from webapp.views.base import ScopedInterface, ScopedModelRestApi, ScopedModelView, typeahead_field

ORG_UNIT_LABELS = {
    "code": _l("Code"),
    "name": _l("Name"),
    "level": _l("Level"),
    "parent": _l("Parent unit"),
    "bank_account": _l("Account number"),
    "receives_refunds": _l("Receives refunds"),
}
ORG_UNIT_COLUMNS = ["code", "name", "level", "parent", "bank_account", "receives_refunds"]

EMPLOYER_LABELS = {
    "org_number": _l("Organisation number"),
    "name": _l("Name"),
    "address": _l("Address"),
    "postcode": _l("Postcode"),
    "city": _l("City"),
    "association": _l("Employers' association"),
    "sector": _l("Sector"),
    "has_deduction_agreement": _l("Deduction agreement"),
    "customer_no": _l("Customer number"),
}
EMPLOYER_COLUMNS = list(EMPLOYER_LABELS)

WORKPLACE_LABELS = {
    "employer": _l("Employer"),
    "name": _l("Name"),
    "municipality": _l("Municipality"),
    "county": _l("County"),
    "org_unit": _l("Organisational unit"),
}
WORKPLACE_COLUMNS = list(WORKPLACE_LABELS)


class OrgUnitView(ScopedModelView):
    datamodel = ScopedInterface(OrgUnit, eager=("parent",))
    list_title = show_title = _l("Organisational units")
    add_title = _l("New organisational unit")
    edit_title = _l("Edit organisational unit")
    label_columns = ORG_UNIT_LABELS
    list_columns = ["code", "name", "level", "parent", "receives_refunds"]
    show_columns = add_columns = edit_columns = ORG_UNIT_COLUMNS
    search_columns = ["code", "name", "level"]
    base_order = ("code", "asc")


class EmployerView(ScopedModelView):
    datamodel = ScopedInterface(Employer)
    list_title = show_title = _l("Employers")
    add_title = _l("New employer")
    edit_title = _l("Edit employer")
    label_columns = EMPLOYER_LABELS
    list_columns = ["name", "org_number", "association", "sector", "has_deduction_agreement", "customer_no"]
    show_columns = add_columns = edit_columns = EMPLOYER_COLUMNS
    search_columns = ["name", "org_number", "customer_no", "association", "sector", "has_deduction_agreement"]
    base_order = ("name", "asc")


class WorkplaceView(ScopedModelView):
    datamodel = ScopedInterface(Workplace, eager=("employer", "org_unit"))
    list_title = show_title = _l("Workplaces")
    add_title = _l("New workplace")
    edit_title = _l("Edit workplace")
    label_columns = WORKPLACE_LABELS
    list_columns = ["name", "employer", "municipality", "county", "org_unit"]
    show_columns = add_columns = edit_columns = WORKPLACE_COLUMNS
    search_columns = ["name", "municipality", "county", "org_unit"]
    base_order = ("name", "asc")
    add_form_extra_fields = edit_form_extra_fields = {
        "employer": typeahead_field(_l("Employer"), datamodel, "employer", "employer"),
    }


class OrgUnitApi(ScopedModelRestApi):
    resource_name = "org_unit"
    datamodel = ScopedInterface(OrgUnit)
    list_columns = ["id", "code", "name", "level", "parent_id", "receives_refunds"]
    show_columns = ["id", "code", "name", "level", "parent_id", "bank_account", "receives_refunds"]
    add_columns = edit_columns = ORG_UNIT_COLUMNS
    search_columns = ["code", "name", "level", "parent"]
    order_columns = ["code", "name"]


class EmployerApi(ScopedModelRestApi):
    resource_name = "employer"
    datamodel = ScopedInterface(Employer)
    list_columns = show_columns = ["id"] + EMPLOYER_COLUMNS
    add_columns = edit_columns = EMPLOYER_COLUMNS
    search_columns = ["name", "org_number", "customer_no", "association", "sector"]
    order_columns = ["name", "org_number"]


class WorkplaceApi(ScopedModelRestApi):
    resource_name = "workplace"
    datamodel = ScopedInterface(Workplace)
    list_columns = show_columns = ["id", "employer_id", "name", "municipality", "county", "org_unit_id"]
    add_columns = edit_columns = WORKPLACE_COLUMNS
    search_columns = ["name", "county", "employer", "org_unit"]
    order_columns = ["name"]
