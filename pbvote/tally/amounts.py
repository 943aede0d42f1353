"""Numbers as pabulib files write them, and money as people read it.

The one place where text becomes a number (:func:`parse_amount`, for every
budget, cost and points value a file holds) and where an amount becomes text
(:func:`decimal_text` exactly, for files and JSON; :func:`format_money` with
thousands separators, for sentences and tables). Written by hand because the
standard library's :class:`decimal.Decimal` rounds to its context precision
(28 digits), raises on ``1e400`` when quantized and accepts ``NaN``,
``Infinity`` and ``1_000``; here every step is on Python integers, exact, and
the size of a number is bounded *before* it is converted.

An amount is ``units / 10**places``: :func:`parse_amount` returns the
smallest such ``places``, so an election scaled by ``10**max(places)``
(:attr:`pbvote.tally.Election.money_scale`) holds every amount as an exact
integer.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_DIGITS = 24
"""Digits allowed before the decimal point (amounts below ``10**24``)."""
MAX_PLACES = 9
"""Decimal places allowed after it."""

# plain decimal notation, optionally with an exponent (as Python's Decimal reads
# them), ASCII digits only; the exponent is bounded before it is converted
_NUMBER = re.compile(r"([+-]?)(?:([0-9]+)(?:\.([0-9]*))?|\.([0-9]+))(?:[eE]([+-]?[0-9]{1,6}))?",
                     re.ASCII)


class AmountError(ValueError):
    """Text that is not an amount the engine accepts; the message says why
    (``"is not a number"``, ``"must be a non-negative number"``, ...)."""


def parse_amount(text: str) -> tuple[int, int]:
    """``(units, places)`` with ``text == units / 10**places`` exactly, ``places`` minimal.

    Accepts non-negative numbers in decimal notation (``7200``, ``7200.50``,
    ``.5``, ``1e3``) with at most :data:`MAX_DIGITS` digits before the point
    and :data:`MAX_PLACES` after it (trailing zeros do not count). Raises
    :class:`AmountError` otherwise.
    """
    text = text.strip()
    if text.isdigit() and text.isascii() and len(text) <= MAX_DIGITS:
        return int(text), 0  # the common case, fast
    match = _NUMBER.fullmatch(text)
    if match is None:
        raise AmountError("is not a number")
    sign, whole, frac, only_frac, exp = match.groups()
    frac = frac or only_frac or ""
    digits = ((whole or "") + frac).lstrip("0")
    if not digits:
        return 0, 0
    if sign == "-":
        raise AmountError("must be a non-negative number")
    shift = int(exp or 0) - len(frac)  # value = int(digits) * 10**shift
    stripped = digits.rstrip("0")
    shift += len(digits) - len(stripped)
    if len(stripped) + shift > MAX_DIGITS:
        raise AmountError(f"is too large (at most {MAX_DIGITS} digits before the decimal point)")
    if -shift > MAX_PLACES:
        raise AmountError(f"has too many decimal places (at most {MAX_PLACES})")
    if shift >= 0:
        return int(stripped) * 10**shift, 0
    return int(stripped), -shift


def parse_whole(text: str) -> int:
    """A non-negative whole number (points, lengths): :func:`parse_amount` without places."""
    units, places = parse_amount(text)
    if places:
        raise AmountError("must be a whole number")
    return units


@lru_cache(maxsize=None)
def _places(scale: int) -> int:
    places = len(str(scale)) - 1
    if scale < 1 or 10**places != scale:
        raise ValueError(f"a money scale is a power of ten, not {scale}")
    return places


def _ratio(amount) -> tuple[int, int]:
    """``(numerator, denominator)`` of an int, a float, a Fraction or a gmpy2 ``mpq``."""
    if isinstance(amount, float):
        return amount.as_integer_ratio()
    return int(amount.numerator), int(amount.denominator)


def decimal_text(amount: int, scale: int = 1) -> str:
    """``amount / scale`` written exactly and briefly (``7200.5``, ``40``): for files and JSON."""
    places = _places(scale)
    whole, rest = divmod(amount, scale)
    if not rest:
        return str(whole)
    return f"{whole}.{rest:0{places}d}".rstrip("0")


def format_money(amount, scale: int = 1) -> str:
    """``amount`` (in units of ``1/scale``: an integer, an exact rational or a float) for people.

    Thousands separators; as many decimals as the scale has places (``7,200.50``
    for 720050 at scale 100, ``1,234`` at scale 1), two more when the amount is
    a fraction of the smallest unit (an equal share, a payment), rounded half to
    even at the last one. Exact at any size (integers only, no floating point).
    """
    if type(amount) is int and scale == 1:
        return f"{amount:,}"  # the common case, fast
    num, den = _ratio(amount)
    places = _places(scale)
    if den != 1:
        places += 2
    # round(num * 10**places / (den * scale)), half to even
    whole, rest = divmod(num * 10**places, den * scale)
    twice = 2 * rest
    if twice > den * scale or (twice == den * scale and whole % 2):
        whole += 1
    sign = "-" if whole < 0 else ""
    whole, rest = divmod(abs(whole), 10**places)
    return f"{sign}{whole:,}.{rest:0{places}d}" if places else f"{sign}{whole:,}"
