"""Model files: the issue's example parses to the expected values; bad files fail with the file,
the rule, the path inside it and a reason (with a suggestion where one is close)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from leadpulse.core.errors import InvalidInput
from leadpulse.scoring.model import (
    AllCond,
    AnyCond,
    Compare,
    CountMetric,
    EventCond,
    FieldCond,
    Limit,
    MetricCond,
    ModelCond,
    NotCond,
    Scope,
    SiteAverage,
    TraitCond,
)
from leadpulse.scoring.parse import ModelError, load_model_file, parse_model

EXAMPLE = """\
key: website
name: Website behaviour
kind: engagement
scope: {site: shop}
decay: {half_life_days: 14}
cap: {min: 0, max: 200}
bands: {cold: 0, warm: 30, hot: 60}
stages: {mql: 30, sql: 60}
rules:
  - key: pricing_page
    when: {event: page_view, where: {url: {matches: "*/pricing*"}}}
    points: 15
    limit: {times: 1}
  - key: deep_scroll
    when: {event: scroll, where: {depth: {gte: 75}}}
    points: 5
    limit: {times: 1, per: session}
  - key: active_40s
    when: {metric: engaged_seconds, per: session, gt: 40}
    points: 10
  - key: every_30s_after_1min
    when: {metric: engaged_seconds, per: session, every: 30, after: 60}
    points: 2
    limit: {points: 20}
  - key: more_than_3_pages
    when: {metric: pages_viewed, per: session, gt: 3}
    points: 10
  - key: longer_than_average
    when: {metric: session_seconds, per: session, gt: {site_average: session_seconds}}
    points: 5
  - key: pricing_twice_in_30_days
    when:
      metric: {count: page_view, where: {url: {matches: "*/pricing*"}}}
      within_days: 30
      gte: 2
    points: 10
  - key: referral
    when: {trait: channel, eq: referral}
    points: 5
  - key: organic_twitter
    when: {all: [{trait: source, eq: twitter}, {trait: channel, eq: organic_social}]}
    points: -2
  - key: big_company
    when: {trait: company.revenue, gt: 300000}
    points: 5
  - key: looks_like_customers
    when: {model: lookalike, gte: 0.3}
    points: 15
"""

PRICING = FieldCond("url", Compare("matches", "*/pricing*"))


def test_the_example_model() -> None:
    model = parse_model(EXAMPLE, "website.yaml")
    assert (model.key, model.name, model.kind) == ("website", "Website behaviour", "engagement")
    assert model.scope == Scope(site="shop")
    assert (model.half_life_days, model.cap_min, model.cap_max) == (14.0, 0.0, 200.0)
    assert model.bands == (("cold", 0.0), ("warm", 30.0), ("hot", 60.0))
    assert model.stages == (("mql", 30.0), ("sql", 60.0))
    assert [r.key for r in model.rules][:3] == ["pricing_page", "deep_scroll", "active_40s"]
    assert len(model.rules) == 11

    rules = {r.key: r for r in model.rules}
    assert rules["pricing_page"].when == EventCond("page_view", (PRICING,))
    assert rules["pricing_page"].limit == Limit(times=1, per="lead")
    assert rules["deep_scroll"].when == EventCond(
        "scroll", (FieldCond("depth", Compare("gte", 75)),)
    )
    assert rules["deep_scroll"].limit == Limit(times=1, per="session")
    assert model.rules[2].when == MetricCond("engaged_seconds", "session", Compare("gt", 40.0))
    assert model.rules[4].when == MetricCond("pages_viewed", "session", Compare("gt", 3.0))
    assert rules["every_30s_after_1min"].when == MetricCond(
        "engaged_seconds", "session", None, every=30.0, after=60.0
    )
    assert rules["every_30s_after_1min"].limit == Limit(points=20.0)
    assert rules["longer_than_average"].when == MetricCond(
        "session_seconds", "session", Compare("gt", SiteAverage("session_seconds"))
    )
    assert rules["pricing_twice_in_30_days"].when == MetricCond(
        CountMetric("page_view", (PRICING,)), "lifetime", Compare("gte", 2.0), within_days=30.0
    )
    assert rules["referral"].when == TraitCond("channel", Compare("eq", "referral"))
    assert rules["organic_twitter"].when == AllCond(
        (
            TraitCond("source", Compare("eq", "twitter")),
            TraitCond("channel", Compare("eq", "organic_social")),
        )
    )
    assert rules["organic_twitter"].points == -2.0
    assert rules["big_company"].when == TraitCond("company.revenue", Compare("gt", 300000.0))
    assert rules["looks_like_customers"].when == ModelCond("lookalike", Compare("gte", 0.3))
    assert hash(model)  # tuples all the way down: no list slipped into the frozen values


def test_json_text_bytes_and_dict_parse_the_same_as_yaml() -> None:
    expected = parse_model(EXAMPLE)
    document = yaml.safe_load(EXAMPLE)
    assert parse_model(json.dumps(document)) == expected
    assert parse_model(json.dumps(document).encode()) == expected
    assert parse_model(EXAMPLE.encode("utf-8")) == expected
    assert parse_model(document) == expected


def test_defaults_and_shorthands() -> None:
    model = parse_model(
        """
        key: fit
        rules:
          - key: plan
            description: paying plans
            when:
              event: "*"
              where: {plan: pro, country: [de, at], score: {gte: 1, lt: 5}, sku: {exists: true}}
            points: 1.5
            limit: {times: 2}
          - key: not_students
            when: {not: {any: [{trait: email, matches: "*.edu"}, {trait: age, between: [0, 21]}]}}
            points: 3
          - key: returning
            when: {metric: sessions, gte: 2}
            points: 1
          - key: tags
            when: {trait: tags, in: [a, 1, true]}
            points: 1
        """
    )
    assert (model.name, model.kind, model.scope, model.bands, model.half_life_days) == (
        "fit",
        "mixed",
        Scope(),
        (),
        None,
    )
    plan = model.rules[0]
    assert plan.description == "paying plans"
    assert plan.points == 1.5
    assert plan.limit == Limit(times=2, per="lead", points=None)
    assert plan.when == EventCond(
        "*",
        (
            FieldCond("plan", Compare("eq", "pro")),
            FieldCond("country", Compare("in", ("de", "at"))),
            FieldCond("score", Compare("gte", 1.0)),
            FieldCond("score", Compare("lt", 5.0)),
            FieldCond("sku", Compare("exists", True)),
        ),
    )
    assert model.rules[1].when == NotCond(
        AnyCond(
            (
                TraitCond("email", Compare("matches", "*.edu")),
                TraitCond("age", Compare("between", (0.0, 21.0))),
            )
        )
    )
    assert model.rules[2].when == MetricCond("sessions", "lifetime", Compare("gte", 2.0))
    assert model.rules[3].when == TraitCond("tags", Compare("in", ("a", 1, True)))
    assert hash(model)


# -- bad models ---------------------------------------------------------------------------------


def _rule(when: Any = None, **fields: Any) -> dict[str, Any]:
    return {"key": "r", "when": when or {"event": "page_view"}, "points": 1, **fields}


def _model(*rules: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"key": "website", "rules": list(rules) or [_rule()], **top}


def _when(cond: Any) -> dict[str, Any]:
    return _model(_rule(cond))


def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


TYPO = _model(
    _rule(key="a"),
    _rule(key="b"),
    _rule(key="c"),
    {
        "key": "active_40s",
        "when": {"metric": "page_veiws", "per": "session", "gt": 40},
        "points": 10,
    },
)
DEEP = {"all": [{"trait": "a", "eq": 1}, {"event": "page_view", "where": {"url": {"matches": 7}}}]}

BAD: list[tuple[str, Any, str | None, str]] = [
    (
        "metric typo, rule named",
        TYPO,
        "rules[3].when.metric",
        "website.yaml: rules[3] (active_40s).when.metric: unknown metric 'page_veiws' "
        "(did you mean 'pages_viewed'?)",
    ),
    (
        "unknown top-level key",
        {"key": "website", "rulez": []},
        "rulez",
        "unknown key 'rulez' (did you mean 'rules'?)",
    ),
    ("yaml syntax", "key: website\nrules:\n  - key: [a\n    points: 1\n", None, "line 4"),
    ("top level a list", "- key: website\n", None, "the top level must be a mapping"),
    ("decoded body a list", [{"key": "website"}], None, "got a list of 1 item"),
    ("empty file", "", None, "the model is empty"),
    ("missing rules", {"key": "website"}, "rules", "is required"),
    ("empty rules", {"key": "website", "rules": []}, "rules", "non-empty list of rules"),
    (
        "duplicate rule key",
        _model(_rule(), _rule()),
        "rules[1].key",
        "rules[1] (r).key: duplicate rule key 'r' (first used by rules[0])",
    ),
    ("bad model key", _model(key="Web Site"), "key", "'Web Site' is not a valid key"),
    ("bad rule key", _model(_rule(key="-x")), "rules[0].key", "'-x' is not a valid key"),
    ("points missing", _model(_without(_rule(), "points")), "rules[0].points", "is required"),
    ("points zero", _model(_rule(points=0)), "rules[0].points", "must not be 0"),
    (
        "points a string",
        _model(_rule(points="ten")),
        "rules[0].points",
        "must be a number, got the string 'ten'",
    ),
    (
        "points a bool",
        _model(_rule(points=True)),
        "rules[0].points",
        "must be a number, got a boolean",
    ),
    ("points nan", _model(_rule(points=float("nan"))), "rules[0].points", "must be a number"),
    (
        "bands not ascending",
        _model(bands={"cold": 0, "hot": 60, "warm": 30}),
        "bands.warm",
        "bounds must ascend in file order: 30 is not above hot (60)",
    ),
    ("stages equal", _model(stages={"mql": 30, "sql": 30}), "stages.sql", "must ascend"),
    (
        "band name not a string",
        "key: w\nbands: {yes: 1}\nrules: []\n",
        "bands.True",
        "key True must be a string",
    ),
    (
        "decay 0",
        _model(decay={"half_life_days": 0}),
        "decay.half_life_days",
        "must be greater than 0, got 0",
    ),
    ("cap min above max", _model(cap={"min": 10, "max": 5}), "cap", "min (10) must be below max"),
    ("cap empty", _model(cap={}), "cap", "needs min, max or both"),
    (
        "kind typo",
        _model(kind="engagment"),
        "kind",
        "unknown kind 'engagment' (did you mean 'engagement'?)",
    ),
    ("scope typo", _model(scope={"sites": "shop"}), "scope.sites", "did you mean 'site'?"),
    (
        "limit per",
        _model(_rule(limit={"times": 1, "per": "visit"})),
        "rules[0].limit.per",
        "unknown period 'visit' (expected one of: lead, session, day)",
    ),
    (
        "limit times 0",
        _model(_rule(limit={"times": 0})),
        "rules[0].limit.times",
        "must be a whole number of at least 1",
    ),
    (
        "limit empty",
        _model(_rule(limit={"per": "day"})),
        "rules[0].limit",
        "needs times, points or both",
    ),
    (
        "limit key typo",
        _model(_rule(limit={"time": 1})),
        "rules[0].limit.time",
        "did you mean 'times'?",
    ),
    (
        "rule key typo",
        _model({**_rule(), "pionts": 1}),
        "rules[0].pionts",
        "rules[0] (r).pionts: unknown key 'pionts' (did you mean 'points'?)",
    ),
    (
        "two kind keys",
        _when({"event": "page_view", "trait": "x", "eq": 1}),
        "rules[0].when",
        "found 'event' and 'trait'",
    ),
    (
        "no kind key",
        _when({"where": {}}),
        "rules[0].when",
        "a condition needs one of: event, metric, trait",
    ),
    (
        "kind key typo",
        _when({"evnt": "page_view"}),
        "rules[0].when.evnt",
        "unknown key 'evnt' (did you mean 'event'?)",
    ),
    (
        "trait without operator",
        _when({"trait": "x"}),
        "rules[0].when",
        "a trait condition needs one operator: eq, ne, in",
    ),
    (
        "trait with two operators",
        _when({"trait": "x", "gt": 1, "lt": 5}),
        "rules[0].when",
        "takes one operator, found 'gt' and 'lt'",
    ),
    (
        "in with a scalar",
        _when({"trait": "x", "in": "de"}),
        "rules[0].when.in",
        "must be a non-empty list of values, got the string 'de'",
    ),
    (
        "between three items",
        _when({"trait": "x", "between": [1, 2, 3]}),
        "rules[0].when.between",
        "must be a list of two numbers [low, high], got a list of 3 items",
    ),
    (
        "between backwards",
        _when({"model": "m", "between": [5, 1]}),
        "rules[0].when.between",
        "low (5) must not be above high (1)",
    ),
    ("gt a string", _when({"model": "m", "gt": "high"}), "rules[0].when.gt", "must be a number"),
    ("eq null", _when({"trait": "x", "eq": None}), "rules[0].when.eq", "use exists: false"),
    (
        "matches a number",
        _when({"event": "e", "where": {"url": {"matches": 5}}}),
        "rules[0].when.where.url.matches",
        "must be a glob pattern",
    ),
    (
        "exists a string",
        _when({"trait": "x", "exists": "yes"}),
        "rules[0].when.exists",
        "must be true or false",
    ),
    (
        "operator spelt gt=",
        _when({"trait": "x", "gt=": 3}),
        "rules[0].when.gt=",
        "unknown operator 'gt=' (did you mean 'gte'?)",
    ),
    (
        "operator spelt greater",
        _when({"event": "e", "where": {"n": {"greater": 3}}}),
        "rules[0].when.where.n.greater",
        "unknown operator 'greater' (did you mean 'gte'?)",
    ),
    ("deep path", _when(DEEP), "rules[0].when.all[1].where.url.matches", "glob pattern"),
    (
        "inside not",
        _when({"not": {"trait": 1, "eq": 1}}),
        "rules[0].when.not.trait",
        "must be a non-empty string",
    ),
    (
        "all empty",
        _when({"all": []}),
        "rules[0].when.all",
        "must be a non-empty list of conditions, got an empty list",
    ),
    (
        "every with gt",
        _when({"metric": "events", "every": 5, "gt": 1}),
        "rules[0].when",
        "takes every or a comparison, not every and 'gt'",
    ),
    (
        "every 0",
        _when({"metric": "events", "every": 0}),
        "rules[0].when.every",
        "must be greater than 0",
    ),
    (
        "after negative",
        _when({"metric": "events", "every": 5, "after": -1}),
        "rules[0].when.after",
        "must be 0 or more",
    ),
    (
        "after without every",
        _when({"metric": "events", "after": 5, "gt": 1}),
        "rules[0].when.after",
        "after goes with every",
    ),
    (
        "metric without comparison",
        _when({"metric": "events"}),
        "rules[0].when",
        "a metric condition needs one operator: gt, gte",
    ),
    (
        "metric with matches",
        _when({"metric": "events", "matches": "x"}),
        "rules[0].when.matches",
        "'matches' does not apply to a metric",
    ),
    (
        "within_days without count",
        _when({"metric": "events", "within_days": 30, "gt": 1}),
        "rules[0].when.within_days",
        "needs a count metric",
    ),
    (
        "per session on sessions",
        _when({"metric": "sessions", "per": "session", "gt": 1}),
        "rules[0].when.per",
        "'sessions' is a lifetime metric",
    ),
    (
        "site average per lifetime",
        _when({"metric": "events", "gt": {"site_average": "events"}}),
        "rules[0].when.gt.site_average",
        "needs per: session",
    ),
    (
        "site average typo",
        _when({"metric": "events", "per": "session", "gt": {"site_average": "evnts"}}),
        "rules[0].when.gt.site_average",
        "unknown metric 'evnts' (did you mean 'events'?)",
    ),
    (
        "count metric typo",
        _when({"metric": {"cout": "page_view"}, "gt": 1}),
        "rules[0].when.metric.cout",
        "did you mean 'count'?",
    ),
    (
        "model key pattern",
        _when({"model": "Look Alike", "gte": 0.3}),
        "rules[0].when.model",
        "is not a valid key",
    ),
]


@pytest.mark.parametrize(
    ("source", "field", "phrase"), [c[1:] for c in BAD], ids=[c[0] for c in BAD]
)
def test_bad_models_name_the_place_and_the_reason(
    source: Any, field: str | None, phrase: str
) -> None:
    with pytest.raises(ModelError) as caught:
        parse_model(source, "website.yaml")
    err = caught.value
    assert err.field == field
    assert phrase in err.message
    assert err.message.startswith("website.yaml: ")
    assert "\n" not in err.message


def test_model_error_is_an_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_model({"key": "website"}, "api")
    assert caught.value.code == "invalid_model"
    assert caught.value.status == 400
    assert caught.value.to_dict() == {
        "error": {"code": "invalid_model", "message": "api: rules: is required", "field": "rules"}
    }


def test_load_model_file(tmp_path: Path) -> None:
    path = tmp_path / "website.yaml"
    path.write_text(EXAMPLE, encoding="utf-8")
    assert load_model_file(path) == parse_model(EXAMPLE)
    assert load_model_file(str(path)).key == "website"

    path.write_text(EXAMPLE.replace("points: 15", "points: fifteen", 1), encoding="utf-8")
    with pytest.raises(ModelError, match=r"^website\.yaml: rules\[0\] \(pricing_page\)\.points"):
        load_model_file(path)


def test_load_model_file_missing(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such file") as caught:
        load_model_file(tmp_path / "nope.yaml")
    assert "nope.yaml" in caught.value.message
    assert caught.value.code == "invalid_model"
