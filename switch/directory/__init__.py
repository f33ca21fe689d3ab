"""The alias directory: citizen id or mobile number to a financial address (BIN + account)."""
