"""Which automations a change fires: crossings in both directions, bands, events."""

from __future__ import annotations

from typing import Any

from leadpulse.automate import fired, parse_automation

HOOK = [{"webhook": {"url": "https://crm.example/hook", "secret": "s" * 24}}]


def auto(when: dict[str, Any]) -> Any:
    return parse_automation({"key": "a", "when": when, "actions": HOOK})


def s(total: float, band: str | None = None) -> dict[str, Any]:
    return {"website": {"total": total, "band": band, "stage": None}}


def test_score_crossings_up_and_down() -> None:
    up = auto({"score": {"model": "website", "above": 60}})
    assert fired(up, s(55), s(61), []) == [
        {
            "kind": "score",
            "model": "website",
            "threshold": 60,
            "direction": "up",
            "from": 55,
            "to": 61,
        }
    ]
    assert fired(up, s(61), s(70), []) == []  # already above: no new crossing
    assert fired(up, {}, s(60), []) != []  # a new lead that starts hot
    down = auto({"score": {"model": "website", "below": 30}})
    assert fired(down, s(35), s(20), [])[0]["direction"] == "down"
    assert fired(down, s(20), s(10), []) == []


def test_band_enter_and_leave() -> None:
    becomes = auto({"band": {"model": "website", "becomes": "hot"}})
    assert fired(becomes, s(50, "warm"), s(65, "hot"), [])[0] == {
        "kind": "band", "model": "website", "from": "warm", "to": "hot"
    }  # fmt: skip
    assert fired(becomes, s(65, "hot"), s(70, "hot"), []) == []
    leaves = auto({"band": {"model": "website", "leaves": "hot"}})
    assert fired(leaves, s(65, "hot"), s(40, "warm"), [])
    assert not fired(leaves, s(40, "warm"), s(20, "cold"), [])


def test_events_fire_once_each_when_they_match() -> None:
    a = auto({"event": {"type": "offer_submit", "where": {"offer": "callback"}}})
    events = [
        {"id": "1", "type": "offer_submit", "properties": {"offer": "callback"}},
        {"id": "2", "type": "offer_submit", "properties": {"offer": "other"}},
        {"id": "3", "type": "page_view", "properties": {}},
        {"id": "4", "type": "offer_submit", "properties": {"offer": "CALLBACK"}},
    ]
    assert [f["event"] for f in fired(a, {}, {}, events)] == ["1", "4"]
