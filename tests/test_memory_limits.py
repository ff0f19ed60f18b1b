"""The server's memory is bounded by its limits: the what-if engine's loaded data sets are dropped by
total size (least recently used first) and by idle time, with the limits read from the environment;
the What-if page keeps its data sets in that cache."""

from __future__ import annotations

import dataclasses
import sys
import threading
import time

import app_support as s
import numpy as np
import polars as pl
import pytest

from analytics import memory


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _cache(max_bytes: int, idle: float = 600) -> tuple[memory.SizedCache, Clock]:
    clock = Clock()
    return memory.SizedCache(max_bytes, idle, sizer=len, clock=clock), clock


def test_size_of_counts_an_arrays_buffer_once_however_many_views_share_it():
    a = np.zeros(1_000, dtype=np.float64)   # 8,000 bytes of data
    alone = memory.size_of((a,))
    assert 8_000 < alone < 8_000 + 500
    # A view adds only the tuple's one more slot (8 bytes), not another 8,000.
    assert memory.size_of((a, a[10:500])) - alone == 8
    # Two arrays: both buffers.
    assert memory.size_of((a, np.ones(500))) - alone == 4_000 + sys.getsizeof(np.empty(0)) + 8
    frame = pl.DataFrame({"x": np.arange(10_000, dtype=np.int64)})   # 80,000 bytes
    assert memory.size_of(frame) == frame.estimated_size() == 80_000


def test_the_least_recently_used_go_first_when_the_total_passes_the_limit():
    cache, _ = _cache(max_bytes=250)
    cache.get("a", lambda: b"x" * 100)
    cache.get("b", lambda: b"x" * 100)
    cache.get("a", lambda: pytest.fail("a is kept"))   # a is now the most recently used
    cache.get("c", lambda: b"x" * 100)                  # 300 > 250: b, the least recently used, goes
    assert cache.keys() == ["a", "c"] and cache.total_bytes() == 200
    assert cache.evicted == [("b", "size")]
    made = []
    cache.get("b", lambda: made.append(1) or b"x" * 100)  # made again, and a goes
    assert made == [1] and cache.keys() == ["c", "b"]


def test_a_value_larger_than_the_limit_is_kept_while_it_is_the_one_in_use():
    cache, _ = _cache(max_bytes=250)
    cache.get("a", lambda: b"x" * 100)
    big = cache.get("big", lambda: b"x" * 400)
    assert len(big) == 400 and cache.keys() == ["big"]
    cache.get("a", lambda: b"x" * 100)
    assert cache.keys() == ["a"]


def test_a_value_that_grows_while_kept_is_measured_again():
    cache, _ = _cache(max_bytes=250)
    grows = bytearray(b"x" * 100)
    cache.get("grows", lambda: grows)
    cache.get("b", lambda: b"x" * 100)
    grows.extend(b"x" * 100)                      # now 200 + 100 = 300 > 250 at the next look
    cache.get("grows", lambda: pytest.fail("kept"))
    assert cache.keys() == ["grows"] and cache.evicted == [("b", "size")]


def test_a_refusing_cache_keeps_what_it_holds_and_makes_the_rest_each_time():
    """Asked in a cycle longer than it holds (replicates 0, 1, 2, 3, then again), a refusing cache keeps
    the first ones for good; one that dropped the least recently used would keep none of them."""
    clock = Clock()
    cache = memory.SizedCache(250, float("inf"), sizer=len, clock=clock, full="refuse")
    made: list[int] = []
    for _ in range(3):
        for k in range(4):
            cache.get(k, lambda k=k: made.append(k) or b"x" * 100)
    assert cache.keys() == [0, 1] and cache.total_bytes() == 200
    assert made == [0, 1, 2, 3, 2, 3, 2, 3] and cache.evicted == []
    with pytest.raises(ValueError, match="full"):
        memory.SizedCache(1, 1, full="lru")


def test_a_forked_child_finds_the_caches_unlocked_though_a_parent_thread_held_one():
    """The frontier forks workers while other sessions' threads use the what-if caches: a lock held at
    the fork would never be let go in the child."""
    import multiprocessing

    cache = memory.SizedCache(10**6, 600)
    cache.get("kept", lambda: b"x")
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with cache._lock:
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(10)
    try:
        fork = multiprocessing.get_context("fork")
        reader, writer = fork.Pipe(duplex=False)
        child = fork.Process(target=lambda: writer.send(cache.get("kept", lambda: b"made")), daemon=True)
        child.start()
        assert reader.poll(20), "the child waited on the parent's lock"
        assert reader.recv() == b"x"
        child.join(10)
    finally:
        release.set()
        thread.join()


def test_values_unused_for_longer_than_the_idle_limit_go():
    cache, clock = _cache(max_bytes=10_000, idle=60)
    cache.get("a", lambda: b"a")          # used at t=0
    clock.now = 50
    cache.get("b", lambda: b"b")          # used at t=50
    clock.now = 100                       # a: idle 100 s > 60; b: idle 50 s
    cache.get("b", lambda: pytest.fail("b is kept"))
    assert cache.keys() == ["b"] and cache.evicted == [("a", "idle")]
    clock.now = 160.5                     # b last used at 100: idle 60.5 s
    cache.sweep()
    assert cache.keys() == [] and cache.total_bytes() == 0


def test_the_total_it_counts_is_what_it_keeps_through_every_kind_of_change():
    """The cache adds sizes up as values come and go (no pass over its values at each get): after growth,
    idle and size evictions, a refused value and a clear, its total is still the sum of what it keeps."""
    cache, clock = _cache(max_bytes=1_000, idle=60)
    kept: dict[str, bytearray] = {}

    def value(key: str, size: int):
        return lambda: kept.setdefault(key, bytearray(b"x" * size))

    def agrees() -> None:
        assert cache.total_bytes() == sum(len(kept[k]) for k in cache.keys())

    for i in range(8):                       # 8 x 200 > 1,000: the least recently used go by size
        clock.now = i
        cache.get(f"v{i}", value(f"v{i}", 200))
        agrees()
    kept["v7"].extend(b"x" * 300)            # grows while kept: measured again at its next get
    cache.get("v7", pytest.fail)
    agrees()
    clock.now = 67                           # v5 (used at 5) and v6 (at 6) are idle now; v7 (at 7) not
    cache.get("new", value("new", 10))
    assert [k for k, why in cache.evicted[-2:]] == ["v5", "v6"] and cache.keys() == ["v7", "new"]
    agrees()
    cache.clear()
    assert cache.total_bytes() == 0 and cache.keys() == []


def _memo(max_bytes: int, idle: float = 600) -> tuple[memory.Memo, Clock, int]:
    clock = Clock()
    one = memory.size_of(("a", "x" * 1_000))   # every entry below is this size
    return memory.Memo(max_bytes * one, idle, clock=clock), clock, one


def test_a_memo_drops_its_least_recently_used_entry_by_entry_past_its_bytes():
    memo, _, one = _memo(3)
    for key in "abc":
        memo[key] = key * 1_000
    assert memo.get("a") == "a" * 1_000   # a is now the most recently used
    memo["d"] = "d" * 1_000
    assert list(memo) == ["c", "a", "d"] and "b" not in memo
    assert memo.total_bytes() == 3 * one
    memo["a"] = "A" * 1_000   # written again: counted once
    assert len(memo) == 3 and memo.total_bytes() == 3 * one and memo["a"] == "A" * 1_000
    with pytest.raises(KeyError):
        memo["b"]


def test_a_memo_drops_entries_nobody_asked_for_in_its_idle_time():
    memo, clock, one = _memo(10, idle=60)
    memo["a"], memo["b"] = "a" * 1_000, "b" * 1_000
    clock.now = 50
    memo.get("a")
    clock.now = 100   # b last used at 0, a at 50
    memo["c"] = "c" * 1_000
    assert list(memo) == ["a", "c"] and memo.total_bytes() == 2 * one


def test_the_engine_remembers_replays_within_its_memo_and_replays_the_dropped_ones_alike(tmp_path):
    from analytics import db, simulate
    from analytics.generate import generate
    from analytics.policy import Policy

    con = db.connect(tmp_path / "memo.duckdb")
    prep = simulate.prepare_dataset(con, generate(con, 2_000, 3).dataset.id)
    one = memory.size_of(next(iter(prep.memo.items())))
    small = dataclasses.replace(prep, memo=memory.Memo(5 * one, 600))   # measured by size_of: 5 entries
    policies = [Policy(seller_response_hours=h) for h in (12, 24, 36, 48, 60, 72, 84, 96)]
    first = [simulate.replicate_figures(small, p, 0, 0) for p in policies]
    assert len(small.memo) <= 5 and small.memo.total_bytes() <= 5 * one * 1.01
    assert (policies[-1], 0, 0) in small.memo and (policies[0], 0, 0) not in small.memo
    # A dropped replay is made again, with the same figures (the replicate's draws are its seed's).
    again = simulate.replicate_figures(small, policies[0], 0, 0)
    assert again[0] == first[0][0]
    # The Prepared's own memo is bounded by the engine's limits, each replay counted by what it adds.
    assert (prep.memo.max_bytes, prep.memo.idle_seconds) == (simulate.MEMO_BYTES, simulate.MEMO_IDLE_SECONDS)
    assert 0.3 * one < prep.memo.total_bytes() / len(prep.memo) < one


def test_the_background_sweep_drops_idle_values_with_nobody_asking():
    cache = memory.SizedCache(10_000, idle_seconds=0.2, sizer=len)
    cache.get("a", lambda: b"a")
    cache.sweep_every(0.05)
    deadline = time.monotonic() + 5
    while cache.keys() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.keys() == []


def test_sessions_asking_for_the_same_data_set_at_once_load_it_once():
    cache = memory.SizedCache(10_000, 600, sizer=len)
    loads = []

    def load():
        loads.append(1)
        time.sleep(0.2)
        return b"data"

    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("d", load))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == [1] and got == [b"data"] * 8


def test_the_limits_come_from_the_environment_and_a_bad_one_is_named():
    assert memory.whatif_limits({}) == memory.Limits(1024 * 1024 * 1024, 30 * 60)
    limits = memory.whatif_limits({"CANCELLATION_LAB_WHATIF_CACHE_MB": "1.5",
                                   "CANCELLATION_LAB_WHATIF_IDLE_MINUTES": "2"})
    assert limits == memory.Limits(1_572_864, 120)   # 1.5 x 1,048,576 bytes; 2 x 60 s
    for name, bad in [("CANCELLATION_LAB_WHATIF_CACHE_MB", "lots"), ("CANCELLATION_LAB_WHATIF_CACHE_MB", "-1"),
                      ("CANCELLATION_LAB_WHATIF_IDLE_MINUTES", "0"), ("CANCELLATION_LAB_WHATIF_IDLE_MINUTES", "inf")]:
        with pytest.raises(ValueError, match=name):
            memory.whatif_limits({name: bad})
    # The orders the pages keep in memory (load.keep_resident): their own two limits, read the same way.
    assert memory.resident_limits({}) == memory.Limits(2048 * 1024 * 1024, 30 * 60)
    assert memory.resident_limits({"CANCELLATION_LAB_ORDERS_CACHE_MB": "0.5",
                                   "CANCELLATION_LAB_ORDERS_IDLE_MINUTES": "1"}) == memory.Limits(524_288, 60)
    with pytest.raises(ValueError, match="CANCELLATION_LAB_ORDERS_CACHE_MB"):
        memory.resident_limits({"CANCELLATION_LAB_ORDERS_CACHE_MB": "plenty"})


def test_the_whatif_page_keeps_its_data_sets_within_the_byte_limit(tmp_path, monkeypatch):
    """Two data sets opened one after the other under a limit smaller than both: only the latest stays
    loaded; under a larger limit both do, and each is counted at its measured size."""
    from analytics import db
    from analytics.generate import generate
    from ui import cached

    path = tmp_path / "app.duckdb"
    first = s.demo_db(path, orders=2_000)
    con = db.connect(path)
    second = generate(con, 2_000, 8, name="Second").dataset.id
    con.close()
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(path))
    for limit, kept in [(1, [second]), (10**9, [first, second])]:
        monkeypatch.setattr(cached, "WHATIF", memory.SizedCache(limit, 600, sizer=cached.prepared_bytes))
        for dataset in (first, second):
            at = s.open_page("whatif", {"dataset": dataset})
            assert s.problems(at) == []
        assert [k[1] for k in cached.WHATIF.keys()] == kept
    sizes = [cached.prepared_bytes(cached.WHATIF.get(k, pytest.fail)) for k in cached.WHATIF.keys()]
    assert cached.WHATIF.total_bytes() == sum(sizes) and all(n > 100_000 for n in sizes)


def test_a_failed_load_is_not_kept_and_the_next_ask_tries_again():
    cache, _ = _cache(max_bytes=1_000)

    def broken():
        raise OSError("the database is locked")

    with pytest.raises(OSError, match="locked"):
        cache.get("d", broken)
    assert cache.keys() == []
    assert cache.get("d", lambda: b"data") == b"data"


def test_the_garbage_timer_collects_cycles_without_anyone_asking():
    """With Python's own collector off, a cycle stays until something collects it: the timer does, within
    a few of its periods, and stops when told."""
    import gc
    import weakref

    class Node:
        pass

    gone = threading.Event()
    gc.disable()
    timer = None
    try:
        a, b = Node(), Node()
        a.other, b.other = b, a
        weakref.finalize(a, gone.set)
        del a, b
        time.sleep(0.3)
        assert not gone.is_set()   # a cycle is not freed by reference counting
        timer = memory.GarbageTimer(0.1).start()
        assert gone.wait(5)
    finally:
        if timer is not None:
            timer.stop()
        gc.enable()
    assert not timer._thread.is_alive()
    with pytest.raises(ValueError):
        memory.GarbageTimer(0)


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


@pytest.mark.skipif(memory._libc() is None, reason="needs glibc's malloc (malloc_trim, mallopt)")
def test_memory_freed_inside_the_heap_goes_back_to_the_system_when_released():
    import ctypes

    libc = memory._libc()
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    # 160 MB in 4 KB blocks (below malloc's mmap threshold: they come from the heap), then one block
    # kept above them, so freeing them leaves a hole inside the heap that malloc does not give back.
    blocks = [libc.malloc(4096) for _ in range(40_000)]
    for b in blocks:
        libc.memset(b, 1, 4096)
    barrier = libc.malloc(4096)
    try:
        full = _rss_mb()
        for b in blocks:
            libc.free(b)
        held = _rss_mb()
        memory.release_free_memory()
        released = _rss_mb()
    finally:
        libc.free(barrier)
    assert full - held < 40          # freed, but still the process's
    assert held - released > 100     # handed back


def test_the_arena_limit_is_taken_by_glibc_and_harmless_elsewhere():
    assert memory.limit_arenas() is (memory._libc() is not None)
