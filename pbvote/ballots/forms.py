"""Ballot, access-code and verification forms.

A ballot form is built per budget by its ballot kind (:mod:`pbvote.ballots.kinds`: its projects
are its fields).  The form only checks types (whole numbers, known field names); the rules of the
vote are checked by the kind's ``check_choices``, the one place where they live.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from babel import support
from flask import current_app, has_request_context, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.i18n import messages_path

from pbvote.ballots.choices import BallotProposal, Choice
from pbvote.ballots.kinds import BallotKind, kind_of
from pbvote.ballots.services import MAX_BATCH_SIZE
from pbvote.cycles.models import Budget
from pbvote.fields import BoundedIntegerField
from pbvote.forms import option
from pbvote.proposals.models import Proposal

PROJECT_FIELD_RE = re.compile(r"^(points|rank)_(.+)$")


@lru_cache(maxsize=64)
def _wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class BallotFormBase(FlaskForm):
    #: The idempotency token of this attempt to cast (set on the review page).
    token = HiddenField()

    class Meta:
        #: The app-wide CSRFProtect has already checked the token of every POST before the view runs;
        #: a second check by the form, and the fresh token it would sign for its own hidden field on
        #: every instantiation, were a tenth of the cast's CPU.  The templates put ``csrf_token()``.
        csrf = False

        def get_translations(self, form):
            # Flask-WTF parses WTForms' message catalogue again on every request; read it once.
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _wtforms_translations(str(get_locale()))

    budget: Budget
    proposals: list[Proposal]
    kind: BallotKind

    def project_field(self, proposal: Proposal):
        return self.kind.project_field(self, proposal)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # A field for a project that is not on this ballot (a tampered form) is an error, not noise.
        known = set(self._fields)
        for name in request.form.keys() if has_request_context() else ():
            if PROJECT_FIELD_RE.match(name) and name not in known:
                self.form_errors.append(str(_l("A marked project is not on this ballot. Reload the page and try again.")))
                return False
        return valid

    def to_choices(self) -> list[Choice]:
        return self.kind.choices_from_form(self)

    def load_choices(self, choices) -> None:
        """Fill the form from stored choices (to change a ballot)."""
        self.kind.fill_form(self, choices)


#: Form classes of frozen budgets' ballots, by everything they are built from.
_FORM_CLASSES: dict[tuple, type[BallotFormBase]] = {}


def ballot_form(budget: Budget, proposals: Sequence[Proposal | BallotProposal], **kwargs) -> BallotFormBase:
    """The ballot form of ``budget`` with one field (or option) per project.

    For a frozen budget's snapshot (:func:`pbvote.ballots.services.ballot_snapshot`) the form class is
    built once and kept: neither the rule nor the projects can change any more.
    """
    key = None
    if budget.frozen_at is not None and isinstance(proposals, tuple):
        key = (budget.id, budget.frozen_at, budget.ballot_type, budget.max_choices, proposals)
        form_class = _FORM_CLASSES.get(key)
        if form_class is not None:
            return _new_form(form_class, budget, proposals, kwargs)
    form_class = _form_class(budget, proposals)
    if key is not None:
        _FORM_CLASSES[key] = form_class
    return _new_form(form_class, budget, proposals, kwargs)


def _new_form(form_class, budget, proposals, kwargs) -> BallotFormBase:
    form = form_class(**kwargs)
    form.budget = budget
    form.proposals = proposals
    form.kind = kind_of(budget)
    return form


def _form_class(budget: Budget, proposals: Sequence[Proposal | BallotProposal]) -> type[BallotFormBase]:
    return type("BallotForm", (BallotFormBase,), kind_of(budget).form_fields(budget, proposals))


class AccessCodeForm(FlaskForm):
    code = StringField(
        _l("Access code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("The code on your letter or voting card, for example K7QM-3HXP-9RTA."),
    )


class BirthYearForm(FlaskForm):
    """Asked on the voting page of a cycle with a minimum age, of an account that has not said."""

    birth_year = BoundedIntegerField(_l("Year of birth"), validators=[DataRequired()])


class ReceiptCheckForm(FlaskForm):
    """"Check your ballot": anyone, from any device, with the tracking code of a receipt."""

    tracking_code = StringField(
        _l("Tracking code"),
        validators=[DataRequired(), Length(max=60)],
        description=_l("The tracking code printed on your receipt, for example ABCD-EFGH-…; dashes and spaces do not matter."),
    )


class GenerateCodesForm(FlaskForm):
    target = SelectField(_l("Codes for"), validators=[DataRequired()])
    count = BoundedIntegerField(
        _l("Number of codes"),
        validators=[DataRequired(), NumberRange(min=1, max=MAX_BATCH_SIZE)],
        default=100,
    )
    label = StringField(_l("Label"), validators=[Optional(), Length(max=120)], description=_l("For example: letters to Mill Street, March."))
    output = RadioField(
        _l("Get the codes as"),
        choices=[
            option("sheet", _l("A printable sheet (one code per cut-out slip)")),
            option("csv", _l("A CSV file (for a mail merge)")),
        ],
        default="sheet",
        description=_l("The codes are shown only this once: pbvote keeps only a fingerprint of each code."),
    )


class VoidCodeForm(FlaskForm):
    code = StringField(_l("Access code"), validators=[DataRequired(), Length(max=40)])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200)])


class VoidBallotForm(FlaskForm):
    code = StringField(
        _l("Tracking code"),
        validators=[DataRequired(), Length(max=60)],
        description=_l("The tracking code on the voter's receipt (dashes and spaces do not matter)."),
    )
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("Kept with the ballot and shown in the list below; for example: cast under pressure, reported at the town hall."),
    )
