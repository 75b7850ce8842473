"""Base classes for every scoped screen and REST API.

The scope lives in the datamodel: `ScopedInterface` adds the row filter of the
acting scope to every query FAB makes through it (lists, counts, show, edit,
delete, actions, related dropdowns and the lookups behind submitted ids), so no
view can forget it. Writes are checked after a flush: the row and what it
points at must still be in scope, else nothing is written.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import abort, request
from flask_appbuilder import ModelRestApi, ModelView, expose
from flask_appbuilder.fields import AJAXSelectField
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import joinedload
from wtforms import SelectField
from wtforms import validators as wtf_validators
from wtforms.validators import ValidationError as FormValidationError

from webapp.extensions import db
from webapp.models.choices import LabelledEnum
from webapp.security.rowfilters import ScopeViolation, assert_writable, is_visible, visible_clause
from webapp.security.scope import get_scope
from webapp.services import audit
from webapp.services.bounds import column_bound_rules
from webapp.services.validation import (
    FieldError,
    RecordInvalid,
    derive_fields,
    rules_for,
    unique_conflicts,
    validate_item,
)

log = logging.getLogger(__name__)


class ScopedInterface(SQLAInterface):
    """SQLAInterface that only ever reaches rows of the acting scope."""

    view_name: str | None = None

    def __init__(self, obj, session=None, eager: tuple[str, ...] = ()):
        super().__init__(obj, session=session)
        self.eager = eager

    def get_related_interface(self, col_name: str):
        return ScopedInterface(self.get_related_model(col_name))

    def _apply_inner_all(self, query, filters=None, *args, **kwargs):
        grants = get_scope().grants_for_view(self.view_name)
        query = query.filter(visible_clause(self.obj, grants))
        return super()._apply_inner_all(query, filters, *args, **kwargs)

    def apply_all(self, query, *args, **kwargs):
        """The rows themselves (not the count) load the listed relations in the same query."""
        query = super().apply_all(query, *args, **kwargs)
        if self.eager:
            query = query.options(*(joinedload(getattr(self.obj, name)) for name in self.eager))
        return query

    def query(self, filters=None, order_column="", order_direction="", page=None, page_size=None,
              select_columns=None, outer_default_load=False):
        """A page in two steps: the page's ids through the narrow indexes, then those rows in full.

        Sorting 100k whole rows to keep 25 is what made list pages slow; sorting ids is cheap.
        """
        if page_size is None or select_columns:
            return super().query(filters, order_column, order_direction, page, page_size, select_columns,
                                 outer_default_load)
        primary_key = self.obj.__mapper__.primary_key[0]
        count = self.query_count(self.session.query(self.obj), filters)
        id_query = self._apply_inner_all(
            self.session.query(primary_key), filters, order_column, order_direction, page, page_size, aliases_mapping={}
        )
        ids = [row[0] for row in id_query.all()]
        if not ids:
            return count, []
        rows = self.session.query(self.obj).filter(primary_key.in_(ids))
        if self.eager:
            rows = rows.options(*(joinedload(getattr(self.obj, name)) for name in self.eager))
        position = {pk: index for index, pk in enumerate(ids)}
        return count, sorted(rows.all(), key=lambda row: position[getattr(row, primary_key.key)])


def display_value(value) -> str:
    """How a value reads in lists and detail pages."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if isinstance(value, LabelledEnum):
        return value.label
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    return str(value)


def enum_display(enum_class: type[LabelledEnum]):
    def display(code) -> str:
        if code in (None, ""):
            return ""
        member = code if isinstance(code, enum_class) else enum_class[code]
        return member.label

    return display


# ------------------------------------------------------------------ form fields


class LabelledEnumField(SelectField):
    """A select of an enum's members, labelled in the user's language."""

    def __init__(self, label=None, validators=None, enum_class: type[LabelledEnum] | None = None, nullable=False, **kw):
        self.enum_class = enum_class
        choices = ([("", "—")] if nullable else []) + [(m.name, m.label) for m in enum_class]
        kw.setdefault("widget", Select2Widget())
        super().__init__(label, validators, coerce=self._coerce, choices=choices, **kw)

    def _coerce(self, value):
        if value is None or value == "":
            return None
        if isinstance(value, self.enum_class):
            return value
        try:
            return self.enum_class[value]
        except KeyError:
            raise ValueError(str(_l("Invalid choice."))) from None

    def pre_validate(self, form):
        if self.data is None:
            return
        super().pre_validate(form)


class TypeaheadWidget:
    """A select2 box that searches the server as the user types."""

    def __init__(self, kind: str):
        self.kind = kind

    def __call__(self, field, **kwargs):
        from flask import url_for

        selected = ""
        if field.data:
            row = field.datamodel.get_related_interface(field.col_name).get(field.data)
            if row is not None:
                selected = f'<option value="{escape(field.data)}" selected>{escape(str(row))}</option>'
        endpoint = url_for("TypeaheadView.search", kind=self.kind)
        return Markup(
            f'<select id="{escape(field.id)}" name="{escape(field.name)}" class="form-control typeahead" '
            f'data-endpoint="{escape(endpoint)}" style="width:100%">{selected}</select>'
        )


def typeahead_field(label, datamodel, col_name: str, kind: str, required: bool = True) -> AJAXSelectField:
    checks = [wtf_validators.DataRequired()] if required else [wtf_validators.Optional()]
    return AJAXSelectField(label, validators=checks, datamodel=datamodel, col_name=col_name, widget=TypeaheadWidget(kind))


def form_error(message) -> FormValidationError:
    """A form field's error. FAB's form template passes each error through gettext, which formats it
    with %: a literal % (as in "Share of dues paid (%)") would fail the page, so it is doubled."""
    return FormValidationError(str(message).replace("%", "%%"))


class FieldRuleValidator:
    """Runs a domain field rule in a form and writes back the normalised value."""

    def __init__(self, rule):
        self.rule = rule

    def __call__(self, form, field):
        if field.data is None or field.data == "":
            try:
                self.rule(field.data)
            except FieldError as exc:
                if isinstance(field.data, str):
                    raise form_error(exc.message) from None
            return
        try:
            field.data = self.rule(field.data)
        except FieldError as exc:
            raise form_error(exc.message) from None


class RecordRuleValidator:
    """Runs a record rule over the whole form and reports what it says of this field."""

    def __init__(self, rule):
        self.rule = rule

    def __call__(self, form, field):
        values = {name: form[name].data for name in form._fields}
        message = self.rule(values).get(field.name)
        if message:
            raise form_error(message)


def _with_validators(unbound_field, extra_validators: list):
    """A copy of an unbound form field with more validators."""
    if not extra_validators:
        return unbound_field
    kwargs = dict(unbound_field.kwargs)
    kwargs["validators"] = list(kwargs.get("validators") or []) + list(extra_validators)
    return unbound_field.field_class(*unbound_field.args, **kwargs)


# ------------------------------------------------------------------ shared write logic


def missing_required_relations(item) -> dict[str, list[str]]:
    """Many-to-one relations whose foreign key may not be empty but is."""
    missing = {}
    for relationship in type(item).__mapper__.relationships:
        if relationship.direction.name != "MANYTOONE":
            continue
        columns = list(relationship.local_columns)
        if all(not c.nullable for c in columns) and getattr(item, relationship.key) is None:
            if all(getattr(item, c.key, None) is None for c in columns):
                missing[relationship.key] = [str(_l("This field must be filled in with a valid value."))]
    return missing


def check_write(item, permission: str, view_name: str) -> None:
    """Validate a changed row, refuse it when it leaves the acting scope, and audit it."""
    with db.session.no_autoflush:
        derive_fields(item)
        problems = missing_required_relations(item)
        if problems:
            raise RecordInvalid(problems)
        validate_item(item)
        conflicts = unique_conflicts(item, may_see=lambda model, pk: is_visible(model, pk, get_scope().grants_for_view(view_name)))
    if conflicts:
        raise RecordInvalid(conflicts)
    is_new = item.id is None
    changes = audit.changed_fields(item)  # before the flush clears the history
    db.session.add(item)
    grants = get_scope().grants_with(permission, view_name)
    try:
        assert_writable(item, grants)
        if is_new:
            audit.record("create", type(item).__tablename__, item.id, member_id=audit.member_id_of(item), fields=changes)
        elif changes:
            audit.record("update", type(item).__tablename__, item.id, member_id=audit.member_id_of(item), fields=changes)
    except IntegrityError:
        db.session.rollback()
        # Another request wrote the same unique value meanwhile. No database text: it names the value
        # and says that it exists, which is what a writer outside that row's scope may not learn.
        raise RecordInvalid({"_database": [str(_l(
            "The change could not be saved: it conflicts with a change made at the same time. "
            "Check the values and try again, or contact the union office."
        ))]}) from None
    except DBAPIError:
        db.session.rollback()
        # A value the rules let through but the database refuses (its words name tables and values): logged,
        # and the writer told in ours.
        log.exception("the database refused a checked %s", type(item).__tablename__)
        raise RecordInvalid({"_database": [str(_l(
            "The change could not be saved: a value is outside what the register can hold. Check the values "
            "and try again."
        ))]}) from None
    except ScopeViolation:
        db.session.rollback()
        raise


class ScopedModelView(ModelView):
    """A FAB screen over one model, confined to the acting scope."""

    page_size = 25
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]

    def __init__(self, **kwargs):
        self.datamodel.view_name = self.class_permission_name or self.__class__.__name__
        self._add_domain_form_fields()
        self._add_display_formatters()
        super().__init__(**kwargs)

    def _add_display_formatters(self) -> None:
        """Show enums by label, dates the Norwegian way and missing values as nothing."""
        shown = set(self.list_columns or []) | set(self.show_columns or [])
        columns = self.datamodel.obj.__table__.columns
        formatters = dict(self.formatters_columns or {})
        for name in shown:
            enum_class = getattr(getattr(columns.get(name), "type", None), "enum_class", None)
            # FAB hands formatters an enum's value (our code), not the member.
            formatters.setdefault(name, enum_display(enum_class) if enum_class else display_value)
        self.formatters_columns = formatters

    def _add_domain_form_fields(self) -> None:
        model = self.datamodel.obj
        rules = rules_for(model)
        columns = set(self.add_columns or []) | set(self.edit_columns or [])
        validators: dict[str, list] = {name: list(v) for name, v in (self.validators_columns or {}).items()}
        for name, rule in rules.fields.items():
            if name in columns:
                validators.setdefault(name, []).append(FieldRuleValidator(rule))
        for record_rule in rules.records:
            for name in columns:
                validators.setdefault(name, []).append(RecordRuleValidator(record_rule))
        for name, rule in column_bound_rules(model, columns, self.label_columns).items():
            validators.setdefault(name, []).append(FieldRuleValidator(rule))
        self.validators_columns = validators

        extra = {
            name: _with_validators(field, validators.get(name, []))
            for name, field in (self.add_form_extra_fields or {}).items()
        }
        for name in columns:
            column = model.__table__.columns.get(name)
            if column is None or not hasattr(column.type, "enum_class") or column.type.enum_class is None:
                continue
            if name in extra:
                continue
            required = [] if column.nullable else [wtf_validators.InputRequired()]
            extra[name] = LabelledEnumField(
                self.label_columns.get(name, name),
                validators=required + validators.get(name, []),
                enum_class=column.type.enum_class,
                nullable=column.nullable,
            )
        self.add_form_extra_fields = extra
        self.edit_form_extra_fields = {
            **extra,
            **{
                name: _with_validators(field, validators.get(name, []))
                for name, field in (self.edit_form_extra_fields or {}).items()
                if field is not (self.add_form_extra_fields or {}).get(name)
            },
        }

    def sortable_columns(self) -> list[str]:
        """The columns the list may be sorted by for the acting role (the request guard refuses any other).

        Only shown columns sort: sorting by a hidden or masked one would leak its order."""
        return list(self.order_columns or [])

    def _write_hook(self, item, permission: str) -> None:
        try:
            check_write(item, permission, self.class_permission_name)
        except ScopeViolation:
            db.session.rollback()
            abort(403)
        except RecordInvalid as exc:
            db.session.rollback()
            raise ValueError(str(exc)) from None

    def pre_add(self, item):
        self._write_hook(item, "can_add")

    def pre_update(self, item):
        self._write_hook(item, "can_edit")

    def pre_delete(self, item):
        if not is_visible(type(item), item.id, get_scope().grants_with("can_delete", self.class_permission_name)):
            abort(403)
        audit.record("delete", type(item).__tablename__, item.id, member_id=audit.member_id_of(item))

    # FAB's actions look rows up without the view's filters and fail with a 500 on an
    # unknown action name: answer 404 unless the action exists and every row is in scope.
    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        if name not in self.actions or self.datamodel.get(self._deserialize_pk_if_composite(pk)) is None:
            abort(404)
        return super().action(name, pk)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        name = request.form.get("action", "")
        pks = request.form.getlist("rowid")
        if name not in self.actions or not pks:
            abort(404)
        if any(self.datamodel.get(self._deserialize_pk_if_composite(pk)) is None for pk in pks):
            abort(404)
        return super().action_post()


class ScopedModelRestApi(ModelRestApi):
    """A FAB REST API over one model, confined to the scopes of the API user."""

    allow_browser_login = False
    page_size = 25

    def __init__(self, *args, **kwargs):
        self.datamodel.view_name = self.class_permission_name or self.__class__.__name__
        super().__init__(*args, **kwargs)

    def _init_model_schemas(self):
        """FAB's schemas refuse null for nullable enums and dates; accept it where the column does."""
        super()._init_model_schemas()
        columns = self.datamodel.obj.__table__.columns
        for schema in (self.add_model_schema, self.edit_model_schema):
            for name, schema_field in schema.fields.items():
                column = columns.get(name)
                if column is not None and column.nullable:
                    schema_field.allow_none = True

    def _write(self, load, permission: str, status: int, pk=None):
        if not request.is_json:
            return self.response_400(message="Request is not JSON")
        try:
            item = load()
        except ValidationError as err:
            db.session.rollback()
            return self.response_422(message=err.messages)
        if item is None:
            return self.response_404()
        try:
            check_write(item, permission, self.class_permission_name)
        except RecordInvalid as exc:
            db.session.rollback()
            return self.response_422(message=exc.errors)
        except ScopeViolation:
            db.session.rollback()
            return self.response_403()
        db.session.commit()
        self.post_add(item) if status == 201 else self.post_update(item)
        schema = self.add_model_schema if status == 201 else self.edit_model_schema
        body = {"result": schema.dump(item, many=False)}
        if status == 201:
            body["id"] = item.id
        return self.response(status, **body)

    def post_headless(self):
        return self._write(lambda: self.add_model_schema.load(request.json), "can_post", 201)

    def put_headless(self, pk):
        def load():
            item = self.datamodel.get(pk, self._base_filters)
            if item is None:
                return None
            return self.edit_model_schema.load(self._merge_update_item(item, request.json), instance=item)

        return self._write(load, "can_put", 200, pk)

    def delete_headless(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            return self.response_404()
        if not is_visible(type(item), item.id, get_scope().grants_with("can_delete", self.class_permission_name)):
            return self.response_403()
        audit.record("delete", type(item).__tablename__, item.id, member_id=audit.member_id_of(item))
        return super().delete_headless(pk)
