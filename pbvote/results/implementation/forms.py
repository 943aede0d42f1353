"""Staff forms of implementation tracking."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from pbvote.fields import BoundedIntegerField
from pbvote.forms import options
from pbvote.results.implementation.labels import IMPLEMENTATION_STATUS_LABELS


class ImplementationForm(FlaskForm):
    """A funded project's status, progress, dates and public note."""

    status = RadioField(_l("Status"), choices=options((s.value, label) for s, label in IMPLEMENTATION_STATUS_LABELS.items()),
                        validators=[InputRequired()])
    progress_percent = BoundedIntegerField(_l("Progress (%)"), minimum=0, maximum=100,
                                           validators=[InputRequired(), NumberRange(min=0, max=100)],
                                           description=_l("From 0 to 100. A finished project is at 100."))
    started_on = DateField(_l("Started on"), validators=[Optional()])
    expected_on = DateField(_l("Expected to be finished by"), validators=[Optional()])
    finished_on = DateField(_l("Finished on"), validators=[Optional()],
                            description=_l("Today if left empty when the project is marked done."))
    public_note = TextAreaField(_l("Public note"), validators=[Optional(), Length(max=5000)],
                                description=_l("What is happening, in plain words. Shown on the public page."))
    cancellation_reason = TextAreaField(_l("Reason for the cancellation"), validators=[Optional(), Length(max=2000)],
                                        description=_l("Required when the project is cancelled; shown publicly."))


class MilestoneForm(FlaskForm):
    title = StringField(_l("Milestone"), validators=[DataRequired(), Length(max=160)])
    due_on = DateField(_l("Due on"), validators=[Optional()])
    done_on = DateField(_l("Done on"), validators=[Optional()], description=_l("Empty while not done."))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class PhotoForm(FlaskForm):
    photo = FileField(_l("Photo"), validators=[FileRequired()], description=_l("PNG, JPEG, GIF or WebP, at most 5 MB."))
    alt_text = StringField(_l("What the photo shows"), validators=[DataRequired(), Length(max=200)],
                           description=_l("For people who cannot see it. Required."))


class PledgeFulfilmentForm(FlaskForm):
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)],
                       description=_l("E.g. “12 volunteers planted the trees on 4 May”."))
