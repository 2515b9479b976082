"""Templates of the dashboard: Jinja2 with autoescaping always on, so anything a lead typed is
shown as text; and the security headers every page gets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader
from starlette.responses import HTMLResponse

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}
"""No inline script can run even if escaping were ever missed; no framing (clickjacking)."""


def when(ms: int | None) -> str:
    """Epoch milliseconds as a UTC date and minute."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"


def fixed(value: float | None, places: int = 2) -> str:
    """A figure with `places` decimals; a dash where there is none (a rate of no leads)."""
    return "–" if value is None else f"{value:.{places}f}"


env = Environment(
    loader=PackageLoader("leadpulse.web.dashboard", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["when"] = when
env.filters["number"] = number
env.filters["fixed"] = fixed


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = env.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
