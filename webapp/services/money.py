"""Øre as text, the Norwegian way."""

from __future__ import annotations

from decimal import Decimal


def kroner(ore: int | None, decimals: bool = True) -> str:
    """12345 -> '123,45'; 8500 -> '85,-' with decimals=False."""
    if ore is None:
        return ""
    sign = "-" if ore < 0 else ""
    whole, rest = divmod(abs(int(ore)), 100)
    grouped = f"{whole:,}".replace(",", "\u00a0")
    if not decimals and rest == 0:
        return f"{sign}{grouped},-"
    return f"{sign}{grouped},{rest:02d}"


def parse_kroner(text: str) -> int:
    """'1 234,50' or '1234.5' -> 123450 øre. Raises ValueError on anything else."""
    cleaned = str(text).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if cleaned.endswith(".-"):
        cleaned = cleaned[:-2]
    value = Decimal(cleaned)
    ore = value * 100
    if ore != ore.to_integral_value():
        raise ValueError(f"'{text}' has more than two decimals")
    return int(ore)


def account_number(digits: str) -> str:
    """90010741504 -> '9001 07 41504'."""
    digits = (digits or "").strip()
    if len(digits) != 11:
        return digits
    return f"{digits[:4]} {digits[4:6]} {digits[6:]}"


def decimal_text(value) -> str:
    """Decimal('1893.50') -> '1 893,5'; Decimal('30.00') -> '30': the Norwegian way, without trailing zeros."""
    if value is None:
        return ""
    number = Decimal(str(value))
    sign = "-" if number < 0 else ""
    whole, _, fraction = f"{abs(number):f}".partition(".")
    fraction = fraction.rstrip("0")
    grouped = f"{int(whole):,}".replace(",", "\u00a0")
    return f"{sign}{grouped},{fraction}" if fraction else f"{sign}{grouped}"
