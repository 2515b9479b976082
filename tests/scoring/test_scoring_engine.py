"""The engine: rule kinds, limits, every/after, decay, bands, merges — and the ledger always
adds up to the total."""

from __future__ import annotations

import copy

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from leadpulse.scoring import Happening, Published, Scorer, empty_state
from leadpulse.scoring.engine import DAY_MS, Entry, shown
from leadpulse.scoring.explain import explain
from leadpulse.scoring.model import (
    AllCond,
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

PRICING = (FieldCond("url", Compare("matches", "*/pricing*")),)
ENGAGED = "engaged_seconds"
MODEL = Model(
    key="web",
    name="Web",
    kind="mixed",
    half_life_days=14,
    cap_min=0,
    cap_max=120,
    bands=(("cold", 0), ("warm", 30), ("hot", 60)),
    stages=(("mql", 30), ("sql", 60)),
    rules=(
        Rule("pricing", EventCond("page_view", PRICING), 15, Limit(times=1)),
        Rule(
            "scroll",
            EventCond("scroll", (FieldCond("depth", Compare("gte", 75)),)),
            5,
            Limit(times=1, per="session"),
        ),
        Rule("active_40s", MetricCond(ENGAGED, "session", Compare("gt", 40)), 10),
        Rule(
            "every_30s",
            MetricCond(ENGAGED, "session", None, every=30, after=60),
            2,
            Limit(points=20),
        ),
        Rule("pages_3", MetricCond("pages_viewed", "session", Compare("gt", 3)), 10),
        Rule(
            "pricing_twice",
            MetricCond(
                CountMetric("page_view", PRICING), "lifetime", Compare("gte", 2), within_days=30
            ),
            10,
        ),
        Rule("referral", TraitCond("channel", Compare("eq", "referral")), 5),
        Rule(
            "poland_cart",
            AllCond((TraitCond("country", Compare("eq", "PL")), EventCond("added_to_cart"))),
            20,
        ),
        Rule("unsubscribed", EventCond("unsubscribe"), -10),
    ),
)


def view(uid: str, ts: int, url: str = "https://shop.example/", session: str = "s1") -> Happening:
    return Happening(uid, "page_view", ts, session, {"url": url}, "shop")


def ping(uid: str, ts: int, seconds: float, session: str = "s1") -> Happening:
    return Happening(uid, "page_ping", ts, session, {"properties": {"engaged_ms": seconds * 1000}})


def rules(entries: list[Entry]) -> list[str]:
    return [e.rule for e in entries]


def test_event_rules_fire_per_event_within_their_limits() -> None:
    scorer = Scorer([Published(MODEL, 1)])
    state = empty_state()
    got = []
    for i in range(3):
        got += scorer.apply_event(state, view(f"p{i}", T0 + i, "https://x/pricing"), {})
    assert rules(got).count("pricing") == 1  # limit: once per lead
    assert rules(got).count("pricing_twice") == 1  # the count metric reached 2 once


def test_metric_thresholds_fire_once_per_session_and_every_steps_are_capped() -> None:
    scorer = Scorer([Published(MODEL, 1)])
    state = empty_state()
    got = []
    for i in range(20):  # 20 pings of 15 s = 300 s engaged in one session
        got += scorer.apply_event(state, ping(f"g{i}", T0 + i * 15_000, 15), {})
    assert rules(got).count("active_40s") == 1
    # every 30 s after 60 s: (300 - 60) / 30 = 8 steps of 2 points
    assert sum(e.points for e in got if e.rule == "every_30s") == 16
    for i in range(20, 40):
        got += scorer.apply_event(state, ping(f"g{i}", T0 + i * 15_000, 15), {})
    assert sum(e.points for e in got if e.rule == "every_30s") == 20  # limit: 20 points
    got += scorer.apply_event(state, ping("other", T0 + 10**6, 50, session="s2"), {})
    assert rules(got).count("active_40s") == 2  # a new session can earn it again


def test_state_rules_give_and_take_back_and_never_decay() -> None:
    scorer = Scorer([Published(MODEL, 1)])
    state = empty_state()
    first = scorer.apply_traits(state, {"channel": "referral"}, T0)
    assert [(e.rule, e.points, e.decays) for e in first] == [("referral", 5, False)]
    assert scorer.apply_traits(state, {"channel": "referral"}, T0 + 1) == []
    back = scorer.apply_traits(state, {"channel": "direct"}, T0 + 2)
    assert [(e.rule, e.points) for e in back] == [("referral", -5)]
    assert scorer.score(state, T0 + 100 * DAY_MS)["web"].total == 0


def test_mixed_conditions_gate_an_event_on_traits() -> None:
    scorer = Scorer([Published(MODEL, 1)])
    pl, de = empty_state(), empty_state()
    cart = Happening("c1", "added_to_cart", T0, "s1", {})
    assert "poland_cart" in rules(scorer.apply_event(pl, cart, {"country": "PL"}))
    assert "poland_cart" not in rules(scorer.apply_event(de, cart, {"country": "DE"}))


def test_behavioural_points_halve_every_half_life_and_bands_follow_time() -> None:
    scorer = Scorer([Published(MODEL, 1)])
    state = empty_state()
    for i in range(5):
        scorer.apply_event(state, view(f"v{i}", T0 + i, f"https://x/pricing/{i}"), {})
    now = scorer.score(state, T0 + 10)["web"]
    assert (now.total, now.band, now.stage) == (35, "warm", "mql")  # 15 + 10 + 10
    later = scorer.score(state, T0 + 10 + 14 * DAY_MS)["web"]
    assert later.total == 17.5
    assert later.band == "cold"


def test_a_merge_brings_decaying_points_to_the_later_time_with_the_models_half_life() -> None:
    """The half-life comes from the published model (states no longer keep a copy); a state
    saved by a release that kept one, of a model no longer published, still merges with it."""
    scorer = Scorer([Published(MODEL, 1)])
    a, b = empty_state(), empty_state()
    scorer.apply_event(a, view("a", T0, "https://x/pricing"), {})
    scorer.apply_event(b, view("b", T0 + 14 * DAY_MS, "https://x/pricing"), {})
    assert "half_life" not in a["models"]["web"]
    merged, _ = scorer.merge(a, b, T0 + 14 * DAY_MS)
    assert scorer.score(merged, T0 + 14 * DAY_MS)["web"].total == 7.5 + 15
    old = {"half_life": 14 * DAY_MS, "decaying": [10.0, T0]}
    mine, theirs = empty_state(), empty_state()
    mine["models"]["gone"] = dict(old)
    theirs["models"]["gone"] = {"decaying": [10.0, T0 + 14 * DAY_MS]}
    merged, _ = scorer.merge(mine, theirs, T0 + 14 * DAY_MS)
    assert merged["models"]["gone"]["decaying"] == [15.0, T0 + 14 * DAY_MS]


def test_negative_points_and_the_cap() -> None:
    scorer = Scorer([Published(MODEL, 1)])
    state = empty_state()
    scorer.apply_event(state, Happening("u", "unsubscribe", T0, "s", {}), {})
    assert scorer.score(state, T0)["web"].total == 0  # cap min 0


def test_merging_two_subjects_counts_a_fit_rule_once() -> None:
    scorer = Scorer([Published(MODEL, 1)])
    a, b = empty_state(), empty_state()
    scorer.apply_traits(a, {"channel": "referral"}, T0)
    scorer.apply_traits(b, {"channel": "referral"}, T0)
    merged, entries = scorer.merge(a, b, T0 + 1)
    assert [(e.rule, e.points) for e in entries] == [("referral", -5)]
    assert scorer.score(merged, T0 + 2)["web"].total == 5


def test_a_state_keeps_only_what_is_not_zero_or_empty() -> None:
    """Every event encodes its subject's whole state: aggregates still 0, uses of rules without
    a limit, state rules never on and count metrics never matched are not kept."""
    scorer = Scorer([Published(MODEL, 1)])
    state = empty_state()
    for i in range(5):  # `pages_3` fires (no limit); nothing is scrolled, pinged or counted
        scorer.apply_event(state, view(f"v{i}", T0 + i * 1000), {"channel": "organic"})
    assert state["lifetime"] == {"events": 5, "first_ts": T0, "last_ts": T0 + 4000,
                                 "pages_viewed": 5}  # fmt: skip
    assert state["sessions"]["s1"] == state["lifetime"]
    assert set(state["models"]["web"]) == {"traits", "fired", "decaying"}
    assert "counts" not in state
    assert scorer.score(state, T0 + 4000)["web"].total == 10


def test_counted_times_are_kept_for_the_widest_window_only() -> None:
    """`pricing_twice` counts pricing views within 30 days: a view a day for 100 days keeps
    the last 31 days of times, and the rule still fires once for the lead."""
    scorer = Scorer([Published(MODEL, 1)])
    state = empty_state()
    got: list[Entry] = []
    for day in range(100):
        pricing = view(f"p{day}", T0 + day * DAY_MS, "https://shop.example/pricing", f"d{day}")
        got += scorer.apply_event(state, pricing, {})
    (times,) = [scopes["*"] for scopes in state["counts"].values()]
    assert times == [T0 + day * DAY_MS for day in range(69, 100)]
    assert rules(got).count("pricing_twice") == 1


def test_sessions_a_day_old_are_forgotten_so_a_regulars_state_stays_small() -> None:
    scorer = Scorer([Published(MODEL, 1)])
    state = empty_state()
    got: list[Entry] = []
    for day in range(30):  # a visit a day: a deep scroll and a minute engaged
        start, session = T0 + day * DAY_MS, f"day{day}"
        deep = Happening(f"d{day}", "scroll", start, session, {"depth": 90})
        got += scorer.apply_event(state, deep, {})
        got += scorer.apply_event(state, ping(f"p{day}", start + 60_000, 60, session), {})
    assert rules(got).count("scroll") == 30  # once per session, every session
    assert rules(got).count("active_40s") == 30
    assert sorted(state["sessions"]) == ["day28", "day29"]
    web = state["models"]["web"]
    assert sorted(web["times"]) == ["scroll|s|day28", "scroll|s|day29"]  # active_40s: no limit
    assert sorted(web["fired"]) == ["active_40s|day28", "active_40s|day29"]
    assert state["sessions_seen"] == 30 and state["lifetime"]["events"] == 60


events = st.lists(
    st.tuples(
        st.sampled_from(["page_view", "page_ping", "scroll", "added_to_cart", "unsubscribe"]),
        st.sampled_from(["/", "/pricing", "/pricing/plans", "/about"]),
        st.integers(0, 100),  # depth / engaged seconds
        st.sampled_from(["s1", "s2", "s3"]),
        st.integers(1, 3 * DAY_MS),  # gap to the previous event
    ),
    max_size=40,
)


def _happenings(stream: list[tuple[str, str, int, str, int]]) -> list[Happening]:
    out, ts = [], T0
    for i, (kind, path, n, session, gap) in enumerate(stream):
        ts += gap
        props = {"depth": n} if kind == "scroll" else {"engaged_ms": n * 1000}
        fields = {"url": "https://shop.example" + path, "properties": props, "depth": n}
        out.append(Happening(f"e{i}", kind, ts, session, fields, "shop"))
    return out


@settings(max_examples=150, deadline=None)
@given(stream=events, country=st.sampled_from(["PL", "DE"]), later=st.integers(0, 60 * DAY_MS))
def test_contributions_add_up_and_replay_equals_incremental(
    stream: list[tuple[str, str, int, str, int]], country: str, later: int
) -> None:
    scorer = Scorer([Published(MODEL, 1)])
    happenings = _happenings(stream)
    traits = {"country": country, "channel": "referral"}
    # incremental: state saved as JSON and loaded back between events, as storage does
    state = empty_state()
    ledger = scorer.apply_traits(state, traits, T0)
    for h in happenings:
        state = orjson.loads(orjson.dumps(state))
        ledger += scorer.apply_event(state, h, traits)
    # replay: all at once on a fresh state
    replay = empty_state()
    replayed = scorer.apply_traits(replay, traits, T0)
    for h in happenings:
        replayed += scorer.apply_event(replay, h, traits)
    now = (happenings[-1].ts if happenings else T0) + later
    total = scorer.score(state, now)["web"].total
    assert total == scorer.score(replay, now)["web"].total
    assert ledger == replayed
    rows = [
        {"rule_key": e.rule, "points": e.points, "decays": e.decays, "at": e.at,
         "event_uid": e.event, "model_version": e.version}
        for e in ledger
    ]  # fmt: skip
    explained = explain(Published(MODEL, 1), rows, now)
    assert abs(sum(c["points_now"] for c in explained["contributions"]) - total) < 0.01
    assert explained["total"] == total
    assert copy.deepcopy(state) == orjson.loads(orjson.dumps(state))


@given(st.floats(allow_nan=False) | st.integers(-(10**9), 10**9).map(lambda c: c / 200))
def test_a_total_is_shown_as_round_to_two_places_would(total: float) -> None:
    # the second strategy gives exact half-cents and values whose scaling lands on a half
    assert shown(total) == round(total, 2)


def test_half_cents_that_scaling_rounds_onto_a_half_are_shown_as_round_would() -> None:
    for total in (12.355, 2.675, 1.005, 0.125, -0.375, 1e300):
        assert shown(total) == round(total, 2)
