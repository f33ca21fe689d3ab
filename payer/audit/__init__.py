"""The payroll's audit trail: every step, who took it and when, in an append-only, hash-chained log.

`core` chains and verifies (pure), `repository` holds the table and every query, `service` appends in
the caller's transaction and verifies a whole log page by page. What the chain proves, and what it
cannot, is in `core`'s docstring.
"""
