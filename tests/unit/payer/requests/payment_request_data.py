"""Data for the payment-request tests: officers of MOLISA and the State Treasury, citizens with
valid CCCD ids and Vietnamese names, and hypothesis strategies for payment-list lines."""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from payer.programs import RULES
from payer.registry import citizen_id_for
from payer.requests.schemas import Officer, PaymentList, PaymentListLine, Role
from switch.scheme.codes import Program

CYCLE = "2026-05"
NOW_MS = 1_777_600_000_000  # 2026-05-01, in the simulated clock's milliseconds

MOLISA_OFFICER = Officer(officer_id="molisa.nguyen.thi.lan", name="Nguyễn Thị Lan", role=Role.MOLISA_OFFICER)
OTHER_MOLISA_OFFICER = Officer(officer_id="molisa.pham.van.duc", name="Phạm Văn Đức", role=Role.MOLISA_OFFICER)
TREASURY_PREPARER = Officer(officer_id="kbnn.tran.van.hung", name="Trần Văn Hùng", role=Role.TREASURY_PREPARER)
TREASURY_APPROVER = Officer(officer_id="kbnn.le.thi.hoa", name="Lê Thị Hoa", role=Role.TREASURY_APPROVER)

# Budgets for the cycle far above any test list, by program.
AMPLE_BUDGETS_VND = {program: 10**12 for program in Program}

NAMES = (
    "Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Đức", "Vũ Thị Hạnh",
    "Đặng Văn Khoa", "Bùi Thị Lan", "Đỗ Văn Minh", "Hồ Thị Ngọc", "Ngô Văn Phúc", "Dương Thị Quỳnh",
    "Lý Văn Sơn", "Trịnh Thị Thu", "Đinh Văn Tuấn", "Mai Thị Yến",
)  # fmt: skip
PROVINCES = ("001", "079", "048", "038", "092")  # Hà Nội, Hồ Chí Minh, Đà Nẵng, Thanh Hóa, Cần Thơ


def citizen(number: int) -> tuple[str, str]:
    """A citizen id and a name, the same for the same number."""
    province = PROVINCES[number % len(PROVINCES)]
    birth_date = date(1940 + number % 60, 1 + number % 12, 1 + number % 28)
    citizen_id = citizen_id_for(province, birth_date, female=number % 2 == 1, serial=100_000 + number)
    return citizen_id, NAMES[number % len(NAMES)]


def line(number: int, program: Program = Program.SOCIAL_ASSISTANCE, amount_vnd: int | None = None) -> PaymentListLine:
    citizen_id, name = citizen(number)
    if amount_vnd is None:
        rule = RULES[program]
        amount_vnd = rule.standard_vnd * rule.coefficients_tenths[number % len(rule.coefficients_tenths)] // 10
    return PaymentListLine(citizen_id, name, citizen_id[:3], program, amount_vnd)


def payment_list(lines: list[PaymentListLine], prepared_by: Officer = MOLISA_OFFICER) -> PaymentList:
    return PaymentList(CYCLE, prepared_by, tuple(lines))


AMOUNTS_VND = st.sampled_from([500_000, 750_000, 1_000_000, 1_250_000, 1_500_000, 2_789_000, 4_183_500, 5_578_000])


@st.composite
def lines(draw: st.DrawFn, min_size: int = 1, max_size: int = 30) -> list[PaymentListLine]:
    """Distinct (citizen, program) lines with amounts as the programs pay them."""
    keys = draw(
        st.lists(
            st.tuples(st.integers(0, 400), st.sampled_from(list(Program))),
            min_size=min_size,
            max_size=max_size,
            unique=True,
        )
    )
    return [line(number, program, draw(AMOUNTS_VND)) for number, program in keys]
