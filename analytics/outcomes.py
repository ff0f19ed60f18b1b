"""The vocabulary every part shares: stages, request outcomes, labels, and the rules that derive them.

The rules below are the one definition of what an observed order means. The import applies them (in SQL,
in ingest.py); the synthetic generator produces orders that follow them; the what-if engine's replay
under the data set's own policy must give back exactly what they give.

Stage of a cancellation request (domain.md), at the request time t (or, when the export has no request
time, at the cancellation time; with neither, from which timestamps the order has):
    before_payment     paid_at is null or paid_at > t
    awaiting_shipment  paid, and shipped_at is null or shipped_at > t
    after_shipment     otherwise

Outcome of a request:
    buyer_cancelled    stage before_payment: the buyer cancels freely, nothing to refund
    not_cancellable    stage after_shipment; or awaiting_shipment but the parcel left before the seller's
                       answer (shipped_at < responded_at, or shipped with no answer) and the order was not
                       cancelled: the buyer is sent the return way (return_path = true)
    accepted           awaiting_shipment, seller_response = accepted
    rejected           awaiting_shipment, seller_response = rejected
    auto_cancelled     awaiting_shipment, seller_response = none, and the order was cancelled (the window ran out)
    lapsed             awaiting_shipment, seller_response = none, order not cancelled (the request ran out)
    unknown            awaiting_shipment, and the export does not say how the seller answered (no
                       seller_response) or says it with a label outside the domain's
"""

STAGES = ("before_payment", "awaiting_shipment", "after_shipment")
# A request's stage in an export with neither payment nor shipment times (an order's is then NULL).
UNKNOWN_STAGE = "unknown"
# The stages a stored request may have.
REQUEST_STAGES = (*STAGES, UNKNOWN_STAGE)

OUTCOMES = ("buyer_cancelled", "accepted", "rejected", "auto_cancelled", "lapsed", "not_cancellable", "unknown")

PAYMENT_METHODS = ("card", "wallet", "cash", "western_union", "bank_transfer", "cod")
REASONS = ("changed_mind", "wrong_item", "shipping_delay", "seller_unresponsive", "other")
SELLER_RESPONSES = ("accepted", "rejected", "none")
REFUND_CHANNELS = ("original", "wallet", "coupon")
SHIPPING_METHODS = ("standard", "premium")

# Statuses that mean the order was cancelled even when the export records no cancellation time
# (Olist's 'canceled' and 'unavailable'; WooCommerce's slug 'wc-cancelled', read as a label).
CANCELLED_STATUSES = ("cancelled", "canceled", "unavailable", "wc_cancelled")

# Where a payment method's refund goes under the baseline policy (domain.md, "Refunds").
DEFAULT_REFUND_CHANNEL = {
    "card": "original",
    "wallet": "original",
    "cash": "wallet",
    "western_union": "wallet",
    "bank_transfer": "wallet",
    "cod": "coupon",
}
