"""What-if on a data set whose payment method label holds Markdown, HTML and punctuation: its refund-channel
control works, the change shows in the figures, the link carries it and a new session restores it."""

from __future__ import annotations

import app_support as s
import pytest

from analytics import words
from analytics.policy import channel_name
from analytics.text import plain

# Once normalised by the import (lower case, spaces -> '_').
LABEL = "pay.pal_<b>x</b>_=1_%41_**bold**_[l](http://127.0.0.1:9/x)"


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    folder = tmp_path_factory.mktemp("odd")
    text = s.SAMPLE.read_text().replace(",card,", ',"Pay.Pal <b>x</b> =1 %41 **bold** [l](http://127.0.0.1:9/x)",')
    (folder / "odd.csv").write_text(text)
    path = folder / "app.duckdb"
    return path, s.import_db(path, [folder / "odd.csv"], name="Odd **shop** [x](http://127.0.0.1:9/y)")


@pytest.fixture(autouse=True)
def _database(odd, monkeypatch):
    monkeypatch.setenv("CANCELLATION_LAB_DB", str(odd[0]))


def _row(at, figure: str) -> dict[str, str]:
    table = next(t.value for t in at.table if "Baseline" in t.value.columns)
    row = table[table["Figure"] == figure]
    assert len(row) == 1, list(table["Figure"])
    # Each cell is the estimate, then its intervals in words in parentheses: the estimate is compared.
    # An extrapolated scenario's headers say so ("Scenario (extrapolated)"): compared by their first word.
    return {k.split(" (")[0]: str(v).split(" (")[0] for k, v in row.iloc[0].to_dict().items()}


def _notices(at) -> list[str]:
    """Warnings other than the extrapolation notice (a channel the data never used for a method is one)."""
    return [plain(w.value) for w in at.warning if not w.value.startswith("**Extrapolated**")]


def test_the_odd_methods_refund_channel_moves_its_refunds_and_the_link_restores_it(odd):
    path, dataset_id = odd
    at = s.open_page("whatif", {"dataset": dataset_id})
    assert s.problems(at) == []
    key = "whatif_" + channel_name(LABEL).replace(".", "__")
    control = at.selectbox(key=key)
    # The control's label is the method's words, escaped: it reads as the characters it is.
    assert plain(control.label) == words.plain(LABEL) + " refunds"
    assert control.value == "original"
    # Refunds kept on the platform: wallet 2 (S-1007 cash, S-1009 Western Union) + coupon 1 (S-1004 cash
    # on delivery) = 3. The odd method's four refunds (S-1002, S-1011, S-1014, S-1018) move to the
    # wallet: 7, a difference of +4 in every replicate.
    assert _row(at, "Refunds kept on the platform")["Baseline"] == "3"
    control.set_value("wallet").run()
    assert s.problems(at) == []
    row = _row(at, "Refunds kept on the platform")
    assert (row["Baseline"], row["Scenario"], row["Difference"]) == ("3", "7", "+4")
    link = dict(at.query_params)
    assert link == {"dataset": dataset_id, channel_name(LABEL): "wallet"}

    # A colleague opens the link: same control, same figures, no notice.
    again = s.open_page("whatif", link)
    assert s.problems(again) == [] and _notices(again) == []
    assert again.selectbox(key=key).value == "wallet"
    row = _row(again, "Refunds kept on the platform")
    assert (row["Baseline"], row["Scenario"], row["Difference"]) == ("3", "7", "+4")


def test_the_label_as_written_in_a_link_works_too(odd):
    _, dataset_id = odd
    at = s.open_page("whatif", {"dataset": dataset_id, f"refund_channel.{LABEL}": "coupon"})
    assert s.problems(at) == [] and _notices(at) == []
    # The method never had its refunds sent to a coupon: the scenario says it extrapolates, naming the
    # method in the words of its control's label (the data's underscores read as spaces), as the scenario's
    # sentence names it.
    assert any(f"where {words.plain(LABEL)} refunds go" in plain(w.value) for w in at.warning)
    assert at.selectbox(key="whatif_" + channel_name(LABEL).replace(".", "__")).value == "coupon"
    # Written back in its canonical, encoded form.
    assert channel_name(LABEL) in at.query_params
