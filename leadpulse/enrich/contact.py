"""Checks of a lead's email address and phone number: normal form, validity and red flags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import phonenumbers
from disposable_email_domains import blocklist


@dataclass(frozen=True, slots=True)
class EmailCheck:
    """`normalised` is None only when no address was given at all."""

    normalised: str | None
    valid: bool
    disposable: bool
    role: bool


@dataclass(frozen=True, slots=True)
class PhoneCheck:
    """`e164` is set whenever the number could be read, even if it is not a valid number."""

    e164: str | None
    valid: bool
    region: str | None


ROLE_LOCAL_PARTS: Final = frozenset(
    {
        "info",
        "sales",
        "admin",
        "support",
        "office",
        "contact",
        "hello",
        "noreply",
        "no-reply",
        "webmaster",
        "marketing",
        "team",
    }
)

_MAX_EMAIL: Final = 254
_MAX_LOCAL: Final = 64
# The dot-atom of RFC 5322 without quoted local parts (nobody types those into a form): no
# leading, trailing or doubled dots; domain labels of letters, digits and inner hyphens; a
# TLD of two or more letters, or an IDN TLD in punycode (xn--...).
_EMAIL: Final = re.compile(
    r"(?P<local>[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59}))"
)


def check_email(raw: str | None) -> EmailCheck:
    """Normalise and check an email address.

    The whole address is lowercased, the local part too: RFC 5321 lets a server treat "Ann@"
    and "ann@" as different mailboxes, but practically none do, and one lead per person
    matters more for deduplication than that corner of the standard.
    """
    if raw is None or not raw.strip():
        return EmailCheck(None, False, False, False)
    return _check_email(raw.strip().lower())


@lru_cache(maxsize=4096)
def _check_email(address: str) -> EmailCheck:
    local, at, domain = address.rpartition("@")
    valid = bool(at) and _is_valid(address, local, domain)
    disposable = bool(at) and _is_disposable(domain)
    role = bool(at) and local.split("+", 1)[0] in ROLE_LOCAL_PARTS
    return EmailCheck(address, valid, disposable, role)


def _is_valid(address: str, local: str, domain: str) -> bool:
    if len(address) > _MAX_EMAIL or len(local) > _MAX_LOCAL:
        return False
    try:
        ascii_domain = domain.encode("idna").decode("ascii")  # "почта.рф" → "xn--80a1acny.xn--p1ai"
    except UnicodeError:
        return False
    return _EMAIL.fullmatch(f"{local}@{ascii_domain}") is not None


def _is_disposable(domain: str) -> bool:
    """The domain or any parent of it is on the disposable-address list."""
    labels = domain.rstrip(".").split(".")
    return any(".".join(labels[i:]) in blocklist for i in range(len(labels) - 1))


def check_phone(raw: str | None, default_region: str | None = None) -> PhoneCheck:
    """Read a phone number into E.164.

    An international number ("+48 ...", "0048 ...") needs no region; a national one is read
    as a number of `default_region` (an ISO country code such as "PL", "GB", "US").
    """
    if raw is None or not raw.strip():
        return PhoneCheck(None, False, None)
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    region = default_region.strip().upper() if default_region else None
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return PhoneCheck(None, False, None)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    valid = phonenumbers.is_valid_number(number)
    number_region = phonenumbers.region_code_for_number(number) if valid else None
    return PhoneCheck(e164, valid, number_region)
