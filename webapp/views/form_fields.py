"""Form fields of our own: enum selects labelled in the user's language, amounts typed in kroner, and type-ahead
selects."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import url_for
from flask_appbuilder.fields import AJAXSelectField
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import DecimalField, SelectField, StringField
from wtforms import validators as wtf_validators

from webapp.models.choices import LabelledEnum
from webapp.services.money import decimal_text, kroner, parse_kroner


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


class KronerField(StringField):
    """An amount as people write it, in kroner ('1 234,50' or '1234.5'), held in øre: the screens show øre
    columns in kroner, so their forms take kroner too."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return kroner(self.data) if isinstance(self.data, int) else ""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "") or ""
        self.raw_data = [text]
        if not text.strip():
            self.data = None
            return
        try:
            self.data = parse_kroner(text)
        except (ValueError, ArithmeticError):
            self.data = None
            raise ValueError(str(_l("%(field)s: '%(text)s' is not an amount in kroner.", field=self.label.text,
                                    text=text[:40]))) from None


class NorwegianDecimalField(DecimalField):
    """A number with a decimal comma and no trailing zeros (Stillingsprosent 100, 37,5); a point is read too."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else decimal_text(self.data).replace("\u00a0", "")

    def process_formdata(self, valuelist):
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        text = str(valuelist[0])
        try:
            self.data = Decimal(text.replace("\u00a0", "").replace(" ", "").replace(",", "."))
        except (InvalidOperation, ValueError):
            self.data = None
            raise ValueError(str(_l("%(field)s: '%(text)s' is not a number.", field=self.label.text,
                                    text=text[:40]))) from None


class TypeaheadWidget:
    """A select2 box that searches the server as the user types."""

    def __init__(self, kind: str):
        self.kind = kind

    def __call__(self, field, **kwargs):
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
    return AJAXSelectField(label, validators=checks, datamodel=datamodel, col_name=col_name,
                           widget=TypeaheadWidget(kind))
