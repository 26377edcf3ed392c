"""Geometry for the page's two charts, drawn as inline SVG by the templates (no JS library).

Only numbers leave this module; the templates write the SVG, so every text goes through the
template engine's escaping and translation.
"""

from __future__ import annotations

import math
from typing import Any

from .stats import HISTOGRAM_BIN, TOO_EASY, TOO_HARD

WIDTH, HEIGHT = 600, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 14, 46  # room for tick labels and the axis titles


def _nice_step(span: float, ticks: int = 5) -> float:
    """Return a 1, 2 or 5 × 10ⁿ step giving about `ticks` ticks over `span`."""
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _frame(height: int = HEIGHT) -> dict[str, Any]:
    """Return the plot area and where the tick labels and axis titles go (templates do no sums)."""
    right, bottom = WIDTH - RIGHT, height - BOTTOM
    return {"width": WIDTH, "height": height, "left": LEFT, "right": right, "top": TOP, "bottom": bottom,
            "plot_w": right - LEFT, "plot_h": bottom - TOP, "mid_x": (LEFT + right) / 2, "mid_y": (TOP + bottom) / 2,
            "y_label_x": LEFT - 6, "x_label_y": bottom + 16, "title_y": height - 6}


def histogram_chart(bins: list[int], pass_percent: int | None = None) -> dict[str, Any]:
    """Return bars, ticks and the pass line for a histogram of percent scores."""
    frame = _frame()
    plot_w, plot_h = frame["right"] - frame["left"], frame["bottom"] - frame["top"]
    top_count = max(max(bins, default=0), 1)
    step = max(1, int(_nice_step(top_count)))
    y_max = math.ceil(top_count / step) * step

    def y(count: float) -> float:
        return frame["bottom"] - plot_h * count / y_max

    bar_w = plot_w / len(bins) if bins else plot_w
    bars = [{"x": frame["left"] + i * bar_w + 1, "y": y(count), "w": bar_w - 2, "h": frame["bottom"] - y(count),
             "count": count, "low": i * HISTOGRAM_BIN, "high": (i + 1) * HISTOGRAM_BIN}
            for i, count in enumerate(bins)]
    x_ticks = [{"x": frame["left"] + plot_w * p / 100, "label": p} for p in range(0, 101, 20)]
    y_ticks = [{"y": y(c), "label": c} for c in range(0, y_max + 1, step)]
    pass_x = frame["left"] + plot_w * pass_percent / 100 if pass_percent is not None else None
    return {**frame, "bars": bars, "x_ticks": x_ticks, "y_ticks": y_ticks, "pass_x": pass_x, "pass_percent": pass_percent}


def scatter_chart(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Return points (difficulty → x, point-biserial → y), ticks and the flag zones."""
    frame = _frame(300)
    plot_w, plot_h = frame["right"] - frame["left"], frame["bottom"] - frame["top"]
    values = [i["point_biserial"] for i in items if i["point_biserial"] is not None]
    # Most items sit between 0 and 0.5; the range widens only when an item falls outside.
    y_low = min(-0.2, math.floor(min(values, default=0) * 10) / 10)
    y_high = max(0.6, math.ceil(max(values, default=0) * 10) / 10)

    def x(p: float) -> float:
        return frame["left"] + plot_w * p

    def y(r: float) -> float:
        return frame["bottom"] - plot_h * (r - y_low) / (y_high - y_low)

    points = [{"x": x(i["difficulty"]), "y": y(i["point_biserial"]), "code": i["info"]["code"],
               "p": i["difficulty"], "r": i["point_biserial"], "flagged": bool(i["flags"])}
              for i in items if i["difficulty"] is not None and i["point_biserial"] is not None]
    step = 0.2 if y_high - y_low > 0.8 else 0.1
    first = math.ceil(y_low / step - 1e-9)
    y_ticks = []
    for k in range(first, int(math.floor(y_high / step + 1e-9)) + 1):
        value = round(k * step, 1)
        y_ticks.append({"y": y(value), "label": f"{value:.1f}", "zero": value == 0})
    x_ticks = [{"x": x(p / 10), "label": f"{p / 10:.1f}"} for p in range(0, 11, 2)]
    zones = {
        "hard": {"x": x(0), "w": x(TOO_HARD) - x(0)},
        "easy": {"x": x(TOO_EASY), "w": x(1) - x(TOO_EASY)},
        "negative": {"y": y(0), "h": max(frame["bottom"] - y(0), 0)},
    }
    return {**frame, "points": points, "x_ticks": x_ticks, "y_ticks": y_ticks, "zones": zones,
            "unplotted": len(items) - len(points)}
