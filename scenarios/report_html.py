"""report.html: one self-contained page a trainee reads after a scenario.

Charts are inline SVG drawn here from report.json's figures: no script, no font, no file beside it,
so the page opens anywhere (a browser offline, a mail attachment) and shows the same thing. The
charts: items by final state, reasons, cashless share by province against the 30% target, volume
per participant, and the timeline of transfers settled and rejected each simulated second, with the
outages shaded.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

WIDTH = 720
BAR_HEIGHT = 22
COLOURS = {"paid": "#2e7d32", "cash": "#f9a825", "held": "#6d4c41", "rejected": "#c62828"}
ACCENT = "#1565c0"
REJECT = "#c62828"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 760px; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; } td, th { padding: 0.2rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
table.events td, table.events th { text-align: left; }
.ok { color: #2e7d32; } .failed { color: #c62828; font-weight: bold; }
svg text { font-size: 12px; }
"""


def write_html(report: dict[str, Any], path: Path) -> None:
    path.write_text(render(report), encoding="utf-8")


def render(report: dict[str, Any]) -> str:
    outcome = report["outcome"]
    scenario = report["scenario"]
    verdict = '<p class="ok">Every invariant and expectation holds.</p>'
    if not report.get("ok", True):
        verdict = '<p class="failed">Failed: see the checks below.</p>'
    parts = [
        f"<h1>{escape(scenario['name'])}</h1>",
        f"<p>{escape(scenario['description'])}</p>",
        f"<p>Seed {report['seed']}, population {report['population']:,}. {escape(scenario['file'])}</p>",
        verdict,
        "<h2>Items by final state</h2>",
        _bars({s: outcome["by_status"].get(s, {}).get("count", 0) for s in COLOURS}, COLOURS),
        "<h2>Reasons</h2>",
        _bars({k: v["count"] for k, v in outcome["by_reason"].items()}, {}, REJECT),
        "<h2>Cashless share by province (target 30%)</h2>",
        _shares(outcome["cashless_share_by_province"], outcome["cashless_target_share"]),
        "<h2>Paid volume per participant (VND)</h2>",
        _bars({_named(k, report): v["amount_vnd"] for k, v in outcome["by_participant"].items()}, {}, ACCENT),
        "<h2>Transfers each simulated second</h2>",
        _timeline(report["timeline"]),
        "<h2>Events</h2>",
        _events(report["events"]),
        "<h2>Checks</h2>",
        _checks(report),
    ]
    body = "\n".join(parts)
    title = escape(scenario["name"])
    return f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>' \
        f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n"  # fmt: skip


def _bars(values: dict[str, int], colours: dict[str, str], colour: str = ACCENT) -> str:
    if not values:
        return "<p>None.</p>"
    top = max(values.values()) or 1
    label_width, chart_width = 170, WIDTH - 290
    rows = []
    for n, (name, value) in enumerate(values.items()):
        y = n * (BAR_HEIGHT + 6)
        width = round(chart_width * value / top)
        fill = colours.get(name, colour)
        rows.append(
            f'<text x="0" y="{y + 15}">{escape(name)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{width}" height="{BAR_HEIGHT}" fill="{fill}"/>'
            f'<text x="{label_width + width + 6}" y="{y + 15}">{value:,}</text>'
        )
    height = len(values) * (BAR_HEIGHT + 6)
    return _svg(height, "".join(rows), "bar chart")


def _named(bin_code: str, report: dict[str, Any]) -> str:
    name = report.get("participants", {}).get(bin_code)
    return f"{name} ({bin_code})" if name else bin_code


def _shares(provinces: dict[str, dict[str, Any]], target: float) -> str:
    if not provinces:
        return "<p>None.</p>"
    label_width, chart_width = 160, WIDTH - 260
    rows = []
    for n, (code, cell) in enumerate(provinces.items()):
        y = n * (BAR_HEIGHT + 6)
        width = round(chart_width * cell["share"])
        rows.append(
            f'<text x="0" y="{y + 15}">{escape(cell["province"])} ({escape(code)})</text>'
            f'<rect x="{label_width}" y="{y}" width="{width}" height="{BAR_HEIGHT}" fill="{COLOURS["paid"]}"/>'
            f'<text x="{label_width + width + 6}" y="{y + 15}">{cell["share"]:.1%}</text>'
        )
    height = len(provinces) * (BAR_HEIGHT + 6)
    x = label_width + round(chart_width * target)
    rows.append(f'<line x1="{x}" y1="0" x2="{x}" y2="{height}" stroke="#000" stroke-dasharray="4 3"/>')
    return _svg(height, "".join(rows), "cashless share by province")


def _timeline(samples: list[dict[str, Any]]) -> str:
    if not samples:
        return "<p>None.</p>"
    height, left, bottom = 220, 40, 20
    plot_width, plot_height = WIDTH - left - 10, height - bottom - 10
    top = max(max(s["settled"], s["rejected"]) for s in samples) or 1
    step = plot_width / max(len(samples) - 1, 1)
    shapes = []
    for n, sample in enumerate(samples):  # outages shaded, a band per second a participant was down
        if sample["offline"]:
            shapes.append(
                f'<rect x="{left + n * step:.1f}" y="10" width="{step:.1f}" height="{plot_height}" fill="#eee"/>'
            )

    def line(key: str, colour: str) -> str:
        points = " ".join(
            f"{left + n * step:.1f},{10 + plot_height - plot_height * s[key] / top:.1f}" for n, s in enumerate(samples)
        )
        return f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"/>'

    shapes += [line("settled", COLOURS["paid"]), line("rejected", REJECT)]
    shapes.append(f'<text x="0" y="18">{top:,}</text><text x="0" y="{10 + plot_height}">0</text>')
    shapes.append(f'<text x="{left}" y="{height - 4}">0 s</text>')
    shapes.append(f'<text x="{WIDTH - 60}" y="{height - 4}">{len(samples) - 1} s</text>')
    legend = (
        f'<p><span style="color:{COLOURS["paid"]}">settled</span>, <span style="color:{REJECT}">rejected</span>'
        " per second; grey: a participant offline.</p>"
    )
    return _svg(height, "".join(shapes), "timeline") + legend


def _events(events: list[dict[str, Any]]) -> str:
    rows = "".join(f"<tr><td>{e['at_s']} s</td><td>{escape(e['event'])}</td></tr>" for e in events)
    return f'<table class="events"><tr><th>at</th><th>event</th></tr>{rows}</table>'


def _checks(report: dict[str, Any]) -> str:
    items = [
        f'<li class="{"ok" if report["invariants"]["ok"] else "failed"}">Invariants: '
        f"{'hold' if report['invariants']['ok'] else escape('; '.join(report['invariants']['failures']))}</li>"
    ]
    for expectation in report["expectations"]:
        css = "ok" if expectation["passed"] else "failed"
        items.append(f'<li class="{css}">{escape(expectation["text"])}</li>')
    return f"<ul>{''.join(items)}</ul>"


def _svg(height: int, content: str, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">{content}</svg>'
    )
