"""Screens and APIs for org units, employers, their regions and operating units, and workplaces."""

from flask import request
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from webapp.models import Employer, OperatingUnit, OrgUnit, Workplace
from webapp.models.labels import labels_for
from webapp.services.regions import deletion_refusal
from webapp.services.validation import operating_unit_tree_problems
from webapp.views.form_fields import TypeaheadWidget, typeahead_field
from webapp.views.form_rules import form_error
from webapp.views.scoped_api import ScopedModelRestApi
from webapp.views.scoped_interface import ScopedInterface
from webapp.views.scoped_views import ScopedModelView

ORG_UNIT_LABELS = labels_for(OrgUnit)
ORG_UNIT_COLUMNS = ["code", "name", "level", "parent", "bank_account", "receives_refunds"]

EMPLOYER_LABELS = labels_for(Employer)
EMPLOYER_COLUMNS = list(EMPLOYER_LABELS)

WORKPLACE_LABELS = labels_for(Workplace)
WORKPLACE_COLUMNS = list(WORKPLACE_LABELS)

OPERATING_UNIT_LABELS = labels_for(OperatingUnit)
OPERATING_UNIT_COLUMNS = ["employer", "parent", "name"]


class EmployerTypeaheadWidget(TypeaheadWidget):
    """A type-ahead box that searches within the employer chosen in the form's employer field."""

    def __call__(self, field, **kwargs):
        html = str(super().__call__(field, **kwargs))
        return Markup(html.replace("<select ", '<select data-employer-field="employer" ', 1))


def operating_unit_field(label, datamodel, col_name: str):
    field = typeahead_field(label, datamodel, col_name, "operating_unit", required=False)
    field.kwargs["widget"] = EmployerTypeaheadWidget("operating_unit")
    return field


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
        "operating_unit": operating_unit_field(_l("Operating unit"), datamodel, "operating_unit"),
    }


def _edited_id() -> int | None:
    """The id of the row an edit form is for (None when adding)."""
    pk = (request.view_args or {}).get("pk")
    return int(pk) if pk is not None and str(pk).isdigit() else None


class RegionTreeValidator:
    """The tree rule of operating units (webapp.services.validation) as the error of one form field."""

    def __init__(self, field_name: str):
        self.field_name = field_name

    def __call__(self, form, field):
        employer, parent = form["employer"].data, form["parent"].data
        problems = operating_unit_tree_problems(_edited_id(), getattr(employer, "id", None),
                                                getattr(parent, "id", None))
        if problems.get(self.field_name):
            raise form_error(problems[self.field_name][0])


class OperatingUnitView(ScopedModelView):
    """The office's screen of an employer's regions and operating units: a tree of any depth."""

    datamodel = ScopedInterface(OperatingUnit, eager=("employer", "parent"))
    list_title = show_title = _l("Operating units")
    add_title = _l("New operating unit")
    edit_title = _l("Edit operating unit")
    label_columns = OPERATING_UNIT_LABELS
    description_columns = {
        "parent": _l("Leave empty for a region at the top of the employer. Positions held for an operating unit "
                     "reach every workplace in it and in the operating units below it."),
    }
    list_columns = ["name", "employer", "parent"]
    show_columns = add_columns = edit_columns = OPERATING_UNIT_COLUMNS
    search_columns = ["name"]
    order_columns = ["name"]
    base_order = ("name", "asc")
    validators_columns = {"parent": [RegionTreeValidator("parent")], "employer": [RegionTreeValidator("employer")]}
    add_form_extra_fields = edit_form_extra_fields = {
        "employer": typeahead_field(_l("Employer"), datamodel, "employer", "employer"),
        "parent": operating_unit_field(_l("Part of operating unit"), datamodel, "parent"),
    }

    def pre_delete(self, item):
        refusal = deletion_refusal(item.id)
        if refusal:
            raise ValueError(refusal)
        super().pre_delete(item)


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
    list_columns = show_columns = ["id", "employer_id", "name", "municipality", "county", "org_unit_id",
                                   "operating_unit_id"]
    add_columns = edit_columns = WORKPLACE_COLUMNS
    search_columns = ["name", "county", "employer", "org_unit"]
    order_columns = ["name"]


class OperatingUnitApi(ScopedModelRestApi):
    resource_name = "operating_unit"
    datamodel = ScopedInterface(OperatingUnit)
    list_columns = show_columns = ["id", "employer_id", "parent_id", "name"]
    add_columns = edit_columns = OPERATING_UNIT_COLUMNS
    search_columns = ["name", "employer", "parent"]
    order_columns = ["name"]

    def delete_headless(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        refusal = deletion_refusal(item.id) if item is not None else None
        if refusal:
            return self.response_422(message={"operating_unit": [refusal]})
        return super().delete_headless(pk)
