"""`python -m analytics report`: the headline numbers of a data set under filters, as JSON or tables."""

from __future__ import annotations

from dataclasses import replace

from analytics import figures
from analytics.cli import UserError, add_common, emit
from analytics.commands.sources import add_source, chunks_of, opened, spark_session
from analytics.filters import ANCHORS, Filters
from analytics.metrics import REGISTRY
from analytics.outcomes import STAGES
from analytics.params import parse, problem_text


def register(sub) -> None:
    p = sub.add_parser("report", help="cancellations, reasons, outcomes and refund times of a data set")
    add_common(p, dataset=True)
    add_filters(p)
    p.add_argument("--compare", metavar="previous|year|FROM..TO",
                   help="compare each headline figure with the previous period of equal length, the same dates a "
                        "year earlier, or a range YYYY-MM-DD..YYYY-MM-DD (both sides on the same number of days)")
    p.add_argument("--threshold", type=float, default=20, metavar="DAYS",
                   help="business days beyond which a refund counts as slow (default 20)")
    add_source(p)
    p.set_defaults(func=cmd_report)


def add_filters(p) -> None:
    """The filter options, as `report` and `orders` take them."""
    f = p.add_argument_group("filters (each list option is repeatable or comma-separated; none means all)")
    f.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first day of the date range")
    f.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last day of the date range (included)")
    f.add_argument("--anchor", choices=ANCHORS, default="order",
                   help="which date the range tests: the order's, the request's or the refund's (default order)")
    f.add_argument("--payment-method", dest="payment", action="append", metavar="M")
    f.add_argument("--shipping-method", dest="shipping", action="append", metavar="M")
    f.add_argument("--seller", action="append", metavar="ID")
    f.add_argument("--reason", action="append", metavar="R")
    f.add_argument("--stage", action="append", metavar="S", help=f"one of {', '.join(STAGES)}")


def with_dataset_note(args, render):
    """`render`, with a first line naming the data set when the command picked it (no --dataset): the
    most recent, which may not be the one the person meant. JSON output is left as it is."""
    if getattr(args, "dataset", None) is not None or getattr(args, "source", None):
        return render

    def rendered(payload: dict) -> str:
        text = render(payload)
        note = f"Data set: {payload['dataset']['name']} (the most recent; choose another with --dataset)"
        # A rendering that opens with its own "Data set:" line gets the note in its place, not twice.
        first, sep, rest = text.partition("\n")
        if first.startswith("Data set: "):
            return f"{note}, id {payload['dataset']['id']}{sep}{rest}"
        return f"{note}\n{text}"

    return rendered


def filters_from_args(args) -> Filters:
    """Filters from the command line, through the same parameters as a link; anything they refuse is an
    error here (a person typed it and can fix it), where a link would only show a notice. The error
    names the option, not the link's key."""
    query = {key: value for key, value in (
        ("from", args.start), ("to", args.end), ("anchor", args.anchor), ("payment", args.payment),
        ("shipping", args.shipping), ("seller", args.seller), ("reason", args.reason), ("stage", args.stage),
    ) if value}
    filters, problems = Filters.from_query(query)
    if problems:
        raise UserError("; ".join(problem_text(p, OPTIONS) for p in problems))
    return filters


def check_in_data(con, dataset, filters: Filters, options: dict[str, str] | None = None) -> None:
    """A typed filter value the data set does not have is an error here (a typo, most often), where a link
    made on another data set only shows a notice: the same check, said as the option (`options`: a link
    key's option, OPTIONS by default)."""
    from analytics.filters import restrict_to_options
    from analytics.report import filter_options

    found = filter_options(con, dataset)
    bounds = {anchor: tuple(span) if span else None for anchor, span in found.get("dates", {}).items()}
    _, problems = restrict_to_options(filters, {k: v for k, v in found.items() if k != "dates"}, bounds)
    if problems:
        # Nothing is used instead here: the command stops.
        raise UserError("; ".join(problem_text(replace(p, used=""), options or OPTIONS) for p in problems))


# The link's key of each filter -> its option here.
OPTIONS = {"from": "--from", "to": "--to", "anchor": "--anchor", "payment": "--payment-method",
           "shipping": "--shipping-method", "seller": "--seller", "reason": "--reason", "stage": "--stage"}


def comparison_from_args(args):
    """The --compare option through the same parameter as a link's `compare`; None when not given."""
    from analytics import compare

    if args.compare is None:
        return None
    value, problem = parse(compare.PARAM, args.compare)
    if problem is not None:
        raise UserError(problem_text(problem, {"compare": "--compare"}))
    return compare.Comparison.from_value(value)


def cmd_report(args) -> int:
    from analytics.report import report, with_comparison

    filters = filters_from_args(args)
    comparison = comparison_from_args(args)
    if args.threshold < 0:
        raise UserError(f"--threshold must be 0 or more business days, got {args.threshold}")
    with opened(args) as (con, dataset, source):
        check_in_data(con, dataset, filters)
        chunks = chunks_of(args, source)
        if args.engine == "spark":
            from analytics import spark

            session = spark_session(args)

            def report_of(f):
                return spark.report(session, source, f, threshold_days=args.threshold, partitions=args.partitions)
        elif chunks is not None:
            from analytics import chunked

            def report_of(f):
                return chunked.report(source, f, threshold_days=args.threshold, chunks=chunks)
        else:
            report_of = None
        if report_of is None:
            payload = report(con, dataset, filters, threshold_days=args.threshold, compare=comparison)
        else:
            payload = report_of(filters)
            if comparison is not None and comparison.active:
                payload["compare"] = with_comparison(con, dataset, filters, payload, comparison, report_of)
    emit(args, payload, with_dataset_note(args, render))
    return 0


# ---------------------------------------------------------------------------------------------------
# Text output

def _cell(value, fmt: str = "{}") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and fmt == "{}":
        return f"{value:,.2f}"
    return figures.written(value, fmt)


def table(headers: list[str], rows: list[list], fmts: list[str] | None = None) -> str:
    """A plain text table: first column left-aligned, the rest right-aligned."""
    fmts = fmts or ["{}"] * len(headers)
    cells = [[_cell(v, f) for v, f in zip(row, fmts, strict=True)] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values):
        return "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True)))

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _fmt(name: str) -> str:
    return REGISTRY[name].fmt


# The report's keys (and parts of keys) as a person reads them, for the list of what is not available.
UNAVAILABLE_LABELS = {
    "requests_by_stage": "Requests by stage",
    "request_outcomes": "How requests end",
    "seller_response_hours": "Seller response time",
    "reasons": "Reasons",
    "refund_latency": "Refund time by payment method",
    "refund_latency.from_request": "Refund time by payment method, from the request",
    "refund_wait_from_start": "Refund time",
    "refund_wait_from_request": "Buyer's wait",
    "refunds_over_threshold": "Slow refunds (over the threshold)",
    "seller_losses.return_path": "Seller losses: orders sent the return way",
}


def unavailable_label(key: str) -> str:
    """A plain label for a key of the report's "unavailable" map (its own words for a key not listed)."""
    if key in UNAVAILABLE_LABELS:
        return UNAVAILABLE_LABELS[key]
    if key in REGISTRY:
        return REGISTRY[key].label
    text = key.replace(".", ", ").replace("_", " ")
    return text[:1].upper() + text[1:]


def _with_unit(name: str, value) -> tuple[str, object, str]:
    """A figure's line: its catalogue label with its unit, the value, its format."""
    figure = figures.get(name)
    return f"{figure.label} ({figure.unit})", value, figure.fmt


def render(r: dict) -> str:
    out = [f"Data set: {r['dataset']['name']} (id {r['dataset']['id']})"]
    if r["filters"]:
        out.append("Filters: " + ", ".join(f"{k}={v}" for k, v in r["filters"].items()))
    headline = [(REGISTRY[k].label, r[k], _fmt(k)) for k in (
        "orders", "gmv", "cancellation_requests", "cancelled_orders", "cancellation_rate", "cancelled_gmv",
        "acceptance_rate", "refunds", "refund_amount")]
    hours = r["seller_response_hours"]
    if hours is not None:
        headline += [_with_unit(f"p{q}_response_hours", hours[f"p{q}"]) for q in (50, 90)]
    # Two clocks: the buyer's wait runs from the request, the refund time from the refund's start.
    for key, clock in (("refund_wait_from_request", "from_request"), ("refund_wait_from_start", "from_start")):
        if r.get(key) is not None:
            headline += [_with_unit(f"p{q}_refund_business_days_{clock}", r[key][f"p{q}_business_days"])
                         for q in (50, 90)]
    over = r["refunds_over_threshold"]
    if over is not None:
        headline.append((f"Refunds over {over['threshold_business_days']:g} business days", over["share"], "{:.1%}"))
    out += ["", table(["metric", "value"], [[label, _cell(value, fmt)] for label, value, fmt in headline])]
    if r.get("compare") is not None:
        out += ["", *render_compare(r["compare"])]

    # A count by stage is n/a (not 0) when the data set records no requests, or cannot tell the stage (it
    # has no payment or shipment times: both are then listed under "Not available").
    if r["cancellations_by_stage"] is not None:
        stage_rows = [[s.replace("_", " "), (r["requests_by_stage"] or {}).get(s), r["cancellations_by_stage"][s]]
                      for s in STAGES]
        out += ["", "By stage", table(["stage", "requests", "cancelled orders"], stage_rows, ["{}", "{:,}", "{:,}"])]
    if r["cancelled_by_payment_method"] is not None:
        out += ["", "Cancelled orders by payment method", table(
            ["payment method", "orders", "cancelled", "rate", "cancelled GMV"],
            [[x["payment_method"], x["orders"], x["cancelled_orders"], x["cancellation_rate"], x["cancelled_gmv"]]
             for x in r["cancelled_by_payment_method"]],
            ["{}", "{:,}", "{:,}", "{:.1%}", "{:,.2f}"])]
    if r["request_outcomes"] is not None:
        out += ["", "How requests end", table(
            ["outcome", "requests"], [[k.replace("_", " "), v] for k, v in r["request_outcomes"].items()],
            ["{}", "{:,}"])]
    if r.get("orders_by_status") is not None:
        out += ["", "Orders by status", table(
            ["status", "stage", "orders", "cancelled", "share"],
            [[x["status"] if x["status"] is not None else "no status", (x["stage"] or "none").replace("_", " "),
              x["orders"], x["cancelled_orders"], x["share"]] for x in r["orders_by_status"]],
            ["{}", "{}", "{:,}", "{:,}", "{:.1%}"])]
    if r["reasons"] is not None:
        out += ["", "Reasons", table(["reason", "requests", "share"],
                                     [[x["reason"], x["requests"], x["share"]] for x in r["reasons"]],
                                     ["{}", "{:,}", "{:.1%}"])]
    if r["refund_latency"] is not None:
        out += ["", "Refund time by payment method (business days)", table(
            ["payment method", "refunds", "mean from start", "median from start", "p90 from start",
             "median from request", "p90 from request"],
            [[x["payment_method"], x["refunds"], x["mean_business_days"], x["p50_business_days"],
              x["p90_business_days"], x["p50_from_request_business_days"], x["p90_from_request_business_days"]]
             for x in r["refund_latency"]],
            ["{}", "{:,}"] + ["{:,.1f}"] * 5)]
    if r["unavailable"]:
        out += ["", "Not available in this data set:"]
        out += [f"  {unavailable_label(key)}: {why}" for key, why in r["unavailable"].items()]
    return "\n".join(out)



def _signed(value, fmt: str) -> str:
    """A change in the figure's format with its sign ('+5.0 pp' for a share), as the pages write it."""
    return "n/a" if value is None else figures.change_text(value, fmt)


def render_compare(c: dict) -> list[str]:
    """The compare block as text: which days, the note, and per figure current, compared and change."""
    if c["days"] == 0:
        return [c["note"] or "No comparison."]
    first, last = c["range"]
    sel_first, sel_last = c["selection_range"]
    out = [f"Compared with {first} to {last} ({c['days']} days; the selection's days: {sel_first} to {sel_last})"]
    if c["note"]:
        out.append(c["note"])
    rows = []
    for name, f in c["figures"].items():
        if name in c["unavailable"]:
            continue
        fmt = figures.get(name).fmt
        share = "" if f["change_share"] is None else f"{f['change_share']:+.1%}"
        rows.append([figures.get(name).label, _cell(f["current"], fmt), _cell(f["value"], fmt),
                     _signed(f["change"], fmt), share or "n/a"])
    return [*out, table(["figure", "selection", "compared", "change", "change %"], rows)]
