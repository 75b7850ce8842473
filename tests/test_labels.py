"""A field is called one thing: the screens and the validation messages read the same label table
(webapp.models.labels), and the template helpers are registered once for every page and PDF."""

from __future__ import annotations

import pytest
from flask import render_template_string

from webapp.models import Member, RefundPolicy
from webapp.services import validation as v
from webapp.views.scoped_views import ScopedModelView

# Values that break every labelled field rule (required text, whole number, number range, quarter).
BAD_VALUES = (None, "x")
# Rules of a kind of value name the kind ("E-mail: not a valid e-mail address."), whichever column holds it.
KIND_RULES = {v.member_no, v.national_id, v.org_number, v.bank_account, v.customer_no, v.postcode, v.email, v.mobile,
              v.position_pct}


def _message_of(rule) -> str:
    for value in BAD_VALUES:
        try:
            rule(value)
        except v.FieldError as exc:
            return exc.message
    raise AssertionError(f"{rule} accepts {BAD_VALUES}")


def test_every_field_message_names_the_field_as_its_screen_labels_it(app):
    checked = []
    with app.test_request_context():
        for view in app.appbuilder.baseviews:
            if not isinstance(view, ScopedModelView):
                continue
            for name, rule in v.rules_for(view.datamodel.obj).fields.items():
                if rule in KIND_RULES or name not in view.label_columns:
                    continue
                message = _message_of(rule)
                assert message.startswith(f"{view.label_columns[name]}: "), (type(view).__name__, name, message)
                checked.append(name)
    assert len(checked) >= 20


def test_a_refund_policy_quarter_error_names_the_field_as_the_screen_does(app):
    """The copies disagreed: the screen said "Valid from (quarter)", the message "Valid from". The table wins."""
    with app.test_request_context(), pytest.raises(v.RecordInvalid) as caught:
        v.validate_record(RefundPolicy, {"valid_from": "2026-Q5"})
    assert caught.value.errors["valid_from"][0].startswith("Gjelder fra (kvartal): ")


def test_validation_rules_are_keyed_by_model_class(app):
    with app.test_request_context():
        assert "first_name" in v.rules_for(Member).fields
        with pytest.raises(v.RecordInvalid) as caught:
            v.validate_record(Member, {"first_name": " "})
    assert caught.value.errors["first_name"] == ["Fornavn: må fylles ut."]


def test_amounts_and_masked_ids_render_in_any_template(app):
    with app.test_request_context():
        text = render_template_string("{{ kroner(123456) }} | {{ mask('15108695088') }} | {{ number(2.5) }}")
    assert text == "1\xa0234,56 | 151086***** | 2,5"
