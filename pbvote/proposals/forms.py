"""Forms for proposals, co-authors, supports, pledges, comments, moderation and review."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from pbvote.fields import BoundedIntegerField, FiniteFloatField, HiddenIdField, MoneyField
from pbvote.forms import coerce_optional_int, options
from pbvote.proposals.models import PledgeFrequency, PledgeKind


class ProposalForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(min=5, max=160)])
    body = TextAreaField(_l("Description"), validators=[DataRequired(), Length(max=20_000)],
                         description=_l("What, where, for whom and why. You can use Markdown: **bold**, lists, links."))
    estimated = MoneyField(_l("Estimated cost"), validators=[InputRequired(), NumberRange(min=0.01)],
                             description=_l("In currency units, e.g. 25000. Council staff will check it."))
    budget = SelectField(_l("Budget"), coerce=coerce_optional_int, validators=[InputRequired()])
    category = SelectField(_l("Category"), coerce=coerce_optional_int, validators=[Optional()])
    address = StringField(_l("Address or place (optional)"), validators=[Optional(), Length(max=200)])
    latitude = FiniteFloatField(_l("Latitude (optional)"), validators=[Optional(), NumberRange(min=-90, max=90)])
    longitude = FiniteFloatField(_l("Longitude (optional)"), validators=[Optional(), NumberRange(min=-180, max=180)])


class ImageForm(FlaskForm):
    image = FileField(_l("Picture"), validators=[FileRequired()],
                      description=_l("PNG, JPEG, GIF or WebP, at most 5 MB."))
    alt_text = StringField(_l("What the picture shows"), validators=[Optional(), Length(max=200)],
                           description=_l("For people who cannot see it."))


class InviteForm(FlaskForm):
    who = StringField(_l("E-mail address or name of the co-author"), validators=[DataRequired(), Length(max=254)])


class RespondForm(FlaskForm):
    accept = SubmitField(_l("Accept"))
    decline = SubmitField(_l("Decline"))


PLEDGE_KIND_LABELS = {
    PledgeKind.TIME: _l("Volunteer time"),
    PledgeKind.SPACE: _l("A space (room, yard, garage …)"),
    PledgeKind.MATERIALS: _l("Materials or tools"),
    PledgeKind.SKILLS: _l("Professional skills"),
}
FREQUENCY_LABELS = {
    PledgeFrequency.ONCE: _l("once"),
    PledgeFrequency.WEEKLY: _l("every week"),
    PledgeFrequency.MONTHLY: _l("every month"),
    PledgeFrequency.YEARLY: _l("every year"),
}


class PledgeForm(FlaskForm):
    kind = SelectField(_l("I can give"), choices=options((k.value, v) for k, v in PLEDGE_KIND_LABELS.items()))
    hours = BoundedIntegerField(_l("Hours (volunteer time)"), validators=[Optional(), NumberRange(min=1, max=10_000)])
    frequency = SelectField(_l("How often (volunteer time)"),
                            choices=options([("", "—")] + [(k.value, v) for k, v in FREQUENCY_LABELS.items()]),
                            validators=[Optional()])
    description = StringField(_l("What exactly"), validators=[DataRequired(), Length(max=500)],
                              description=_l("E.g. “water the trees on my street”, “our school hall on Saturdays”."))


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Your comment"), validators=[DataRequired(), Length(max=5000)],
                         description=_l("Be kind and stay on topic. Markdown is allowed."))
    parent_id = HiddenIdField()


class CommentEditForm(FlaskForm):
    body = TextAreaField(_l("Your comment"), validators=[DataRequired(), Length(max=5000)])


class FlagForm(FlaskForm):
    reason = StringField(_l("Why should moderators look at this? (optional)"), validators=[Optional(), Length(max=300)])


class ModerateForm(FlaskForm):
    reason = StringField(_l("Reason (kept in the moderation log)"), validators=[DataRequired(), Length(max=500)])


class ReviewForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=options([
        ("feasible", _l("Feasible: goes on the ballot")),
        ("unfeasible", _l("Not feasible")),
        ("merge", _l("Merge into another proposal")),
    ]), validators=[InputRequired()])
    final = MoneyField(_l("Final cost (if feasible)"), validators=[Optional(), NumberRange(min=0.01)])
    explanation = TextAreaField(_l("Public explanation of the cost"), validators=[Optional(), Length(max=5000)],
                                description=_l("Required when the final cost differs from the estimate."))
    reason = TextAreaField(_l("Public reason (not feasible or merged)"), validators=[Optional(), Length(max=5000)])
    target = SelectField(_l("Merge into"), coerce=coerce_optional_int, validators=[Optional()],
                         description=_l("Only proposals of the same budget already found feasible are offered."))


class ListForm(FlaskForm):
    """The proposal list's search, filters and sort (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search title and description"), validators=[Optional(), Length(max=200)],
                    description=_l("Whole words, each of them; the last one may be the start of a word."))
    budget = SelectField(_l("Budget"), coerce=coerce_optional_int, validators=[Optional()])
    category = SelectField(_l("Category"), coerce=coerce_optional_int, validators=[Optional()])
    status = SelectField(_l("Status"), validators=[Optional()])
    sort = SelectField(_l("Sort by"), choices=options([("newest", _l("Newest")), ("supported", _l("Most supported")),
                                                       ("random", _l("Random order"))]), default="newest")


class GroupForm(FlaskForm):
    """A group of mutually exclusive projects: its name says why they cannot all be built."""

    name = StringField(_l("Why only one can be built"), validators=[DataRequired(), Length(max=200)],
                       description=_l("Residents read it beside each project, e.g. “Same site: Elm Park north lawn”."))


class GroupMemberForm(FlaskForm):
    """A proposal to add to a group (the feasible proposals of the budget in no group are offered;
    the service says why any other cannot join)."""

    proposal = SelectField(_l("Add a project"), coerce=coerce_optional_int, validators=[InputRequired()],
                           validate_choice=False)
