"""Clearing of credit transfers: validate, de-duplicate, reserve, forward, settle or release."""
