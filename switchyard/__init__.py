"""The `switchyard` command: the one composition root.

It parses the command line and calls the rooms below it (scenarios, loadtests, gateway, network);
nothing below imports it.
"""
