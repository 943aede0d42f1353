"""Template helpers: money, dates, Markdown rendered safely, and the form macros' context."""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Hashable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace

import markdown as markdown_lib
import nh3
from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.numbers import format_currency, get_currency_precision
from flask import Flask, current_app, g, get_flashed_messages, render_template, request
from flask_babel import get_locale, get_translations
from flask_login import current_user
from markupsafe import Markup

from pbvote.i18n import language_choices, language_target
from pbvote.timeutil import utc_to_local, zone_name

#: Tags and attributes that survive sanitising of resident-written Markdown.  No scripts, no styles,
#: no event handlers, no iframes; links only to http(s) and mailto, and marked rel="nofollow ugc".
ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "u", "s", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str | None) -> Markup:
    """Markdown → HTML, then sanitised with nh3 (Ammonia): safe to insert into a page."""
    html = markdown_lib.markdown(text or "", extensions=["extra", "sane_lists"], output_format="html")
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener",
        strip_comments=True,
    )
    return Markup(cleaned)


def money(amount: int | None, currency: str = "EUR") -> str:
    """Format an amount in the currency's smallest unit (cents) for display: 1250000 → €12,500.00."""
    if amount is None:
        return ""
    return _format_money(amount, currency, str(get_locale() or "en"))


@lru_cache(maxsize=4096)
def _format_money(amount: int, currency: str, locale: str) -> str:
    # Cached: Babel's formatting is slow, and pages show the same few costs over and over.
    precision = get_currency_precision(currency)
    value = Decimal(amount).scaleb(-precision)
    fmt = None
    if value == value.to_integral_value():
        fmt = _whole_pattern(locale)  # whole amounts read better without ",00"
    return format_currency(value, currency, format=fmt, locale=locale, currency_digits=fmt is None)


@lru_cache(maxsize=64)
def _whole_pattern(locale: str) -> str:
    """The language's currency pattern without decimals, the symbol where the language puts it:
    "¤#,##0" in English (€12,500), "#,##0 ¤" in Polish (12 500 €)."""
    return re.sub(r"\.0+", "", Locale.parse(locale).currency_formats["standard"].pattern)


#: Babel's named formats: none of them shows seconds here (the time is always Babel's "short").
_NAMED_FORMATS = frozenset({"short", "medium", "long", "full"})


def datetime_format(value: datetime | None, fmt: str = "medium", zone=None) -> str:
    """A naive UTC timestamp in the visitor's language, in a time zone that is named after it.

    ``zone`` is what the time belongs to: a cycle (its ``timezone``, else the site's), a zone name,
    or None for the site's zone (:func:`pbvote.timeutil.zone_name`).  In templates:
    ``phase.ends_at|datetime("medium", cycle)``.  ``fmt`` names the date's length (``short``,
    ``medium``, the default, ``long``, ``full``); the time is always hours and minutes, never
    seconds, followed by the zone ("Dec 4, 2026, 7:25 PM UTC", "4 gru 2026, 20:25 Europe/Warsaw").
    ``date`` gives the date alone (in that zone).  Another ``fmt`` is a Babel pattern.
    """
    if value is None:
        return ""
    name = zone_name(zone)
    locale = str(get_locale() or "en")
    if fmt not in _NAMED_FORMATS and fmt != "date":
        return babel_dates.format_datetime(utc_to_local(value, name), fmt, locale=locale)
    # Kept per minute, language and zone: Babel takes ~40 µs per call, and busy pages (every
    # receipt of a busy vote) show the same few minutes over and over.
    return _format_datetime(value.replace(second=0, microsecond=0), fmt, locale, name)


@lru_cache(maxsize=1024)
def _format_datetime(value: datetime, fmt: str, locale: str, zone: str) -> str:
    local = utc_to_local(value, zone)
    if fmt == "date":
        return babel_dates.format_date(local.date(), "medium", locale=locale)
    pattern = str(Locale.parse(locale).datetime_formats[fmt])  # e.g. "{1}, {0}": date, then time
    date_text = babel_dates.format_date(local.date(), fmt, locale=locale)
    time_text = babel_dates.format_time(local, "short", tzinfo=local.tzinfo, locale=locale)
    text = pattern.replace("{1}", date_text).replace("{0}", time_text)
    return f"{text} {zone_label(zone)}"


def date_format(value: datetime | date | None, zone=None) -> str:
    """A date in the visitor's language, medium length; "" for none.  A calendar date (a milestone's
    due date) is shown as it is; a naive UTC timestamp as its date in ``zone`` (a cycle, a zone
    name or None for the site's: see :func:`datetime_format`)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return datetime_format(value, "date", zone)
    return babel_dates.format_date(value, "medium", locale=str(get_locale() or "en"))


def zone_label(zone: str) -> str:
    """How a time zone is named beside a time: ``UTC``, else its IANA name (``Europe/Warsaw``),
    the same in every language: unambiguous where abbreviations are not ("CST"), and the name
    staff chose for the cycle."""
    return "UTC" if zone in ("UTC", "Etc/UTC", "GMT", "Etc/GMT") else zone


def number(value: int | float | Decimal | None, digits: int | str | None = None) -> str:
    """A number in the visitor's language (``12,345`` / ``12 345``); ``digits``: exactly that many
    decimals (``12.5`` with 1), or a Babel decimal pattern such as ``"#,##0.#"``."""
    if value is None:
        return ""
    locale = str(get_locale() or "en")
    if digits is None:
        return babel_numbers.format_decimal(value, locale=locale)
    if isinstance(digits, str):
        return babel_numbers.format_decimal(value, format=digits, locale=locale)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(value, format=pattern, locale=locale, decimal_quantization=True)


def percent(value: int | float | Decimal | None, digits: int = 1) -> str:
    """A share (0.125) as a percentage in the visitor's language ("12.5%", "12,5%")."""
    if value is None:
        return ""
    locale = str(get_locale() or "en")
    return babel_numbers.format_percent(value, format=_percent_pattern(locale, digits), locale=locale)


@lru_cache(maxsize=64)
def _percent_pattern(locale: str, digits: int) -> str:
    # The language's own pattern ("#,##0%", "#,##0\u00a0%"), with ``digits`` decimals.
    pattern = Locale.parse(locale).percent_formats[None].pattern.split(";")[0]
    return re.sub(r"0(?![0#,.])", "0" + ("." + "0" * digits if digits else ""), pattern, count=1)


def request_translations():
    """Flask-Babel's translations for the current locale, looked up once per request and locale.

    Flask-Babel finds them anew for every string (context, domain, locale and its name, cache), which
    was a tenth of the time to render a ballot's receipt.  Kept on ``g`` with the locale they belong
    to, and compared with Flask-Babel's current locale (``get_locale()``, public) on every call, so
    that ``force_locale`` and ``refresh`` still take effect.  pbvote uses a single translation domain.

    Only public API: asking ``get_locale()`` each time costs about 5 µs more per string than reading
    Flask-Babel's private per-request state did, and a page translates 10-30 strings through here
    (the kept header and footer hold most of its text), which was lost in the noise of a page's
    render (10-12 ms in the test client).
    """
    locale = get_locale()
    cached = g.get("_pbvote_translations")
    if cached is not None and cached[0] is locale:
        return cached[1]
    cached = g._pbvote_translations = (locale, get_translations())
    return cached[1]


#: Fragments of the layout that depend on the page's own path (the ``next`` target of the sign-in
#: link and of the language switcher).
_PATH_DEPENDENT = frozenset({"_site_header.html"})
#: Rendered pieces kept per app (:func:`_kept`); a store is emptied when it reaches this size.
_KEPT_LIMIT = 4096


def _kept(store: str, key: Hashable, render: Callable[[], object]):
    """``render()`` once per app, language, script root and ``key``, then the kept result (the
    store ``store`` of ``app.extensions`` is emptied when it reaches :data:`_KEPT_LIMIT`)."""
    kept = current_app.extensions.setdefault(store, {})
    full_key = (key, str(get_locale()), request.script_root)
    value = kept.get(full_key)
    if value is None:
        if len(kept) >= _KEPT_LIMIT:
            kept.clear()
        value = kept[full_key] = render()
    return value


def kept_fragment(template: str, key: Hashable, **context) -> Markup:
    """``template`` rendered with ``context`` once per app, language and ``key`` (which must
    determine ``context``), then kept: for small pieces that recur on hot pages (a project's line on
    a receipt)."""
    return _kept("pbvote.fragments", (template, key), lambda: Markup(render_template(template, **context)))


def sign_in_target() -> str | None:
    """Where the header's sign-in link sends the visitor back to: the page they are on, unless that
    is the sign-in or sign-up page itself, or the answer to a POST (a URL that cannot be fetched)."""
    if request.method != "GET" or request.endpoint in ("auth.sign_in", "auth.sign_up"):
        return None
    return request.path


def site_chrome(name: str) -> Markup:
    """The layout fragment ``name`` (header or footer) as the visitor who is not signed in sees it,
    rendered once per app, language and (for the header) sign-in target, then kept.

    What it shows depends on nothing else (no account, no CSRF token), and it was half the time to
    render a small page such as a ballot's receipt.  Signed-in visitors get their header rendered
    afresh (:func:`site_header`).
    """
    key = (name, (sign_in_target(), language_target()) if name in _PATH_DEPENDENT else None)
    return _kept("pbvote.site_chrome", key, lambda: Markup(render_template(name)))


def site_header() -> Markup:
    """The site header: kept per language and sign-in target for visitors who are not signed in
    (:func:`site_chrome`), rendered afresh for an account (its name, its sign-out form)."""
    if current_user.is_authenticated:
        return Markup(render_template("_site_header.html"))
    return site_chrome("_site_header.html")


def flash_messages() -> Markup:
    """The flashed messages waiting for this page (none, usually: then no template is rendered)."""
    if not get_flashed_messages():
        return Markup("")
    return Markup(render_template("_flashes.html"))


#: Slot markers carry a random word of this process, so no text on a page (a budget's name, say)
#: can pose as one.
_SLOT_NONCE = secrets.token_hex(8)
_SLOT = "\x00pbvote-slot-" + _SLOT_NONCE + ":{}\x00"
_SLOT_RE = re.compile("\x00pbvote-slot-" + _SLOT_NONCE + ":(\\w+)\x00")


def render_with_slots(template: str, key: Hashable, slots: dict[str, Callable[[], str]], **context) -> str:
    """Render ``template`` from a kept skeleton: everything but its ``slots`` is rendered once per
    app, language and ``key``, and each request fills in the slots.

    For a hot page whose frame (layout, headings, explanations, links) is the same for many
    visitors while a small part differs (a ballot's receipt: the codes, the time and the choices).
    The template reads its slots as ``slots.NAME`` (``{% if slots is defined %}`` lets the same
    template render whole, too).  ``context`` is all the skeleton sees, and ``key`` must determine
    it; the site header and the flashed messages are slots of ``base.html`` already (``header``,
    ``flashes``), so a skeleton never holds anything of one visitor.  ``slots`` map each name to a
    function returning safe HTML.
    """

    def skeleton() -> list[str]:
        markers = SimpleNamespace(**{name: Markup(_SLOT.format(name)) for name in slots})
        return _SLOT_RE.split(render_template(template, slots=markers, **context))

    pieces = _kept("pbvote.skeletons", (template, key), skeleton)
    # re.split with one group: the frame's text at even positions, slot names at odd ones.
    return "".join(piece if i % 2 == 0 else str(slots[piece]()) for i, piece in enumerate(pieces))


def register_template_helpers(app: Flask) -> None:
    # Flask-Babel installed these with a full look-up per string; same translations, found once.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )

    app.jinja_env.add_extension("jinja2.ext.do")
    app.add_template_global(get_locale, "get_locale")
    app.add_template_global(site_chrome, "site_chrome")
    app.add_template_global(site_header, "site_header")
    app.add_template_global(flash_messages, "flash_messages")
    app.add_template_global(sign_in_target, "sign_in_target")
    app.add_template_global(language_choices, "language_choices")
    app.add_template_global(language_target, "language_target")
    app.add_template_filter(money, "money")
    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(datetime_format, "datetime")
    app.add_template_filter(date_format, "date")
    app.add_template_filter(number, "number")
    app.add_template_filter(percent, "percent")
    app.add_template_global(zone_name, "zone_name")

    @app.context_processor
    def inject_site():
        return {"site_name": app.config["PBVOTE_SITE_NAME"]}
