"""Sites (one per tracked website) and API keys."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from leadpulse.core.types import Site
from leadpulse.store.rows import as_dict
from leadpulse.store.schema import api_keys, sites


def _site(row: Any) -> Site:
    return Site(
        id=row.id, key=row.key, name=row.name, domains=tuple(row.domains), write_key=row.write_key
    )


def create_site(
    conn: Connection, *, key: str, name: str, domains: list[str], write_key: str, at: int
) -> Site:
    site_id = conn.execute(
        sa.insert(sites)
        .values(key=key, name=name, domains=domains, write_key=write_key, created_at=at)
        .returning(sites.c.id)
    ).scalar_one()
    return Site(id=site_id, key=key, name=name, domains=tuple(domains), write_key=write_key)


def site_by_write_key(conn: Connection, write_key: str) -> Site | None:
    row = conn.execute(sa.select(sites).where(sites.c.write_key == write_key)).first()
    return None if row is None else _site(row)


def site_by_key(conn: Connection, key: str) -> Site | None:
    row = conn.execute(sa.select(sites).where(sites.c.key == key)).first()
    return None if row is None else _site(row)


def list_sites(conn: Connection) -> list[Site]:
    return [_site(r) for r in conn.execute(sa.select(sites).order_by(sites.c.id))]


def create_api_key(conn: Connection, *, name: str, prefix: str, key_hash: str, at: int) -> int:
    return int(
        conn.execute(
            sa.insert(api_keys)
            .values(name=name, prefix=prefix, key_hash=key_hash, created_at=at)
            .returning(api_keys.c.id)
        ).scalar_one()
    )


def api_key_is_active(conn: Connection, key_hash: str) -> bool:
    row = conn.execute(
        sa.select(api_keys.c.id).where(
            api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)
        )
    ).first()
    return row is not None


def revoke_api_key(conn: Connection, name_or_prefix: str, at: int) -> int:
    """Revoke every active key with that name or prefix; returns how many."""
    result = conn.execute(
        sa.update(api_keys)
        .where(
            sa.or_(api_keys.c.name == name_or_prefix, api_keys.c.prefix == name_or_prefix),
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=at)
    )
    return result.rowcount


def list_api_keys(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(
            api_keys.c.name, api_keys.c.prefix, api_keys.c.created_at, api_keys.c.revoked_at
        ).order_by(api_keys.c.id)
    )
    return [as_dict(r) for r in rows]
