"""Person-to-person transfers with the skew Mojaloop's performance runs use: one participant sends
70% of the traffic, the others share the rest.

    switchyard loadtest --profile skewed --duration 60 --users 50
    SWITCHYARD_LOADTEST_CONFIG=out/loadtest/config.json locust -f loadtests/skewed.py --headless \\
        -u 50 -r 50 --run-time 60s --host http://127.0.0.1:8000

Pass criteria: those of p2p (no unexpected failure, p99 under 100 ms, 1,000 transfers a second).
"""

from __future__ import annotations

from typing import Any

# The module, not the class: locust runs every user class a locustfile's namespace holds.
from loadtests import p2p

HEAVY_SENDER_SHARE = 0.70


class SkewedTransferUser(p2p.TransferUser):
    def _payer(self) -> dict[str, Any]:
        if len(self.payers) == 1 or self.random.random() < HEAVY_SENDER_SHARE:
            return dict(self.payers[0])
        return dict(self.random.choice(self.payers[1:]))
