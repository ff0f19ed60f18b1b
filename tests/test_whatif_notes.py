"""What the What-if page says in words about a policy's parameters (analytics/whatif_notes.py)."""

from __future__ import annotations

from analytics.whatif_notes import parameter_words


def test_a_refund_channel_is_named_in_the_words_of_its_control():
    # Olist's 'credit_card': the control reads "Credit card refunds", the scenario "Credit card refunds =
    # coupon"; the extrapolation notice read "where credit_card refunds go".
    assert parameter_words("refund_channel.credit_card") == "where Credit card refunds go"
    assert parameter_words("refund_channel.debit_card") == "where Debit card refunds go"
    assert parameter_words("seller_response_hours") == "seller's response window"
