"""The translation catalogues: extract the messages from the source, bring each language's ``.po`` up
to date, compile the ``.mo`` files, and check that a language is complete.

One workflow for contributors, as commands (``pbvote i18n update``, ``pbvote i18n check``; see
docs/translating.md) and for the tests (tests/test_translations.py), with the same mapping as
``pybabel extract -F babel.cfg`` (read from ``babel.cfg`` at the root of the source tree) and the
same keywords, ``_l`` (lazy_gettext) included.

The ``.po`` files are written without line numbers (a file's references name the source file only),
in the order the messages appear in the source, so that an edit elsewhere in a file does not touch
the catalogue and two branches adding messages rarely conflict.  The ``.mo`` files are committed
(an installed package needs no compile step); a test checks they are what the ``.po`` compile to.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent
TRANSLATIONS_DIR = PACKAGE_DIR / "translations"
DOMAIN = "messages"
PROJECT = "pbvote"

#: pybabel's keywords plus Flask-Babel's lazy ones as pbvote imports them (``_l``).
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
}

#: A placeholder: printf-style (``%(name)s``, ``%d``, ``%%``) or a brace one that the ballot's script
#: fills in (``{count}``).
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrs%]|\{\w*\}")


def po_path(language: str) -> Path:
    return TRANSLATIONS_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    return TRANSLATIONS_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


def display_path(path: Path) -> str:
    """``path`` relative to the source tree when it is in it (for messages)."""
    try:
        return str(path.relative_to(SOURCE_ROOT))
    except ValueError:
        return str(path)


def languages() -> list[str]:
    """The languages that have a catalogue under ``pbvote/translations``."""
    return sorted(p.parent.parent.name for p in TRANSLATIONS_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def extract(root: Path = SOURCE_ROOT) -> Catalog:
    """Every translatable message of the source tree at ``root`` (a checkout: it needs babel.cfg)."""
    config = root / "babel.cfg"
    if not config.is_file():
        raise FileNotFoundError(f"{config} not found: extracting needs a source checkout of pbvote")
    with config.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, filename=str(config))
    catalog = Catalog(project=PROJECT, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root), method_map, options_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read(language: str) -> Catalog:
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def po_bytes(catalog: Catalog) -> bytes:
    """A catalogue as its ``.po`` text: no line numbers, no wrapping, obsolete messages dropped."""
    out = io.BytesIO()
    write_po(out, catalog, width=0, omit_header=False, include_lineno=False, ignore_obsolete=True)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def init(language: str, template: Catalog | None = None) -> Path:
    """Start the catalogue of a new language (its plural rule comes from Babel's CLDR data)."""
    template = template or extract()
    catalog = Catalog(locale=language, domain=DOMAIN, project=PROJECT, charset="utf-8", fuzzy=False,
                      header_comment=f"# {Locale.parse(language).english_name} translation of pbvote.\n"
                                     "# Distributed under the same license as pbvote (AGPL-3.0-or-later).\n"
                                     "# Update with: pbvote i18n update (docs/translating.md).",
                      language_team=f"pbvote <{language}>", last_translator="pbvote contributors")
    catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(po_bytes(catalog))
    return path


def update(language: str, template: Catalog | None = None) -> Catalog:
    """Bring ``language``'s ``.po`` up to date with the source: new messages added untranslated,
    removed ones dropped.  No fuzzy guesses: a changed message is a new, untranslated one (the
    check lists it), never a silently wrong old translation."""
    template = template or extract()
    catalog = read(language)
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False, update_creation_date=False)
    po_path(language).write_bytes(po_bytes(catalog))
    return catalog


def compile_language(language: str) -> Path:
    path = mo_path(language)
    path.write_bytes(mo_bytes(read(language)))
    return path


def placeholders(text: str) -> set[str]:
    """The placeholders of a message (``%%`` apart): ``{"%(name)s", "%d", "{count}"}``."""
    return {m.group(0) for m in PLACEHOLDER.finditer(text) if m.group(0) != "%%"}


@dataclass(frozen=True)
class Problem:
    kind: str  # "missing", "untranslated", "fuzzy", "placeholders"
    msgid: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.msgid!r}" + (f" ({self.detail})" if self.detail else "")


def _message_problems(message) -> list[Problem]:
    key = message.id[0] if isinstance(message.id, tuple) else message.id
    if message.fuzzy:
        return [Problem("fuzzy", key)]
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    if not all(strings):
        return [Problem("untranslated", key)]
    if isinstance(message.id, tuple):
        singular, plural = (placeholders(s) for s in message.id)
        problems = []
        for index, text in enumerate(strings):
            found = placeholders(text)
            # The form for exactly one may leave the number out; the others say it.
            if not found <= singular | plural or (index > 0 and found != plural):
                problems.append(Problem("placeholders", key, f"form {index} has {sorted(found)}, "
                                        f"the message {sorted(singular | plural)}"))
        return problems
    expected, found = placeholders(message.id), placeholders(strings[0])
    if expected != found:
        return [Problem("placeholders", key, f"translation has {sorted(found)}, the message {sorted(expected)}")]
    return []


def check(language: str, template: Catalog | None = None) -> list[Problem]:
    """Every message of the source that ``language`` lacks, leaves untranslated or fuzzy, or whose
    placeholders the translation changes."""
    template = template or extract()
    catalog = read(language)
    problems = []
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id, context=message.context)
        if translated is None:
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            problems.append(Problem("missing", key))
        else:
            problems.extend(_message_problems(translated))
    return problems


def mo_is_current(language: str) -> bool:
    """True if the committed ``.mo`` is what the ``.po`` compiles to."""
    path = mo_path(language)
    return path.is_file() and path.read_bytes() == mo_bytes(read(language))
