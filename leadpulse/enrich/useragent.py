"""Browser, OS, device type and bot detection from a User-Agent header.

ua-parser does the browser/OS/device parsing; this module adds the bot verdict (crawlers,
AI fetchers, link-preview fetchers and headless browsers), marks HTTP libraries as server-side
senders, and gives a coarse device type for scoring and reports. Results are cached by UA
string: a site sees few distinct UAs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from ua_parser import parse

_MAX_UA: Final = 1024
"""Real User-Agents are well under 1 KB; longer ones are cut before the regexes see them."""

EMPTY_UA_BOT: Final = "empty user agent"


@dataclass(frozen=True, slots=True)
class UserAgentInfo:
    """What a User-Agent says. `device` is "desktop", "mobile", "tablet", "bot" or "other"."""

    browser: str | None
    browser_version: str | None
    os: str | None
    os_version: str | None
    device: str
    is_bot: bool
    bot_name: str | None


# Lowercase substring → bot name. Checked in order, so the specific entries come first.
_BOTS: Final[tuple[tuple[str, str], ...]] = (
    # Headless and audit browsers: a real engine, but no person behind it.
    ("headlesschrome", "HeadlessChrome"),
    ("phantomjs", "PhantomJS"),
    ("chrome-lighthouse", "Lighthouse"),
    ("lighthouse", "Lighthouse"),
    ("slimerjs", "SlimerJS"),
    # Search engine crawlers.
    ("adsbot-google", "AdsBot-Google"),
    ("mediapartners-google", "Mediapartners-Google"),
    ("google-inspectiontool", "Google-InspectionTool"),
    ("storebot-google", "Storebot-Google"),
    ("googleother", "GoogleOther"),
    ("google-extended", "Google-Extended"),
    ("googlebot", "Googlebot"),
    ("bingpreview", "BingPreview"),
    ("bingbot", "Bingbot"),
    ("adidxbot", "AdIdxBot"),
    ("msnbot", "msnbot"),
    ("yandexbot", "YandexBot"),
    ("yandexmobilebot", "YandexMobileBot"),
    ("yandexmetrika", "YandexMetrika"),
    ("yandeximages", "YandexImages"),
    ("yandexrenderresourcesbot", "YandexRenderResourcesBot"),
    ("yandexaccessibilitybot", "YandexAccessibilityBot"),
    ("duckduckbot", "DuckDuckBot"),
    ("duckassistbot", "DuckAssistBot"),
    ("baiduspider", "Baiduspider"),
    ("applebot", "Applebot"),
    ("petalbot", "PetalBot"),
    ("seznambot", "SeznamBot"),
    ("sogou web spider", "Sogou web spider"),
    ("exabot", "Exabot"),
    ("qwantbot", "Qwantbot"),
    ("mail.ru_bot", "Mail.RU_Bot"),
    # AI crawlers and fetchers.
    ("gptbot", "GPTBot"),
    ("chatgpt-user", "ChatGPT-User"),
    ("oai-searchbot", "OAI-SearchBot"),
    ("claudebot", "ClaudeBot"),
    ("claude-user", "Claude-User"),
    ("claude-searchbot", "Claude-SearchBot"),
    ("anthropic-ai", "anthropic-ai"),
    ("perplexitybot", "PerplexityBot"),
    ("perplexity-user", "Perplexity-User"),
    ("bytespider", "Bytespider"),
    ("ccbot", "CCBot"),
    ("amazonbot", "Amazonbot"),
    ("meta-externalagent", "meta-externalagent"),
    ("cohere-ai", "cohere-ai"),
    # SEO tools.
    ("ahrefsbot", "AhrefsBot"),
    ("ahrefssiteaudit", "AhrefsSiteAudit"),
    ("semrushbot", "SemrushBot"),
    ("mj12bot", "MJ12bot"),
    ("dotbot", "DotBot"),
    ("dataforseobot", "DataForSeoBot"),
    ("screaming frog", "Screaming Frog"),
    ("serpstatbot", "serpstatbot"),
    # Link previews.
    ("facebookexternalhit", "facebookexternalhit"),
    ("facebookcatalog", "facebookcatalog"),
    ("twitterbot", "Twitterbot"),
    ("linkedinbot", "LinkedInBot"),
    ("slackbot", "Slackbot"),
    ("telegrambot", "TelegramBot"),
    ("discordbot", "Discordbot"),
    ("whatsapp/", "WhatsApp"),
    ("skypeuripreview", "SkypeUriPreview"),
    ("pinterestbot", "Pinterestbot"),
    ("vkshare", "vkShare"),
    # Monitoring.
    ("uptimerobot", "UptimeRobot"),
    ("pingdom", "Pingdom"),
    ("statuscake", "StatusCake"),
    ("scrapy", "Scrapy"),
    ("headless", "headless browser"),
)

# HTTP libraries and command-line clients: a server-side integration (a CRM sync, a backend
# sending identify, the README's curl walk-through), not a crawler — browsers never send these.
# They are recorded as device "server" and are not bots, so their identify calls make leads.
_SERVER_CLIENTS: Final[tuple[tuple[str, str], ...]] = (
    ("curl/", "curl"),
    ("wget/", "Wget"),
    ("python-requests", "python-requests"),
    ("python-urllib", "Python-urllib"),
    ("python-httpx", "python-httpx"),
    ("aiohttp/", "aiohttp"),
    ("go-http-client", "Go-http-client"),
    ("okhttp/", "okhttp"),
    ("java/", "Java"),
    ("apache-httpclient", "Apache-HttpClient"),
    ("libwww-perl", "libwww-perl"),
    ("node-fetch", "node-fetch"),
    ("axios/", "axios"),
    ("undici", "undici"),
    ("postmanruntime", "PostmanRuntime"),
    ("insomnia/", "Insomnia"),
    ("httpie/", "HTTPie"),
)

_TV_OR_CONSOLE: Final = (
    "smart-tv",
    "smarttv",
    "googletv",
    "android tv",
    "appletv",
    "crkey",
    "hbbtv",
    "netcast",
    "web0s",
    "webos",
    "tizen",
    "roku",
    "bravia",
    "playstation",
    "xbox",
    "nintendo",
)
_TABLET: Final = ("ipad", "tablet", "kindle", "silk/", "playbook")
_MOBILE: Final = ("mobi", "iphone", "ipod", "windows phone", "blackberry", "opera mini", "kaios")
_DESKTOP_OS: Final = frozenset(
    {
        "Windows",
        "Mac OS X",
        "Linux",
        "Ubuntu",
        "Debian",
        "Fedora",
        "Red Hat",
        "SUSE",
        "Arch Linux",
        "Linux Mint",
        "Chrome OS",
        "ChromeOS",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
    }
)


def parse_user_agent(ua: str | None) -> UserAgentInfo:
    """Parse a User-Agent header. A missing or blank one is a bot: browsers always send one."""
    if ua is None or not ua.strip():
        return _EMPTY
    return _parse(ua[:_MAX_UA])


_EMPTY: Final = UserAgentInfo(None, None, None, None, "bot", True, EMPTY_UA_BOT)


@lru_cache(maxsize=8192)
def _parse(ua: str) -> UserAgentInfo:
    result = parse(ua)
    agent, system, device = result.user_agent, result.os, result.device
    browser = agent.family if agent is not None and agent.family != "Other" else None
    browser_version = (
        _version(agent.major, agent.minor, agent.patch) if browser and agent is not None else None
    )
    os = system.family if system is not None and system.family != "Other" else None
    os_version = (
        _version(system.major, system.minor, system.patch, system.patch_minor)
        if os and system is not None
        else None
    )
    lowered = ua.lower()
    bot_name = _bot_name(lowered)
    if bot_name is None and device is not None and device.family == "Spider":
        bot_name = browser or "crawler"
    if bot_name is not None:
        return UserAgentInfo(browser, browser_version, os, os_version, "bot", True, bot_name)
    client = next((name for marker, name in _SERVER_CLIENTS if marker in lowered), None)
    if client is not None:
        return UserAgentInfo(client, browser_version, None, None, "server", False, None)
    kind = _device_type(lowered, os, device.family if device is not None else None)
    return UserAgentInfo(browser, browser_version, os, os_version, kind, False, None)


def _bot_name(lowered: str) -> str | None:
    for marker, name in _BOTS:
        if marker in lowered:
            return name
    return None


def _device_type(lowered: str, os: str | None, device_family: str | None) -> str:
    """Coarse device type. Order matters: iPads say "Mobile", Xboxes say "Windows NT"."""
    if any(marker in lowered for marker in _TV_OR_CONSOLE):
        return "other"
    if device_family == "iPad" or any(marker in lowered for marker in _TABLET):
        return "tablet"
    if "android" in lowered:
        # Android phones put "Mobile" in the UA; Android tablets leave it out.
        return "mobile" if "mobile" in lowered else "tablet"
    if os == "iOS" or any(marker in lowered for marker in _MOBILE):
        return "mobile"
    if os in _DESKTOP_OS or "windows nt" in lowered or "macintosh" in lowered or "x11" in lowered:
        return "desktop"
    return "other"


def _version(*parts: str | None) -> str | None:
    numbers: list[str] = []
    for part in parts:
        if part is None or part == "":
            break
        numbers.append(part)
    return ".".join(numbers) or None
