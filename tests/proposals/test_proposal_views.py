"""Proposal and staff pages through the client: role checks, rows written, sanitising, images."""
from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest

from conftest import count_rows, csrf_token, post_form
from pbvote.extensions import db
from pbvote.proposals.models import Comment, Proposal, ProposalStatus, Support

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<body onload=alert(1)>',
    '"><script>alert(1)</script>',
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    '<object data="javascript:alert(1)"></object>',
    '<form action="javascript:alert(1)"><button>x</button></form>',
    "![x](javascript:alert(1))",
]


class ActiveContentFinder(HTMLParser):
    """Collects whatever in a page could run script: elements, event handlers, script URLs."""

    BAD_TAGS = {"script", "iframe", "svg", "math", "object", "embed", "base", "style"}

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BAD_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").replace("\x00", "").strip().lower()
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag} {name}=")
            if name in ("href", "src", "action", "formaction", "data", "xlink:href") and (
                    value.startswith("javascript:") or value.startswith("data:") or value.startswith("vbscript:")):
                self.found.append(f"{tag} {name}={value}")


def active_content(html: str) -> list[str]:
    finder = ActiveContentFinder()
    finder.feed(html.split('<main id="content"', 1)[1])
    return finder.found


def post(client, path, data=None, **kwargs):
    """POST a form as a signed-in browser would (the token comes from the header's sign-out form)."""
    return post_form(client, path, data, token_page="/", **kwargs)


def body_of(response) -> str:
    return response.get_data(as_text=True)


def proposal_form(cycle, **extra):
    data = {"title": "Trees on Elm Street", "body": "Twenty trees along Elm Street for shade.",
            "estimated": "12500.50", "budget": str(cycle.budgets[0].id), "category": ""}
    data.update(extra)
    return data


def test_resident_creates_draft_and_submits(client, login, make_user, make_cycle):
    cycle = make_cycle()
    login(make_user())
    response = post(client, f"/cycles/{cycle.slug}/proposals/new", proposal_form(cycle))
    assert response.status_code == 302
    proposal = db.session.scalars(db.select(Proposal)).one()
    assert proposal.estimated_amount == 1_250_050 and proposal.status == ProposalStatus.DRAFT
    response = post(client, f"/proposals/{proposal.id}/submit")
    assert response.status_code == 303
    db.session.refresh(proposal)
    assert proposal.status == ProposalStatus.SUBMITTED


def test_invalid_proposal_form_shows_errors(client, login, make_user, make_cycle):
    cycle = make_cycle()
    login(make_user())
    response = post(client, f"/cycles/{cycle.slug}/proposals/new", proposal_form(cycle, estimated="-3", title="x"))
    assert response.status_code == 400
    assert 'aria-invalid="true"' in body_of(response)
    assert count_rows(Proposal) == 0


def test_drafts_are_private(client, login, make_user, make_cycle, make_proposal):
    cycle = make_cycle()
    draft = make_proposal(cycle, status="draft")
    assert client.get(f"/proposals/{draft.id}").status_code == 404
    login(make_user())
    assert client.get(f"/proposals/{draft.id}").status_code == 404


def test_resident_cannot_edit_someone_elses_proposal(client, login, make_user, make_cycle, make_proposal):
    cycle = make_cycle()
    proposal = make_proposal(cycle, status="submitted")
    login(make_user())
    assert client.get(f"/proposals/{proposal.id}/edit").status_code == 403
    response = post(client, f"/proposals/{proposal.id}/edit", proposal_form(cycle, title="Taken over!"))
    assert response.status_code == 403
    db.session.refresh(proposal)
    assert proposal.title != "Taken over!"


@pytest.mark.parametrize("path", [
    "/staff/cycles", "/staff/cycles/new", "/staff/cycles/{cycle}", "/staff/budgets/{budget}",
    "/staff/cycles/{cycle}/budgets/new", "/review/cycles/{cycle}", "/review/proposals/{proposal}",
    "/staff/cycles/{cycle}/moderation",
])
def test_resident_gets_403_on_staff_and_review_pages(client, login, make_user, make_cycle, make_proposal, path):
    cycle = make_cycle()
    proposal = make_proposal(cycle, status="submitted")
    url = path.format(cycle=cycle.id, budget=cycle.budgets[0].id, proposal=proposal.id)
    assert client.get(url).status_code == 302  # anonymous: sign in first
    login(make_user())
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("path", ["/staff/cycles/{cycle}/advance", "/staff/cycles/{cycle}/phases",
                                  "/staff/cycles/{cycle}/categories", "/comments/{comment}/moderate"])
def test_resident_gets_403_on_staff_actions(client, login, make_user, make_cycle, make_proposal, path):
    cycle = make_cycle()
    proposal = make_proposal(cycle, status="submitted")
    comment = Comment(proposal_id=proposal.id, author_id=proposal.author_id, body="hello")
    db.session.add(comment)
    db.session.commit()
    login(make_user())
    response = post(client, path.format(cycle=cycle.id, comment=comment.id), {"reason": "x"})
    assert response.status_code == 403


def test_reviewer_marks_feasible_through_the_form(client, login, make_user, make_cycle, make_proposal):
    cycle = make_cycle("review")
    proposal = make_proposal(cycle, status="submitted", cost=1000_00)
    login(make_user("reviewer"))
    assert client.get(f"/review/cycles/{cycle.id}").status_code == 200
    response = post(client, f"/review/proposals/{proposal.id}",
                         {"decision": "feasible", "final": "1200", "explanation": ""})
    assert response.status_code == 400 and "Explain publicly" in body_of(response)
    response = post(client, f"/review/proposals/{proposal.id}",
                         {"decision": "feasible", "final": "1200", "explanation": "Higher labour costs."})
    assert response.status_code == 302
    db.session.refresh(proposal)
    assert (proposal.status, proposal.final_amount) == (ProposalStatus.FEASIBLE, 1200_00)
    assert "Higher labour costs." in body_of(client.get(f"/proposals/{proposal.id}"))


def test_staff_sets_up_a_cycle(client, login, make_user):
    login(make_user("staff"))
    response = post(client, "/staff/cycles/new", {
        "name": "Riverside 2028", "slug": "riverside-2028", "currency": "EUR", "support_threshold": "3",
        "district_eligibility": "home_district", "access_codes_enabled": "y"})
    assert response.status_code == 302
    cycle_url = response.headers["Location"]
    response = post(client, cycle_url + "/phases", {
        "phases-submission_start": "2030-01-01T00:00", "phases-submission_end": "2030-02-01T00:00",
        "phases-voting_start": "2030-01-15T00:00", "phases-voting_end": "2030-03-01T00:00"})
    assert response.status_code == 400 and "without overlapping" in body_of(response)
    response = post(client, cycle_url + "/phases", {
        "phases-submission_start": "2030-01-01T00:00", "phases-submission_end": "2030-02-01T00:00",
        "phases-voting_start": "2030-02-01T00:00", "phases-voting_end": "2030-03-01T00:00"})
    assert response.status_code == 302
    response = post(client, cycle_url + "/budgets/new", {
        "name": "City-wide", "district": "", "total": "250000", "ballot_type": "approval", "min_choices": "3",
        "max_choices": "2", "tally_rule": "mes", "utility": "cost", "completion": "add1", "tie_break": "lexico"})
    assert response.status_code == 400 and "at least the minimum" in body_of(response)
    response = post(client, cycle_url + "/budgets/new", {
        "name": "City-wide", "district": "", "total": "250000", "ballot_type": "approval", "min_choices": "1",
        "max_choices": "5", "tally_rule": "mes", "utility": "cost", "completion": "add1", "tie_break": "lexico"})
    assert response.status_code == 302
    from pbvote.cycles.models import Budget

    budget = db.session.scalars(db.select(Budget)).one()
    assert budget.total_amount == 250_000_00
    assert budget.tally_params == {"utility": "cost", "completion": "add1", "tie_break": "lexico"}
    assert client.get(f"/staff/budgets/{budget.id}").status_code == 200
    assert post(client, cycle_url + "/categories", {"category-name": "Parks"}).status_code == 302


def test_frozen_budget_form_explains_refusal(client, login, make_user, make_cycle):
    from pbvote.timeutil import utcnow

    cycle = make_cycle("voting")
    budget = cycle.budgets[0]
    budget.frozen_at = utcnow()
    db.session.commit()
    login(make_user("staff"))
    response = post(client, f"/staff/budgets/{budget.id}", {
        "name": budget.name, "district": "", "total": "1", "ballot_type": "approval", "min_choices": "1",
        "tally_rule": "greedy", "utility": "approvals", "completion": "none", "tie_break": "lexico"})
    assert response.status_code == 400 and "can no longer change" in body_of(response)
    db.session.refresh(budget)
    assert budget.total_amount == 100_000_00


def test_support_button_writes_one_row(client, login, make_user, make_cycle, make_proposal):
    proposal = make_proposal(make_cycle(support_threshold=2), status="submitted")
    login(make_user())
    post(client, f"/proposals/{proposal.id}/support")
    post(client, f"/proposals/{proposal.id}/support")
    assert count_rows(Support) == 1
    page = body_of(client.get(f"/proposals/{proposal.id}"))
    assert "1 more needed for review" in page and "<progress" in page


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_markdown_of_proposals_and_comments_is_sanitised(client, login, make_user, make_cycle, make_proposal, payload):
    cycle = make_cycle()
    proposal = make_proposal(cycle, status="submitted")
    proposal.body = "Intro **bold**\n\n" + payload
    proposal.title = payload[:150]
    db.session.commit()
    login(make_user())
    assert post(client, f"/proposals/{proposal.id}/comments", {"body": payload}).status_code == 303
    page = body_of(client.get(f"/proposals/{proposal.id}"))
    assert active_content(page) == []
    assert "<strong>bold</strong>" in page
    assert page.count('<article class="comment') == 1  # the comment was published and rendered
    assert active_content(body_of(client.get(f"/cycles/{cycle.slug}/proposals"))) == []


def test_active_content_finder_can_fail():
    page = '<main id="content"><a href=" JavaScript:x">a</a><img src=x onerror=y><svg></svg></main>'
    assert len(active_content(page)) == 3


def test_comment_rate_limit(client, login, make_user, make_cycle, make_proposal, app):
    app.config["PBVOTE_COMMENT_LIMIT"] = "2 per day"
    proposal = make_proposal(make_cycle(), status="submitted")
    login(make_user())
    token = csrf_token(client, "/")
    codes = [client.post(f"/proposals/{proposal.id}/comments", data={"body": f"hi {i}", "csrf_token": token}).status_code
             for i in range(3)]
    assert codes == [303, 303, 429]
    assert count_rows(Comment) == 2


def test_hidden_comment_shows_placeholder(client, login, make_user, make_cycle, make_proposal):
    proposal = make_proposal(make_cycle(), status="submitted")
    comment = Comment(proposal_id=proposal.id, author_id=proposal.author_id, body="Something rude")
    db.session.add(comment)
    db.session.commit()
    login(make_user("moderator"))
    assert post(client, f"/comments/{comment.id}/moderate", {"reason": "Rude"}).status_code == 303
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    page = body_of(client.get(f"/proposals/{proposal.id}"))
    assert "Hidden by a moderator." in page and "Something rude" not in page


def test_image_upload_and_serving_headers(client, login, make_user, make_cycle):
    cycle = make_cycle()
    author = make_user()
    login(author)
    post(client, f"/cycles/{cycle.slug}/proposals/new", proposal_form(cycle))
    proposal = db.session.scalars(db.select(Proposal)).one()
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    token = csrf_token(client, "/")
    bad = client.post(f"/proposals/{proposal.id}/images", content_type="multipart/form-data",
                      data={"csrf_token": token, "image-image": (io.BytesIO(b"<svg onload=alert(1)>"), "x.png")})
    assert bad.status_code == 400 and "Upload a PNG" in body_of(bad)
    good = client.post(f"/proposals/{proposal.id}/images", content_type="multipart/form-data",
                       data={"csrf_token": token, "image-image": (io.BytesIO(png), "../../evil.html"),
                             "image-alt_text": "Elm Street"})
    assert good.status_code == 303, re.findall(r"class=\"error\"[^>]*>([^<]*)|role=\"alert\">\s*<p>([^<]*)", body_of(good))
    db.session.refresh(proposal)
    image = proposal.images[0]
    response = client.get(f"/proposal-images/{image.id}")
    assert response.status_code == 200 and response.data == png
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == f'inline; filename=proposal-{proposal.id}-{image.id}.png'
    response.close()
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    assert client.get(f"/proposal-images/{image.id}").status_code == 404  # the proposal is still a draft


def test_list_search_filter_sort_and_pagination(client, make_cycle, make_proposal):
    cycle = make_cycle()
    for i in range(25):
        make_proposal(cycle, status="submitted", title=f"Bench number {i}", support_count=i)
    garden = make_proposal(cycle, status="feasible", title="Library garden")
    garden.body = "Vegetables for everyone."
    db.session.commit()
    make_proposal(cycle, status="draft", title="Secret draft bench")
    base = f"/cycles/{cycle.slug}/proposals"
    page = body_of(client.get(base + "?q=vegetables"))
    assert "Library garden" in page and "Bench number" not in page and "1 proposal" in page
    page = body_of(client.get(base + "?status=feasible"))
    assert "Library garden" in page and "Bench number" not in page
    page = body_of(client.get(base + "?sort=supported"))
    assert page.index("Bench number 24") < page.index("Bench number 23")
    assert "26 proposals" in page and "Secret draft" not in page and "Page 1 of 2" in page
    assert "Page 2 of 2" in body_of(client.get(base + "?sort=supported&page=2"))
    first = body_of(client.get(base + "?sort=random"))
    again = body_of(client.get(base + "?sort=random"))
    titles = lambda html: re.findall(r">(Bench number \d+|Library garden)</a>", html)  # noqa: E731
    assert titles(first) == titles(again)  # stable for one visitor
    other = client.application.test_client()
    orders = {tuple(titles(body_of(c.get(base + "?sort=random")))) for c in [other] + [
        client.application.test_client() for _ in range(4)]}
    assert len(orders) > 1  # but not the same for everyone
    assert client.get(base + "?budget=nonsense&status=bogus&sort=zzz").status_code == 200


def test_invite_and_accept_through_pages(client, login, make_user, make_cycle):
    cycle = make_cycle()
    author, friend = make_user(), make_user(email="friend@example.org")
    login(author)
    post(client, f"/cycles/{cycle.slug}/proposals/new", proposal_form(cycle))
    proposal = db.session.scalars(db.select(Proposal)).one()
    assert post(client, f"/proposals/{proposal.id}/coauthors", {"invite-who": "friend@example.org"}).status_code == 303
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    login(friend)
    page = body_of(client.get("/my/proposals"))
    assert "Trees on Elm Street" in page
    invitation_id = proposal.coauthors[0].id
    assert post(client, f"/invitations/{invitation_id}", {"accept": "Accept"}).status_code == 303
    assert client.get(f"/proposals/{proposal.id}/edit").status_code == 200


@pytest.fixture
def commits_refused(monkeypatch):
    """``refuse()`` makes the next commit of a request fail, as a database that went away would."""
    import sqlalchemy as sa
    from flask import has_request_context
    from flask_sqlalchemy.session import Session

    commit = Session.commit
    refusing = []

    def failing_commit(self):
        if refusing and has_request_context():
            refusing.clear()
            raise sa.exc.OperationalError("COMMIT", {}, Exception("server closed the connection"))
        return commit(self)

    monkeypatch.setattr(Session, "commit", failing_commit)
    return lambda: refusing.append(True)


def _image_files(app) -> list[str]:
    import os

    folder = os.path.join(app.config["PBVOTE_UPLOAD_DIR"], "proposals")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_image_files_are_written_and_deleted_only_after_the_commit(app, client, login, make_user, make_cycle,
                                                                    commits_refused):
    cycle = make_cycle()
    author = make_user()
    login(author)
    post(client, f"/cycles/{cycle.slug}/proposals/new", proposal_form(cycle))
    proposal = db.session.scalars(db.select(Proposal)).one()
    token = csrf_token(client, "/")

    def upload():
        return client.post(f"/proposals/{proposal.id}/images", content_type="multipart/form-data",
                           data={"csrf_token": token, "image-image": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100), "a.png")})

    commits_refused()
    assert upload().status_code == 503
    assert _image_files(app) == [] and proposal.images == []  # no row, and no file left behind

    assert upload().status_code == 303
    db.session.refresh(proposal)
    image = proposal.images[0]
    assert _image_files(app) == [image.stored_name]

    commits_refused()
    assert client.post(f"/proposal-images/{image.id}/delete", data={"csrf_token": token}).status_code == 503
    db.session.refresh(proposal)
    assert proposal.images == [image] and _image_files(app) == [image.stored_name]  # the row stays, so does its file

    assert client.post(f"/proposal-images/{image.id}/delete", data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert proposal.images == [] and _image_files(app) == []
