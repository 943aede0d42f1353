"""Sessions, the cycle's policy, printed sheets with serials, reconciliation and closing."""
from __future__ import annotations

import itertools
import random
from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import count_rows

from pbvote.ballots.models import BallotChannel
from pbvote.ballots.paper import services
from pbvote.ballots.paper.models import InvalidPolicy, PaperSheet, SheetOutcome
from pbvote.ballots.paper.serials import (
    SERIAL_LENGTH,
    check_digit,
    is_valid_serial,
    normalize_serial,
    qr_svg,
    random_serial,
)
from pbvote.cycles.models import Budget, PhaseKind
from pbvote.errors import Conflict, InvalidInput, PhaseClosed, RulesFrozen
from pbvote.extensions import db


# -- serials ----------------------------------------------------------------------------------------


def test_a_serials_check_digit_catches_every_mistyped_digit_and_swap_of_neighbours():
    rng = random.Random(5)
    for _ in range(300):
        serial = random_serial()
        assert len(serial) == SERIAL_LENGTH and serial[0] != "0" and is_valid_serial(serial)
        for position, digit in itertools.product(range(SERIAL_LENGTH), "0123456789"):
            if digit != serial[position]:
                assert not is_valid_serial(serial[:position] + digit + serial[position + 1:])
        i = rng.randrange(SERIAL_LENGTH - 1)
        if serial[i] != serial[i + 1]:
            assert not is_valid_serial(serial[:i] + serial[i + 1] + serial[i] + serial[i + 2:])
    assert check_digit("572") == "4"  # Damm's worked example
    assert normalize_serial(" 4820-5173 ") == "48205173"


def test_a_sheets_qr_code_is_an_inline_svg_of_its_serial():
    svg = str(qr_svg("48205173"))
    assert svg.startswith("<svg") and "<title>48205173</title>" in svg and "http" not in svg.split(">", 1)[1]


# -- sessions and policy ------------------------------------------------------------------------


def test_a_session_takes_place_during_the_vote_with_its_budgets_and_volunteers(paper, make_user):
    p = paper()
    voting = p.cycle.phase(PhaseKind.VOTING)
    with pytest.raises(InvalidInput, match="while voting is open"):
        services.create_session(p.staff, p.cycle, place="Library", starts_at=voting.ends_at,
                                ends_at=voting.ends_at + timedelta(hours=2), budgets=[p.budget])
    with pytest.raises(InvalidInput, match="end after it starts"):
        services.create_session(p.staff, p.cycle, place="Library", starts_at=voting.starts_at + timedelta(hours=3),
                                ends_at=voting.starts_at + timedelta(hours=1), budgets=[p.budget])
    with pytest.raises(InvalidInput, match="at least one budget"):
        services.create_session(p.staff, p.cycle, place="Library", starts_at=voting.starts_at,
                                ends_at=voting.ends_at, budgets=[])
    with pytest.raises(InvalidInput, match="Only active volunteers"):
        services.create_session(p.staff, p.cycle, place="Library", starts_at=voting.starts_at,
                                ends_at=voting.ends_at, budgets=[p.budget], volunteers=[make_user("resident")])
    assert services.can_work_at(p.v1, p.session) and services.can_work_at(p.staff, p.session)
    assert not services.can_work_at(p.v3, p.session)
    assert services.sessions_for(p.v1) == [p.session] and services.sessions_for(p.v3) == []


def test_a_budget_with_printed_sheets_stays_in_its_session(paper):
    p = paper()
    second = Budget(cycle=p.cycle, name="Second", total_amount=10_000_00, ballot_type=p.budget.ballot_type,
                    tally_rule="greedy", tally_params={}, position=1)
    db.session.add(second)
    db.session.commit()
    details = {"place": "Library", "starts_at": p.session.starts_at, "ends_at": p.session.ends_at,
               "volunteers": [p.v1]}
    services.update_session(p.staff, p.session, budgets=[p.budget, second], **details)
    services.update_session(p.staff, p.session, budgets=[p.budget], **details)  # no sheets of the second: fine
    with pytest.raises(InvalidInput, match="cannot be removed"):
        services.update_session(p.staff, p.session, budgets=[second], **details)


def test_the_policy_is_in_plain_words_and_freezes_once_a_sheet_is_keyed(paper, key):
    p = paper()
    words = " ".join(services.policy_rules(services.paper_settings(p.cycle)))
    assert "over the budget" in words and "invalid as a whole" in words and "blank" in words
    services.save_settings(p.staff, p.cycle, invalid_policy=InvalidPolicy.REFER,
                           policy_note="A crossed-out tick does not count.", walk_ins=False)
    db.session.commit()
    words = services.policy_rules(services.paper_settings(p.cycle))
    assert "set aside for the council's staff" in words[0] and words[-1] == "A crossed-out tick does not count."
    key(p.v1, p.session, p.sheets[0].serial, "1")
    with pytest.raises(RulesFrozen):
        services.save_settings(p.staff, p.cycle, invalid_policy=InvalidPolicy.INVALID, policy_note="", walk_ins=False)
    db.session.rollback()
    services.save_settings(p.staff, p.cycle, invalid_policy=InvalidPolicy.REFER,
                           policy_note="A crossed-out tick does not count.", walk_ins=True)  # walk-ins may change


# -- printing ---------------------------------------------------------------------------------------


def test_printing_gives_each_sheet_a_unique_checked_serial_numbers_projects_by_name_and_freezes_the_budget(paper):
    p = paper(sheets=40)
    serials = [s.serial for s in p.sheets]
    assert len(set(serials)) == 40 and all(is_valid_serial(s) for s in serials)
    assert [proj.title for proj in p.projects] == sorted(proj.title for proj in p.proposals)
    assert p.batch.layout == [proj.id for proj in p.projects]
    assert p.budget.frozen_at is not None
    more = services.generate_sheets(p.staff, p.session, p.budget, 5)
    db.session.commit()
    assert count_rows(PaperSheet) == 45 and more.layout == p.batch.layout
    for count in (0, services.MAX_BATCH_SIZE + 1):
        with pytest.raises(InvalidInput, match="Print between"):
            services.generate_sheets(p.staff, p.session, p.budget, count)


def test_sheets_are_printed_only_for_a_budget_the_session_offers(paper, make_cycle):
    p = paper()
    other = make_cycle("voting").budgets[0]
    with pytest.raises(InvalidInput, match="not offered"):
        services.generate_sheets(p.staff, p.session, other, 5)


# -- reconciliation -------------------------------------------------------------------------------


def _settle(p, key, lines):
    for sheet, line in zip(p.sheets, lines):
        key(p.v1, p.session, sheet.serial, line)
        key(p.v2, p.session, sheet.serial, line)


def test_a_session_balances_when_issued_equals_counted_invalid_blank_and_spoiled(paper, key):
    p = paper(max_choices=2, sheets=10)
    _settle(p, key, ["1", "2", "1 2", "1 2 3", "blank", "spoiled"])
    [rec] = services.reconcile(p.session)
    assert rec.printed == 10 and rec.accounted == 6
    assert rec.outcomes == {SheetOutcome.COUNTED: 3, SheetOutcome.INVALID: 1, SheetOutcome.BLANK: 1,
                            SheetOutcome.SPOILED: 1}
    assert not rec.balanced  # no tally sheet yet
    services.record_counts(p.v1, p.session, p.budget, received=10, issued=6, spoiled=1, returned=4)
    db.session.commit()
    [rec] = services.reconcile(p.session)
    assert rec.balanced, rec.checks
    # A seventh sheet keyed once: waiting, so the session no longer balances.
    key(p.v1, p.session, p.sheets[6].serial, "1")
    [rec] = services.reconcile(p.session)
    assert rec.pending == 1 and not rec.balanced
    failing = [c.label for c in rec.checks if not c.ok]
    assert failing == ["Every keyed sheet is settled"]


def test_tally_sheet_figures_that_do_not_add_up_fail_their_checks(paper, key):
    p = paper(sheets=5)
    _settle(p, key, ["1", "2"])
    services.record_counts(p.v1, p.session, p.budget, received=6, issued=3, spoiled=1, returned=2)
    [rec] = services.reconcile(p.session)
    failing = {c.label for c in rec.checks if not c.ok}
    assert failing == {"Issued = counted + invalid + blank + spoiled", "Spoiled on the tally sheet = spoiled sheets keyed",
                       "Received = issued + returned", "Received no more than printed"}
    with pytest.raises(InvalidInput, match="cannot outnumber"):
        services.record_counts(p.v1, p.session, p.budget, received=6, issued=1, spoiled=2, returned=2)


def test_a_session_closes_when_it_balances_or_with_a_note_that_explains(paper, key):
    p = paper(sheets=3)
    _settle(p, key, ["1"])
    with pytest.raises(InvalidInput, match="explain the difference") as caught:
        services.close_session(p.staff, p.session, "")
    assert caught.value.field == "note"
    services.record_counts(p.v1, p.session, p.budget, received=3, issued=1, spoiled=0, returned=2)
    services.close_session(p.staff, p.session, "")
    db.session.commit()
    assert p.session.is_closed and p.session.closed_by_id == p.staff.id
    with pytest.raises(PhaseClosed):
        services.generate_sheets(p.staff, p.session, p.budget, 5)
    with pytest.raises(Conflict):
        services.close_session(p.staff, p.session, "")
    services.reopen_session(p.staff, p.session, "One more envelope turned up.")
    db.session.commit()
    key(p.v1, p.session, p.sheets[1].serial, "2")
    services.close_session(p.staff, p.session, "One sheet still waits for its second keying; the volunteer is ill.")
    db.session.commit()
    assert p.session.is_closed and "ill" in p.session.close_note


def test_turnout_counts_ballots_by_channel(paper, key, make_user, cast):
    p = paper(sheets=3)
    cast(make_user(verified=True), p.budget, [p.proposals[0]])
    _settle(p, key, ["1", "2", "blank"])
    [row] = services.turnout(p.cycle)
    assert row.counted == 3 and row.ballots == {BallotChannel.ONLINE: 1, BallotChannel.PAPER: 2}
    assert row.not_counted == {SheetOutcome.BLANK: 1}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PaperSheet)) == 3
