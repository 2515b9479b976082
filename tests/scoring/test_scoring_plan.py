"""The engine's plan: which rules an event can fire, limits checked before conditions, page
patterns as plain searches. Whatever is skipped must be what could not have fired."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from leadpulse.core.compare import glob
from leadpulse.scoring import Happening, Published, Scorer, empty_state
from leadpulse.scoring.conditions import compiled_fields
from leadpulse.scoring.engine import DAY_MS, Entry
from leadpulse.scoring.model import (
    AnyCond,
    Compare,
    CountMetric,
    EventCond,
    FieldCond,
    Limit,
    MetricCond,
    Model,
    Rule,
    TraitCond,
)

T0 = 1_763_800_000_000


def model(*rules: Rule, stages: tuple[tuple[str, float], ...] = ()) -> Published:
    return Published(Model("m", "M", "mixed", rules, stages=stages), 1)


def event(uid: str, kind: str, ts: int, session: str = "s1", url: str = "https://x/") -> Happening:
    return Happening(uid, kind, ts, session, {"url": url}, "shop")


def fired(entries: list[Entry]) -> list[str]:
    return [e.rule for e in entries]


def test_rules_that_any_event_type_can_move_are_looked_at_for_unplanned_types() -> None:
    """`download` has no rule of its own, but it moves `events` and `session_seconds`, and a
    trait change that comes with it turns a trait rule on."""
    scorer = Scorer(
        [
            model(
                Rule("busy", MetricCond("events", "session", Compare("gte", 2)), 3),
                Rule("long", MetricCond("session_seconds", "session", Compare("gte", 60)), 4),
                Rule("polish", TraitCond("country", Compare("eq", "PL")), 5),
                Rule("viewed", EventCond("page_view"), 1),
            )
        ]
    )
    state = empty_state()
    got = scorer.apply_event(state, event("a", "download", T0), {"country": "DE"})
    got += scorer.apply_event(state, event("b", "download", T0 + 61_000), {"country": "PL"})
    assert fired(got) == ["busy", "long", "polish"]


def test_a_count_of_one_event_type_moves_on_another_types_rule() -> None:
    """A `count` metric is planned for the type it counts, not for the rule's other types."""
    twice = MetricCond(CountMetric("signup"), "lifetime", Compare("gte", 2))
    scorer = Scorer([model(Rule("signed_up_twice", twice, 7))])
    state = empty_state()
    got = scorer.apply_event(state, event("a", "signup", T0), {})
    got += scorer.apply_event(state, event("b", "page_view", T0 + 1), {})
    got += scorer.apply_event(state, event("c", "signup", T0 + 2), {})
    assert [(e.rule, e.event) for e in got] == [("signed_up_twice", "c")]


def test_a_rule_planned_for_its_type_and_for_every_type_fires_once_per_event() -> None:
    either = AnyCond(
        (EventCond("page_view"), EventCond("*", (FieldCond("sku", Compare("exists", True)),)))
    )
    scorer = Scorer([model(Rule("seen", either, 2))])
    state = empty_state()
    got = scorer.apply_event(state, event("a", "page_view", T0), {})
    got += scorer.apply_event(state, event("b", "click", T0 + 1), {})
    assert [(e.rule, e.event) for e in got] == [("seen", "a")]


def test_exhausted_limits_reset_with_their_scope() -> None:
    scorer = Scorer(
        [
            model(
                Rule("per_session", EventCond("page_view"), 1, Limit(times=2, per="session")),
                Rule("per_day", EventCond("page_view"), 1, Limit(times=1, per="day")),
                Rule("capped", EventCond("page_view"), 3, Limit(points=7)),
            )
        ]
    )
    state = empty_state()
    got: list[Entry] = []
    for i, (ts, session) in enumerate(
        [(T0, "s1"), (T0 + 1, "s1"), (T0 + 2, "s1"), (T0 + 3, "s2"), (T0 + DAY_MS, "s2")]
    ):
        got += scorer.apply_event(state, event(f"e{i}", "page_view", ts, session), {})
    assert [e.event for e in got if e.rule == "per_session"] == ["e0", "e1", "e3", "e4"]
    assert [e.event for e in got if e.rule == "per_day"] == ["e0", "e4"]
    assert [e.points for e in got if e.rule == "capped"] == [3, 3, 1]  # 7 points in all


def test_a_held_stage_wins_only_while_the_model_has_it() -> None:
    scorer = Scorer(
        [model(Rule("v", EventCond("page_view"), 40), stages=(("mql", 30), ("sql", 60)))]
    )
    state = empty_state()
    scorer.apply_event(state, event("a", "page_view", T0), {})
    assert scorer.score(state, T0)["m"].stage == "mql"
    Scorer.pin_stage(state, "m", "sql")
    assert scorer.score(state, T0)["m"].stage == "sql"
    Scorer.pin_stage(state, "m", "gone")
    assert scorer.score(state, T0)["m"].stage == "mql"


patterns = st.lists(
    st.sampled_from(["*", "?", "[a-c]", "p", "P", "/", ".", "ß", "k", "é"]), max_size=6
)
values = st.lists(
    st.sampled_from(["p", "P", "/", ".", "a", "b", "ß", "SS", "K", "\u212a", "é", "É", "\n"])
).map("".join)


@settings(max_examples=500, deadline=None)
@given(pattern=patterns.map("".join), value=values)
def test_page_patterns_match_exactly_as_their_glob(pattern: str, value: str) -> None:
    """`*text*` is tested as a search for the text: it must agree with the glob's regex."""
    test = compiled_fields((FieldCond("url", Compare("matches", pattern)),))
    assert test({"url": value}, "page_view") == (glob(pattern).match(value) is not None)


def test_a_search_pattern_is_case_insensitive_and_literal() -> None:
    test = compiled_fields((FieldCond("url", Compare("matches", "*/Pricing.html*")),))
    assert test({"url": "https://x/PRICING.HTML?a=1"}, "page_view")
    assert not test({"url": "https://x/pricingxhtml"}, "page_view")  # `.` is no wildcard


def pattern_rule(key: str, field: str, pattern: str, points: float = 1) -> Rule:
    return Rule(
        key, EventCond("page_view", (FieldCond(field, Compare("matches", pattern)),)), points
    )


PAGE_RULES = (
    pattern_rule("pricing", "url", "*/pricing*"),
    pattern_rule("blog", "url", "*/blog/*"),
    Rule("viewed", EventCond("page_view"), 1),
    pattern_rule("exact", "url", "https://x/pricing"),
)
PAGES = ["https://x/pricing", "https://x/blog/a", "https://x/", "https://x/PRICING?utm=1"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([*PAGES, None]), st.sampled_from(["field", "property", "list"])),
        max_size=12,
    )
)
def test_page_rules_left_out_by_one_lookup_are_those_whose_pattern_fails(
    pages: list[tuple[str | None, str]],
) -> None:
    """A model's page-pattern rules on one field are picked by a lookup of the page (`_Plan.runs`,
    remembered per page): every event fires exactly the rules whose own test passes — the URL
    as the event's field, as a property of that name (no field), or a value no lookup can take."""
    scorer = Scorer([model(*PAGE_RULES)])
    state = empty_state()
    for i, (page, where) in enumerate(pages):
        if where == "field":
            fields: dict[str, object] = {"url": page}
        elif where == "property":
            fields = {"properties": {"url": page}}
        else:
            fields = {"properties": {"url": [page]}}
        happening = Happening(f"e{i}", "page_view", T0 + i, "s1", fields, "shop")
        expected = [
            r.key for r in PAGE_RULES
            if not isinstance(r.when, EventCond) or not r.when.where
            or compiled_fields(r.when.where)(fields, "page_view")
        ]  # fmt: skip
        assert fired(scorer.apply_event(state, happening, {})) == expected


def test_rules_on_two_page_fields_are_each_tested() -> None:
    """No single field decides: nothing is left out by a lookup, each rule tests its own."""
    scorer = Scorer([model(pattern_rule("pricing", "url", "*/pricing*"),
                           pattern_rule("docs", "title", "*Docs*"))])  # fmt: skip
    state = empty_state()
    both = Happening("a", "page_view", T0, "s1", {"url": "https://x/pricing", "title": "Docs"})
    none = Happening("b", "page_view", T0 + 1, "s1", {"url": "https://x/", "title": "Home"})
    assert fired(scorer.apply_event(state, both, {})) == ["pricing", "docs"]
    assert fired(scorer.apply_event(state, none, {})) == []


def test_same_traits_skip_state_rules_only_for_models_scored_before() -> None:
    """`same_traits`: the caller vouches the traits are those the state was last scored with.
    A model scored before keeps its state rules as they are; one scored for the first time
    still looks at them."""
    polish = Rule("polish", TraitCond("country", Compare("eq", "PL")), 5)
    viewed = Rule("viewed", EventCond("page_view"), 1)
    state = empty_state()
    first = Scorer([model(polish, viewed)])
    assert fired(first.apply_event(state, event("a", "page_view", T0), {"country": "PL"})) == [
        "viewed",
        "polish",
    ]
    again = first.apply_event(state, event("b", "page_view", T0 + 1), {"country": "PL"}, True)
    assert fired(again) == ["viewed"]
    other = Published(Model("n", "N", "mixed", (polish,)), 1)
    both = Scorer([model(polish, viewed), other])
    got = both.apply_event(state, event("c", "page_view", T0 + 2), {"country": "PL"}, True)
    assert [(e.model, e.rule) for e in got] == [("m", "viewed"), ("n", "polish")]
