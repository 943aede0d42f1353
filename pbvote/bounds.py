"""The numbers pbvote accepts from outside — ids, page numbers, whole numbers, amounts — bounded by
the columns that store them, so that a number too large for the database is refused where it is
read (a 404, a form error) instead of failing inside the database (a 500).

Why the bounds are what they are (see the ``models.py`` of each domain):

* Ids are ``integer`` primary keys: 32 bits on PostgreSQL, which answers a larger number in a
  query with "out of range" (SQLite's 64-bit ids never reach 2^31 either).  An id is 1 .. 2^31-1.
* Limits, positions, points, ranks, hours and years are ``sa.Integer`` columns: -2^31 .. 2^31-1.
* Amounts of money are ``sa.BigInteger`` columns of the currency's smallest unit.  A person enters
  currency units (``12500.50``); at most :data:`MAX_MONEY` (just under a trillion) — in the smallest
  unit of any currency (at most 4 decimals) far below 2^63, with room for sums of many of them.
* A page number becomes an ``OFFSET`` (a 64-bit integer on both databases); pages stop at 2^31-1.

The URL converter uses Werkzeug's own bounded integer converter; the form fields built on these
bounds live in :mod:`pbvote.fields`.
"""
from __future__ import annotations

import re
from decimal import Decimal

from flask import abort, request
from werkzeug.routing import IntegerConverter

#: The largest value of a 32-bit signed integer column (PostgreSQL ``integer``).
INT32_MAX = 2**31 - 1
#: The smallest value of a 32-bit signed integer column.
INT32_MIN = -(2**31)
#: The largest id: ids are positive ``integer`` primary keys.
MAX_ID = INT32_MAX
#: The largest page number of a paginated list.
MAX_PAGE = INT32_MAX
#: The largest amount of money a form accepts, in currency units (the column holds the smallest unit
#: in a 64-bit integer).
MAX_MONEY = Decimal("999999999999.99")

_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


class IdConverter(IntegerConverter):
    """``<id:name>`` in a route: a positive id of at most :data:`MAX_ID` written in ASCII digits.

    Anything else (``0``, ``2147483648``, twenty digits, ``١``) does not match the rule, so the URL
    answers 404 before the view runs.  Registered under the name ``id`` by :func:`register_converters`.
    """

    regex = r"[0-9]+"

    def __init__(self, map) -> None:  # noqa: A002 - Werkzeug's name
        super().__init__(map, min=1, max=MAX_ID)


def register_converters(app) -> None:
    """Make ``<id:...>`` available to routes (call before blueprints are registered)."""
    app.url_map.converters["id"] = IdConverter


def to_int32(value) -> int:
    """``int(value)``, or ``ValueError`` when the number does not fit an ``Integer`` column: for
    WTForms' ``coerce`` of selects and check boxes whose values are ids or small numbers (WTForms
    turns the ``ValueError`` into an error on the field)."""
    number = int(value)
    if not INT32_MIN <= number <= INT32_MAX:
        raise ValueError(f"{number} is out of range")
    return number


def parse_id(value) -> int | None:
    """``value`` (a string from a form or query string, or an int) as an id, or ``None`` when it is
    not one: not ASCII digits, zero, or larger than :data:`MAX_ID`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 1 <= value <= MAX_ID else None
    if not isinstance(value, str):
        return None
    text = value.strip().lstrip("0")
    if not _WHOLE_NUMBER.fullmatch(text) or text.startswith("-") or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def page_number(name: str = "page") -> int:
    """The page of a paginated list asked for in the query string (``?page=3``).

    Missing, empty, not a number or below 1: the first page, as the lists always did.  Above
    :data:`MAX_PAGE` (the ``OFFSET`` would overflow the database's integer): 404, like any page
    that does not exist.  Every paginated view reads its page through this.
    """
    raw = request.args.get(name, "").strip()
    if not _WHOLE_NUMBER.fullmatch(raw) or raw.startswith("-"):
        return 1
    if len(raw.lstrip("0")) > len(str(MAX_PAGE)) or int(raw) > MAX_PAGE:
        abort(404)
    return max(int(raw), 1)
