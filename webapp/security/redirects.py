"""Redirects stay on this site: one check, `safe_next`, for every redirect target.

Targets come from `next=` parameters, the Referer header and FAB's page history (which holds full
URLs built from the Host header). `guard_redirects` runs `safe_next` over the Location of every
redirect the app answers, FAB's own included, so no code path can send a user to another site;
views that read `next` themselves call `safe_next` too, to also keep the value out of their pages.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from flask import current_app, request


def _is_site_path(url: str) -> bool:
    """A path on this site: starts with one '/', not '//' nor '/\\' (browsers read both as another host),
    no backslash, control or whitespace character anywhere (browsers drop tabs and newlines, so '/\\t/evil'
    becomes '//evil'), and no scheme or host."""
    if not url.startswith("/") or url.startswith("//"):
        return False
    if any(char == "\\" or char.isspace() or unicodedata.category(char)[0] == "C" for char in url):
        return False
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


def _own_absolute_url_as_path(url: str) -> str | None:
    """FAB keeps `request.url` (with scheme and host) in its page history: this site's own absolute URL,
    for the host this request came to, is reduced to its path; any other host gives None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "") or "/"


def safe_next(url: str | None, fallback: str) -> str:
    """`url` when it is a path on this site (an absolute URL of this very host becomes its path), else `fallback`."""
    if not url:
        return fallback
    if _is_site_path(url):
        return url
    own_path = _own_absolute_url_as_path(url)
    if own_path is not None and _is_site_path(own_path):
        return own_path
    return fallback


def index_url() -> str:
    return current_app.appbuilder.get_url_for_index


def guard_redirects(response):
    """Every redirect the app answers points to a path on this site; anything else goes to the index."""
    location = response.headers.get("Location")
    if 300 <= response.status_code < 400 and location is not None:
        safe = safe_next(location, index_url())
        if safe != location:
            response.headers["Location"] = safe
    return response


def init_redirects(app) -> None:
    app.after_request(guard_redirects)
