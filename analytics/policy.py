"""A cancellation policy as a frozen value, and the one place its parameters are named and bounded.

The command line (`--set name=value`), the pages' controls and shareable links all use the names in
PARAMETERS, declared as typed parameters (analytics.params), which parses them like any link parameter.
Defaults reproduce the baseline of domain.md; a parameter left at its default means "as the
data set shows" wherever the data carries the answer (a method's refund channel, the shipping-method mix).

Payment methods: PARAMETERS has one `refund_channel.<method>` per domain method (card, wallet, cash,
western_union, bank_transfer, cod). A data set may use others (Olist: credit_card, boleto, voucher,
debit_card): `parameters_for(methods, observed)` gives the parameters of such a data set (one
refund_channel control per method it has; a method outside the domain table defaults to the channel
its refunds show, else 'original'), and every parsing entry point takes `parameters=` to check names
against it. Without `parameters`, any `refund_channel.<label>` is accepted, unset = None (the data's
own channel, else 'original').

A label may hold any character (an imported file says what its payment methods are called). In a
parameter's name it is written by `method_key`: letters, digits and '_' as they are, every other
character percent-encoded, so the name passes unchanged through a link, a shell and a widget key
(`refund_channel.pay%2Epal` for 'pay.pal'). Names are read back in that form or with the label as
written (`refund_channel.pay.pal`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from urllib.parse import unquote

from analytics.outcomes import DEFAULT_REFUND_CHANNEL, PAYMENT_METHODS, REFUND_CHANNELS
from analytics.params import (
    DATA,
    FITTED,
    MALFORMED,
    UNKNOWN_KEY,
    Param,
    ParameterError,
    Problem,
    parse,
    value_text,
)
from analytics.words import plain

TIMEOUT_ACTIONS = ("auto_cancel", "lapse")
LATE_DISPATCH_ACTIONS = ("none", "auto_cancel")
# Each choice in words, in the order of its codes: what its control offers and a scenario's words say.
TIMEOUT_ACTION_WORDS = ("cancel the order", "let the request lapse")
LATE_DISPATCH_ACTION_WORDS = ("wait for the seller", "cancel the order")
REFUND_CHANNEL_WORDS = ("original payment method", "platform wallet", "coupon")

MAX_RESPONSE_HOURS = 2160.0  # 90 days: longer windows are not a policy anyone runs
MAX_DISPATCH_DAYS = 60
MAX_REFUND_DAYS = 60

CHANNEL_PREFIX = "refund_channel."
# A payment method's label in a parameter name: these characters as they are, the others percent-encoded.
_KEY_SAFE = re.compile(r"[a-z0-9_]")
_ENCODED_KEY = re.compile(r"(?:[a-z0-9_]|%[0-9A-Fa-f]{2})+")
MAX_METHOD_CHARS = 200


def method_key(method: str) -> str:
    """A payment method's label as a parameter name writes it: a-z, 0-9 and '_' as they are, any other
    character as the percent-encoding of its UTF-8 bytes ('pay.pal' -> 'pay%2Epal')."""
    return "".join(c if _KEY_SAFE.fullmatch(c) else "".join(f"%{b:02X}" for b in c.encode()) for c in method)


def method_from_key(key: str) -> str:
    """The label a key names: the decoded label when the key is written as `method_key` writes one (only
    a-z, 0-9, '_' and %XX), else the key itself (a label as written)."""
    if _ENCODED_KEY.fullmatch(key):
        try:
            return unquote(key, errors="strict")
        except UnicodeDecodeError:
            pass
    return key


def channel_name(method: str) -> str:
    """The name of the parameter that sets where a payment method's refunds go."""
    return CHANNEL_PREFIX + method_key(method)


# A policy parameter is a typed parameter (analytics.params) like a link's, parsed the same way; a value
# a person typed that it refuses raises the same error, whose `problem` says which, what and why.
Parameter = Param
PolicyError = ParameterError


def _build_parameters() -> tuple[Parameter, ...]:
    params = [
        Parameter(
            "seller_consent_required", "bool", True, "Seller's consent required",
            "A paid order that has not shipped is cancelled only if the seller agrees (or the window runs out). "
            "Off: every request made before the parcel leaves cancels the order at once. Default: on.",
            group="consent"),
        Parameter(
            "seller_response_hours", "number", 72.0, "Seller's response window",
            "Hours the seller has to answer a cancellation request; when they run out, the timeout action "
            "applies. A parcel that leaves before the answer sends the buyer the return way. Default: 72.",
            minimum=0.0, maximum=MAX_RESPONSE_HOURS, minimum_exclusive=True, unit="hours", group="consent"),
        Parameter(
            "timeout_action", "choice", "auto_cancel", "When the window runs out",
            # In the words the control offers (choice_words); links and the command line take the codes.
            "Cancel the order: the platform cancels the order and refunds the buyer at the window's end. "
            "Let the request lapse: the request lapses and the order goes on. Default: cancel the order.",
            choices=TIMEOUT_ACTIONS, choice_words=TIMEOUT_ACTION_WORDS, group="consent"),
        Parameter(
            "never_answer_share", "number", 0.0, "Sellers who never answer (assumption)",
            "An assumption, not a rule: the share of sellers who would never answer a request however long "
            "the window. Data whose window ends at 72 hours cannot tell a seller who answers after 72 hours "
            "from one who never does, so the engine assumes 0 (every seller answers in the end, at the time "
            "the fitted curve says). Set 0.1 or 0.25 to see how a longer window's figures move if that many "
            "never answer. It changes nothing for windows the data itself shows. Default: 0.",
            minimum=0.0, maximum=1.0, group="consent"),
        Parameter(
            "dispatch_deadline_days", "integer", 7, "Dispatch deadline",
            "Working days after payment by which the seller must hand the parcel over. Default: 7.",
            minimum=1, maximum=MAX_DISPATCH_DAYS, unit="working days", group="dispatch"),
        Parameter(
            "late_dispatch_action", "choice", "none", "When the dispatch deadline passes",
            "Wait for the seller: the order waits for the seller to ship it. Cancel the order: an order not "
            "shipped by the deadline is cancelled and refunded then; a request made after that is never made. "
            "Default: wait for the seller.",
            choices=LATE_DISPATCH_ACTIONS, choice_words=LATE_DISPATCH_ACTION_WORDS, group="dispatch"),
    ]
    params += [refund_channel_parameter(method) for method in PAYMENT_METHODS]
    for channel in REFUND_CHANNELS:
        params.append(Parameter(
            # The channel in the words the refund channels' controls offer ('original payment method').
            f"refund_days.{channel}", "days_or_fitted", FITTED, f"Time to refund: {_channel_words(channel)}",
            f"Business days from a refund's start until the money reaches the buyer through the "
            f"{_channel_words(channel)}: 'fitted' draws it from the data set's own refunds, a number fixes it. "
            "Default: fitted.",
            minimum=0, maximum=MAX_REFUND_DAYS, unit="business days", group="refunds"))
    params.append(Parameter(
        "premium_shipping_share", "number", None, "Premium shipping share",
        "Share of orders sent by Premium (7-15 working days in transit) instead of Standard (15-45). "
        f"Default: {DATA}, the data set's own shipping methods, order by order (its observed share is in "
        "the calibration). A number always means that share: 0.25 sends 25% by Premium.",
        minimum=0.0, maximum=1.0, group="shipping", accepts_data=True))
    return tuple(params)


def _channel_words(channel: str) -> str:
    """A refund channel in the words its control offers ('original' -> 'original payment method')."""
    return REFUND_CHANNEL_WORDS[REFUND_CHANNELS.index(channel)] if channel in REFUND_CHANNELS else channel


def refund_channel_parameter(method: str, observed: str | None = None, data_known: bool = False) -> Parameter:
    """The `refund_channel.<method>` parameter. Its default: the domain's channel for a domain method;
    otherwise, for a known data set (`data_known`), `observed` (the channel its refunds of that method
    show) or 'original' when it has none; with no data set, None ('data': as the data shows)."""
    words = method.replace("_", " ")
    # The control's label in the words the charts and tables use ("Cash on delivery refunds"), not the code's.
    label, name = f"{plain(method)} refunds", channel_name(method)
    what = f"Where the money goes when an order paid by {words} is refunded. "
    if method in DEFAULT_REFUND_CHANNEL:
        default = DEFAULT_REFUND_CHANNEL[method]
        why = (f"Default: {_channel_words(default)}, as marketplace rules usually send it (at the default, each refund "
               "keeps the channel the data set shows).")
    elif observed is not None:
        default = observed
        why = f"Default: {_channel_words(default)}, the channel this data set's {words} refunds show."
    elif data_known:
        default = "original"
        why = f"Default: {_channel_words('original')} (this data set shows no {words} refund's channel)."
    else:
        default = None
        why = f"Default: {DATA}, the channel the data set's {words} refunds show, else {_channel_words('original')}."
    return Parameter(name, "choice", default, label, what + why, choices=REFUND_CHANNELS,
                     choice_words=REFUND_CHANNEL_WORDS, group="refunds", accepts_data=default is None)


PARAMETERS: tuple[Parameter, ...] = _build_parameters()
PARAMETERS_BY_NAME: dict[str, Parameter] = {p.name: p for p in PARAMETERS}


def parameters_for(methods: Iterable[str], observed: Mapping[str, str] | None = None) -> tuple[Parameter, ...]:
    """PARAMETERS for a data set with these payment methods: the same parameters in the same order,
    with one refund_channel.<method> per method given (domain methods first in the domain's order, then
    the others by name) in place of the domain's six. `observed`: method -> the channel its refunds show
    (the default of a method outside the domain table; 'original' when absent)."""
    observed = observed or {}
    given = set(methods)
    ordered = [m for m in PAYMENT_METHODS if m in given] + sorted(given - set(PAYMENT_METHODS))
    channels = [refund_channel_parameter(m, observed.get(m), data_known=True) for m in ordered]
    out: list[Parameter] = []
    for p in PARAMETERS:
        if p.name.startswith("refund_channel."):
            out += channels
            channels = []
        else:
            out.append(p)
    return tuple(out)


def _method_of(name: str) -> str | None:
    """The payment method a `refund_channel.<key>` name is about (None for another name)."""
    if name.startswith(CHANNEL_PREFIX):
        key = name[len(CHANNEL_PREFIX):]
        if key.strip() and len(key) <= 3 * 4 * MAX_METHOD_CHARS:
            method = method_from_key(key)
            return method if len(method) <= MAX_METHOD_CHARS else None
    return None


def _lookup(name: str, parameters: Sequence[Parameter] | None = None, value: object = "") -> Parameter:
    """The parameter called `name`: among `parameters` (a data set's) when given, else PARAMETERS plus a
    refund_channel.<label> for any payment method label. A payment method is named by its key
    (`method_key`) or by its label as written. Raises PolicyError (an unknown name, given `value`)."""
    found = _find(name, parameters)
    if found is not None:
        return found
    if parameters is not None and name.startswith(CHANNEL_PREFIX):
        methods = [p.name[len(CHANNEL_PREFIX):] for p in parameters if p.name.startswith(CHANNEL_PREFIX)]
        expected = (f"{CHANNEL_PREFIX}<method> for a payment method of this data set: "
                    + (", ".join(methods) or "none"))
    else:
        expected = "one of " + ", ".join(p.name for p in PARAMETERS)
    text = value if isinstance(value, str) else value_text(value)
    raise PolicyError(Problem(name, text, UNKNOWN_KEY, expected))


def _find(name: str, parameters: Sequence[Parameter] | None) -> Parameter | None:
    if parameters is not None:
        by_name = {p.name: p for p in parameters}
        found = by_name.get(name)
        if found is None and name.startswith(CHANNEL_PREFIX):
            key = name[len(CHANNEL_PREFIX):]
            # The key as encoded, then the label as written (which may itself look like a key).
            found = by_name.get(channel_name(method_from_key(key))) or by_name.get(channel_name(key))
        return found
    found = PARAMETERS_BY_NAME.get(name)
    if found is not None:
        return found
    method = _method_of(name)
    return None if method is None else refund_channel_parameter(method)


def _default_pairs(prefix: str) -> tuple[tuple[str, object], ...]:
    return tuple((_pair_key(p.name), p.default) for p in PARAMETERS if p.name.startswith(prefix + "."))


@dataclass(frozen=True)
class Policy:
    """A cancellation policy. Hashable, so it can key a cache.

    refund_channel and refund_days are tuples of (key, value) pairs in a fixed order (the domain's payment
    methods, then any other method given a channel, by name; refund channels); read them with
    `channel_for(method)` and `refund_days_for(channel)`."""

    seller_consent_required: bool = True
    seller_response_hours: float = 72.0
    timeout_action: str = "auto_cancel"
    never_answer_share: float = 0.0
    dispatch_deadline_days: int = 7
    late_dispatch_action: str = "none"
    refund_channel: tuple[tuple[str, str], ...] = field(default_factory=lambda: _default_pairs("refund_channel"))
    refund_days: tuple[tuple[str, object], ...] = field(default_factory=lambda: _default_pairs("refund_days"))
    premium_shipping_share: float | None = None   # None: the data set's own shipping methods

    def __post_init__(self) -> None:
        # Every way of building a Policy goes through the same checks and the same typing, so an invalid
        # policy cannot exist and Policy(seller_response_hours="48") equals Policy(seller_response_hours=48).
        flat = self._flat()
        for name, value in flat.items():
            flat[name] = _lookup(name).parse(value)
        for f in fields(self):
            if f.name in ("refund_channel", "refund_days"):
                pairs = tuple((key, flat.get(_pair_name(f.name, key), default))
                              for key, default in _default_pairs(f.name))
                known = {key for key, _ in pairs}
                # Methods outside the domain table, only when given a channel (None = as the data shows),
                # by name: one policy, one value, however it was built.
                extra = sorted((_pair_key(name), v) for name, v in flat.items()
                               if name.startswith(f"{f.name}.") and v is not None and _pair_key(name) not in known)
                object.__setattr__(self, f.name, pairs + tuple(extra))
            else:
                object.__setattr__(self, f.name, flat[f.name])

    def __hash__(self) -> int:
        # Worked out once: a policy keys the engine's caches, asked for at every replicate of every change.
        found = self.__dict__.get("_hash")
        if found is None:
            found = hash(tuple(getattr(self, f.name) for f in fields(self)))
            object.__setattr__(self, "_hash", found)
        return found

    def __getstate__(self) -> dict:
        # Without the kept hash: a string's hash differs from one process to another, and a pickled policy
        # (a cache's key) must not depend on whether it was hashed before.
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    def _flat(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("refund_channel", "refund_days"):
                for key, v in (value.items() if isinstance(value, Mapping) else value):
                    out[_pair_name(f.name, key)] = v
            else:
                out[f.name] = value
        return out

    def as_dict(self) -> dict[str, object]:
        """Every parameter by its public name, e.g. {'seller_response_hours': 72.0, 'refund_channel.cod': 'coupon'}."""
        return self._flat()

    def get(self, name: str, parameters: Sequence[Parameter] | None = None) -> object:
        """A parameter's value by public name. With a data set's `parameters` (parameters_for), a payment
        method's refund channel left unset reads as that data set's default for it."""
        param = _lookup(name, parameters)
        value = self._flat().get(param.name)
        return param.default if value is None else value

    def changes(self) -> dict[str, object]:
        """Only the parameters that differ from their defaults (what a link or a saved scenario stores)."""
        return {k: v for k, v in self._flat().items() if v != _lookup(k).default}

    def inert(self) -> dict[str, str]:
        """The parameters that change nothing under this policy's other settings, each with why: with
        consent off a paid order is cancelled the moment it is asked, so no window runs; with nothing
        done on late dispatch, the deadline cancels nothing."""
        out = {}
        if not self.seller_consent_required:
            why = "consent is off: a paid, unshipped order is cancelled the moment the buyer asks, so no window runs"
            out.update(dict.fromkeys(("seller_response_hours", "timeout_action", "never_answer_share"), why))
        if self.late_dispatch_action != "auto_cancel":
            out["dispatch_deadline_days"] = ("nothing happens when the dispatch deadline passes (set it to auto "
                                             "cancel for the deadline to act)")
        return out

    def channel_for(self, method: str) -> str | None:
        """The channel the policy sets for a payment method; None for a method outside the domain table
        that it leaves as the data shows."""
        return dict(self.refund_channel).get(method)

    def channel_changed(self, method: str) -> bool:
        """True when the policy moves this payment method's refunds off the default channel."""
        return channel_name(method) in self.changes()

    def refund_days_for(self, channel: str) -> int | None:
        """A fixed number of business days for the channel, or None for the fitted distribution."""
        value = dict(self.refund_days).get(channel, FITTED)
        return None if value == FITTED else int(value)

    def with_values(self, values: Mapping[str, object], parameters: Sequence[Parameter] | None = None) -> Policy:
        """A copy with parameters set by public name; values may be strings. Raises PolicyError.

        `parameters`: a data set's (parameters_for / simulate.policy_parameters): names are checked
        against it (a payment method the data set does not have is refused, naming the ones it has),
        and a refund channel set to that data set's default for a method outside the domain table is
        stored as unset, so the policy equals the one that leaves it alone (same link, same cache key)."""
        flat = self._flat()
        for name, raw in values.items():
            param = _lookup(name, parameters, raw)
            value = param.parse(raw)
            if parameters is not None and _method_of(param.name) not in (None, *PAYMENT_METHODS) \
                    and value == param.default:
                value = None
            flat[param.name] = value
        return _from_flat(flat)

    def with_value(self, name: str, value: object) -> Policy:
        return self.with_values({name: value})

    def to_query(self) -> dict[str, str]:
        """The non-default parameters as strings, for a URL's query parameters."""
        return {k: value_text(v) for k, v in self.changes().items()}

    @classmethod
    def from_settings(cls, settings: Iterable[str], base: Policy | None = None,
                      parameters: Sequence[Parameter] | None = None) -> Policy:
        """A policy from `name=value` strings (the command line's --set). Raises PolicyError.
        `parameters`: a data set's, as in with_values."""
        values: dict[str, str] = {}
        for item in settings:
            # A value never holds '=' (a label may): the last one separates them.
            name, sep, value = item.rpartition("=")
            if not sep:
                raise PolicyError(Problem("", item, MALFORMED, "name=value"))
            values[name.strip()] = value.strip()
        return (base or cls()).with_values(values, parameters)

    @classmethod
    def from_query(cls, params: Mapping[str, object], other_keys: Iterable[str] = (),
                   parameters: Sequence[Parameter] | None = None) -> tuple[Policy, list[Problem]]:
        """A policy from untrusted query parameters, never raising.

        Returns (policy, problems): a parameter that is unknown (and not in `other_keys`, the page's own
        state such as the data set) or invalid gives a Problem and keeps its default. `parameters`: a
        data set's, as in with_values (a payment method it does not have is unknown)."""
        others = set(other_keys)
        good: dict[str, object] = {}
        problems: list[Problem] = []
        for name, raw in params.items():
            if isinstance(raw, list | tuple):
                raw = raw[-1] if raw else ""
            if name in others:
                continue
            try:
                param = _lookup(name, parameters, raw)
            except PolicyError as e:
                problems.append(e.problem)
                continue
            value, problem = parse(param, raw)
            if problem is None:
                good[name] = value
            else:
                problems.append(problem)
        return cls().with_values(good, parameters), problems


def _from_flat(flat: Mapping[str, object]) -> Policy:
    kwargs: dict[str, object] = {}
    channels: dict[str, object] = {}
    days: dict[str, object] = {}
    for name, value in flat.items():
        if name.startswith(CHANNEL_PREFIX):
            channels[_pair_key(name)] = value
        elif name.startswith("refund_days."):
            days[_pair_key(name)] = value
        else:
            kwargs[name] = value
    return Policy(**kwargs, refund_channel=tuple(channels.items()), refund_days=tuple(days.items()))


def _pair_name(field_name: str, key: str) -> str:
    """The public name of one pair of Policy.refund_channel (a payment method) or .refund_days (a channel)."""
    return channel_name(key) if field_name == "refund_channel" else f"{field_name}.{key}"


def _pair_key(name: str) -> str:
    """The pair's key (a payment method's label, a channel) of a public name made by _pair_name."""
    prefix, _, key = name.partition(".")
    return method_from_key(key) if prefix + "." == CHANNEL_PREFIX else key


def find_parameter(name: str, parameters: Sequence[Parameter] | None = None) -> Parameter:
    """The parameter a public name (or a payment method's label as written) names; raises PolicyError."""
    return _lookup(name, parameters)


__all__ = ["DATA", "FITTED", "PARAMETERS", "PARAMETERS_BY_NAME", "Parameter", "Policy", "PolicyError",
           "channel_name", "find_parameter", "method_from_key", "method_key", "parameters_for",
           "refund_channel_parameter", "value_text"]
