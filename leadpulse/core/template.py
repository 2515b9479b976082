"""`{{name}}` and `{{name | default}}` placeholders, filled from a mapping of values (dotted
names reach into nested values). Offers, personalisations and automation emails use them."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from leadpulse.core.compare import lookup

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*(?:\|\s*([^}]*?)\s*)?\}\}")


SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_IGNORED = re.compile(r"[\x00-\x20\x7f]")
"""What browsers drop from a URL before reading its scheme (`java\tscript:` is `javascript:`)."""


def safe_url(text: str) -> bool:
    """No scheme (a relative URL), or one that cannot run code."""
    found = _SCHEME.match(_IGNORED.sub("", text))
    return found is None or found.group(1).lower() in SAFE_SCHEMES


def render(template: str, view: Mapping[str, Any], *, escape: bool = False) -> str:
    """`{{keyword}}`, `{{traits.name | there}}`: a visit or lead value, or the default after `|`.

    Only plain values are put in (a mapping or a list gives the default: `{{traits}}` must not
    dump a lead's data into a page). A value that starts with a URL scheme other than http(s),
    mailto or tel is left out, and values are escaped when the result is HTML: a keyword comes
    from a URL anyone can craft.
    """

    def value(match: re.Match[str]) -> str:
        found = lookup(view, match.group(1))
        plain = isinstance(found, str | int | float | bool) and found != ""
        text = str(found) if plain else match.group(2) or ""
        if plain and not safe_url(text):
            text = match.group(2) or ""
        return html.escape(text) if escape else text

    return _PLACEHOLDER.sub(value, template) if "{{" in template else template
