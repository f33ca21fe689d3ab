"""`switchyard certify`: a conformance kit for an integrator's own participant.

It plays the switch against a participant's inbound API (the one every simulated bank serves) and
runs a fixed, documented list of checks (`conformance.checks`), with the integrator's test accounts
(`conformance.accounts`), over JSON or the ISO 20022 XML wire (`conformance.client`), and reports
each check's outcome and why on the terminal, as JUnit XML for CI and as an HTML page
(`conformance.report`).
"""
