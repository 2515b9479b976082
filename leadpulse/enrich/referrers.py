"""The maintained list of referrer hosts Leadpulse recognises, written for this project.

Each key is a host as matched after normalisation (lowercase, leading "www.", "m." and "l."
removed). A key ending in ".*" stands for that name under any top-level domain, including
two-label country suffixes ("google.*" matches google.de, google.co.uk and google.com.br).
A `Referrer` with `subdomains=True` also matches any subdomain of its key, so "facebook.com"
covers lm.facebook.com and web.facebook.com; search engines mostly do not, because
docs.google.com or market.yandex.ru are not searches.

Keys starting with "android-app:" are Android app referrers (`android-app://<package>/`),
which the Google app and Gmail send instead of a web address.

To add an engine or network: add a row, run tests/enrich. `name` is the normalised short
source name stored with the touch; the same `name` must always mean the same kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Kind = Literal["search", "social", "email", "ai"]


@dataclass(frozen=True, slots=True)
class Referrer:
    """One known referrer: its short source name, its kind and where a search keeps the query."""

    name: str
    kind: Kind
    query_params: tuple[str, ...] = ()
    subdomains: bool = False


def _search(name: str, *params: str, subdomains: bool = False) -> Referrer:
    return Referrer(name, "search", params or ("q",), subdomains)


def _social(name: str) -> Referrer:
    return Referrer(name, "social", (), True)


def _email(name: str) -> Referrer:
    return Referrer(name, "email", (), True)


def _ai(name: str) -> Referrer:
    return Referrer(name, "ai", (), True)


REFERRERS: Final[dict[str, Referrer]] = {
    # AI assistants. Exact hosts win over wildcards, so gemini.google.com is never a search.
    "chatgpt.com": _ai("chatgpt"),
    "chat.openai.com": _ai("chatgpt"),
    "perplexity.ai": _ai("perplexity"),
    "gemini.google.com": _ai("gemini"),
    "bard.google.com": _ai("gemini"),
    "copilot.microsoft.com": _ai("copilot"),
    "copilot.cloud.microsoft": _ai("copilot"),
    "claude.ai": _ai("claude"),
    "you.com": _ai("you"),
    "phind.com": _ai("phind"),
    "deepseek.com": _ai("deepseek"),
    "chat.mistral.ai": _ai("mistral"),
    "meta.ai": _ai("meta_ai"),
    "poe.com": _ai("poe"),
    "grok.com": _ai("grok"),
    "alice.yandex.ru": _ai("alice"),
    "giga.chat": _ai("gigachat"),
    # Webmail, listed before the portals that also run a search engine.
    "mail.google.com": _email("gmail"),
    "android-app:com.google.android.gm": _email("gmail"),
    "outlook.live.com": _email("outlook"),
    "outlook.office.com": _email("outlook"),
    "outlook.office365.com": _email("outlook"),
    "mail.yahoo.com": _email("yahoo_mail"),
    "mail.yahoo.co.jp": _email("yahoo_mail"),
    "mail.yandex.ru": _email("yandex_mail"),
    "mail.yandex.com": _email("yandex_mail"),
    "360.yandex.ru": _email("yandex_mail"),
    "mail.ru": Referrer("mailru_mail", "email"),
    "e.mail.ru": _email("mailru_mail"),
    "touch.mail.ru": _email("mailru_mail"),
    "mail.proton.me": _email("proton_mail"),
    "mail.aol.com": _email("aol_mail"),
    "mail.zoho.com": _email("zoho_mail"),
    "mail.zoho.eu": _email("zoho_mail"),
    "poczta.onet.pl": _email("onet_poczta"),
    "poczta.wp.pl": _email("wp_poczta"),
    "poczta.interia.pl": _email("interia_poczta"),
    "email.seznam.cz": _email("seznam_email"),
    "navigator.gmx.net": _email("gmx_mail"),
    "navigator.web.de": _email("webde_mail"),
    # Search engines, with the query parameter each one uses.
    "google.*": _search("google"),
    "images.google.*": _search("google"),
    "android-app:com.google.android.googlequicksearchbox": _search("google"),
    "bing.com": _search("bing", "q", subdomains=True),
    "yandex.*": _search("yandex", "text"),
    "ya.ru": _search("yandex", "text"),
    "duckduckgo.com": _search("duckduckgo", subdomains=True),
    "baidu.com": _search("baidu", "wd", "word", subdomains=True),
    "search.yahoo.*": _search("yahoo", "p", subdomains=True),
    "yahoo.com": _search("yahoo", "p"),
    "ecosia.org": _search("ecosia"),
    "qwant.com": _search("qwant", subdomains=True),
    "search.brave.com": _search("brave"),
    "search.naver.com": _search("naver", "query", subdomains=True),
    "naver.com": _search("naver", "query"),
    "search.seznam.cz": _search("seznam", "q", "oq"),
    "seznam.cz": _search("seznam", "q", "oq"),
    "startpage.com": _search("startpage", "query", "q", subdomains=True),
    "go.mail.ru": _search("mailru", "q"),
    "nova.rambler.ru": _search("rambler", "query"),
    "search.aol.com": _search("aol", "q", "query"),
    "ask.com": _search("ask", "q", subdomains=True),
    "search.daum.net": _search("daum", "q"),
    "sogou.com": _search("sogou", "query", subdomains=True),
    "so.com": _search("so", "q"),
    "kagi.com": _search("kagi"),
    "mojeek.com": _search("mojeek"),
    "search.lilo.org": _search("lilo"),
    "metager.org": _search("metager", "eingabe"),
    "presearch.com": _search("presearch"),
    "swisscows.com": _search("swisscows", "query"),
    # Social networks and messengers.
    "facebook.com": _social("facebook"),
    "fb.com": _social("facebook"),
    "fb.me": _social("facebook"),
    "instagram.com": _social("instagram"),
    "t.co": _social("twitter"),
    "twitter.com": _social("twitter"),
    "x.com": _social("twitter"),
    "linkedin.com": _social("linkedin"),
    "lnkd.in": _social("linkedin"),
    "android-app:com.linkedin.android": _social("linkedin"),
    "reddit.com": _social("reddit"),
    "redd.it": _social("reddit"),
    "pinterest.*": _social("pinterest"),
    "pin.it": _social("pinterest"),
    "youtube.com": _social("youtube"),
    "youtu.be": _social("youtube"),
    "tiktok.com": _social("tiktok"),
    "vk.com": _social("vk"),
    "vk.ru": _social("vk"),
    "ok.ru": _social("ok"),
    "t.me": _social("telegram"),
    "telegram.org": _social("telegram"),
    "android-app:org.telegram.messenger": _social("telegram"),
    "whatsapp.com": _social("whatsapp"),
    "wa.me": _social("whatsapp"),
    "wl.co": _social("whatsapp"),
    "threads.net": _social("threads"),
    "threads.com": _social("threads"),
    "mastodon.social": _social("mastodon"),
    "bsky.app": _social("bluesky"),
    "quora.com": _social("quora"),
    "tumblr.com": _social("tumblr"),
    "snapchat.com": _social("snapchat"),
    "discord.com": _social("discord"),
    "xing.com": _social("xing"),
    "weibo.com": _social("weibo"),
    "news.ycombinator.com": _social("hackernews"),
    "dzen.ru": _social("dzen"),
    "pikabu.ru": _social("pikabu"),
    "habr.com": _social("habr"),
}

SOURCE_ALIASES: Final[dict[str, str]] = {
    # What people type into utm_source for the networks above.
    "fb": "facebook",
    "ig": "instagram",
    "insta": "instagram",
    "tw": "twitter",
    "x": "twitter",
    "yt": "youtube",
    "li": "linkedin",
    "vkontakte": "vk",
    "odnoklassniki": "ok",
    "tg": "telegram",
    "wa": "whatsapp",
    "openai": "chatgpt",
    "bard": "gemini",
    "yandex_direct": "yandex",
    "yandexdirect": "yandex",
    "google_ads": "google",
    "googleads": "google",
    "adwords": "google",
    "bing_ads": "bing",
    "microsoft": "bing",
    "microsoft_ads": "bing",
    "meta": "facebook",
}

EMAIL_SENDERS: Final[tuple[str, ...]] = (
    # Mailing services whose name ends up in utm_source of a newsletter link.
    "mailchimp",
    "sendpulse",
    "unisender",
    "klaviyo",
    "sendgrid",
    "brevo",
    "sendinblue",
    "mailerlite",
    "getresponse",
    "activecampaign",
    "campaign_monitor",
    "dashamail",
    "esputnik",
    "mindbox",
)

KIND_BY_NAME: Final[dict[str, Kind]] = {
    **{r.name: r.kind for r in REFERRERS.values()},
    **dict.fromkeys(EMAIL_SENDERS, "email"),
}
"""Every short source name and its kind, so utm_source=google is known to be a search engine."""
