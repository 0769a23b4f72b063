"""Summary tables of a verdict table: by verdict, by rule, by township (m² and 亩)."""

from __future__ import annotations

import re

import pandas as pd

from landcheck.area import m2_to_mu

__all__ = ["VERDICT_ZH", "rule_summary", "township_summary", "verdict_summary"]

VERDICT_ZH = {"illegal": "违法", "needs_review": "待核实", "legal": "合法", "other": "其他"}
_ORDER = list(VERDICT_ZH)
_AREAS = ("area_m2", "legal_m2", "illegal_m2", "illegal_pf_m2", "illegal_farmland_m2",
          "illegal_redline_m2")


def _with_mu(df: pd.DataFrame) -> pd.DataFrame:
    for col in [c for c in df.columns if c.endswith("_m2")]:
        df[col[:-3] + "_mu"] = m2_to_mu(df[col].to_numpy(dtype=float)).round(2)
    return df


def verdict_summary(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Count and areas per verdict, in the order illegal, needs_review, legal, other, total."""
    g = verdicts.groupby("verdict")[list(_AREAS)].sum().reindex(_ORDER, fill_value=0.0)
    g.insert(0, "patches", verdicts["verdict"].value_counts().reindex(_ORDER, fill_value=0))
    g.loc["total"] = g.sum()
    g = g.reset_index().rename(columns={"index": "verdict"})
    g.insert(1, "verdict_zh", g["verdict"].map({**VERDICT_ZH, "total": "合计"}))
    return _with_mu(g)


def rule_summary(verdicts: pd.DataFrame, pack) -> pd.DataFrame:
    """Per rule: how many patches it fired on and their total area."""
    rows = []
    exploded = verdicts[["rules", "area_m2"]].explode("rules")
    for rule in pack.rules:
        hit = exploded[exploded["rules"] == rule.id]
        rows.append({"rule": rule.id, "verdict": rule.verdict,
                     "reason_zh": re.sub(r"\{[^{}]*\}", "…", rule.reason_zh),
                     "patches": len(hit), "area_m2": float(hit["area_m2"].sum())})
    return _with_mu(pd.DataFrame(rows))


def township_summary(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Per township: patches and areas by verdict."""
    key = verdicts["township"].fillna("(未填)") if "township" in verdicts else "(未填)"
    df = verdicts.assign(_t=key)
    counts = df.pivot_table(index="_t", columns="verdict", values="area_m2", aggfunc="size",
                            fill_value=0).reindex(columns=_ORDER, fill_value=0)
    counts.columns = [f"{c}_patches" for c in counts.columns]
    areas = df.groupby("_t")[["area_m2", "illegal_m2", "illegal_pf_m2",
                              "illegal_farmland_m2"]].sum()
    out = pd.concat([counts, areas], axis=1).reset_index().rename(columns={"_t": "township"})
    return _with_mu(out)
