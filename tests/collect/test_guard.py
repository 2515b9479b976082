"""Origins, domains and the rate limit."""

from __future__ import annotations

import pytest

from leadpulse.collect.guard import RateLimiter, normalise_domain, origin_allowed
from leadpulse.core.errors import InvalidInput, RateLimited


@pytest.mark.parametrize(
    ("origin", "domains", "allowed"),
    [
        ("https://shop.example", ("shop.example",), True),
        ("https://www.shop.example", ("shop.example",), True),
        ("http://blog.shop.example:8080", ("shop.example",), True),
        ("https://evilshop.example", ("shop.example",), False),
        ("https://shop.example.evil.io", ("shop.example",), False),
        ("null", ("shop.example",), False),
        (None, ("shop.example",), True),
        ("https://anything.io", (), True),
    ],
)
def test_origins(origin: str | None, domains: tuple[str, ...], allowed: bool) -> None:
    assert origin_allowed(origin, domains) is allowed


def test_domains_are_normalised() -> None:
    assert normalise_domain("https://www.Shop.Example:443/path") == "shop.example"
    assert normalise_domain("shop.example") == "shop.example"
    assert normalise_domain("localhost") == "localhost"
    with pytest.raises(InvalidInput):
        normalise_domain("not a domain")


def test_rate_limit_per_ip_and_minute() -> None:
    limiter = RateLimiter(per_minute=3)
    for _ in range(3):
        limiter.hit("1.2.3.4", 60_000)
    with pytest.raises(RateLimited, match="retry in"):
        limiter.hit("1.2.3.4", 60_500)
    limiter.hit("5.6.7.8", 60_500)  # another address has its own budget
    limiter.hit("1.2.3.4", 120_000)  # a new minute
    RateLimiter(per_minute=0).hit("1.2.3.4", 0)  # 0 turns it off
