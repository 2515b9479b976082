"""Deciding for one visitor: conditions, frequency, holdout groups and templates."""

from __future__ import annotations

from typing import Any

from leadpulse.engage import HOLDOUT, TREATMENT, Seen, decide, group_of, parse_definition, render
from leadpulse.engage.decide import DAY_MS

NOW = 1_800_000_000_000

CALLBACK = parse_definition(
    "offer",
    {
        "key": "callback",
        "when": {"score": {"model": "website", "gte": 60}, "seconds_on_page": 5},
        "show": {"title": "{{keyword | Windows}} for you", "fields": ["phone"]},
        "frequency": {"once_per": "session", "after_close_days": 3},
    },
)
CREDIT = parse_definition(
    "personalization",
    {
        "key": "credit",
        "when": {"match": {"keyword": {"contains": "credit"}}},
        "changes": [
            {"selector": "h1", "text": "Credit: {{keyword}}"},
            {"selector": ".x", "html": "<b>{{keyword}}</b>"},
            {"selector": "a", "attribute": "href", "value": "/credit"},
        ],
    },
)


def view(**values: Any) -> dict[str, Any]:
    return {"score": {"website": 70}, "band": {"website": "hot"}, "traits": {}, **values}


def test_an_offer_needs_its_conditions_and_carries_its_moments() -> None:
    assert decide([CALLBACK], view(score={"website": 59}), {}, "a", "s", NOW) == []
    [decision] = decide([CALLBACK], view(keyword="windows on credit"), {}, "a", "s", NOW)
    assert decision["kind"] == "offer"
    assert decision["group"] == TREATMENT
    assert decision["trigger"] == {"exit_intent": False, "seconds_on_page": 5, "scroll_depth": 0}
    assert decision["content"]["title"] == "windows on credit for you"
    assert decision["content"]["fields"] == [
        {"name": "phone", "label": "Phone", "type": "tel", "required": False}
    ]
    # without a keyword the template's default is used
    [plain] = decide([CALLBACK], view(), {}, "a", "s", NOW)
    assert plain["content"]["title"] == "Windows for you"


def test_frequency_submit_close_and_session() -> None:
    def offered(seen: Seen, session: str = "s2", now: int = NOW) -> bool:
        return bool(decide([CALLBACK], view(), {"callback": seen}, "a", session, now))

    assert not offered(Seen(viewed_at=NOW - 10 * DAY_MS, submitted_at=NOW - 10 * DAY_MS))
    assert not offered(Seen(viewed_at=NOW - DAY_MS, closed_at=NOW - DAY_MS))
    assert offered(Seen(viewed_at=NOW - 4 * DAY_MS, closed_at=NOW - 4 * DAY_MS))
    assert not offered(Seen(viewed_at=NOW - 1000, viewed_session="s2"))
    assert offered(Seen(viewed_at=NOW - 1000, viewed_session="s1"))


def test_personalization_changes_and_escaping() -> None:
    assert decide([CREDIT], view(keyword="windows"), {}, "a", "s", NOW) == []
    [decision] = decide([CREDIT], view(keyword="credit <script>"), {}, "a", "s", NOW)
    text, markup, attribute = decision["changes"]
    assert text == {"selector": "h1", "text": "Credit: credit <script>"}
    assert markup == {"selector": ".x", "html": "<b>credit &lt;script&gt;</b>"}
    assert attribute == {"selector": "a", "attribute": "href", "value": "/credit"}


def test_holdout_groups_are_stable_and_near_the_share() -> None:
    groups = [group_of("credit", f"visitor-{i}", 20) for i in range(5000)]
    share = groups.count(HOLDOUT) / len(groups)
    assert 0.17 < share < 0.23
    assert groups == [group_of("credit", f"visitor-{i}", 20) for i in range(5000)]
    assert group_of("credit", "v", 0) == TREATMENT
    # another definition draws its own sample
    other = [group_of("callback", f"visitor-{i}", 20) for i in range(5000)]
    assert other != groups


def test_holdout_visitors_get_the_decision_without_changes() -> None:
    held = next(f"v{i}" for i in range(1000) if group_of("credit", f"v{i}", 50) == HOLDOUT)
    item = parse_definition(
        "personalization",
        {"key": "credit", "holdout": 50, "changes": [{"selector": "h1", "text": "x"}]},
    )
    [decision] = decide([item], view(), {}, held, "s", NOW)
    assert decision == {"kind": "personalization", "key": "credit", "group": HOLDOUT, "changes": []}


def test_traits_scores_and_any() -> None:
    item = parse_definition(
        "offer",
        {
            "key": "b2b",
            "when": {
                "band": {"model": "website", "in": ["warm", "hot"]},
                "any": [
                    {"match": {"traits.company.size": {"gte": 50}}},
                    {"match": {"country": "PL"}},
                ],
            },
            "show": {"title": "Hello {{traits.name | there}}", "fields": ["email"]},
        },
    )
    big = view(traits={"company": {"size": 80}, "name": "Anna"})
    [decision] = decide([item], big, {}, "a", None, NOW)
    assert decision["content"]["title"] == "Hello Anna"
    assert decide([item], view(country="pl"), {}, "a", None, NOW)
    assert not decide([item], view(country="DE"), {}, "a", None, NOW)
    assert not decide([item], view(country="PL", band={"website": "cold"}), {}, "a", None, NOW)


def test_render_leaves_plain_text_alone() -> None:
    assert render("no placeholders {x}", {}) == "no placeholders {x}"
    assert render("{{ missing }}!", {}) == "!"


def test_a_crafted_keyword_cannot_become_a_script_url_or_dump_data() -> None:
    item = parse_definition(
        "personalization",
        {
            "key": "p",
            "changes": [
                {"selector": "a", "attribute": "href", "value": "{{keyword}}"},
                {"selector": ".x", "html": '<a href="{{keyword | /safe}}">go</a>'},
                {"selector": "h1", "text": "{{traits | nothing}} {{score}}"},
            ],
        },
    )
    crafted = view(keyword="java\tscript:alert(1)//credit", traits={"email": "a@b.pl"})
    [decision] = decide([item], crafted, {}, "a", "s", NOW)
    href, markup, text = decision["changes"]
    assert href["value"] == ""
    assert markup["html"] == '<a href="/safe">go</a>'
    assert text["text"] == "nothing "
    ok = decide([item], view(keyword="https://shop.example/credit"), {}, "a", "s", NOW)
    assert ok[0]["changes"][0]["value"] == "https://shop.example/credit"


def test_dotted_form_fields_match_dotted_conditions() -> None:
    from leadpulse.core.compare import lookup

    assert lookup({"traits": {"company.size": "60"}}, "traits.company.size") == "60"
    assert lookup({"traits": {"company": {"size": 60}}}, "traits.company.size") == 60
