"""The tile server the maps of proposals draw on: ``PBVOTE_MAP_TILES`` and ``PBVOTE_MAP_ATTRIBUTION``.

pbvote ships Leaflet (``pbvote/static/vendor/leaflet/``) but no map tiles, and picks no provider:
every tile server has a usage policy (OpenStreetMap's own servers, for one, allow light use only,
with attribution and a valid referrer), so the operator chooses one — a commercial provider, their
council's GIS server, or their own tile cache — and names it in ``PBVOTE_MAP_TILES``, a Leaflet URL
template such as ``https://tile.example.org/{z}/{x}/{y}.png`` (``{s}`` at the start of the host
for sub-domains, ``{r}`` for high-resolution tiles), or a path on the site itself
(``/tiles/{z}/{x}/{y}.png``) for a tile server behind the same host.  ``PBVOTE_MAP_ATTRIBUTION`` is
the credit the provider requires, shown in the corner of the map as plain text.

Without a template the pages list the places with their coordinates and say that the map is not
configured; nothing else changes.  The template is checked when the app is built, so a mistake
stops the start with the variable's name instead of showing broken maps; the tile server's origin
is the only one the Content-Security-Policy adds (to ``img-src``: Leaflet loads tiles as images).
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

#: A host a Content-Security-Policy source may name: a DNS name or an IP address, and a port.
_HOST = re.compile(r"^(?:\*\.)?(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$")


def check_tile_template(template: str | None) -> str:
    """``template`` stripped, or ``""`` for none; raises ValueError naming ``PBVOTE_MAP_TILES`` when
    it is not an http(s) URL or a site path with ``{z}``, ``{x}`` and ``{y}`` (or ``{-y}``)."""
    template = (template or "").strip()
    if not template:
        return ""
    if not all(part in template for part in ("{z}", "{x}")) or not ("{y}" in template or "{-y}" in template):
        raise ValueError(f"PBVOTE_MAP_TILES must contain {{z}}, {{x}} and {{y}}, as in "
                         f"https://tile.example.org/{{z}}/{{x}}/{{y}}.png, not {template!r}")
    if any(char.isspace() or char in ";,'\"<>\\" for char in template):
        raise ValueError(f"PBVOTE_MAP_TILES must be a URL without spaces, quotes or ; , < > \\, not {template!r}")
    tile_image_source(template)  # the host must make a valid CSP source
    return template


def tile_image_source(template: str) -> str | None:
    """The Content-Security-Policy source that lets pages load the tiles of ``template``: its
    origin (``https://tile.example.org``; ``https://*.tile.example.org`` for ``{s}.`` hosts), or
    None when the tiles come from the site itself (a path: ``'self'`` covers it).

    Raises ValueError for a template whose tiles could come from anywhere else (another scheme,
    credentials or placeholders in the host)."""
    if template.startswith("/") and not template.startswith("//"):
        return None
    parts = urlsplit(template)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"PBVOTE_MAP_TILES must start with https:// (or http://, or / for tiles on this site), "
                         f"not {template!r}")
    host = parts.netloc
    if host.startswith("{s}."):
        host = "*." + host[len("{s}."):]
    if "@" in host or not _HOST.match(host):
        raise ValueError(f"PBVOTE_MAP_TILES: the host {parts.netloc!r} must be a plain host name "
                         f"(with {{s}}. only at its start, no user name or password)")
    return f"{parts.scheme}://{host}"
