"""The scheme: the public contract between the switch and its participants.

Messages (ISO 20022 shapes, snake_case element names), status and reason codes, identifiers and
the name check. Banks, wallets and the payer import this and the ledger, never the switch itself.
"""
