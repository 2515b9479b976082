"""What every JSON body of the admin API shares: values the databases can store."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationInfo, field_validator

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
