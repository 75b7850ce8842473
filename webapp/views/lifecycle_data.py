"""The office's screens of the data the membership life cycle reads: the LO unions (transfers), the home-unit rules
(where a new or moving member belongs), the postcode register (list and search; `flask postcodes import` fills it)
and the published membership terms and privacy statements."""

from __future__ import annotations

from flask import flash
from flask_appbuilder.fields import AJAXSelectField
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from wtforms import SelectField

from webapp.extensions import db
from webapp.models import HomeUnitRule, LoUnion, MembershipApplication, MembershipTransfer, PolicyText, Postcode
from webapp.models.labels import labels_for
from webapp.services.validation import known_counties
from webapp.views.form_fields import TypeaheadWidget, typeahead_field
from webapp.views.scoped_interface import ScopedInterface
from webapp.views.scoped_views import ScopedModelView

READ_ONLY = ["can_list", "can_show"]


class LoUnionView(ScopedModelView):
    datamodel = ScopedInterface(LoUnion)
    list_title = show_title = _l("LO unions")
    add_title = _l("New LO union")
    edit_title = _l("Edit LO union")
    label_columns = labels_for(LoUnion)
    list_columns = show_columns = add_columns = edit_columns = ["code", "name", "org_number", "email", "active"]
    search_columns = ["code", "name", "active"]
    order_columns = ["code", "name"]
    base_order = ("name", "asc")
    description_columns = {"active": _l("Only active unions are offered on the enrollment form and for transfers.")}

    def pre_delete(self, item):
        used = db.session.scalar(select(func.count(MembershipTransfer.id)).where(
            MembershipTransfer.lo_union_id == item.id))
        used = used or db.session.scalar(select(func.count(MembershipApplication.id)).where(
            MembershipApplication.from_lo_union_id == item.id))
        if used:
            raise ValueError(_("The LO union is named by transfers or applications and cannot be deleted; mark it "
                               "as not active instead."))
        super().pre_delete(item)


def county_choices() -> list[tuple[str, str]]:
    """The counties of the postcode register and the workplaces, for the county select of a rule."""
    return [("", "")] + [(county, county) for county in known_counties()]


class HomeUnitRuleView(ScopedModelView):
    """Where a new or moving member belongs when the workplace does not say: by employer, else by county."""

    datamodel = ScopedInterface(HomeUnitRule, eager=("employer", "org_unit"))
    list_title = show_title = _l("Home-unit rules")
    add_title = _l("New home-unit rule")
    edit_title = _l("Edit home-unit rule")
    label_columns = labels_for(HomeUnitRule)
    list_columns = show_columns = add_columns = edit_columns = ["kind", "employer", "county", "org_unit"]
    search_columns = ["kind", "county"]
    order_columns = ["county"]
    base_order = ("county", "asc")
    description_columns = {
        "kind": _l("A workplace's own unit always comes first. Then a rule for the employer, then one for the "
                   "county of the member's postcode."),
        "employer": _l("Only for a rule for an employer."),
        "county": _l("Only for a rule for a county."),
        "org_unit": _l("The unit the member belongs to by this rule, usually a branch."),
    }
    add_form_extra_fields = edit_form_extra_fields = {
        # No Optional(): the rule's "choose the employer" must be said at this field when it is left empty.
        "employer": AJAXSelectField(_l("Employer"), validators=[], datamodel=datamodel, col_name="employer",
                                    widget=TypeaheadWidget("employer")),
        "county": SelectField(_l("County"), choices=county_choices, validate_choice=False,
                              render_kw={"class": "form-control"}),
        "org_unit": typeahead_field(_l("Home unit"), datamodel, "org_unit", "org_unit"),
    }

    def _one_rule_per_employer(self, item) -> None:
        """The form sets the employer as a relation, whose id the generic uniqueness check does not see yet."""
        employer_id = item.employer.id if item.employer is not None else item.employer_id
        if employer_id is None:
            return
        other = db.session.scalar(select(HomeUnitRule.id).where(HomeUnitRule.employer_id == employer_id,
                                                                HomeUnitRule.id != (item.id or 0)))
        if other is not None:
            db.session.rollback()
            raise ValueError(_("%(field)s: already exists.", field=self.label_columns["employer"]))

    def pre_add(self, item):
        self._one_rule_per_employer(item)
        super().pre_add(item)

    def pre_update(self, item):
        self._one_rule_per_employer(item)
        super().pre_update(item)


class PostcodeView(ScopedModelView):
    """Posten's postcode register, to look up; `flask --app run postcodes import FILE` brings it up to date."""

    datamodel = ScopedInterface(Postcode)
    list_title = _l("Postcodes")
    base_permissions = ["can_list"]
    label_columns = labels_for(Postcode)
    list_columns = ["code", "place", "municipality", "county"]
    search_columns = ["code", "place", "municipality", "county"]
    order_columns = ["code", "place", "municipality", "county"]
    base_order = ("code", "asc")


def applications_consenting(policy_id: int | None) -> int:
    """How many applications record this text as the terms or privacy statement the applicant consented to."""
    if policy_id is None:
        return 0
    return db.session.scalar(select(func.count(MembershipApplication.id)).where(or_(
        MembershipApplication.terms_id == policy_id, MembershipApplication.privacy_id == policy_id))) or 0


class PolicyTextView(ScopedModelView):
    """The published versions of the membership terms and the privacy statement. The newest one published is shown
    on the enrollment page; a version an applicant has consented to stays as it was: a new version is added."""

    datamodel = ScopedInterface(PolicyText)
    list_title = show_title = _l("Terms and privacy texts")
    add_title = _l("New version of the terms or the privacy statement")
    edit_title = _l("Edit terms or privacy text")
    label_columns = labels_for(PolicyText)
    list_columns = ["kind", "version", "published_on", "title"]
    show_columns = add_columns = edit_columns = ["kind", "version", "published_on", "title", "body"]
    search_columns = ["kind", "version", "published_on", "title"]
    order_columns = ["kind", "version", "published_on"]
    base_order = ("published_on", "desc")
    description_columns = {
        "published_on": _l("The enrollment page shows the newest version published on or before today."),
        "body": _l("Paragraphs are separated by an empty line."),
    }

    def _refuse_when_consented(self, item, message: str) -> None:
        if applications_consenting(item.id):
            db.session.rollback()
            raise ValueError(message)

    def _refuse_duplicate_version(self, item) -> None:
        other = db.session.scalar(select(PolicyText.id).where(
            PolicyText.kind == item.kind, PolicyText.version == (item.version or "").strip(),
            PolicyText.id != (item.id or 0)))
        if other is not None:
            db.session.rollback()
            raise ValueError(_("%(field)s: this text already has a version called that.",
                               field=self.label_columns["version"]))

    def prefill_form(self, form, pk):
        if applications_consenting(int(pk) if str(pk).isdigit() else None):
            flash(_("Applicants have consented to this version: it cannot be changed. Add a new version instead."),
                  "warning")

    def pre_add(self, item):
        self._refuse_duplicate_version(item)
        super().pre_add(item)

    def pre_update(self, item):
        self._refuse_when_consented(item, _("Applicants have consented to this version: it cannot be changed. Add "
                                            "a new version instead."))
        self._refuse_duplicate_version(item)
        super().pre_update(item)

    def pre_delete(self, item):
        self._refuse_when_consented(item, _("Applicants have consented to this version: it cannot be deleted."))
        super().pre_delete(item)
