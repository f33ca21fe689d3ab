"""Scenarios: the in-process network and clock, the default network, the demo, benchmarks, checks.

This package is a composition root: the one place (with the CLI) that wires the switch, the banks
and the wallets together.
"""
