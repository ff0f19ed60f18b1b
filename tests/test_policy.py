"""The policy: defaults from domain.md, parsing of settings and links, refusals that name the range."""

import dataclasses

import pytest

from analytics.outcomes import DEFAULT_REFUND_CHANNEL, PAYMENT_METHODS, REFUND_CHANNELS
from analytics.params import notice_text
from analytics.policy import FITTED, PARAMETERS, PARAMETERS_BY_NAME, Policy, PolicyError, parameters_for


def test_defaults_are_the_baseline_of_the_domain():
    p = Policy()
    assert p.seller_consent_required is True
    assert p.seller_response_hours == 72.0
    assert p.timeout_action == "auto_cancel"
    assert p.dispatch_deadline_days == 7
    assert p.late_dispatch_action == "none"
    assert p.premium_shipping_share is None   # the data set's own shipping methods
    assert {m: p.channel_for(m) for m in PAYMENT_METHODS} == DEFAULT_REFUND_CHANNEL
    assert all(p.refund_days_for(ch) is None for ch in REFUND_CHANNELS)
    assert p.changes() == {}
    assert p.to_query() == {}


def test_every_parameter_is_named_with_its_default_and_a_help_text_that_states_it():
    names = {p.name for p in PARAMETERS}
    assert names == set(Policy().as_dict())
    assert {f"refund_channel.{m}" for m in PAYMENT_METHODS} <= names
    assert {f"refund_days.{ch}" for ch in REFUND_CHANNELS} <= names
    for param in PARAMETERS:
        assert param.label and param.help and param.range_text
        assert "Default" in param.help, param.name
        assert Policy().get(param.name) == param.default


def test_settings_parse_and_only_changes_are_reported():
    p = Policy.from_settings([
        "seller_consent_required=no", "seller_response_hours=336", "timeout_action=lapse",
        "dispatch_deadline_days=10", "late_dispatch_action=auto_cancel", "refund_channel.cod=wallet",
        "refund_days.original=5", "refund_days.wallet=fitted", "premium_shipping_share=0.5",
    ])
    assert p.changes() == {
        "seller_consent_required": False, "seller_response_hours": 336.0, "timeout_action": "lapse",
        "dispatch_deadline_days": 10, "late_dispatch_action": "auto_cancel", "refund_channel.cod": "wallet",
        "refund_days.original": 5, "premium_shipping_share": 0.5,
    }
    assert p.channel_for("cod") == "wallet" and p.channel_changed("cod") and not p.channel_changed("card")
    assert p.refund_days_for("original") == 5 and p.refund_days_for("wallet") is None
    # A link carries the changes as text and gives the same policy back.
    again, notices = Policy.from_query(p.to_query())
    assert again == p and notices == []


def test_policies_are_values_hashable_and_typed_the_same_however_built():
    assert Policy(seller_response_hours="48") == Policy(seller_response_hours=48) == Policy().with_value(
        "seller_response_hours", "48.0")
    assert hash(Policy(timeout_action="lapse")) == hash(Policy.from_settings(["timeout_action=lapse"]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        Policy().seller_response_hours = 1  # type: ignore[misc]


@pytest.mark.parametrize(("setting", "names", "range_words"), [
    ("seller_response_hours=0", "seller_response_hours", "> 0 and <= 2160"),
    ("seller_response_hours=-5", "seller_response_hours", "> 0 and <= 2160"),
    ("seller_response_hours=nan", "seller_response_hours", "> 0 and <= 2160"),
    ("seller_response_hours=3000", "seller_response_hours", "> 0 and <= 2160"),
    ("dispatch_deadline_days=2.5", "dispatch_deadline_days", "whole number >= 1 and <= 60"),
    ("dispatch_deadline_days=0", "dispatch_deadline_days", "whole number >= 1 and <= 60"),
    ("premium_shipping_share=1.2", "premium_shipping_share", ">= 0 and <= 1"),
    ("timeout_action=never", "timeout_action", "one of auto_cancel, lapse"),
    ("late_dispatch_action=wait", "late_dispatch_action", "one of none, auto_cancel"),
    ("refund_channel.card=cash", "refund_channel.card", "one of original, wallet, coupon"),
    ("refund_days.coupon=-1", "refund_days.coupon", "'fitted' or a whole number of business days >= 0 and <= 60"),
    ("seller_consent_required=maybe", "seller_consent_required", "true or false"),
])
def test_out_of_range_values_are_refused_naming_the_parameter_and_its_range(setting, names, range_words):
    with pytest.raises(PolicyError) as e:
        Policy.from_settings([setting])
    assert names in str(e.value) and range_words in str(e.value)


def test_unknown_names_and_malformed_settings_are_refused():
    with pytest.raises(PolicyError, match="unknown parameter “window”; expected one of seller_consent_required, "):
        Policy.from_settings(["window=12"])
    with pytest.raises(PolicyError, match="unknown parameter “refund_channel.”"):
        Policy.from_settings(["refund_channel.=wallet"])
    with pytest.raises(PolicyError, match="expected name=value"):
        Policy.from_settings(["seller_response_hours"])
    with pytest.raises(PolicyError):
        Policy(timeout_action="sometimes")


def test_link_parameters_are_untrusted_a_bad_one_gives_a_notice_and_its_default():
    policy, notices = Policy.from_query(
        {"seller_response_hours": "-1", "timeout_action": ["auto_cancel", "lapse"], "page": "whatif",
         "bogus": "1", "refund_days.original": "7"},
        other_keys=["page"],
    )
    assert policy.seller_response_hours == 72.0          # invalid: the default
    assert policy.timeout_action == "lapse"              # repeated: the last one
    assert policy.refund_days_for("original") == 7
    assert [(p.field, p.value, p.reason) for p in notices] == [
        ("seller_response_hours", "-1", "out_of_range"), ("bogus", "1", "unknown_key")]
    assert notices[0].used == "the default (72)"


def test_parameter_metadata_builds_controls():
    hours = PARAMETERS_BY_NAME["seller_response_hours"]
    assert (hours.kind, hours.minimum, hours.maximum, hours.minimum_exclusive, hours.unit) == (
        "number", 0.0, 2160.0, True, "hours")
    assert PARAMETERS_BY_NAME["timeout_action"].choices == ("auto_cancel", "lapse")
    assert PARAMETERS_BY_NAME["refund_days.original"].default == FITTED


def test_premium_share_defaults_to_the_data_and_a_number_always_means_that_share():
    param = PARAMETERS_BY_NAME["premium_shipping_share"]
    assert param.default is None
    assert "Default: data" in param.help and "0.25 sends 25%" in param.help
    assert param.range_text == "'data' (as the data set shows) or a number >= 0 and <= 1"
    for given in (["premium_shipping_share=data"], ["premium_shipping_share=DATA"], []):
        p = Policy.from_settings(given)
        assert p.premium_shipping_share is None and p.changes() == {} and p == Policy()
    quarter = Policy.from_settings(["premium_shipping_share=0.25"])
    assert quarter.premium_shipping_share == 0.25 and quarter != Policy()
    assert quarter.changes() == {"premium_shipping_share": 0.25}
    assert quarter.to_query() == {"premium_shipping_share": "0.25"}
    again, notices = Policy.from_query({"premium_shipping_share": "data"})
    assert again == Policy() and notices == []
    bad, notices = Policy.from_query({"premium_shipping_share": "2"})
    assert bad == Policy() and [notice_text(n) for n in notices] == [
        "premium_shipping_share: “2” is out of range; expected 'data' (as the data set shows) or a number "
        ">= 0 and <= 1; using the default (data)."]
    assert Policy(premium_shipping_share=0.25).with_value("premium_shipping_share", "data") == Policy()


OLIST = parameters_for(["credit_card", "boleto", "voucher", "debit_card"], {"voucher": "coupon"})


def test_any_payment_method_of_the_data_set_has_a_refund_channel():
    # Without a data set: any well-formed label, unset meaning the data's own channel (None, 'data').
    p = Policy.from_settings(["refund_channel.credit_card=wallet"])
    assert p.channel_for("credit_card") == "wallet" and p.channel_changed("credit_card")
    assert p.changes() == {"refund_channel.credit_card": "wallet"}
    assert Policy.from_query(p.to_query()) == (p, [])
    assert Policy().channel_for("boleto") is None and Policy().get("refund_channel.boleto") is None
    assert Policy.from_settings(["refund_channel.boleto=data"]) == Policy()
    # With a data set's parameters: one refund_channel per method it has, nothing else.
    names = [p.name for p in OLIST if p.name.startswith("refund_channel.")]
    assert names == ["refund_channel.boleto", "refund_channel.credit_card", "refund_channel.debit_card",
                     "refund_channel.voucher"]
    assert [p.name for p in OLIST if not p.name.startswith("refund_channel.")] == [
        p.name for p in PARAMETERS if not p.name.startswith("refund_channel.")]
    by_name = {p.name: p for p in OLIST}
    # Outside the domain table: the data's observed channel, else original.
    assert by_name["refund_channel.voucher"].default == "coupon"
    assert by_name["refund_channel.credit_card"].default == "original"
    assert all("Default" in p.help and p.range_text for p in OLIST)
    assert Policy().get("refund_channel.voucher", OLIST) == "coupon"
    # Setting a method to its data default leaves the policy as it was (the same link, the same key).
    same = Policy().with_values({"refund_channel.voucher": "coupon", "refund_channel.credit_card": "original"}, OLIST)
    assert same == Policy() and same.to_query() == {}
    moved = Policy.from_settings(["refund_channel.voucher=wallet"], parameters=OLIST)
    assert moved.changes() == {"refund_channel.voucher": "wallet"}
    assert moved.get("refund_channel.voucher", OLIST) == "wallet"


def test_a_method_the_data_set_does_not_have_is_refused_naming_the_ones_it_has():
    with pytest.raises(PolicyError) as e:
        Policy.from_settings(["refund_channel.cod=wallet"], parameters=OLIST)
    assert str(e.value) == ("unknown parameter “refund_channel.cod”; expected refund_channel.<method> for a payment "
                            "method of this data set: boleto, credit_card, debit_card, voucher")
    with pytest.raises(PolicyError, match="refund_channel.boleto: “cash” is unknown; expected one of original, "
                                          "wallet, coupon"):
        Policy.from_settings(["refund_channel.boleto=cash"], parameters=OLIST)
    with pytest.raises(PolicyError, match="unknown parameter “window”"):
        Policy().with_values({"window": 1}, OLIST)
    policy, notices = Policy.from_query({"refund_channel.cod": "wallet", "refund_channel.boleto": "wallet"},
                                        parameters=OLIST)
    assert policy.changes() == {"refund_channel.boleto": "wallet"}
    assert len(notices) == 1 and notices[0].field == "refund_channel.cod" and notices[0].reason == "unknown_key"
    assert notice_text(notices[0]).endswith("; ignored.")
