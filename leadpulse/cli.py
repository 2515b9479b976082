"""The `leadpulse` command line: serve, demo, migrate, sites, keys, models, offers,
personalisations, import, export, scoring files and learning from outcomes.

Errors are one readable line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import csv
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy.exc import OperationalError

from leadpulse.automate import parse_automation
from leadpulse.automate.segments import parse_segment
from leadpulse.collect.csvfile import Row, RowError, open_csv, read_rows
from leadpulse.core import clock
from leadpulse.core.errors import ConfigError, InvalidInput, LeadpulseError
from leadpulse.core.settings import Settings, load
from leadpulse.engage import Kind, parse_definition
from leadpulse.pipeline import Pipeline
from leadpulse.pipeline.offline import score_csv
from leadpulse.pipeline.spend import read_spend, save_spend
from leadpulse.scoring.parse import load_model_file, parse_model
from leadpulse.store import engage as engage_store
from leadpulse.store import history as history_store
from leadpulse.store import learning as learning_store
from leadpulse.store import migrate as migrations
from leadpulse.store import segments as segment_store
from leadpulse.store import sites as site_store
from leadpulse.store.engine import create_engine, is_sqlite
from leadpulse.store.lead_list import LeadFilter, list_leads
from leadpulse.store.subjects import count_subjects

if TYPE_CHECKING:
    from leadpulse.learn.run import Learned

app = typer.Typer(
    help="Leadpulse: self-hosted lead scoring and lead management.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
site_app = typer.Typer(help="Websites that send events.", no_args_is_help=True)
key_app = typer.Typer(help="Secret API keys for the admin API.", no_args_is_help=True)
model_app = typer.Typer(help="Scoring models (YAML or JSON files).", no_args_is_help=True)
user_app = typer.Typer(help="Users of the dashboard.", no_args_is_help=True)
spend_app = typer.Typer(help="Advertising spend, for cost per lead and per sale.",
                        no_args_is_help=True)  # fmt: skip
app.add_typer(site_app, name="site")
app.add_typer(key_app, name="key")
app.add_typer(model_app, name="model")
app.add_typer(user_app, name="user")
app.add_typer(spend_app, name="spend")

out = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    return load()


@contextmanager
def _pipeline(migrate_first: bool = True) -> Iterator[Pipeline]:
    settings = _settings()
    engine = create_engine(settings.database_url)
    if migrate_first:
        migrations.upgrade(engine)
    pipeline = Pipeline(settings, engine)
    pipeline.start()
    try:
        yield pipeline
    finally:
        pipeline.stop()
        engine.dispose()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    migrate: Annotated[bool, typer.Option(help="Apply pending migrations first.")] = True,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes sharing the port (PostgreSQL only).")
    ] = 1,
) -> None:
    """Start the server (collector, admin API)."""
    import uvicorn

    from leadpulse.web.app import create_app

    settings = _settings()
    settings = settings.replace(host=host or settings.host, port=port or settings.port)
    engine = create_engine(settings.database_url)
    if workers > 1 and is_sqlite(engine):
        raise ConfigError(
            "--workers above 1 needs PostgreSQL: a SQLite file has one writer "
            "(set LEADPULSE_DATABASE_URL=postgresql://…)",
            field="workers",
        )
    if migrate:
        migrations.upgrade(engine)
    engine.dispose()
    err.print(
        f"Leadpulse on http://{settings.host}:{settings.port}  (database {settings.database_url}"
        + (f", {workers} workers)" if workers > 1 else ")")
    )
    # Each worker process builds its own app from the environment (uvicorn's factory).
    target: Any = (
        "leadpulse.web.app:create_server_app" if workers > 1 else create_app(settings, server=True)
    )
    uvicorn.run(
        target,
        factory=workers > 1,
        workers=workers if workers > 1 else None,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        loop="uvloop",
        http="httptools",
        access_log=settings.log_level == "debug",
    )


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    settings = _settings()
    engine = create_engine(settings.database_url)
    before = migrations.current_revision(engine)
    migrations.upgrade(engine)
    after = migrations.current_revision(engine)
    out.print(f"database at revision {after}" + ("" if before == after else f" (was {before})"))


@site_app.command("add")
def site_add(
    name: Annotated[str, typer.Argument(help="A name people recognise, e.g. 'Window shop'.")],
    domain: Annotated[
        list[str] | None,
        typer.Option("--domain", "-d", help="Domain the tracker runs on (repeatable)."),
    ] = None,
    key: Annotated[str | None, typer.Option(help="Short key (default: from the name).")] = None,
) -> None:
    """Register a website and print its public write key."""
    with _pipeline() as pipeline:
        site = pipeline.add_site(name, domain or [], key)
    err.print(f"site [bold]{site.key}[/] ({', '.join(site.domains) or 'any domain'}); write key:")
    out.print(site.write_key, soft_wrap=True, highlight=False)


@site_app.command("list")
def site_list() -> None:
    """List the sites and their write keys."""
    with _pipeline() as pipeline, pipeline.engine.connect() as conn:
        sites = site_store.list_sites(conn)
    table = Table("key", "name", "domains", "write key")
    for s in sites:
        table.add_row(s.key, s.name, ", ".join(s.domains), s.write_key)
    out.print(table)


@key_app.command("create")
def key_create(
    name: Annotated[str, typer.Option(help="What the key is for, e.g. admin or crm-sync.")],
) -> None:
    """Create a secret API key; it is printed once and only its hash is stored."""
    with _pipeline() as pipeline:
        secret = pipeline.create_api_key(name)
    err.print(f"secret key [bold]{name}[/] (shown once, store it now):")
    out.print(secret, soft_wrap=True, highlight=False)


@key_app.command("revoke")
def key_revoke(
    name: Annotated[str, typer.Argument(help="The key's name or its first 12 characters.")],
) -> None:
    """Revoke a secret API key."""
    with _pipeline() as pipeline:
        n = pipeline.revoke_api_key(name)
    if n == 0:
        raise InvalidInput(f"no active key named or starting with {name!r}")
    out.print(f"revoked {n} key{'s' if n > 1 else ''}")


@key_app.command("list")
def key_list() -> None:
    """List API keys (names and prefixes, never the secrets)."""
    from leadpulse.core.clock import to_iso

    with _pipeline() as pipeline, pipeline.engine.connect() as conn:
        keys = site_store.list_api_keys(conn)
    table = Table("name", "prefix", "created", "revoked")
    for k in keys:
        table.add_row(k["name"], k["prefix"], to_iso(k["created_at"]), to_iso(k["revoked_at"]))
    out.print(table)


def _parse_map(items: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, trait = item.partition("=")
        if not sep or not column or not trait:
            raise InvalidInput(f"--map takes COLUMN=trait, got {item!r}", field="map")
        mapping[column] = trait
    return mapping


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="The address the user signs in with.")],
    role: Annotated[str, typer.Option(help="admin, marketer or sales.")],
    manager: Annotated[
        str | None, typer.Option(help="A sales user's manager key (/v1/managers): its leads.")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Add a dashboard user; the password is asked for (twice) unless read from stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _pipeline() as pipeline:
        user = pipeline.accounts.add_user(email, password, role, manager)
    linked = f", manager {user['manager']}" if user["manager"] else ""
    out.print(f"user {user['email']} ({user['role']}{linked}) added", highlight=False)


@user_app.command("list")
def user_list() -> None:
    """List the dashboard users."""
    with _pipeline() as pipeline:
        users = pipeline.accounts.list_users()
    table = Table("email", "role", "manager", "last signed in")
    for u in users:
        table.add_row(u["email"], u["role"], u["manager"] or "",
                      clock.to_iso(u["signed_in_at"]) or "")  # fmt: skip
    out.print(table)


@spend_app.command("import")
def spend_import(
    file: Annotated[Path, typer.Argument(help="CSV: date, cost, channel/source/campaign.")],
) -> None:
    """Import ad spend per day (the same day and split again replaces it)."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {file}: {exc}") from None
    rows = read_spend(text)
    with _pipeline() as pipeline:
        stored = save_spend(pipeline.writer, rows)
    total = sum(r["cost"] for r in rows)
    out.print(f"{stored} rows of spend imported (cost {total:,.2f})", highlight=False)


@app.command("import")
def import_leads(
    file: Annotated[Path, typer.Argument(help="CSV export of a CRM or an ad platform.")],
    id_column: Annotated[
        str | None, typer.Option(help="Column holding the record's id in the source system.")
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="COLUMN=trait: read a column into a named trait (repeatable)."),
    ] = None,
    source: Annotated[str | None, typer.Option(help="Lead source to record.")] = None,
    delimiter: Annotated[
        str | None, typer.Option(help="Field separator (default: detected).")
    ] = None,
    batch: Annotated[int, typer.Option(help="Rows per transaction.", min=1)] = 500,
) -> None:
    """Import leads from a CSV file; a second run updates instead of duplicating."""
    handle = open_csv(file)
    with handle:
        total = sum(1 for _ in handle) - 1
        handle.seek(0)
        plan, rows = read_rows(
            handle, id_column=id_column, mapping=_parse_map(map_ or []), delimiter=delimiter
        )
        created = updated = 0
        errors: list[RowError] = []
        with _pipeline() as pipeline, _progress() as progress:
            task = progress.add_task(f"importing {file.name}", total=max(total, 0))
            pending: list[Row] = []

            def flush() -> None:
                nonlocal created, updated
                if pending:
                    c, u = pipeline.upsert_many([r.traits for r in pending], source or "import")
                    created, updated = created + c, updated + u
                    progress.advance(task, len(pending))
                    pending.clear()

            for item in rows:
                if isinstance(item, RowError):
                    errors.append(item)
                    progress.advance(task, 1)
                    continue
                pending.append(item)
                if len(pending) >= batch:
                    flush()
            flush()
    for e in errors[:50]:
        err.print(f"line {e.line}: {e.message} — skipped", highlight=False)
    if len(errors) > 50:
        err.print(f"… and {len(errors) - 50} more rows skipped")
    out.print(
        f"{created} leads created, {updated} updated, {len(errors)} rows skipped "
        f"(columns: {', '.join(plan.targets)})",
        highlight=False,
    )
    if errors and created + updated == 0:
        raise typer.Exit(1)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


@app.command("export")
def export_leads(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File (default: stdout).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
) -> None:
    """Export every lead (summary columns and traits)."""
    if fmt not in {"csv", "jsonl"}:
        raise InvalidInput(f"--format must be csv or jsonl, not {fmt!r}", field="format")
    from leadpulse.web.api.present import lead_summary

    settings = _settings()
    engine = create_engine(settings.database_url)
    target = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
    try:
        writer: csv.DictWriter[str] | None = None
        cursor = None
        with engine.connect() as conn:
            while True:
                page = list_leads(conn, LeadFilter(), sort="created_at", limit=1000, cursor=cursor)
                for row in page.items:
                    record = {**lead_summary(row), "traits": row["traits"]}
                    if fmt == "jsonl":
                        target.write(orjson.dumps(record).decode() + "\n")
                        continue
                    record["quality"] = orjson.dumps(record["quality"]).decode()
                    record["traits"] = orjson.dumps(record["traits"]).decode()
                    if writer is None:
                        writer = csv.DictWriter(target, fieldnames=list(record))
                        writer.writeheader()
                    writer.writerow(record)
                if page.next is None:
                    break
                cursor = page.next
    finally:
        if output:
            target.close()


@model_app.command("validate")
def model_validate(
    file: Annotated[Path, typer.Argument(help="A model file, YAML or JSON.")],
) -> None:
    """Check a model file; errors name the file, the rule and the path inside it."""
    model = load_model_file(file)
    out.print(f"{file.name}: model {model.key!r} is valid ({len(model.rules)} rules)")


@model_app.command("apply")
def model_apply(
    file: Annotated[Path, typer.Argument(help="A model file, YAML or JSON.")],
    rescore: Annotated[bool, typer.Option(help="Re-score stored history afterwards.")] = False,
) -> None:
    """Publish a model file as the model's next version."""
    model = load_model_file(file)
    with _pipeline() as pipeline:
        version = pipeline.publish_model(model.key, file.read_text(encoding="utf-8"))
        out.print(f"published {model.key!r} version {version}")
        if rescore:
            _rescore(pipeline)


@model_app.command("list")
def model_list() -> None:
    """The published models."""
    with _pipeline() as pipeline:
        models = pipeline.scoring.refresh(force=True).models
    table = Table("key", "version", "name", "kind", "rules")
    for p in models:
        table.add_row(
            p.model.key, str(p.version), p.model.name, p.model.kind, str(len(p.model.rules))
        )
    out.print(table)


@app.command("rescore")
def rescore_command(
    model: Annotated[
        str | None,
        typer.Option(help="The model that changed (checked to exist); all models are replayed."),
    ] = None,
    processes: Annotated[
        int,
        typer.Option(min=1, help="Processes replaying side by side (default: one per core)."),
    ] = os.cpu_count() or 1,
) -> None:
    """Replay every stored event through the current models (collection may go on).

    Models share each lead's scoring state, so a rescore always replays them all.
    """
    with _pipeline() as pipeline:
        keys = [p.model.key for p in pipeline.scoring.refresh(force=True).models]
        if model is not None and model not in keys:
            raise InvalidInput(f"no published model {model!r}; published: {', '.join(keys)}")
        _rescore(pipeline, processes)


@app.command("prune")
def prune_command(
    anonymous_days: Annotated[
        float,
        typer.Option(help="Delete anonymous visitors quiet this many days (at least 1), with "
                     "their raw events. Leads are kept until erased."),
    ],
) -> None:  # fmt: skip
    """Retention of raw events: forget visitors nobody identified (run it daily from cron)."""
    with _pipeline() as pipeline:
        visitors, events = pipeline.prune_anonymous(anonymous_days)
    out.print(f"deleted {visitors} anonymous visitors and their {events} events")


def _rescore(pipeline: Pipeline, processes: int = os.cpu_count() or 1) -> None:
    with pipeline.engine.connect() as conn:
        total = count_subjects(conn)
    with _progress() as progress:
        task = progress.add_task("re-scoring", total=total)
        subjects, events = pipeline.rescore(
            progress=lambda done, _events: progress.update(task, completed=done),
            processes=processes,
        )
    out.print(f"re-scored {subjects} leads and visitors from {events} events")


@app.command("score")
def score_file(
    model_file: Annotated[Path, typer.Argument(help="A model file, YAML or JSON.")],
    csv_file: Annotated[Path, typer.Argument(help="A CSV of leads, one per row.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File (default: stdout).")
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option(help="Field separator (default: detected).")
    ] = None,
) -> None:
    """Score a CSV file with a model's trait rules: every column kept, plus score, band and
    reasons."""
    model = load_model_file(model_file)
    handle = open_csv(csv_file)
    target = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
    try:
        with handle:
            rows = score_csv(model, handle, target, now=clock.now_ms(), delimiter=delimiter)
    finally:
        if output:
            target.close()
    err.print(f"scored {rows} rows with {model.key!r}")


@app.command("learn")
def learn_command(
    ctx: typer.Context,
    csv_file: Annotated[
        Path | None, typer.Argument(help="A CSV of past leads with their outcome.")
    ] = None,
    from_db: Annotated[
        bool,
        typer.Option(
            "--from-db",
            help="Learn from the leads in the database that were won or lost, instead of a CSV.",
        ),
    ] = False,
    target: Annotated[
        str | None, typer.Option(help="The outcome column (default: Converted, Revenue, …).")
    ] = None,
    positive: Annotated[
        str | None, typer.Option(help="The outcome value meaning converted (default: detected).")
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option(help="Field separator (default: detected).")
    ] = None,
    weight: Annotated[
        str | None, typer.Option(help="A column of customer value: bigger counts more.")
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(help="A column (or glob, 'Asymmetrique*') to leave out; repeatable."),
    ] = None,
    time: Annotated[
        str | None, typer.Option(help="A time column: hold out the most recent leads.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the scorecard model file (YAML).")
    ] = None,
    lookalike: Annotated[
        Path | None, typer.Option(help="Write the lookalike model (JSON).")
    ] = None,
    report: Annotated[
        list[Path] | None,
        typer.Option(help="Write the report: .html or .json (by suffix); repeatable."),
    ] = None,
    suggest: Annotated[
        Path | None,
        typer.Option(help="A hand-written model file: suggest new points for its rules."),
    ] = None,
    save: Annotated[
        bool,
        typer.Option(
            "--save",
            help="Keep the report in the database for the dashboard (always with --from-db).",
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the split and the models.")] = 0,
    test_size: Annotated[
        float, typer.Option(help="Share of the rows held out for evaluation.")
    ] = 0.25,
) -> None:
    """Learn from outcomes: baseline and key actions, a points scorecard (a model file), a
    lookalike model, and how well they rank leads they never saw."""
    from leadpulse.learn.modelfile import model_key, model_yaml
    from leadpulse.learn.report import report_dict, report_html, report_json
    from leadpulse.learn.run import learn
    from leadpulse.learn.suggest import rule_hits, suggest_points
    from leadpulse.learn.table import read_table

    if not 0 < test_size < 1:
        raise InvalidInput("--test-size must be between 0 and 1, e.g. 0.25", field="test_size")
    if from_db:
        if csv_file is not None:
            raise InvalidInput("give a CSV file or --from-db, not both", field="file")
        source = _history_csv(ctx, with_created=time == history_store.CREATED)
        target = target or history_store.OUTCOME
        positive = positive or "won"
    elif csv_file is None:
        raise InvalidInput("give a CSV file to learn from, or --from-db", field="file")
    else:
        source = csv_file
    for path in report or []:
        if path.suffix.lower() not in {".html", ".htm", ".json"}:
            raise InvalidInput(f"--report {path}: name it .html or .json", field="report")
    with err.status(f"reading {source.name}…"):
        data = read_table(
            source,
            target=target,
            positive=positive,
            delimiter=delimiter,
            weight=weight,
            exclude=tuple(exclude or ()),
            time=time,
        )
    with err.status(f"learning from {len(data.y)} rows…"):
        run = learn(data, test_size=test_size, seed=seed, lookalike=lookalike is not None)
    _learn_summary(run)
    if suggest is not None:
        current = load_model_file(suggest)
        hits = rule_hits(current, source, delimiter)
        suggestion = suggest_points(current, hits, data, run.train, run.test)
        out.print(suggestion.diff(), markup=False, highlight=False, soft_wrap=True)
    if output is not None:
        key = model_key(output.stem)
        text = model_yaml(
            run.scorecard, key=key, name=f"Learned from {data.source}", source=data.source
        )
        parse_model(text, output.name)
        _write_file(output, text)
        err.print(f"wrote the scorecard model {key!r} to {output}")
    if lookalike is not None and run.lookalike is not None:
        key = model_key(lookalike.stem)
        bands = run.lookalike.bands(run.data.take(run.train).frame)
        text = run.lookalike.to_json(key=key, name=f"Looks like the converters of {data.source}",
                                     bands=bands)  # fmt: skip
        parse_model(text, lookalike.name)
        _write_file(lookalike, text)
        err.print(f"wrote the lookalike model {key!r} to {lookalike} (publish it like a model)")
    for path in report or []:
        json_report = path.suffix.lower() == ".json"
        _write_file(path, report_json(run) if json_report else report_html(run))
        err.print(f"wrote the report to {path}")
    if save or from_db:
        with _pipeline() as pipeline:
            pipeline.writer.run_sync(
                lambda conn: learning_store.save_report(
                    conn, data.source, report_dict(run), clock.now_ms()
                )
            )
        err.print("kept the report in the database (the dashboard's Models page shows it)")


def _history_csv(ctx: typer.Context, *, with_created: bool) -> Path:
    """The database's won and lost leads as a CSV file in a temporary folder (so the rest of
    `learn`, `--suggest` included, reads it like any file)."""
    with _pipeline() as pipeline, pipeline.engine.connect() as conn:
        history = history_store.outcome_rows(conn, with_created=with_created)
    headers, rows = history.headers, history.rows
    if not rows:
        raise InvalidInput(
            "the database has no leads with a recorded outcome yet: record them with "
            "POST /v1/leads/{id}/outcome (won or lost), or learn from a CSV file",
            field="from_db",
        )
    folder = tempfile.mkdtemp(prefix="leadpulse-learn-")
    ctx.call_on_close(partial(shutil.rmtree, folder, ignore_errors=True))
    path = Path(folder) / "database.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    if history.changed_after:
        err.print(f"warning: {history.changed_after} of {len(rows)} leads were edited after "
                  "their outcome; traits set because of the outcome (a plan bought, a "
                  "customer flag) would give it away — leave such traits out with --exclude",
                  highlight=False, markup=False, soft_wrap=True)  # fmt: skip
    return path


def _write_file(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None


def _learn_summary(run: Learned) -> None:
    data, analysis = run.data, run.analysis
    overall = analysis.overall
    out.print(
        f"[bold]{data.source}[/]: {len(data.y)} rows, {data.target} = {data.positive!r} "
        f"in {overall.rate:.1%} (95 % interval {overall.low:.1%}–{overall.high:.1%})",
        highlight=False,
    )
    for skipped in data.skipped:
        first = ", ".join(str(line) for line in skipped.lines[:5])
        out.print(f"  not used: {len(skipped.lines)} rows, {skipped.reason} (lines {first}…)",
                  highlight=False, markup=False, soft_wrap=True)  # fmt: skip
    table = Table("key action", "leads", "conversion", "lift", title="converts above average")
    for s in analysis.key_actions()[:8]:
        table.add_row(f"{s.column}: {s.label}", f"{s.rate.count:g}", f"{s.rate.rate:.1%}",
                      f"×{s.lift:.2f}")  # fmt: skip
    out.print(table)
    held = run.scorecard_eval.metrics
    line = f"held out ({len(run.test)} rows): scorecard ROC AUC {held.roc_auc:.3f}"
    if run.lookalike_eval is not None:
        line += f", lookalike ROC AUC {run.lookalike_eval.metrics.roc_auc:.3f}"
    out.print(line + f"; top 10 % of the scorecard convert ×{held.lift_10:.2f} the average",
              highlight=False)  # fmt: skip
    for warning in run.warnings:
        err.print(f"warning: {warning}", highlight=False, markup=False, soft_wrap=True)


class _Saved(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def site(self) -> str | None: ...


def _definition_commands(
    kind: str, noun: str, parse: Callable[[str, str], _Saved], describe: Callable[[Any], str]
) -> typer.Typer:
    """`leadpulse offer|personalization|automation …`: validate, apply, list, delete."""
    group = typer.Typer(help=f"{noun.capitalize()}s (YAML or JSON files).", no_args_is_help=True)

    def load_file(file: Path) -> tuple[_Saved, str]:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"{file}: cannot read ({exc.strerror or exc})") from None
        return parse(text, file.name), text

    @group.command("validate")
    def validate(file: Annotated[Path, typer.Argument(help="A YAML or JSON file.")]) -> None:
        """Check a file; errors name the file and the path inside it."""
        item, _ = load_file(file)
        out.print(f"{file.name}: {noun} {item.key!r} is valid")

    @group.command("apply")
    def apply(file: Annotated[Path, typer.Argument(help="A YAML or JSON file.")]) -> None:
        """Save a file as the next version; servers pick it up within two seconds."""
        item, text = load_file(file)
        with _pipeline() as pipeline:
            if item.site is not None:
                with pipeline.engine.connect() as conn:
                    if site_store.site_by_key(conn, item.site) is None:
                        raise InvalidInput(f"{file.name}: site: no site {item.site!r}")
            version = pipeline.save_definition(kind, item.key, text)
        out.print(f"saved {noun} {item.key!r} version {version}")

    @group.command("list")
    def list_all() -> None:
        """The saved definitions."""
        with _pipeline() as pipeline, pipeline.engine.connect() as conn:
            rows = engage_store.active(conn, kind)
        table = Table("key", "version", "site", "what")
        for key, version, source in rows:
            try:
                item = parse(source, key)
            except LeadpulseError as err:
                table.add_row(key, str(version), "", f"cannot be read: {err.message}")
                continue
            table.add_row(key, str(version), item.site or "(all)", describe(item))
        out.print(table)

    @group.command("delete")
    def delete(key: Annotated[str, typer.Argument(help="The key to delete.")]) -> None:
        """Stop using a definition (its history is kept)."""
        with _pipeline() as pipeline:
            if not pipeline.delete_definition(kind, key):
                raise InvalidInput(f"no {noun} {key!r}")
        out.print(f"deleted {noun} {key!r}")

    return group


def _engage(kind: Kind) -> Callable[[str, str], _Saved]:
    return lambda text, source: parse_definition(kind, text, source)


def _holdout(item: Any) -> str:
    return f"holdout {item.holdout:g} %"


def _actions(item: Any) -> str:
    return ", ".join(type(a).__name__.lower() for a in item.actions)


app.add_typer(_definition_commands("offer", "offer", _engage("offer"), _holdout), name="offer")
app.add_typer(
    _definition_commands(
        "personalization", "personalisation", _engage("personalization"), _holdout
    ),
    name="personalization",
)
app.add_typer(
    _definition_commands("automation", "automation", parse_automation, _actions),
    name="automation",
)
segment_app = _definition_commands("segment", "segment", parse_segment, lambda item: item.name)
app.add_typer(segment_app, name="segment")


@segment_app.command("members")
def segment_members(
    key: Annotated[str, typer.Argument(help="The segment's key.")],
    limit: Annotated[int, typer.Option(help="How many at most.")] = 100,
) -> None:
    """The segment's current members."""
    with _pipeline() as pipeline, pipeline.engine.connect() as conn:
        members = segment_store.members(conn, key, 0, limit)
    table = Table("lead", "name", "email", "phone", "score", "since")
    for m in members:
        since = clock.to_iso(m["entered_at"]) or ""
        table.add_row(str(m["id"]), m["name"] or "", m["email"] or "", m["phone"] or "",
                      f"{m['score']:g}", since)  # fmt: skip
    out.print(table)


@app.command()
def demo(
    visitors: Annotated[int, typer.Option(help="How many simulated visitors to send.")] = 80,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server afterwards.")
    ] = True,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Set up the demo window shop (site, model, offers, personalisation), send simulated
    visitors, print an admin key, then serve. Run again: the existing demo is kept."""
    from leadpulse import demo as demo_shop

    settings = _settings()
    base = f"http://{host or settings.host}:{port or settings.port}"
    with _pipeline() as pipeline:
        site, created = demo_shop.seed(pipeline)
        if created:
            with err.status(f"sending {visitors} simulated visitors…"):
                events = demo_shop.simulate(pipeline, site, visitors)
            secret = pipeline.create_api_key("demo")
            email, password = demo_shop.dashboard_user(pipeline)
            err.print(f"demo: {visitors} visitors, {events} events")
            err.print(f"dashboard: {base}/app/  sign in as {email} with {password} (shown once)",
                      soft_wrap=True, highlight=False)  # fmt: skip
            err.print(f"admin key (shown once): {secret}", soft_wrap=True)
            err.print(
                f"  curl -H 'Authorization: Bearer {secret}' '{base}/v1/leads?sort=-score'",
                soft_wrap=True,
                highlight=False,
            )
        else:
            err.print("demo: already set up (make a new one with a fresh database)")
    err.print(f"demo shop: {base}/demo/   API docs: {base}/docs")
    if serve_after:
        serve(host=host, port=port, migrate=False)


def main() -> None:
    try:
        app()
    except LeadpulseError as exc:
        err.print(f"error: {exc.message}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(1)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        err.print(
            f"error: cannot use the database: {reason}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        sys.exit(1)
