"""Locust files for load runs against `switchyard serve` (see `switchyard loadtest`).

Each file's docstring gives its command. They read their configuration from the JSON file named
by SWITCHYARD_LOADTEST_CONFIG, which `switchyard loadtest` writes: the switch's URL, the load
participants (BIN, API key, account) and the creditor accounts to pay, and the thresholds.
"""
