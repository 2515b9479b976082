"""`{{name}}` and `{{name | default}}` placeholders, filled from a mapping of values (dotted
names reach into nested values). Offers, personalisations and automation emails use them."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from leadpulse.core.compare import MISSING, lookup

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*(?:\|\s*([^}]*?)\s*)?\}\}")


def render(template: str, view: Mapping[str, Any], *, escape: bool = False) -> str:
    """`{{keyword}}`, `{{traits.name | there}}`: a visit or lead value, or the default after `|`.

    Values are escaped when the result is HTML: a keyword comes from a URL anyone can craft.
    """

    def value(match: re.Match[str]) -> str:
        found = lookup(view, match.group(1))
        text = match.group(2) or "" if found is MISSING or found in (None, "") else str(found)
        return html.escape(text) if escape else text

    return _PLACEHOLDER.sub(value, template) if "{{" in template else template
