"""Who may send: the site's origins, and a per-IP rate limit."""

from __future__ import annotations

from urllib.parse import urlsplit

from leadpulse.core.errors import Forbidden, InvalidInput, RateLimited


def normalise_domain(text: str) -> str:
    """`https://www.Shop.example:443/x` → `shop.example` (subdomains match it too)."""
    value = text.strip().lower()
    try:
        host = urlsplit(value if "//" in value else "//" + value).hostname or ""
    except ValueError:  # an unbalanced "[" or a bracketed host that is not an IP address
        host = ""
    host = host.removeprefix("www.")
    if not host or " " in host or ("." not in host and host != "localhost"):
        raise InvalidInput(f"not a domain name: {text!r}", field="domains")
    return host


def origin_allowed(origin: str | None, domains: tuple[str, ...]) -> bool:
    """A browser's Origin must be one of the site's domains or a subdomain of one.

    Requests without an Origin (servers, curl, the no-JS pixel) pass: the write key is public
    anyway, the origin check only stops other websites from posting in a visitor's browser.
    A site with no domains configured accepts any origin.
    """
    if not origin or not domains or origin == "null":
        return not domains or not origin
    try:
        host = (urlsplit(origin).hostname or "").lower()
    except ValueError:  # not an origin a browser sends: `http://[`
        return False
    return any(host == d or host.endswith("." + d) for d in domains)


def check_origin(origin: str | None, domains: tuple[str, ...]) -> None:
    if not origin_allowed(origin, domains):
        raise Forbidden(f"origin {origin!r} is not one of this site's domains", field="origin")


class RateLimiter:
    """Fixed one-minute windows per client IP, in memory (per process).

    Simple and cheap: a dict lookup and an increment per request. Windows are replaced
    wholesale each minute, so memory stays bounded by the IPs of one minute.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, ip: str | None, now_ms: int) -> None:
        if self.per_minute <= 0 or ip is None:
            return
        window = now_ms // 60_000
        if window != self._window:
            self._window = window
            self._counts = {}
        count = self._counts.get(ip, 0) + 1
        self._counts[ip] = count
        if count > self.per_minute:
            raise RateLimited(
                f"more than {self.per_minute} requests a minute from this address; "
                f"retry in {60 - (now_ms // 1000) % 60} s"
            )
