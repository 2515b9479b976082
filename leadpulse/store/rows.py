"""Rows as plain dicts with plain `str` keys (SQLAlchemy's `quoted_name` keys trip orjson)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, Table
from sqlalchemy.engine import Row


def as_dict(row: Row[Any, *tuple[Any, ...]]) -> dict[str, Any]:
    return {str(k): v for k, v in row._mapping.items()}


_Query = TypeVar("_Query", bound=Select[Any])


def where_given(query: _Query, table: Table, **filters: Any) -> _Query:
    """`query` narrowed to rows whose columns equal the filters that were given (not None):
    the optional `?lead=`, `?status=` … of a list endpoint."""
    for column, value in filters.items():
        if value is not None:
            query = query.where(table.c[column] == value)
    return query
