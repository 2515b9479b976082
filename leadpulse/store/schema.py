"""The database schema, one definition for SQLite and PostgreSQL.

Alembic migrations in `migrations/versions` must produce exactly this; a test compares them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""SQLite only makes INTEGER PRIMARY KEY an alias of the rowid; PostgreSQL gets BIGINT."""

Ms = sa.BigInteger
"""Epoch milliseconds."""

sites = sa.Table(
    "sites",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("domains", JSON, nullable=False),
    sa.Column("write_key", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", Ms, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", Ms, nullable=False),
    sa.Column("revoked_at", Ms),
)

managers = sa.Table(
    "managers",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320)),
    sa.Column("phone", sa.String(32)),
    sa.Column("team", sa.String(64)),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("assigned_at", Ms),
    sa.Column("created_at", Ms, nullable=False),
)

leads = sa.Table(
    "leads",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("email", sa.String(320)),
    sa.Column("phone", sa.String(32)),
    sa.Column("external_id", sa.String(200)),
    sa.Column("name", sa.String(300)),
    sa.Column("company", sa.String(300)),
    sa.Column("source", sa.String(100)),
    sa.Column("country", sa.String(2)),
    sa.Column("channel", sa.String(32)),
    sa.Column("traits", JSON, nullable=False),
    sa.Column("quality", JSON, nullable=False),
    sa.Column("first_touch", JSON),
    sa.Column("last_touch", JSON),
    sa.Column("score", sa.Float, nullable=False, server_default="0"),
    sa.Column("scores", JSON),
    sa.Column("created_at", Ms, nullable=False),
    sa.Column("updated_at", Ms, nullable=False),
    sa.Column("last_seen_at", Ms, nullable=False),
    sa.Column("merged_into", Id, sa.ForeignKey("leads.id")),
    sa.Column("owner_id", Id, sa.ForeignKey("managers.id"), index=True),
    sa.Column("score_state", JSON),  # the scoring engine's, while identified (store.scores)
    sa.Index(None, "score", "id"),
    sa.Index(None, "created_at", "id"),
    sa.Index(None, "last_seen_at", "id"),
)

LEAD_ROW = tuple(c for c in leads.c if c.key != "score_state")
"""A lead's columns as the API, the list and exports show it: the scoring state is the
engine's, read on its own (store.scores), and would make every listed row decode it."""

lead_identities = sa.Table(
    "lead_identities",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("value", sa.String(320), nullable=False),
    sa.Column("lead_id", Id, sa.ForeignKey("leads.id"), nullable=False, index=True),
    sa.UniqueConstraint("kind", "value"),
)

lead_merges = sa.Table(
    "lead_merges",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("from_lead_id", Id, sa.ForeignKey("leads.id"), nullable=False, index=True),
    sa.Column("into_lead_id", Id, sa.ForeignKey("leads.id"), nullable=False, index=True),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("snapshot", JSON, nullable=False),
    sa.Column("at", Ms, nullable=False),
)

visitors = sa.Table(
    "visitors",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("site_id", Id, sa.ForeignKey("sites.id"), nullable=False),
    sa.Column("anonymous_id", sa.String(128), nullable=False),
    sa.Column("lead_id", Id, sa.ForeignKey("leads.id"), index=True),
    sa.Column("is_bot", sa.Boolean, nullable=False),
    sa.Column("browser", sa.String(64)),
    sa.Column("os", sa.String(64)),
    sa.Column("device", sa.String(16)),
    sa.Column("country", sa.String(2)),
    sa.Column("region", sa.String(100)),
    sa.Column("city", sa.String(100)),
    sa.Column("language", sa.String(35)),
    sa.Column("first_touch", JSON),
    sa.Column("last_touch", JSON),
    sa.Column("first_seen_at", Ms, nullable=False),
    sa.Column("last_seen_at", Ms, nullable=False),
    sa.Column("score_state", JSON),  # the scoring engine's, while anonymous (store.scores)
    sa.UniqueConstraint("site_id", "anonymous_id"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("site_id", Id, sa.ForeignKey("sites.id"), nullable=False),
    sa.Column("uid", sa.String(64), nullable=False),
    sa.Column("visitor_id", Id, sa.ForeignKey("visitors.id"), nullable=False),
    sa.Column("lead_id", Id, sa.ForeignKey("leads.id")),
    sa.Column("session_id", sa.String(128)),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("ts", Ms, nullable=False),
    sa.Column("received_at", Ms, nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("referrer", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("properties", JSON, nullable=False),
    sa.Column("channel", sa.String(32)),
    sa.Column("source", sa.String(200)),
    sa.Column("medium", sa.String(200)),
    sa.Column("campaign", sa.String(300)),
    sa.Column("keyword", sa.String(300)),
    sa.Column("country", sa.String(2)),
    sa.Column("browser", sa.String(64)),
    sa.Column("device", sa.String(16)),
    sa.Column("ip", sa.String(64)),
    sa.Column("is_bot", sa.Boolean, nullable=False),
    sa.UniqueConstraint("site_id", "uid"),
    sa.Index(None, "visitor_id", "ts"),
    sa.Index(None, "lead_id", "ts"),
)

outcomes = sa.Table(
    "outcomes",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("lead_id", Id, sa.ForeignKey("leads.id"), nullable=False, index=True),
    sa.Column("outcome", sa.String(8), nullable=False),
    sa.Column("value", sa.Float),
    sa.Column("currency", sa.String(3)),
    sa.Column("owner", sa.String(200)),
    sa.Column("note", sa.Text),
    sa.Column("at", Ms, nullable=False),
    sa.Column("created_at", Ms, nullable=False),
)

scoring_models = sa.Table(
    "scoring_models",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("created_at", Ms, nullable=False),
    sa.Column("deleted_at", Ms),
    sa.UniqueConstraint("key", "version"),
)

score_ledger = sa.Table(
    "score_ledger",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("visitor_id", Id, sa.ForeignKey("visitors.id"), index=True),
    sa.Column("lead_id", Id, sa.ForeignKey("leads.id"), index=True),
    sa.Column("model_key", sa.String(64), nullable=False),
    sa.Column("model_version", sa.Integer, nullable=False),
    sa.Column("rule_key", sa.String(64), nullable=False),
    sa.Column("occurrence", sa.String(200), nullable=False),
    sa.Column("points", sa.Float, nullable=False),
    sa.Column("decays", sa.Boolean, nullable=False),
    sa.Column("event_uid", sa.String(64)),
    sa.Column("at", Ms, nullable=False),
)

rescore_runs = sa.Table(
    "rescore_runs",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("models", sa.String(2000), nullable=False),
    sa.Column("phase", sa.String(16), nullable=False),
    sa.Column("after_id", Id, nullable=False),
    sa.Column("subjects", sa.Integer, nullable=False),
    sa.Column("events", sa.BigInteger, nullable=False),
    sa.Column("started_at", Ms, nullable=False),
    sa.Column("finished_at", Ms),
)

engage_definitions = sa.Table(
    "engage_definitions",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("created_at", Ms, nullable=False),
    sa.Column("deleted_at", Ms),
    sa.UniqueConstraint("kind", "key", "version"),
)

exposures = sa.Table(
    "exposures",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("visitor_id", Id, sa.ForeignKey("visitors.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("group", sa.String(16), nullable=False),
    sa.Column("views", sa.Integer, nullable=False),
    sa.Column("first_at", Ms, nullable=False),
    sa.Column("viewed_at", Ms, nullable=False),
    sa.Column("viewed_session", sa.String(128)),
    sa.Column("closed_at", Ms),
    sa.Column("submitted_at", Ms),
    sa.UniqueConstraint("visitor_id", "kind", "key"),
    sa.Index(None, "kind", "key", "group"),
)

automation_firings = sa.Table(
    "automation_firings",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("automation", sa.String(64), nullable=False),
    sa.Column("lead_id", Id, sa.ForeignKey("leads.id"), nullable=False),
    sa.Column("trigger", JSON, nullable=False),
    sa.Column("fired_at", Ms, nullable=False),
    sa.Index(None, "automation", "lead_id", "fired_at"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("message_id", sa.String(64), nullable=False, unique=True),
    sa.Column("automation", sa.String(64), nullable=False),
    sa.Column("lead_id", Id, sa.ForeignKey("leads.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("target", JSON, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_at", Ms, nullable=False),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", Ms, nullable=False),
    sa.Column("delivered_at", Ms),
    sa.Index(None, "status", "next_at"),
    sa.Index(None, "automation", "id"),
)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("lead_id", Id, sa.ForeignKey("leads.id"), nullable=False, index=True),
    sa.Column("manager_id", Id, sa.ForeignKey("managers.id")),
    sa.Column("automation", sa.String(64)),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("due_at", Ms, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", Ms, nullable=False),
    sa.Column("done_at", Ms),
    sa.Index(None, "manager_id", "status", "due_at"),
)

segment_members = sa.Table(
    "segment_members",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("segment", sa.String(64), nullable=False),
    sa.Column("lead_id", Id, sa.ForeignKey("leads.id"), nullable=False, index=True),
    sa.Column("entered_at", Ms, nullable=False),
    sa.Column("left_at", Ms),
    sa.Index(None, "segment", "left_at", "lead_id"),
)

scenario_runs = sa.Table(
    "scenario_runs",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("automation", sa.String(64), nullable=False),
    sa.Column("lead_id", Id, sa.ForeignKey("leads.id"), nullable=False, index=True),
    sa.Column("trigger", JSON, nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("next_at", Ms, nullable=False),
    sa.Column("started_at", Ms, nullable=False),
    sa.Column("ended_at", Ms),
    sa.Index(None, "status", "next_at"),
    sa.Index(None, "automation", "lead_id", "status"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("manager_id", Id, sa.ForeignKey("managers.id")),
    sa.Column("created_at", Ms, nullable=False),
    sa.Column("signed_in_at", Ms),
)

user_sessions = sa.Table(
    "user_sessions",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", Ms, nullable=False),
    sa.Column("expires_at", Ms, nullable=False),
)

ad_spend = sa.Table(
    "ad_spend",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("campaign", sa.String(300), nullable=False),
    sa.Column("cost", sa.Float, nullable=False),
    sa.Column("currency", sa.String(3)),
    sa.Column("imported_at", Ms, nullable=False),
    sa.UniqueConstraint("day", "channel", "source", "campaign"),
)
"""What advertising cost, per day and channel/source/campaign (empty: not split by it)."""

learning_reports = sa.Table(
    "learning_reports",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("source", sa.String(300), nullable=False),
    sa.Column("report", JSON, nullable=False),
    sa.Column("created_at", Ms, nullable=False),
)
"""What `leadpulse learn --save` (or `--from-db`) found: the dashboard shows the latest."""
