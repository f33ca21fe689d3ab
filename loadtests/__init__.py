"""Locust files for load runs against `switchyard serve` (see `switchyard loadtest`).

Each file's docstring gives its command. They read their configuration from the JSON file named
by SWITCHYARD_LOADTEST_CONFIG, which `switchyard loadtest` writes: the switch's URL, the load
participants (BIN, API key, account) and the creditor accounts to pay, and the thresholds.
"""

# The environment variables a run's thresholds can be tightened or loosened with. Here, not in
# `common`, so the CLI can read them without importing locust (which patches the process for gevent).
FAILURE_RATIO_MAX_VARIABLE = "SWITCHYARD_FAILURE_RATIO_MAX"
P99_MS_MAX_VARIABLE = "SWITCHYARD_P99_MS_MAX"
RPS_MIN_VARIABLE = "SWITCHYARD_RPS_MIN"
THRESHOLD_VARIABLES = frozenset({FAILURE_RATIO_MAX_VARIABLE, P99_MS_MAX_VARIABLE, RPS_MIN_VARIABLE})

# A run at a fixed rate (`loadtest --rate N`) met its rate when locust's requests per second came
# within this share of the offered rate (the last paced slots of each user fall past the run's end).
RATE_SHORTFALL_MAX = 0.05
