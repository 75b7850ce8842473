"""Screens and APIs for members, employments and positions."""

from flask_babel import lazy_gettext as _l

from webapp.models import Employment, Member, Position
from webapp.security.privacy import mask_national_id, national_id_for
from webapp.security.roles import FULL_NATIONAL_ID_ROLES
from webapp.security.scope import get_scope
from webapp.views.base import ScopedInterface, ScopedModelRestApi, ScopedModelView, typeahead_field

MEMBER_LABELS = {
    "member_no": _l("Medlemsnummer"),
    "national_id": _l("Fødselsnummer"),
    "first_name": _l("Fornavn"),
    "last_name": _l("Etternavn"),
    "address": _l("Adresse"),
    "postcode": _l("Postnummer"),
    "city": _l("Poststed"),
    "email_work": _l("E-post arbeid"),
    "email_private": _l("E-post privat"),
    "email_to": _l("E-post sendes til"),
    "mobile_work": _l("Mobil arbeid"),
    "mobile_private": _l("Mobil privat"),
    "preferred_mobile": _l("Foretrukket mobil"),
    "magazine": _l("Medlemsblad"),
    "category": _l("Kategori"),
    "home_unit": _l("Organisasjonsledd"),
    "joined_on": _l("Innmeldt"),
    "left_on": _l("Utmeldt"),
    "travel_insurance": _l("Reiseforsikring"),
    "contents_insurance": _l("Innboforsikring"),
}
MEMBER_EDIT_COLUMNS = [name for name in MEMBER_LABELS]

EMPLOYMENT_LABELS = {
    "member": _l("Medlem"),
    "employer": _l("Virksomhet"),
    "workplace": _l("Arbeidssted"),
    "start_date": _l("Startdato"),
    "end_date": _l("Sluttdato"),
    "position_pct": _l("Stillingsprosent"),
    "on_deduction": _l("Trekk via lønn"),
}
POSITION_LABELS = {
    "member": _l("Medlem"),
    "type": _l("Verv"),
    "org_unit": _l("Organisasjonsledd"),
    "workplace": _l("Arbeidssted"),
    "start_date": _l("Startdato"),
    "end_date": _l("Sluttdato"),
}

CONFIDENTIALITY_NOTICE = _l(
    "Taushetsplikt: Medlemslisten inneholder opplysninger om fagforeningsmedlemskap. "
    "Tillitsvalgte har taushetsplikt og skal bare bruke opplysningene i tillitsvervet."
)


def _national_id_column(value):
    """In the browser one role is active and every listed row is inside it."""
    scope = get_scope()
    return value if scope.has_role(*FULL_NATIONAL_ID_ROLES) else mask_national_id(value)


class MemberView(ScopedModelView):
    datamodel = ScopedInterface(Member, eager=("home_unit",))
    list_title = show_title = _l("Medlemmer")
    add_title = _l("Nytt medlem")
    edit_title = _l("Endre medlem")
    list_template = "members/list.html"
    show_template = "members/show.html"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    label_columns = MEMBER_LABELS
    list_columns = ["member_no", "last_name", "first_name", "national_id", "category", "home_unit", "joined_on", "left_on"]
    show_columns = MEMBER_EDIT_COLUMNS
    add_columns = edit_columns = MEMBER_EDIT_COLUMNS
    search_columns = ["member_no", "last_name", "first_name", "home_unit", "category", "city", "joined_on", "left_on"]
    order_columns = ["member_no", "last_name", "first_name", "joined_on", "left_on"]
    base_order = ("last_name", "asc")
    formatters_columns = {"national_id": _national_id_column}
    extra_args = {"confidentiality_notice": CONFIDENTIALITY_NOTICE}


class EmploymentView(ScopedModelView):
    datamodel = ScopedInterface(Employment, eager=("member", "employer", "workplace"))
    list_title = show_title = _l("Arbeidsforhold")
    add_title = _l("Nytt arbeidsforhold")
    edit_title = _l("Endre arbeidsforhold")
    label_columns = EMPLOYMENT_LABELS
    list_columns = ["member", "employer", "workplace", "start_date", "end_date", "position_pct", "on_deduction"]
    show_columns = list(EMPLOYMENT_LABELS)
    add_columns = edit_columns = ["member", "workplace", "start_date", "end_date", "position_pct", "on_deduction"]
    search_columns = ["start_date", "end_date", "on_deduction"]
    base_order = ("start_date", "desc")
    add_form_extra_fields = edit_form_extra_fields = {
        "member": typeahead_field(_l("Medlem"), datamodel, "member", "member"),
        "workplace": typeahead_field(_l("Arbeidssted"), datamodel, "workplace", "workplace"),
    }


class PositionView(ScopedModelView):
    datamodel = ScopedInterface(Position, eager=("member", "org_unit", "workplace"))
    list_title = show_title = _l("Verv")
    add_title = _l("Nytt verv")
    edit_title = _l("Endre verv")
    label_columns = POSITION_LABELS
    list_columns = ["member", "type", "org_unit", "workplace", "start_date", "end_date"]
    show_columns = add_columns = edit_columns = list(POSITION_LABELS)
    search_columns = ["type", "org_unit", "start_date", "end_date"]
    base_order = ("start_date", "desc")
    add_form_extra_fields = edit_form_extra_fields = {
        "member": typeahead_field(_l("Medlem"), datamodel, "member", "member"),
        "workplace": typeahead_field(_l("Arbeidssted"), datamodel, "workplace", "workplace", required=False),
    }


MEMBER_API_COLUMNS = ["id", "member_no", "national_id"] + [c for c in MEMBER_EDIT_COLUMNS if c not in ("member_no", "national_id", "home_unit")] + ["home_unit_id"]


class MemberApi(ScopedModelRestApi):
    resource_name = "member"
    datamodel = ScopedInterface(Member)
    list_columns = ["id", "member_no", "national_id", "first_name", "last_name", "category", "home_unit_id", "joined_on", "left_on"]
    show_columns = MEMBER_API_COLUMNS
    add_columns = edit_columns = MEMBER_EDIT_COLUMNS
    search_columns = ["member_no", "first_name", "last_name", "home_unit", "category", "joined_on", "left_on"]
    order_columns = ["member_no", "last_name", "first_name", "joined_on"]

    def _mask(self, row: dict) -> None:
        if "national_id" in row:
            row["national_id"] = national_id_for(row["national_id"], row.get("home_unit_id"), get_scope())

    def pre_get(self, data):
        self._mask(data["result"])

    def pre_get_list(self, data):
        for row in data["result"]:
            self._mask(row)


class EmploymentApi(ScopedModelRestApi):
    resource_name = "employment"
    datamodel = ScopedInterface(Employment)
    list_columns = show_columns = [
        "id", "member_id", "employer_id", "workplace_id", "start_date", "end_date", "position_pct", "on_deduction",
    ]
    add_columns = edit_columns = list(EMPLOYMENT_LABELS)
    search_columns = ["member", "employer", "workplace", "start_date", "end_date", "on_deduction"]
    order_columns = ["start_date", "end_date"]


class PositionApi(ScopedModelRestApi):
    resource_name = "position"
    datamodel = ScopedInterface(Position)
    list_columns = show_columns = ["id", "member_id", "type", "org_unit_id", "workplace_id", "start_date", "end_date"]
    add_columns = edit_columns = list(POSITION_LABELS)
    search_columns = ["member", "type", "org_unit", "workplace", "start_date", "end_date"]
    order_columns = ["start_date", "end_date", "type"]
