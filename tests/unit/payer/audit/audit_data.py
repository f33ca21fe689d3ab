"""Audit events that look like the payroll's: Treasury and MOLISA officers, request ids, VND amounts."""

from __future__ import annotations

from hypothesis import strategies as st

from payer.audit.schemas import (
    AuditAction,
    AuditEvent,
    AuditRole,
    cash_list_subject,
    payment_request_subject,
    payroll_item_subject,
)

DECEMBER_2026_MS = 1_796_058_000_000  # 2026-12-01 00:00 in Hanoi (UTC+7), in ms since 1970
OFFICERS = ("Nguyễn Thị Lan", "Trần Văn Đức", "Lê Hoàng Yến", "Phạm Quốc Bảo", "Đặng Thu Hà", "Vũ Minh Khôi")
REQUESTS = ("MOLISA-2026-12-HN-0001", "MOLISA-2026-12-HCM-0007", "MOLISA-2026-12-DN-0003")

subjects = st.one_of(
    st.builds(payment_request_subject, st.sampled_from(REQUESTS), st.integers(1, 5)),
    st.builds(payroll_item_subject, st.sampled_from(REQUESTS), st.from_regex(r"\AE2E-2026-12-[0-9]{6}\Z")),
    st.builds(cash_list_subject, st.sampled_from(REQUESTS), st.from_regex(r"\A[0-9]{5}\Z")),
)
detail_values = st.one_of(
    st.integers(0, 5_000_000_000),
    st.sampled_from(("AC04", "BE01", "tổng không khớp", "đã nhận thay: Nguyễn Văn Tâm", "")),
    st.booleans(),
    st.none(),
)
details = st.dictionaries(
    st.sampled_from(("amount_vnd", "items", "reason", "representative", "version", "digest")), detail_values, max_size=4
)
events = st.builds(
    AuditEvent,
    time_ms=st.integers(DECEMBER_2026_MS, DECEMBER_2026_MS + 31 * 86_400_000),
    actor=st.sampled_from(OFFICERS),
    role=st.sampled_from(AuditRole),
    action=st.sampled_from(AuditAction),
    subject=subjects,
    details=details,
)
