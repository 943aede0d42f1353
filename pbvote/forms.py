"""Form helpers shared by every domain: choices, optional integers, service errors on forms.

The fields for numbers and ids are in :mod:`pbvote.fields`.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from pbvote.bounds import to_int32
from pbvote.errors import InvalidInput
from pbvote.timeutil import NonexistentLocalTime, local_to_utc


def option(value, label) -> SelectChoice:
    """One choice of a select, radio or checkbox field (``None`` becomes the empty value).

    The label may be a lazy translation: it stays lazy and is translated when the page renders.
    """
    return SelectChoice("" if value is None else value, label)


def options(pairs) -> list[SelectChoice]:
    """Choices from ``(value, label)`` pairs (WTForms 3.3 deprecates plain tuples)."""
    return [option(value, label) for value, label in pairs]


def utc_value(field, zone: str) -> datetime | None:
    """A date-and-time field's wall-clock value in ``zone`` (a cycle's) as naive UTC, None when empty.

    A time the zone skips when its clocks go forward raises :class:`~pbvote.errors.InvalidInput`
    naming the field."""
    if field.data is None:
        return None
    try:
        return local_to_utc(field.data, zone)
    except NonexistentLocalTime:
        raise InvalidInput(_("This time does not exist in %(zone)s: the clocks go forward then. Choose another time.",
                             zone=zone), field=field.name) from None


def coerce_int(value) -> int:
    """Coerce for a select or check boxes whose values are ids or small numbers: a number that no
    ``Integer`` column holds (twenty digits) is an invalid choice, never a query that fails."""
    return to_int32(value)


def coerce_optional_int(value):
    """Coerce for a select whose empty choice means "none" (otherwise as :func:`coerce_int`)."""
    if value in (None, "", "None"):
        return None
    return to_int32(value)


def add_form_error(form, error) -> None:
    """Show a service's :class:`~pbvote.errors.DomainError` on its field, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change state (sign out, delete, ...)."""
