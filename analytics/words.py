"""Data codes in plain words: the one labelling function of the product (axes, legends, tables, controls).
No Altair here, so the policy's controls and the command line read it without the charts."""

from __future__ import annotations

from analytics.figures import OUTCOME_LABELS, STAGE_LABELS

# Codes whose plain words are not the code with its underscores turned to spaces.
CODE_WORDS = {"western_union": "Western Union", "cod": "Cash on delivery", "credit_card": "Credit card",
              "debit_card": "Debit card", "boleto": "Boleto", "paypal": "PayPal", "none": "No answer"}


def plain(code: str | None) -> str:
    """A data code in plain words for axes, legends and tables: 'wrong_item' -> 'Wrong item',
    'western_union' -> 'Western Union', None -> 'Unknown'. The one labelling function of the product."""
    if code is None:
        return "Unknown"
    if code in CODE_WORDS:
        return CODE_WORDS[code]
    if code in STAGE_LABELS:
        return STAGE_LABELS[code]
    if code in OUTCOME_LABELS:
        return OUTCOME_LABELS[code]
    words = str(code).replace("_", " ").strip()
    return words[:1].upper() + words[1:]
