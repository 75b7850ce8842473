"""The office's screens of collective agreements (*Register → Agreements*) and ballots (*Membership → Ballots*).

An agreement names its counterpart (an employer association or a single employer), its validity, the employers
it covers (a type-ahead multi-select: the employer register is large) and optionally the member categories it
covers; its page shows how many members it covers today (webapp.services.agreements).

A ballot is made for an agreement with a cut-off date; while a draft its page shows the live count and the first
rows of the list, locking freezes the list (one winner), and only a frozen list is exported, as the vendor's CSV
of four columns, every export audited (webapp.services.ballots). All of it is the office's alone: roles.py grants
these screens to no other role.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.fields import AJAXSelectField
from flask_appbuilder.fieldwidgets import Select2ManyWidget
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import Field, SelectMultipleField
from wtforms import validators as wtf_validators

from reports.exports import _csv_bytes
from webapp.extensions import db
from webapp.models import Employer
from webapp.models.choices import EmployerAssociation, MemberCategory
from webapp.models.labels import labels_for
from webapp.models.outreach import Ballot, CollectiveAgreement
from webapp.services import agreements, ballots
from webapp.services.bounds import bounded_text, row_id
from webapp.views.downloads import download
from webapp.views.form_fields import LabelledEnumField, TypeaheadWidget
from webapp.views.form_rules import FieldRuleValidator, RecordRuleValidator
from webapp.views.scoped_interface import ScopedInterface
from webapp.views.scoped_views import ScopedModelView

# ------------------------------------------------------------------ agreements


class MultiTypeaheadWidget:
    """A select2 box of several rows that searches the server as the user types (webapp/static/js/typeahead.js)."""

    def __init__(self, kind: str):
        self.kind = kind

    def __call__(self, field, **kwargs):
        options = "".join(f'<option value="{row.id}" selected>{escape(str(row))}</option>' for row in field.data or [])
        endpoint = url_for("TypeaheadView.search", kind=self.kind)
        return Markup(
            f'<select id="{escape(field.id)}" name="{escape(field.name)}" multiple class="form-control typeahead" '
            f'data-endpoint="{escape(endpoint)}" style="width:100%">{options}</select>'
        )


class EmployersField(Field):
    """The employers an agreement covers, chosen by type-ahead; submitted ids that are not employers are refused,
    naming the field."""

    widget = MultiTypeaheadWidget("employer")

    def process_data(self, value):
        self.data = list(value or [])

    def process_formdata(self, valuelist):
        ids = {row_id(text) for text in valuelist}
        if None in ids:
            self.data = []
            raise ValueError(str(_l("Employers covered: choose employers from the list.")))
        if len(ids) > agreements.MAX_EMPLOYERS:
            self.data = []
            raise ValueError(str(_l("Employers covered: at most %(count)s employers.", count=agreements.MAX_EMPLOYERS)))
        self.data = list(db.session.scalars(select(Employer).where(Employer.id.in_(ids)).order_by(Employer.name)))
        if len(self.data) != len(ids):
            raise ValueError(str(_l("Employers covered: choose employers from the list.")))


class CategoriesField(SelectMultipleField):
    """The member categories an agreement covers; none chosen: every category."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, widget=Select2ManyWidget(),
                         choices=[(member.name, member.label) for member in MemberCategory], **kwargs)

    def process_data(self, value):
        self.data = [MemberCategory[getattr(item, "name", item)] for item in value or []]

    def process_formdata(self, valuelist):
        try:
            self.data = [MemberCategory[value] for value in valuelist]
        except KeyError:
            self.data = []
            raise ValueError(str(_l("Categories covered: choose from the list."))) from None

    def pre_validate(self, form):
        """The values were checked when read (process_formdata)."""

    def iter_choices(self):
        chosen = {member.name for member in self.data or []}
        for value, label in self.choices:
            yield value, label, value in chosen, {}


class AgreementView(ScopedModelView):
    datamodel = ScopedInterface(CollectiveAgreement, eager=("counterpart_employer",))
    list_title = _l("Collective agreements")
    show_title = _l("Collective agreement")
    add_title = _l("New collective agreement")
    edit_title = _l("Edit collective agreement")
    show_template = "agreements/show.html"
    label_columns = {**labels_for(CollectiveAgreement), "categories": _l("Categories covered")}
    list_columns = ["name", "counterpart_association", "counterpart_employer", "valid_from", "valid_to"]
    show_columns = ["name", "counterpart_association", "counterpart_employer", "valid_from", "valid_to", "employers",
                    "note"]
    add_columns = edit_columns = ["name", "counterpart_association", "counterpart_employer", "valid_from", "valid_to",
                                  "employers", "categories", "note"]
    search_columns = ["name", "counterpart_association", "valid_from", "valid_to"]
    order_columns = ["name", "valid_from", "valid_to"]
    base_order = ("valid_from", "desc")
    description_columns = {"valid_to": _l("Empty: until further notice.")}
    validators_columns = {
        "name": [FieldRuleValidator(bounded_text(_l("Name"), agreements.NAME_MAX_LENGTH, required=True))],
        "note": [FieldRuleValidator(bounded_text(_l("Note"), agreements.NOTE_MAX_LENGTH))],
        "counterpart_association": [RecordRuleValidator(agreements.counterpart_rule)],
        "valid_to": [RecordRuleValidator(agreements.validity_rule)],
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "counterpart_association": LabelledEnumField(
            _l("Counterpart association"), enum_class=EmployerAssociation, nullable=True,
            description=_l("The employer association the union made the agreement with; or choose a single employer "
                           "below (one of the two).")),
        "counterpart_employer": AJAXSelectField(
            _l("Counterpart employer"), validators=[wtf_validators.Optional()], datamodel=datamodel,
            col_name="counterpart_employer", widget=TypeaheadWidget("employer"),
            description=_l("For an agreement with a single employer (no association).")),
        "employers": EmployersField(_l("Employers covered"), description=_l(
            "The employers whose employees the agreement covers. Type two letters of a name or an organisation "
            "number.")),
        "categories": CategoriesField(_l("Categories covered"),
                                      description=_l("Leave empty to cover members of every category.")),
    }

    def prefill_form(self, form, pk):
        form.categories.data = agreements.categories_of(int(pk))

    def _save_categories(self, item) -> None:
        agreements.set_categories(item.id, getattr(item, "categories", None) or [])

    def pre_add(self, item):
        super().pre_add(item)  # validated, in scope, audited and flushed: the row has its id
        self._save_categories(item)

    def pre_update(self, item):
        super().pre_update(item)
        self._save_categories(item)

    def pre_delete(self, item):
        if db.session.scalar(select(func.count(Ballot.id)).where(Ballot.agreement_id == item.id)):
            raise ValueError(_("The agreement has ballots: it cannot be deleted."))
        super().pre_delete(item)
        agreements.set_categories(item.id, [])

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        agreement_id = row_id(pk)
        agreement = db.session.get(CollectiveAgreement, agreement_id) if agreement_id else None
        if agreement is None:
            abort(404)
        today = dt.date.today()
        return self.render_template(
            self.show_template, pk=agreement.id, title=self.show_title, widgets=self._show(agreement.id),
            related_views=self._related_views, agreement=agreement, today=today,
            covered_today=agreements.covered_count(agreement.id, today),
            categories=agreements.categories_of(agreement.id),
            ballots=db.session.scalars(select(Ballot).where(Ballot.agreement_id == agreement.id)
                                       .order_by(Ballot.cutoff_date.desc())).all(),
        )


# ------------------------------------------------------------------ ballots


class BallotView(BaseView):
    """Ballots: the list, a new ballot, one ballot's page (count and first rows), lock, and the export."""

    route_base = "/ballots"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        rows = db.session.scalars(select(Ballot).options(joinedload(Ballot.agreement))
                                  .order_by(Ballot.created_at.desc(), Ballot.id.desc())).all()
        return self.render_template("ballots/list.html", rows=rows)

    def _agreements(self) -> list[CollectiveAgreement]:
        return list(db.session.scalars(select(CollectiveAgreement).order_by(CollectiveAgreement.name)))

    @expose("/new", methods=["GET", "POST"])
    @has_access
    def new(self):
        errors: dict[str, str] = {}
        if request.method == "POST":
            try:
                ballot = ballots.create(ballots.read_form(request.form))
            except ballots.BallotFormInvalid as exc:
                db.session.rollback()
                errors = exc.errors
            else:
                flash(_("The ballot is made as a draft: check the voter list, then lock it."), "success")
                return redirect(url_for("BallotView.show", ballot_id=ballot.id))
        form = request.form if request.method == "POST" else {"agreement_id": request.args.get("agreement_id", "")}
        return self.render_template("ballots/new.html", agreements=self._agreements(), form=form,
                                    errors=errors), (422 if errors else 200)

    def _ballot(self, ballot_id: int) -> Ballot:
        ballot = db.session.get(Ballot, ballot_id, options=[joinedload(Ballot.agreement), joinedload(Ballot.locked_by)])
        if ballot is None:
            abort(404)
        return ballot

    @expose("/<int:ballot_id>")
    @has_access
    @permission_name("show")
    def show(self, ballot_id: int):
        ballot = self._ballot(ballot_id)
        draft = ballot.status.name == "draft"
        return self.render_template(
            "ballots/show.html", ballot=ballot, draft=draft,
            count=ballots.draft_count(ballot) if draft else ballot.voter_count,
            preview=ballots.draft_preview(ballot) if draft else ballots.frozen_preview(ballot.id),
            preview_size=ballots.PREVIEW_ROWS,
        )

    @expose("/<int:ballot_id>/lock", methods=["POST"])
    @has_access
    @permission_name("lock")
    def lock(self, ballot_id: int):
        self._ballot(ballot_id)
        try:
            count = ballots.lock(ballot_id, current_user.id)
        except ballots.BallotError as exc:
            flash(exc.message, "warning")
        else:
            flash(_("The voter list is locked with %(count)s voters. It no longer follows the register.",
                    count=count), "success")
        return redirect(url_for("BallotView.show", ballot_id=ballot_id))

    @expose("/<int:ballot_id>/velgerliste.csv")
    @has_access
    @permission_name("export")
    def export(self, ballot_id: int):
        ballot = self._ballot(ballot_id)
        try:
            rows = ballots.export_rows(ballot)
        except ballots.BallotError as exc:
            flash(exc.message, "warning")
            return redirect(url_for("BallotView.show", ballot_id=ballot_id))
        return download(_csv_bytes(ballots.EXPORT_HEADER, rows), ballots.export_filename(ballot),
                        "text/csv; charset=utf-8", object_type="ballot", object_id=ballot.id, count=len(rows),
                        kind="ballot_voters")
