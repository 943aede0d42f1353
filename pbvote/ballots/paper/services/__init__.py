"""Paper ballot use cases, split by concern; this package's namespace gathers the public ones.

* :mod:`~pbvote.ballots.paper.services.sessions` — sessions, who works at them, the cycle's policy;
* :mod:`~pbvote.ballots.paper.services.sheets` — printed batches of serial-numbered sheets;
* :mod:`~pbvote.ballots.paper.services.entry` — double entry, the discrepancy queue, staff decisions;
* :mod:`~pbvote.ballots.paper.services.register` — the voter register, kiosk codes, conflicts;
* :mod:`~pbvote.ballots.paper.services.reconciliation` — the balance of a session, closing it, turnout.

Like every service module: they take models and plain values, enforce the rules, raise
:mod:`pbvote.errors`, write the audit log and flush; the request commits once.
"""
from __future__ import annotations

from pbvote.ballots.paper.services.entry import (
    EntryResult,
    ReadBack,
    Reading,
    active_keyings,
    decide_sheet,
    flagged_entries,
    read_back,
    read_line,
    reading_of,
    recent_entries,
    record_paper_entry,
    sheet_entries,
    sheets_for_staff,
    undo_entry,
)
from pbvote.ballots.paper.services.reconciliation import (
    BudgetReconciliation,
    Check,
    Turnout,
    close_session,
    is_balanced,
    reconcile,
    record_counts,
    reopen_session,
    turnout,
)
from pbvote.ballots.paper.services.register import (
    BudgetDecision,
    Registration,
    cycle_conflicts,
    find_residents,
    open_session_kiosk,
    register_counts,
    register_voter,
    review_conflict,
    session_register,
    undo_registration,
)
from pbvote.ballots.paper.services.sessions import (
    can_work_at,
    check_open,
    check_works_at,
    create_session,
    paper_settings,
    paper_started,
    policy_rules,
    save_settings,
    sessions_for,
    update_session,
    volunteer_candidates,
)
from pbvote.ballots.paper.services.sheets import (
    MAX_BATCH_SIZE,
    batch_projects,
    batch_sheets,
    check_serial,
    generate_sheets,
    printed_order,
    session_batches,
    sheet_of_session,
)

__all__ = [
    "BudgetDecision", "BudgetReconciliation", "Check", "EntryResult", "MAX_BATCH_SIZE", "ReadBack", "Reading",
    "Registration", "Turnout", "active_keyings", "batch_projects", "batch_sheets", "can_work_at", "check_open",
    "check_serial", "check_works_at", "close_session", "create_session", "cycle_conflicts", "decide_sheet",
    "find_residents", "flagged_entries", "generate_sheets", "is_balanced", "open_session_kiosk", "paper_settings", "paper_started",
    "policy_rules", "printed_order", "read_back", "read_line", "reading_of", "recent_entries", "reconcile",
    "record_counts", "record_paper_entry", "register_counts", "register_voter", "reopen_session", "review_conflict",
    "save_settings", "session_batches", "session_register", "sessions_for", "sheet_entries", "sheet_of_session",
    "sheets_for_staff", "turnout", "undo_entry", "undo_registration", "update_session", "volunteer_candidates",
]
