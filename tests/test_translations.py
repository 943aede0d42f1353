"""The Polish catalogue is complete and current: every message of the source translated, none fuzzy,
every placeholder kept, and the committed .mo what the .po compiles to.

When this fails after new messages were added, run ``pbvote i18n update`` and translate the listed
messages in pbvote/translations/<language>/LC_MESSAGES/messages.po (docs/translating.md).
"""
from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog, Message

from click.testing import CliRunner

from pbvote import i18n_catalog
from pbvote.cli import cli

LANGUAGES = ["pl"]


@pytest.fixture(scope="module")
def template() -> Catalog:
    return i18n_catalog.extract()


def test_the_source_has_translatable_messages_and_the_lazy_ones_are_extracted_too(template):
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template}
    assert len(ids) > 1000
    assert "Proposal submission" in ids  # _l("…"), a phase label
    assert "Skip to content" in ids  # a template
    assert "Hello %(name)s," in ids  # an e-mail template (.txt)
    assert "Tick the projects you support." in ids  # a ballot kind's rules in words
    assert any(isinstance(m.id, tuple) for m in template)  # ngettext


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_its_placeholders(template, language):
    problems = i18n_catalog.check(language, template)
    assert not problems, (
        f"{len(problems)} messages of {language} to translate or fix (run `pbvote i18n update`, translate them "
        f"in {i18n_catalog.display_path(i18n_catalog.po_path(language))}, then `pbvote i18n compile`):\n"
        + "\n".join(str(p) for p in problems)
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_committed_mo_is_what_the_po_compiles_to(language):
    assert i18n_catalog.mo_is_current(language), f"run: pbvote i18n compile {language}"


def test_polish_has_its_three_plural_forms():
    assert i18n_catalog.read("pl").plural_forms == (
        "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);")


def test_the_check_lists_what_is_missing_untranslated_fuzzy_or_misplaced(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n_catalog, "TRANSLATIONS_DIR", tmp_path)
    source = Catalog(locale="pl")
    for text in ("Hello %(name)s", "Missing here", "Untranslated", "Fuzzy", "Budget: {left}"):
        source.add(text)
    source.add(("%(num)d vote", "%(num)d votes"))
    catalog = Catalog(locale="pl")
    catalog.add("Hello %(name)s", "Dzień dobry, %(imie)s")
    catalog.add("Untranslated", "")
    catalog[("Fuzzy")] = Message("Fuzzy", "Rozmyte", flags=["fuzzy"])
    catalog.add("Budget: {left}", "Budżet: {zostalo}")
    catalog.add(("%(num)d vote", "%(num)d votes"), ("%(num)d głos", "%(num)d głosy", "głosów"))
    path = i18n_catalog.po_path("pl")
    path.parent.mkdir(parents=True)
    path.write_bytes(i18n_catalog.po_bytes(catalog))
    found = {(p.kind, p.msgid) for p in i18n_catalog.check("pl", source)}
    assert found == {
        ("placeholders", "Hello %(name)s"), ("missing", "Missing here"), ("untranslated", "Untranslated"),
        ("fuzzy", "Fuzzy"), ("placeholders", "Budget: {left}"), ("placeholders", "%(num)d vote"),
    }


def test_the_update_command_keeps_the_catalogue_as_committed(tmp_path, monkeypatch):
    """``pbvote i18n update`` on a current source changes nothing (stable order, no line numbers),
    so the workflow's output is what is committed."""
    po = i18n_catalog.po_path("pl").read_bytes()
    mo = i18n_catalog.mo_path("pl").read_bytes()
    copy = tmp_path / "pl" / "LC_MESSAGES"
    copy.mkdir(parents=True)
    (copy / "messages.po").write_bytes(po)
    monkeypatch.setattr(i18n_catalog, "TRANSLATIONS_DIR", tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["i18n", "update", "pl"])
    assert result.exit_code == 0, result.output
    assert "pl: " in result.output and " 0 to translate or fix" in result.output
    assert (copy / "messages.po").read_bytes() == po
    assert (copy / "messages.mo").read_bytes() == mo
    check = runner.invoke(cli, ["i18n", "check"])
    assert check.exit_code == 0 and "pl: complete" in check.output


def test_the_catalogues_are_package_data():
    """A wheel (not only an editable install) carries the compiled catalogues."""
    setup_cfg = (i18n_catalog.SOURCE_ROOT / "setup.cfg").read_text(encoding="utf-8")
    package_data = setup_cfg.split("[options.package_data]", 1)[1].split("\n[", 1)[0]
    assert "translations/**/*" in package_data
    assert i18n_catalog.mo_path("pl").is_file()
