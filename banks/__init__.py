"""A simulated bank: core-banking accounts on its own ledger, speaking the scheme to the switch.

The same node, configured with wallet caps, is the simulated mobile-money provider (`wallets`).
"""
