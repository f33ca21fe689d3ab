"""The simulated banks and wallets of `switchyard serve`, in a process of their own.

    python -m gateway.participants_process <out>/participants.json

serve starts it with the settings it wrote (ports, storage, the switch's URL, each participant's
key and signing secret) and stops it when it stops; see gateway.serve.serve_participants.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path

import uvloop

from gateway.serve import serve_participants
from network import collector


def main(argv: list[str]) -> int:
    settings = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    collector.tune_for_throughput()
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve_participants(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
