"""Voting use cases, split by concern; this package's namespace gathers the public ones.

* :mod:`~pbvote.ballots.services.keys` — access and tracking codes, keyed hashes;
* :mod:`~pbvote.ballots.services.voters` — who casts (an account or an access code), their lock;
* :mod:`~pbvote.ballots.services.content` — what is on a ballot, and the check of the choices
  (the rules themselves are the ballot kinds': :mod:`pbvote.ballots.kinds`);
* :mod:`~pbvote.ballots.services.eligibility` — who may vote where and when;
* :mod:`~pbvote.ballots.services.casting` — casting, exactly once: :func:`cast`, the one entry point;
* :mod:`~pbvote.ballots.services.stores` — where a cast's rows are read and written (portable, or
  PostgreSQL's fast path), one store chosen when the app starts;
* :mod:`~pbvote.ballots.services.receipts` — receipts, tracking codes, voiding a reported ballot;
* :mod:`~pbvote.ballots.services.sealing` — counted ballots, sealing voter links, the export;
* :mod:`~pbvote.ballots.services.access_codes` — access codes and their batches.

Like every service module: they take models and plain values, enforce the rules, raise
:mod:`pbvote.errors`, write the audit log and flush; the request commits once
(:mod:`pbvote.unit_of_work`).
"""
from __future__ import annotations

from pbvote.ballots.choices import BallotProposal, Choice, spent_amount
from pbvote.ballots.services.access_codes import (
    MAX_BATCH_SIZE,
    BatchSummary,
    batch_summaries,
    find_access_code,
    generate_access_codes,
    open_access_code,
    open_kiosk,
    redeem_access_code,
    void_access_code,
    void_access_code_batch,
)
from pbvote.ballots.services.casting import (
    Cast,
    CastRequest,
    CastResult,
    NoVoter,
    StoredBallot,
    SubmissionInvalid,
    cast,
    cast_ballot,
    cast_paper_ballot,
    live_ballot,
    refused_other_channel,
    load_budget,
    new_submission_token,
    store,
    tracking_code_for,
)
from pbvote.ballots.services.content import SNAPSHOT_CACHE, ballot_snapshot, check_choices
from pbvote.ballots.services.eligibility import (
    BudgetStatus,
    VotingProgress,
    check_eligible,
    check_voting_open,
    on_paper_message,
    open_voting_cycles,
    took_part_on_paper,
    voting_overview,
    voting_progress,
)
from pbvote.ballots.services.keys import (
    ACCESS_CODE_LENGTH,
    CODE_ALPHABET,
    LOOKUP_LENGTH,
    TOKEN_RE,
    TRACKING_CODE_LENGTH,
    format_code,
    hash_access_code,
    normalize_code,
    random_code,
    tracking_hash,
)
from pbvote.ballots.services.receipts import (
    Participated,
    VoidedBallot,
    ballot_by_tracking_code,
    ballot_state,
    check_tracking_code,
    participations_of,
    published_tracking_hashes,
    results_published,
    void_ballot,
    void_ballot_by_tracking_code,
    voided_ballots,
)
from pbvote.ballots.services.sealing import (
    anonymised_ballot_rows,
    check_export_allowed,
    countable_ballots,
    countable_ballot_contents,
    countable_ballots_fingerprint,
    seal_closed_cycles,
    seal_voter_links,
)
from pbvote.ballots.services.voters import Voter, lock_code_voter, shuffled_for
from pbvote.proposals.services import ballot_proposals


def cast_first_code_ballot(voter, budget, choices, token, connection, **kwargs):
    """An access code's first ballot outside any transaction (PostgreSQL's store only):
    :meth:`pbvote.ballots.services.stores.PostgresStore.cast_first_code_ballot`."""
    return store().cast_first_code_ballot(voter, budget, choices, token, connection, **kwargs)



__all__ = [
    "ACCESS_CODE_LENGTH",
    "BallotProposal",
    "BatchSummary",
    "BudgetStatus",
    "CODE_ALPHABET",
    "Cast",
    "CastRequest",
    "CastResult",
    "Choice",
    "LOOKUP_LENGTH",
    "MAX_BATCH_SIZE",
    "NoVoter",
    "Participated",
    "SNAPSHOT_CACHE",
    "StoredBallot",
    "SubmissionInvalid",
    "TOKEN_RE",
    "TRACKING_CODE_LENGTH",
    "VoidedBallot",
    "Voter",
    "VotingProgress",
    "anonymised_ballot_rows",
    "ballot_by_tracking_code",
    "ballot_proposals",
    "ballot_snapshot",
    "ballot_state",
    "batch_summaries",
    "cast",
    "cast_ballot",
    "cast_paper_ballot",
    "cast_first_code_ballot",
    "check_choices",
    "check_eligible",
    "check_tracking_code",
    "check_export_allowed",
    "check_voting_open",
    "countable_ballots",
    "countable_ballot_contents",
    "countable_ballots_fingerprint",
    "find_access_code",
    "format_code",
    "generate_access_codes",
    "hash_access_code",
    "live_ballot",
    "load_budget",
    "lock_code_voter",
    "new_submission_token",
    "normalize_code",
    "open_access_code",
    "open_kiosk",
    "published_tracking_hashes",
    "random_code",
    "refused_other_channel",
    "redeem_access_code",
    "results_published",
    "seal_closed_cycles",
    "seal_voter_links",
    "shuffled_for",
    "spent_amount",
    "store",
    "tracking_code_for",
    "tracking_hash",
    "void_access_code",
    "void_access_code_batch",
    "void_ballot",
    "void_ballot_by_tracking_code",
    "voided_ballots",
    "open_voting_cycles",
    "participations_of",
    "voting_overview",
    "on_paper_message",
    "took_part_on_paper",
    "voting_progress",
]
