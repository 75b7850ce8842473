"""Screens and APIs for members, employments and positions."""

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import inspect

from webapp.extensions import db
from webapp.models import Employment, Member, OrgUnit, Position
from webapp.models.labels import labels_for
from webapp.security.position_grants import PositionTarget, change_refusal, grant_refusal
from webapp.security.privacy import national_id_for, national_id_on_screen
from webapp.security.rowfilters import is_visible
from webapp.security.scope import get_scope
from webapp.services import audit
from webapp.services.home_unit_moves import MoveOutcome, follow_saved_employment
from webapp.views.form_fields import typeahead_field
from webapp.views.member_search import MemberInterface, with_name_search
from webapp.views.privacy import needs_declaration
from webapp.views.scoped_api import ScopedModelRestApi
from webapp.views.scoped_interface import ScopedInterface
from webapp.views.scoped_views import ScopedModelView

MEMBER_LABELS = labels_for(Member)
MEMBER_EDIT_COLUMNS = [name for name in MEMBER_LABELS]

EMPLOYMENT_LABELS = labels_for(Employment)
POSITION_LABELS = labels_for(Position)

CONFIDENTIALITY_NOTICE = _l(
    "Confidentiality: The member list contains information about trade union membership. "
    "Union representatives are bound by confidentiality and may only use the information in their union role."
)


class MemberView(ScopedModelView):
    datamodel = MemberInterface(Member, eager=("home_unit",))
    list_title = show_title = _l("Members")
    add_title = _l("New member")
    edit_title = _l("Edit member")
    list_template = "members/list.html"
    show_template = "members/show.html"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    label_columns = MEMBER_LABELS
    list_columns = ["member_no", "last_name", "first_name", "national_id", "category", "home_unit", "joined_on",
                    "left_on"]
    show_columns = MEMBER_EDIT_COLUMNS
    add_columns = edit_columns = MEMBER_EDIT_COLUMNS
    search_columns = ["member_no", "last_name", "first_name", "home_unit", "category", "city", "joined_on", "left_on"]
    order_columns = ["member_no", "last_name", "first_name", "joined_on", "left_on"]
    base_order = ("last_name", "asc")
    formatters_columns = {"national_id": national_id_on_screen}
    extra_args = {"confidentiality_notice": CONFIDENTIALITY_NOTICE}

    @expose("/list/")
    @has_access
    def list(self):
        if needs_declaration():
            return redirect(url_for("ConfidentialityView.declare", next=request.full_path))
        return super().list()

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        if needs_declaration():
            return redirect(url_for("ConfidentialityView.declare", next=request.full_path))
        response = super().show(pk)
        audit.record("open_member", "member", int(pk) if str(pk).isdigit() else None,
                     member_id=int(pk) if str(pk).isdigit() else None)
        db.session.commit()
        return response


class EmploymentView(ScopedModelView):
    datamodel = ScopedInterface(Employment, eager=("member", "employer", "workplace"))
    list_title = show_title = _l("Employments")
    add_title = _l("New employment")
    edit_title = _l("Edit employment")
    label_columns = EMPLOYMENT_LABELS
    list_columns = ["member", "employer", "workplace", "start_date", "end_date", "position_pct", "on_deduction"]
    show_columns = list(EMPLOYMENT_LABELS)
    add_columns = edit_columns = ["member", "workplace", "start_date", "end_date", "position_pct", "on_deduction"]
    search_columns = ["start_date", "end_date", "on_deduction"]
    base_order = ("start_date", "desc")
    add_form_extra_fields = edit_form_extra_fields = {
        "member": typeahead_field(_l("Member"), datamodel, "member", "member"),
        "workplace": typeahead_field(_l("Workplace"), datamodel, "workplace", "workplace"),
    }

    # Moving inside the union: the member's home unit follows a saved employment (webapp.services.home_unit_moves),
    # in the same transaction, and only to a unit the writer may edit members of (else they ask the office).
    def pre_add(self, item):
        super().pre_add(item)
        g.home_unit_move = self._follow(item)

    def pre_update(self, item):
        state = inspect(item)
        moved_job = any(state.attrs[name].history.has_changes() for name in EMPLOYMENT_MOVES_ON)
        super().pre_update(item)
        g.home_unit_move = self._follow(item) if moved_job else None

    def post_add(self, item):
        tell_home_unit_move(g.pop("home_unit_move", None))

    def post_update(self, item):
        tell_home_unit_move(g.pop("home_unit_move", None))

    def _follow(self, item) -> MoveOutcome:
        grants = get_scope().grants_with("can_edit", "MemberView")
        return follow_saved_employment(item, str(_l("Employment registered")),
                                       may_move_to=lambda unit_id: is_visible(OrgUnit, unit_id, grants))


# The fields of an employment whose change may move its member to another unit.
EMPLOYMENT_MOVES_ON = ("workplace", "workplace_id", "employer", "employer_id", "start_date", "end_date",
                       "position_pct")


def tell_home_unit_move(outcome: MoveOutcome | None) -> None:
    """Say where the member moved, or that the move is the office's to make."""
    if outcome is None:
        return
    if outcome.moved:
        before = db.session.get(OrgUnit, outcome.from_unit_id) if outcome.from_unit_id else None
        after = db.session.get(OrgUnit, outcome.to_unit_id)
        flash(_("Home unit changed from %(old)s to %(new)s.", old=before.name if before else "–", new=after.name),
              "info")
    elif outcome.refused_unit_id is not None:
        flash(_("The member's home unit was not changed: the unit the new employment belongs to is outside what "
                "you may change. Ask the union office to move the member."), "warning")


class PositionView(ScopedModelView):
    datamodel = ScopedInterface(Position, eager=("member", "org_unit", "workplace", "operating_unit"))
    list_title = show_title = _l("Positions")
    add_title = _l("New position")
    edit_title = _l("Edit position")
    label_columns = POSITION_LABELS
    list_columns = ["member", "type", "org_unit", "workplace", "operating_unit", "start_date", "end_date"]
    show_columns = add_columns = edit_columns = list(POSITION_LABELS)
    search_columns = ["type", "org_unit", "start_date", "end_date"]
    base_order = ("start_date", "desc")
    add_form_extra_fields = edit_form_extra_fields = {
        "member": typeahead_field(_l("Member"), datamodel, "member", "member"),
        "workplace": typeahead_field(_l("Workplace"), datamodel, "workplace", "workplace", required=False),
        "operating_unit": typeahead_field(_l("Operating unit"), datamodel, "operating_unit", "operating_unit",
                                          required=False),
    }

    # Registering a position grants access: the same rule as the API (webapp/security/position_grants.py),
    # for the position as stored (edit, delete) and as it will be (add, edit).
    def _edit(self, pk):
        stored = self.datamodel.get(pk)
        refusal = change_refusal(get_scope(), stored) if stored is not None else None
        if refusal:
            flash(refusal, "danger")
            return None
        return super()._edit(pk)

    def _refuse_unless_granted(self, item) -> None:
        problems = grant_refusal(get_scope(), PositionTarget.of(item))
        if problems:
            db.session.rollback()
            raise ValueError(" ".join(problems.values()))

    def pre_add(self, item):
        self._refuse_unless_granted(item)
        super().pre_add(item)

    def pre_update(self, item):
        self._refuse_unless_granted(item)
        super().pre_update(item)

    def pre_delete(self, item):
        refusal = change_refusal(get_scope(), item)
        if refusal:
            raise ValueError(refusal)
        super().pre_delete(item)


MEMBER_API_COLUMNS = (
    ["id", "member_no", "national_id"]
    + [c for c in MEMBER_EDIT_COLUMNS if c not in ("member_no", "national_id", "home_unit")]
    + ["home_unit_id"]
)


class MemberApi(ScopedModelRestApi):
    resource_name = "member"
    datamodel = MemberInterface(Member)
    list_columns = ["id", "member_no", "national_id", "first_name", "last_name", "category", "home_unit_id",
                    "joined_on", "left_on"]
    show_columns = MEMBER_API_COLUMNS
    add_columns = edit_columns = MEMBER_EDIT_COLUMNS
    search_columns = ["member_no", "first_name", "last_name", "home_unit", "category", "joined_on", "left_on"]
    order_columns = ["member_no", "last_name", "first_name", "joined_on"]

    def _handle_filters_args(self, rison_args):
        return with_name_search(super()._handle_filters_args(rison_args))

    def _mask(self, row: dict) -> None:
        if "national_id" in row:
            row["national_id"] = national_id_for(row["national_id"], get_scope(), row.get("home_unit_id"))

    def pre_get(self, data):
        self._mask(data["result"])
        member_id = data.get("id")
        audit.record("open_member", "member", member_id, member_id=member_id, via="api")
        db.session.commit()

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
    list_columns = show_columns = ["id", "member_id", "type", "org_unit_id", "workplace_id", "operating_unit_id",
                                   "start_date", "end_date"]
    add_columns = edit_columns = list(POSITION_LABELS)
    search_columns = ["member", "type", "org_unit", "workplace", "start_date", "end_date"]
    order_columns = ["start_date", "end_date", "type"]

    # The same rule as the screen: the stored position must be one the caller may touch (403 otherwise),
    # and the position as sent one the caller may grant (422 naming the field otherwise).
    def _refused_change(self, pk):
        stored = self.datamodel.get(pk, self._base_filters)
        refusal = change_refusal(get_scope(), stored) if stored is not None else None
        return self.response(403, message=refusal) if refusal else None

    def put_headless(self, pk):
        return self._refused_change(pk) or super().put_headless(pk)

    def delete_headless(self, pk):
        return self._refused_change(pk) or super().delete_headless(pk)

    def _write(self, load, permission: str, status: int, pk=None):
        def load_if_granted():
            item = load()
            problems = grant_refusal(get_scope(), PositionTarget.of(item)) if item is not None else {}
            if problems:
                raise ValidationError({field: [message] for field, message in problems.items()})
            return item

        return super()._write(load_if_granted, permission, status, pk)
