"""check_email and check_phone over real-looking contact details, good and bad."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadpulse.enrich import EmailCheck, PhoneCheck, check_email, check_phone

# (raw, normalised, valid, disposable, role)
EMAILS = [
    ("anna.kowalska@example.pl", "anna.kowalska@example.pl", True, False, False),
    ("  Ann.Smith@Example.COM \n", "ann.smith@example.com", True, False, False),
    ("ivan+windows@yandex.ru", "ivan+windows@yandex.ru", True, False, False),
    ("o'brien@mail.example.co.uk", "o'brien@mail.example.co.uk", True, False, False),
    ("ivan@почта.рф", "ivan@почта.рф", True, False, False),
    ("buyer@mailinator.com", "buyer@mailinator.com", True, True, False),
    ("buyer@guerrillamail.com", "buyer@guerrillamail.com", True, True, False),
    ("x@eu.mailinator.com", "x@eu.mailinator.com", True, True, False),  # parent is listed
    ("info@acme.com", "info@acme.com", True, False, True),
    ("Sales@Acme.com", "sales@acme.com", True, False, True),
    ("no-reply@shop.example", "no-reply@shop.example", True, False, True),
    ("support+tickets@acme.io", "support+tickets@acme.io", True, False, True),
    ("info@mailinator.com", "info@mailinator.com", True, True, True),
    ("information@acme.com", "information@acme.com", True, False, False),
    ("plainaddress", "plainaddress", False, False, False),
    ("two@@example.com", "two@@example.com", False, False, False),
    ("a@b@example.com", "a@b@example.com", False, False, False),
    ("john doe@example.com", "john doe@example.com", False, False, False),
    ("john@example", "john@example", False, False, False),
    ("john@example.c", "john@example.c", False, False, False),
    ("john@example.123", "john@example.123", False, False, False),
    (".john@example.com", ".john@example.com", False, False, False),
    ("john..doe@example.com", "john..doe@example.com", False, False, False),
    ("john@-example.com", "john@-example.com", False, False, False),
    ("john@example..com", "john@example..com", False, False, False),
    ("@example.com", "@example.com", False, False, False),
    ("x" * 65 + "@example.com", "x" * 65 + "@example.com", False, False, False),
    ("a@" + "b" * 250 + ".com", "a@" + "b" * 250 + ".com", False, False, False),
]


@pytest.mark.parametrize(("raw", "normalised", "valid", "disposable", "role"), EMAILS)
def test_check_email(raw: str, normalised: str, valid: bool, disposable: bool, role: bool) -> None:
    assert check_email(raw) == EmailCheck(normalised, valid, disposable, role)


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_no_email_is_none_and_not_valid(raw: str | None) -> None:
    assert check_email(raw) == EmailCheck(None, False, False, False)


# (raw, default region, e164, valid, region)
PHONES = [
    ("+48 600 123 456", None, "+48600123456", True, "PL"),
    ("+48 600 123 456", "GB", "+48600123456", True, "PL"),  # "+" ignores the default
    ("0048 600-123-456", None, "+48600123456", True, "PL"),
    ("600 123 456", "PL", "+48600123456", True, "PL"),
    ("600 123 456", "pl", "+48600123456", True, "PL"),
    ("8 (916) 123-45-67", "RU", "+79161234567", True, "RU"),
    ("+7 916 123 45 67", None, "+79161234567", True, "RU"),
    ("020 7946 0018", "GB", "+442079460018", True, "GB"),
    ("(650) 253-0000", "US", "+16502530000", True, "US"),
    ("+1 650 253 0000", None, "+16502530000", True, "US"),
    ("123", "US", "+1123", False, None),  # readable, but no such number
    ("+48 600", None, "+48600", False, None),
    ("600 123 456", None, None, False, None),  # national number, no region to read it in
    ("020 7946 0018", "XX", None, False, None),  # not a country
    ("call me maybe", "GB", None, False, None),
    ("+", None, None, False, None),
    ("", "GB", None, False, None),
    (None, "GB", None, False, None),
]


@pytest.mark.parametrize(("raw", "default_region", "e164", "valid", "region"), PHONES)
def test_check_phone(
    raw: str | None, default_region: str | None, e164: str | None, valid: bool, region: str | None
) -> None:
    assert check_phone(raw, default_region) == PhoneCheck(e164, valid, region)


@given(st.text(max_size=300))
def test_check_email_never_raises(raw: str) -> None:
    result = check_email(raw)
    assert result.valid is False or "@" in (result.normalised or "")


@given(st.text(max_size=60), st.sampled_from([None, "PL", "GB", "RU", "US", "ZZ", ""]))
def test_check_phone_never_raises(raw: str, region: str | None) -> None:
    result = check_phone(raw, region)
    assert result.valid is False or result.e164 is not None
