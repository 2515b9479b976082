"""Names and keys shared by everything that reads CSV files: trait names made from column
headers, and the one key of values that compare as equal."""

from __future__ import annotations

import math
import re
from typing import Any


def trait_key(header: str) -> str:
    """`Total Time Spent on Website` → `total_time_spent_on_website`; `TotalVisits` →
    `total_visits`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", header.strip())
    return re.sub(r"[^0-9a-zA-Z]+", "_", spaced).strip("_").lower() or "column"


def as_number(value: Any) -> float | None:
    """A finite number from a number or numeric text; None otherwise (booleans too)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def category_key(value: Any) -> str:
    """One key for values scoring treats as equal: 'UK' and 'uk'; '5', '5.0' and 5."""
    if isinstance(value, int | float):
        return f"n:{float(value)!r}"
    number = as_number(value)
    return f"s:{str(value).casefold()}" if number is None else f"n:{number!r}"
