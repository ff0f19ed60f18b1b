"""What the filters can offer for a data set: its labels and its date bounds, cached by data set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from analytics import report
from ui.cached import TTL
from ui.database import data_cursor, db_key
from ui.recent import Recent


@dataclass(frozen=True)
class Options:
    values: dict[str, list[str]]                       # Filters field -> labels present, sorted
    bounds: dict[str, tuple[date | None, date | None]]  # anchor -> first and last day with that event

    def bounds_of(self, anchor: str) -> tuple[date | None, date | None]:
        """The first and last day with `anchor`'s event; (None, None) for a data set without it."""
        return self.bounds.get(anchor, (None, None))


# Asked for several times a run (the filters, the page): kept as it is (ui.recent).
_RECENT = Recent(max_entries=32, ttl=TTL)


def filter_options(dataset_id: str) -> Options:
    database = db_key()
    return _RECENT.get((database, dataset_id), lambda: _filter_options(database, dataset_id))


# A stored data set never changes after its import, so its options can be kept for a long time.
@st.cache_data(max_entries=32, ttl=TTL, show_spinner=False)
def _filter_options(database: str, dataset_id: str) -> Options:
    with data_cursor(dataset_id) as cur:
        found = report.filter_options(cur, dataset_id)
    dates = found.get("dates", {})
    return Options(
        values={k: list(v) for k, v in found.items() if k != "dates"},
        bounds={anchor: (tuple(span) if span else (None, None)) for anchor, span in dates.items()},
    )
