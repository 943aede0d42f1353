"""What every ballot kind owns, and the parts that several kinds share.

A kind (one module per ballot type in this package) answers every question that depends on how a
ballot is filled in: which settings a budget needs for it, its form's fields and how they become
:class:`~pbvote.ballots.choices.Choice` values, the rules a ballot must follow (the one place
where they are checked), the rules in plain words for voters, the order of choices on a receipt,
the tally engine's ballot and pabulib ``vote_type``, a plausible random ballot (demo data, tests,
load), and the one-line syntax volunteers key paper ballots in.  Code outside this package asks
``kind_of(budget)`` and never compares ballot types.
"""
from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from flask_babel import gettext as _
from flask_babel import ngettext
from wtforms import Field

from pbvote import tally
from pbvote.ballots.choices import Choice, OnBallot
from pbvote.ballots.kinds.fields import project_checkboxes
from pbvote.cycles.models import BallotType
from pbvote.errors import InvalidBallot, InvalidInput

#: Separators between the numbers of a keyed paper ballot: spaces, commas, semicolons.
PAPER_SEPARATORS = re.compile(r"[\s,;]+")


class BallotKind:
    """The base of every ballot kind.  Subclasses set the class attributes and override the hooks
    whose default does not fit them."""

    #: The ballot type this kind implements (the value stored on ``Budget.ballot_type``).
    type: ClassVar[BallotType]
    #: Shown to staff when they choose a budget's ballot.
    label: ClassVar[Any]
    #: pabulib's ``vote_type`` for ballots of this kind.
    vote_type: ClassVar[str]
    #: The template that shows one project's input on the ballot (``ballots/kinds/<name>.html``).
    widget: ClassVar[str]
    #: True when the order of choices means something (a ranking): receipts list them in order.
    ordered: ClassVar[bool] = False
    #: How volunteers key a paper ballot of this kind, for the entry screen.
    paper_syntax: ClassVar[Any]
    #: The box printed beside each project on a paper ballot (``paper/marks/<name>.html``).
    paper_mark: ClassVar[str]
    #: The stored choice's number the engine's ballot reads besides the project (``"points"``,
    #: ``"rank"``), or None when a choice is a tick.
    engine_value: ClassVar[str | None] = None

    # -- the budget's settings --------------------------------------------------------------

    def check_settings(self, values: dict[str, Any]) -> dict[str, Any]:
        """See :meth:`pbvote.cycles.ballot_kinds.BudgetSettingsKind.check_settings`."""
        min_choices = values.get("min_choices")
        min_choices = 0 if min_choices is None else min_choices
        if min_choices < 0:
            raise InvalidInput(_("The minimum number of projects cannot be negative."), field="min_choices")
        min_choices, max_choices = self.choice_limits(min_choices, values.get("max_choices"))
        if max_choices is not None and max_choices < max(min_choices, 1):
            raise InvalidInput(
                _("The maximum number of projects must be at least the minimum (and at least 1)."), field="max_choices"
            )
        return {
            "min_choices": min_choices,
            "max_choices": max_choices,
            "min_spend_percent": self.min_spend_setting(values.get("min_spend_percent") or 0),
            **self.points_settings(values.get("points_total"), values.get("points_per_project")),
        }

    def choice_limits(self, min_choices: int, max_choices: int | None) -> tuple[int, int | None]:
        """The budget's least and most projects a voter marks (checked further by the caller)."""
        return min_choices, max_choices

    def min_spend_setting(self, percent: int) -> int:
        """The share of the budget a ballot must spend; only knapsack ballots use it."""
        return 0

    def points_settings(self, total: int | None, per_project: int | None) -> dict[str, int | None]:
        """The points a voter spreads; only points ballots use them."""
        return {"points_total": None, "points_per_project": None}

    # -- the form ----------------------------------------------------------------------------

    def form_fields(self, budget, proposals: Sequence[OnBallot]) -> dict[str, Field]:
        """The fields of the budget's ballot form (unbound WTForms fields by name)."""
        raise NotImplementedError

    def choices_from_form(self, form) -> list[Choice]:
        """The choices a submitted ballot form holds (its types checked; the rules are not)."""
        raise NotImplementedError

    def fill_form(self, form, choices: Iterable[Choice]) -> None:
        """Fill the ballot form from stored choices (to see or change a ballot)."""
        raise NotImplementedError

    def project_field(self, form, proposal: OnBallot) -> Field | None:
        """The form field that holds ``proposal``'s value, when each project has one."""
        return None

    def form_values(self, choices: Iterable[Choice]) -> list[tuple[str, str]]:
        """``choices`` as the (name, value) pairs the form posts (the review page's hidden fields)."""
        raise NotImplementedError

    # -- the rules ---------------------------------------------------------------------------

    def check_choices(self, budget, proposals: Sequence[OnBallot], choices: Iterable[Choice]) -> list[Choice]:
        """Check ``choices`` against the budget's (frozen) rules; return them normalised, by project.

        Raises :class:`InvalidBallot` with a message in plain words (``field="projects"``).
        """
        by_id = {p.id: p for p in proposals}
        choices = list(choices)
        ids = [choice.proposal_id for choice in choices]
        if len(set(ids)) != len(ids):
            raise InvalidBallot(_("The same project is marked more than once."), field="projects")
        if any(not isinstance(pid, int) or pid not in by_id for pid in ids):
            raise InvalidBallot(_("A marked project is not on this ballot. Reload the page and try again."), field="projects")
        choices = self.normalise(budget, proposals, choices)
        self.check_count(budget, len(choices))
        self.check_content(budget, proposals, choices)
        return sorted(choices, key=lambda c: c.proposal_id)

    def normalise(self, budget, proposals: Sequence[OnBallot], choices: list[Choice]) -> list[Choice]:
        """Check the values of single choices (points, ranks, ticks) and drop empty ones."""
        raise NotImplementedError

    def check_count(self, budget, count: int) -> None:
        minimum = budget.min_choices or 0
        if count < minimum:
            raise InvalidBallot(
                ngettext("Choose at least %(num)d project.", "Choose at least %(num)d projects.", minimum),
                field="projects",
                reason="too_few",
            )

    def check_content(self, budget, proposals: Sequence[OnBallot], choices: list[Choice]) -> None:
        """Rules on the ballot as a whole beyond the count (a knapsack's spending)."""

    # -- words for voters ----------------------------------------------------------------------

    def rules(self, budget, count: int) -> list[str]:
        """The ballot's rules in plain words, one sentence each (translated), without the ones
        every ballot shares (random order, changing one's vote)."""
        return self.own_rules(budget, count) + self.minimum_rule(budget)

    def own_rules(self, budget, count: int) -> list[str]:
        raise NotImplementedError

    def minimum_rule(self, budget) -> list[str]:
        if not budget.min_choices:
            return []
        return [ngettext("Mark at least %(num)d project.", "Mark at least %(num)d projects.", budget.min_choices)]

    # -- receipts, the engine, pabulib ---------------------------------------------------------

    def receipt_order(self, choices: Iterable) -> list:
        """Choices (stored or not) in the order a receipt and the review page list them."""
        return list(choices)

    def engine_ballot(self, choices: Iterable) -> tally.Ballot:
        """The tally engine's ballot for stored choices (all on the ballot, at least one)."""
        choices = list(choices)
        values = None if self.engine_value is None else [getattr(c, self.engine_value) for c in choices]
        return self.engine_ballot_of([c.proposal_id for c in choices], values)

    def engine_ballot_of(self, ids: Sequence[int], values: Sequence[int | None] | None,
                         weight: int = 1) -> tally.Ballot:
        """The engine's ballot of ``weight`` voters from plain values: the project ids of the stored
        choices and, when the kind has an :attr:`engine_value`, that number of each (same order).
        What :meth:`engine_ballot` builds, without a choice object per project (the tally reads
        90,000 ballots this way, :mod:`pbvote.results.counting`)."""
        return tally.Ballot(tuple(sorted(map(str, ids))), None, weight)

    def max_sum_points(self, budget) -> int | None:
        """pabulib's ``max_sum_points`` of the budget's ballots (points ballots only)."""
        return None

    # -- a plausible ballot --------------------------------------------------------------------

    def sample(self, rng: random.Random, budget, proposals: Sequence[OnBallot], weight=None) -> list[Choice]:
        """A random ballot that follows the budget's rules; projects with a higher ``weight(p)``
        (default: equal) are marked more often.  For demo data, tests and load runs."""
        raise NotImplementedError

    def _by_appeal(self, rng: random.Random, proposals: Sequence[OnBallot], weight) -> list[OnBallot]:
        weight = weight or (lambda p: 1)
        return sorted(proposals, key=lambda p: (weight(p) + 4) * rng.random(), reverse=True)

    # -- paper ---------------------------------------------------------------------------------

    def parse_paper(self, text: str, numbers: dict[int, int]) -> list[Choice]:
        """The choices of a paper ballot keyed as one line: the projects' numbers as printed on the
        sheet (``numbers`` maps each printed number to its project id).  Raises
        :class:`InvalidBallot` when the line cannot be read (not when the ballot breaks the rules:
        :meth:`check_choices` says that)."""
        raise NotImplementedError

    def _paper_tokens(self, text: str) -> list[str]:
        return [token for token in PAPER_SEPARATORS.split((text or "").strip()) if token]

    def _paper_project(self, token: str, numbers: dict[int, int]) -> int:
        if not token.isdigit() or int(token) not in numbers:
            raise InvalidBallot(
                _("“%(token)s” is not the number of a project on this ballot.", token=token), field="choices"
            )
        return numbers[int(token)]


class ValuePerProjectKind(BallotKind):
    """Ballots where each project has a field of its own holding a number (points, a rank), named
    ``<value>_<project id>``; a project whose field holds one of :attr:`empty` is not marked."""

    #: The :class:`Choice` attribute (and form field prefix) that holds the number.
    value: ClassVar[str]
    empty: ClassVar[tuple] = (None,)

    @property
    def engine_value(self) -> str:  # the number the engine reads is the one the form holds
        return self.value

    def _field_name(self, proposal_id: int) -> str:
        return f"{self.value}_{proposal_id}"

    def choices_from_form(self, form) -> list[Choice]:
        marked = []
        for p in form.proposals:
            data = form[self._field_name(p.id)].data
            if data not in self.empty:
                marked.append(Choice(p.id, **{self.value: data}))
        return marked

    def fill_form(self, form, choices) -> None:
        for c in choices:
            if self._field_name(c.proposal_id) in form:
                form[self._field_name(c.proposal_id)].data = getattr(c, self.value)

    def project_field(self, form, proposal):
        return form[self._field_name(proposal.id)]

    def form_values(self, choices) -> list[tuple[str, str]]:
        return [(self._field_name(c.proposal_id), str(getattr(c, self.value))) for c in choices]


class TickKind(BallotKind):
    """Ballots where a project is ticked (approval, knapsack, choose-one)."""

    widget = "ballots/kinds/tick.html"
    paper_syntax = None  # set by each kind (a lazy translation)
    paper_mark = "paper/marks/tick.html"

    def form_fields(self, budget, proposals):
        return {"projects": project_checkboxes(proposals)}

    def choices_from_form(self, form) -> list[Choice]:
        return [Choice(pid) for pid in (form.projects.data or [])]

    def fill_form(self, form, choices) -> None:
        form.projects.data = [c.proposal_id for c in choices]

    def form_values(self, choices) -> list[tuple[str, str]]:
        return [("projects", str(c.proposal_id)) for c in choices]

    def normalise(self, budget, proposals, choices):
        if any(c.points is not None or c.rank is not None for c in choices):
            raise InvalidBallot(_("This ballot only takes ticks."), field="projects")
        return choices

    def check_count(self, budget, count: int) -> None:
        super().check_count(budget, count)
        if budget.max_choices is not None and count > budget.max_choices:
            raise InvalidBallot(
                ngettext("Choose at most %(num)d project.", "Choose at most %(num)d projects.", budget.max_choices),
                field="projects",
                reason="too_many",
            )

    def sample(self, rng, budget, proposals, weight=None):
        if not proposals:
            return []
        ordered = self._by_appeal(rng, proposals, weight)
        low = min(max(budget.min_choices or 0, 1), len(proposals))
        high = min(budget.max_choices or len(proposals), len(proposals))
        return [Choice(p.id) for p in ordered[: rng.randint(low, max(low, high))]]

    def parse_paper(self, text, numbers):
        return [Choice(self._paper_project(token, numbers)) for token in self._paper_tokens(text)]
