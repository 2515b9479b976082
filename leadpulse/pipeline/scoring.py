"""Scoring inside the writer's transactions: load a subject's state, apply, save, book.

A subject is the lead when the visitor is identified, else the visitor itself; anonymous
visitors are scored too, so a popup can appear before anyone is known.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.engine import Connection, Engine

from leadpulse.core import clock
from leadpulse.core.errors import InvalidInput
from leadpulse.core.types import EventRecord, VisitContext
from leadpulse.scoring import Entry, Happening, Published, Score, Scorer, State, empty_state
from leadpulse.scoring.parse import parse_model
from leadpulse.scoring.state import HELD
from leadpulse.scoring.visit import enrich, event_fields, happening, scoring_traits
from leadpulse.store import events as event_store
from leadpulse.store import leads as lead_store
from leadpulse.store import locks
from leadpulse.store import scores as score_store
from leadpulse.store import subjects as subject_store
from leadpulse.store.events import Stored

log = logging.getLogger(__name__)

_RELOAD_SECONDS = 2.0
"""How often a server looks for models published by another process (the CLI)."""

_AVERAGES_SECONDS = 600.0
"""How often the sites' average session is measured again (over the last 30 days)."""

_AVERAGE_WINDOW_MS = 30 * 86_400_000


class ScoringStep:
    """The published models of this process and the glue between them and storage."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._clock = clock
        self._loaded_at = -_RELOAD_SECONDS
        self._signature: tuple[tuple[str, int], ...] = ()
        self._averages_at = -_AVERAGES_SECONDS
        self._averages: dict[str, dict[str, float]] = {}
        self.scorer = Scorer([])
        self.sources: list[tuple[str, int, str]] = []
        """(key, version, source) of the models `scorer` was built from."""

    def refresh(self, force: bool = False) -> Scorer:
        """The current scorer; reloads the models when they may have changed."""
        now = self._clock()
        if not (force or now - self._loaded_at >= _RELOAD_SECONDS):
            return self.scorer
        self._loaded_at = now
        with self._engine.connect() as conn:
            rows = score_store.active_models(conn)
            averaged = any(_uses_site_average(source) for _, _, source in rows)
            stale = averaged and (force or now - self._averages_at >= _AVERAGES_SECONDS)
            if stale:
                self._averages = _site_averages(conn)
                self._averages_at = now
        signature = tuple((key, version) for key, version, _ in rows)
        if signature != self._signature or stale:
            self.scorer = Scorer(readable(rows), self._averages)
            self.sources = rows
            self._signature = signature
        return self.scorer

    @property
    def averages(self) -> dict[str, dict[str, float]]:
        """The sites' averages the scorer compares with."""
        return self._averages

    @property
    def primary(self) -> str | None:
        """The model whose total is a lead's `score` (the first one published)."""
        return self._signature[0][0] if self._signature else None

    # -- inside writer units --------------------------------------------------------------

    def on_events(
        self,
        conn: Connection,
        scorer: Scorer,
        lead_id: int | None,
        visitor_id: int,
        site_key: str,
        ctx: VisitContext,
        records: list[EventRecord],
        now: int,
    ) -> tuple[dict[str, Score], str | None]:
        """Score a visitor's new events: the subject's scores, and its state as the text its
        row keeps, which the caller writes in the UPDATE that records the row's activity
        (`store.activity.record_activity`); None when no model is published."""
        if not scorer.models:
            return {}, None
        subject_visitor = None if lead_id is not None else visitor_id
        stored: State | None = self._load(conn, lead_id, subject_visitor)
        state = stored if stored is not None else empty_state()
        enriched = enrich(state, ctx, next((r.touch for r in records if r.touch), None))
        kept = stored is not None  # the object load_state keeps: not put again
        same = kept and not enriched  # a visitor's next event, most often
        traits = scoring_traits(state)
        entries: list[Entry] = []
        for record in sorted(records, key=_at) if len(records) > 1 else records:
            entries += scorer.apply_event(state, happening(record, ctx, site_key), traits, same)
        text = score_store.state_text(conn, lead_id, subject_visitor, state, stored=kept)
        score_store.add_entries(conn, lead_id, subject_visitor, entries)
        scores = scorer.score(state, now)
        if lead_id is not None and entries:
            self.remember(conn, lead_id, scores)
        return scores, text

    def on_traits(
        self, conn: Connection, scorer: Scorer, lead_id: int, traits: dict[str, Any], now: int
    ) -> dict[str, Score]:
        """The lead's traits changed: state rules (fit points) follow."""
        if not scorer.models:
            return {}
        state: State = self._load(conn, lead_id, None) or empty_state()
        state["sent"] = traits
        entries = scorer.apply_traits(state, scoring_traits(state), now)
        score_store.save_state(conn, lead_id, None, state)
        score_store.add_entries(conn, lead_id, None, entries)
        scores = scorer.score(state, now)
        self.remember(conn, lead_id, scores)
        return scores

    def on_attach(
        self, conn: Connection, scorer: Scorer, visitor_id: int, lead_id: int, now: int
    ) -> None:
        """A visitor was identified: its state and ledger move to the lead."""
        theirs = self._load(conn, None, visitor_id)
        score_store.give_visitor_ledger_to_lead(conn, visitor_id, lead_id)
        if theirs is None:
            return
        score_store.drop_visitor_state(conn, visitor_id)
        self._join(conn, scorer, lead_id, theirs, now)

    def on_merge(
        self, conn: Connection, scorer: Scorer, from_lead: int, into_lead: int, now: int
    ) -> None:
        theirs = self._load(conn, from_lead, None)
        score_store.move_lead_ledger(conn, from_lead, into_lead)
        if theirs is None:
            return
        score_store.drop_lead_state(conn, from_lead)
        self._join(conn, scorer, into_lead, theirs, now)

    def _join(
        self, conn: Connection, scorer: Scorer, lead_id: int, theirs: State, now: int
    ) -> None:
        mine = self._load(conn, lead_id, None)
        entries: list[Entry] = []
        merged = theirs
        if mine is not None:
            merged, entries = scorer.merge(mine, theirs, now)
        score_store.save_state(conn, lead_id, None, merged)
        score_store.add_entries(conn, lead_id, None, entries)

    def pin_stage(
        self, conn: Connection, lead_id: int, model: str, stage: str | None, now: int
    ) -> dict[str, Score]:
        """Hold the lead at a stage of a model (or let go with `None`). A stage the model does
        not have (a typo in an automation) is logged and left alone."""
        stages = next((p.model.stages for p in self.scorer.models if p.model.key == model), ())
        state: State = self._load(conn, lead_id, None) or empty_state()
        if stage is None or any(name == stage for name, _ in stages):
            Scorer.pin_stage(state, model, stage)
        else:
            log.warning("no stage %r in model %r: the lead's stage is left as it is", stage, model)
        return self._keep(conn, lead_id, state, [], now)

    def on_scenario(
        self, conn: Connection, lead_id: int, scenario: str, entered: bool, now: int
    ) -> None:
        """A lead entered or left a scenario run: its local models start or stop counting."""
        scorer = self.scorer
        if not any(p.model.scope.scenario == scenario for p in scorer.models):
            return
        state: State = self._load(conn, lead_id, None) or empty_state()
        entries: list[Entry] = []
        if entered:
            entries = scorer.enter_scenario(state, scenario, now)
            entries += scorer.apply_traits(state, scoring_traits(state), now)
        else:
            scorer.leave_scenario(state, scenario, now)
        self._keep(conn, lead_id, state, entries, now)

    def _keep(
        self, conn: Connection, lead_id: int, state: State, entries: list[Entry], now: int
    ) -> dict[str, Score]:
        score_store.save_state(conn, lead_id, None, state)
        score_store.add_entries(conn, lead_id, None, entries)
        scores = self.scorer.score(state, now)
        self.remember(conn, lead_id, scores)
        return scores

    @staticmethod
    def _load(conn: Connection, lead_id: int | None, visitor_id: int | None) -> State | None:
        """The subject's state, read under its lock (store.locks): this unit will change it."""
        locks.hold(conn, locks.subject(lead_id, visitor_id))
        state: State | None = score_store.load_state(conn, lead_id, visitor_id, kept=True)
        return state

    def remember(self, conn: Connection, lead_id: int, scores: dict[str, Score]) -> None:
        remember(conn, lead_id, scores, self.primary)


def remember(conn: Connection, lead_id: int, scores: dict[str, Score], primary: str | None) -> None:
    """Keep the lead's scores on its row; the `primary` model's total is its `score`."""
    total = scores[primary].total if primary in scores else 0.0
    lead_store.set_scores(conn, lead_id, total, {k: s.to_dict() for k, s in scores.items()})


def readable(rows: list[tuple[str, int, str]]) -> list[Published]:
    """The stored models that still parse. One that does not (stored by an older release with
    other rules) is logged and left out, rather than stopping collection for every site."""
    published = []
    for key, version, source in rows:
        try:
            published.append(Published(parse_model(source, f"{key} v{version}"), version))
        except InvalidInput as exc:
            log.error("scoring model %s v%s is not used: %s", key, version, exc.message)
    return published


def _uses_site_average(source: str) -> bool:
    return "site_average" in source


def _site_averages(conn: Connection) -> dict[str, dict[str, float]]:
    since = clock.now_ms() - _AVERAGE_WINDOW_MS
    keys = subject_store.site_keys(conn)
    measured = event_store.session_averages(conn, since)
    return {keys[site_id]: values for site_id, values in measured.items() if site_id in keys}


def _at(record: EventRecord) -> int:
    return record.ts


@dataclass(frozen=True, slots=True)
class Replayed:
    """One subject scored again from its stored events, not yet kept."""

    subject: int
    seen: str | None
    """Its state as stored when its events were read: the replay is kept only if it still
    has that state."""
    state: State
    entries: list[Entry]
    events: int


def replay(
    conn: Connection,
    scorer: Scorer,
    subjects: Sequence[int],
    *,
    leads: bool,
    site_keys: Mapping[int, str],
    now: int,
) -> list[Replayed]:
    """Score a page of leads (or of anonymous visitors) again from their stored events — a
    rescore's first half. It only reads (the page in a few statements), so it can run outside
    the writer, in another process; `keep` writes the result. What events do not make (stages
    held by hand, scenario runs) is carried over.

    The state is read before the events: a change that lands in between shows as a changed
    state when the replay is kept. A visitor that a lead has now is left out: its events and
    ledger are the lead's.
    """
    if not leads:
        subjects = subject_store.still_anonymous(conn, subjects)
    before = score_store.stored_states(conn, subjects, leads=leads)
    sent = {s: lead_store.traits_of(conn, s) for s in subjects} if leads else {}
    stored = event_store.events_by_subject(conn, subjects, leads=leads)
    return [
        _replay_one(scorer, s, before.get(s), sent.get(s), stored[s], site_keys, now)
        for s in subjects
    ]


def keep(
    conn: Connection,
    scorer: Scorer,
    page: list[Replayed],
    *,
    leads: bool,
    site_keys: Mapping[int, str],
    now: int,
    primary: str | None,
) -> int:
    """A rescore's second half, in a writer unit: under the subjects' locks, each replay
    replaces its subject's state and ledger — unless an event, an identify or a trait change
    reached the subject after its replay read it; such a subject is replayed again here.
    Returns how many events were replayed."""
    subjects = [r.subject for r in page]
    pairs = [(s, None) if leads else (None, s) for s in subjects]
    locks.hold(conn, *(locks.subject(lead_id, visitor_id) for lead_id, visitor_id in pairs))
    if not leads:  # a visitor identified meanwhile: its events and ledger are its lead's now
        anonymous = set(subject_store.still_anonymous(conn, subjects))
        page = [r for r in page if r.subject in anonymous]
        subjects = [r.subject for r in page]
    stored = score_store.stored_states(conn, subjects, leads=leads)
    changed = [r.subject for r in page if stored.get(r.subject) != r.seen]
    if changed:
        again = {r.subject: r for r in replay(conn, scorer, changed, leads=leads,
                                              site_keys=site_keys, now=now)}  # fmt: skip
        page = [again.get(r.subject, r) for r in page]
    score_store.clear_ledgers(conn, subjects, leads=leads)
    for r in page:
        lead_id, visitor_id = (r.subject, None) if leads else (None, r.subject)
        score_store.save_state(conn, lead_id, visitor_id, r.state)
        score_store.add_entries(conn, lead_id, visitor_id, r.entries)
        if leads:
            remember(conn, r.subject, scorer.score(r.state, now), primary)
    return sum(r.events for r in page)


def _replay_one(
    scorer: Scorer,
    subject: int,
    seen: str | None,
    sent: dict[str, Any] | None,
    rows: list[Stored],
    site_keys: Mapping[int, str],
    now: int,
) -> Replayed:
    state: State = empty_state() | _held(seen)
    if sent is not None:
        state["sent"] = sent
    entries = scorer.apply_traits(state, scoring_traits(state), rows[0].ts if rows else now)
    # where a scenario run started, its local models' trait rules were looked at (live)
    starts = sorted(window[0] for window in state.get("scenarios", {}).values())
    found = state.setdefault("enrichment", {})
    traits = scoring_traits(state)
    visit: tuple[str | None, ...] = ()  # what the previous event enriched: most repeat it
    for row in rows:
        while starts and row.ts > starts[0]:
            entries += scorer.apply_traits(state, traits, starts.pop(0))
        here = (row.country, row.browser, row.device, row.channel)
        if here != visit:
            visit = here
            if _enrich_stored(found, row):
                traits = scoring_traits(state)
        entries += scorer.apply_event(state, _replayed(row, site_keys.get(row.site_id, "")), traits)
    for start in starts:
        entries += scorer.apply_traits(state, traits, start)
    entries += scorer.apply_traits(state, traits, now)
    return Replayed(subject, seen, state, entries, len(rows))


def _held(stored: str | None) -> State:
    """What a stored state holds that events do not make; most have none, so most states are
    not parsed at all."""
    if stored is None or not any(f'"{k}"' in stored for k in HELD):
        return {}
    old = orjson.loads(stored)
    return {k: old[k] for k in HELD if k in old}


def _enrich_stored(found: dict[str, Any], row: Stored) -> bool:
    """`enrich` for a stored event (which keeps country, browser and device, and its touch);
    whether anything changed."""
    changed = False
    for name, value in (("country", row.country), ("browser", row.browser),
                        ("device", row.device)):  # fmt: skip
        if value is not None and found.get(name) != value:
            found[name] = value
            changed = True
    if row.channel is not None and "channel" not in found:
        found |= {"channel": row.channel, "source": row.source, "medium": row.medium,
                  "campaign": row.campaign, "keyword": row.keyword,
                  "landing_page": row.url}  # fmt: skip
        changed = True
    return changed


def _replayed(row: Stored, site_key: str) -> Happening:
    """`happening` for a stored event."""
    fields = event_fields(row.url, row.referrer, row.title, event_store.properties_of(row),
                     row.country, row.browser, row.device, None)  # fmt: skip
    if row.channel is not None:
        fields |= {"channel": row.channel, "source": row.source, "medium": row.medium,
                   "campaign": row.campaign, "keyword": row.keyword}  # fmt: skip
    return Happening(row.uid, row.type, row.ts, row.session_id, fields, site_key)
