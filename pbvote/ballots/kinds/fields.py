"""WTForms fields the ballot kinds build their forms from (one field per project, or one list)."""
from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from pbvote.ballots.choices import OnBallot
from pbvote.fields import BoundedIntegerField
from pbvote.forms import coerce_int, coerce_optional_int, option


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def project_checkboxes(proposals: Sequence[OnBallot]) -> MultiCheckboxField:
    """One list of project ids, even for choose-one (shown as radio buttons), so that a tampered
    form sending two projects is refused rather than cut to one.  ``validate_choice=False``: the
    kind's rules say in plain words what is wrong with a project id."""
    choices = [option(p.id, p.title) for p in proposals]
    return MultiCheckboxField(_l("Projects"), coerce=coerce_int, choices=choices, validate_choice=False)


def points_field(proposal: OnBallot) -> BoundedIntegerField:
    return BoundedIntegerField(
        _l("Points for “%(title)s”", title=proposal.title),
        validators=[Optional(), NumberRange(min=0, message=_l("Use a whole number of 0 or more."))],
    )


def rank_field(proposal: OnBallot, ranks: list) -> SelectField:
    return SelectField(
        _l("Rank of “%(title)s”", title=proposal.title), choices=ranks, coerce=coerce_optional_int, validate_choice=False
    )


def rank_options(limit: int) -> list:
    return [option("", _l("Not ranked"))] + [option(str(i), str(i)) for i in range(1, limit + 1)]
