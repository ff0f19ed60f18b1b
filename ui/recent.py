"""The results handed out lately, kept as they are, in front of Streamlit's caches.

Each call of an `st.cache_data` function hashes its arguments with Streamlit's hasher (a frozen
dataclass of filters is taken apart field by field) and unpickles a fresh copy of the stored value; a
page asks for twenty results and its filters' options a few times a run, a few milliseconds a click in
all. Here the same call, by a key of plain hashable values, returns the very object handed out before.
The results kept this way are never changed by the pages (frames, tables, option lists are read
only), so sharing one between runs and sessions is safe. `clear()` empties every such memo, with
Streamlit's caches, when a data set appears, changes or goes away.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import streamlit as st

from analytics import memory

T = TypeVar("T")

_memos: weakref.WeakSet[Recent] = weakref.WeakSet()


class Recent:
    """At most max_entries results, each for at most ttl seconds, and (given max_bytes) at most that many
    bytes together, as memory.size_of counts them (the result just made is kept even if it alone is
    larger: it is in use); the least recently used go first."""

    def __init__(self, max_entries: int, ttl: float, clock: Callable[[], float] = time.monotonic, *,
                 max_bytes: int | None = None, sizer: Callable[[Any], int] = memory.size_of):
        self.max_entries, self.ttl, self._clock = max_entries, ttl, clock
        self.max_bytes, self._sizer = max_bytes, sizer
        self._entries: OrderedDict[Hashable, tuple[Any, float]] = OrderedDict()
        self._sizes: dict[Hashable, int] = {}
        self._total = 0
        self._lock = threading.Lock()
        _memos.add(self)

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The result kept for key, else make() kept (a key that cannot be hashed: make(), not kept)."""
        try:
            hash(key)
        except TypeError:
            return make()
        now = self._clock()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and now - found[1] < self.ttl:
                self._entries.move_to_end(key)
                return found[0]
        value = make()
        size = self._sizer(value) if self.max_bytes is not None else 0
        with self._lock:
            self._total += size - self._sizes.get(key, 0)
            self._entries[key] = (value, now)
            self._sizes[key] = size
            self._entries.move_to_end(key)
            while len(self._entries) > 1 and (len(self._entries) > self.max_entries or
                                              (self.max_bytes is not None and self._total > self.max_bytes)):
                gone, _ = self._entries.popitem(last=False)
                self._total -= self._sizes.pop(gone)
        return value

    def total_bytes(self) -> int:
        """The kept results' bytes (0 when the memo is not bounded in bytes)."""
        return self._total

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._sizes.clear()
            self._total = 0

    def __len__(self) -> int:
        return len(self._entries)


def clear() -> None:
    """Forget every result kept here and in Streamlit's data caches."""
    for memo in _memos:
        memo.clear()
    st.cache_data.clear()


class PerFrame:
    """What was worked out from a frame, kept while the frame lives: the pages hand the same frames (kept
    above) to the same work on every run, a digest of a chart's data, a table made ready to show. Keyed
    by the frame's identity (frames are never changed in place), forgotten when the frame is collected."""

    def __init__(self):
        self._entries: dict[int, tuple[weakref.ref, dict[Hashable, Any]]] = {}
        # Reentrant: a frame kept here can be collected by the thread that holds the lock (at any allocation),
        # and its callback (_forget) takes the lock again.
        self._lock = threading.RLock()

    def get(self, frame: object, what: Hashable, make: Callable[[], T]) -> T:
        ident = id(frame)
        with self._lock:
            found = self._entries.get(ident)
            if found is not None and what in found[1]:
                return found[1][what]
        value = make()
        with self._lock:
            found = self._entries.get(ident)
            if found is None:
                found = self._entries[ident] = (weakref.ref(frame, lambda _ref: self._forget(ident)), {})
            found[1][what] = value
        return value

    def _forget(self, ident: int) -> None:
        with self._lock:
            gone = self._entries.pop(ident, None)
        # What was kept goes outside the lock: a value may be a frame kept here too (a table worked out from a
        # frame, then shown), whose own collection calls _forget, which would wait for this lock for ever.
        del gone

    def __len__(self) -> int:
        return sum(len(kept) for _, kept in self._entries.values())


PER_FRAME = PerFrame()
