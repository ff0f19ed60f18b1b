"""The dashboard's own caches in the server's metrics: `GET /_stcore/metrics` (OpenMetrics text) lists,
beside Streamlit's caches, the bytes each of ours holds now, as

    cache_memory_bytes{cache_type="cancellation_lab",cache="what-if engine"} 12582912

so an operator (and bench/load.py's soak) can tell the memory the caches hold, each within its limit
(README, "Serving a team"), from the rest of the process."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from streamlit.runtime import Runtime
from streamlit.runtime.stats import CACHE_MEMORY_FAMILY, CacheStat, StatsProvider

CATEGORY = "cancellation_lab"
_lock = threading.Lock()
_registered: set[int] = set()   # the runtimes told (one per server; tests may start several)


def sizes() -> dict[str, int]:
    """Bytes held now by each cache of the dashboard, by a name an operator reads."""
    from analytics import load
    from ui import cached, chart_specs

    return {
        "what-if engine": cached.WHATIF.total_bytes(),
        "orders kept in memory": load.resident_bytes(),
        "results handed out again": cached.RECENT.total_bytes(),
        "chart specs": chart_specs.total_bytes(),
    }


class CacheSizes(StatsProvider):
    @property
    def stats_families(self) -> Sequence[str]:
        return (CACHE_MEMORY_FAMILY,)

    def get_stats(self, family_names: Sequence[str] | None = None) -> dict[str, list[CacheStat]]:  # noqa: ARG002
        return {CACHE_MEMORY_FAMILY: [CacheStat(CATEGORY, name, size) for name, size in sizes().items()]}


def register() -> None:
    """Add the dashboard's caches to the running server's metrics, once per server (a page calls it as it
    starts; without a server, as under AppTest, nothing to do)."""
    if not Runtime.exists():
        return
    runtime = Runtime.instance()
    if id(runtime) in _registered:
        return
    with _lock:
        if id(runtime) not in _registered:
            runtime.stats_mgr.register_provider(CacheSizes())
            _registered.add(id(runtime))
