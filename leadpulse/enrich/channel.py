"""Marketing attribution of a page view: which channel brought the visitor, and with what.

Precedence, most explicit first: UTM tags and ad click ids in the page URL, then the referrer
host looked up in `referrers.REFERRERS`, then "direct". A referrer from the site itself is not a
touch: it is the visitor moving between pages, not arriving.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final
from urllib.parse import SplitResult, parse_qsl, urlsplit, urlunsplit

from leadpulse.enrich.referrers import KIND_BY_NAME, REFERRERS, SOURCE_ALIASES, Kind, Referrer

CHANNELS: Final[tuple[str, ...]] = (
    "direct",
    "organic_search",
    "paid_search",
    "organic_social",
    "paid_social",
    "email",
    "referral",
    "ai_assistant",
    "other",
)


@dataclass(frozen=True, slots=True)
class Attribution:
    """Where a page view came from.

    `is_touch` is True when the view carries evidence of an arrival (UTM tags, an ad click id or
    an external referrer). A first visit with no evidence is left to the caller to record as a
    direct touch.
    """

    channel: str
    source: str | None
    medium: str | None
    campaign: str | None
    keyword: str | None
    content: str | None
    landing_page: str | None
    referrer_host: str | None
    is_touch: bool


_UTM: Final = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")

_CLICK_IDS: Final[dict[str, tuple[str, str | None]]] = {
    # click id → (source, medium). fbclid has no medium: Facebook adds it to organic links too.
    "gclid": ("google", "cpc"),
    "gbraid": ("google", "cpc"),
    "wbraid": ("google", "cpc"),
    "msclkid": ("bing", "cpc"),
    "yclid": ("yandex", "cpc"),
    "ttclid": ("tiktok", "cpc"),
    "twclid": ("twitter", "cpc"),
    "li_fat_id": ("linkedin", "cpc"),
    "fbclid": ("facebook", None),
}

_TAG_KEYS: Final = frozenset(_UTM) | frozenset(_CLICK_IDS)

# utm_medium values, compared with everything but letters and digits removed
# ("paid_search", "paid-search" and "PaidSearch" are one value).
_PAID_SEARCH: Final = frozenset({"cpc", "ppc", "paidsearch", "sem"})
_PAID_SOCIAL: Final = frozenset({"paidsocial", "socialpaid", "socialads", "socialcpc"})
_DISPLAY: Final = frozenset({"cpm", "display", "banner", "cpv"})
_ORGANIC_SOCIAL: Final = frozenset({"social", "socialnetwork", "socialmedia", "sm"})
_EMAIL: Final = frozenset({"email", "newsletter"})

_CHANNEL_OF_KIND: Final[dict[Kind, str]] = {
    "search": "organic_search",
    "social": "organic_social",
    "email": "email",
    "ai": "ai_assistant",
}

_DEFAULT_MEDIUM: Final[dict[str, str]] = {
    "organic_search": "organic",
    "paid_search": "cpc",
    "organic_social": "social",
    "paid_social": "cpc",
    "email": "email",
    "referral": "referral",
    "ai_assistant": "referral",
}

# Country-code second levels, so "google.co.uk" and "google.com.br" reduce to "google.*".
_SECOND_LEVELS: Final = frozenset({"co", "com", "org", "net", "ac", "or", "ne", "gob", "gov"})
_MATCH_PREFIXES: Final = ("www.", "m.", "l.")
_REFERRER_SCHEMES: Final = frozenset({"http", "https", "android-app"})
_MAX_VALUE: Final = 500
"""Longest tag value kept; longer ones are cut (they are stored with every touch)."""
_NON_ALNUM: Final = re.compile(r"[^a-z0-9]+")


def classify(
    url: str | None, referrer: str | None, site_domains: tuple[str, ...] = ()
) -> Attribution:
    """Attribute a page view at `url`, reached from `referrer`, on a site served at `site_domains`.

    Never raises: unreadable URLs count as absent.
    """
    page = _split(url)
    landing = _landing(url, page)
    tags = _tags(page)
    ref = _split(referrer)
    ref_host = _referrer_host(ref)
    if tags:
        return _from_tags(tags, landing, ref, ref_host, _is_internal(ref_host, page, site_domains))
    if ref is None or ref_host is None:
        return Attribution("direct", None, None, None, None, None, landing, None, False)
    if _is_internal(ref_host, page, site_domains):
        return Attribution("direct", None, None, None, None, None, landing, ref_host, False)
    return _from_referrer(ref, ref_host, landing)


def _from_tags(
    tags: dict[str, str],
    landing: str | None,
    ref: SplitResult | None,
    ref_host: str | None,
    internal: bool,
) -> Attribution:
    click = next(((src, med) for cid, (src, med) in _CLICK_IDS.items() if cid in tags), None)
    raw_source = tags.get("utm_source")
    kind: Kind | None = None
    if raw_source is not None:
        source, kind = _source(raw_source)
    elif click is not None:
        source, kind = _source(click[0])
    elif ref is not None and ref_host is not None and not internal:
        # Only campaign/term/content were tagged: the referrer still says who sent the visitor.
        known = _known_referrer(ref_host)
        source, kind = (known.name, known.kind) if known else (ref_host, None)
    else:
        source = None
    raw_medium = tags.get("utm_medium")
    mediums = (raw_medium, click[1] if click else None)
    channel = _tagged_channel(kind, [_NON_ALNUM.sub("", m.lower()) for m in mediums if m])
    if raw_medium is not None:
        medium: str | None = raw_medium.lower()
    else:
        medium = (click[1] if click else None) or _DEFAULT_MEDIUM.get(channel)
    return Attribution(
        channel=channel,
        source=source,
        medium=medium,
        campaign=tags.get("utm_campaign"),
        keyword=tags.get("utm_term"),
        content=tags.get("utm_content"),
        landing_page=landing,
        referrer_host=ref_host,
        is_touch=True,
    )


def _tagged_channel(kind: Kind | None, mediums: list[str]) -> str:
    """The channel from the mediums (explicit utm_medium first, then the click id's), else
    from the kind of source."""
    social = kind == "social"
    for medium in mediums:
        if medium in _PAID_SEARCH:
            return "paid_social" if social else "paid_search"
        if medium in _PAID_SOCIAL:
            return "paid_social"
        if medium in _DISPLAY:
            return "paid_social" if social else "other"
        if medium in _ORGANIC_SOCIAL:
            return "organic_social"
        if medium in _EMAIL:
            return "email"
        if medium == "referral":
            return "ai_assistant" if kind == "ai" else "referral"
    return _CHANNEL_OF_KIND[kind] if kind is not None else "other"


def _from_referrer(ref: SplitResult, ref_host: str, landing: str | None) -> Attribution:
    known = _known_referrer(ref_host)
    if known is None:
        return Attribution(
            "referral", ref_host, "referral", None, None, None, landing, ref_host, True
        )
    channel = _CHANNEL_OF_KIND[known.kind]
    keyword = _query_value(ref.query, known.query_params) if known.query_params else None
    return Attribution(
        channel,
        known.name,
        _DEFAULT_MEDIUM[channel],
        None,
        keyword,
        None,
        landing,
        ref_host,
        True,
    )


@lru_cache(maxsize=4096)
def _source(raw: str) -> tuple[str, Kind | None]:
    """Normalised short name and kind of a utm_source value ("Google", "fb", "chatgpt.com")."""
    name = raw.strip().lower()
    name = SOURCE_ALIASES.get(name, name)
    kind = KIND_BY_NAME.get(name)
    if kind is not None:
        return name, kind
    host = name.split("://", 1)[-1].split("/", 1)[0]
    known = _known_referrer(host) if "." in host else None
    if known is not None:
        return known.name, known.kind
    return name, None


@lru_cache(maxsize=8192)
def _known_referrer(host: str) -> Referrer | None:
    """Look `host` up: exact or any-TLD first, then parents that cover their subdomains."""
    if host.startswith("android-app:"):
        return REFERRERS.get(host)
    for prefix in _MATCH_PREFIXES:
        if host.startswith(prefix) and "." in host[len(prefix) :]:
            host = host[len(prefix) :]
    for key in (host, _any_tld(host)):
        if key is not None and key in REFERRERS:
            return REFERRERS[key]
    labels = host.split(".")
    for i in range(1, len(labels) - 1):
        parent = ".".join(labels[i:])
        for key in (parent, _any_tld(parent)):
            found = REFERRERS.get(key) if key is not None else None
            if found is not None and found.subdomains:
                return found
    return None


def _any_tld(host: str) -> str | None:
    """'google.co.uk' → 'google.*'; None when nothing is left before the suffix."""
    labels = host.split(".")
    cut = 2 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVELS else 1
    if len(labels) <= cut:
        return None
    return ".".join(labels[:-cut]) + ".*"


def _is_internal(
    ref_host: str | None, page: SplitResult | None, site_domains: tuple[str, ...]
) -> bool:
    if ref_host is None or ref_host.startswith("android-app:"):
        return False
    if page is not None and ref_host == _web_host(page):
        return True
    for domain in site_domains:
        site = domain.strip().lower().lstrip("*.").removeprefix("www.").rstrip(".")
        if site and (ref_host == site or ref_host.endswith("." + site)):
            return True
    return False


def _split(url: str | None) -> SplitResult | None:
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        _ = parts.hostname  # reading it raises ValueError on a malformed netloc
    except ValueError:
        return None
    return parts


def _web_host(parts: SplitResult) -> str | None:
    try:
        host = parts.hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.rstrip(".").removeprefix("www.") or None


def _referrer_host(ref: SplitResult | None) -> str | None:
    """The host stored with a touch: lowercase, without "www."; "android-app:<package>" for
    Android app referrers. None when the referrer has no usable host."""
    if ref is None or ref.scheme.lower() not in _REFERRER_SCHEMES:
        return None
    host = _web_host(ref)
    if host is None:
        return None
    return "android-app:" + host if ref.scheme.lower() == "android-app" else host


def _landing(url: str | None, page: SplitResult | None) -> str | None:
    """The URL without its query string and fragment."""
    if not url or not url.strip():
        return None
    if page is None:
        return url.strip().split("?", 1)[0].split("#", 1)[0] or None
    return urlunsplit((page.scheme, page.netloc, page.path, "", "")) or None


def _tags(page: SplitResult | None) -> dict[str, str]:
    """UTM and click-id parameters of the page URL, first non-empty value of each.

    Some sites put them after "#" (single-page apps); those count when the query has none.
    """
    if page is None:
        return {}
    tags = _params(page.query, _TAG_KEYS)
    if not tags and "=" in page.fragment:
        tags = _params(page.fragment.rsplit("?", 1)[-1], _TAG_KEYS)
    return tags


def _params(query: str, wanted: frozenset[str] | tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    if not query:
        return found
    for key, value in parse_qsl(query, errors="replace"):
        name = key.strip().lower()
        if name in wanted and name not in found:
            cleaned = _clean(value)
            if cleaned is not None:
                found[name] = cleaned
    return found


def _query_value(query: str, names: tuple[str, ...]) -> str | None:
    values = _params(query, names)
    return next((values[n] for n in names if n in values), None)


def _clean(value: str) -> str | None:
    """Collapse whitespace (parse_qsl already decoded %XX and "+"); keep the case."""
    cleaned = " ".join(value.split())[:_MAX_VALUE]
    return cleaned or None
