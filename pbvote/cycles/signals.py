"""What the cycles domain tells the domains above it (blinker signals, which Flask ships).

Cycles sits below proposals, ballots and results (domains import one way: ``auth`` < ``cycles`` <
``proposals`` < ``ballots`` < ``results``), so it never calls them: it sends a signal, and a domain
above connects a receiver when it is loaded (:mod:`pbvote.ballots.listeners`,
:mod:`pbvote.proposals.listeners`; ``create_app`` loads every domain).  Receivers run in the
sender's transaction, synchronously, before the service returns; what they change is committed or
rolled back with it.

* :data:`voting_closed` — sent by :func:`pbvote.cycles.services.advance_phase` when it ends a
  running voting phase; sender: the cycle; keyword ``now``: the moment voting ended (naive UTC).
* :data:`budget_removing` — sent by :func:`pbvote.cycles.services.delete_budget` before a budget is
  removed; sender: the budget.  A receiver refuses the removal by raising a
  :class:`pbvote.errors.DomainError` (a budget that still has proposals stays).
* :data:`budget_rule_changing` — sent by :func:`pbvote.cycles.services.update_budget` before a
  budget's tally rule changes; sender: the budget; keyword ``rule``: the new rule's name.  A
  receiver refuses the change by raising a :class:`pbvote.errors.DomainError` (the proposals
  domain: a budget with groups of mutually exclusive projects keeps a rule that counts them).
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

voting_closed = _signals.signal(
    "pbvote.cycles.voting-closed",
    doc="Voting of a cycle has ended (sender: the cycle; now=: when, naive UTC).",
)

budget_removing = _signals.signal(
    "pbvote.cycles.budget-removing",
    doc="A budget is about to be removed (sender: the budget); raise a DomainError to refuse.",
)

budget_rule_changing = _signals.signal(
    "pbvote.cycles.budget-rule-changing",
    doc="A budget's tally rule is about to change (sender: the budget; rule=: the new rule); raise a DomainError to refuse.",
)
