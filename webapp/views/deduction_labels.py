"""User-facing words for the codes of the deduction cycle."""

from flask_babel import lazy_gettext as _l

from webapp.services import deduction_basis as basis

CHANGE_DETAILS = {
    basis.APPRENTICE_TO_ORDINARY: _l("apprentice → ordinary member"),
    basis.ORDINARY_TO_APPRENTICE: _l("ordinary member → apprentice"),
    basis.TRAVEL_STARTED: _l("travel insurance starts"),
    basis.TRAVEL_STOPPED: _l("travel insurance stops"),
    basis.CONTENTS_STARTED: _l("contents insurance starts"),
    basis.CONTENTS_STOPPED: _l("contents insurance stops"),
    basis.INSURANCE_MOVED: _l("insurances moved to or from another employment"),
}


def change_label(line) -> str:
    """'Start', 'Stopp' or 'Endring: travel insurance stops' for a basis line."""
    if line.change is None:
        return ""
    details = [str(CHANGE_DETAILS.get(code, code)) for code in (line.change_detail or "").split(",") if code]
    return f"{line.change.label}: {', '.join(details)}" if details else line.change.label
