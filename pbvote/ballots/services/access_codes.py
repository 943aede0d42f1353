"""Access codes: generated in batches for a budget or a district, typed in to vote without an
account or redeemed into an account (confirming its district), cancelled one by one or by batch.
Only a keyed hash of each code is stored; the code itself is shown once."""
from __future__ import annotations

import hmac
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from pbvote import audit
from pbvote.auth.models import User
from pbvote.ballots.models import AccessCode, AccessCodeBatch, Participation
from pbvote.ballots.services.keys import (
    ACCESS_CODE_LENGTH,
    CODE_ALPHABET,
    LOOKUP_LENGTH,
    hash_access_code,
    normalize_code,
    random_code,
)
from pbvote.cycles.models import Budget, Cycle
from pbvote.errors import Conflict, InvalidInput, NotAllowed
from pbvote.extensions import db
from pbvote.places.models import District
from pbvote.timeutil import utcnow

MAX_BATCH_SIZE = 5000


def generate_access_codes(
    actor: User,
    cycle: Cycle,
    *,
    count: int,
    budget: Budget | None = None,
    district: District | None = None,
    label: str = "",
) -> tuple[AccessCodeBatch, list[str]]:
    """Create a batch of ``count`` single-use codes for ``budget`` or ``district``.

    Returns the batch and the codes in clear — the only time they exist in clear: only their
    keyed hashes are stored.
    """
    if not cycle.access_codes_enabled:
        raise NotAllowed(_("Access codes are switched off for this cycle."))
    if (budget is None) == (district is None):
        raise InvalidInput(_("Choose a budget or a district."), field="target")
    if budget is not None and budget.cycle_id != cycle.id:
        raise InvalidInput(_("Choose a budget of this cycle."), field="target")
    if district is not None and not any(b.district_id == district.id for b in cycle.budgets):
        raise InvalidInput(_("This district has no budget in this cycle."), field="target")
    if not 1 <= count <= MAX_BATCH_SIZE:
        raise InvalidInput(_("Generate between 1 and %(n)d codes at a time.", n=MAX_BATCH_SIZE), field="count")
    batch = AccessCodeBatch(
        cycle_id=cycle.id,
        budget_id=budget.id if budget is not None else None,
        district_id=district.id if district is not None else None,
        label=(label or "").strip()[:120],
        size=count,
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(batch)
    db.session.flush()
    codes: list[str] = []
    seen: set[str] = set()
    rows = []
    while len(codes) < count:
        code = random_code()
        digest = hash_access_code(code)
        if digest in seen:
            continue
        seen.add(digest)
        codes.append(code)
        rows.append({"batch_id": batch.id, "lookup": digest[:LOOKUP_LENGTH], "code_hash": digest})
    db.session.execute(sa.insert(AccessCode), rows)
    audit.record("access_codes.generated", actor=actor, subject=batch, count=count)
    db.session.flush()
    return batch, codes


def find_access_code(text: str, *, lock: bool = False) -> AccessCode | None:
    """The code matching what a person typed (any case, with or without dashes), or None."""
    code = normalize_code(text)
    if len(code) != ACCESS_CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    digest = hash_access_code(code)
    statement = sa.select(AccessCode).where(AccessCode.lookup == digest[:LOOKUP_LENGTH])
    if lock:
        statement = statement.with_for_update(of=AccessCode)
    for candidate in db.session.scalars(statement):
        if hmac.compare_digest(candidate.code_hash, digest):
            return candidate
    return None


def open_access_code(text: str) -> AccessCode:
    """Check a code typed on the voting page (to vote without an account) and return it."""
    code = find_access_code(text)
    if code is None:
        raise InvalidInput(_("We do not recognise this code. Check it and try again."), field="code")
    if code.is_void:
        raise InvalidInput(_("This access code has been cancelled."), field="code")
    if code.redeemed_at is not None:
        raise InvalidInput(_("This access code was added to an account. Sign in to vote."), field="code")
    return code


def redeem_access_code(user: User, text: str) -> AccessCode:
    """Add a code to ``user``'s account: it confirms their district; the code is then used up."""
    code = find_access_code(text, lock=True)
    if code is None:
        raise InvalidInput(_("We do not recognise this code. Check it and try again."), field="code")
    if code.is_void:
        raise InvalidInput(_("This access code has been cancelled."), field="code")
    if code.redeemed_at is not None:
        raise Conflict(_("This access code has already been used."), field="code")
    used_alone = db.session.scalar(sa.select(Participation.id).where(Participation.access_code_id == code.id).limit(1))
    if used_alone is not None:
        raise Conflict(_("This access code has already been used to vote."), field="code")
    batch = code.batch
    district_id = batch.district_id if batch.budget_id is None else batch.budget.district_id
    if district_id is not None and district_id != user.home_district_id:
        _refuse_district_move(user, batch.cycle_id)
        user.home_district_id = district_id
    user.verified_at = user.verified_at or utcnow()
    code.redeemed_at = utcnow()
    code.redeemed_by_id = user.id
    audit.record("access_code.redeemed", actor=user, subject=user, district_id=district_id)
    db.session.flush()
    return code


def open_kiosk(actor: User, cycle: Cycle) -> None:
    """Record that ``actor`` turned a device into a voting kiosk for ``cycle`` (the browser session
    itself is the view's)."""
    audit.record("kiosk.opened", actor=actor, subject=cycle)
    db.session.flush()


def _refuse_district_move(user: User, cycle_id: int) -> None:
    """An account that took part in a district's budget of the cycle keeps its district: a code for
    another district would otherwise let it vote in a second district's budget."""
    voted_in = db.session.scalar(
        sa.select(District.name)
        .join(Budget, Budget.district_id == District.id)
        .join(Participation, Participation.budget_id == Budget.id)
        .where(Participation.user_id == user.id, Budget.cycle_id == cycle_id)
        .limit(1)
    )
    if voted_in is not None:
        raise Conflict(
            _("You have already voted in the budget of %(district)s in this cycle, so this code cannot move "
              "your account to another district. If you have moved, ask the council's staff.", district=voted_in),
            field="code",
        )


def void_access_code(actor: User, text: str, reason: str) -> AccessCode:
    """Cancel one code (lost letter, handed out twice, ...).  Ballots already cast stay counted."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the code is cancelled."), field="reason")
    code = find_access_code(text, lock=True)
    if code is None:
        raise InvalidInput(_("We do not recognise this code. Check it and try again."), field="code")
    if code.voided_at is not None:
        raise Conflict(_("This code is already cancelled."), field="code")
    with db.session.no_autoflush:
        code.voided_at, code.voided_by_id, code.void_reason = utcnow(), actor.id, reason[:200]
    audit.record("access_code.voided", actor=actor, subject=code.batch, code_id=code.id, reason=code.void_reason)
    db.session.flush()
    return code


def void_access_code_batch(actor: User, batch: AccessCodeBatch) -> None:
    """Cancel every unused code of ``batch``."""
    if batch.voided_at is not None:
        raise Conflict(_("This batch is already cancelled."))
    batch.voided_at = utcnow()
    audit.record("access_code_batch.voided", actor=actor, subject=batch)
    db.session.flush()


@dataclass(frozen=True)
class BatchSummary:
    batch: AccessCodeBatch
    used: int
    redeemed: int
    voided: int


def batch_summaries(cycle: Cycle) -> list[BatchSummary]:
    batches = db.session.scalars(
        sa.select(AccessCodeBatch).where(AccessCodeBatch.cycle_id == cycle.id).order_by(AccessCodeBatch.id.desc())
    ).all()
    if not batches:
        return []
    ids = [b.id for b in batches]
    used = dict(
        db.session.execute(
            sa.select(AccessCode.batch_id, sa.func.count(sa.distinct(Participation.access_code_id)))
            .join(Participation, Participation.access_code_id == AccessCode.id)
            .where(AccessCode.batch_id.in_(ids))
            .group_by(AccessCode.batch_id)
        ).all()
    )
    redeemed = dict(
        db.session.execute(
            sa.select(AccessCode.batch_id, sa.func.count())
            .where(AccessCode.batch_id.in_(ids), AccessCode.redeemed_at.is_not(None))
            .group_by(AccessCode.batch_id)
        ).all()
    )
    voided = dict(
        db.session.execute(
            sa.select(AccessCode.batch_id, sa.func.count())
            .where(AccessCode.batch_id.in_(ids), AccessCode.voided_at.is_not(None))
            .group_by(AccessCode.batch_id)
        ).all()
    )
    return [BatchSummary(b, used.get(b.id, 0), redeemed.get(b.id, 0), voided.get(b.id, 0)) for b in batches]
