"""Forms of the paper pages.  Every one has a CSRF token (Flask-WTF) and labels; the rules are the
services'."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from pbvote.ballots.kinds.fields import MultiCheckboxField
from pbvote.ballots.models import BallotChannel
from pbvote.ballots.paper.models import InvalidPolicy
from pbvote.ballots.paper.services import MAX_BATCH_SIZE
from pbvote.fields import BoundedIntegerField, HiddenIdField
from pbvote.forms import coerce_int, coerce_optional_int, option, options

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class SessionForm(FlaskForm):
    place = StringField(_l("Place"), validators=[DataRequired(), Length(max=120)],
                        description=_l("For example: Riverside Library, Mill Street school gate."))
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    starts_at = DateTimeLocalField(_l("Starts"), format=DATETIME_FORMAT, validators=[InputRequired()])
    ends_at = DateTimeLocalField(_l("Ends"), format=DATETIME_FORMAT, validators=[InputRequired()])
    budgets = MultiCheckboxField(_l("Budgets offered"), coerce=coerce_int, validate_choice=False,
                                 description=_l("Voters get a sheet for each budget they may vote in."))
    volunteers = MultiCheckboxField(_l("Volunteers"), coerce=coerce_int, validate_choice=False,
                                    description=_l("Only the volunteers assigned here can key the session's sheets "
                                                   "and keep its register (staff always can)."))
    notes = TextAreaField(_l("Notes for the volunteers"), validators=[Optional(), Length(max=1000)])


POLICY_LABELS = {
    InvalidPolicy.INVALID: _l("A ballot that breaks a rule is invalid as a whole (recorded with its reason, never "
                              "counted in part)"),
    InvalidPolicy.REFER: _l("A ballot that breaks a rule is set aside for staff, who check the paper before it is "
                            "recorded as invalid"),
}


class SettingsForm(FlaskForm):
    invalid_policy = RadioField(_l("Paper ballots that break the rules"), validators=[DataRequired()],
                                choices=options((p.value, label) for p, label in POLICY_LABELS.items()),
                                default=InvalidPolicy.INVALID.value)
    policy_note = TextAreaField(_l("Your own words on the sheet (optional)"), validators=[Optional(), Length(max=500)],
                                description=_l("Printed under the policy, for example how crossed-out marks are read."))
    walk_ins = BooleanField(_l("Walk-ins may vote on paper or at the kiosk"),
                            description=_l("Residents with neither their letter's code nor an account. The volunteer "
                                           "checks who they are; pbvote cannot check them against online votes."))


class PrintForm(FlaskForm):
    budget = SelectField(_l("Budget"), coerce=coerce_int, validate_choice=False)
    count = BoundedIntegerField(_l("Number of sheets"), default=50,
                                validators=[InputRequired(), NumberRange(min=1, max=MAX_BATCH_SIZE)])


class EntryForm(FlaskForm):
    """The keying form: one line per sheet, Enter saves.  Field names are a contract (``serial``, ``choices``)."""

    serial = StringField(_l("Serial number"), validators=[Optional(), Length(max=32)],
                         description=_l("Type it, or scan the QR code beside it."))
    choices = StringField(_l("Choices"), validators=[Optional(), Length(max=400)])
    #: Idempotency: the same form sent twice is one entry.
    token = HiddenField()


class CountsForm(FlaskForm):
    received = BoundedIntegerField(_l("Sheets received"), validators=[InputRequired(), NumberRange(min=0)])
    issued = BoundedIntegerField(_l("Issued to voters"), validators=[InputRequired(), NumberRange(min=0)])
    spoiled = BoundedIntegerField(_l("Given back spoiled"), validators=[InputRequired(), NumberRange(min=0)])
    returned = BoundedIntegerField(_l("Returned unused"), validators=[InputRequired(), NumberRange(min=0)])


CHANNEL_CHOICES = [
    option(BallotChannel.PAPER.value, _l("Paper sheets")),
    option(BallotChannel.KIOSK.value, _l("The kiosk (a single-use code is issued)")),
]


class RegisterCodeForm(FlaskForm):
    code = StringField(_l("Access code from the voter's letter"), validators=[DataRequired(), Length(max=40)])


class LookupForm(FlaskForm):
    class Meta:
        csrf = False  # a search (GET): it changes nothing

    query = StringField(_l("Name or e-mail address"), validators=[DataRequired(), Length(min=2, max=254)])


class RegisterAccountForm(FlaskForm):
    user = HiddenIdField()
    channel = RadioField(_l("Votes on"), choices=CHANNEL_CHOICES, default=BallotChannel.PAPER.value,
                         validators=[DataRequired()])


class WalkInForm(FlaskForm):
    district = SelectField(_l("Home district"), coerce=coerce_optional_int, validate_choice=False)
    channel = RadioField(_l("Votes on"), choices=CHANNEL_CHOICES, default=BallotChannel.PAPER.value,
                         validators=[DataRequired()])


class DecideForm(FlaskForm):
    choices = StringField(_l("What the paper says"), validators=[DataRequired(), Length(max=400)])
    note = StringField(_l("How you decided"), validators=[DataRequired(), Length(max=500)],
                       description=_l("Kept with the sheet, for example: checked the paper, the mark on 7 is clear."))


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])


class RequiredNoteForm(FlaskForm):
    note = StringField(_l("What was done"), validators=[DataRequired(), Length(max=500)])
