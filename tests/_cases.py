"""The demo county's case table (data/samples/CASES.csv), as the acceptance tests read it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

CASES_CSV = Path(__file__).resolve().parents[1] / "data" / "samples" / "CASES.csv"


def load_cases(*layers: str) -> pd.DataFrame:
    """Rows of these layers, text as written, with ``case`` (the case name from the note)."""
    c = pd.read_csv(CASES_CSV, dtype=str, keep_default_na=False)
    c = c[c["layer"].isin(layers)].copy()
    c["case"] = c["note_en"].str.extract(r"case=([^;\]]+)", expand=False)
    return c


def fired_mismatches(fired, cases, rules=None) -> dict:
    """Listed features whose fired rules differ from their ``fires`` rows (restricted to
    ``rules`` when given): feature id → (case, expected but not fired, fired but not expected).
    ``fired`` maps feature id → set of rule ids (already restricted the same way)."""
    wrong = {}
    for fid, sub in cases.groupby("feature_id"):
        fires = sub["expect"] == "fires"
        if rules is not None:
            fires &= sub["rule_id"].isin(rules)
        expected = set(sub.loc[fires, "rule_id"])
        got = fired.get(fid, set())
        if got != expected:
            wrong[fid] = (sub["case"].iloc[0], expected - got, got - expected)
    return wrong
