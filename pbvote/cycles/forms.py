"""Staff forms: cycle settings and eligibility, phase dates, budgets with their rules, categories."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from pbvote.cycles import rules
from pbvote.cycles.models import PHASE_ORDER, BallotType, DistrictEligibility
from pbvote.fields import BoundedIntegerField, MoneyField
from pbvote.forms import coerce_optional_int, options
from pbvote.cycles import ballot_kinds
from pbvote.cycles.labels import ELIGIBILITY_LABELS, PHASE_LABELS
from pbvote.timeutil import is_zone

TALLY_RULE_LABELS = {
    "greedy": _l("Greedy: most votes first, skipping what no longer fits"),
    "greedy-no-skip": _l("Greedy, stopping at the first project that does not fit"),
    "greedy-threshold": _l("Greedy among projects above a vote threshold"),
    "greedy-exclusive": _l("Greedy, skipping projects that cannot be built together with one already funded"),
    "greedy-per-cost": _l("Value for money: votes per cost"),
    "knapsack": _l("Knapsack: the set with the most total votes"),
    "mes": _l("Method of Equal Shares"),
    "phragmen": _l("Phragmén's sequential rule"),
}
PARAM_LABELS = {
    "approvals": _l("Number of votes"), "cost": _l("Cost of the project"), "points": _l("Points given by voters"),
    "none": _l("None"), "greedy": _l("Greedy"), "add1": _l("Add 1 to the budget"),
    "add1+greedy": _l("Add 1, then greedy"),
    "lexico": _l("Lowest project number first"), "equalshares": _l("Equal-shares order"),
}


def _param_choices(name: str) -> list[tuple[str, str]]:
    return options((value, PARAM_LABELS[value]) for value in rules.PARAMS[name])


class CycleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=160)])
    slug = StringField(_l("Web address"), validators=[DataRequired(), Length(max=64)],
                       description=_l("Lower-case letters, digits and hyphens, e.g. greenhill-2027."))
    description = TextAreaField(_l("Description"), description=_l("Markdown. Shown on the cycle's page."))
    currency = StringField(_l("Currency"), default="EUR", validators=[DataRequired(), Length(min=3, max=3)],
                           description=_l("Three-letter code, e.g. EUR."))
    timezone = StringField(
        _l("Time zone"), validators=[Optional(), Length(max=64)],
        description=_l("An IANA name such as Europe/Warsaw. Phase dates are entered and shown in this zone. "
                       "Leave empty for the site's time zone."))
    is_published = BooleanField(_l("Published (visible to everyone)"))
    max_proposals_per_resident = BoundedIntegerField(
        _l("Proposals per resident"), validators=[Optional(), NumberRange(min=1)],
        description=_l("Leave empty for no limit."))
    support_threshold = BoundedIntegerField(
        _l("Supports needed for review"), default=0, validators=[InputRequired(), NumberRange(min=0)],
        description=_l("0: every submitted proposal is reviewed."))
    district_eligibility = SelectField(
        _l("Budgets a resident may vote in"),
        choices=options((e.value, label) for e, label in ELIGIBILITY_LABELS.items()),
        default=DistrictEligibility.HOME_DISTRICT.value)
    minimum_age = BoundedIntegerField(_l("Minimum age to vote"), validators=[Optional(), NumberRange(min=0, max=120)],
                               description=_l("Leave empty for no minimum."))
    verified_only = BooleanField(_l("Only verified residents may vote"))
    access_codes_enabled = BooleanField(_l("Residents may vote with an access code"), default=True)
    allow_vote_change = BooleanField(_l("Voters may change their vote until voting ends"), default=True)

    def validate_timezone(self, field):
        if field.data and not is_zone(field.data.strip()):
            raise ValidationError(_l("Choose a time zone from the list, such as Europe/Warsaw, or leave it empty "
                                     "for the site's."))


def _phases_form():
    class PhasesForm(FlaskForm):
        pass

    for kind in PHASE_ORDER:
        label = PHASE_LABELS[kind]
        setattr(PhasesForm, f"{kind.value}_start", DateTimeLocalField(
            _l("%(phase)s starts", phase=label), format="%Y-%m-%dT%H:%M", validators=[Optional()]))
        setattr(PhasesForm, f"{kind.value}_end", DateTimeLocalField(
            _l("%(phase)s ends", phase=label), format="%Y-%m-%dT%H:%M", validators=[Optional()],
            description=_l("Leave both dates empty to skip this phase.")))
    return PhasesForm


PhasesForm = _phases_form()


class BudgetForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    district = SelectField(_l("District"), coerce=coerce_optional_int, validators=[Optional()],
                           description=_l("Leave on “City-wide” for a budget of the whole city."))
    position = BoundedIntegerField(_l("Position"), default=0, validators=[Optional()])
    total = MoneyField(_l("Amount"), validators=[InputRequired(), NumberRange(min=0)],
                         description=_l("In currency units, e.g. 250000."))
    ballot_type = SelectField(_l("Ballot"), default=BallotType.APPROVAL.value)
    min_choices = BoundedIntegerField(_l("Minimum projects a voter chooses"), default=1,
                               validators=[Optional(), NumberRange(min=0)])
    max_choices = BoundedIntegerField(_l("Maximum projects (approval) or number to rank (ranking)"),
                               validators=[Optional(), NumberRange(min=1)], description=_l("Empty: no maximum."))
    min_spend_percent = BoundedIntegerField(_l("Minimum share of the budget a knapsack ballot must spend (%)"), default=0,
                                     validators=[Optional(), NumberRange(min=0, max=100)])
    points_total = BoundedIntegerField(_l("Points each voter spreads (points ballot)"), validators=[Optional(), NumberRange(min=1)])
    points_per_project = BoundedIntegerField(_l("Most points on one project (points ballot)"),
                                      validators=[Optional(), NumberRange(min=1)])
    tally_rule = SelectField(
        _l("Tally rule"), default="greedy",
        # the engine's registry decides which rules are offered; this module only translates their labels
        choices=options((name, TALLY_RULE_LABELS.get(name, rule.label)) for name, rule in rules.RULES.items()),
        description=_l("Greedy rules fund the most popular projects first. “Greedy, skipping projects that cannot "
                       "be built together with one already funded” honours the budget's groups of mutually exclusive projects (two plans for one site): once one of "
                       "a group is funded, the others are skipped. Staff set the groups up on the budget's "
                       "“Groups of mutually exclusive projects” page before voting starts."))
    utility = SelectField(_l("What a vote is worth"), choices=_param_choices("utility"))
    completion = SelectField(_l("Completion (Method of Equal Shares only)"), choices=_param_choices("completion"))
    tie_break = SelectField(_l("Tie-break"), choices=_param_choices("tie_break"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The ballot kinds register themselves (pbvote.ballots.kinds) after this module is imported.
        self.ballot_type.choices = options((kind.type.value, kind.label) for kind in ballot_kinds.registered())


class CategoryForm(FlaskForm):
    name = StringField(_l("New category"), validators=[DataRequired(), Length(max=80)])

