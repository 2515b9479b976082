"""Enrichment: pure functions that add meaning to a tracked web event.

- `parse_user_agent`: browser, OS, device type and the bot verdict from a User-Agent.
- `GeoLookup` / `truncate_ip`: country (region and city with an optional .mmdb) of an IP, and
  the truncated IP that is stored instead of the raw one.
- `classify`: the marketing channel, source, campaign and keyword of a page view.
- `check_email` / `check_phone`: normal form and data-quality flags of contact details.

No network, no database: the only I/O is reading packaged data (and the operator's optional
region database). This package imports nothing else from leadpulse.
"""

from leadpulse.enrich.channel import CHANNELS, Attribution, classify
from leadpulse.enrich.contact import EmailCheck, PhoneCheck, check_email, check_phone
from leadpulse.enrich.geo import GeoInfo, GeoLookup, truncate_ip
from leadpulse.enrich.useragent import UserAgentInfo, parse_user_agent

__all__ = [
    "CHANNELS",
    "Attribution",
    "EmailCheck",
    "GeoInfo",
    "GeoLookup",
    "PhoneCheck",
    "UserAgentInfo",
    "check_email",
    "check_phone",
    "classify",
    "parse_user_agent",
    "truncate_ip",
]
