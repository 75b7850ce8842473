"""The office's screen of deduction contacts (logins linked to employers)."""

from flask_babel import lazy_gettext as _l

from webapp.models import DeductionContact
from webapp.models.labels import labels_for
from webapp.views.form_fields import typeahead_field
from webapp.views.scoped_interface import ScopedInterface
from webapp.views.scoped_views import ScopedModelView


class DeductionContactView(ScopedModelView):
    datamodel = ScopedInterface(DeductionContact, eager=("user", "employer"))
    list_title = show_title = _l("Deduction contacts")
    add_title = _l("New deduction contact")
    edit_title = _l("Edit deduction contact")
    label_columns = labels_for(DeductionContact)
    list_columns = ["user", "employer", "phone", "start_date", "end_date"]
    show_columns = add_columns = edit_columns = ["user", "employer", "phone", "start_date", "end_date"]
    search_columns = ["start_date", "end_date"]
    base_order = ("start_date", "desc")
    add_form_extra_fields = edit_form_extra_fields = {
        "user": typeahead_field(_l("User"), datamodel, "user", "user"),
        "employer": typeahead_field(_l("Employer"), datamodel, "employer", "employer"),
    }
