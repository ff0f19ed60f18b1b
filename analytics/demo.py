"""The demo data set: generated once, shared by everyone, so a fresh machine opens on real numbers.

The command line (`python -m analytics demo`) and the Data page both create it through `ensure_demo`."""

from __future__ import annotations

from analytics import db

DEMO_ORDERS = 50_000
DEMO_SEED = 7
DEMO_NAME = "Demo marketplace (synthetic)"


def ensure_demo(con) -> db.Dataset:
    """The demo data set, created on first use so a fresh machine opens on real numbers."""
    from analytics.generate import generate
    from analytics.simulate import store_dataset

    for d in db.list_datasets(con):
        if d.is_demo:
            return d
    made = generate(con, DEMO_ORDERS, DEMO_SEED, name=DEMO_NAME, is_demo=True).dataset
    store_dataset(con, made.id)
    return made
