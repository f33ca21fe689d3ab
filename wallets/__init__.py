"""A simulated mobile-money provider: wallets keyed by mobile number, with KYC and caps.

It is a participant node like a bank (same inbound protocol and knobs); what differs is the account
key (the phone number, MSISDN) and the caps on what a wallet may receive.
"""
