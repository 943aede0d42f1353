"""Names of the paper enums' values, as people read them (translatable)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from pbvote.ballots.paper.models import (
    ConflictKind,
    EntryFlag,
    InvalidPolicy,
    InvalidReason,
    RegisterMethod,
    SheetOutcome,
    SheetStatus,
)

LABELS = {
    SheetStatus.UNKEYED: _l("Not keyed"),
    SheetStatus.KEYED_ONCE: _l("Keyed once"),
    SheetStatus.MATCHED: _l("Matched"),
    SheetStatus.DISCREPANCY: _l("Keyings differ"),
    SheetStatus.REFERRED: _l("Referred to staff"),
    SheetStatus.DECIDED: _l("Decided by staff"),
    SheetOutcome.COUNTED: _l("Counted"),
    SheetOutcome.INVALID: _l("Invalid"),
    SheetOutcome.BLANK: _l("Blank"),
    SheetOutcome.SPOILED: _l("Spoiled"),
    InvalidReason.OVER_BUDGET: _l("Over the budget"),
    InvalidReason.TOO_MANY: _l("Too many choices"),
    InvalidReason.TOO_FEW: _l("Too few choices"),
    InvalidReason.RULE: _l("Breaks another rule"),
    InvalidReason.UNREADABLE: _l("Unreadable"),
    EntryFlag.SAME_VOLUNTEER: _l("Keyed again by the same volunteer"),
    EntryFlag.EXTRA: _l("Keyed after the sheet had its two keyings"),
    RegisterMethod.ACCESS_CODE: _l("Letter's access code"),
    RegisterMethod.ACCOUNT: _l("Account"),
    RegisterMethod.WALK_IN: _l("Walk-in"),
    ConflictKind.VOTED_BEFORE: _l("Had voted before: no sheet handed out"),
    ConflictKind.VOTED_AFTER: _l("Registered at a session, then tried to vote again: refused"),
    InvalidPolicy.INVALID: _l("Invalid as a whole"),
    InvalidPolicy.REFER: _l("Referred to staff"),
}


def paper_label(value) -> str:
    """The label of a paper enum value (a template global)."""
    return LABELS[value]
