"""conformance.report: a certification as a terminal table, JUnit XML (one testsuite, a testcase per
check, a failure with its message for each failed one) and a self-contained HTML page.

The certification here is Dev Bank's (970499) on the JSON wire: two checks failed, the batch call
not offered, the rest passed; one reason quotes the participant's answer with markup in it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lxml import etree
from rich.console import Console

from conformance.checks import CHECKS, CheckResult, Outcome, Status
from conformance.report import Certification, html_page, junit_xml, print_certification, write_reports
from switch.scheme.codes import WireFormat

QUOTED = 'HTTP 500: <html>Lỗi "hệ thống" & more</html>'
WHY = {
    "credit-unknown-account": "answered ACSP, expected RJCT AC01 (account identifier invalid or unknown)",
    "duplicate-answered-as-first": QUOTED,
}


def _certification(failing: dict[str, str] = WHY) -> Certification:
    results = []
    for number, check in enumerate(CHECKS):
        if check.name in failing:
            outcome = Outcome(Status.FAILED, failing[check.name])
        elif check.name == "batch":
            outcome = Outcome(Status.SKIPPED, "not offered: POST /v1/inbound/batches answered 404")
        else:
            outcome = Outcome(Status.PASSED, "answered as expected")
        results.append(CheckResult(check, outcome, 0.01 * (number + 1)))
    started = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    return Certification("http://127.0.0.1:9000", "970499", WireFormat.JSON, started, tuple(results))


def _suite(document: bytes) -> etree._Element:
    root = etree.fromstring(document)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    return suites[0]


def test_the_junit_xml_has_one_testsuite_with_a_testcase_per_check_in_order() -> None:
    suite = _suite(junit_xml(_certification()))
    assert [case.get("name") for case in suite.findall("testcase")] == [check.name for check in CHECKS]
    assert {case.get("classname") for case in suite.findall("testcase")} == {"certify.970499"}
    assert suite.get("tests") == str(len(CHECKS))


def test_the_junit_xml_counts_failures_and_skips_as_its_elements_say() -> None:
    document = junit_xml(_certification())
    root = etree.fromstring(document)
    suite = _suite(document)
    failures = suite.findall("testcase/failure")
    assert (suite.get("failures"), suite.get("skipped"), suite.get("errors")) == ("2", "1", "0")
    assert root.get("failures") == str(len(failures)) == "2"
    assert len(suite.findall("testcase/skipped")) == 1


def test_each_failure_names_its_check_and_carries_why_as_its_message_markup_and_diacritics_intact() -> None:
    suite = _suite(junit_xml(_certification()))
    failed = {
        case.get("name"): case.find("failure") for case in suite.findall("testcase") if case.find("failure") is not None
    }
    assert set(failed) == set(WHY)
    for name, failure in failed.items():
        assert failure.get("message") == WHY[name]
        assert WHY[name] in (failure.text or "")


def test_a_certification_that_passed_has_no_failure_element() -> None:
    suite = _suite(junit_xml(_certification(failing={})))
    assert suite.get("failures") == "0"
    assert suite.findall("testcase/failure") == []


def test_the_junit_times_are_decimal_seconds_summing_to_the_suite_s() -> None:
    suite = _suite(junit_xml(_certification()))
    times = [float(case.get("time") or "nan") for case in suite.findall("testcase")]
    assert abs(sum(times) - float(suite.get("time") or "nan")) < 0.01


def test_the_html_page_escapes_what_the_participant_said_and_loads_nothing() -> None:
    page = html_page(_certification())
    assert "<html>Lỗi" not in page
    assert "&lt;html&gt;Lỗi &quot;hệ thống&quot; &amp; more&lt;/html&gt;" in page
    assert "<script" not in page and "src=" not in page and "href=" not in page
    for check in CHECKS:
        assert check.name in page
        assert check.proves.replace("'", "&#x27;") in page
    assert "NOT certified" in page


def test_the_terminal_table_shows_every_check_its_outcome_and_the_verdict() -> None:
    console = Console(record=True, width=240)
    print_certification(console, _certification())
    text = console.export_text()
    for check in CHECKS:
        assert check.name in text
    assert text.count("FAILED") == 2 and text.count("SKIPPED") == 1
    assert "10 passed, 2 failed, 1 skipped of 13 checks: NOT certified." in text


def test_the_reports_are_written_to_the_out_folder(tmp_path: Path) -> None:
    paths = write_reports(_certification(), tmp_path / "certify")
    assert [path.name for path in paths] == ["junit.xml", "report.html"]
    assert _suite(paths[0].read_bytes()).get("failures") == "2"
