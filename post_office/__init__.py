"""The post office's cash payouts (Vietnam Post as a participant with its own ledger).

Welfare the switch could not pay to an account, and people who cannot open one, are paid in cash
at the post office of their commune. The post office receives a cash list per commune, is funded
for it by the State Treasury, pays each person who comes with their id (or their authorised
representative, recorded as such), marks those who did not come by the deadline as unclaimed,
and returns the unclaimed money to the Treasury.

`post_office` names the role, as `banks` and `wallets` do: the sandbox's participant playing it is
Vietnam Post (VNPost), which pays most of Vietnam's cash welfare; another operator could play it.
"""
