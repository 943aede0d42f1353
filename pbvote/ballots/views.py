"""Voting pages: a cycle's voting page, access codes, ballot → review → cast → receipt, the public
list of counted ballots, and the staff pages for access codes, verification and anonymised export.

Ballot pages are ``public`` because a voter may hold only an access code (no account); who may
vote is decided by :func:`pbvote.ballots.services.check_eligible` on every cast.
"""
from __future__ import annotations

import csv
import io
import secrets

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from markupsafe import Markup, escape

from pbvote import ratelimit, unit_of_work
from pbvote.auth.models import Role
from pbvote.auth.services import update_details
from pbvote.auth.session import KIOSK_KEY, login_required, public, reset_browser_session, role_required
from pbvote.ballots import services
from pbvote.ballots.forms import (
    AccessCodeForm,
    BirthYearForm,
    GenerateCodesForm,
    ReceiptCheckForm,
    VoidBallotForm,
    VoidCodeForm,
    ballot_form,
)
from pbvote.ballots.models import AccessCode, AccessCodeBatch, BallotChannel
from pbvote.ballots.services import Voter
from pbvote.ballots.kinds import kind_of
from pbvote.ballots.labels import channel_label
from pbvote.cycles.models import Budget, Cycle, PhaseKind
from pbvote.cycles.services import get_public_cycle, list_public_cycles
from pbvote.errors import DomainError, InvalidBallot
from pbvote.extensions import db, limiter
from pbvote.forms import EmptyForm, add_form_error, option
from pbvote.places.models import District
from pbvote.proposals.services import exclusions
from pbvote.templating import datetime_format, flash_messages, kept_fragment, money, render_with_slots, site_header

bp = Blueprint("ballots", __name__)
bp.add_app_template_global(channel_label, "channel_label")
bp.add_app_template_global(kind_of, "ballot_kind")

#: Session keys: the access code a visitor votes with, their receipts, a seed for anonymous order.
CODE_KEY = "voter_code_id"
RECEIPTS_KEY = "receipts"
SEED_KEY = "ballot_seed"


def current_voter(lock: bool = False) -> Voter | None:
    """The signed-in account, else the access code entered in this browser session, else None.

    ``lock``: load the access code under its row lock at once (the cast would take it anyway).
    """
    if current_user.is_authenticated:
        return Voter(user=current_user._get_current_object())
    code_id = session.get(CODE_KEY)
    if isinstance(code_id, int):
        if lock:
            return services.lock_code_voter(code_id)
        code = db.session.get(AccessCode, code_id)
        if code is not None:
            return Voter(code=code)
    return None


def _order_seed(voter: Voter | None) -> str:
    if voter is not None:
        return voter.key
    if SEED_KEY not in session:
        session[SEED_KEY] = secrets.token_hex(8)
    return session[SEED_KEY]


def _public_budget(budget_id: int) -> Budget:
    """The published budget with its cycle and phases in one query, else 404."""
    return services.load_budget(budget_id)


def _cycle_for_staff(slug: str) -> Cycle:
    return db.session.scalar(sa.select(Cycle).where(Cycle.slug == slug)) or abort(404)


def _render_ballot(budget, form, voter, proposals, status=200, live=None):
    return (
        render_template(
            "ballots/ballot.html",
            budget=budget,
            cycle=budget.cycle,
            form=form,
            voter=voter,
            proposals=proposals,
            live=live,
            exclusions=exclusions(budget),
        ),
        status,
    )


def _voter_or_redirect(budget: Budget):
    voter = current_voter()
    if voter is None:
        flash(_("Sign in or enter your access code to vote."), "info")
        return None, redirect(url_for("ballots.vote", slug=budget.cycle.slug))
    try:
        services.check_eligible(voter, budget)
    except DomainError as error:
        flash(error.message, "error")
        return None, redirect(url_for("ballots.vote", slug=budget.cycle.slug))
    if services.took_part_on_paper(voter, budget):
        flash(services.on_paper_message(), "info")
        return None, redirect(url_for("ballots.vote", slug=budget.cycle.slug))
    return voter, None


# -- voting -----------------------------------------------------------------------------------


@bp.route("/vote")
@public
def vote_now():
    """The header's "Vote" link: straight to the voting page when one cycle is voting, a choice
    when several are, and when none is, which cycles will vote and when."""
    cycles = services.open_voting_cycles()
    if len(cycles) == 1:
        return redirect(url_for("ballots.vote", slug=cycles[0].slug))
    upcoming = [
        (cycle, cycle.phase(PhaseKind.VOTING))
        for cycle in list_public_cycles()
        if cycle not in cycles and cycle.phase(PhaseKind.VOTING) is not None and not cycle.voting_has_closed()
    ]
    return render_template("ballots/vote_now.html", cycles=cycles, upcoming=upcoming)


def _needs_birth_year(cycle: Cycle, voter: Voter | None) -> bool:
    return bool(cycle.minimum_age) and voter is not None and voter.user is not None and voter.user.birth_year is None


def _birth_year_form(cycle: Cycle, formdata=None) -> BirthYearForm:
    form = BirthYearForm(formdata=formdata, prefix="age")
    form.birth_year.description = _(
        "Required to vote here: this vote is open to residents who are at least %(age)d years old this "
        "year. Only the year is kept, on your account.", age=cycle.minimum_age,
    )
    return form


@bp.route("/cycles/<slug>/birth-year", methods=["POST"])
@login_required
def set_birth_year(slug: str):
    """The year of birth a cycle with a minimum age needs, asked on its voting page."""
    cycle = get_public_cycle(slug) or abort(404)
    form = _birth_year_form(cycle, formdata=request.form)
    user = current_user._get_current_object()
    if form.validate_on_submit():
        try:
            update_details(user, display_name=user.display_name, birth_year=form.birth_year.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("Thank you: your year of birth is saved."), "success")
            return redirect(url_for("ballots.vote", slug=cycle.slug)), 303
    return _render_vote(cycle, current_voter(), birth_form=form, status=400)


def _render_vote(cycle: Cycle, voter: Voter | None, birth_form=None, status: int = 200):
    statuses = services.voting_overview(cycle, voter)
    needs_year = _needs_birth_year(cycle, voter)
    return render_template(
        "ballots/vote.html",
        cycle=cycle,
        voter=voter,
        statuses=statuses,
        progress=services.voting_progress(statuses) if voter is not None else None,
        voting_open=cycle.is_in(PhaseKind.VOTING),
        voting_phase=cycle.phase(PhaseKind.VOTING),
        code_form=AccessCodeForm(formdata=None),
        receipts=session.get(RECEIPTS_KEY, {}),
        kiosk=bool(session.get(KIOSK_KEY)),
        birth_form=(birth_form or _birth_year_form(cycle)) if needs_year else None,
    ), status


@bp.route("/cycles/<slug>/vote")
@public
def vote(slug: str):
    cycle = get_public_cycle(slug) or abort(404)
    return _render_vote(cycle, current_voter())


def _code_failed(response) -> bool:
    # Only failed attempts count against the limit: a kiosk may take many good codes.
    return response.status_code != 302


@bp.route("/vote/code", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["PBVOTE_ACCESS_CODE_LIMIT"], methods=["POST"], deduct_when=_code_failed)
def enter_code():
    form = AccessCodeForm()
    if form.validate_on_submit():
        try:
            if current_user.is_authenticated:
                code = services.redeem_access_code(current_user._get_current_object(), form.code.data)
            else:
                code = services.open_access_code(form.code.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            cycle = code.batch.cycle
            if current_user.is_authenticated:
                flash(_("Thank you: your address is confirmed. You can vote now."), "success")
            else:
                session[CODE_KEY] = code.id
                session.pop(RECEIPTS_KEY, None)
                flash(_("Your access code is valid. Choose a budget to vote in."), "success")
            return redirect(url_for("ballots.vote", slug=cycle.slug))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("ballots/code.html", form=form, kiosk=session.get(KIOSK_KEY)), status


@bp.route("/vote/code/forget", methods=["POST"])
@public
def forget_code():
    if EmptyForm().validate_on_submit():
        session.pop(CODE_KEY, None)
        session.pop(RECEIPTS_KEY, None)
        flash(_("This browser no longer holds your access code."), "info")
    return redirect(url_for("main.index"))


# -- kiosk: a shared device where one voter follows another -------------------------------------


@bp.route("/cycles/<slug>/kiosk", methods=["GET", "POST"])
@role_required(Role.VOLUNTEER)
def open_kiosk(slug: str):
    """A volunteer or staff member turns this device into a voting kiosk for the cycle: they are
    signed out, and after each voter's receipt a "Next voter" button clears the browser session."""
    cycle = get_public_cycle(slug) or abort(404)
    form = EmptyForm()
    if form.validate_on_submit():
        services.open_kiosk(current_user._get_current_object(), cycle)
        logout_user()
        session.clear()
        session[KIOSK_KEY] = cycle.slug
        flash(_("This device is now a voting kiosk. Each voter enters their access code."), "info")
        return redirect(url_for("ballots.enter_code"))
    return render_template("ballots/kiosk.html", cycle=cycle, form=form)


@bp.route("/kiosk/next", methods=["POST"])
@public
def kiosk_next_voter():
    """Clear everything of the voter who just finished (code, receipts, any sign-in); the device
    stays a kiosk."""
    if EmptyForm().validate_on_submit() and session.get(KIOSK_KEY):
        logout_user()
        reset_browser_session()
        flash(_("Ready for the next voter."), "info")
        return redirect(url_for("ballots.enter_code"))
    return redirect(url_for("main.index"))


@bp.route("/kiosk/close", methods=["POST"])
@public
def close_kiosk():
    if EmptyForm().validate_on_submit() and session.get(KIOSK_KEY):
        logout_user()
        session.clear()
        flash(_("This device is no longer a voting kiosk."), "info")
    return redirect(url_for("main.index"))


@bp.route("/ballots/<id:budget_id>", methods=["GET", "POST"])
@public
def ballot(budget_id: int):
    """The ballot.  POST comes from the review page's "Change my choices" and only refills the form."""
    budget = _public_budget(budget_id)
    voter, response = _voter_or_redirect(budget)
    if response is not None:
        return response
    proposals = services.shuffled_for(services.ballot_proposals(budget), _order_seed(voter), budget)
    form = ballot_form(budget, proposals)
    live = services.live_ballot(voter, budget)
    if request.method == "GET":
        form.token.data = ""
        if live is not None:
            form.load_choices(live.choices)
    return _render_ballot(budget, form, voter, proposals, live=live)


@bp.route("/ballots/<id:budget_id>/review", methods=["POST"])
@public
def review(budget_id: int):
    budget = _public_budget(budget_id)
    voter, response = _voter_or_redirect(budget)
    if response is not None:
        return response
    proposals = services.shuffled_for(services.ballot_proposals(budget), _order_seed(voter), budget)
    form = ballot_form(budget, proposals)
    if form.validate_on_submit():
        try:
            choices = services.check_choices(budget, proposals, form.to_choices())
        except InvalidBallot as error:
            add_form_error(form, error)
        else:
            if not services.TOKEN_RE.match(form.token.data or ""):
                form.token.data = services.new_submission_token()
            by_id = {p.id: p for p in proposals}
            return render_template(
                "ballots/review.html",
                budget=budget,
                cycle=budget.cycle,
                form=form,
                choices=choices,
                by_id=by_id,
                total=services.spent_amount(proposals, choices),
                )
    return _render_ballot(budget, form, voter, proposals, status=400)


def _caster_key() -> str:
    """Casts are limited per voter (account or access code), not per address: a kiosk or a
    community session serves many voters from one address."""
    if current_user.is_authenticated:
        return f"cast-user:{current_user.id}"
    code_id = session.get(CODE_KEY)
    if code_id:
        return f"cast-code:{code_id}"
    return f"cast-address:{request.remote_addr}"


@bp.route("/ballots/<id:budget_id>/cast", methods=["POST"])
@public
def cast(budget_id: int):
    # Per voter, re-votes and retries included; checked before anything else (one Redis round trip).
    ratelimit.hit(current_app.config["PBVOTE_CAST_LIMIT"], _caster_key(), "ballots.cast")
    forms = []

    def read(budget, proposals):
        form = ballot_form(budget, proposals)
        forms.append(form)
        return (form.to_choices(), form.token.data or "") if form.validate_on_submit() else None

    user = current_user._get_current_object() if current_user.is_authenticated else None
    channel = BallotChannel.KIOSK if session.get(KIOSK_KEY) else BallotChannel.ONLINE
    request_ = services.CastRequest(budget_id, user, session.get(CODE_KEY), read, channel)
    try:
        outcome = services.cast(request_)
    except InvalidBallot as error:
        add_form_error(forms[-1], error)
        budget = forms[-1].budget
        return _render_ballot(budget, forms[-1], None, services.ballot_proposals(budget), status=400)
    if isinstance(outcome, services.NoVoter):
        flash(_("Sign in or enter your access code to vote."), "info")
        return redirect(url_for("ballots.vote", slug=outcome.budget.cycle.slug))
    if isinstance(outcome, services.SubmissionInvalid):
        budget = outcome.budget
        return _render_ballot(budget, forms[-1], outcome.voter, services.ballot_proposals(budget), status=400)
    budget, result = outcome.budget, outcome.result
    receipts = dict(session.get(RECEIPTS_KEY, {}))
    receipts[str(budget.id)] = result.tracking_code
    session[RECEIPTS_KEY] = receipts
    return _render_receipt(budget, result.stored, result.tracking_code, outcome.proposals, just_cast=True)


def _render_receipt(budget, ballot, tracking_code, proposals, just_cast=False):
    """The receipt page, from a kept skeleton (:func:`pbvote.templating.render_with_slots`): its frame
    depends only on the budget, the cycle, ``just_cast``, the ballot's status and whether it is
    blank; the codes, the time, the choices (each project's line kept too) and the total are filled
    in for every receipt."""
    cycle = budget.cycle
    by_id = {p.id: p for p in proposals}
    choices = kind_of(budget).receipt_order(ballot.choices)
    state = services.ballot_state(ballot)

    def choice_lines() -> Markup:
        return Markup("").join(
            kept_fragment(
                "ballots/_receipt_choice.html",
                (budget.id, c.proposal_id, c.points, c.rank, by_id[c.proposal_id].title, by_id[c.proposal_id].ballot_amount, cycle.currency),
                proposal=by_id[c.proposal_id],
                choice=c,
                currency=cycle.currency,
            )
            for c in choices
        )

    kiosk = bool(session.get(KIOSK_KEY))
    return render_with_slots(
        "ballots/receipt.html",
        (budget.id, budget.name, budget.ballot_type, cycle.slug, cycle.currency, just_cast, state, not choices, kiosk),
        {
            "header": site_header,
            "flashes": flash_messages,
            "short_code": lambda: escape(services.format_code(tracking_code[:8])),
            "tracking_code": lambda: escape(services.format_code(tracking_code)),
            "cast_at": lambda: escape(datetime_format(ballot.cast_at, "medium", cycle)),
            "choices": choice_lines,
            "total": lambda: escape(money(services.spent_amount(proposals, choices), cycle.currency)),
        },
        budget=budget,
        cycle=cycle,
        just_cast=just_cast,
        state=state,
        blank=not choices,
        kiosk=kiosk,
    )


@bp.route("/ballots/<id:budget_id>/receipt")
@public
def receipt(budget_id: int):
    budget = _public_budget(budget_id)
    code = session.get(RECEIPTS_KEY, {}).get(str(budget.id))
    ballot = services.ballot_by_tracking_code(code) if code else None
    if ballot is None or ballot.budget_id != budget.id:
        abort(404)
    proposals = [c.proposal for c in ballot.choices]
    return _render_receipt(budget, ballot, code, proposals)


#: Session key: the answer of the last "Check your ballot", shown after the redirect.
CHECK_KEY = "receipt_check"


@bp.route("/receipts/check", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["PBVOTE_ACCESS_CODE_LIMIT"], methods=["POST"])
def check_receipt():
    """Anyone, from any device, during voting and after: is the ballot with this tracking code
    counted?  Never what it contains.  A POST answers with a redirect to this page (the answer
    kept in the session), so Back and Reload never resubmit the form."""
    form = ReceiptCheckForm()
    if form.validate_on_submit():
        session[CHECK_KEY] = services.check_tracking_code(form.tracking_code.data)
        return redirect(url_for("ballots.check_receipt"), 303)
    status = 400 if form.errors else 200
    return render_template("ballots/check.html", form=form, answer=session.get(CHECK_KEY)), status


@bp.route("/account/votes")
@login_required
def my_votes():
    """The signed-in voter's votes: where and when they took part, and the receipts this browser
    holds.  The account never keeps tracking codes (docs/voting.md, "Receipts and accounts")."""
    voter = current_voter()
    return render_template(
        "ballots/my_votes.html",
        votes=services.participations_of(current_user._get_current_object()),
        receipts=session.get(RECEIPTS_KEY, {}),
        kiosk=bool(session.get(KIOSK_KEY)),
        voter=voter,
    )


@bp.route("/cycles/<slug>/counted-ballots")
@public
def counted_ballots(slug: str):
    """After the results: every counted ballot's tracking-code fingerprint.  Its checker is "Check
    your ballot" (one form, rate-limited, answered with a redirect), which then also shows the
    ballot's fingerprint to find in this list."""
    cycle = get_public_cycle(slug) or abort(404)
    published = services.results_published(cycle)
    hashes = services.published_tracking_hashes(cycle) if published else {}
    return render_template(
        "ballots/counted.html", cycle=cycle, form=ReceiptCheckForm(), published=published, hashes=hashes
    )


# -- staff ------------------------------------------------------------------------------------


def _code_targets(cycle: Cycle) -> list:
    targets = [option(f"budget-{b.id}", _("Budget: %(name)s", name=b.name)) for b in cycle.budgets]
    districts = {b.district.id: b.district for b in cycle.budgets if b.district is not None}
    targets += [
        option(f"district-{d.id}", _("District: %(name)s (its budget and the city-wide budgets)", name=d.name))
        for d in sorted(districts.values(), key=lambda d: d.name)
    ]
    return targets


def _codes_page(cycle, form, void_form, status=200):
    return (
        render_template(
            "ballots/staff_codes.html",
            cycle=cycle,
            form=form,
            void_form=void_form,
            summaries=services.batch_summaries(cycle),
            batch_void_form=EmptyForm(formdata=None),
        ),
        status,
    )


@bp.route("/staff/cycles/<slug>/access-codes", methods=["GET", "POST"])
@role_required(Role.STAFF)
def staff_codes(slug: str):
    cycle = _cycle_for_staff(slug)
    form = GenerateCodesForm()
    form.target.choices = _code_targets(cycle)
    void_form = VoidCodeForm(formdata=None)
    if form.validate_on_submit():
        kind, _sep, raw_id = form.target.data.partition("-")
        budget = db.session.get(Budget, int(raw_id)) if kind == "budget" else None
        district = db.session.get(District, int(raw_id)) if kind == "district" else None
        try:
            batch, codes = services.generate_access_codes(
                current_user._get_current_object(),
                cycle,
                count=form.count.data,
                budget=budget,
                district=district,
                label=form.label.data or "",
            )
        except DomainError as error:
            add_form_error(form, error)
        else:
            formatted = [services.format_code(code) for code in codes]
            target = {value: label for value, label, *_rest in form.target.choices}[form.target.data]
            if form.output.data == "csv":
                return _codes_csv(cycle, batch, target, formatted)
            return render_template("ballots/code_sheet.html", cycle=cycle, batch=batch, target=target, codes=formatted)
    return _codes_page(cycle, form, void_form, 400 if form.errors or form.form_errors else 200)


def _codes_csv(cycle, batch, target, codes) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "batch", "valid_for", "vote_at"])
    vote_at = url_for("ballots.enter_code", _external=True)
    for code in codes:
        writer.writerow([code, batch.id, target, vote_at])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{cycle.slug}-codes-batch-{batch.id}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/staff/cycles/<slug>/access-codes/void", methods=["POST"])
@role_required(Role.STAFF)
def staff_void_code(slug: str):
    cycle = _cycle_for_staff(slug)
    form = GenerateCodesForm(formdata=None)
    form.target.choices = _code_targets(cycle)
    void_form = VoidCodeForm()
    if void_form.validate_on_submit():
        try:
            services.void_access_code(current_user._get_current_object(), void_form.code.data, void_form.reason.data)
        except DomainError as error:
            add_form_error(void_form, error)
        else:
            flash(_("The code is cancelled."), "success")
            return redirect(url_for("ballots.staff_codes", slug=cycle.slug)), 303
    return _codes_page(cycle, form, void_form, 400)


@bp.route("/staff/access-code-batches/<id:batch_id>/void", methods=["POST"])
@role_required(Role.STAFF)
def staff_void_batch(batch_id: int):
    batch = db.get_or_404(AccessCodeBatch, batch_id)
    if EmptyForm().validate_on_submit():
        try:
            services.void_access_code_batch(current_user._get_current_object(), batch)
        except DomainError as error:
            unit_of_work.discard()
            flash(error.message, "error")
        else:
            flash(_("Every unused code of batch %(id)d is cancelled.", id=batch.id), "success")
    return redirect(url_for("ballots.staff_codes", slug=batch.cycle.slug)), 303


@bp.route("/staff/cycles/<slug>/void-ballot", methods=["GET", "POST"])
@role_required(Role.STAFF)
def staff_void_ballot(slug: str):
    """Void one ballot, found by the tracking code on its receipt; the list of void ballots."""
    cycle = _cycle_for_staff(slug)
    form = VoidBallotForm()
    if form.validate_on_submit():
        try:
            services.void_ballot_by_tracking_code(current_user._get_current_object(), cycle, form.code.data, form.reason.data)
        except DomainError as error:
            add_form_error(form, error)
        else:
            flash(_("The ballot is void: it will not be counted."), "success")
            return redirect(url_for("ballots.staff_void_ballot", slug=cycle.slug)), 303
    status = 400 if form.errors or form.form_errors else 200
    return render_template("ballots/staff_void.html", cycle=cycle, form=form, voided=services.voided_ballots(cycle)), status


@bp.route("/staff/cycles/<slug>/ballots.csv")
@role_required(Role.STAFF)
def staff_export(slug: str):
    """Anonymised ballots (after voting has closed): no voter, no time of day, random order."""
    cycle = _cycle_for_staff(slug)
    services.check_export_allowed(cycle)
    out = io.StringIO()
    fields = ["budget", "tracking_hash", "channel", "date", "state", "choices"]
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    for row in services.anonymised_ballot_rows(cycle):
        writer.writerow(row)
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{cycle.slug}-ballots.csv"'
    return response
