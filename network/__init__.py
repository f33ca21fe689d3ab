"""The sandbox network: the default participants, building and wiring nodes, storage, the
in-process transport and its simulated clock, the population's accounts, a payroll run on it, and
the invariants checked after every run.

Everything above (scenarios, load tests, the HTTP gateway) builds its nodes here, so a node is made
one way whichever transport carries its messages.
"""
