"""The welfare payer (MOLISA with the State Treasury): population registry, rolls, payrolls.

Small until the payroll issue; it meets the switch only through the scheme.
"""
