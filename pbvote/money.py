"""Money entered by people (currency units, e.g. "12,500.50") ↔ stored integers (smallest unit)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision


def to_minor_units(value: Decimal | int | str, currency: str = "EUR") -> int:
    """12500.5 EUR → 1250050 cents (rounded half up to the currency's precision)."""
    precision = get_currency_precision(currency)
    return int((Decimal(value).scaleb(precision)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor_units(amount: int | None, currency: str = "EUR") -> Decimal | None:
    """1250050 cents → Decimal("12500.50"), for pre-filling a form."""
    if amount is None:
        return None
    return Decimal(amount).scaleb(-get_currency_precision(currency))
