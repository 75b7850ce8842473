"""The base class of every scoped screen: FAB's ModelView confined to the acting scope, with the domain's
rules in its forms and every write checked (webapp.views.checked_writes)."""

from __future__ import annotations

from flask import abort, request
from flask_appbuilder import ModelView, expose
from flask_appbuilder.widgets import ListWidget
from sqlalchemy import Numeric
from wtforms import validators as wtf_validators

from webapp.extensions import db
from webapp.security.rowfilters import ScopeViolation, is_visible
from webapp.security.scope import get_scope
from webapp.services import audit
from webapp.services.bounds import column_bound_rules
from webapp.services.validation import RecordInvalid, rules_for
from webapp.views.checked_writes import check_write
from webapp.views.display import display_value, enum_display
from webapp.views.form_fields import KronerField, LabelledEnumField, NorwegianDecimalField
from webapp.views.form_rules import FieldRuleValidator, RecordRuleValidator, with_validators


class ScopedListWidget(ListWidget):
    """FAB's list; its record count says "more than N" past the datamodel's COUNT_CAP."""

    template = "scoped/list_widget.html"


class ScopedModelView(ModelView):
    """A FAB screen over one model, confined to the acting scope."""

    page_size = 25
    list_widget = ScopedListWidget
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]

    def __init__(self, **kwargs):
        self.datamodel.view_name = self.class_permission_name or self.__class__.__name__
        self._add_domain_form_fields()
        self._add_display_formatters()
        self._add_enum_search_fields()
        super().__init__(**kwargs)

    def _add_enum_search_fields(self) -> None:
        """The search filters offer an enum's members by label (FAB's own select lists the stored codes)."""
        columns = self.datamodel.obj.__table__.columns
        fields = dict(self.search_form_extra_fields or {})
        for name in self.search_columns or []:
            enum_class = getattr(getattr(columns.get(name), "type", None), "enum_class", None)
            if enum_class is not None and name not in fields:
                fields[name] = LabelledEnumField(self.label_columns.get(name, name), enum_class=enum_class,
                                                 nullable=True)
        self.search_form_extra_fields = fields

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
            name: with_validators(field, validators.get(name, []))
            for name, field in (self.add_form_extra_fields or {}).items()
        }
        for name in columns:
            column = model.__table__.columns.get(name)
            if column is None or name in extra:
                continue
            field_class = KronerField if name.endswith("_ore") else (  # shown in kroner, so typed in kroner
                NorwegianDecimalField if isinstance(column.type, Numeric) else None)
            if field_class is not None:
                required = [wtf_validators.Optional()] if column.nullable else [wtf_validators.InputRequired()]
                extra[name] = field_class(self.label_columns.get(name, name), validators=required + validators.get(
                    name, []), description=(self.description_columns or {}).get(name, ""), render_kw={
                    "class": "form-control"}, default=self.datamodel.get_col_default(name))
                continue
            if not hasattr(column.type, "enum_class") or column.type.enum_class is None:
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
                name: with_validators(field, validators.get(name, []))
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
