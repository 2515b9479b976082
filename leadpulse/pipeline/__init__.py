"""The one place that composes the stages.

collect (decoded batch) → enrich (device, place, attribution) → store via the group-committing
writer → identity (visitor ↔ lead) → scoring (`pipeline.scoring`), all inside one transaction
per group of requests. Automations slot in after scoring. The web layer and the CLI call only
this package and read-only store queries.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from typing import Any

from sqlalchemy.engine import Connection, Engine

from leadpulse import identity
from leadpulse.collect.guard import normalise_domain
from leadpulse.collect.schema import Batch, Event
from leadpulse.core import clock
from leadpulse.core.errors import Conflict, InvalidInput, NotFound, Unauthorized
from leadpulse.core.keys import hash_key, new_secret_key, new_write_key
from leadpulse.core.settings import Settings
from leadpulse.core.types import Contact, EventRecord, Site, Touch, VisitContext
from leadpulse.enrich import (
    GeoLookup,
    check_email,
    check_phone,
    classify,
    parse_user_agent,
    truncate_ip,
)
from leadpulse.enrich.quality import contact_quality
from leadpulse.pipeline.accounts import Accounts
from leadpulse.pipeline.automate import AutomateStep
from leadpulse.pipeline.engage import EngageStep
from leadpulse.pipeline.outbox import Dispatcher
from leadpulse.pipeline.replayers import InProcess, Pool, Replayer
from leadpulse.pipeline.scoring import ScoringStep
from leadpulse.scoring import Score, Scorer, as_dicts
from leadpulse.store import engage as engage_store
from leadpulse.store import events as event_store
from leadpulse.store import leads as lead_store
from leadpulse.store import locks
from leadpulse.store import owners as owner_store
from leadpulse.store import rescores as rescore_store
from leadpulse.store import retention as retention_store
from leadpulse.store import scores as score_store
from leadpulse.store import sites as site_store
from leadpulse.store import subjects as subject_store
from leadpulse.store import visitors as visitor_store
from leadpulse.store.activity import combine_touches, record_activity
from leadpulse.store.visitors import VisitorRef
from leadpulse.store.writer import Writer

_classify = lru_cache(maxsize=16_384)(classify)
"""Landing URLs and referrers repeat across visitors; classification is pure."""

_FUTURE_SLACK_MS = 5 * 60_000
"""Client clocks run fast; a timestamp further ahead than this is taken as 'received now'."""


@dataclass(frozen=True, slots=True)
class CollectResult:
    accepted: int
    duplicates: int
    visitor: int
    lead: int | None
    scores: dict[str, Score]
    decisions: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class IdentifyResult:
    visitor: int
    lead: int | None
    created: bool
    merged: tuple[int, ...]
    scores: dict[str, Score]


@dataclass(frozen=True, slots=True)
class UpsertResult:
    lead: int
    created: bool
    merged: tuple[int, ...]


_New = tuple[str, VisitorRef, list[EventRecord], bool]
"""A visitor's events stored: (anonymous id, visitor, the new events, whether it was created)."""
_Stored = tuple[str, VisitorRef, int, dict[str, Score], list[dict[str, Any]]]
"""What the collect unit gives back per visitor: id, ref, accepted, scores, decisions."""


_VISITOR_CACHE_SECONDS = 3600.0
"""How long a visitor is remembered between its requests. Shorter than the quiet time after
which retention may delete an anonymous visitor (`prune`, at least a day), so a remembered one
still exists; another worker's changes are read under the visitor's lock anyway."""


class _Visitors(OrderedDict[tuple[int, str], tuple[VisitorRef, float]]):
    """The visitors of the last requests, least recently used out first."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def find(self, key: tuple[int, str]) -> VisitorRef | None:
        found = self.get(key)
        if found is None or time.monotonic() - found[1] > _VISITOR_CACHE_SECONDS:
            return None
        return found[0]

    def put(self, key: tuple[int, str], value: VisitorRef) -> None:
        self[key] = (value, time.monotonic())
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


class Pipeline:
    """Long-lived: owns the writer thread and the caches of one process."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.writer = Writer(engine, settings.commit_max_units, settings.writer_connections)
        self.geo = GeoLookup(settings.region_database)
        self._sites: dict[str, Site] = {}
        self._visitors = _Visitors(100_000)
        self._visit_context = lru_cache(maxsize=16_384)(self._enrich_visit)
        self.scoring = ScoringStep(engine)
        self.engage = EngageStep(engine)
        self.automate = AutomateStep(engine, self.scoring)
        self.dispatcher = Dispatcher(engine, self.writer, settings)
        self.accounts = Accounts(engine, self.writer)

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start the writer; the server passes its event loop (see store.writer)."""
        self.writer.start(loop)

    def start_dispatcher(self) -> None:
        """Deliver the outbox from this process, and do what time brings every minute (the
        server does; the CLI leaves both to it)."""
        self.dispatcher.start(every_minute=self.tick)

    def tick(self) -> int:
        """What time alone brings: `inactive` automations that are due, and scenario steps whose
        wait is over. Returns the deliveries queued."""
        self.automate.refresh()
        now = clock.now_ms()

        def unit(conn: Connection) -> int:
            if not locks.try_hold(conn, "tick"):
                return 0  # another worker is doing this minute's work
            inactive = self.automate.check_inactivity(conn, now)
            return inactive + self.automate.run_scenarios(conn, now)

        queued = self.writer.run_sync(unit)
        if queued:
            self.dispatcher.wake()
        return queued

    def stop(self) -> None:
        self.dispatcher.stop()
        self.writer.stop()

    # -- sites and keys --------------------------------------------------------------------

    def add_site(self, name: str, domains: list[str], key: str | None = None) -> Site:
        """Register a website; its write key goes into the tracker snippet."""
        clean = sorted({normalise_domain(d) for d in domains})
        at = clock.now_ms()

        def unit(conn: Connection) -> Site:
            slug = key or _unique_slug(conn, name)
            if site_store.site_by_key(conn, slug) is not None:
                raise Conflict(f"a site with key {slug!r} exists already", field="key")
            return site_store.create_site(
                conn, key=slug, name=name, domains=clean, write_key=new_write_key(), at=at
            )

        return self.writer.run_sync(unit)

    def create_api_key(self, name: str) -> str:
        """A new secret key; it is shown once, only its hash is kept."""
        secret = new_secret_key()
        at = clock.now_ms()
        self.writer.run_sync(
            lambda conn: site_store.create_api_key(
                conn, name=name, prefix=secret[:12], key_hash=hash_key(secret), at=at
            )
        )
        return secret

    def revoke_api_key(self, name_or_prefix: str) -> int:
        at = clock.now_ms()
        return self.writer.run_sync(
            lambda conn: site_store.revoke_api_key(conn, name_or_prefix, at)
        )

    # -- reading the request ---------------------------------------------------------------

    def site_for_write_key(self, write_key: str) -> Site:
        site = self._sites.get(write_key)
        if site is None:
            with self.engine.connect() as conn:
                site = site_store.site_by_write_key(conn, write_key)
            if site is None:
                raise Unauthorized("unknown write key", field="write_key")
            self._sites[write_key] = site
        return site

    def visit_context(
        self, user_agent: str | None, ip: str | None, language: str | None
    ) -> VisitContext:
        """Device, place and truncated IP of a request; cached, as a visitor repeats them."""
        return self._visit_context(user_agent, ip, language)

    def _enrich_visit(
        self, user_agent: str | None, ip: str | None, language: str | None
    ) -> VisitContext:
        ua = parse_user_agent(user_agent)
        geo = self.geo.lookup(ip)
        return VisitContext(
            is_bot=ua.is_bot,
            bot_name=ua.bot_name,
            browser=ua.browser,
            os=ua.os,
            device=ua.device,
            country=geo.country,
            region=geo.region,
            city=geo.city,
            ip=truncate_ip(ip),
            language=language,
        )

    def _record(self, site: Site, event: Event, received_at: int) -> EventRecord:
        ts = received_at if event.ts is None else clock.from_datetime(event.ts)
        if ts > received_at + _FUTURE_SLACK_MS:
            ts = received_at
        touch = None
        if event.type == "page_view":
            attribution = _classify(event.url, event.referrer, site.domains)
            if attribution.is_touch:
                touch = Touch(
                    channel=attribution.channel,
                    source=attribution.source,
                    medium=attribution.medium,
                    campaign=attribution.campaign,
                    keyword=attribution.keyword,
                    landing_page=attribution.landing_page,
                    referrer_host=attribution.referrer_host,
                    at=ts,
                )
        properties = event.properties
        measures = {
            "engaged_ms": event.engaged_ms,
            "depth": event.depth,
            "intensity": event.intensity,
        }
        if any(v is not None for v in measures.values()):
            properties = {**properties, **{k: v for k, v in measures.items() if v is not None}}
        return EventRecord(
            uid=event.id,
            type=event.type,
            ts=ts,
            session_id=event.session_id,
            url=event.url,
            referrer=event.referrer,
            title=event.title,
            properties=properties,
            touch=touch,
        )

    # -- collect ---------------------------------------------------------------------------

    async def collect(self, site: Site, batch: Batch, ctx: VisitContext) -> CollectResult:
        received_at = clock.now_ms()
        groups: dict[str, list[EventRecord]] = {}
        seen: set[str] = set()
        for event in batch.events:
            if event.id in seen:
                continue  # an id twice in one batch: the first one counts, the other is a duplicate
            seen.add(event.id)
            anon = event.anonymous_id or batch.anonymous_id
            assert anon is not None  # checked when decoding
            groups.setdefault(anon, []).append(self._record(site, event, received_at))
        cached = {anon: self._visitors.find((site.id, anon)) for anon in groups}
        scorer = self.scoring.refresh()
        self.engage.refresh()
        self.automate.refresh()
        automations = self.automate.active(site.key)
        watching = self.automate.watching(site.key)
        queued = 0

        def store(conn: Connection) -> list[_New]:
            return [
                (anon, *_store_events(conn, site, anon, cached[anon], ctx, recs, received_at))
                for anon, recs in groups.items()
            ]

        def score(conn: Connection, kept: list[_New]) -> list[_Stored]:
            nonlocal queued
            out = []
            for anon, ref, new, created in kept:
                scores: dict[str, Score] = {}
                decisions: list[dict[str, Any]] = []
                if new and not ref.is_bot:
                    lead = ref.lead_id if watching else None
                    before = lead_store.scores_of(conn, lead) if lead is not None else {}
                    scores, state = self.scoring.on_events(
                        conn, scorer, ref.lead_id, ref.id, site.key, ctx, new, received_at
                    )
                    _record_seen(conn, ref, new, created, state)
                    if lead is not None:
                        after = as_dicts(scores)
                        queued += self.automate.on_change(
                            conn, automations, lead, before, after, new, received_at
                        )
                    decisions = self.engage.on_events(
                        conn, site, (ref.id, ref.lead_id, anon), ctx, new, scores, received_at
                    )
                elif new:  # a bot's: stored, not scored
                    _record_seen(conn, ref, new, created, None)
                out.append((anon, ref, len(new), scores, decisions))
            return out

        stored = await self.writer.run_in_two_steps(store, score)
        if queued:
            self.dispatcher.wake()
        accepted = 0
        for anon, ref, n, _, _ in stored:
            self._visitors.put((site.id, anon), ref)
            accepted += n
        _, first, _, scores, decisions = stored[0]
        return CollectResult(
            accepted=accepted,
            duplicates=len(batch.events) - accepted,
            visitor=first.id,
            lead=first.lead_id,
            scores=scores,
            decisions=decisions,
        )

    # -- identity --------------------------------------------------------------------------

    def contact(self, traits: dict[str, Any]) -> tuple[Contact, dict[str, Any]]:
        """Normalise the identity fields of traits; return them with the column values."""
        fields = identity.split_contact_fields(traits)
        email = check_email(fields["email"])
        phone_raw = fields["phone"]
        region = traits.get("country") if isinstance(traits.get("country"), str) else None
        phone = check_phone(phone_raw, region or self.settings.default_phone_region)
        contact = Contact(
            email=email.normalised if email.valid else None,
            phone=phone.e164 if phone.valid else None,
            external_id=fields["external_id"],
            quality=contact_quality(email, phone if phone_raw else None),
        )
        columns = {
            "email": email.normalised,
            "phone": phone.e164 or phone_raw,
            "external_id": fields["external_id"],
            "name": fields["name"],
            "company": fields["company"],
            "quality": contact.quality,
        }
        return contact, columns

    async def identify(
        self, site: Site, anonymous_id: str, traits: dict[str, Any], ctx: VisitContext
    ) -> IdentifyResult:
        at = clock.now_ms()
        contact, columns = self.contact(traits)
        scorer = self.scoring.refresh()
        self.automate.refresh()

        def unit(
            conn: Connection,
        ) -> tuple[VisitorRef, bool, tuple[int, ...], dict[str, Score]]:
            found, _ = visitor_store.get_or_create_visitor(conn, site.id, anonymous_id, ctx, at)
            ref = visitor_store.hold_visitor(conn, found)
            assert ref is not None  # found or created in this transaction, under its lock
            if ref.is_bot:
                return ref, False, (), {}
            lead_id, created, merged = self._land(
                conn, scorer, contact, columns, traits, ref.lead_id, "identify", at
            )
            if ref.lead_id != lead_id:
                _attach(conn, ref.id, lead_id, at)
                self.scoring.on_attach(conn, scorer, ref.id, lead_id, at)
            if ctx.country:
                lead_store.fill_country(conn, lead_id, ctx.country)
            scores = self._rescore_traits(conn, scorer, lead_id, at, site.key)
            return VisitorRef(ref.id, lead_id, ref.is_bot), created, merged, scores

        ref, created, merged, scores = await self.writer.run(unit)
        if merged:
            self._visitors.clear()
        self._visitors.put((site.id, anonymous_id), ref)
        return IdentifyResult(
            visitor=ref.id, lead=ref.lead_id, created=created, merged=merged, scores=scores
        )

    def upsert_lead(self, traits: dict[str, Any], source: str | None) -> UpsertResult:
        """Create or update a lead from a CRM record or an ad platform's lead form (S3.8)."""
        at = clock.now_ms()
        if source and not traits.get("source"):
            traits = {**traits, "source": source}
        contact, columns = self.contact(traits)
        scorer = self.scoring.refresh()
        self.automate.refresh()

        def unit(conn: Connection) -> tuple[int, bool, tuple[int, ...]]:
            landed = self._land(conn, scorer, contact, columns, traits, None, "upsert", at)
            self._rescore_traits(conn, scorer, landed[0], at, None)
            return landed

        lead_id, created, merged = self.writer.run_sync(unit)
        if merged:
            self._visitors.clear()
        return UpsertResult(lead=lead_id, created=created, merged=merged)

    def upsert_many(self, records: list[dict[str, Any]], source: str | None) -> tuple[int, int]:
        """Upsert many leads in one transaction (imports); returns (created, updated)."""
        at = clock.now_ms()
        prepared = []
        for record in records:
            traits = {**record, "source": source} if source and not record.get("source") else record
            prepared.append((*self.contact(traits), traits))

        scorer = self.scoring.refresh()
        self.automate.refresh()

        def unit(conn: Connection) -> tuple[int, int, bool]:
            created = merged_any = 0
            for contact, columns, traits in prepared:
                lead_id, new, merged = self._land(
                    conn, scorer, contact, columns, traits, None, "import", at
                )
                self._rescore_traits(conn, scorer, lead_id, at, None)
                created += new
                merged_any += bool(merged)
            return created, len(prepared) - created, bool(merged_any)

        created, updated, merged = self.writer.run_sync(unit)
        if merged:
            self._visitors.clear()
        return created, updated

    def edit_lead(self, lead_id: int, traits: dict[str, Any]) -> dict[str, Score]:
        """Change a lead's traits by hand (S4.2: a phone or profile a salesperson learned).
        Contact fields go to their columns; fit rules and automations follow, as after an
        upsert. An email or phone that another lead holds is refused rather than merged."""
        at = clock.now_ms()
        scorer = self.scoring.refresh()
        self.automate.refresh()

        def unit(conn: Connection) -> dict[str, Score]:
            alive = lead_store.hold_survivor(conn, lead_id)
            current = None if alive is None else lead_store.get_lead(conn, alive)
            if alive is None or current is None:
                raise NotFound(f"no lead {lead_id}", field="id")
            merged = identity.merge_traits(current["traits"], traits)
            contact, columns = self.contact(merged)
            for field in ("email", "phone"):
                if traits.get(field) and getattr(contact, field) is None:
                    raise InvalidInput(f"{traits[field]!r} is not a valid {field}", field=field)
            keys = identity.identity_keys(contact)
            for (kind, value), other in lead_store.owners_of(conn, keys).items():
                if other != alive:
                    raise Conflict(f"lead {other} has the {kind} {value} already", field=kind)
            values = {k: v for k, v in columns.items() if v is not None}
            lead_store.update_lead(conn, alive, {**values, "traits": merged}, at)
            lead_store.claim_identities(conn, alive, keys)
            return self._rescore_traits(conn, scorer, alive, at, None)

        return self.writer.run_sync(unit)

    def assign(self, lead_ids: list[int], manager_key: str) -> int:
        """Give leads to a sales manager by hand; returns how many were assigned."""

        def unit(conn: Connection) -> int:
            found = owner_store.manager(conn, key=manager_key)
            if found is None:
                raise NotFound(f"no manager {manager_key!r}", field="manager")
            assigned = 0
            for lead_id in lead_ids:
                alive = lead_store.survivor(conn, lead_id)
                if alive is not None:
                    owner_store.set_owner(conn, alive, found["id"])
                    assigned += 1
            return assigned

        return self.writer.run_sync(unit)

    def add_outcome(self, lead_id: int, values: dict[str, Any]) -> int:
        at = clock.now_ms()

        def unit(conn: Connection) -> int:
            alive = lead_store.hold_survivor(conn, lead_id)
            if alive is None:
                raise NotFound(f"no lead {lead_id}")
            return lead_store.add_outcome(conn, alive, values, at)

        return self.writer.run_sync(unit)

    def set_stage(self, lead_id: int, model: str, stage: str | None) -> dict[str, Any]:
        """Hold a lead at a stage of a model whatever its points say (a salesperson has
        qualified it), or let the points decide again (`None`). Automations watching the
        stage fire as for any change. Returns the lead's scores."""
        scorer = self.scoring.refresh()
        self.automate.refresh()
        published = next((p.model for p in scorer.models if p.model.key == model), None)
        if published is None:
            raise NotFound(f"no model {model!r}", field="model")
        names = [name for name, _ in published.stages]
        if stage is not None and stage not in names:
            listed = ", ".join(names) if names else "none (it has no stages)"
            raise InvalidInput(f"model {model!r} has no stage {stage!r}; its stages: {listed}",
                               field="stage")  # fmt: skip
        at = clock.now_ms()

        def unit(conn: Connection) -> dict[str, Any]:
            alive = lead_store.hold_survivor(conn, lead_id)
            if alive is None:
                raise NotFound(f"no lead {lead_id}", field="id")
            before = lead_store.scores_of(conn, alive)
            scores = self.scoring.pin_stage(conn, alive, model, stage, at)
            after = as_dicts(scores)
            if self.automate.on_change(
                conn, self.automate.active(None), alive, before, after, [], at
            ):
                self.dispatcher.wake()
            return after

        return self.writer.run_sync(unit)

    # -- scoring models ----------------------------------------------------------------------

    def publish_model(self, key: str, source: str) -> int:
        """Store a new version of a model (already validated); returns the version."""
        at = clock.now_ms()
        version = self.writer.run_sync(
            lambda conn: score_store.publish_model(conn, key, source, at)
        )
        self.scoring.refresh(force=True)
        return version

    def delete_model(self, key: str) -> int:
        at = clock.now_ms()
        n = self.writer.run_sync(lambda conn: score_store.delete_model(conn, key, at))
        self.scoring.refresh(force=True)
        return n

    # -- offers and personalisations ----------------------------------------------------------

    def save_definition(self, kind: str, key: str, source: str) -> int:
        """Store a new version of an offer, personalisation or automation (already validated)."""
        at = clock.now_ms()
        version = self.writer.run_sync(
            lambda conn: engage_store.publish(conn, kind, key, source, at)
        )
        self.engage.refresh(force=True)
        self.automate.refresh(force=True)
        return version

    def delete_definition(self, kind: str, key: str) -> int:
        at = clock.now_ms()
        n = self.writer.run_sync(lambda conn: engage_store.delete(conn, kind, key, at))
        self.engage.refresh(force=True)
        self.automate.refresh(force=True)
        return n

    def rescore(
        self,
        batch: int = 200,
        progress: Callable[[int, int], None] | None = None,
        processes: int = 1,
    ) -> tuple[int, int]:
        """Replay every subject's events through the current models, a batch of subjects per
        transaction, so collection goes on between batches. Returns (subjects, events).

        With `processes` above 1 (and more than one batch to do), pages are replayed and kept
        by that many processes side by side; how far the run got is recorded here, in page
        order (`pipeline.replayers`).

        Where it has got to is committed with each batch: a rescore interrupted (a crash, a
        Ctrl-C) resumes there the next time, as long as the models are still the same.
        """
        scorer = self.scoring.refresh(force=True)
        models = ",".join(f"{p.model.key}@{p.version}" for p in scorer.models)
        now = clock.now_ms()
        with self.engine.connect() as conn:
            keys = subject_store.site_keys(conn)
            run = rescore_store.unfinished(conn)
            several = processes > 1 and subject_store.count_subjects(conn) > batch
        if run is None or run.models != models:
            run = self.writer.run_sync(lambda conn: rescore_store.start(conn, models, now))
        phases = {
            "lead": lambda c, after: subject_store.lead_ids_after(c, after, batch),
            "visitor": lambda c, after: [
                v for v, _ in subject_store.anonymous_visitors_after(c, after, batch)
            ],
        }
        primary = self.scoring.primary
        replayer: Replayer = InProcess(self.engine, self.writer, scorer, primary, keys, now)
        if several:
            sources, averages = self.scoring.sources, self.scoring.averages
            replayer = Pool(self.settings.database_url, sources, averages, primary, keys, now,
                            processes)  # fmt: skip
        try:
            for phase in ("lead", "visitor"):
                if phase == "lead" and run.phase == "visitor":
                    continue
                start = run.after_id if run.phase == phase else 0
                pages = self._pages(phases[phase], start)
                for page, events in replayer.pages(pages, leads=phase == "lead"):
                    run = replace(run, phase=phase, after_id=page[-1],
                                  subjects=run.subjects + len(page),
                                  events=run.events + events)  # fmt: skip
                    self.writer.run_sync(partial(rescore_store.advance, run=run))
                    if progress is not None:
                        progress(run.subjects, run.events)
        finally:
            replayer.close()
        finished = run
        self.writer.run_sync(lambda conn: rescore_store.finish(conn, finished.id, clock.now_ms()))
        return run.subjects, run.events

    def _pages(
        self, fetch: Callable[[Connection, int], list[int]], after: int
    ) -> Iterator[list[int]]:
        while True:
            with self.engine.connect() as conn:
                page = fetch(conn, after)
            if not page:
                return
            yield page
            after = page[-1]

    def prune_anonymous(self, days: float, batch: int = 500) -> tuple[int, int]:
        """Retention: delete anonymous visitors quiet for `days`, with their raw events, a
        batch per transaction so collection goes on. Returns (visitors, events) deleted."""
        if days < 1:
            raise InvalidInput("keep anonymous visitors at least 1 day", field="days")
        before = clock.now_ms() - int(days * 86_400_000)
        visitors = events = 0
        quiet = partial(retention_store.quiet_anonymous, seen_before=before, limit=batch)
        for ids in self._pages(lambda conn, after: quiet(conn, after=after), 0):
            unit = partial(retention_store.delete_anonymous, ids=ids, seen_before=before)
            gone = self.writer.run_sync(unit)
            visitors, events = visitors + gone[0], events + gone[1]
        self._visitors.clear()
        return visitors, events

    def erase_lead(self, lead_id: int) -> int:
        def unit(conn: Connection) -> int:
            alive = lead_store.hold_survivor(conn, lead_id)
            if alive is None:
                raise NotFound(f"no lead {lead_id}")
            return lead_store.erase_lead(conn, alive)

        removed = self.writer.run_sync(unit)
        self._visitors.clear()
        return removed

    def _land(
        self,
        conn: Connection,
        scorer: Scorer,
        contact: Contact,
        columns: dict[str, Any],
        traits: dict[str, Any],
        visitor_lead: int | None,
        reason: str,
        at: int,
    ) -> tuple[int, bool, tuple[int, ...]]:
        """Find or create the lead for a contact, merging every other lead that matches it."""
        keys = identity.identity_keys(contact)
        owners = lead_store.hold_owners(conn, keys)
        found = identity.resolve(keys, owners, visitor_lead)
        values = {k: v for k, v in columns.items() if v is not None}
        if found.lead_id is None:
            lead_id = lead_store.create_lead(
                conn,
                {**values, "traits": traits, "source": traits.get("source"), "last_seen_at": at},
                at,
            )
            lead_store.claim_identities(conn, lead_id, keys)
            return lead_id, True, ()
        lead_id = found.lead_id
        current = lead_store.get_lead(conn, lead_id)
        assert current is not None
        merged_traits = current["traits"]
        for other in found.merge:
            snapshot = lead_store.merge_lead(conn, other, lead_id, f"{reason}: same person", at)
            self.scoring.on_merge(conn, scorer, other, lead_id, at)
            merged_traits = identity.merge_traits(snapshot.get("traits") or {}, merged_traits)
            _combine_touches(conn, lead_id, snapshot)
        merged_traits = identity.merge_traits(merged_traits, traits)
        update = {**values, "traits": merged_traits}
        if not (contact.email and contact.phone):
            # quality describes the lead's contact data, not only what this call sent
            kept = {"email": values.get("email") or current["email"],
                    "phone": values.get("phone") or current["phone"]}  # fmt: skip
            update["quality"] = self.contact(kept)[1]["quality"]
        if traits.get("source") and not current["source"]:
            update["source"] = traits["source"]
        lead_store.update_lead(conn, lead_id, update, at)
        lead_store.claim_identities(conn, lead_id, keys)
        return lead_id, False, found.merge

    def _rescore_traits(
        self, conn: Connection, scorer: Scorer, lead_id: int, at: int, site_key: str | None
    ) -> dict[str, Score]:
        """The lead's traits (or its visitors) changed: fit rules follow, and automations see
        the change — scores before (as last remembered) against after."""
        row = lead_store.get_lead(conn, lead_id)
        assert row is not None
        traits: dict[str, Any] = row["traits"]
        automations = self.automate.active(site_key)
        watching = self.automate.watching(site_key)
        before = lead_store.scores_of(conn, lead_id) if watching else {}
        scores = self.scoring.on_traits(conn, scorer, lead_id, traits, at)
        if watching:
            after = as_dicts(scores)
            if self.automate.on_change(conn, automations, lead_id, before, after, [], at):
                self.dispatcher.wake()
        return scores


def _store_events(
    conn: Connection,
    site: Site,
    anon: str,
    cached: VisitorRef | None,
    ctx: VisitContext,
    records: list[EventRecord],
    received_at: int,
) -> tuple[VisitorRef, list[EventRecord], bool]:
    """Store a visitor's events; return the visitor, the events that were new and whether
    the visitor was created. Its row's activity is recorded later, with its scoring state
    (`_record_seen`)."""
    created = False
    ref = None if cached is None else visitor_store.hold_visitor(conn, cached)
    if ref is None:  # not remembered, or deleted since (its lead erased on another worker)
        ref, created = visitor_store.get_or_create_visitor(conn, site.id, anon, ctx, received_at)
        ref = visitor_store.hold_visitor(conn, ref)
        assert ref is not None  # created in this transaction, under its lock
    inserted = event_store.insert_events(
        conn,
        site_id=site.id,
        visitor_id=ref.id,
        lead_id=None if ref.is_bot else ref.lead_id,
        ctx=ctx,
        records=records,
        received_at=received_at,
    )
    return ref, [r for r in records if r.uid in inserted], created


def _record_seen(
    conn: Connection, ref: VisitorRef, new: list[EventRecord], created: bool, state: str | None
) -> None:
    """The visitor's (and its lead's) last-seen time and touches after `new` events, with the
    subject's scoring `state` in the same UPDATE of its row (store.scores)."""
    touches = [r.touch for r in new if r.touch is not None]
    if created and not touches:
        touches = [_direct_touch(new[0])]
    last = max(r.ts for r in new)
    lead_id = None if ref.is_bot else ref.lead_id
    record_activity(conn, "visitors", ref.id, last, touches, state if lead_id is None else None)
    if lead_id is not None:
        record_activity(conn, "leads", lead_id, last, touches, state)


def _unique_slug(conn: Connection, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:56] or "site"
    slug, n = base, 1
    while site_store.site_by_key(conn, slug) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _direct_touch(record: EventRecord) -> Touch:
    landing = record.url.split("?", 1)[0].split("#", 1)[0] if record.url else None
    return Touch("direct", None, None, None, None, landing, None, record.ts)


def _attach(conn: Connection, visitor_id: int, lead_id: int, at: int) -> None:
    """Attach a visitor and every earlier event of it to a lead."""
    visitor_store.attach(conn, visitor_id, lead_id)
    event_store.move_visitor_events(conn, visitor_id, lead_id)
    record_activity(conn, "leads", lead_id, at, [])
    combine_touches(conn, "leads", lead_id, visitor_store.touches_of(conn, visitor_id))


def _combine_touches(conn: Connection, lead_id: int, snapshot: dict[str, Any]) -> None:
    touches = [Touch(**t) for t in (snapshot.get("first_touch"), snapshot.get("last_touch")) if t]
    combine_touches(conn, "leads", lead_id, touches)
