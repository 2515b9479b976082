"""Rows as plain dicts with plain `str` keys (SQLAlchemy's `quoted_name` keys trip orjson)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Row


def as_dict(row: Row[Any, *tuple[Any, ...]]) -> dict[str, Any]:
    return {str(k): v for k, v in row._mapping.items()}
