"""Disbursements: a payer's payroll file, screened, paid through clearing, reported."""
