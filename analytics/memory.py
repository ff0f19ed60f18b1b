"""Memory held by long-lived values, and a cache bounded by it: what keeps a server's memory set by its
limits rather than by how many data sets its users have opened.

`size_of(value)` is the bytes a value holds (NumPy arrays, Polars frames and series, and the containers
and dataclasses around them, each buffer counted once). `SizedCache` keeps values by key, drops the
least recently used when their total passes a byte limit, and drops any left unused for longer than an
idle limit.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import polars as pl


def size_of(value: Any) -> int:
    """Bytes held by `value` and everything it refers to through containers, dataclasses and objects'
    attributes. An array's buffer is counted once however many views share it; Polars reports its own
    buffers (`estimated_size`)."""
    seen: set[int] = set()
    total = 0
    stack = [value]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            root = obj
            while isinstance(root.base, np.ndarray):
                root = root.base
            if id(root) not in seen or root is obj:
                seen.add(id(root))
                total += root.nbytes + sys.getsizeof(np.empty(0))
            if obj.dtype == object:
                stack.extend(obj.ravel().tolist())
        elif isinstance(obj, pl.DataFrame | pl.Series):
            total += obj.estimated_size()
        elif isinstance(obj, dict):
            total += sys.getsizeof(obj)
            for k, v in obj.items():
                stack.append(k)
                stack.append(v)
        elif isinstance(obj, list | tuple | set | frozenset):
            total += sys.getsizeof(obj)
            stack.extend(obj)
        elif isinstance(obj, str | bytes | int | float | bool | type(None)):
            total += sys.getsizeof(obj)
        elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            total += sys.getsizeof(obj)
            stack.extend(getattr(obj, f.name) for f in dataclasses.fields(obj))
            if hasattr(obj, "__dict__"):
                stack.extend(obj.__dict__.values())
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            total += sys.getsizeof(obj)
            stack.extend(vars(obj).values())
        else:
            total += sys.getsizeof(obj)
    return total


@dataclasses.dataclass
class _Entry:
    value: Any
    size: int
    used: float


_CACHES: weakref.WeakSet = weakref.WeakSet()


def _fresh_locks_after_fork() -> None:
    """A forked child (the frontier's workers) starts with every cache's locks free: another thread of
    the parent may have held one at the fork, and no thread of the child would ever let it go."""
    for cache in list(_CACHES):
        cache._lock = threading.Lock()
        cache._making = {}


os.register_at_fork(after_in_child=_fresh_locks_after_fork)


class SizedCache:
    """Values by key, made on first use and kept while they fit.

    get(key, make) returns the kept value, or makes it with make() (once, however many threads ask for
    the same key at the same moment) and keeps it. After each get, the least recently used values are
    dropped until the total size is at most max_bytes (the value just returned is kept even if it alone
    is larger: it is in use), and any value not asked for in idle_seconds is dropped. A value's size is
    measured again at each get, so one that grows while kept (a memo of results) is counted as it is.

    `full="refuse"` keeps what is kept and does not keep a new value that would not fit (it is made and
    returned): for values asked for in a cycle longer than the cache holds (a replay's replicates, one
    after another), where dropping the least recently used would drop each value just before it is asked
    for again. Such a cache's values are not measured again (they do not grow).
    """

    def __init__(self, max_bytes: int, idle_seconds: float, *, sizer: Callable[[Any], int] = size_of,
                 clock: Callable[[], float] = time.monotonic, full: str = "evict"):
        if max_bytes < 0 or idle_seconds <= 0:
            raise ValueError("max_bytes must be >= 0 and idle_seconds > 0")
        if full not in ("evict", "refuse"):
            raise ValueError(f"full must be 'evict' or 'refuse', not {full!r}")
        self.max_bytes = int(max_bytes)
        self.idle_seconds = float(idle_seconds)
        self.full = full
        self._sizer = sizer
        self._clock = clock
        # Least recently used first, so also least recently used = longest idle first (a get marks an entry
        # used and moves it to the end): the idle ones are a run at the front, and a get looks at them only.
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._total = 0   # the entries' sizes, summed as they come and go (a get adds up none of them)
        self._lock = threading.Lock()
        self._making: dict[Hashable, threading.Lock] = {}
        _CACHES.add(self)
        self.evicted: list[tuple[Hashable, str]] = []   # (key, "size" | "idle"), the latest last, bounded
        self._sweeper: threading.Thread | None = None

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        with self._lock:
            found = self._touch(key)
            if found is not None:
                return found.value
            making = self._making.setdefault(key, threading.Lock())
        with making:   # one thread makes a value; the others asking for it wait and then share it
            with self._lock:
                found = self._touch(key)
                if found is not None:
                    return found.value
            try:
                value = make()
            except BaseException:
                with self._lock:
                    self._making.pop(key, None)
                raise
            size = self._sizer(value)
            with self._lock:
                if self.full == "refuse" and self._total + size > self.max_bytes:
                    self._making.pop(key, None)
                    return value
                # Stored before its lock goes, so a thread arriving now finds the value, not a new lock.
                self._drop(key)
                self._entries[key] = _Entry(value, size, self._clock())
                self._total += size
                self._making.pop(key, None)
                self._trim(keep=key)
            return value

    def _touch(self, key: Hashable) -> _Entry | None:
        """The entry, marked used now and measured again; idle and over-size entries of others dropped."""
        now = self._clock()
        self._drop_idle(now, keep=key)
        entry = self._entries.get(key)
        if entry is None:
            return None
        entry.used = now
        if self.full == "evict":
            size = self._sizer(entry.value)
            self._total += size - entry.size
            entry.size = size
        self._entries.move_to_end(key)
        self._trim(keep=key)
        return entry

    def _drop(self, key: Hashable) -> _Entry | None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._total -= entry.size
        return entry

    def _drop_idle(self, now: float, keep: Hashable | None = None) -> None:
        idle = []
        for k, e in self._entries.items():   # the longest idle first: stop at the first one in use
            if now - e.used <= self.idle_seconds:
                break
            idle.append(k)
        for k in idle:
            if k != keep:
                self._drop(k)
                self._note(k, "idle")

    def _trim(self, keep: Hashable) -> None:
        if self._total <= self.max_bytes:
            return
        for k in list(self._entries):
            if self._total <= self.max_bytes:
                break
            if k == keep:
                continue
            self._drop(k)
            self._note(k, "size")

    def _note(self, key: Hashable, why: str) -> None:
        self.evicted = [*self.evicted[-63:], (key, why)]

    def sweep(self) -> None:
        """Drop what has been idle too long, without a get (a timer calls it while nobody uses the app)."""
        with self._lock:
            self._drop_idle(self._clock())

    def sweep_every(self, seconds: float) -> None:
        """Start (once) a background thread that calls sweep() every `seconds`, so an idle value goes
        even when nobody asks the cache for anything."""
        with self._lock:
            if self._sweeper is not None:
                return

            def loop() -> None:
                while True:
                    time.sleep(seconds)
                    self.sweep()

            self._sweeper = threading.Thread(target=loop, name="sized-cache-sweep", daemon=True)
            self._sweeper.start()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._total = 0

    def keys(self) -> list[Hashable]:
        """The kept keys, least recently used first."""
        with self._lock:
            return list(self._entries)

    def total_bytes(self) -> int:
        with self._lock:
            return self._total


class Memo:
    """Results by key, remembered while they fit: a mapping (get, in, [key] = value, update, items)
    whose least recently used entries are dropped once their total passes max_bytes, and whose entries
    unused for longer than idle_seconds are dropped at the next write. For many small results made one
    by one (the what-if engine's replays): each is measured once, when kept (sizer((key, value))), and
    lookups only mark it used."""

    def __init__(self, max_bytes: int, idle_seconds: float, *, sizer: Callable[[Any], int] = size_of,
                 clock: Callable[[], float] = time.monotonic):
        if max_bytes < 0 or idle_seconds <= 0:
            raise ValueError("max_bytes must be >= 0 and idle_seconds > 0")
        self.max_bytes = int(max_bytes)
        self.idle_seconds = float(idle_seconds)
        self._sizer, self._clock = sizer, clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()   # least recently used first
        self._total = 0
        self._lock = threading.Lock()
        _CACHES.add(self)

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return default
            entry.used = self._clock()
            self._entries.move_to_end(key)
            return entry.value

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def __getitem__(self, key: Hashable) -> Any:
        found = self.get(key, _MISSING)
        if found is _MISSING:
            raise KeyError(key)
        return found

    def __setitem__(self, key: Hashable, value: Any) -> None:
        size = self._sizer((key, value))
        with self._lock:
            now = self._clock()
            old = self._entries.pop(key, None)
            if old is not None:
                self._total -= old.size
            self._entries[key] = _Entry(value, size, now)
            self._total += size
            # Least recently used first: the idle ones are at the front, then the rest go while over size.
            while self._entries:
                first, entry = next(iter(self._entries.items()))
                if first == key or (now - entry.used <= self.idle_seconds and self._total <= self.max_bytes):
                    break
                del self._entries[first]
                self._total -= entry.size

    def update(self, items: Mapping | Iterable[tuple[Hashable, Any]]) -> None:
        for key, value in (items.items() if isinstance(items, Mapping) else items):
            self[key] = value

    def items(self) -> list[tuple[Hashable, Any]]:
        """The kept entries, least recently used first (a copy)."""
        with self._lock:
            return [(k, e.value) for k, e in self._entries.items()]

    def __iter__(self):
        return iter([k for k, _ in self.items()])

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._total = 0

    def total_bytes(self) -> int:
        return self._total


_MISSING = object()


# How long a computed result (a table, a chart's spec, a replay) is kept for the next ask: long enough
# for the people looking at a view now to share it, short enough that a server's memory holds what is
# in use rather than the whole day's history (Streamlit's caches count it from when a result was made).
RESULTS_IDLE_SECONDS = 10 * 60


# --- garbage, collected on a timer ---------------------------------------------------------------------

GC_SECONDS = 10.0
# glibc's mallopt parameter for the most malloc arenas (malloc.h): each thread that allocates while
# another holds an arena gets one of its own, up to 8 per core, and memory freed in one arena serves
# only that arena's next allocations. Every session's script runs on a thread of its own.
_M_ARENA_MAX = -8
ARENAS = 2


def _libc():
    """glibc, or None on a C library without its malloc extensions (musl, macOS)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Keep malloc to `arenas` arenas (what MALLOC_ARENA_MAX does, set from inside the process before
    its threads start). A long-running server's pages allocate from many threads in turn; with an arena
    per thread, the memory one run frees is not reused by the next run on another thread, and the
    process's memory creeps up with the number of clicks. True if the C library took the setting."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(_M_ARENA_MAX, int(arenas)))


def release_free_memory() -> bool:
    """Hand the pages malloc holds free back to the operating system (glibc's malloc_trim). Freed
    memory otherwise stays in the process, so its resident size shows the high-water mark of every
    run so far rather than what it holds. True if memory was released."""
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))


class GarbageTimer:
    """A thread that runs a full garbage collection every `seconds` until stopped, then hands the memory
    freed back to the operating system (release_free_memory).

    The server runs one in place of Streamlit's collection after every script run (runner.postScriptGC):
    a full collection walks every object the sessions hold, about 10 ms a click, while on a timer the
    cycles a run leaves still go within `seconds` (and Python's own collector runs meanwhile as always)."""

    def __init__(self, seconds: float = GC_SECONDS):
        if not seconds > 0:
            raise ValueError("seconds must be > 0")
        self.seconds = float(seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gc-timer", daemon=True)

    def _run(self) -> None:
        import gc

        while not self._stop.wait(self.seconds):
            gc.collect()
            release_free_memory()

    def start(self) -> GarbageTimer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# --- the limits, from the environment -------------------------------------------------------------------

WHATIF_MB_VAR = "CANCELLATION_LAB_WHATIF_CACHE_MB"
WHATIF_IDLE_VAR = "CANCELLATION_LAB_WHATIF_IDLE_MINUTES"
WHATIF_MB_DEFAULT = 1024
WHATIF_IDLE_DEFAULT = 30


@dataclasses.dataclass(frozen=True)
class Limits:
    """How much the what-if engine keeps loaded: data sets (with their remembered replays) up to
    max_bytes in total, each dropped after idle_seconds unused."""

    max_bytes: int
    idle_seconds: float


def _env_number(environ, name: str, default: float, *, low: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value >= low or value == float("inf"):
        raise ValueError(f"{name}={raw!r} is not a number >= {low:g}; leave it unset for {default:g}")
    return value


def whatif_limits(environ=None) -> Limits:
    """The limits set by CANCELLATION_LAB_WHATIF_CACHE_MB (megabytes, default 1024) and
    CANCELLATION_LAB_WHATIF_IDLE_MINUTES (default 30). Raises ValueError naming a variable that does
    not hold a number in range."""
    environ = os.environ if environ is None else environ
    mb = _env_number(environ, WHATIF_MB_VAR, WHATIF_MB_DEFAULT, low=0)
    minutes = _env_number(environ, WHATIF_IDLE_VAR, WHATIF_IDLE_DEFAULT, low=0.01)
    return Limits(int(mb * 1024 * 1024), minutes * 60)


RESIDENT_MB_VAR = "CANCELLATION_LAB_ORDERS_CACHE_MB"
RESIDENT_IDLE_VAR = "CANCELLATION_LAB_ORDERS_IDLE_MINUTES"
RESIDENT_MB_DEFAULT = 2048
RESIDENT_IDLE_DEFAULT = 30


def resident_limits(environ=None) -> Limits:
    """How much of the data sets' orders the dashboard keeps in memory for its pages (load.keep_resident):
    CANCELLATION_LAB_ORDERS_CACHE_MB (megabytes, default 2048: about 15 million orders) and
    CANCELLATION_LAB_ORDERS_IDLE_MINUTES (default 30). Raises ValueError naming a variable that does not
    hold a number in range."""
    environ = os.environ if environ is None else environ
    mb = _env_number(environ, RESIDENT_MB_VAR, RESIDENT_MB_DEFAULT, low=0)
    minutes = _env_number(environ, RESIDENT_IDLE_VAR, RESIDENT_IDLE_DEFAULT, low=0.01)
    return Limits(int(mb * 1024 * 1024), minutes * 60)
