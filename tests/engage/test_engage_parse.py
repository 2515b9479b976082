"""Offer and personalisation documents: the examples parse, and every mistake is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from leadpulse.engage import EngageError, Offer, Personalization, parse_definition
from leadpulse.engage.model import Check

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"

OFFER: dict[str, Any] = {
    "key": "callback",
    "when": {"score": {"model": "website", "gte": 60}},
    "show": {"title": "Call?", "fields": ["phone"]},
}


@pytest.mark.parametrize("path", sorted((EXAMPLES / "offers").glob("*.yaml")), ids=lambda p: p.name)
def test_example_offers_parse(path: Path) -> None:
    offer = parse_definition("offer", path.read_text(), path.name)
    assert isinstance(offer, Offer)
    assert offer.content.fields


@pytest.mark.parametrize(
    "path", sorted((EXAMPLES / "personalizations").glob("*.yaml")), ids=lambda p: p.name
)
def test_example_personalizations_parse(path: Path) -> None:
    item = parse_definition("personalization", path.read_text(), path.name)
    assert isinstance(item, Personalization)
    assert item.changes


def test_the_callback_example_reads_as_written() -> None:
    offer = parse_definition("offer", (EXAMPLES / "offers" / "callback.yaml").read_text())
    assert isinstance(offer, Offer)
    assert offer.when.tests == (Check("score.website", "gte", 60),)
    assert offer.when.seconds_on_page == 5
    phone, name = offer.content.fields
    assert (phone.name, phone.type, phone.required) == ("phone", "tel", True)
    assert (name.name, name.label, name.required) == ("name", "Your name", False)
    assert offer.frequency.once_per == "session"
    assert offer.frequency.after_close_days == 3
    assert offer.holdout == 10


def test_shorthands_in_match_and_fields() -> None:
    offer = parse_definition(
        "offer",
        {
            **OFFER,
            "when": {"match": {"country": ["PL", "DE"], "channel": "paid_search"}},
            "show": {"title": "Hi", "fields": ["email", "company_size"]},
        },
    )
    assert isinstance(offer, Offer)
    assert offer.when.tests == (
        Check("country", "in", ("PL", "DE")),
        Check("channel", "eq", "paid_search"),
    )
    email, size = offer.content.fields
    assert (email.type, email.label) == ("email", "Email")
    assert (size.type, size.label) == ("text", "Company size")


@pytest.mark.parametrize(
    ("kind", "doc", "field", "words"),
    [
        ("offer", {**OFFER, "shwo": {}}, "shwo", "did you mean 'show'"),
        ("offer", {**OFFER, "show": {"title": "x"}}, "show.fields", "is required"),
        ("offer", {**OFFER, "when": {"score": {"model": "w"}}}, "when.score", "one operator"),
        ("offer", {**OFFER, "when": {"scor": 1}}, "when.scor", "did you mean 'score'"),
        ("offer", {**OFFER, "when": {"match": {"keywrod": "x"}}}, "when.match.keywrod", "keyword"),
        (
            "offer",
            {**OFFER, "when": {"match": {"page": {"gte": "x"}}}},
            "when.match.page.gte",
            "number",
        ),
        ("offer", {**OFFER, "holdout": 150}, "holdout", "0 to 100"),
        ("offer", {**OFFER, "frequency": {"once_per": "week"}}, "frequency.once_per", "week"),
        (
            "offer",
            {**OFFER, "show": {"title": "x", "fields": ["phone", "phone"]}},
            "show.fields[1]",
            "asked twice",
        ),
        (
            "offer",
            {**OFFER, "show": {"title": "x", "fields": [{"name": "a b"}]}},
            "show.fields[0].name",
            "not a field name",
        ),
        (
            "personalization",
            {"key": "p", "changes": [{"selector": "h1"}]},
            "changes[0]",
            "exactly one of text, html or attribute",
        ),
        (
            "personalization",
            {"key": "p", "changes": [{"selector": "a", "attribute": "onclick", "value": "x"}]},
            "changes[0].attribute",
            "event handler",
        ),
        (
            "personalization",
            {
                "key": "p",
                "when": {"exit_intent": True},
                "changes": [{"selector": "h1", "text": "x"}],
            },
            "when",
            "moments are for offers",
        ),
    ],
)
def test_mistakes_are_named_with_their_path(
    kind: Any, doc: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(EngageError) as err:
        parse_definition(kind, doc, "test.yaml")
    assert err.value.field == field
    assert words in err.value.message
    assert err.value.message.startswith("test.yaml: ")


def test_a_document_that_refers_to_itself_is_a_clear_error() -> None:
    with pytest.raises(EngageError, match="refers to itself"):
        parse_definition("personalization", "key: p\nwhen: &w {any: [*w]}\nchanges: []\n")


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(EngageError, match=r"line \d+, column \d+: invalid YAML"):
        parse_definition("offer", "key: x\nshow: [unclosed\n", "bad.yaml")
