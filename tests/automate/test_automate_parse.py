"""Automation documents: triggers and actions read as written, mistakes named with a path."""

from __future__ import annotations

from typing import Any

import pytest

from leadpulse.automate import AutomationError, parse_automation
from leadpulse.automate.model import EventTrigger, LadderTrigger, Match, ScoreTrigger, Webhook

HOOK = {"webhook": {"url": "https://crm.example/hook", "secret": "s" * 24}}


def test_triggers_and_actions() -> None:
    a = parse_automation(
        "key: hot\nwhen: {score: {model: website, above: 60}}\n"
        "actions: [{webhook: {url: 'https://crm.example/hook',\n"
        "                     secret: whsec_c2VjcmV0c2VjcmV0c2VjcmV0}}]\n"
    )
    assert a.trigger == ScoreTrigger("website", 60, up=True)
    assert a.actions == (Webhook("https://crm.example/hook", "whsec_c2VjcmV0c2VjcmV0c2VjcmV0"),)
    assert a.cooldown_minutes == 60
    cools = parse_automation({"key": "c", "when": {"band": {"model": "w", "leaves": "hot"}},
                              "actions": [HOOK], "cooldown_minutes": 0})  # fmt: skip
    assert cools.trigger == LadderTrigger("band", "w", "hot", becomes=False)
    assert cools.cooldown_minutes == 0
    sent = parse_automation(
        {
            "key": "e",
            "when": {
                "event": {
                    "type": "offer_submit",
                    "where": {"offer": "callback", "properties.value": {"gte": 10}},
                }
            },
            "actions": [HOOK],
        }
    )
    assert sent.trigger == EventTrigger(
        "offer_submit", (Match("offer", "eq", "callback"), Match("properties.value", "gte", 10))
    )


@pytest.mark.parametrize(
    ("doc", "field", "words"),
    [
        ({"key": "a", "when": {}, "actions": [HOOK]}, "when", "exactly one trigger"),
        (
            {"key": "a", "when": {"scroe": {}}, "actions": [HOOK]},
            "when.scroe",
            "did you mean 'score'",
        ),
        ({"key": "a", "when": {"score": {"model": "w"}}, "actions": [HOOK]}, "when.score", "above"),
        ({"key": "a", "when": {"band": {"model": "w"}}, "actions": [HOOK]}, "when.band", "becomes"),
        (
            {"key": "a", "when": {"event": {"type": "x"}}, "actions": [{"stage": {"model": "w"}}]},
            "actions[0].stage.set",
            "a stage of the model, or null",
        ),
        (
            {
                "key": "a",
                "when": {"event": {"type": "x"}},
                "actions": [{"webhook": {"url": "ftp://x", "secret": "s" * 20}}],
            },
            "actions[0].webhook.url",
            "http(s) URL",
        ),
        (
            {
                "key": "a",
                "when": {"event": {"type": "x"}},
                "actions": [{"webhook": {"url": "https://x.example", "secret": "short"}}],
            },
            "actions[0].webhook.secret",
            "at least 16",
        ),
        (
            {"key": "a", "when": {"event": {"type": "x"}}, "actions": [{"sms": {}}]},
            "actions[0].sms",
            "unknown key",
        ),
        (
            {"key": "a", "when": {"event": {"type": "x"}}, "actions": [{"email": {"to": "bob"}}]},
            "actions[0].email.to",
            "lead, owner or an email address",
        ),
        ({"key": "a", "when": {"event": {"type": "x"}}}, "actions", "is required"),
    ],
)
def test_mistakes_are_named(doc: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(AutomationError) as err:
        parse_automation(doc, "hot.yaml")
    assert err.value.field == field
    assert words in err.value.message
