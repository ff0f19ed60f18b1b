"""What-if commands: calibrate, simulate, sweep."""

from __future__ import annotations

import functools

from analytics import db, figures
from analytics.cli import UserError, add_common, emit
from analytics.commands.report import with_dataset_note
from analytics.commands.sources import add_source, chunks_of, opened, spark_session
from analytics.policy import DATA, PARAMETERS, PolicyError, value_text
from analytics.text import in_sentence
from analytics.whatif_tables import label_in

# Figures shown by the text rendering of simulate and sweep (--json prints them all).
HEADLINE = (
    "cancelled_orders", "cancelled_gmv", "requests_accepted", "requests_rejected", "requests_auto_cancelled",
    "requests_lapsed", "requests_not_cancellable", "requests_cancelled_without_consent", "return_path_orders",
    "dispatch_cancelled_orders", "refunds_on_platform", "refund_wait_p50_business_days",
    "refund_wait_p90_business_days",
)

REPLICATES_HELP_DEFAULT = 10  # = simulate.DEFAULT_REPLICATES (tests/test_simulate.py checks)

# Fitted figure -> the generator's true parameter it estimates.
TRUTH = {
    "acceptance_rate": ("acceptance_rate", "rate"),
    "response_median_hours": ("seller_response", "median_hours"),
    "response_sigma": ("seller_response", "sigma"),
    "premium_shipping_share": ("premium_shipping_share", "share"),
    "seller_response_hours": ("observed_window_hours", "median_hours"),
}


def register(sub) -> None:
    p = sub.add_parser("calibrate", help="fit the what-if engine's distributions from a data set, with sample sizes")
    p.add_argument("--refit", action="store_true", help="fit again even if a stored calibration exists")
    p.add_argument("--sample", metavar="N|FRACTION",
                   help="fit on a uniform random sample of N orders (or a fraction of them, e.g. 0.1), drawn for "
                        "--seed; the output states its size and what the sampling does to the fit")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="the sample's random seed (default 0)")
    add_common(p, dataset=True)
    add_source(p)
    p.set_defaults(func=cmd_calibrate)

    names = ", ".join(x.name for x in PARAMETERS)
    for name, helptext in (("simulate", "replay a data set under another policy: baseline, scenario, difference"),
                           ("sweep", "replay a data set with one policy parameter over a range of values")):
        p = sub.add_parser(name, help=helptext)
        if name == "sweep":
            p.add_argument("--param", required=True, metavar="NAME", help=f"the parameter to vary: {names}")
            p.add_argument("--values", required=True, metavar="V1,V2,...", help="comma-separated values")
        p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                       help=f"a policy parameter (repeatable): {names}")
        # None = simulate.DEFAULT_REPLICATES, resolved when the command runs: importing the engine here
        # would slow every command's start (a test keeps this help text's number equal to it).
        p.add_argument("--replicates", type=int, default=None, metavar="K",
                       help=f"replicates with different draws, for the 95%% intervals (default {REPLICATES_HELP_DEFAULT})")
        p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
        p.add_argument("--calibration-sample", metavar="N|FRACTION",
                       help="fit the calibration on a uniform random sample of N orders (or a fraction of them), "
                            "drawn as `calibrate --sample` draws it, instead of on every order: what a data set too "
                            "large for one machine's memory needs; the JSON's \"calibration\" states the sample")
        p.add_argument("--calibration-seed", type=int, default=0, metavar="S",
                       help="that sample's random seed (default 0; `calibrate --sample N --seed S` shows the same fit)")
        add_common(p, dataset=True)
        add_source(p)
        p.set_defaults(func=cmd_simulate if name == "simulate" else cmd_sweep)


def _sample_size(text: str | None, option: str) -> int | float | None:
    from analytics import sampling

    try:
        return None if text is None else sampling.parse_size(text, option)
    except ValueError as e:
        raise UserError(str(e)) from None


def cmd_calibrate(args) -> int:
    from analytics import calibrate, sampling

    size = _sample_size(args.sample, "--sample")
    extra: dict = {}
    with opened(args, read_only=False) as (con, dataset, source):
        found = db.resolve_dataset(con, dataset)
        if args.engine == "spark":
            from analytics import spark

            fitted, extra = spark.calibrate(spark_session(args), source, size=size, seed=args.seed,
                                            partitions=args.partitions)
        elif (chunks := chunks_of(args, source)) is not None:
            from analytics import chunked

            fitted, extra = chunked.calibrate(source, chunks, size, args.seed)
        elif size is not None:
            fitted, extra = sampling.calibrate_local(con, found.id, size, args.seed)
        else:
            fitted = calibrate.calibrate(con, found.id, refit=args.refit)
    summary = fitted.summary()
    payload = {"dataset": {"id": found.id, "name": found.name}, **extra, "fitted": summary}
    if found.true_params:
        payload["true_params"] = found.true_params
        payload["fitted_vs_true"] = {
            name: {"fitted": summary[section][key], "true": found.true_params.get(name)}
            for name, (section, key) in TRUTH.items() if name in found.true_params
        }
    emit(args, payload, with_dataset_note(args, _render_calibration))
    return 0


def _render_calibration(r: dict) -> str:
    from analytics.calibrate import left_out

    f = r["fitted"]
    resp, acc, disp = f["seller_response"], f["acceptance_rate"], f["payment_to_shipment"]
    # With no answer to fit, the engine falls back on assumed values; say so rather than show them as fitted.
    assumed = " (assumed: no seller answers in this data set)" if not resp["answered"] + resp["censored"] else ""
    lines = [
        f"calibration of {r['dataset']['name']!r} (id {r['dataset']['id']})",
        *_sample_lines(r),
        f"  seller response: lognormal median {resp['median_hours']} h, sigma {resp['sigma']} "
        f"({resp['answered']:,} answered, {resp['censored']:,} censored){assumed}",
        f"  acceptance rate: {_rate(acc['rate'])} ({acc['answered']:,} answered)"
        if acc["rate"] is not None else f"  acceptance rate: {NO_ANSWERS}",
    ]
    lines += [f"    {k}: {_rate(v['rate'])} ({v['answered']:,})" for k, v in acc["by_reason"].items()]
    lines.append(f"  payment to shipment: median {disp['median_hours']} h "
                 f"({disp['shipped']:,} shipped, {disp['censored']:,} censored)")
    lines += [f"  left out: {n:,} {what} (times out of order, stored with a warning)"
              for what, n in left_out(f).items() if n]
    days = f.get("dispatch_working_days", {})
    if days.get("median") is not None:
        lines.append(f"  dispatch as the rules count it: median {days['median']} working days after the payment day "
                     "(the replay draws from this)")
    extent = f.get("observed_extent", {})
    reach = []
    if extent.get("longest_answer_hours") is not None:
        reach.append(f"answers up to {extent['longest_answer_hours']} h after a request")
    if extent.get("longest_dispatch_working_days") is not None:
        reach.append(f"dispatch up to {extent['longest_dispatch_working_days']} working days after payment")
    if reach:
        lines.append(f"  the data reaches: {', '.join(reach)}; a policy beyond is extrapolated")
    for ch, v in f["refund_business_days"].items():
        note = " (assumed: no such refunds in the data)" if v["assumed"] else ""
        lines.append(f"  refund via {ch}: p50 {v['p50']}, p90 {v['p90']} business days ({v['n']:,}){note}")
    for m, v in f["transit_business_days"].items():
        note = " (assumed: none in the data)" if v["assumed"] else ""
        lines.append(f"  transit {m}: p50 {v['p50']}, p90 {v['p90']} business days ({v['n']:,}){note}")
    p = f["premium_shipping_share"]
    if p["share"] is None:
        lines.append("  premium shipping share: unknown, no order has a shipping method")
    else:
        lines.append(f"  premium shipping share: {p['share']} ({p['orders']:,} orders); the default policy keeps it")
    if "fitted_vs_true" in r:
        lines.append("  fitted vs the generator's truth:")
        lines += [f"    {k}: {v['fitted']} vs {v['true']}" for k, v in r["fitted_vs_true"].items()]
    return "\n".join(lines)


NO_ANSWERS = "not available (no seller answers in this data set)"


def _sample_lines(r: dict) -> list[str]:
    """What a fit on a sample says of it: its size, the fit's standard errors, the sample against the whole."""
    if "sample" not in r:
        return []
    s, eff = r["sample"], r["sampling_effect"]
    lines = [f"  fitted on a sample of {s['orders']:,} of {s['of_orders']:,} orders ({s['share']:.2%}, seed {s['seed']}; "
             f"{s['drawn']})"]
    errors = ", ".join(f"{k} ±{v}" for k, v in eff["standard_errors"].items() if v is not None)
    if errors:
        lines.append(f"  standard errors of the fit on this sample: {errors}")
    for name, c in eff["sample_vs_all"].items():
        if c["sample"] is None or c["all"] is None:
            continue
        lines.append(f"  {figures.get(name).label}: sample {c['sample']:.2%} vs all orders {c['all']:.2%} "
                     f"(difference {c['difference'] * 100:+.2f} pp, {c['difference_in_standard_errors']} standard errors)")
    return lines



def _calibration_lines(r: dict) -> list[str]:
    """simulate's and sweep's word on a calibration fitted on a sample (--calibration-sample)."""
    lines = _sample_lines(r.get("calibration", {}))
    return ["calibration:", *lines] if lines else []


def _rate(rate: float | None) -> str:
    return "not available" if rate is None else f"{rate}"


def _policy(args, prep=None):
    """The --set policy: checked on its own first (a typo fails before the data loads), then against
    the data set's own parameters (its payment methods) once `prep` is loaded."""
    from analytics import simulate
    from analytics.policy import Policy

    try:
        policy = Policy.from_settings(args.set)
        if prep is not None:
            policy = Policy.from_settings(args.set, parameters=simulate.policy_parameters(prep))
        return policy
    except PolicyError as e:
        raise UserError(str(e)) from None


def _replicates(args) -> int:
    from analytics import simulate

    if args.replicates is None:
        return simulate.DEFAULT_REPLICATES
    try:
        return simulate.check_replicates(args.replicates, "--replicates")
    except PolicyError as e:
        raise UserError(str(e)) from None


def _prepared(args, con, dataset):
    """(simulate.Prepared, the sample's blocks or None) on the local engine: the data set with its
    calibration, or with one fitted on --calibration-sample's sample of its orders (already in memory)."""
    from analytics import sampling, simulate

    size = _sample_size(args.calibration_sample, "--calibration-sample")
    prep = simulate.prepare_dataset(con, dataset)
    if size is None:
        return prep, None
    fitted, extra = sampling.calibrate_local(con, prep.dataset_id, size, args.calibration_seed, frame=prep.frame)
    return simulate.recalibrated(prep, fitted), extra


def _sampled(args) -> dict:
    """The calibration's sample, as spark.simulate and chunked.simulate (and their sweeps) take it."""
    return {"calibration_seed": args.calibration_seed,
            "calibration_sample": _sample_size(args.calibration_sample, "--calibration-sample")}


def _on_spark(args) -> dict:
    """The options spark.simulate and spark.sweep share: partitions and the calibration's sample."""
    return {"partitions": args.partitions, **_sampled(args)}


def cmd_simulate(args) -> int:
    from analytics import simulate

    _policy(args)
    _sample_size(args.calibration_sample, "--calibration-sample")
    with opened(args, read_only=False) as (con, dataset, source):
        if args.engine == "spark":
            from analytics import spark

            session = spark_session(args)
            try:
                result = spark.simulate(session, source, lambda prep: _policy(args, prep),
                                        replicates=_replicates(args), seed=args.seed, **_on_spark(args))
            except PolicyError as e:
                raise UserError(str(e)) from None
        elif (chunks := chunks_of(args, source)) is not None:
            from analytics import chunked

            try:
                result = chunked.simulate(source, chunks, lambda prep: _policy(args, prep),
                                          replicates=_replicates(args), seed=args.seed, **_sampled(args))
            except PolicyError as e:
                raise UserError(str(e)) from None
        else:
            prep, extra = _prepared(args, con, dataset)
            policy = _policy(args, prep)
            try:
                result = simulate.simulate(prep, policy=policy, replicates=_replicates(args), seed=args.seed,
                                           fitted_on=extra)
            except PolicyError as e:
                raise UserError(str(e)) from None
        currency = money_prefix(con, dataset, source)
    emit(args, result, with_dataset_note(args, functools.partial(_render_simulation, currency=currency)))
    return 0


# Decimals by unit, the same in every row and column: amounts to the cent, counts whole (a mean over
# replicates is rounded), business days to one decimal as the page shows them.
DECIMALS = {"currency": 2, "business days": 1}


def _unit(name: str) -> str:
    return figures.get(name).unit if name else ""


def _number(x: float, unit: str = "") -> str:
    """A figure for a text column, with separators and its unit's decimals; never '-0'."""
    places = DECIMALS.get(unit, 0)
    text = f"{x:,.{places}f}"
    return text.lstrip("-") if not text.strip("-0.,") else text


def _change(x: float, unit: str = "") -> str:
    """A difference for a text column, with its sign ('+284', '-12.50'); one written as zero is
    figures.NO_CHANGE ('±0'), as every change is written."""
    text = _number(x, unit)
    if figures.shows_no_change(text):
        return figures.NO_CHANGE
    return text if text.startswith("-") else f"+{text}"


def _fmt(fig: dict, name: str = "", signed: bool = False) -> str:
    """value [low, high] (orders_low, orders_high): the estimate, a new period like this one, these same
    orders; 'value exact' when nothing random moves it; n/a when not measurable. `signed`: the value is a
    difference, written with its sign (the intervals' ends as they are)."""
    if fig["value"] is None:
        return "n/a"
    unit = _unit(name)
    value = (_change if signed else _number)(fig["value"], unit)
    low, high = fig.get("low"), fig.get("high")
    o_low, o_high = fig.get("orders_low", low), fig.get("orders_high", high)
    if low is None or (low == high == fig["value"] and o_low == o_high):
        return value + (" exact" if low is not None else "")
    text = f"{value} [{_number(low, unit)}, {_number(high, unit)}]"
    if o_low is not None and (o_low, o_high) != (low, high):
        text += f" ({_number(o_low, unit)}, {_number(o_high, unit)})"
    return text


def _not_available(r: dict, names, currency: str = "") -> list[str]:
    """Lines saying why the n/a figures shown are not available (one line per reason)."""
    by_reason: dict[str, list[str]] = {}
    for name in names:
        why = r.get("unavailable", {}).get(name)
        if why:
            by_reason.setdefault(why, []).append(label_in(name, currency))
    return [f"n/a: {why} ({', '.join(labels)})" for why, labels in by_reason.items()]


def money_prefix(con, dataset, source=None) -> str:
    """The data set's money prefix ('USD '), or '' where it records no currency or several: an amount's
    label says its currency where there is one."""
    from analytics import report

    return report.money_format(source.currencies if source is not None else report.currencies(con, dataset), "")


def _shipping_note(r: dict) -> str:
    """How the run treats the shipping mix: the share it sets, or the data's own (with its share)."""
    if "premium_shipping_share" in r["policy"]:
        return ""
    share = r.get("observed", {}).get("premium_shipping_share")
    # With a calibration sample, the share is the sample's (the replay still takes each order's own method).
    sample = (r.get("calibration") or {}).get("sample", {}).get("orders")
    where = f" in the calibration's sample of {sample:,} orders" if sample else ""
    seen = f", observed share {share:g}{where}" if share is not None else ", none known"
    return f"premium_shipping_share={DATA} (the data set's own shipping methods{seen})"


def _render_simulation(r: dict, currency: str = "") -> str:
    from analytics.commands.report import table

    changes = ", ".join(f"{k}={value_text(v)}" for k, v in r["policy"].items()) or "the baseline (no changes)"
    rows = [[label_in(n, currency), _fmt(r["baseline"][n], n), _fmt(r["scenario"][n], n),
             _fmt(r["delta"][n], n, signed=True)]
            for n in HEADLINE]
    return "\n".join([
        f"{r['dataset']['name']!r}: {changes}; {r['replicates']} replicates, seed {r['seed']}",
        *filter(None, [_shipping_note(r)]),
        *_calibration_lines(r),
        "estimate for these orders [95%: a new period like this one] (95%: these same orders lived again); "
        "exact: nothing random moves it",
        *_extrapolated(r),
        "",
        table(["figure", "baseline", "scenario", "difference"], rows),
        *_not_available(r, HEADLINE, currency),
    ])


def _extrapolated(r: dict) -> list[str]:
    """What the scenario assumes beyond the data, one line per parameter."""
    notes = r.get("assumptions", {})
    lines = [f"extrapolated: {', '.join(r['extrapolated'])}: the scenario rests on assumptions"] if r.get(
        "extrapolated") else []
    return lines + [f"  {name}: {text}" for name, text in notes.items()]


def cmd_sweep(args) -> int:
    from analytics import simulate

    _policy(args)
    _sample_size(args.calibration_sample, "--calibration-sample")
    values = [v.strip() for v in args.values.split(",") if v.strip()]
    with opened(args, read_only=False) as (con, dataset, source):
        try:
            if args.engine == "spark":
                from analytics import spark

                result = spark.sweep(spark_session(args), source, args.param, values, lambda prep: _policy(args, prep),
                                     replicates=_replicates(args), seed=args.seed, **_on_spark(args))
            elif (chunks := chunks_of(args, source)) is not None:
                from analytics import chunked

                result = chunked.sweep(source, chunks, args.param, values, lambda prep: _policy(args, prep),
                                       replicates=_replicates(args), seed=args.seed, **_sampled(args))
            else:
                prep, extra = _prepared(args, con, dataset)
                result = simulate.sweep(prep, args.param, values, policy=_policy(args, prep),
                                        replicates=_replicates(args), seed=args.seed, fitted_on=extra)
        except PolicyError as e:
            raise UserError(str(e)) from None
        currency = money_prefix(con, dataset, source)
    emit(args, result, with_dataset_note(args, functools.partial(_render_sweep, currency=currency)))
    return 0


# The sweep's text columns: figure -> its header, the figure's label as a sentence says it (the registry's
# one name: --json has every figure by its key).
SWEEP_COLUMNS = {name: in_sentence(figures.label(name)) for name in (
    "cancelled_orders", "requests_auto_cancelled", "return_path_orders", "cancelled_gmv",
    "refund_wait_p50_business_days", "refund_wait_p90_business_days")}


def _render_sweep(r: dict, currency: str = "") -> str:
    from analytics.commands.report import table

    rows = [[value_text(point["value"]) + (" (extrapolated)" if point.get("extrapolated") else ""),
             *(_fmt(point["scenario"][n], n) for n in SWEEP_COLUMNS)] for point in r["points"]]
    return "\n".join([
        f"{r['dataset']['name']!r}: {r['param']} over {len(r['values'])} values; "
        f"{r['replicates']} replicates, seed {r['seed']} (scenario figures)",
        *filter(None, [_shipping_note(r) if r["param"] != "premium_shipping_share" else ""]),
        *_calibration_lines(r),
        "estimate [95%: a new period like this one] (95%: these same orders); buyer's wait: from the request to "
        "the money back, in business days",
        "",
        table([r["param"], *SWEEP_COLUMNS.values()], rows),
        *_not_available(r, SWEEP_COLUMNS, currency),
    ])
