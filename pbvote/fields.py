"""Form fields for numbers and ids that refuse what the database cannot store.

WTForms' ``IntegerField``, ``DecimalField`` and ``FloatField`` accept any number Python can parse:
twenty digits, ``1e30``, ``Infinity``, ``NaN``.  A ``NumberRange(min=0)`` lets the large ones
through, and the request then fails in the database (an integer out of range on PostgreSQL, a
Python int too large for SQLite) or in the conversion to the smallest currency unit (``Infinity``).
The fields here parse as WTForms does, then refuse, with a message on the field, what does not fit
the column behind it (bounds in :mod:`pbvote.bounds`):

* :class:`BoundedIntegerField` — a whole number that fits an ``Integer`` column;
* :class:`MoneyField` — a finite amount in currency units of at most :data:`~pbvote.bounds.MAX_MONEY`;
* :class:`FiniteFloatField` — a finite number (coordinates);
* :class:`HiddenIdField` — a hidden input holding an id (the comment a reply answers).

A minus sign on zero (``-0``) is refused by the integer and money fields: nobody means it, and it
usually comes from a script that builds numbers.  Coordinates keep it (as 0.0): a map widget that
rounds a point just west of Greenwich writes ``-0.00000``, and it is the same place.

Every form under ``pbvote/`` uses these instead of WTForms' own number fields; a test checks it.
A field that refuses a value leaves ``data`` at ``None`` and stops its validators, so only the one
clear message shows (not "not a valid number" followed by "must be at least 1").
"""
from __future__ import annotations

import math
from decimal import Decimal

from flask_babel import format_decimal
from flask_babel import gettext as _
from wtforms import DecimalField, FloatField, HiddenField, IntegerField
from wtforms.validators import StopValidation

from pbvote.bounds import INT32_MAX, INT32_MIN, MAX_MONEY, parse_id


class _RefusedStopsValidation:
    """A value the field could not accept stops its validators: its own message is the one shown."""

    def pre_validate(self, form):
        super().pre_validate(form)
        if self.process_errors and self.raw_data and str(self.raw_data[0]).strip():
            raise StopValidation()


def _refuse(field, message: str):
    field.data = None
    raise ValueError(message)


def _check_range(field, value, minimum, maximum, *, amount: bool = False) -> None:
    if value > maximum:
        _refuse(field, _("Enter an amount no larger than %(max)s.", max=format_decimal(maximum)) if amount
                else _("Enter a number no larger than %(max)s.", max=format_decimal(maximum)))
    if value < minimum:
        _refuse(field, _("Enter an amount no smaller than %(min)s.", min=format_decimal(minimum)) if amount
                else _("Enter a number no smaller than %(min)s.", min=format_decimal(minimum)))


class BoundedIntegerField(_RefusedStopsValidation, IntegerField):
    """A whole number between ``minimum`` and ``maximum`` (default: what an ``Integer`` column holds).

    Keep ``NumberRange`` for the rule of the form (at least 1, at most 100); these bounds are the
    storage's, and only narrow it.
    """

    def __init__(self, label=None, validators=None, *, minimum: int = INT32_MIN, maximum: int = INT32_MAX, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.minimum = max(minimum, INT32_MIN)
        self.maximum = min(maximum, INT32_MAX)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if not valuelist or self.data is None:
            return
        if self.data == 0 and str(valuelist[0]).strip().startswith("-"):
            _refuse(self, _("Enter 0 without a minus sign."))
        _check_range(self, self.data, self.minimum, self.maximum)


class MoneyField(_RefusedStopsValidation, DecimalField):
    """An amount in currency units (``25000.50``), finite and within ±:data:`~pbvote.bounds.MAX_MONEY`,
    so that it converts to the smallest unit (:func:`pbvote.money.to_minor_units`) and fits the
    ``BigInteger`` column of amounts."""

    def __init__(self, label=None, validators=None, *, places=2, maximum: Decimal = MAX_MONEY, **kwargs):
        super().__init__(label, validators, places=places, **kwargs)
        self.maximum = min(Decimal(maximum), MAX_MONEY)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if not valuelist or self.data is None:
            return
        if not self.data.is_finite():
            _refuse(self, _("Enter an amount in digits, for example 25000 or 25000.50."))
        if self.data.is_zero() and self.data.is_signed():
            _refuse(self, _("Enter 0 without a minus sign."))
        _check_range(self, self.data, -self.maximum, self.maximum, amount=True)


class FiniteFloatField(_RefusedStopsValidation, FloatField):
    """A finite number (never ``NaN`` or ``Infinity``, which ``float()`` accepts and a ``NumberRange``
    lets through); ``-0`` is kept as 0.0."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if not valuelist or self.data is None:
            return
        if not math.isfinite(self.data):
            _refuse(self, _("Enter a number in digits, for example 51.5074."))
        if self.data == 0:
            self.data = 0.0


class HiddenIdField(_RefusedStopsValidation, HiddenField):
    """A hidden input holding an object's id: ``data`` is the id (an int) or ``None`` when empty.

    Anything but an id (letters, zero, a number beyond :data:`~pbvote.bounds.MAX_ID`) is an error on
    the field; :func:`form_errors` in ``macros.html`` shows the errors of hidden fields above the form.
    """

    def process_formdata(self, valuelist):
        raw = str(valuelist[0]).strip() if valuelist else ""
        if not raw:
            self.data = None
            return
        self.data = parse_id(raw)
        if self.data is None:
            raise ValueError(_("This item no longer exists. Reload the page and try again."))
