"""A second language: Accept-Language honoured, the header's switcher (cookie, then account), the
page's lang, Polish plurals, numbers and money, and e-mails in the recipient's language."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from conftest import csrf_token, post_form
from flask_babel import force_locale, ngettext

from pbvote.auth.models import User
from pbvote.ballots import services as ballot_services
from pbvote.ballots.services import Choice, Voter
from pbvote.cycles.models import PhaseKind
from pbvote.extensions import db
from pbvote.i18n import LANGUAGE_COOKIE
from pbvote.notifications import services as notification_services
from pbvote.notifications.kinds import NotificationKind
from pbvote.notifications.models import OutboxEmail
from pbvote.results import publication as publishing
from pbvote.templating import datetime_format, money, number
from pbvote.timeutil import utcnow

POLISH = {"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def text(response) -> str:
    return response.get_data(as_text=True)


def test_accept_language_polish_gives_polish_pages_with_html_lang(client, make_cycle):
    cycle = make_cycle("voting")
    home = text(client.get("/", headers=POLISH))
    assert '<html lang="pl">' in home
    assert "Przejdź do treści" in home and "Edycje budżetu obywatelskiego" in home and "Głosuj" in home
    assert "Skip to content" not in home
    assert "<strong>1</strong> budżet</li>" in home and "<strong>0</strong> projektów</li>" in home  # ngettext
    page = text(client.get(f"/cycles/{cycle.slug}", headers=POLISH))
    assert "Harmonogram" in page and "Głosowanie" in page
    english = text(client.get("/", headers=ENGLISH))
    assert '<html lang="en">' in english and "Skip to content" in english
    # No header at all: the default language.
    assert '<html lang="en">' in text(client.get("/"))


def test_an_unoffered_language_falls_back_to_the_default(client):
    page = text(client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"}))
    assert '<html lang="en">' in page and "Skip to content" in page


def test_sign_in_page_and_its_errors_in_polish(client):
    page = text(client.get("/sign-in", headers=POLISH))
    assert "Adres e-mail" in page and "Hasło" in page and "Zaloguj się" in page
    response = client.post("/sign-in", data={"csrf_token": csrf_token(client), "email": "nobody@example.org",
                                              "password": "wrong password!"}, headers=POLISH)
    assert "Ten adres e-mail i hasło nie pasują do żadnego konta." in text(response)
    empty = client.post("/sign-in", data={"csrf_token": csrf_token(client)}, headers=POLISH)
    assert "This field is required" not in text(empty)  # WTForms' own messages come in Polish too
    assert "To pole jest wymagane" in text(empty)


def test_the_ballot_and_its_rules_in_polish(client, login, make_user, voting_budget):
    budget, proposals = voting_budget("approval", max_choices=2)
    login(make_user(verified=True))
    page = text(client.get(f"/ballots/{budget.id}", headers=POLISH))
    assert "Zaznacz projekty, które popierasz." in page
    assert "Możesz zaznaczyć najwyżej 2 projekty." in page  # ngettext, Polish form for 2
    assert "Przejrzyj moje wybory" in page
    review = post_form(client, f"/ballots/{budget.id}/review", {"projects": [str(p.id) for p in proposals[:3]]},
                       token_page=f"/ballots/{budget.id}", headers=POLISH)
    assert "Wybierz najwyżej 2 projekty." in text(review)


def test_the_results_page_in_polish_with_polish_money(client, make_cycle, make_proposal, make_user, request_context):
    cycle = make_cycle("voting")
    budget = cycle.budgets[0]
    funded = make_proposal(cycle, cost=12_345_50)
    ballot_services.cast_ballot(Voter(user=make_user(verified=True)), budget, [Choice(funded.id)],
                                ballot_services.new_submission_token())
    cycle.phase(PhaseKind.VOTING).ends_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    publishing.publish_result(budget)
    db.session.commit()
    page = text(client.get(f"/cycles/{cycle.slug}/results/{budget.id}", headers=POLISH))
    assert '<html lang="pl">' in page and "Wykorzystanie budżetu" in page and "Sfinansowany" in page
    assert "12\xa0345,50\xa0€" in page  # Babel's Polish format: grouping by a space, comma, symbol after
    assert "€12,345.50" in text(client.get(f"/cycles/{cycle.slug}/results/{budget.id}", headers=ENGLISH))


def test_numbers_money_dates_and_plurals_follow_the_locale(app):
    with app.test_request_context("/"):
        with force_locale("pl"):
            assert money(123_450, "PLN") == "1\xa0234,50\xa0zł"
            assert money(1_234_567_00, "PLN") == "1\xa0234\xa0567\xa0zł"
            assert money(123_450, "EUR") == "1\xa0234,50\xa0€"
            assert number(12345) == "12\xa0345"
            assert datetime_format(datetime(2026, 12, 4, 19, 25)).startswith("4 gru 2026")
            forms = {n: ngettext("%(num)d proposal", "%(num)d proposals", n) for n in (1, 2, 5, 12, 22, 25, 104)}
            assert forms == {1: "1 projekt", 2: "2 projekty", 5: "5 projektów", 12: "12 projektów",
                             22: "22 projekty", 25: "25 projektów", 104: "104 projekty"}
        with force_locale("en"):
            assert money(123_450, "EUR") == "€1,234.50" and number(12345) == "12,345"


def test_the_header_names_each_language_in_itself(client):
    page = text(client.get("/", headers=ENGLISH))
    assert '<nav class="wrap language-switcher" aria-label="Language">' in page
    assert '<span lang="en" aria-current="true">English</span>' in page
    assert 'href="/language?language=pl&amp;next=/" lang="pl" hreflang="pl">Polski</a>' in page
    polish = text(client.get("/", headers=POLISH))
    assert 'aria-label="Język"' in polish and '<span lang="pl" aria-current="true">Polski</span>' in polish


def test_the_switcher_keeps_the_choice_in_a_cookie_over_accept_language(client, make_cycle):
    cycle = make_cycle("submission")
    response = client.get(f"/language?language=pl&next=/cycles/{cycle.slug}", headers=ENGLISH)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cycles/{cycle.slug}")
    cookie = client.get_cookie(LANGUAGE_COOKIE)
    assert cookie.value == "pl" and cookie.http_only and cookie.same_site == "Lax"
    assert cookie.expires and cookie.expires > datetime.now(cookie.expires.tzinfo) + timedelta(days=300)
    page = text(client.get(f"/cycles/{cycle.slug}", headers=ENGLISH))
    assert '<html lang="pl">' in page and "Harmonogram" in page
    # The kept header for anonymous visitors is kept per language: English again after switching back.
    client.get("/language?language=en&next=/", headers=POLISH)
    assert "Skip to content" in text(client.get("/", headers=POLISH))


@pytest.mark.parametrize("query", ["language=de", "language=", "", "language=pl%00"])
def test_the_switcher_refuses_a_language_not_offered(client, query):
    assert client.get(f"/language?{query}&next=/").status_code == 400
    assert client.get_cookie(LANGUAGE_COOKIE) is None


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_the_switcher_only_sends_back_to_this_site(client, target):
    response = client.get("/language", query_string={"language": "pl", "next": target})
    assert response.status_code == 302 and response.headers["Location"] in ("/", "http://localhost/")


def test_a_signed_in_choice_is_saved_on_the_account_and_comes_before_the_cookie(client, login, make_user):
    user = make_user()
    login(user)
    page = text(client.get("/account", headers=ENGLISH))
    assert "Not chosen: pages follow your browser" in page and "e-mails are in English." in page
    # Signed in, the switcher is a form with its CSRF token (the header is rendered for the account).
    assert 'action="/language"' in page and 'name="language" value="pl"' in page
    response = post_form(client, "/language", {"language": "pl", "next": "/account"}, token_page="/account")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")
    assert db.session.get(User, user.id).locale == "pl"
    client.set_cookie(LANGUAGE_COOKIE, "en")  # an older choice on this browser
    account = text(client.get("/account", headers=ENGLISH))
    assert '<html lang="pl">' in account and '<dt>Język</dt>' in account and '<span lang="pl">Polski</span>' in account
    # Without a CSRF token nothing changes.
    assert client.post("/language", data={"language": "en"}).status_code == 400
    assert db.session.get(User, user.id).locale == "pl"


def test_signing_up_keeps_the_language_chosen_before(client, make_district):
    make_district("Riverside")
    client.get("/language?language=pl&next=/sign-up")
    response = post_form(client, "/sign-up", {
        "email": "nowa@example.org", "display_name": "Nowa Mieszkanka", "password": "długie hasło 123",
        "confirm": "długie hasło 123", "home_district": "",
    }, token_page="/sign-up")
    assert response.status_code == 302, text(response)[:2000]
    user = db.session.scalar(sa.select(User).where(User.email == "nowa@example.org"))
    assert user.locale == "pl"


def _email_to(reader) -> OutboxEmail:
    notification_services.notify(reader, NotificationKind.VOTING_OPENED, "/cycles/c/vote", cycle="Zielone Wzgórze 2027",
                                 closes_at="2027-05-31T22:00:00")
    db.session.commit()
    return db.session.scalar(sa.select(OutboxEmail).where(OutboxEmail.user_id == reader.id))


def test_an_email_to_a_polish_speaking_resident_is_in_polish(app, make_user):
    reader = make_user(name="Ola")
    reader.locale = "pl"
    db.session.commit()
    notification_services.set_preferences(reader, {NotificationKind.VOTING_OPENED: notification_services.Channels(
        in_app=True, email=True)})
    with app.test_request_context("/", headers=ENGLISH):  # whoever's request sends it
        email = _email_to(reader)
    assert email.subject.endswith("Rozpoczęło się głosowanie w edycji „Zielone Wzgórze 2027”")
    assert email.body_text.startswith("Dzień dobry, Ola,\n\n")
    assert "Możesz głosować do 31 maja 2027" in email.body_text
    assert "Otrzymujesz tę wiadomość zgodnie z ustawieniami Twojego konta." in email.body_text
    assert "Hello" not in email.body_text


def test_an_email_to_someone_who_chose_no_language_is_in_the_default_one(app, make_user):
    reader = make_user(name="Bob")
    notification_services.set_preferences(reader, {NotificationKind.VOTING_OPENED: notification_services.Channels(
        in_app=True, email=True)})
    with app.test_request_context("/", headers=POLISH):
        email = _email_to(reader)
    assert email.body_text.startswith("Hello Bob,\n\n")


@pytest.mark.parametrize("rule", ["greedy", "greedy-no-skip", "greedy-per-cost", "knapsack", "mes", "phragmen"])
def test_every_rules_reasons_are_worded_in_polish(client, login, make_cycle, make_proposal, make_user, request_context,
                                                  rule):
    """The public results page and the staff's preview word each rule's reasons in the visitor's
    language (never the engine's English sentence)."""
    cycle = make_cycle("voting", budgets=[{"name": "City-wide", "total_amount": 100_000_00, "tally_rule": rule}])
    budget = cycle.budgets[0]
    costs = [60_000_00, 50_000_00, 30_000_00, 20_000_00, 45_000_00]
    projects = [make_proposal(cycle, cost=cost) for cost in costs]
    choices = [[0, 2], [0, 1], [0, 3], [1, 2], [1], [0], [2, 3]]  # the last project: nobody's choice
    for picked in choices:
        ballot_services.cast_ballot(Voter(user=make_user(verified=True)), budget,
                                    [Choice(projects[i].id) for i in picked], ballot_services.new_submission_token())
    cycle.phase(PhaseKind.VOTING).ends_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    login(make_user("staff"))
    preview = text(client.get(f"/staff/budgets/{budget.id}/results", headers=POLISH))
    publishing.publish_result(budget)
    db.session.commit()
    public = text(client.get(f"/cycles/{cycle.slug}/results/{budget.id}", headers=POLISH))
    for page in (preview, public):
        assert "Sfinansowany" in page and "Niesfinansowany" in page
        assert "Funded" not in page and "Not funded" not in page and "ranked #" not in page
    if rule in ("mes", "phragmen"):
        assert "Niesfinansowany: nikt na niego nie zagłosował." in public  # the project nobody chose


def test_error_pages_and_flash_messages_in_polish(client, login, make_user):
    missing = client.get("/no-such-page", headers=POLISH)
    assert missing.status_code == 404
    assert "Nie znaleziono strony" in text(missing) and '<html lang="pl">' in text(missing)
    user = make_user()
    client.get("/language?language=pl&next=/")
    response = login(user)
    assert "Zalogowano jako" in text(client.get(response.headers["Location"]))


def test_the_json_api_stays_machine_readable_english(client):
    """The API's error messages are for programs: English whatever the language asked for."""
    error = client.get("/api/v1/cycles/nope", headers=POLISH).get_json()["error"]
    assert error["status"] == 404 and "no published cycle" in error["message"]


def test_an_email_written_outside_a_request_follows_the_recipient_too(app, make_user):
    """The mail worker announces voting with no request at all (``pbvote worker``)."""
    polish, english = make_user(name="Ola"), make_user(name="Bob")
    polish.locale = "pl"
    db.session.commit()
    for reader in (polish, english):
        notification_services.set_preferences(reader, {NotificationKind.VOTING_OPENED: notification_services.Channels(
            in_app=True, email=True)})
    assert _email_to(polish).body_text.startswith("Dzień dobry, Ola,")
    assert _email_to(english).body_text.startswith("Hello Bob,")
