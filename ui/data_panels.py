"""The Data page's panels: the chosen data set (rename, delete, refused rows), generation, upload and import."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import streamlit as st

from analytics import capabilities, db, external, generate, importer, simulate
from analytics.formats import SHOP_CLOCK, Readings
from analytics.text import count, md
from ui import copy_link, downloads, picker, recent, tables, upload_folders
from ui.cached import TTL
from ui.database import connection, cursor, db_key

GENERATE_MIN = 100
GENERATE_MAX = 2_000_000  # bigger data sets: `python -m analytics generate`, which has no upload limit
NONE = "(no column)"
# Workbooks too, so that one dropped here is told to be saved as CSV (csvfile) rather than refused by its type.
UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "xls", "ods"]


def upload_limit_mb() -> int:
    return int(st.get_option("server.maxUploadSize"))


def _after_change() -> None:
    """A data set appeared, changed or went away: cached results keyed by it may be stale."""
    recent.clear()


# --- the chosen data set ------------------------------------------------------------------------------

def current_dataset(dataset: db.Dataset | None) -> None:
    if dataset is None:
        st.info("No data set yet: generate one or upload an export in the tabs above.", icon=":material/info:")
        if st.button("Create the demo data set (50,000 synthetic orders)", key="data_demo"):
            from analytics.demo import ensure_demo

            with st.spinner("Generating the demo data set…"), cursor() as cur:
                demo = ensure_demo(cur)
            _after_change()
            picker.remember(demo.id)
            st.rerun()
        return
    left, right = st.columns([3, 2])
    with left:
        st.subheader(md(dataset.name))
        st.markdown(
            f"{_counted(dataset.orders, 'order')} · "
            f"{_recorded(dataset, 'requests', dataset.cancellation_requests, 'cancellation request')} · "
            f"{_recorded(dataset, 'refunds', dataset.refunds, 'refund')} · {_counted(dataset.refused_rows, 'refused row')} · "
            f"{_counted(dataset.warned_rows, 'order')} with a warning  \n"
            f"{_ORIGIN.get(dataset.source_kind, 'Imported')} "
            f"{dataset.created_at:%Y-%m-%d %H:%M} UTC{' · the demo data set, shared by everyone' if dataset.is_demo else ''}"
        )
        ext = external.of(dataset)
        if ext is not None:
            st.caption(md(ext.describe()))
            st.caption("Its orders stay in the Parquet files and are read there at every page; removing the "
                       "data set removes its registration, never the files.")
        st.caption(f"Id `{dataset.id}`: the link to any page carries it; share the link to share the data set.")
        with st.expander("Where it came from"):
            st.json(dataset.source, expanded=False)
    with right:
        if dataset.is_demo:
            st.caption("The demo data set is shared by everyone, so it cannot be renamed or deleted here.")
        else:
            _rename_delete(dataset)
    _refused(dataset)
    st.subheader("Your data sets")
    # An export that records no requests (or refunds) does not say there were none: its cell is empty.
    rows = pl.DataFrame([{**d.as_json(), **{_COUNT_OF[name]: None for name in _not_recorded(d)}}
                         for d in picker.visible_datasets()])
    # Set widths, so the list fits a 1280 px window; the id and the orders with a warning are in the
    # download (and the chosen data set's, above).
    text = {"name": ("Name", 230), "source": ("Source", 75), "created_at": ("Created (UTC)", 140)}
    counts = {"orders": ("Orders", 75), "cancellation_requests": ("Requests", 80), "refunds": ("Refunds", 75),
              "refused_rows": ("Refused rows", 95)}
    config = {**{k: st.column_config.TextColumn(label, width=width) for k, (label, width) in text.items()},
              **{k: st.column_config.NumberColumn(label, format="%,d", width=width,
                                                  help="Empty: the data set does not record them" if k in
                                                  _COUNT_OF.values() else None)
                 for k, (label, width) in counts.items()}}
    downloads.table(rows, "data-sets", key="data_list", column_order=[*text, *counts], column_config=config)


_ORIGIN = {"generated": "Generated", external.KIND: "Registered"}


def _rename_delete(dataset: db.Dataset) -> None:
    if st.session_state.get("data_rename_for") != dataset.id:
        # Another data set was chosen: the name box starts from its name.
        st.session_state["data_rename_for"] = dataset.id
        st.session_state["data_new_name"] = dataset.name
    with st.form("data_rename", border=False):
        name = st.text_input("Name", max_chars=120, key="data_new_name")
        if st.form_submit_button("Rename"):
            try:
                with cursor() as cur:
                    db.rename_dataset(cur, dataset.id, name)
            except ValueError as e:
                st.error(md(str(e).capitalize()) + ".")
            else:
                st.toast(f"Renamed to {md(name)}")
                st.rerun()
    with st.popover("Delete this data set", icon=":material/delete:"):
        if external.of(dataset) is not None:
            st.markdown(f"Remove **{md(dataset.name)}** from the data sets, for everyone who has its link. Its "
                        "Parquet files are left as they are.")
        else:
            st.markdown(f"Delete **{md(dataset.name)}** and all its rows, for everyone who has its link. This cannot be undone.")
        if st.button("Delete for good", type="primary", key="data_delete"):
            with cursor() as cur:
                db.delete_dataset(cur, dataset.id)
            picker.forget(dataset.id)
            st.session_state.pop(picker.PICK, None)
            _after_change()
            st.rerun()


@st.cache_data(max_entries=16, ttl=TTL, show_spinner=False)
def _problem_rows(database: str, dataset_id: str, warned: bool) -> pl.DataFrame:
    with cursor() as cur:
        return (importer.warned_rows if warned else importer.refused_rows)(cur, dataset_id)


def _refused(dataset: db.Dataset) -> None:
    for warned, problems, title, caption, key in (
        (False, dataset.refused_rows, "Refused rows",
         "Rows of the file that the import left out, with the first check each failed and the values read. "
         "Line numbers are the file's own lines, as an editor shows them.", "data_refused"),
        (True, dataset.warned_rows, "Orders stored with a warning",
         "Real orders with odd values, stored and counted: a time out of order or a date far off is left out "
         "of the figures that rest on it; an order paid through several gateways is counted under the first "
         "(each row says which).", "data_warned"),
    ):
        if not problems:
            continue
        st.subheader(f"{title} ({problems:,})")
        st.caption(caption)
        rows = _problem_rows(db_key(), dataset.id, warned)
        by_reason = rows.group_by("reason").len("rows").sort("rows", "reason", descending=[True, False])
        downloads.table(by_reason, f"{key.replace('data_', '')}-reasons-{dataset.name}", key=f"{key}_reasons")
        # The message names the field and the reason: the table shows it whole at 1280 px without them beside
        # it (they scrolled it sideways); the download keeps every column.
        downloads.table(rows, f"{key.replace('data_', '')}-rows-{dataset.name}", key=key,
                        column_order=("line_number", "message", "raw"))


# --- generation ---------------------------------------------------------------------------------------

def generate_form() -> None:
    st.caption("Orders simulated forward through the life cycle and the baseline policy (domain rules: 72-hour "
               "response window, 7 working days to dispatch, refunds routed by payment method).")
    with st.form("data_generate"):
        # No min_value on the widget: a number below it would be silently put back, and the user would see
        # nothing happen; the check after submitting says what is wrong instead.
        orders = st.number_input("Orders", max_value=GENERATE_MAX, value=100_000, step=10_000,
                                 key="data_gen_orders", help=f"{GENERATE_MIN} to {GENERATE_MAX:,}; larger: the command line.")
        seed = st.number_input("Seed", min_value=0, max_value=2**31 - 1, value=1, step=1, key="data_gen_seed",
                               help="The same size and seed give the same orders.")
        name = st.text_input("Name (optional)", max_chars=120, key="data_gen_name")
        submitted = st.form_submit_button("Generate", type="primary")
    if submitted and int(orders) < GENERATE_MIN:
        st.error(f"A generated data set has at least {GENERATE_MIN} orders (you asked for {int(orders):,}): "
                 f"set Orders to {GENERATE_MIN} or more.", icon=":material/error:")
        return
    if submitted:
        bar = st.progress(0.0, text="Simulating orders…")

        def progress(fraction: float, text: str) -> None:
            bar.progress(min(max(float(fraction), 0.0), 1.0), text=text.capitalize())

        result = generate.generate(connection(db_key()), int(orders), int(seed), name=name.strip() or None,
                                   progress=progress)
        bar.progress(1.0, text="Preparing the What-if engine…")
        with cursor() as cur:   # a cursor of its own: another session may be using the connection
            simulate.store_dataset(cur, result.dataset.id)
        bar.progress(1.0, text="Stored")
        _after_change()
        picker.remember(result.dataset.id)
        st.session_state["data_last_result"] = result.as_json()
        st.rerun()


def last_result() -> None:
    """What the last generation or import in this session stored."""
    result = st.session_state.pop("data_last_result", None)
    if not result:
        return
    summary = result.get("summary") or f"{result['stored']:,} orders stored."
    st.success(f"Stored **{md(result['dataset']['name'])}**: {summary} It is now the chosen data set.",
               icon=":material/check_circle:")
    for notice in result.get("notices", []):
        st.caption(f"Note: {md(notice)}.")
    # The reasons tables are under "Refused rows" and "Orders stored with a warning" in the Data sets tab:
    # shown once, not twice; named only where the import has rows there.
    where = [name for name, rows in (("**Refused rows**", result["refused_by_reason"]),
                                     ("**Orders stored with a warning**", result.get("warned_by_reason"))) if rows]
    if where:
        st.caption(f"Why, and the rows themselves with their line numbers: {' and '.join(where)} in the Data "
                   "sets tab.")
    keep_link(result["dataset"]["id"])


def keep_link(dataset_id: str) -> None:
    """The new data set's link, prominently: data sets are private, so a new tab or browser finds this one
    only through its link."""
    with st.container(border=True):
        st.markdown("**Keep this link**: it is the only way back to this data set from another tab or browser.")
        st.code(dataset_link(dataset_id), language=None, wrap_lines=True)
        copy_link.copy_dataset_link_button()


def dataset_link(dataset_id: str) -> str:
    """This page's address naming the data set (what the address bar shows after the run)."""
    base = (getattr(st.context, "url", None) or "").split("?")[0]
    return f"{base}?dataset={dataset_id}" if base else f"?dataset={dataset_id}"


# --- upload -------------------------------------------------------------------------------------------

def _save_uploads(files) -> tuple[list[Path], dict[str, str]]:
    """The uploads on disk (a folder per set of uploads, reused while it is the same set)."""
    signature = tuple((f.file_id, f.name, f.size) for f in files)
    saved = st.session_state.get("data_upload")
    if saved and saved["signature"] == signature and all(Path(p).exists() for p in saved["paths"]):
        saved["folder"].touch()
        return [Path(p) for p in saved["paths"]], saved["names"]
    if saved:
        saved["folder"].remove()
    for fld in importer.FIELDS:  # a new file starts from its own automatic matches
        st.session_state.pop(f"data_map_{fld}", None)
    folder = upload_folders.Folder()
    paths, names = [], {}
    for i, f in enumerate(files):
        # Our own file name on disk: the upload's name is shown, never used as a path.
        path = folder.path / f"upload-{i}.csv"
        with path.open("wb") as out:
            f.seek(0)
            shutil.copyfileobj(f, out, 1 << 20)
        paths.append(path)
        names[str(path)] = f.name
    # The folder lives as long as this entry: it goes with the session's state when the session ends.
    st.session_state["data_upload"] = {"signature": signature, "paths": [str(p) for p in paths], "names": names,
                                       "folder": folder}
    return paths, names


def _forget_upload() -> None:
    saved = st.session_state.pop("data_upload", None)
    if saved:
        saved["folder"].remove()


# What an orders file must have, said before one is chosen: from the import's own list.
REQUIRED_WORDS = ("The orders file needs a column for each of: " + ", ".join(importer.REQUIRED_FIELDS)
                  + " (a line-item export may give quantity and unit_price instead of amount).")


def upload_panel() -> None:
    limit = upload_limit_mb()
    files = st.file_uploader(
        f"Orders export (CSV, up to {limit} MB per file)", type=UPLOAD_TYPES, accept_multiple_files=True,
        key=f"data_files_{st.session_state.get('data_uploads_done', 0)}",
        help=f"One orders file with a header row (one row per order, or per line item, as Shopify's orders "
             f"export), or Olist's orders file plus its payments file (and, if you have it, its items file). "
             f"Comma, semicolon or tab; UTF-8, Latin-1 or UTF-16. Files above {limit} MB "
             "are refused; import bigger ones with `python -m analytics import`.",
    )
    if not files:
        _forget_upload()
        st.caption(f"{REQUIRED_WORDS} Every other column (payment method, status, seller, the times of payment, "
                   "shipment, request, answer and refund…) is used when the file has it; the columns are "
                   "matched by their headers, and each match can be changed before importing.")
        return
    paths, names = _save_uploads(files)
    try:
        auto = importer.plan_import(paths)
        auto.close()  # the page reads the plan's matches and preview, not its files
    except importer.ImportError_ as e:
        st.error(md(_shown(str(e), names)), icon=":material/error:")
        return
    for f in auto.files:
        st.caption(f"**{md(names[str(f.path)])}**: {f.kind} file, {len(f.columns)} columns, {md(f.encoding)}, "
                   f"delimiter {md(_delimiter(f.delimiter))}")
    overrides = _mapping_editor(auto, names)
    try:
        plan = importer.plan_import(paths, overrides)
        plan.close()
    except importer.ImportError_ as e:
        st.error(md(_shown(str(e), names)), icon=":material/error:")
        return
    # What the import will store, read as it will read it (with the user's answers so far): amounts as numbers,
    # labels and times as stored. Beside the file's own text ('Card', '1.234,56') 'as read' was not true.
    readings = _chosen_readings()
    preview = importer.read_preview(plan, readings)
    st.markdown("**Preview**: the first rows of the orders file as the import will read them (each matched field "
                f"under its name: amounts as numbers, times {SHOP_CLOCK}, labels as the pages show them)")
    downloads.table(preview.frame, "import-preview", key="data_preview", height=240,
                    column_config=_as_read(preview.frame))
    for question in preview.questions:
        st.warning(f"{md(question[:1].upper() + question[1:])} under **How to read amounts and dates** below.",
                   icon=":material/help:")
    left_out = plan.orders_file.preview_note
    if left_out:
        st.warning(md(left_out[:1].upper() + left_out[1:]) + ".", icon=":material/warning:")
    problems = page_problems(plan, names)
    for problem in problems:
        st.error(md(problem), icon=":material/error:")
    if plan.layout:
        st.caption(f"Recognised as **{plan.layout.name}**.")
    for notice in plan.notices:
        st.caption(f"Note: {md(notice)}.")
    # Drawn here, filled at the end: the import below may find a question its preview's rows could not.
    readings_box = st.container()
    default_name = Path(names[str(plan.orders_file.path)]).stem
    name = st.text_input("Data set name", value=default_name, max_chars=120, key="data_import_name")
    asked = bool(preview.questions)
    if st.button("Import", type="primary", disabled=bool(problems), key="data_import"):
        asked |= _import(paths, names, overrides, readings, name.strip() or default_name)
    with readings_box:
        _readings(asked)


def _import(paths, names: dict[str, str], overrides: dict[str, str], readings: Readings, name: str) -> bool:
    """Import the upload (then rerun the page on its result); True when the import needs the user's answer
    on how to read amounts or dates, said in an error."""
    bar = st.progress(0.0, text="Starting the import…")

    def progress(fraction: float, text: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=md(_shown(text, names).capitalize()))

    try:
        result = importer.import_files(connection(db_key()), paths, name=name,
                                       mapping=overrides or None, progress=progress, display_names=names,
                                       readings=readings)
    except importer.ImportNeedsChoice as e:
        bar.empty()
        st.error(f"Nothing was imported yet: {md(_shown(str(e), names))}. Choose it under **How to read "
                 "amounts and dates** above, then import again.", icon=":material/help:")
        return True
    except importer.ImportError_ as e:
        bar.empty()
        st.error(f"Nothing was imported: {md(_shown(str(e), names))}", icon=":material/error:")
        return False
    bar.progress(1.0, text="Preparing the What-if engine…")
    with cursor() as cur:   # a cursor of its own: another session may be using the connection
        simulate.store_dataset(cur, result.dataset.id)
    _after_change()
    picker.remember(result.dataset.id)
    st.session_state["data_last_result"] = result.as_json() | {"summary": result.summary()}
    # A fresh upload widget: the imported files are done with.
    st.session_state["data_uploads_done"] = st.session_state.get("data_uploads_done", 0) + 1
    _forget_upload()
    st.rerun()


DECIMAL_OPTIONS = {None: "decide from the values", ".": "decimal point (1,234.50)", ",": "decimal comma (1.234,50)"}
DATE_OPTIONS = {None: "decide from the values", "day-first": "day first (31/01/2026)",
                "month-first": "month first (01/31/2026)"}


def _as_read(frame: pl.DataFrame) -> dict:
    """The preview's numbers with every digit read: an amount's usual two decimals showed 1.234 (the decimal
    point decided by the file) as 1.23, hiding what the import stores."""
    labels = tables.column_specs(frame)
    return {c: st.column_config.NumberColumn(labels[c]["label"], format="plain")
            for c, dtype in frame.schema.items() if dtype.is_float()}


def _chosen_readings() -> Readings:
    """The user's answers so far (the controls _readings draws), for the preview drawn above them."""
    return Readings(decimal=st.session_state.get("data_decimal"), date_format=st.session_state.get("data_date_format"))


READINGS_OPEN = "data_readings_open"


def _readings(asked: bool) -> Readings:
    """The user's choice where the values cannot decide how to read amounts or dates: folded away while
    nothing needs answering, opened when a question does (`asked`). Its state is the session's, so that the
    browser opens it too when an earlier run drew it closed."""
    if asked:
        st.session_state[READINGS_OPEN] = True
    with st.expander("How to read amounts and dates", key=READINGS_OPEN, on_change="rerun"):
        decimal = st.radio("Decimal separator of amounts", list(DECIMAL_OPTIONS), format_func=DECIMAL_OPTIONS.get,
                           horizontal=True, key="data_decimal")
        date_format = st.radio("Dates like 05/01/2026", list(DATE_OPTIONS), format_func=DATE_OPTIONS.get,
                               horizontal=True, key="data_date_format")
    return Readings(decimal=decimal, date_format=date_format)


def page_problems(plan: importer.ImportPlan, names: dict[str, str]) -> list[str]:
    """What refuses the import, in the page's words: the importer's problems name command-line flags, so a
    missing required field is said here from the plan's matches; a file with a header and no rows is
    refused here, before the Import button, rather than after it."""
    shown_name = names[str(plan.orders_file.path)]
    missing = [f for f in importer.REQUIRED_FIELDS if not plan.mapping.get(f) and f not in plan.derived
               and not (f == "amount" and plan.mapping.get("unit_price"))]
    out = []
    for problem in plan.problems:
        if "--map" in problem and missing:
            continue  # said below, the page's way
        out.append(_shown(problem, names))
    if missing and not any("no header row" in p for p in plan.problems):
        out += [f"{shown_name}: no column for the required field {f}: choose a column for {f} in the matching "
                "table above." for f in missing]
    if plan.orders_file.preview.height == 0 and plan.orders_file.left_out_count:
        out.append(f"{shown_name}: every data row will be refused for its number of fields (lines named under "
                   "the preview): there is nothing to import.")
    elif plan.orders_file.preview.height == 0:
        out.append(f"{shown_name} has a header row but no data rows: there is nothing to import.")
    return out


def _shown(text: str, names: dict[str, str]) -> str:
    """A message with our temporary file names replaced by the names the user uploaded."""
    for path, name in names.items():
        text = text.replace(path, name).replace(Path(path).name, name)
    return text


def _delimiter(d: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(d, repr(d))


def _mapping_editor(plan: importer.ImportPlan, names: dict[str, str]) -> dict[str, str]:
    """One select per field, starting at the automatic match; returns the user's overrides (field -> header,
    '' for no column)."""
    columns = plan.orders_file.columns
    overrides: dict[str, str] = {}
    st.markdown(f"**Matched columns** of {md(names[str(plan.orders_file.path)])}: change any match before importing. "
                f"Required (*): {', '.join(importer.REQUIRED_FIELDS)}.")
    grid = st.columns(3)
    for i, fld in enumerate(importer.FIELDS):
        derived = plan.derived.get(fld)
        first = f"(from {_shown(derived, names)})" if derived else NONE
        options = [first, *columns]
        auto = plan.mapping.get(fld)
        key = f"data_map_{fld}"
        if st.session_state.get(key) not in options:
            st.session_state[key] = auto if auto in columns else first
        required = fld in importer.REQUIRED_FIELDS
        with grid[i % 3]:
            choice = st.selectbox(f"{fld}{' *' if required else ''}", options, key=key)
        if choice != (auto if auto in columns else first):
            overrides[fld] = "" if choice == first else choice
    unused = [c for c in columns if c not in {st.session_state.get(f"data_map_{f}") for f in importer.FIELDS}]
    if unused:
        st.caption("Columns not used: " + ", ".join(md(c) for c in unused))
    return overrides


__all__ = ["current_dataset", "generate_form", "last_result", "upload_panel", "upload_limit_mb"]


# --- an external source --------------------------------------------------------------------------------

def external_panel() -> None:
    """Register a Parquet directory (export's layout) as a data set read where it is, on an engine."""
    from analytics import spark

    st.caption("A directory of Parquet files in the layout `python -m analytics export --parquet DIR` writes "
               "(DIR/orders/month=YYYY-MM/…/*.parquet, its requests and refunds beside). Its orders are not "
               "copied: every page reads them where they are, on the engine you choose.")
    why_not = spark.available()
    engines = [e for e in external.ENGINES if e != "spark" or why_not is None]
    with st.form("data_external", border=False):
        directory = st.text_input("Parquet directory", key="data_external_dir", placeholder="/data/orders-parquet",
                                  help="A path on the machine that runs the dashboard (or that the Spark "
                                       "cluster reads).")
        engine = st.radio("Engine", engines, key="data_external_engine", horizontal=True,
                          format_func=lambda e: external.ENGINE_LABELS[e])
        if why_not:
            st.caption(md(f"Spark is not offered: {why_not}."))
        remote = st.text_input("Spark Connect address (optional)", key="data_external_remote",
                               placeholder="sc://host:15002", disabled=why_not is not None,
                               help="Empty: a local Spark on this machine.")
        name = st.text_input("Name (optional)", max_chars=120, key="data_external_name")
        submitted = st.form_submit_button("Add the source")
    if not submitted:
        return
    try:
        with cursor() as cur:
            added = external.register(cur, directory, engine, name=name, spark_remote=(remote or "").strip() or None)
    except external.RegisterError as e:
        st.error(md(str(e)), icon=":material/error:")
        return
    _after_change()
    picker.remember(added.id)
    st.session_state["data_last_result"] = {
        "dataset": {"id": added.id, "name": added.name}, "stored": added.orders, "refused_by_reason": [],
        "summary": f"{added.orders:,} orders, read from the Parquet files on {external.ENGINE_LABELS[engine]} "
                   "(not copied)."}
    st.rerun()


# The capabilities (capabilities.CAPABILITIES) whose absence leaves a data set's count unknown, not 0.
_COUNT_OF = {"requests": "cancellation_requests", "refunds": "refunds"}


def _not_recorded(dataset: db.Dataset) -> set[str]:
    """Which of _COUNT_OF a stored data set does not record (capabilities.missing, worked out once per data
    set). An external source's rows are in its Parquet files, not in this database: asked here, every one
    would read as missing, and the answer, kept by its id, would stand for the source's own on every page."""
    if external.of(dataset) is not None:
        return set()
    with cursor() as cur:
        return set(_COUNT_OF) & set(capabilities.missing(cur, dataset.id))


def _recorded(dataset: db.Dataset, capability: str, n: int, noun: str) -> str:
    """_counted, or '*cancellation requests not recorded*' for a data set that does not record them."""
    return f"*{noun}s not recorded*" if capability in _not_recorded(dataset) else _counted(n, noun)


def _counted(n: int, noun: str) -> str:
    """'**1** order', '**1,529** orders' (text.count, its number in bold)."""
    number, words = count(n, noun).split(" ", 1)
    return f"**{number}** {words}"
