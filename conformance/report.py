"""A certification's report, three ways: a table on the terminal (rich), JUnit XML for CI (one
testsuite, a testcase per check, `<failure message=...>` for a failed one, `<skipped>` for one not
offered), and a self-contained HTML page (inline CSS, no script, nothing fetched)."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from conformance.checks import CheckResult, Status
from switch.scheme.codes import WireFormat

JUNIT_FILE = "junit.xml"
HTML_FILE = "report.html"
STYLES = {Status.PASSED: "green", Status.FAILED: "red", Status.SKIPPED: "yellow"}


@dataclass(frozen=True, slots=True)
class Certification:
    """Who was certified, on which wire, when, and each check's result."""

    base_url: str
    bin: str
    wire: WireFormat
    started: datetime
    results: tuple[CheckResult, ...]

    def count(self, status: Status) -> int:
        return sum(1 for result in self.results if result.outcome.status == status)

    @property
    def ok(self) -> bool:
        return self.count(Status.FAILED) == 0

    @property
    def elapsed_s(self) -> float:
        return sum(result.elapsed_s for result in self.results)

    @property
    def title(self) -> str:
        return f"switchyard certify: participant {self.bin} at {self.base_url} on the {self.wire} wire"

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(status)} {status}" for status in Status)
        return f"{counts} of {len(self.results)} checks"


def print_certification(console: Console, certification: Certification) -> None:
    table = Table(title=certification.title, title_justify="left")
    for column in ("check", "outcome", "s", "why"):
        table.add_column(column, justify="right" if column == "s" else "left", overflow="fold")
    for result in certification.results:
        status = result.outcome.status
        table.add_row(
            result.check.name, f"[{STYLES[status]}]{status.upper()}[/]", f"{result.elapsed_s:.2f}", result.outcome.why
        )
    console.print(table)
    verdict = "[green]certified[/green]" if certification.ok else "[red]NOT certified[/red]"
    console.print(f"{certification.summary()}: {verdict}.")


def junit_xml(certification: Certification) -> bytes:
    """One testsuite, a testcase per check; what the check proves in its system-out."""
    failures, skipped = certification.count(Status.FAILED), certification.count(Status.SKIPPED)
    total, seconds = str(len(certification.results)), f"{certification.elapsed_s:.3f}"
    root = ET.Element(
        "testsuites", name="switchyard certify", tests=total, failures=str(failures), errors="0", time=seconds
    )
    suite = ET.SubElement(
        root, "testsuite", name=f"certify {certification.bin} ({certification.wire})", tests=total,
        failures=str(failures), errors="0", skipped=str(skipped), time=seconds,
        timestamp=certification.started.isoformat(timespec="seconds"),
    )  # fmt: skip
    properties = ET.SubElement(suite, "properties")
    for name, value in (("base_url", certification.base_url), ("bin", certification.bin), ("wire", certification.wire)):
        ET.SubElement(properties, "property", name=name, value=str(value))
    for result in certification.results:
        case = ET.SubElement(
            suite, "testcase", classname=f"certify.{certification.bin}", name=result.check.name,
            time=f"{result.elapsed_s:.3f}",
        )  # fmt: skip
        status, why = result.outcome.status, result.outcome.why
        if status == Status.FAILED:
            ET.SubElement(case, "failure", message=why, type="certify").text = f"{result.check.proves}\n{why}"
        elif status == Status.SKIPPED:
            ET.SubElement(case, "skipped", message=why)
        ET.SubElement(case, "system-out").text = f"{result.check.proves}\n{status}: {why}"
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1d2733; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #d8dee6; vertical-align: top; }}
td.s {{ text-align: right; font-variant-numeric: tabular-nums; }}
.passed {{ color: #146c2e; }} .failed {{ color: #b3261e; font-weight: bold; }} .skipped {{ color: #8a6100; }}
.proves {{ color: #55606e; font-size: .9rem; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{summary}: <strong class="{verdict_class}">{verdict}</strong>. Started {started}.</p>
<table>
<thead><tr><th>check</th><th>what it proves</th><th>outcome</th><th>s</th><th>why</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def html_page(certification: Certification) -> str:
    rows = "\n".join(
        f'<tr><td>{html.escape(r.check.name)}</td><td class="proves">{html.escape(r.check.proves)}</td>'
        f'<td class="{r.outcome.status}">{r.outcome.status.upper()}</td><td class="s">{r.elapsed_s:.2f}</td>'
        f"<td>{html.escape(r.outcome.why)}</td></tr>"
        for r in certification.results
    )
    return PAGE.format(
        title=html.escape(certification.title),
        summary=html.escape(certification.summary()),
        verdict_class=Status.PASSED if certification.ok else Status.FAILED,
        verdict="certified" if certification.ok else "NOT certified",
        started=html.escape(certification.started.isoformat(timespec="seconds")),
        rows=rows,
    )


def write_reports(certification: Certification, out: Path) -> list[Path]:
    """junit.xml and report.html in `out` (made if missing); their paths."""
    out.mkdir(parents=True, exist_ok=True)
    junit, page = out / JUNIT_FILE, out / HTML_FILE
    junit.write_bytes(junit_xml(certification))
    page.write_text(html_page(certification), encoding="utf-8")
    return [junit, page]
