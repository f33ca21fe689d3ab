"""The participant registry: BIN, name, kind, status, net debit cap, prefunded liquidity."""
