"""Small charts as inline SVG, drawn on the server: no chart library, no JavaScript, a few
hundred bytes each. Colours come from CSS classes (site.css `.chart`), never inline styles,
which the Content-Security-Policy refuses.

A chart is a picture for those who see it; the page puts its numbers beside it as a table
(`<table class="chart-table">`), so the SVG carries only a short name (role="img" and a
<title>) and screen readers read the table.
"""

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 480, 160
LEFT, RIGHT, TOP, BOTTOM = 32, 8, 10, 22  # room for the axis labels


@dataclass(frozen=True)
class Point:
    label: str  # shown under the axis for some points, and in the table
    value: int


def _scale(points: list[Point]) -> float:
    top = max((point.value for point in points), default=0)
    return (HEIGHT - TOP - BOTTOM) / top if top > 0 else 0.0


def _frame(title: str, body: SafeString, top_value: int, labels: SafeString) -> SafeString:
    baseline = HEIGHT - BOTTOM
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>'
        '<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>'
        '<text x="{}" y="{}" text-anchor="end">{}</text>'
        '<text x="{}" y="{}" text-anchor="end">0</text>{}{}</svg>',
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        title,
        title,
        LEFT,
        baseline,
        WIDTH - RIGHT,
        baseline,
        LEFT - 4,
        TOP + 8,
        top_value,
        LEFT - 4,
        baseline,
        body,
        labels,
    )


def _axis_labels(points: list[Point], x_of, every: int) -> SafeString:
    return format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle">{}</text>',
        (
            (round(x_of(index), 1), HEIGHT - 6, point.label)
            for index, point in enumerate(points)
            # Every `every`th label, and the last one unless it would touch the one before.
            if index % every == 0
            or (index == len(points) - 1 and index % every >= max(every // 2, 1))
        ),
    )


def bar_chart(points: list[Point], *, title: str, labels_every: int = 1) -> SafeString:
    """Vertical bars, one per point, scaled to the largest."""
    scale = _scale(points)
    slot = (WIDTH - LEFT - RIGHT) / max(len(points), 1)
    bar = max(slot * 0.7, 1)
    baseline = HEIGHT - BOTTOM

    def x_of(index: int) -> float:
        return LEFT + slot * index + slot / 2

    bars = format_html_join(
        "",
        '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}: {}</title></rect>',
        (
            (
                round(x_of(index) - bar / 2, 1),
                round(baseline - point.value * scale, 1),
                round(bar, 1),
                round(point.value * scale, 1),
                point.label,
                point.value,
            )
            for index, point in enumerate(points)
        ),
    )
    top = max((point.value for point in points), default=0)
    return _frame(title, bars, top, _axis_labels(points, x_of, labels_every))


def line_chart(points: list[Point], *, title: str, labels_every: int = 1) -> SafeString:
    """A line through the points (e.g. a running total), with the area under it shaded."""
    scale = _scale(points)
    span = WIDTH - LEFT - RIGHT
    baseline = HEIGHT - BOTTOM

    def x_of(index: int) -> float:
        return LEFT + (span * index / (len(points) - 1) if len(points) > 1 else span / 2)

    coordinates = [
        (round(x_of(index), 1), round(baseline - point.value * scale, 1))
        for index, point in enumerate(points)
    ]
    path = " ".join(f"{x},{y}" for x, y in coordinates)
    body = (
        format_html(
            '<polygon class="area" points="{},{} {} {},{}"/><polyline class="line" points="{}"/>',
            coordinates[0][0],
            baseline,
            path,
            coordinates[-1][0],
            baseline,
            path,
        )
        if coordinates
        else SafeString("")
    )
    top = max((point.value for point in points), default=0)
    return _frame(title, body, top, _axis_labels(points, x_of, labels_every))


def horizontal_bar_chart(points: list[Point], *, title: str) -> SafeString:
    """One labelled row per point, bars scaled to the largest: for named things (categories)
    whose names would not fit under vertical bars."""
    row, label_width, value_width = 22, 130, 36
    height = max(row * len(points), row)
    span = WIDTH - label_width - value_width
    top = max((point.value for point in points), default=0)
    scale = span / top if top > 0 else 0.0
    rows = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="end">{}</text>'
        '<rect class="bar" x="{}" y="{}" width="{}" height="{}"/>'
        '<text x="{}" y="{}">{}</text>',
        (
            (
                label_width - 6,
                row * index + 15,
                point.label[:22],
                label_width,
                row * index + 4,
                round(max(point.value * scale, 1), 1),
                row - 8,
                label_width + round(point.value * scale, 1) + 4,
                row * index + 15,
                point.value,
            )
            for index, point in enumerate(points)
        ),
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg>',
        WIDTH,
        height,
        WIDTH,
        height,
        title,
        title,
        rows,
    )
