"""Named what-if scenarios, stored per data set in the `scenarios` table (schema.sql). No Streamlit here.

A scenario stores only the policy parameters that differ from the defaults (Policy.changes()), so a
scenario saved before a parameter existed still opens with that parameter at its default. Scenarios are
private like uploaded data sets: each has an unguessable id (db.new_id()), and the page lists only those
its browser session saved or opened by link, so two people may use the same name on a shared data set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from analytics import db
from analytics.charts import plain
from analytics.policy import Policy, PolicyError, find_parameter

MAX_NAME = 80


@dataclass(frozen=True)
class Scenario:
    id: str
    dataset_id: str
    name: str
    changes: dict          # parameter name -> value, only those that differ from the defaults
    created_at: datetime

    @property
    def policy(self) -> Policy:
        """The scenario's policy; parameters that no longer validate are left at their defaults."""
        try:
            return Policy().with_values(self.changes)
        except PolicyError:
            good = {}
            for name, value in self.changes.items():
                try:
                    Policy().with_values({name: value})
                except PolicyError:
                    continue
                good[name] = value
            return Policy().with_values(good)

    def describe(self) -> str:
        """'Seller's answer window = 48 hours, …' in the parameters' labels, or 'the baseline policy'."""
        return describe(self.changes)


def describe(changes: dict) -> str:
    """Policy changes in plain words: each parameter's label and its value with its unit, e.g.
    'Seller answer window = 48 hours'; 'the baseline policy' when nothing changes."""
    if not changes:
        return "the baseline policy"
    try:
        inert = Policy().with_values(changes).inert()
    except PolicyError:   # a payment method of another data set: every change is listed
        inert = {}
    # A setting the others make inert (a window while consent is off) is not part of the scenario's words.
    shown = {k: v for k, v in changes.items() if k not in inert}
    if not shown:
        return "the baseline policy"
    return ", ".join(f"{_label(k)} = {_text(k, v)}" for k, v in shown.items())


def _parameter(name: str):
    try:
        return find_parameter(name)
    except PolicyError:
        return None


def _label(name: str) -> str:
    p = _parameter(name)
    return p.label if p is not None else name


def _text(name: str, value) -> str:
    if value is None:
        return "as the data set shows"
    if isinstance(value, bool):
        return "yes" if value else "no"
    p = _parameter(name)
    if isinstance(value, str):
        # A choice in the words its control offers (Parameter.choice_text).
        return p.choice_text(value) if p is not None and p.kind == "choice" else plain(value).lower()
    number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")
    if p is not None and p.maximum is not None and p.maximum <= 1 and p.kind == "number":
        return f"{value:.0%}"
    return f"{number} {p.unit}" if p is not None and p.unit else number


def _row(row) -> Scenario:
    return Scenario(row[0], row[1], row[2], json.loads(row[3]) if row[3] else {}, row[4])


def save(con: duckdb.DuckDBPyConnection, dataset_id: str, name: str, policy: Policy,
         replace: str | None = None) -> Scenario:
    """Store `policy` under `name` for the data set as a new scenario (new id), in one transaction; with
    `replace`, the scenario of that id (in this data set) is deleted in the same transaction."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("a scenario needs a name")
    if len(name) > MAX_NAME:
        raise ValueError(f"a scenario's name has at most {MAX_NAME} characters")
    scenario = Scenario(db.new_id(), dataset_id, name, policy.changes(), datetime.now(UTC).replace(tzinfo=None))
    cur = con.cursor()
    try:
        cur.execute("BEGIN TRANSACTION")
        if replace is not None:
            cur.execute("DELETE FROM scenarios WHERE dataset_id = ? AND id = ?", [dataset_id, replace])
        cur.execute("INSERT INTO scenarios VALUES (?, ?, ?, ?, ?)",
                    [scenario.id, dataset_id, name, json.dumps(scenario.changes), scenario.created_at])
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    finally:
        cur.close()
    return scenario


def list_for(con: duckdb.DuckDBPyConnection, dataset_id: str, ids: list[str] | None = None) -> list[Scenario]:
    """The data set's scenarios (only those of `ids`, when given), oldest first."""
    if ids is not None and not ids:
        return []
    where, params = "dataset_id = ?", [dataset_id]
    if ids is not None:
        where += " AND list_contains(?, id)"
        params.append(list(ids))
    rows = con.execute(
        "SELECT id, dataset_id, name, CAST(policy AS VARCHAR), created_at FROM scenarios "
        f"WHERE {where} ORDER BY created_at, name", params).fetchall()
    return [_row(r) for r in rows]


def get(con: duckdb.DuckDBPyConnection, dataset_id: str, scenario_id: str) -> Scenario | None:
    """One scenario of the data set (None if it does not exist or belongs to another data set)."""
    row = con.execute(
        "SELECT id, dataset_id, name, CAST(policy AS VARCHAR), created_at FROM scenarios "
        "WHERE dataset_id = ? AND id = ?", [dataset_id, scenario_id]).fetchone()
    return _row(row) if row else None


def delete(con: duckdb.DuckDBPyConnection, dataset_id: str, scenario_id: str) -> None:
    con.execute("DELETE FROM scenarios WHERE dataset_id = ? AND id = ?", [dataset_id, scenario_id])
