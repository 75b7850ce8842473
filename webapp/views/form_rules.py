"""The domain's validation rules (webapp.services.validation) as form validators."""

from __future__ import annotations

from wtforms.validators import ValidationError as FormValidationError

from webapp.services.validation import FieldError


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


def with_validators(unbound_field, extra_validators: list):
    """A copy of an unbound form field with more validators."""
    if not extra_validators:
        return unbound_field
    kwargs = dict(unbound_field.kwargs)
    kwargs["validators"] = list(kwargs.get("validators") or []) + list(extra_validators)
    return unbound_field.field_class(*unbound_field.args, **kwargs)
