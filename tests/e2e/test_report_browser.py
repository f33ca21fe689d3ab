"""The scenario report in a real browser: Debian's chromium, driven by Playwright. The page must
render every chart with no console error; a screenshot is taken and kept beside the report."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from scenarios.runner import REPORT_HTML, run_scenario
from scenarios.scenario import load_scenario

CHROMIUM = "/usr/bin/chromium"
SCENARIO = Path(__file__).parents[2] / "scenarios" / "files" / "bank-outage.toml"
CHARTS = 5  # states, reasons, cashless by province, volume per participant, timeline

if not Path(CHROMIUM).exists():
    if os.environ.get("SWITCHYARD_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
    pytest.skip(f"no browser at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenario = load_scenario(SCENARIO)
    small = scenario.model_copy(update={"population": scenario.population.model_copy(update={"size": 1_200})})
    out = tmp_path_factory.mktemp("report")
    run_scenario(small, out, name=SCENARIO.name)
    return out / REPORT_HTML


def test_the_report_renders_its_charts_in_chromium_with_no_console_error(report: Path) -> None:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 900, "height": 1200})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(report.as_uri())
        charts = page.locator("svg")
        assert charts.count() == CHARTS
        for index in range(CHARTS):
            box = charts.nth(index).bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 20
        assert page.locator("svg rect").count() > 10  # bars and the outage's shaded seconds
        assert page.locator("svg polyline").count() == 2  # settled and rejected per second
        screenshot = report.with_name("report.png")
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert errors == []
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000
    kept = Path(os.environ.get("SWITCHYARD_SCREENSHOTS", report.parent))
    if kept != report.parent:
        kept.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, kept / "bank-outage-report.png")
