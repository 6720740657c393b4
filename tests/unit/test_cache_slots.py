"""The cache's slot table: loads racing an invalidation are dropped, later loads are kept.

``_Slots`` is the pure part of ``gatepass.cache.store``; it decides whether a value loaded from
the database may enter the cache. Getting it wrong either serves revoked credentials (a stale
load wins) or sends every request to the database (fresh loads are refused).
"""

from __future__ import annotations

from gatepass.cache.store import _Slots


def test_a_loaded_value_is_served_from_the_cache() -> None:
    slots: _Slots[str, int] = _Slots(10)
    slots.put("acme", 1, slots.counter)
    assert slots.get("acme", 0.0) == (True, 1)


def test_an_unknown_key_is_a_miss() -> None:
    slots: _Slots[str, int] = _Slots(10)
    assert slots.get("acme", 0.0) == (False, None)


def test_invalidation_drops_the_cached_value() -> None:
    slots: _Slots[str, int] = _Slots(10)
    slots.put("acme", 1, slots.counter)
    slots.invalidate("acme")
    assert slots.get("acme", 0.0) == (False, None)


def test_a_load_overlapping_an_invalidation_is_not_cached() -> None:
    slots: _Slots[str, int] = _Slots(10)
    started = slots.counter
    slots.invalidate("acme")  # the row changed while the load was reading the old value
    slots.put("acme", 1, started)
    assert slots.get("acme", 0.0) == (False, None)


def test_a_load_started_after_an_invalidation_is_cached() -> None:
    slots: _Slots[str, int] = _Slots(10)
    slots.put("acme", 1, slots.counter)
    slots.invalidate("acme")
    started = slots.counter  # the reload begins after the change was applied
    slots.put("acme", 2, started)
    assert slots.get("acme", 0.0) == (True, 2)


def test_an_invalidation_of_another_key_does_not_block_a_load() -> None:
    slots: _Slots[str, int] = _Slots(10)
    started = slots.counter
    slots.invalidate("other")
    slots.put("acme", 1, started)
    assert slots.get("acme", 0.0) == (True, 1)


def test_a_load_overlapping_a_clear_is_not_cached() -> None:
    slots: _Slots[str, int] = _Slots(10)
    started = slots.counter
    slots.clear()
    slots.put("acme", 1, started)
    assert slots.get("acme", 0.0) == (False, None)


def test_the_oldest_value_is_evicted_at_the_limit() -> None:
    slots: _Slots[str, int] = _Slots(2)
    for key, value in (("a", 1), ("b", 2), ("c", 3)):
        slots.put(key, value, slots.counter)
    assert slots.get("a", 0.0) == (False, None)
    assert slots.get("c", 0.0) == (True, 3)
