"""classify over real referrers and tagged landing URLs: every channel, and garbage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadpulse.enrich import CHANNELS, Attribution, classify
from leadpulse.enrich.referrers import KIND_BY_NAME, REFERRERS

SITE = ("shop.example",)
PAGE = "https://shop.example/windows"

YANDEX_QUERY = (
    "%D0%BF%D0%BB%D0%B0%D1%81%D1%82%D0%B8%D0%BA%D0%BE%D0%B2%D1%8B%D0%B5+%D0%BE%D0%BA%D0%BD%D0%B0"
)

# A visitor arriving at PAGE from a referrer: (referrer, channel, source, keyword).
REFERRED = [
    # Search engines, with and without the query in the referrer.
    ("https://www.google.com/", "organic_search", "google", None),
    (
        "https://www.google.com/search?q=pvc+windows&hl=en",
        "organic_search",
        "google",
        "pvc windows",
    ),
    ("https://www.google.co.uk/", "organic_search", "google", None),
    ("https://www.google.com.br/search?q=janelas%20pvc", "organic_search", "google", "janelas pvc"),
    (
        f"https://yandex.ru/search/?text={YANDEX_QUERY}&lr=213",
        "organic_search",
        "yandex",
        "пластиковые окна",
    ),
    ("https://ya.ru/", "organic_search", "yandex", None),
    (
        "https://www.bing.com/search?q=Windows+On+Credit&form=QBLH",
        "organic_search",
        "bing",
        "Windows On Credit",
    ),
    ("https://duckduckgo.com/", "organic_search", "duckduckgo", None),
    ("https://www.baidu.com/s?wd=%E7%AA%97%E6%88%B7", "organic_search", "baidu", "窗户"),
    (
        "https://uk.search.yahoo.com/search?p=double+glazing",
        "organic_search",
        "yahoo",
        "double glazing",
    ),
    (
        "https://search.naver.com/search.naver?query=%EC%B0%BD%EB%AC%B8",
        "organic_search",
        "naver",
        "창문",
    ),
    ("https://www.ecosia.org/search?q=windows", "organic_search", "ecosia", "windows"),
    ("https://search.brave.com/search?q=windows", "organic_search", "brave", "windows"),
    ("android-app://com.google.android.googlequicksearchbox/", "organic_search", "google", None),
    # Social networks and messengers.
    ("https://t.co/", "organic_social", "twitter", None),
    ("https://l.facebook.com/", "organic_social", "facebook", None),
    (
        "https://lm.facebook.com/l.php?u=https%3A%2F%2Fshop.example",
        "organic_social",
        "facebook",
        None,
    ),
    ("https://www.linkedin.com/", "organic_social", "linkedin", None),
    ("https://old.reddit.com/r/homeimprovement/", "organic_social", "reddit", None),
    ("https://t.me/", "organic_social", "telegram", None),
    ("https://vk.com/away.php", "organic_social", "vk", None),
    ("https://news.ycombinator.com/item?id=1", "organic_social", "hackernews", None),
    # AI assistants: gemini.google.com must not be taken for Google search.
    ("https://chatgpt.com/", "ai_assistant", "chatgpt", None),
    ("https://www.perplexity.ai/", "ai_assistant", "perplexity", None),
    ("https://gemini.google.com/", "ai_assistant", "gemini", None),
    ("https://claude.ai/", "ai_assistant", "claude", None),
    # Webmail.
    ("https://mail.google.com/", "email", "gmail", None),
    ("https://e.mail.ru/", "email", "mailru_mail", None),
    ("https://outlook.live.com/", "email", "outlook", None),
    # Everything else external is a referral named by its host.
    ("https://docs.google.com/document/d/1", "referral", "docs.google.com", None),
    ("https://www.windows-forum.example/thread/42", "referral", "windows-forum.example", None),
]

INFERRED_MEDIUM = {
    "organic_search": "organic",
    "organic_social": "social",
    "ai_assistant": "referral",
    "email": "email",
    "referral": "referral",
}

# Tags in the page URL: (query, referrer, channel, source, medium, keyword).
TAGGED = [
    (
        "utm_source=google&utm_medium=cpc&utm_term=windows+on+credit",
        "https://www.google.com/",
        "paid_search",
        "google",
        "cpc",
        "windows on credit",
    ),
    (
        "utm_source=yandex&utm_medium=cpc&utm_term=%D0%BE%D0%BA%D0%BD%D0%B0",
        "https://yandex.ru/",
        "paid_search",
        "yandex",
        "cpc",
        "окна",
    ),
    (
        "utm_source=facebook&utm_medium=paid_social",
        "https://l.facebook.com/",
        "paid_social",
        "facebook",
        "paid_social",
        None,
    ),
    ("utm_source=vk&utm_medium=cpc", "https://vk.com/", "paid_social", "vk", "cpc", None),
    ("utm_source=Instagram&utm_medium=cpm", None, "paid_social", "instagram", "cpm", None),
    ("utm_source=linkedin&utm_medium=social", None, "organic_social", "linkedin", "social", None),
    (
        "utm_source=newsletter&utm_medium=email&utm_campaign=spring",
        "https://mail.google.com/",
        "email",
        "newsletter",
        "email",
        None,
    ),
    ("utm_source=mailchimp", None, "email", "mailchimp", "email", None),
    ("utm_source=chatgpt.com", None, "ai_assistant", "chatgpt", "referral", None),
    (
        "utm_source=partner-blog&utm_medium=referral",
        None,
        "referral",
        "partner-blog",
        "referral",
        None,
    ),
    ("utm_source=google&utm_medium=organic", None, "organic_search", "google", "organic", None),
    ("utm_source=partner&utm_medium=banner", None, "other", "partner", "banner", None),
    ("utm_source=somewhere", None, "other", "somewhere", None, None),
    # Ad click ids; fbclid alone is organic, Facebook adds it to every outbound link.
    ("gclid=Cj0KCQiA", "https://www.google.com/", "paid_search", "google", "cpc", None),
    ("msclkid=abc123", "https://www.bing.com/", "paid_search", "bing", "cpc", None),
    ("yclid=123456", "https://yandex.ru/", "paid_search", "yandex", "cpc", None),
    ("utm_medium=whatever&gclid=Cj0KCQiA", None, "paid_search", "google", "whatever", None),
    ("fbclid=IwAR2xyz", "https://l.facebook.com/", "organic_social", "facebook", "social", None),
]

# Not an arrival: (url, referrer). Garbage never raises and counts as absent.
NOT_A_TOUCH = [
    (PAGE, None),
    (PAGE, ""),
    (PAGE, "https://shop.example/catalogue"),
    (PAGE, "https://www.shop.example/catalogue"),
    (PAGE, "https://blog.shop.example/post"),
    ("https://landing.example/offer", "https://landing.example/"),
    (PAGE, "not a url"),
    (PAGE, "http://[::1"),
    (PAGE, "javascript:alert(1)"),
    ("%%%?utm_source=&utm_medium=", "about:blank"),
    (None, None),
]


@pytest.mark.parametrize(("referrer", "channel", "source", "keyword"), REFERRED)
def test_a_referrer_gives_the_channel_source_and_keyword(
    referrer: str, channel: str, source: str, keyword: str | None
) -> None:
    a = classify(PAGE, referrer, SITE)
    assert (a.channel, a.source, a.medium, a.keyword) == (
        channel,
        source,
        INFERRED_MEDIUM[channel],
        keyword,
    )
    assert a.is_touch is True
    assert a.landing_page == PAGE


@pytest.mark.parametrize(("query", "referrer", "channel", "source", "medium", "keyword"), TAGGED)
def test_utm_tags_and_click_ids_win_over_the_referrer(
    query: str,
    referrer: str | None,
    channel: str,
    source: str,
    medium: str | None,
    keyword: str | None,
) -> None:
    a = classify(f"{PAGE}?{query}", referrer, SITE)
    assert (a.channel, a.source, a.medium, a.keyword) == (channel, source, medium, keyword)
    assert a.is_touch is True
    assert a.landing_page == PAGE


@pytest.mark.parametrize(("url", "referrer"), NOT_A_TOUCH)
def test_no_referrer_a_same_site_one_or_garbage_is_direct_and_not_a_touch(
    url: str | None, referrer: str | None
) -> None:
    a = classify(url, referrer, SITE)
    assert (a.channel, a.source, a.medium, a.keyword, a.is_touch) == (
        "direct",
        None,
        None,
        None,
        False,
    )


def test_every_channel_is_covered_by_the_cases() -> None:
    covered = {c[1] for c in REFERRED} | {c[2] for c in TAGGED} | {"direct"}
    assert covered == set(CHANNELS)


def test_a_tagged_landing_keeps_every_tag_and_drops_the_query_from_the_page() -> None:
    url = (
        "https://shop.example/windows/?utm_source=google&utm_medium=cpc"
        "&utm_campaign=Spring%20Sale&utm_term=windows++on%09credit&utm_content=ad-2#top"
    )
    assert classify(url, "https://www.google.com/", SITE) == Attribution(
        channel="paid_search",
        source="google",
        medium="cpc",
        campaign="Spring Sale",
        keyword="windows on credit",
        content="ad-2",
        landing_page="https://shop.example/windows/",
        referrer_host="google.com",
        is_touch=True,
    )


def test_utm_tags_after_the_hash_count_when_the_query_has_none() -> None:
    a = classify("https://shop.example/#/offer?utm_source=newsletter&utm_medium=email", None)
    assert (a.channel, a.source, a.landing_page) == ("email", "newsletter", "https://shop.example/")


def test_a_campaign_without_a_source_takes_the_source_from_the_referrer() -> None:
    a = classify(PAGE + "?utm_campaign=spring", "https://www.google.de/", SITE)
    assert (a.channel, a.source, a.campaign) == ("organic_search", "google", "spring")


def test_the_referrer_host_is_stored_without_www() -> None:
    assert classify(PAGE, "https://WWW.Example.ORG:8080/a?b=c").referrer_host == "example.org"


def test_a_same_site_referrer_is_a_move_not_a_touch_even_for_the_pages_own_host() -> None:
    a = classify("https://shop.example/b", "https://shop.example/a")
    assert (a.channel, a.is_touch, a.landing_page) == ("direct", False, "https://shop.example/b")


def test_every_referrer_name_means_one_kind() -> None:
    kinds: dict[str, set[str]] = {}
    for referrer in REFERRERS.values():
        kinds.setdefault(referrer.name, set()).add(referrer.kind)
    assert {name for name, found in kinds.items() if len(found) > 1} == set()
    assert set(KIND_BY_NAME.values()) <= {"search", "social", "email", "ai"}


@given(st.text(max_size=300), st.text(max_size=300), st.lists(st.text(max_size=30), max_size=3))
def test_classify_never_raises(url: str, referrer: str, domains: list[str]) -> None:
    a = classify(url, referrer, tuple(domains))
    assert a.channel in CHANNELS


@given(
    st.from_regex(r"https?://[a-z.]{1,20}/[ -~]{0,40}", fullmatch=True),
    st.from_regex(r"https?://[a-z.\[\]:%0-9]{0,25}(/[ -~]{0,40})?", fullmatch=True),
)
def test_classify_never_raises_on_url_shaped_text(url: str, referrer: str) -> None:
    assert classify(url, referrer, SITE).channel in CHANNELS
