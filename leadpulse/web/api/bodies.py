"""What every JSON body of the admin API shares: values the databases can store."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ValidationInfo, field_validator

from leadpulse.collect.decode import json_size
from leadpulse.core.errors import InvalidInput


class Body(BaseModel):
    """A request body whose every field is refused, by name, when storage cannot hold it: text
    with NUL characters (PostgreSQL), integers beyond 64 bits."""

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any, info: ValidationInfo) -> Any:
        try:
            json_size(value, info.field_name or "body")
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        return value


_WHOLE = re.compile(r"-?[0-9]+")


def _digits(value: Any) -> Any:
    if isinstance(value, str) and not _WHOLE.fullmatch(value):
        raise ValueError("a whole number is digits only, e.g. 42")
    return value


Whole = Annotated[int, BeforeValidator(_digits)]
"""An id or a count in a path or a query: digits only, as documented (pydantic alone also
takes " 7", "+7" and "7_0")."""

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _iso_only(value: Any) -> Any:
    if isinstance(value, int | float) or (
        isinstance(value, str) and _NUMBER.fullmatch(value.strip())
    ):
        raise ValueError("a time is ISO 8601 text, e.g. 2026-11-22T10:00:00Z")
    return value


Moment = Annotated[datetime, BeforeValidator(_iso_only)]
"""A time in a body or a query: ISO 8601 text, as documented (pydantic alone also reads a
number, `0.0` or `1796000000`, as Unix seconds)."""
