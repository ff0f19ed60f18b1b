"""Calibration at scale: the fit on a uniform random sample of orders, and what the sampling does to it.

The sample is the N orders with the smallest key md5('SEED:ORDER_ID') (as hex text; the order id breaks
a tie): a uniform random sample without replacement that depends on the seed and the order ids only, so
DuckDB (`sample_ids`) and Spark (spark.py, the same key) draw the same orders however the data are stored
or partitioned, and the same sample gives the same fit on either engine. N is a number of orders or a
fraction of them (`parse_size`, `size_of`).

The fit on a sample is reported with what the sampling does to it (`effect`):
- the fitted parameters' standard errors on that sample: the seller-response lognormal's median and sigma
  from the likelihood's curvature at the fit (the covariance the fit keeps), rates as binomial;
- the sample's observed share figures of the catalogue (figures.py: cancellation rate, seller acceptance
  rate) against the whole data set's, each with the sample's binomial standard error, so a reader sees
  whether the sample looks like the data it was drawn from.
The whole data set's figures come from the same partials the report adds (grouped.py), on either engine.
"""

from __future__ import annotations

import math

import polars as pl

from analytics import figures, grouped, load

DRAWN = "uniform without replacement: the orders with the smallest md5('SEED:ORDER_ID')"
# The share figures of the catalogue (ratios: the first partial over the sum of the others).
# The shares of counted orders or requests, each a binomial proportion whose standard error the sample's
# count gives; a share of money (cancelled GMV of GMV) is a ratio of sums, which that formula does not fit.
CHECKS = tuple(name for name, f in figures.FIGURES.items() if f.unit == "share" and "single_currency" not in f.needs)


def parse_size(text: str, option: str = "--sample") -> int | float:
    """A sample size given as `option` (--sample; simulate's --calibration-sample): a whole number of
    orders (1 or more) or a fraction of them (between 0 and 1)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{option} takes a number of orders (e.g. 100000) or a fraction (e.g. 0.1), got {text!r}") from None
    if value.is_integer() and value >= 1:
        return int(value)
    if 0 < value < 1:
        return value
    raise ValueError(f"{option} must be a whole number of orders of 1 or more, or a fraction between 0 and 1, "
                     f"got {text!r}")


def size_of(size: int | float, total: int) -> int:
    """How many orders a --sample value means for a data set of `total` orders (never more than it has)."""
    n = size if isinstance(size, int) else max(1, round(size * total))
    return min(int(n), int(total))


def key_sql(seed: int) -> str:
    """The sampling key as DuckDB SQL (spark.py writes the same with Spark's md5)."""
    return f"md5('{int(seed)}:' || order_id)"


def sample_ids(con, dataset_id: str, n: int, seed: int) -> pl.Series:
    """The order ids of the sample of `n` orders for `seed` (see the module's docstring)."""
    cur = con.cursor()
    try:
        frame = cur.sql(
            f"SELECT order_id FROM orders WHERE dataset_id = $1 ORDER BY {key_sql(seed)}, order_id LIMIT $2",
            params=[dataset_id, int(n)]).pl()
    finally:
        cur.close()
    return frame["order_id"]


def check_specs() -> list[grouped.Grouped]:
    return grouped.scalar_specs(CHECKS)


def check_partials(frame: pl.DataFrame) -> pl.DataFrame:
    """The checks' added partials over an in-memory frame of orders (one row per order, ORDER_COLUMNS)."""
    return grouped.add(grouped.tally(load.frames_of(frame.lazy()), check_specs()))


def whole_partials(con, dataset_id: str) -> pl.DataFrame:
    """The checks' added partials over a whole stored data set (or a Parquet source's views)."""
    specs = check_specs()
    return grouped.add(grouped.tally(load.load(con, dataset_id, reads=grouped.reads(specs), coded=True), specs))


def _shares(added: pl.DataFrame) -> dict[str, tuple[float | None, int]]:
    """Each check's value and the count it is a share of (its denominator)."""
    parts: dict = {}
    for spec in check_specs():
        parts.update(grouped.read(added, spec)[None])
    out = {}
    for name in CHECKS:
        f = figures.get(name)
        out[name] = (f.value(parts), int(sum(parts[d] for d in f.partials[1:])))
    return out


def _binomial_se(p: float | None, n: int) -> float | None:
    return None if p is None or not n or not math.isfinite(p) else math.sqrt(p * (1 - p) / n)


def _r(x: float | None, digits: int = 6) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def standard_errors(calibration) -> dict:
    """The fitted parameters' standard errors (what the sample's size leaves uncertain in the fit)."""
    resp = calibration.response
    out: dict = {}
    if len(resp.cov) == 3:
        v_mu, _, v_ls = resp.cov
        # Delta method: median = exp(mu), sigma = exp(log sigma).
        out["seller_response.median_hours"] = _r(resp.median * math.sqrt(max(v_mu, 0.0)), 4)
        out["seller_response.sigma"] = _r(resp.sigma * math.sqrt(max(v_ls, 0.0)), 4)
    else:
        out["seller_response.median_hours"] = out["seller_response.sigma"] = None
    acc, prem = calibration.acceptance, calibration.premium_share
    out["acceptance_rate"] = _r(_binomial_se(acc.rate if acc.n else None, acc.n))
    out["premium_shipping_share"] = _r(_binomial_se(prem.rate if prem.n else None, prem.n))
    return out


def effect(calibration, sample_added: pl.DataFrame, whole_added: pl.DataFrame) -> dict:
    """What the sampling does to the fit: its standard errors, and the sample's share figures against
    the whole data set's (difference, and that difference in the sample's standard errors)."""
    sample, whole = _shares(sample_added), _shares(whole_added)
    compared = {}
    for name in CHECKS:
        (s, n), (w, n_all) = sample[name], whole[name]
        se = _binomial_se(s, n)
        diff = None if s is None or w is None else s - w
        compared[name] = {
            "sample": _r(s), "all": _r(w), "difference": _r(diff), "sample_standard_error": _r(se),
            "difference_in_standard_errors": _r(diff / se, 2) if diff is not None and se else None,
            "sample_count": n, "all_count": n_all,
        }
    return {"standard_errors": standard_errors(calibration), "sample_vs_all": compared}


def described(n: int, total: int, seed: int) -> dict:
    """The `sample` block of calibrate's JSON."""
    return {"orders": n, "of_orders": total, "share": _r(n / total if total else None), "seed": seed,
            "drawn": DRAWN}


def calibrate_local(con, dataset_id: str, size: int | float, seed: int,
                    frame: pl.DataFrame | None = None) -> tuple[object, dict]:
    """The calibration fitted on a sample of a stored data set (or a Parquet source's views), on this
    machine: (calibration, {"sample": ..., "sampling_effect": ...}). Not stored: the data set's stored
    calibration stays the one fitted on every order. `frame`: the data set's orders (load_orders'),
    when already in memory (simulate has them), so they are not loaded twice."""
    from analytics.orders import data_end_expr, load_orders

    frame = load_orders(con, dataset_id) if frame is None else frame
    total = frame.height
    n = size_of(size, total)
    end = frame.select(data_end_expr().dt.epoch("us")).item()
    picked = frame.filter(pl.col("order_id").is_in(sample_ids(con, dataset_id, n, seed).implode()))
    whole = whole_partials(con, dataset_id)
    del frame
    return fit_reported(picked, end, whole, total, seed)


def fit_reported(picked: pl.DataFrame, end_us: int | None, whole_added: pl.DataFrame, total: int,
                 seed: int) -> tuple[object, dict]:
    """The fit on a sample (ORDER_COLUMNS, in order id order) with the data set's last moment, and the
    blocks saying what it is: the one step both engines share once the sample is drawn."""
    from analytics import calibrate as cal

    fitted = cal.fit(picked, data_end_us=end_us)
    return fitted, {"sample": described(picked.height, total, seed),
                    "sampling_effect": effect(fitted, check_partials(picked), whole_added)}
