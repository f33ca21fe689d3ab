"""The scheme's calendar: Vietnam time (UTC+7, no daylight saving), from the injected clock's ms."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

VIETNAM = timezone(timedelta(hours=7))


def local_time(now_ms: int) -> datetime:
    """Dates that rules depend on (a birth year in the future, a wallet's month) are Vietnam's."""
    return datetime.fromtimestamp(now_ms / 1000, tz=VIETNAM)


def month_of(now_ms: int) -> str:
    return local_time(now_ms).strftime("%Y-%m")
