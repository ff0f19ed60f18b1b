"""What the What-if page says in words about a data set and a scenario (no Streamlit): which rules of the
policy can change anything on this data set, and a parameter named in a sentence."""

from __future__ import annotations

import math

from analytics import policy, simulate, words
from analytics.policy import PARAMETERS_BY_NAME
from analytics.text import count


def applies(prep: simulate.Prepared) -> str | None:
    """What the policy can change on this data set, when the data leaves some rules with nothing to act on."""
    counts = prep.calibration.summary().get("counts", {})
    no_requests, no_refunds = not counts.get("requests"), not counts.get("refunds")
    if not (no_requests or no_refunds):
        return None
    idle, live = [], []
    requests = "the rules about requests (consent, the response window and what its running out does)"
    refunds = "refund routing and refund times"
    (idle if no_requests else live).append(requests)
    (idle if no_refunds else live).append(refunds)
    late = PARAMETERS_BY_NAME["late_dispatch_action"]
    live.append(f"the dispatch deadline (once “{late.label}” is “{late.choice_text('auto_cancel')}”)")
    if simulate.observed_premium_share(prep) is not None:
        live.append("the shipping mix (transit times)")
    missing = " and ".join(w for w, gone in (("no cancellation requests (its cancellations are known by their "
                                              "status only)", no_requests), ("no refunds", no_refunds)) if gone)
    still = live[0] if len(live) == 1 else f"{', '.join(live[:-1])} and {live[-1]}"
    return f"This data set records {missing}, so {' and '.join(idle)} change nothing here. What still applies: {still}."


def idle(prep: simulate.Prepared, params) -> dict[str, str]:
    """The policy's parameters that can change nothing on this data set, each with why (for disabling their
    controls): the request rules without requests, the refund rules without refunds, the shipping mix
    without shipping methods."""
    counts = prep.calibration.summary().get("counts", {})
    out = {}
    for p in params:
        if p.group == "consent" and not counts.get("requests"):
            out[p.name] = "this data set records no cancellation requests, so the request rules change nothing here"
        elif p.group == "refunds" and not counts.get("refunds"):
            out[p.name] = "this data set records no refunds, so refund routing and times change nothing here"
        elif p.name == "premium_shipping_share" and simulate.observed_premium_share(prep) is None:
            out[p.name] = "no order in this data set has a shipping method, so the shipping mix changes nothing here"
    return out


def idle_under(prep: simulate.Prepared, policy) -> dict[str, str]:
    """The parameters the policy's other settings make idle on this data set, each with why: the share of
    sellers who never answer, while the window is one the data shows (no answer past the latest it has is
    drawn, so who would never answer changes nothing)."""
    if not policy.seller_consent_required or "seller_response_hours" in simulate.extrapolated(prep, policy):
        return {}
    longest = prep.calibration.longest_answer_hours
    seen = f" (its latest answer came {count(round(longest), 'hour')} after a request)" if math.isfinite(longest) else ""
    return {"never_answer_share": f"a {policy.seller_response_hours:g}-hour window is one the data shows{seen}, so "
                                  "no answer is drawn and who never answers changes nothing: set a longer window first"}


def parameter_words(name: str) -> str:
    """A parameter in words; a refund channel names its payment method as its control's label does."""
    if name in PARAMETERS_BY_NAME:
        return PARAMETERS_BY_NAME[name].label.lower()
    if name.startswith(policy.CHANNEL_PREFIX):
        return f"where {words.plain(policy.method_from_key(name.removeprefix(policy.CHANNEL_PREFIX)))} refunds go"
    return name.replace("_", " ")
