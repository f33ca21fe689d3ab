"""Nothing the project starts outlives what started it.

Every child process is started with Linux's parent-death signal (prctl PR_SET_PDEATHSIG): when its
parent ends, however it ends (SIGKILL included, which no handler sees), the kernel sends the child
SIGTERM, and the child ends too. Uvicorn's master passes it on to its workers when it stops; each
switch worker also asks for it itself (gateway.switch_process), so a worker whose master was killed
outright ends as well.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
from collections.abc import Sequence
from typing import Any

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel for SIGTERM when this process's parent ends. Safe in a preexec_fn: one prctl."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_child(command: Sequence[str], **options: Any) -> subprocess.Popen[Any]:
    """subprocess.Popen with the parent-death signal set in the child."""
    return subprocess.Popen(command, preexec_fn=die_with_parent, **options)  # prctl only: no fork hazards
