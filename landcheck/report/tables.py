"""Summary tables of a verdict table: by verdict, by rule, by township (m² and 亩)."""

from __future__ import annotations

import re

import pandas as pd

from landcheck.area import m2_to_mu
from landcheck.roles import BUILTIN

__all__ = [
    "VERDICT_ZH",
    "finish_rule_summary",
    "finish_township_summary",
    "finish_verdict_summary",
    "rule_summary",
    "rule_sums",
    "township_summary",
    "township_sums",
    "verdict_summary",
    "verdict_sums",
]

VERDICT_ZH = {"illegal": "违法", "needs_review": "待核实", "legal": "合法", "other": "其他"}
_ORDER = list(VERDICT_ZH)



def _areas(roles, *, legal: bool = True) -> list[str]:
    """Area columns of the summaries: the patch, legal and illegal areas, then the illegal
    area on each remainder share of the roles (built-in first, then custom)."""
    head = ["area_m2", "legal_m2", "illegal_m2"] if legal else ["area_m2", "illegal_m2"]
    return head + [s.illegal for s in (roles or BUILTIN).shares]


def _with_mu(df: pd.DataFrame) -> pd.DataFrame:
    for col in [c for c in df.columns if c.endswith("_m2")]:
        df[col[:-3] + "_mu"] = m2_to_mu(df[col].to_numpy(dtype=float)).round(2)
    return df


def verdict_summary(verdicts: pd.DataFrame, roles=None) -> pd.DataFrame:
    """Count and areas per verdict, in the order illegal, needs_review, legal, other, total
    (``roles``: the run's :class:`~landcheck.roles.RoleSet`, for its remainder shares)."""
    return finish_verdict_summary(verdict_sums(verdicts, roles))


def verdict_sums(verdicts: pd.DataFrame, roles=None) -> pd.DataFrame:
    """Additive part of :func:`verdict_summary`: patches and m² per verdict (sum over chunks,
    then :func:`finish_verdict_summary`)."""
    g = verdicts.groupby("verdict")[_areas(roles)].sum().reindex(_ORDER, fill_value=0.0)
    g.insert(0, "patches", verdicts["verdict"].value_counts().reindex(_ORDER, fill_value=0))
    return g


def finish_verdict_summary(sums: pd.DataFrame) -> pd.DataFrame:
    g = sums.copy()
    g.loc["total"] = g.sum()
    g = g.reset_index().rename(columns={"index": "verdict"})
    g.insert(1, "verdict_zh", g["verdict"].map({**VERDICT_ZH, "total": "合计"}))
    return _with_mu(g)


def rule_summary(verdicts: pd.DataFrame, pack) -> pd.DataFrame:
    """Per rule: how many patches it fired on and their total area."""
    return finish_rule_summary(rule_sums(verdicts, pack), pack)


def rule_sums(verdicts: pd.DataFrame, pack) -> pd.DataFrame:
    """Additive part of :func:`rule_summary`: patches and m² per rule id."""
    exploded = verdicts[["rules", "area_m2"]].explode("rules")
    g = exploded.groupby("rules")["area_m2"].agg(["size", "sum"])
    ids = [rule.id for rule in pack.rules]
    g = g.reindex(ids, fill_value=0)
    return pd.DataFrame({"patches": g["size"].astype(int), "area_m2": g["sum"].astype(float)},
                        index=pd.Index(ids, name="rule"))


def finish_rule_summary(sums: pd.DataFrame, pack) -> pd.DataFrame:
    rows = []
    for rule in pack.rules:
        rows.append({"rule": rule.id, "verdict": rule.verdict,
                     "reason_zh": re.sub(r"\{[^{}]*\}", "…", rule.reason_zh),
                     "patches": int(sums.loc[rule.id, "patches"]),
                     "area_m2": float(sums.loc[rule.id, "area_m2"])})
    return _with_mu(pd.DataFrame(rows))


def township_summary(verdicts: pd.DataFrame, roles=None) -> pd.DataFrame:
    """Per township: patches and areas by verdict."""
    return finish_township_summary(township_sums(verdicts, roles))


def township_sums(verdicts: pd.DataFrame, roles=None) -> pd.DataFrame:
    """Additive part of :func:`township_summary`, indexed by township code, or by (code, name)
    where the verdicts have ``township_name`` (concatenate chunks and pass them to
    :func:`finish_township_summary`)."""
    key = verdicts["township"].fillna("(未填)") if "township" in verdicts else "(未填)"
    df = verdicts.assign(_t=key)
    index = ["_t"]
    if "township_name" in verdicts:
        df["_n"] = verdicts["township_name"].astype("string").fillna("").astype(str)
        index.append("_n")
    counts = df.pivot_table(index=index, columns="verdict", values="area_m2", aggfunc="size",
                            fill_value=0).reindex(columns=_ORDER, fill_value=0)
    counts.columns = [f"{c}_patches" for c in counts.columns]
    areas = df.groupby(index)[_areas(roles, legal=False)].sum()
    return pd.concat([counts, areas], axis=1)


def finish_township_summary(sums: pd.DataFrame) -> pd.DataFrame:
    g = sums.groupby(level=list(range(sums.index.nlevels))).sum()
    g = g.reset_index().rename(columns={"_t": "township", "_n": "township_name",
                                        "index": "township"})
    return _with_mu(g)
