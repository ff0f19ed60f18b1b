"""Cancellation Lab: order cancellations and refunds, what is happening and what if the policy changed."""
