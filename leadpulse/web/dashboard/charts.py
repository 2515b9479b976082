"""Charts drawn on the server as SVG: horizontal bars with their numbers written beside them.

No script and no library in the browser; labels are escaped like any other text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH = 480
LABEL = 150
ROW = 26
BAR = 18


def bars(
    items: Sequence[tuple[str, float | None]],
    title: str,
    show: Callable[[float], str] = lambda v: f"{v:,.0f}",
) -> Markup:
    """One bar per (label, value); a value of None (no data) draws no bar and says so."""
    room = WIDTH - LABEL - 70
    top = max((v for _, v in items if v is not None), default=0) or 1
    height = ROW * max(len(items), 1) + 4
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for n, (label, value) in enumerate(items):
        y = n * ROW + 2
        text_y = y + BAR - 4
        shown = str(label) if len(str(label)) <= 20 else str(label)[:19] + "…"
        parts.append(f'<text class="label" x="{LABEL - 8}" y="{text_y}">{escape(shown)}</text>')
        if value is None:
            parts.append(f'<text class="value" x="{LABEL}" y="{text_y}">no data</text>')
            continue
        width = max(room * max(value, 0) / top, 1 if value else 0)
        parts.append(
            f'<rect class="bar" x="{LABEL}" y="{y}" width="{width:.1f}" height="{BAR}" rx="3">'
            f"<title>{escape(label)}: {escape(show(value))}</title></rect>"
        )
        parts.append(
            f'<text class="value" x="{LABEL + width + 6:.1f}" y="{text_y}">'
            f"{escape(show(value))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def percent(value: float) -> str:
    return f"{value * 100:.1f} %"
