"""Server-side SVG charts (pygal) for staff pages and printable reports.

Each function takes plain series and returns SVG markup to embed inline: no script, no network
(pygal's tooltip script is switched off), fonts that cover Chinese brand names. Values are drawn
as given; ``None`` is a gap (no run that day), never a zero.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pygal
from pygal.style import Style

# Chromium, wkhtmltopdf and cairo pick the first installed family; the Noto/WenQuanYi CJK fonts
# are what the README's setup installs (fonts-noto-cjk), the rest are fallbacks.
FONT_FAMILY = (
    '"Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "PingFang SC", '
    '"Microsoft YaHei", "Helvetica Neue", Arial, sans-serif'
)
# Colour-blind-safe (Okabe-Ito), in the order series are added.
COLORS = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#7F7F7F",
    "#F0E442",
    "#000000",
)

_STYLE_ARGS = dict(
    background="transparent",
    plot_background="#ffffff",
    foreground="#333333",
    foreground_strong="#111111",
    foreground_subtle="#d0d0d0",
    opacity=".85",
    opacity_hover=".95",
    colors=COLORS,
    font_family=FONT_FAMILY,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=15,
    value_font_size=11,
    tooltip_font_size=12,
    no_data_font_size=18,
    guide_stroke_color="#e3e3e3",
    major_guide_stroke_color="#cfcfcf",
    guide_stroke_dasharray="1,0",
    major_guide_stroke_dasharray="1,0",
    stroke_width="2",
    stroke_width_hover="3",
)
STYLE = Style(**_STYLE_ARGS)
# A line and its band: the band's bounds in a lighter shade of the line's colour.
BAND_STYLE = Style(**_STYLE_ARGS | {"colors": ("#0072B2", "#8fb8dc", "#8fb8dc")})

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)

BASE_CONFIG = {
    "style": STYLE,
    "js": [],  # no tooltip script from a CDN: the page must work offline and in a PDF
    "disable_xml_declaration": True,
    "width": 640,
    "height": 320,
    "margin": 12,
    # pygal under-measures the bottom legend and CJK labels; room so neither is clipped.
    "margin_bottom": 28,
    "margin_left": 24,
    "legend_at_bottom": True,
    "legend_at_bottom_columns": 4,
    "truncate_legend": 24,
    "no_data_text": "No runs in this range",
    "print_values": False,
    "show_minor_x_labels": False,
    "x_label_rotation": 0,
    "truncate_label": -1,  # dates and domains are short; never "…" them
}


def _svg(chart: pygal.graph.graph.Graph) -> str:
    """The chart as inline SVG markup, without pygal's tooltip config script (no script runs:
    the page stays script-free and the same markup goes into a PDF)."""
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def _config(**overrides) -> dict:
    return BASE_CONFIG | overrides


def _x_labels(labels: Sequence[str]) -> dict:
    """Every label stays in the tooltip; about eight are printed on the axis."""
    step = max(1, len(labels) // 8)
    return {"x_labels": list(labels), "x_labels_major": list(labels)[::step]}


def line_chart(
    *,
    title: str,
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    y_title: str = "",
    value_format: str = "{:.1f}",
    y_range: tuple[float, float] | None = None,
) -> str:
    """One line per series over shared x labels (e.g. dates)."""
    chart = pygal.Line(
        **_config(
            title=title,
            y_title=y_title,
            range=y_range,
            allow_interruptions=True,
            value_formatter=lambda v: value_format.format(v),
            **_x_labels(x_labels),
        )
    )
    for name, values in series.items():
        chart.add(name, list(values))
    return _svg(chart)


def band_chart(
    *,
    title: str,
    x_labels: Sequence[str],
    name: str,
    values: Sequence[float | None],
    low: Sequence[float | None],
    high: Sequence[float | None],
    band_name: str,
    y_title: str = "",
    value_format: str = "{:.1f}",
    y_range: tuple[float, float] | None = None,
) -> str:
    """A line with an uncertainty band: the band's bounds are dashed lines in a lighter colour."""
    chart = pygal.Line(
        **_config(
            style=BAND_STYLE,
            title=title,
            y_title=y_title,
            range=y_range,
            allow_interruptions=True,
            value_formatter=lambda v: value_format.format(v),
            **_x_labels(x_labels),
        )
    )
    chart.add(name, list(values), stroke_style={"width": 2.5})
    dashed = {"width": 1.5, "dasharray": "6, 4"}
    chart.add(band_name, list(high), show_dots=False, stroke_style=dashed)
    chart.add(None, list(low), show_dots=False, stroke_style=dashed)
    return _svg(chart)


def horizontal_bar_chart(
    *,
    title: str,
    rows: Sequence[tuple[str, float | None]],
    value_format: str = "{:.1f}",
    x_range: tuple[float, float] | None = None,
) -> str:
    """One bar per (label, value) row, top row first, the value printed on the bar."""
    rows = list(rows)
    chart = pygal.HorizontalBar(
        **_config(
            height=max(140, 70 + 34 * len(rows)),
            title=title,
            range=x_range,
            show_legend=False,
            print_values=True,
            value_formatter=lambda v: value_format.format(v),
        )
    )
    # pygal draws the first value at the bottom; reverse so the list reads top-down.
    rows.reverse()
    chart.x_labels = [label for label, _ in rows]
    chart.add("", [value for _, value in rows])
    return _svg(chart)


def stacked_bar_chart(
    *,
    title: str,
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    y_title: str = "",
    value_format: str = "{:.0f}",
) -> str:
    """Stacked bars per x label (e.g. answers citing each top domain, per week)."""
    chart = pygal.StackedBar(
        **_config(
            title=title,
            y_title=y_title,
            value_formatter=lambda v: value_format.format(v),
            **_x_labels(x_labels),
        )
    )
    for name, values in series.items():
        chart.add(name, list(values))
    return _svg(chart)


def mention_rate_chart(
    *,
    main: str,
    x_labels: Sequence[str],
    rate: Sequence[float | None],
    low: Sequence[float | None],
    high: Sequence[float | None],
    note: str = "",
) -> str:
    """The main brand's mention rate (%) with its 95 % band: the admin's monitor page and the
    report draw the same chart."""
    return band_chart(
        title=f"Mention rate of {main} (%), 95 % band = ±1.96 SE{note}",
        x_labels=x_labels,
        name="mention rate",
        values=rate,
        low=low,
        high=high,
        band_name="±1.96 SE",
        y_range=(0, 100),
    )
