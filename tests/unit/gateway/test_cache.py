"""The gateway's one-second memory of keys and peers."""

from __future__ import annotations

from gateway.cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


def test_a_value_is_loaded_once_within_its_second_and_again_after_it() -> None:
    clock, loads = Clock(), []
    cache: TtlCache[str, str] = TtlCache(ttl_s=1.0, clock=clock)

    def load(key: str) -> str:
        loads.append(key)
        return "970436"

    assert cache.get("key-1", load) == cache.get("key-1", load) == "970436"
    clock.now_s += 1.5
    assert cache.get("key-1", load) == "970436"
    assert loads == ["key-1", "key-1"]


def test_an_unknown_key_is_never_remembered_so_a_new_participant_is_known_at_once() -> None:
    cache: TtlCache[str, str] = TtlCache(clock=Clock())
    known: dict[str, str] = {}
    assert cache.get("new-key", known.get) is None
    known["new-key"] = "970499"
    assert cache.get("new-key", known.get) == "970499"


def test_the_cache_keeps_at_most_its_limit_dropping_the_least_recently_used() -> None:
    cache: TtlCache[str, str] = TtlCache(entries_max=2, clock=Clock())
    for key in ("a", "b"):
        cache.get(key, str.upper)
    cache.get("a", str.upper)  # a is used again: b is now the oldest
    cache.get("c", str.upper)
    loads: list[str] = []

    def counted(key: str) -> str:
        loads.append(key)
        return key.upper()

    assert [cache.get(k, counted) for k in ("a", "c", "b")] == ["A", "C", "B"]
    assert loads == ["b"]
