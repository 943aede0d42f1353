"""Bad input never answers 500: ids and page numbers past the integer columns, NUL characters, and
numbers no column can store (``1e30``, ``Infinity``, ``NaN``, ``-0``, twenty digits).

Through the test client, on SQLite and on PostgreSQL (``PBVOTE_TEST_DATABASE_URL``), where most of
these used to fail inside the database.  Routes are found by walking ``app.url_map`` (as in
``tests/test_routes_roles.py``), and requested as an administrator, who may open every page, so that
a role check cannot hide a 500.
"""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from conftest import count_rows, csrf_token, post_form

from pbvote.auth.models import Role, User
from pbvote.ballots.models import Ballot, Participation
from pbvote.bounds import IdConverter
from pbvote.cycles.models import BallotType, Budget, Cycle
from pbvote.extensions import db
from pbvote.places.models import District
from pbvote.proposals.models import Comment, Proposal

HUGE_IDS = ["2147483648", "99999999999999999999", "9" * 400]
HUGE_PAGE = "99999999999999999999"
NUL_MESSAGE = "NUL character"
ARG_RE = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


@pytest.fixture
def app_config():
    # Many refused requests from one address in one test: the rate limits are tested elsewhere.
    return {"RATELIMIT_ENABLED": False}


@pytest.fixture
def admin(make_user, login):
    user = make_user(role=Role.ADMIN)
    login(user)
    return user


@pytest.fixture
def cycle(make_cycle, make_district):
    make_district("Riverside")
    return make_cycle("submission")


def body_of(response) -> str:
    return response.get_data(as_text=True)


def database_rows() -> dict[str, list[str]]:
    """Every row of every table, to show that a refused request wrote nothing."""
    db.session.expire_all()
    return {table.name: sorted(repr(tuple(row)) for row in db.session.execute(sa.select(table)))
            for table in db.metadata.sorted_tables}


def rules(app, *, with_id: bool | None = None):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        ids = [name for name in rule.arguments if isinstance(rule._converters[name], IdConverter)]
        if with_id is not None and bool(ids) != with_id:
            continue
        yield rule, ids


def request_rule(client, rule, values: dict, query: str = "", data: dict | None = None):
    path = ARG_RE.sub(lambda m: values[m.group(1)], rule.rule) + query
    if "GET" in rule.methods and data is None:
        return client.get(path)
    method = "POST" if "POST" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS", "GET"})[0]
    form = {"csrf_token": csrf_token(client, "/")}
    form.update(data or {})
    return client.open(path, method=method, data=form)


# -- ids in URLs ----------------------------------------------------------------------------------


def test_every_id_in_a_url_uses_the_bounded_id_converter(app):
    """A new ``<int:..._id>`` route would take ids the database cannot compare: every argument named
    like an id, and every integer in a route, goes through ``<id:...>``."""
    unbounded = []
    for rule, ids in rules(app):
        for name in rule.arguments:
            converter = rule._converters[name]
            if (name == "id" or name.endswith("_id") or type(converter).__name__ == "IntegerConverter") and name not in ids:
                unbounded.append(f"{rule.rule} ({name}: {type(converter).__name__})")
    assert unbounded == []
    assert sum(1 for _rule in rules(app, with_id=True)) >= 37


@pytest.mark.parametrize("huge", HUGE_IDS, ids=["2^31", "20-digits", "400-digits"])
def test_ids_beyond_the_integer_column_answer_404_on_every_route(app, client, admin, huge):
    failures = []
    for rule, ids in rules(app, with_id=True):
        for target in ids:
            values = {name: "1" for name in rule.arguments} | {target: huge}
            response = request_rule(client, rule, values)
            if response.status_code != 404:
                failures.append(f"{rule.rule} with {target}={huge[:24]} -> {response.status_code}")
    assert failures == []


def test_the_largest_id_reaches_the_database_and_is_simply_not_found(app, client, admin):
    """2^31-1 is a valid id: the query runs (on PostgreSQL too) and finds nothing — never a 500."""
    failures = []
    for rule, ids in rules(app, with_id=True):
        response = request_rule(client, rule, {name: "2147483647" for name in rule.arguments})  # a slug too
        if response.status_code >= 500 or response.status_code == 403:
            failures.append(f"{rule.rule} -> {response.status_code}")
    assert failures == []
    assert client.get("/proposals/2147483647").status_code == 404


# -- page numbers and ids in query strings --------------------------------------------------------


@pytest.fixture
def paginated_endpoints(app, client, admin, cycle, monkeypatch):
    """The endpoints whose view calls ``db.paginate``, found by requesting every page without an id
    (slugs: the cycle's) and noting which called it — a list added later is found the same way."""
    found = set()
    paginate = db.paginate

    def spy(*args, **kwargs):
        from flask import request

        found.add(request.endpoint)
        return paginate(*args, **kwargs)

    monkeypatch.setattr(db, "paginate", spy)
    for rule, _ids in rules(app, with_id=False):
        if "GET" in rule.methods and rule.endpoint != "auth.sign_out":
            request_rule(client, rule, {name: cycle.slug for name in rule.arguments}, "?page=2")
    return found


def test_every_paginated_list_answers_404_to_a_page_number_past_the_database(app, client, admin, cycle,
                                                                             paginated_endpoints):
    assert {"proposals.index", "auth.admin_users", "auth.staff_residents"} <= set(paginated_endpoints)
    failures = []
    for rule, _ids in rules(app, with_id=False):
        if "GET" not in rule.methods or rule.endpoint == "auth.sign_out":
            continue
        values = {name: cycle.slug for name in rule.arguments}
        for page in (HUGE_PAGE, "2147483648", "9" * 400):
            response = request_rule(client, rule, values, f"?page={page}")
            expected = response.status_code == 404 if rule.endpoint in paginated_endpoints else response.status_code < 500
            if not expected:
                failures.append(f"{rule.rule}?page={page[:24]} -> {response.status_code}")
        if rule.endpoint in paginated_endpoints:
            for page, status in (("2147483647", 200), ("0", 200), ("-5", 200), ("abc", 200), ("", 200)):
                response = request_rule(client, rule, values, f"?page={page}")
                if response.status_code != status:
                    failures.append(f"{rule.rule}?page={page} -> {response.status_code}, expected {status}")
    assert failures == []


def test_ids_beyond_the_column_in_list_filters_are_ignored_like_any_unknown_choice(client, admin, cycle, make_proposal):
    make_proposal(cycle, title="A bench by the river")
    for query in ("budget=99999999999999999999", "category=2147483648", "budget=-99999999999999999999&category=1e30"):
        response = client.get(f"/cycles/{cycle.slug}/proposals?{query}")
        assert response.status_code == 200, query
        assert "A bench by the river" in body_of(response)


def test_a_reply_to_a_comment_id_past_the_column_is_a_form_error(client, admin, cycle, make_proposal):
    proposal = make_proposal(cycle, status="submitted")
    before = database_rows()
    for parent in ("2147483648", "99999999999999999999", "0", "abc", "-1"):
        response = post_form(client, f"/proposals/{proposal.id}/comments", {"body": "Me too.", "parent_id": parent},
                             token_page="/")
        assert response.status_code == 400, parent
        assert "no longer exists" in body_of(response)
    assert database_rows() == before
    response = post_form(client, f"/proposals/{proposal.id}/comments", {"body": "First.", "parent_id": ""}, token_page="/")
    assert response.status_code == 303 and count_rows(Comment) == 1


# -- NUL characters -------------------------------------------------------------------------------


def test_nul_in_a_path_or_query_string_answers_400_with_a_clear_message(client, admin, cycle):
    for path in (f"/cycles/{cycle.slug}%00", f"/cycles/{cycle.slug}/proposals?q=bench%00",
                 "/admin/users?q=a%00b", "/staff/residents?q=%00", f"/cycles/{cycle.slug}/proposals?sort%00=newest",
                 "/proposals/1?x=%00"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert NUL_MESSAGE in body_of(response) and "text/html" in response.content_type


def test_nul_answers_a_json_error_to_json_clients(client, cycle):
    response = client.get(f"/cycles/{cycle.slug}%00", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "nul_character"
    assert NUL_MESSAGE in response.get_json()["error"]["message"]
    response = client.post("/sign-in", json={"email": ["a\x00@example.org"]}, headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "nul_character"


def test_nul_in_any_posted_form_is_refused_on_every_route(app, client, admin):
    before = database_rows()
    failures = []
    for rule, _ids in rules(app):
        if not rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            continue
        values = {name: "1" for name in rule.arguments}
        for data in ({"name": "x\x00"}, {"x\x00": "1"}):
            response = request_rule(client, rule, values, data=data)
            if response.status_code != 400 or NUL_MESSAGE not in body_of(response):
                failures.append(f"{rule.rule} {sorted(data)} -> {response.status_code}")
    assert failures == []
    assert database_rows() == before


def _nul_cases(base: dict) -> list[tuple[str, dict]]:
    return [(name, base | {name: (value or "") + "\x00"}) for name, value in base.items()]


def _check_nul_everywhere(client, path, base, token_page="/"):
    """Each field of ``base`` (a valid submission) in turn with a NUL: 400, the message, no write;
    then ``base`` itself goes through, so it is the NUL that was refused."""
    before = database_rows()
    for name, data in _nul_cases(base):
        response = post_form(client, path, data, token_page=token_page)
        assert response.status_code == 400, name
        assert NUL_MESSAGE in body_of(response), name
    assert database_rows() == before
    response = post_form(client, path, base, token_page=token_page)
    assert response.status_code in (302, 303), body_of(response)[:2000]


def test_nul_in_the_sign_up_form_is_refused(client, cycle):
    district = db.session.scalar(sa.select(District))
    _check_nul_everywhere(client, "/sign-up", {
        "display_name": "Ana", "email": "ana@example.org", "password": "correct horse battery",
        "confirm": "correct horse battery", "home_district": str(district.id), "birth_year": "1990"}, "/sign-up")


def test_nul_in_the_proposal_form_is_refused(client, admin, cycle):
    _check_nul_everywhere(client, f"/cycles/{cycle.slug}/proposals/new", {
        "title": "Benches by the river", "body": "Three benches along the river path.", "estimated": "2500",
        "budget": str(cycle.budgets[0].id), "category": str(cycle.categories[0].id), "address": "Quay",
        "latitude": "51.5", "longitude": "-0.1"})


def test_nul_in_the_comment_form_is_refused(client, admin, cycle, make_proposal):
    proposal = make_proposal(cycle, status="submitted")
    _check_nul_everywhere(client, f"/proposals/{proposal.id}/comments", {"body": "A good idea.", "parent_id": ""})


def test_nul_in_the_staff_cycle_forms_is_refused(client, admin, cycle):
    settings = {"name": "Riverside 2028", "slug": "riverside-2028", "description": "Our budget.", "currency": "EUR",
                "support_threshold": "3", "max_proposals_per_resident": "2", "minimum_age": "16",
                "district_eligibility": "home_district", "access_codes_enabled": "y"}
    _check_nul_everywhere(client, "/staff/cycles/new", settings)
    _check_nul_everywhere(client, f"/staff/cycles/{cycle.id}", settings | {"slug": cycle.slug})
    _check_nul_everywhere(client, f"/staff/cycles/{cycle.id}/categories", {"category-name": "Parks"})
    _check_nul_everywhere(client, f"/staff/cycles/{cycle.id}/phases", {
        "phases-submission_start": "2030-01-01T00:00", "phases-submission_end": "2030-02-01T00:00"})


def test_nul_in_the_staff_budget_form_is_refused(client, admin, cycle):
    _check_nul_everywhere(client, f"/staff/cycles/{cycle.id}/budgets/new", {
        "name": "Riverside", "district": "", "total": "250000", "position": "2", "ballot_type": "approval",
        "min_choices": "1", "max_choices": "5", "min_spend_percent": "0", "tally_rule": "greedy",
        "utility": "approvals", "completion": "none", "tie_break": "lexico"})


# -- numbers no column can store ------------------------------------------------------------------


def test_every_number_field_of_every_form_is_bounded():
    """WTForms' own number fields take twenty digits and ``Infinity``: no form under ``pbvote/``
    declares one (the ballot form builds its points fields from the same bounded class), no id sits
    in a plain hidden field, and selects of ids coerce with the bounded helpers."""
    import importlib
    import pkgutil

    import wtforms
    from flask_wtf import FlaskForm
    from wtforms.fields.core import UnboundField

    import pbvote
    from pbvote.forms import coerce_int, coerce_optional_int

    for module in pkgutil.walk_packages(pbvote.__path__, "pbvote."):
        importlib.import_module(module.name)
    unbounded = (wtforms.IntegerField, wtforms.DecimalField, wtforms.FloatField, wtforms.IntegerRangeField,
                 wtforms.DecimalRangeField)
    forms, found = set(), []
    pending = list(FlaskForm.__subclasses__())
    while pending:
        form = pending.pop()
        forms.add(form)
        pending.extend(form.__subclasses__())
    for form in forms:
        for name in dir(form):
            field = getattr(form, name, None)
            if not isinstance(field, UnboundField):
                continue
            where = f"{form.__module__}.{form.__name__}.{name}"
            if field.field_class in unbounded:
                found.append(f"{where}: {field.field_class.__name__}")
            if field.field_class is wtforms.HiddenField and name.endswith("_id"):
                found.append(f"{where}: an id in a plain HiddenField")
            coerce = field.kwargs.get("coerce")
            if coerce is int or (coerce is not None and coerce not in (coerce_int, coerce_optional_int, str)):
                found.append(f"{where}: coerce={coerce}")
    assert len(forms) > 15
    assert found == []


MONEY = "money"
INTEGER = "integer"
COORDINATE = "coordinate"

#: What the field says for each bad number, by kind of field (``None``: the value is accepted).
MESSAGES = {
    MONEY: {"1e30": "no larger than 999,999,999,999.99", "Infinity": "in digits", "NaN": "in digits",
            "-0": "without a minus sign", "99999999999999999999": "no larger than 999,999,999,999.99",
            "-1e30": "no smaller than -999,999,999,999.99"},
    INTEGER: {"1e30": "Not a valid integer value", "Infinity": "Not a valid integer value",
              "NaN": "Not a valid integer value", "-0": "without a minus sign",
              "99999999999999999999": "no larger than 2,147,483,647",
              "-99999999999999999999": "no smaller than -2,147,483,648"},
    COORDINATE: {"1e30": "Number must be between", "Infinity": "in digits", "NaN": "in digits", "-0": None,
                 "99999999999999999999": "Number must be between", "1e400": "in digits"},
}


@pytest.fixture
def staff_forms(make_user, login, cycle, make_proposal):
    """(url, valid submission, [(field name, field id, kind)]) of every form with a number field."""
    staff = make_user(role=Role.STAFF)
    proposal = make_proposal(cycle, status="submitted")
    budget = cycle.budgets[0]
    budget_form = {"name": "Riverside", "district": "", "total": "250000", "position": "2",
                   "ballot_type": "approval", "min_choices": "1", "max_choices": "5", "min_spend_percent": "0",
                   "points_total": "10", "points_per_project": "5", "tally_rule": "greedy", "utility": "approvals",
                   "completion": "none", "tie_break": "lexico"}
    cycle_form = {"name": "Riverside 2028", "slug": "riverside-2028", "currency": "EUR", "support_threshold": "3",
                  "max_proposals_per_resident": "2", "minimum_age": "16", "district_eligibility": "home_district"}
    budget_numbers = [("total", MONEY)] + [(name, INTEGER) for name in (
        "position", "min_choices", "max_choices", "min_spend_percent", "points_total", "points_per_project")]
    cycle_numbers = [(name, INTEGER) for name in ("support_threshold", "max_proposals_per_resident", "minimum_age")]
    login(staff)
    return {
        "new budget": (f"/staff/cycles/{cycle.id}/budgets/new", budget_form, budget_numbers),
        "budget": (f"/staff/budgets/{budget.id}", budget_form, budget_numbers),
        "new cycle": ("/staff/cycles/new", cycle_form, cycle_numbers),
        "cycle": (f"/staff/cycles/{cycle.id}", cycle_form | {"slug": cycle.slug}, cycle_numbers),
        "review": (f"/review/proposals/{proposal.id}",
                   {"decision": "feasible", "final": "10000", "explanation": "As estimated."}, [("final", MONEY)]),
        "proposal": (f"/cycles/{cycle.slug}/proposals/new",
                     {"title": "Benches by the river", "body": "Three benches along the river path.", "estimated": "2500",
                      "budget": str(budget.id), "latitude": "51.5", "longitude": "-0.1"},
                     [("estimated", MONEY), ("latitude", COORDINATE), ("longitude", COORDINATE)]),
        "pledge": (f"/proposals/{proposal.id}/pledges",
                   {"pledge-kind": "time", "pledge-hours": "4", "pledge-frequency": "weekly",
                    "pledge-description": "Water the trees."}, [("pledge-hours", INTEGER)]),
        "account": ("/account", {"display_name": "Sam", "birth_year": "1980"}, [("birth_year", INTEGER)]),
    }


FORM_NAMES = ["new budget", "budget", "new cycle", "cycle", "review", "proposal", "pledge", "account"]


@pytest.mark.parametrize("form_name", FORM_NAMES)
def test_numbers_no_column_can_store_are_form_errors_and_nothing_is_written(client, staff_forms, form_name):
    url, base, numbers = staff_forms[form_name]
    before = database_rows()
    failures = []
    for name, kind in numbers:
        for value, message in MESSAGES[kind].items():
            if message is None:
                continue
            response = post_form(client, url, base | {name: value}, token_page="/")
            error = re.search(rf'id="{re.escape(name)}-error">([^<]*)</p>', body_of(response))
            if response.status_code != 400 or error is None or message not in error.group(1):
                failures.append(f"{name}={value} -> {response.status_code}: {error.group(1) if error else 'no error on the field'}")
    assert failures == []
    assert database_rows() == before
    response = post_form(client, url, base, token_page="/")  # the same form with good numbers goes through
    assert response.status_code in (302, 303), body_of(response)[:3000]


def test_a_coordinate_of_minus_zero_is_stored_as_zero(client, admin, cycle):
    response = post_form(client, f"/cycles/{cycle.slug}/proposals/new", {
        "title": "A bench at Greenwich", "body": "On the meridian, facing the river.", "estimated": "100",
        "budget": str(cycle.budgets[0].id), "latitude": "51.4779", "longitude": "-0"}, token_page="/")
    assert response.status_code == 302
    proposal = db.session.scalar(sa.select(Proposal))
    assert proposal.longitude == 0.0 and str(proposal.longitude) == "0.0"


def test_the_largest_amount_is_accepted_and_stored_exactly(client, staff_forms, cycle):
    url, base, _numbers = staff_forms["new budget"]
    response = post_form(client, url, base | {"total": "999999999999.99", "max_choices": "2147483647"}, token_page="/")
    assert response.status_code == 302, body_of(response)[:3000]
    budget = db.session.scalar(sa.select(Budget).where(Budget.name == "Riverside"))
    assert budget.total_amount == 99_999_999_999_999 and budget.max_choices == 2_147_483_647


def test_sign_up_refuses_a_year_of_birth_no_column_can_store(client, cycle):
    for value in ("99999999999999999999", "1e30", "NaN", "-0"):
        response = post_form(client, "/sign-up", {
            "display_name": "Ana", "email": "ana@example.org", "password": "correct horse battery",
            "confirm": "correct horse battery", "birth_year": value}, token_page="/sign-up")
        assert response.status_code == 400, value
        assert 'id="birth_year-error"' in body_of(response), value
    assert count_rows(User) == 0


def test_ballot_forms_refuse_ids_and_numbers_past_the_columns(client, make_user, login, make_cycle, make_proposal):
    """The ballot pages (one form per ballot type) with a project id, points or a rank no column holds."""
    login(make_user(verified=True))
    cases = []
    for kind, field in ((BallotType.APPROVAL, None), (BallotType.CUMULATIVE, "points"), (BallotType.RANKING, "rank")):
        voting = make_cycle("voting", budgets=[{"name": "City-wide", "total_amount": 100_000_00, "ballot_type": kind,
                                                 "min_choices": 1, "max_choices": 2, "points_total": 10}])
        budget = voting.budgets[0]
        project = make_proposal(voting, budget=budget)
        for huge in ("2147483648", "99999999999999999999"):
            if field is None:
                cases.append((budget, {"projects": [huge]}))
            else:
                cases.append((budget, {f"{field}_{project.id}": huge}))
        if field == "points":
            cases += [(budget, {f"points_{project.id}": value}) for value in ("1e30", "NaN", "-0")]
    for budget, data in cases:
        for step in ("review", "cast"):
            response = post_form(client, f"/ballots/{budget.id}/{step}", data | {"token": "t" * 32},
                                 token_page=f"/ballots/{budget.id}")
            assert response.status_code == 400, (budget.ballot_type, step, data)
    assert count_rows(Ballot) == count_rows(Participation) == 0
    assert count_rows(Cycle) == 3
