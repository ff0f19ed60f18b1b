"""A small run of `make validate`: generated orders with known behaviour, the engine's predictions and
both intervals, compared with a fresh sample and with the same orders under each policy."""

from validate.run import POLICIES, Config, collect, coverage, render, summarise


def test_a_small_validation_compares_each_policy_with_both_truths():
    config = Config(orders=3_000, seeds=2, replicates=4,
                    policies=("window 24 h", "window 168 h", "lapse + dispatch 4 days + auto-cancel"))
    rows = collect(config)
    assert {r.policy for r in rows} == set(config.policies) and {r.seed for r in rows} == {1000, 1001}
    extrapolated = {r.policy: r.extrapolated for r in rows}
    assert extrapolated == {"window 24 h": False, "window 168 h": True,
                            "lapse + dispatch 4 days + auto-cancel": False}
    # Where the engine says a figure is exact for these orders, it must be what the generator lived:
    # the data shows everything that figure needs.
    exact = [r for r in rows if r.orders_low is not None and r.orders_low == r.orders_high]
    assert exact and all(abs(r.same - r.orders_low) < 1e-6 for r in exact)
    # A 24-hour window replays what these orders show: the same orders' truth, exactly.
    day = [r for r in rows if r.policy == "window 24 h" and r.figure == "cancelled_orders"]
    assert all(r.value == r.same for r in day)
    inside = coverage(rows, extrapolated=False)
    share, n = inside["new period (low-high) vs a fresh sample"]
    assert n > 0 and 0.5 < share <= 1.0
    text = render(config, rows, 1.0, "python -m validate --orders 3000 --seeds 2")
    assert "## Coverage (target 0.90-0.99)" in text and "### window 168 h (extrapolated): scenario" in text
    assert {s.policy for s in summarise(rows)} == set(config.policies)


def test_the_published_validation_covers_at_least_six_policies_with_combinations():
    assert len(POLICIES) >= 6
    assert sum(len(p.changes()) > 1 for p in POLICIES.values()) >= 2
    assert Config().seeds >= 20
