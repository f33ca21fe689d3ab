"""The welfare payer (MOLISA with the State Treasury): population registry, programs, beneficiary
rolls, the payroll files it writes, their submission and the reconciliation of what came back.

It meets the switch only through the scheme, as a real payer does.
"""
