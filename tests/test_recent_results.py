"""Results handed out lately are handed out again as they are: made once per key, kept for their time
to live, the least recently used going first past the limit, and all forgotten on clear()."""

from __future__ import annotations

from ui import recent


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _memo(max_entries=3, ttl=60.0):
    clock = Clock()
    return recent.Recent(max_entries, ttl, clock=clock), clock


def test_the_same_key_gets_the_same_object_made_once():
    memo, _ = _memo()
    made = []

    def make():
        made.append(1)
        return {"rows": [1, 2, 3]}

    first = memo.get(("table", "reasons", ("card",)), make)
    assert memo.get(("table", "reasons", ("card",)), make) is first and len(made) == 1
    assert memo.get(("table", "reasons", ("cash",)), make) is not first and len(made) == 2


def test_a_result_is_made_again_after_its_time_to_live():
    memo, clock = _memo(ttl=60)
    first = memo.get("k", lambda: object())
    clock.now = 59.9
    assert memo.get("k", lambda: object()) is first
    clock.now = 60.0   # made at 0, kept for 60 s: now it is made again
    again = memo.get("k", lambda: object())
    assert again is not first and memo.get("k", lambda: object()) is again


def test_past_the_limit_the_least_recently_used_goes():
    memo, _ = _memo(max_entries=3)
    for key in "abc":
        memo.get(key, lambda k=key: k.upper())
    memo.get("a", lambda: "new a")          # a used last: b is now the oldest
    memo.get("d", lambda: "D")
    assert len(memo) == 3
    assert memo.get("b", lambda: "new b") == "new b"
    assert memo.get("a", lambda: "newer a") == "A"


def test_a_key_that_cannot_be_hashed_is_made_each_time_and_not_kept():
    memo, _ = _memo()
    assert memo.get(("k", ["a list"]), lambda: 1) == 1
    assert memo.get(("k", ["a list"]), lambda: 2) == 2
    assert len(memo) == 0


def test_clear_forgets_every_memo():
    first, _ = _memo()
    second, _ = _memo()
    first.get("a", lambda: 1)
    second.get("b", lambda: 2)
    recent.clear()
    assert len(first) == len(second) == 0
    assert first.get("a", lambda: 3) == 3


def test_work_on_a_frame_is_kept_while_the_frame_lives_and_forgotten_with_it():
    import gc
    from functools import partial

    import polars as pl

    from ui.recent import PerFrame

    memo = PerFrame()
    made = []

    def digest_of(frame):
        made.append(frame.height)
        return frame.height * 10

    one, two = pl.DataFrame({"a": [1, 2]}), pl.DataFrame({"a": [1, 2, 3]})
    assert memo.get(one, "digest", partial(digest_of, one)) == 20
    assert memo.get(one, "digest", partial(digest_of, one)) == 20      # kept: not made again
    assert memo.get(two, "digest", partial(digest_of, two)) == 30      # another frame, equal or not, its own
    assert memo.get(one, "other", lambda: "x") == "x"                  # another piece of work on the same frame
    assert made == [2, 3] and len(memo) == 3
    del one
    gc.collect()
    assert len(memo) == 1                                              # the collected frame's entries are gone
    del two
    gc.collect()
    assert len(memo) == 0


def test_a_frame_worked_out_from_a_kept_frame_and_kept_itself_goes_with_it_without_a_hang():
    """A table made from a frame (kept on the frame) and then shown (its own work kept on it): when the first
    frame goes, the second goes with it, and its entry is forgotten too. The second's collection used to
    wait for the lock its parent's was holding, for ever."""
    import threading
    from functools import partial

    import polars as pl

    from ui.recent import PerFrame

    memo = PerFrame()

    def chain():
        source = pl.DataFrame({"a": [1, 2, 3]})
        counted = memo.get(source, "counted", partial(pl.DataFrame.head, source, 2))
        memo.get(counted, "shown", partial(str, counted))
        del counted
        assert len(memo) == 2
        del source   # frees the counted frame inside the source's _forget

    worker = threading.Thread(target=chain, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "forgetting a frame hung"
    assert len(memo) == 0


def test_results_past_the_byte_limit_go_least_recently_used_first_and_a_large_one_is_still_handed_out():
    import numpy as np

    memo = recent.Recent(100, 60.0, clock=Clock(), max_bytes=3_000, sizer=lambda v: v.nbytes)
    a = memo.get("a", lambda: np.zeros(125))    # 1,000 bytes each
    memo.get("b", lambda: np.zeros(125))
    memo.get("c", lambda: np.zeros(125))
    assert memo.total_bytes() == 3_000 and len(memo) == 3
    assert memo.get("a", lambda: None) is a     # used: now the most recent
    memo.get("d", lambda: np.zeros(125))        # 4,000 bytes: "b", the least recently used, goes
    assert len(memo) == 3 and memo.total_bytes() == 3_000
    again = np.ones(125)
    assert memo.get("b", lambda: again) is again                # gone, so made again
    big = memo.get("big", lambda: np.zeros(1_000))   # 8,000 bytes alone: kept (in use), the others go
    assert memo.get("big", lambda: None) is big and len(memo) == 1 and memo.total_bytes() == 8_000
    memo.clear()
    assert memo.total_bytes() == 0 and len(memo) == 0


def test_the_pages_results_memo_is_bounded_in_bytes_by_what_they_hold():
    import polars as pl

    from ui import cached

    assert cached.RECENT.max_bytes == cached.RECENT_MAX_BYTES
    frame = pl.DataFrame({"x": range(100_000)})   # 800,000 bytes
    memo = recent.Recent(10, 60.0, clock=Clock(), max_bytes=10**9)
    memo.get("f", lambda: {"table": frame})
    assert 800_000 <= memo.total_bytes() < 801_000
