"""A payment method's label may hold any character: it still names a what-if parameter, written
percent-encoded (`refund_channel.pay%2Epal`) or as the label is written, in a link and on the command line."""

import json
import subprocess
import sys

import pytest

from analytics.policy import (
    Policy,
    PolicyError,
    channel_name,
    method_from_key,
    method_key,
    parameters_for,
)
from tests.conftest import ROOT, SAMPLE_CSV

ODD = [
    "pay.pal",
    "<img_src=x_onerror=alert(1)>",
    "**bold**_[l](http://127.0.0.1:9/x)",
    "a%41",
    "a=b",
    "carte_bancaire_é",
    "支付宝",
    "with space",
    "Upper",
]


@pytest.mark.parametrize("label", ODD)
def test_a_label_and_its_key_go_both_ways(label):
    key = method_key(label)
    assert set(key) <= set("abcdefghijklmnopqrstuvwxyz0123456789_%ABCDEF")
    assert method_from_key(key) == label


def test_keys_of_plain_labels_are_the_labels():
    assert method_key("credit_card") == "credit_card"
    assert method_key("pay.pal") == "pay%2Epal"
    assert method_key("a%41") == "a%2541"
    assert method_key("é") == "%C3%A9"
    # A key that is not written as method_key writes one is a label as written.
    assert method_from_key("pay.pal") == "pay.pal"
    assert method_from_key("%zz") == "%zz"


@pytest.mark.parametrize("label", ODD)
def test_a_policy_on_an_odd_label_round_trips_through_its_link(label):
    params = parameters_for(["card", label])
    policy = Policy().with_values({channel_name(label): "coupon"}, params)
    assert policy.channel_for(label) == "coupon" and policy.channel_changed(label)
    query = policy.to_query()
    assert query == {f"refund_channel.{method_key(label)}": "coupon"}
    again, notices = Policy.from_query(query, parameters=params)
    assert notices == [] and again == policy


@pytest.mark.parametrize("label", ODD)
def test_the_label_as_written_names_the_same_parameter(label):
    params = parameters_for(["card", label])
    written = Policy().with_values({f"refund_channel.{label}": "wallet"}, params)
    encoded = Policy().with_values({channel_name(label): "wallet"}, params)
    assert written == encoded and written.channel_for(label) == "wallet"
    # The command line's --set: the last '=' separates the value, so a label may hold '='.
    assert Policy.from_settings([f"refund_channel.{label}=wallet"], parameters=params) == encoded


def test_a_label_that_looks_like_a_key_is_found_as_written():
    # 'a%41' as written looks like the key of 'aA'; the data set has only 'a%41', so that is the one.
    params = parameters_for(["a%41"])
    assert Policy().with_values({"refund_channel.a%41": "coupon"}, params).channel_for("a%41") == "coupon"
    # A data set with both: the key wins, the label as written is still reachable by its own key.
    both = parameters_for(["a%41", "aA"])
    assert Policy().with_values({"refund_channel.a%41": "coupon"}, both).channel_for("aA") == "coupon"
    assert Policy().with_values({"refund_channel.a%2541": "coupon"}, both).channel_for("a%41") == "coupon"


def test_a_method_the_data_set_lacks_is_refused_naming_its_keys():
    params = parameters_for(["card", "pay.pal"])
    with pytest.raises(PolicyError, match=r"payment method of this data set: card, pay%2Epal"):
        Policy().with_values({"refund_channel.bit.coin": "wallet"}, params)


@pytest.fixture
def odd_dataset(tmp_path):
    """The 20-order sample with its card orders paid by a method whose label holds Markdown, HTML, a dot, a
    '%' and an '=': 'pay.pal_<b>x</b>_=1_%41_**bold**' once the import has normalised it."""
    text = SAMPLE_CSV.read_text().replace(",card,", ',"Pay.Pal <b>x</b> =1 %41 **bold**",')
    path = tmp_path / "odd.csv"
    path.write_text(text)
    database = tmp_path / "odd.duckdb"
    proc = subprocess.run([sys.executable, "-m", "analytics", "import", str(path), "--db", str(database)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return database, "pay.pal_<b>x</b>_=1_%41_**bold**"


def _simulate(database, setting):
    proc = subprocess.run([sys.executable, "-m", "analytics", "simulate", "--db", str(database), "--set", setting,
                           "--replicates", "3", "--json"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_command_line_moves_an_odd_methods_refunds_by_key_or_label(odd_dataset):
    database, label = odd_dataset
    # The sample's card orders have four refunds, all to the original method (S-1002, S-1011, S-1014,
    # S-1018); cash and Western Union refund to the wallet (S-1007, S-1009), cash on delivery to a coupon
    # (S-1004). Moving the odd method's refunds to the wallet: original 4 -> 0, wallet 2 -> 6.
    for setting in (f"{channel_name(label)}=wallet", f"refund_channel.{label}=wallet"):
        result = _simulate(database, setting)
        assert result["policy"] == {channel_name(label): "wallet"}
        channels = {part: {c: v["value"] for c, v in result[part]["refunds_by_channel"].items()}
                    for part in ("baseline", "scenario", "delta")}
        assert channels == {"baseline": {"original": 4, "wallet": 2, "coupon": 1},
                            "scenario": {"original": 0, "wallet": 6, "coupon": 1},
                            "delta": {"original": -4, "wallet": 4, "coupon": 0}}
        # The label, dots and all, is one key of the wait by payment method.
        assert label in result["baseline"]["refund_wait_by_payment_method"]
