"""The ballot kinds a budget can use, as the cycles domain sees them: a registry that
:mod:`pbvote.ballots.kinds` fills when it is imported (``create_app`` imports every domain).

Cycles sits below ballots (domains import one way: ``auth`` < ``cycles`` < ``proposals`` <
``ballots`` < ``results``), yet a budget's settings are checked by its ballot kind (how many
projects, points, the knapsack's minimum spend).  So cycles names only what it needs of a kind (the
:class:`BudgetSettingsKind` protocol) and asks this registry; each kind module of
:mod:`pbvote.ballots.kinds` registers itself here.  Nothing here branches on the ballot type.
"""
from __future__ import annotations

from typing import Any, Protocol

from pbvote.cycles.models import BallotType


class BudgetSettingsKind(Protocol):
    """What a ballot kind answers for the cycles domain."""

    type: BallotType
    #: Shown to staff when they choose a budget's ballot (a lazy translation).
    label: Any

    def check_settings(self, values: dict[str, Any]) -> dict[str, Any]:
        """Validate a budget's ballot settings (``min_choices``, ``max_choices``,
        ``min_spend_percent``, ``points_total``, ``points_per_project``) for this kind; return them
        normalised (settings the kind does not use set to their neutral value).  Raises
        :class:`pbvote.errors.InvalidInput` naming the field at fault."""


_KINDS: dict[BallotType, BudgetSettingsKind] = {}


def register(kind: BudgetSettingsKind) -> BudgetSettingsKind:
    """Add ``kind`` to the registry (one kind per ballot type); returns it (usable as a decorator
    on an instance's creation)."""
    if kind.type in _KINDS and _KINDS[kind.type] is not kind:
        raise ValueError(f"a ballot kind for {kind.type} is already registered")
    _KINDS[kind.type] = kind
    return kind


def kind_for(ballot_type: BallotType | str) -> BudgetSettingsKind:
    """The registered kind of ``ballot_type``."""
    try:
        return _KINDS[BallotType(ballot_type)]
    except KeyError:
        raise LookupError(f"no ballot kind registered for {ballot_type!r} (import pbvote.ballots.kinds)") from None


def registered() -> list[BudgetSettingsKind]:
    """Every registered kind, in the order of :class:`BallotType`."""
    return [_KINDS[t] for t in BallotType if t in _KINDS]
