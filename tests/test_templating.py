"""Template translations: looked up once per request and locale, and still following the locale."""
from __future__ import annotations

from flask_babel import force_locale, get_translations

from pbvote.templating import request_translations


def test_templates_use_the_translations_of_the_current_locale(app):
    app.config["PBVOTE_LANGUAGES"] = ("en", "de")
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        german = request_translations()
        assert german is get_translations() and request_translations() is german
        with force_locale("en"):
            assert request_translations() is get_translations() is not german
        assert request_translations() is german


def test_a_page_still_renders_translated_strings(client):
    page = client.get("/").get_data(as_text=True)
    assert "Skip to content" in page and "Budget cycles" in page
