"""What a data set records, and why a figure is unavailable when it does not.

A figure (figures.py) or a table (metrics.py) names the capabilities it stands on; a data set that lacks
one shows the figure as "not available in this data set" with the reason below, never as 0. Checked over
the whole data set (not the filtered orders): a filter that matches nothing gives zeros, not
"unavailable". The report and the what-if engine read the same answer for a stored data set.
"""

from __future__ import annotations

import duckdb

# What a data set must record, and why a metric is unavailable when it does not. Checked over the whole
# data set (not the filtered orders): a filter that matches nothing gives zeros, not "unavailable".
CAPABILITIES: dict[str, str] = {
    "requests": "this data set records no cancellation requests (cancelled orders are known by their status only)",
    "reasons": "no cancellation request in this data set carries a reason",
    "request_times": "no cancellation request in this data set has a request time",
    "seller_responses": "no cancellation request in this data set records the seller's response",
    "response_times": "no cancellation request in this data set has both a request time and a seller's answer time",
    "refunds": "this data set records no refunds",
    "refund_times": "no refund in this data set has both a start and a completion time",
    "refund_channels": "no refund in this data set records the channel it went to",
    "refund_amounts": "no refund in this data set records its amount",
    "sellers": "orders in this data set carry no seller id",
    "payment_methods": "the export has no payment method (every order is stored as 'unknown')",
    "single_currency": "the orders are in several currencies: money is shown per currency (Money by currency), "
                       "never added up",
    "cancel_stages": "the export records no payment or shipment times (or only one of them), so the stage of its "
                     "cancellations is unknown",
    "shipping_methods": "orders in this data set carry no shipping method",
    "payment_times": "no order in this data set has a payment time",
    "ship_times": "no order in this data set has a shipping time",
    "delivery_times": "no order in this data set has a delivery time, so how many were delivered is unknown",
    "statuses": "the export gives no order status",
}


_CAPABILITY_SQL = """
SELECT
  (SELECT count(*) FROM cancellation_requests WHERE dataset_id = $1) AS requests,
  (SELECT count(*) FROM cancellation_requests WHERE dataset_id = $1 AND reason IS NOT NULL AND reason <> 'unknown') AS reasons,
  (SELECT count(requested_at) FROM cancellation_requests WHERE dataset_id = $1) AS request_times,
  (SELECT count(seller_response) FROM cancellation_requests WHERE dataset_id = $1) AS seller_responses,
  (SELECT count(*) FROM cancellation_requests WHERE dataset_id = $1
      AND requested_at IS NOT NULL AND responded_at IS NOT NULL) AS response_times,
  (SELECT count(*) FROM refunds WHERE dataset_id = $1) AS refunds,
  (SELECT count(*) FROM refunds WHERE dataset_id = $1
      AND initiated_at IS NOT NULL AND completed_at IS NOT NULL) AS refund_times,
  (SELECT count(channel) FROM refunds WHERE dataset_id = $1) AS refund_channels,
  (SELECT count(amount) FROM refunds WHERE dataset_id = $1) AS refund_amounts,
  (SELECT count(seller_id) FROM orders WHERE dataset_id = $1) AS sellers,
  (SELECT count(*) FROM orders WHERE dataset_id = $1 AND payment_method <> 'unknown') AS payment_methods,
  (SELECT (count(DISTINCT upper(trim(currency))) <= 1)::INTEGER FROM orders WHERE dataset_id = $1) AS single_currency,
  (SELECT (count(*) FILTER (WHERE is_cancelled AND cancel_stage IS NULL) = 0)::INTEGER
     FROM orders WHERE dataset_id = $1) AS cancel_stages,
  (SELECT count(shipping_method) FROM orders WHERE dataset_id = $1) AS shipping_methods,
  (SELECT count(paid_at) FROM orders WHERE dataset_id = $1) AS payment_times,
  (SELECT count(shipped_at) FROM orders WHERE dataset_id = $1) AS ship_times,
  (SELECT count(delivered_at) FROM orders WHERE dataset_id = $1) AS delivery_times,
  (SELECT count(status) FROM orders WHERE dataset_id = $1) AS statuses
"""
# What a stored data set records never changes after its import's transaction (and an id is never
# given twice), so each such fact is worked out once per data set id.
_recorded: dict[tuple[str, str], object] = {}


def recorded(kind: str, dataset_id: str, make):
    """make(), the fact `kind` of a stored data set, worked out once per data set id."""
    key = (kind, dataset_id)
    if key not in _recorded:
        if len(_recorded) > 512:
            _recorded.clear()
        _recorded[key] = make()
    return _recorded[key]


def missing(con: duckdb.DuckDBPyConnection, dataset_id: str) -> dict[str, str]:
    """Capability name -> why, for each thing the data set does not record (once per data set: recorded)."""
    def make() -> dict[str, str]:
        cur = con.cursor()
        try:
            cur.execute(_CAPABILITY_SQL, [dataset_id])
            names = [d[0] for d in cur.description]
            counts = dict(zip(names, cur.fetchone(), strict=True))
        finally:
            cur.close()
        assert set(names) == set(CAPABILITIES)
        return {k: CAPABILITIES[k] for k, n in counts.items() if not n}
    return dict(recorded("missing", dataset_id, make))


def of_frame(has_requests: bool, has_refunds: bool) -> dict[str, str]:
    """For orders held only in memory (a hand-made frame, not a stored data set): what the frame's
    request and refund columns show; everything else is taken as recorded."""
    out = {}
    if not has_requests:
        out["requests"] = CAPABILITIES["requests"]
    if not has_refunds:
        out["refunds"] = CAPABILITIES["refunds"]
    return out
