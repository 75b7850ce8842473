"""Screens and APIs for org units, employers and workplaces."""

from flask_babel import lazy_gettext as _l

from webapp.models import Employer, OrgUnit, Workplace
from webapp.models.labels import labels_for
from webapp.views.form_fields import typeahead_field
from webapp.views.scoped_api import ScopedModelRestApi
from webapp.views.scoped_interface import ScopedInterface
from webapp.views.scoped_views import ScopedModelView

ORG_UNIT_LABELS = labels_for(OrgUnit)
ORG_UNIT_COLUMNS = ["code", "name", "level", "parent", "bank_account", "receives_refunds"]

EMPLOYER_LABELS = labels_for(Employer)
EMPLOYER_COLUMNS = list(EMPLOYER_LABELS)

WORKPLACE_LABELS = labels_for(Workplace)
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
