"""Tenant page charts as SVG drawn on the server by pygal: no chart script, no network.

The SVG is served as an image (<img src>), never inlined into an admin page: pygal styles its charts with a
<style> element, which the admin's Content-Security-Policy forbids inline. An image runs no script, and its
own response allows only its inline styles (see chart_response).
"""

import datetime

import pygal
from django.http import HttpResponse
from pygal.style import Style

from tenants.models.audit import AuditOutcome

# Colours that say what an outcome is (green ok, amber throttled, red refused or failed).
_OUTCOME_COLOURS = {
    AuditOutcome.OK: "#3f8f4e",
    AuditOutcome.DENIED: "#ba2121",
    AuditOutcome.RATE_LIMITED: "#e0a21b",
    AuditOutcome.QUOTA_EXCEEDED: "#c8651b",
    AuditOutcome.INVALID: "#8a5fb0",
    AuditOutcome.ERROR: "#555555",
}
_STYLE = dict(
    background="transparent",
    plot_background="transparent",
    font_family="-apple-system, 'Segoe UI', system-ui, Roboto, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
)
_SIZE = dict(width=720, height=290, margin=8, legend_at_bottom=True, legend_at_bottom_columns=6, js=[])


def _day_labels(days: list[datetime.date]) -> list[str]:
    return [day.strftime("%d %b") for day in days]


def tool_calls_chart(*, days: list[datetime.date], series: dict[str, list[int]]) -> str:
    outcomes = list(series) or [AuditOutcome.OK]
    chart = pygal.StackedBar(
        style=Style(colors=tuple(_OUTCOME_COLOURS[o] for o in outcomes), **_STYLE),
        x_label_rotation=0,
        show_minor_x_labels=False,
        x_labels_major_every=5,
        truncate_label=-1,
        print_zeroes=False,
        min_scale=1,
        **_SIZE,
    )
    chart.x_labels = _day_labels(days)
    for outcome in outcomes:
        chart.add(AuditOutcome(outcome).label, series.get(outcome, [0] * len(days)))
    return _svg(chart)


def storage_chart(*, days: list[datetime.date], levels: list[int], maximum: int) -> str:
    unit, scale = _byte_unit(max([maximum, *levels]))
    chart = pygal.Line(
        style=Style(colors=("#417690", "#ba2121"), **_STYLE),
        show_minor_x_labels=False,
        x_labels_major_every=5,
        truncate_label=-1,
        fill=True,
        show_dots=False,
        range=(0, max(1, maximum / scale, *(level / scale for level in levels))),
        y_title=unit,
        **_SIZE,
    )
    chart.x_labels = _day_labels(days)
    chart.add("Stored", [round(level / scale, 2) for level in levels])
    chart.add("Limit", [round(maximum / scale, 2)] * len(days), fill=False, stroke_style={"dasharray": "6,4"})
    return _svg(chart)


def _byte_unit(largest: int) -> tuple[str, int]:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if largest >= scale:
            return unit, scale
    return "bytes", 1


def _svg(chart) -> str:
    chart.add_xml_filter(_without_scripts)
    return chart.render(is_unicode=True)


def _without_scripts(root):
    """pygal always adds a config <script> for its optional tooltips; an image never runs it, so it goes."""
    for parent in list(root.iter()):
        for child in list(parent):
            if str(child.tag).rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


# The only widening of the policy for these responses: the SVG's own <style>. Scripts stay off entirely.
CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def chart_response(svg: str) -> HttpResponse:
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Content-Security-Policy"] = CHART_CSP
    response["Cache-Control"] = "private, max-age=60"
    return response
