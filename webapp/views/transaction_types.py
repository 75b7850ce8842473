"""What the bank's transaction types are called (Nets OCR giro, the type of each payment), shown with the
type number the bank and its files use."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

TRANSACTION_TYPES = {
    10: _l("Giro debited to an account"),
    11: _l("Standing order"),
    12: _l("Direct remittance"),
    13: _l("Business terminal giro"),
    14: _l("Counter giro"),
    15: _l("AvtaleGiro"),
    16: _l("TeleGiro"),
    17: _l("Giro paid in cash"),
    18: _l("Reversal with KID"),
    19: _l("Purchase with KID"),
    20: _l("Reversal with text"),
    21: _l("Purchase with text"),
}


def transaction_type_label(code) -> str:
    """'Giro belastet konto (10)'; an unknown type by its number."""
    if code in (None, ""):
        return ""
    label = TRANSACTION_TYPES.get(int(code)) if str(code).isdigit() else None
    return f"{label} ({code})" if label else str(code)
