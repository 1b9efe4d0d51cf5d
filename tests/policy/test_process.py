"""GC settings of the policy server: the startup objects are left out of collections, pauses are counted."""
from __future__ import annotations

import gc

from robot_rl.policy.process import GcPauses, freeze_startup_objects


def test_freeze_startup_objects_leaves_them_out_of_later_collections() -> None:
    try:
        alive = [object() for _ in range(1000)]
        freeze_startup_objects()
        assert gc.get_freeze_count() >= len(alive)
        assert not any(o is alive for o in gc.get_objects())  # frozen objects are no longer tracked generations
    finally:
        gc.unfreeze()


def test_gc_pauses_counts_full_collections_and_the_longest_pause() -> None:
    pauses = GcPauses()
    try:
        gc.collect(0)
        gc.collect(2)
        assert pauses.collections[0] >= 1 and pauses.collections[2] >= 1
        assert pauses.max_pause_s > 0.0
    finally:
        pauses.close()
    gc.collect(2)
    assert pauses._on_gc not in gc.callbacks
