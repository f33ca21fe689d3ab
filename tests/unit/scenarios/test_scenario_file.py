"""scenarios.scenario: a scenario file parses with its defaults, or is refused naming the line, the key and the rule.

Every file here is a small TOML text built in the test: December's payroll for 1,500 beneficiaries, with one
mistake a trainer could make when writing a scenario (a decimal comma, a bank code that is not on the network, an
outage that never ends, ...). Line numbers are looked up in the text itself, never counted by hand.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from network.payroll import PROVINCES
from scenarios.scenario import (
    EVENTS_MAX,
    KNOWN_BINS,
    SCENARIO_BYTES_MAX,
    SCENARIO_POPULATION_MAX,
    Scenario,
    ScenarioInvalid,
    load_scenario,
    parse_scenario,
)
from switch.scheme.codes import Program

SHIPPED = Path(__file__).resolve().parents[3] / "scenarios" / "files"
SHIPPED_NAMES = {
    "monthly-payroll",
    "bank-outage",
    "wallet-pilot-cap",
    "duplicate-payroll",
    "registration-drive",
    "net-debit-cap",
    "switch-restart",
}
VIETCOMBANK, VIETINBANK, VIETTEL_MONEY = "970436", "970415", "971005"
NOT_A_BIN = "970999"  # no participant of the default network has it
POPULATION_SHARES = (
    "registration_share",
    "deceased_share",
    "name_typo_share",
    "closed_share",
    "blocked_share",
    "near_cap_share",
)

HEADER = """\
[scenario]
name = "December payroll, Hà Nội and Hồ Chí Minh"

[population]
size = 1500
"""
PAYROLL = """
[[timeline]]
at_s = 0
event = "submit_payroll"
"""
MINIMAL = HEADER + PAYROLL
Problem = tuple[int | None, str, str]


def line_of(text: str, line: str, occurrence: int = 0) -> int:
    """The 1-based number of the `occurrence`-th line of `text` that is exactly `line`."""
    numbers = [number for number, written in enumerate(text.splitlines(), start=1) if written == line]
    return numbers[occurrence]


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(ScenarioInvalid) as refused:
        parse_scenario(text, "december.toml")
    return refused.value.problems


def the_problem(text: str) -> Problem:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


def toml_float(value: float) -> str:
    """A float as TOML writes it (Python's repr is TOML for finite floats; inf keeps its sign)."""
    return repr(value)


# --- a valid file ------------------------------------------------------------------------------


def test_a_minimal_scenario_parses_with_its_defaults() -> None:
    scenario = parse_scenario(MINIMAL, "december.toml")

    assert scenario.scenario.name == "December payroll, Hà Nội and Hồ Chí Minh"
    assert (scenario.scenario.description, scenario.scenario.seed, scenario.scenario.cycle) == ("", 2026, "2026-12")
    population = scenario.population
    assert population.size == 1500
    assert population.provinces == PROVINCES
    assert population.registration_share == 0.30
    assert (population.deceased_share, population.name_typo_share) == (0.004, 0.003)
    assert (population.closed_share, population.blocked_share, population.near_cap_share) == (0.01, 0.01, 0.3)
    assert scenario.network.participants == {}
    assert scenario.expect == []
    [event] = scenario.timeline
    assert (event.at_s, event.event, event.cycle) == (0.0, "submit_payroll", None)
    assert (event.file_format, event.resend) == ("json", "new-file")
    assert (event.participant, event.until_s, event.latency_ms, event.share) == (None, None, None, None)


def test_a_full_scenario_keeps_every_value_it_writes() -> None:
    text = f"""\
[scenario]
name = "Viettel Money slow during January's payroll"
description = "Viettel Money answers in 4 s for a minute while January's payroll is paid."
seed = 7
cycle = "2027-01"

[population]
size = 2500
provinces = ["001", "079"]
registration_share = 0.45
near_cap_share = 0.1

[network.participants.{VIETTEL_MONEY}]
latency_ms = 300
timeout_rate = 0.02
pilot_2021_cap = true

[[timeline]]
at_s = 0
event = "latency_spike"
participant = "{VIETTEL_MONEY}"
latency_ms = 4000
until_s = 60

[[timeline]]
at_s = 1
event = "submit_payroll"
file_format = "pain.001"

[[expect]]
metric = "by_reason.AM02"
min = 1
max = 500
"""
    scenario = parse_scenario(text)

    assert (scenario.scenario.seed, scenario.scenario.cycle) == (7, "2027-01")
    assert scenario.population.provinces == ("001", "079")
    assert scenario.population.registration_share == 0.45
    override = scenario.network.participants[VIETTEL_MONEY]
    assert (override.latency_ms, override.timeout_rate, override.pilot_2021_cap) == (300, 0.02, True)
    assert (override.reject_rate, override.late_answer_ms) == (None, None)
    spike, payroll = scenario.timeline
    assert (spike.event, spike.participant) == ("latency_spike", VIETTEL_MONEY)
    assert (spike.at_s, spike.latency_ms, spike.until_s) == (0, 4000, 60)
    assert (payroll.event, payroll.file_format) == ("submit_payroll", "pain.001")
    [expectation] = scenario.expect
    assert expectation.metric == "by_reason.AM02"
    assert (expectation.min, expectation.max, expectation.equals) == (1, 500, None)


def test_the_six_scenarios_named_in_the_design_are_shipped() -> None:
    assert {path.stem for path in SHIPPED.glob("*.toml")} == SHIPPED_NAMES


@pytest.mark.parametrize("stem", sorted(SHIPPED_NAMES))
def test_each_shipped_scenario_file_parses(stem: str) -> None:
    scenario = load_scenario(SHIPPED / f"{stem}.toml")

    assert isinstance(scenario, Scenario)
    assert scenario.scenario.name and scenario.scenario.description
    assert any(event.event == "submit_payroll" for event in scenario.timeline)
    assert scenario.expect, "a shipped scenario says what it expects"
    assert all(event.participant in (None, *KNOWN_BINS) for event in scenario.timeline)


def test_the_shipped_bank_outage_takes_vietcombank_down_before_the_payroll_comes() -> None:
    scenario = load_scenario(SHIPPED / "bank-outage.toml")

    outage = next(event for event in scenario.timeline if event.event == "outage")
    payroll = next(event for event in scenario.timeline if event.event == "submit_payroll")
    assert outage.participant == VIETCOMBANK
    assert outage.until_s is not None
    assert outage.at_s < payroll.at_s < outage.until_s


def test_the_shipped_registration_drive_pays_three_cycles() -> None:
    scenario = load_scenario(SHIPPED / "registration-drive.toml")

    cycles = [event.cycle for event in scenario.timeline if event.event == "submit_payroll"]
    assert cycles == ["2026-12", "2027-01", "2027-02"]


# --- files refused -----------------------------------------------------------------------------


def test_a_file_that_is_not_toml_is_refused_naming_the_line_of_the_syntax_error() -> None:
    text = HEADER + "registration_share = 0,30\n" + PAYROLL  # a decimal comma, as Vietnamese writes it

    line, key, rule = the_problem(text)

    assert line == line_of(text, "registration_share = 0,30")
    assert key == "(toml)"
    assert f"line {line}" in rule


def test_a_negative_population_size_is_refused_naming_population_size_on_its_line() -> None:
    text = MINIMAL.replace("size = 1500", "size = -1500")

    line, key, rule = the_problem(text)

    assert (line, key) == (line_of(text, "size = -1500"), "population.size")
    assert "greater than or equal to 1" in rule


def test_a_fractional_population_size_is_refused_naming_population_size_on_its_line() -> None:
    text = MINIMAL.replace("size = 1500", "size = 1500.5")

    line, key, rule = the_problem(text)

    assert (line, key) == (line_of(text, "size = 1500.5"), "population.size")
    assert "valid integer" in rule


def test_a_population_above_population_max_is_refused() -> None:
    text = MINIMAL.replace("size = 1500", f"size = {SCENARIO_POPULATION_MAX + 1}")

    line, key, rule = the_problem(text)

    assert (line, key) == (line_of(text, f"size = {SCENARIO_POPULATION_MAX + 1}"), "population.size")
    assert f"{SCENARIO_POPULATION_MAX}" in rule.replace(",", "").replace("_", "")


def test_a_boolean_population_size_is_refused() -> None:
    text = MINIMAL.replace("size = 1500", "size = true")

    line, key, _ = the_problem(text)

    assert (line, key) == (line_of(text, "size = true"), "population.size")


def test_a_share_above_one_is_refused_naming_the_key_and_its_line() -> None:
    text = HEADER + "registration_share = 1.3\n" + PAYROLL  # 130% of the population registered

    line, key, rule = the_problem(text)

    assert (line, key) == (line_of(text, "registration_share = 1.3"), "population.registration_share")
    assert "less than or equal to 1" in rule


# Explicit bounds, not `.filter(lambda share: share < 0)`: hypothesis rewrites such a filter into bounds and
# then lets 0.0 and -0.0 through.
outside_zero_to_one = st.one_of(
    st.floats(max_value=-math.ulp(0.0), allow_nan=False),
    st.floats(min_value=math.nextafter(1.0, 2.0), allow_nan=False),
)


@given(field=st.sampled_from(POPULATION_SHARES), share=outside_zero_to_one)
def test_any_population_share_outside_zero_to_one_is_refused_naming_its_key(field: str, share: float) -> None:
    written = f"{field} = {toml_float(share)}"
    text = HEADER + written + "\n" + PAYROLL

    line, key, rule = the_problem(text)

    assert (line, key) == (line_of(text, written), f"population.{field}")
    assert "than or equal to" in rule


@given(field=st.sampled_from(["timeout_rate", "reject_rate"]), share=outside_zero_to_one)
def test_any_participant_rate_outside_zero_to_one_is_refused_naming_its_key(field: str, share: float) -> None:
    written = f"{field} = {toml_float(share)}"
    text = HEADER + f"\n[network.participants.{VIETINBANK}]\n" + written + "\n" + PAYROLL

    line, key, _ = the_problem(text)

    assert (line, key) == (line_of(text, written), f"network.participants.{VIETINBANK}.{field}")


@given(share=outside_zero_to_one)
def test_any_registration_drive_share_outside_zero_to_one_is_refused_naming_its_key(share: float) -> None:
    written = f"share = {toml_float(share)}"
    text = MINIMAL + f'\n[[timeline]]\nat_s = 60\nevent = "registration_drive"\n{written}\n'

    line, key, _ = the_problem(text)

    assert (line, key) == (line_of(text, written), "timeline.1.share")


@given(field=st.sampled_from(POPULATION_SHARES), share=st.floats(min_value=0.0, max_value=1.0))
def test_any_population_share_inside_zero_to_one_is_kept_as_written(field: str, share: float) -> None:
    text = HEADER + f"{field} = {toml_float(share)}\n" + PAYROLL

    scenario = parse_scenario(text)

    assert getattr(scenario.population, field) == share


@given(size=st.integers(min_value=1, max_value=SCENARIO_POPULATION_MAX))
def test_any_population_size_from_one_to_population_max_is_accepted(size: int) -> None:
    scenario = parse_scenario(MINIMAL.replace("size = 1500", f"size = {size}"))

    assert scenario.population.size == size


@given(
    size=st.one_of(st.integers(max_value=0), st.integers(min_value=SCENARIO_POPULATION_MAX + 1, max_value=2**63 - 1))
)
def test_any_population_size_outside_one_to_population_max_is_refused(size: int) -> None:
    text = MINIMAL.replace("size = 1500", f"size = {size}")

    line, key, _ = the_problem(text)

    assert (line, key) == (line_of(text, f"size = {size}"), "population.size")


def test_an_unknown_participant_bin_in_a_network_table_is_refused_naming_the_bin() -> None:
    text = HEADER + f"\n[network.participants.{NOT_A_BIN}]\nlatency_ms = 200\n" + PAYROLL

    _, key, rule = the_problem(text)

    assert key.startswith("network")
    assert NOT_A_BIN in rule and "not BINs of the default network" in rule


def test_an_unknown_participant_bin_in_a_network_table_is_named_on_its_table_header_line() -> None:
    text = HEADER + f"\n[network.participants.{NOT_A_BIN}]\nlatency_ms = 200\n" + PAYROLL

    line, key, _ = the_problem(text)

    assert line == line_of(text, f"[network.participants.{NOT_A_BIN}]")
    assert NOT_A_BIN in key


def test_an_unknown_participant_bin_in_a_timeline_event_is_refused_on_the_event_header_line() -> None:
    text = MINIMAL + f'\n[[timeline]]\nat_s = 10\nevent = "outage"\nparticipant = "{NOT_A_BIN}"\nuntil_s = 40\n'

    line, key, rule = the_problem(text)

    assert (line, key) == (line_of(text, "[[timeline]]", occurrence=1), "timeline.1")
    assert f"participant: {NOT_A_BIN} is not a BIN" in rule


def test_an_outage_without_until_s_is_named_on_its_timeline_header_line() -> None:
    text = MINIMAL + f'\n[[timeline]]\nat_s = 10\nevent = "outage"\nparticipant = "{VIETCOMBANK}"\n'

    line, key, rule = the_problem(text)

    assert (line, key) == (line_of(text, "[[timeline]]", occurrence=1), "timeline.1")
    assert "outage needs until_s" in rule


@given(
    before=st.integers(min_value=0, max_value=6),
    after=st.integers(min_value=0, max_value=6),
    at_s=st.integers(min_value=0, max_value=3600),
)
def test_an_outage_without_until_s_is_named_on_its_own_header_wherever_it_stands(
    before: int, after: int, at_s: int
) -> None:
    payroll = '[[timeline]]\nat_s = {}\nevent = "submit_payroll"\n'
    events = [payroll.format(n) for n in range(before)]
    events.append(f'[[timeline]]\nat_s = {at_s}\nevent = "outage"\nparticipant = "{VIETCOMBANK}"\n')
    events += [payroll.format(n) for n in range(after)]
    if before + after == 0:
        events.append(payroll.format(0))
    text = HEADER + "\n" + "\n".join(events)

    line, key, _ = the_problem(text)

    assert (line, key) == (line_of(text, "[[timeline]]", occurrence=before), f"timeline.{before}")


@pytest.mark.parametrize("until_s", [5, 10], ids=["before at_s", "at at_s"])
def test_an_outage_that_ends_before_or_when_it_starts_is_refused(until_s: int) -> None:
    outage = f'[[timeline]]\nat_s = 10\nevent = "outage"\nparticipant = "{VIETCOMBANK}"\nuntil_s = {until_s}\n'
    text = MINIMAL + "\n" + outage

    line, key, rule = the_problem(text)

    assert (line, key) == (line_of(text, "[[timeline]]", occurrence=1), "timeline.1")
    assert "until_s: must be after at_s" in rule


def test_an_unknown_event_kind_is_refused_naming_the_event_key_on_its_line() -> None:
    text = MINIMAL + '\n[[timeline]]\nat_s = 30\nevent = "bank_holiday"\n'

    line, key, rule = the_problem(text)

    assert (line, key) == (line_of(text, 'event = "bank_holiday"'), "timeline.1.event")
    assert "submit_payroll" in rule and "outage" in rule


@pytest.mark.parametrize(
    ("text", "written", "key"),
    [
        (HEADER + "beneficiaries = 1500\n" + PAYROLL, "beneficiaries = 1500", "population.beneficiaries"),
        (MINIMAL.replace("[scenario]\n", '[scenario]\ncurrency = "VND"\n'), 'currency = "VND"', "scenario.currency"),
        (
            HEADER + f"\n[network.participants.{VIETINBANK}]\nlatency = 200\n" + PAYROLL,
            "latency = 200",
            f"network.participants.{VIETINBANK}.latency",
        ),
    ],
    ids=["in population", "in scenario", "in a participant"],
)
def test_an_unknown_key_is_refused_as_an_extra_field_on_its_line(text: str, written: str, key: str) -> None:
    problem = the_problem(text)

    assert problem == (line_of(text, written), key, "Extra inputs are not permitted")


def test_an_unknown_key_in_a_timeline_event_is_refused_on_its_line() -> None:
    text = MINIMAL + f'\n[[timeline]]\nat_s = 10\nevent = "outage"\nbank = "{VIETCOMBANK}"\nuntil_s = 40\n'

    problems = problems_of(text)

    assert (line_of(text, f'bank = "{VIETCOMBANK}"'), "timeline.1.bank", "Extra inputs are not permitted") in problems


def test_an_unknown_table_is_refused_on_its_header_line() -> None:
    text = MINIMAL + "\n[outcome]\ncashless_share = 0.3\n"

    assert the_problem(text) == (line_of(text, "[outcome]"), "outcome", "Extra inputs are not permitted")


def test_an_expectation_with_no_bound_is_refused_on_its_expect_header_line() -> None:
    text = MINIMAL + '\n[[expect]]\nmetric = "paid_twice"\n'

    line, key, rule = the_problem(text)

    assert (line, key) == (line_of(text, "[[expect]]"), "expect.0")
    assert "needs min, max or equals" in rule


def test_a_timeline_without_a_submit_payroll_is_refused() -> None:
    text = HEADER + f'\n[[timeline]]\nat_s = 0\nevent = "outage"\nparticipant = "{VIETCOMBANK}"\nuntil_s = 40\n'

    _, key, rule = the_problem(text)

    assert "timeline" in f"{key} {rule}"
    assert "needs at least one submit_payroll" in rule


def test_an_empty_timeline_is_refused_naming_timeline() -> None:
    text = "timeline = []\n" + HEADER  # a top-level key: before the first table

    problems = problems_of(text)

    assert any(key == "timeline" for _, key, _ in problems), problems


def test_a_timeline_of_events_max_events_parses_and_one_more_is_refused() -> None:
    restarts = '\n[[timeline]]\nat_s = 5\nevent = "switch_restart"\n' * (EVENTS_MAX - 1)
    assert len(parse_scenario(MINIMAL + restarts).timeline) == EVENTS_MAX

    text = MINIMAL + restarts + '\n[[timeline]]\nat_s = 6\nevent = "switch_restart"\n'
    _, key, rule = the_problem(text)

    assert key == "timeline"
    assert str(EVENTS_MAX) in rule


def test_a_file_over_scenario_bytes_max_is_refused_naming_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "december.toml"
    padding = "# " + "Chi trả trợ cấp xã hội tháng 12. " * 8 + "\n"
    text = MINIMAL
    while len(text.encode()) <= SCENARIO_BYTES_MAX:
        text += padding
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ScenarioInvalid) as refused:
        load_scenario(path)

    assert refused.value.problems == [(None, "(file)", f"at most {SCENARIO_BYTES_MAX} bytes")]
    assert str(path) in str(refused.value)


def test_a_file_of_exactly_scenario_bytes_max_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "december.toml"
    comment = "# padding\n"
    room = SCENARIO_BYTES_MAX - len(MINIMAL.encode()) - len(comment)
    path.write_bytes((MINIMAL + comment + "#" * (room - 1) + "\n").encode())
    assert path.stat().st_size == SCENARIO_BYTES_MAX

    assert load_scenario(path).population.size == 1500


def test_the_message_names_the_file_the_line_the_key_and_the_rule() -> None:
    text = MINIMAL.replace("size = 1500", "size = -1500")

    with pytest.raises(ScenarioInvalid) as refused:
        parse_scenario(text, "scenarios/files/december.toml")

    line = line_of(text, "size = -1500")
    assert str(refused.value).startswith(f"scenarios/files/december.toml:{line}: population.size: ")
    assert refused.value.path == "scenarios/files/december.toml"


def test_every_mistake_in_a_file_is_named_at_once() -> None:
    text = (
        HEADER.replace("size = 1500", "size = 0")
        + "registration_share = 1.3\n"
        + PAYROLL
        + '\n[[expect]]\nmetric = "cashless_share"\n'
    )

    keys = {key for _, key, _ in problems_of(text)}

    assert keys == {"population.size", "population.registration_share", "expect.0"}


def test_a_comment_after_a_timeline_header_does_not_shift_the_line_named() -> None:
    text = (
        HEADER
        + '\n[[timeline]]  # December\nat_s = 0\nevent = "submit_payroll"\n'
        + f'\n[[timeline]]\nat_s = 10\nevent = "outage"\nparticipant = "{VIETCOMBANK}"\n'
        + '\n[[timeline]]\nat_s = 20\nevent = "switch_restart"\n'
    )

    line, key, _ = the_problem(text)

    assert key == "timeline.1"
    assert line == line_of(text, "[[timeline]]", occurrence=0)  # the outage's header: the second [[timeline]]


def test_a_program_mix_is_read_and_one_adding_up_to_more_than_one_is_refused_naming_programs() -> None:
    mix = "\n[population.programs]\nmerit_person = 0.5\ndisability = 0.25\n"
    text = MINIMAL.replace("size = 1500\n", "size = 1500\n" + mix)
    assert parse_scenario(text).population.programs == {Program.MERIT_PERSON: 0.5, Program.DISABILITY: 0.25}

    line, key, rule = the_problem(text.replace("disability = 0.25", "disability = 0.75"))

    assert (line, key) == (line_of(text, "[population]"), "population")
    assert "programs" in rule and "more than 1" in rule


def test_an_expectation_whose_minimum_is_above_its_maximum_is_refused_on_its_line() -> None:
    text = MINIMAL + '\n[[expect]]\nmetric = "cashless_share"\nmin = 0.5\nmax = 0.2\n'

    line, key, rule = the_problem(text)

    assert (line, key) == (line_of(text, "[[expect]]"), "expect.0")
    assert "min" in rule and "max" in rule
