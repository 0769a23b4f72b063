"""The Excel ledger (台账): a summary sheet and one sheet per township, Chinese headers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from landcheck.area import m2_to_mu
from landcheck.io.atomic import atomic_file
from landcheck.report.tables import VERDICT_ZH, rule_summary, township_summary, verdict_summary
from landcheck.roles import BUILTIN

__all__ = ["LEDGER_COLUMNS", "ledger_columns", "write_ledger", "write_summary_ledger"]

_HEAD = (
    ("id", "监测编号 (id)"), ("township", "乡镇代码 (township)"),
    ("township_name", "乡镇名称 (township name)"), ("type", "图斑类型 (type)"),
    ("before", "前时相 (before)"), ("after", "后时相 (after)"), ("verdict", "判定结果 (verdict)"),
    ("official_class", "核实认定意见 (official class)"),
    ("official_subclass", "认定子类 (official sub-type)"),
    ("build_period", "新增/存量 (build period)"), ("split_status", "拆分 (split)"),
    ("area_m2", "图斑面积/亩 (area, mu)"), ("legal_m2", "合法面积/亩 (legal, mu)"),
    ("illegal_m2", "违法面积/亩 (illegal, mu)"),
)
_TAIL = (
    ("rules", "触发规则 (rules)"), ("reasons_zh", "判定理由"), ("reasons_en", "reasons"),
    ("approval_ids", "批准文号 (approvals)"), ("doc_ids", "合法依据文号 (documents)"),
    ("doc_shares_pct", "合法依据占比/% (document shares, %)"),
    ("due_date", "整改期限 (due date)"),
)


def ledger_columns(roles=None) -> tuple[tuple[str, str], ...]:
    """Ledger columns (source column, Chinese header) for a run's roles: the illegal area on
    each remainder share (:attr:`landcheck.roles.RoleSet.shares`, custom ones after the
    built-in) between the areas and the reasons."""
    shares = tuple((s.illegal, s.header) for s in (roles or BUILTIN).shares)
    return _HEAD + shares + _TAIL


#: Ledger columns of the built-in roles: (source column, Chinese header). Areas are shown in
#: 亩 with 2 decimals.
LEDGER_COLUMNS = ledger_columns()
_SUMMARY_HEADERS = {
    "verdict": "判定结果 (verdict)", "verdict_zh": "判定结果", "patches": "图斑数 (patches)",
    "rule": "规则 (rule)", "reason_zh": "规则说明", "township": "乡镇代码 (township)",
}
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def _mu_label(col: str, roles=None) -> str:
    names = {"area": "面积", "legal": "合法面积", "illegal": "违法面积",
             **{s.illegal[:-3]: f"违法占{s.label_zh}" for s in (roles or BUILTIN).shares}}
    base = col[:-3]
    return f"{names.get(base, base)}/亩 ({base}, mu)"


def _present(summary: pd.DataFrame, roles=None) -> pd.DataFrame:
    """Keep 亩 columns (drop m²), Chinese headers."""
    keep = [c for c in summary.columns if not c.endswith("_m2")]
    out = summary[keep].copy()
    out.columns = [_mu_label(c[:-3] + "_m2", roles) if c.endswith("_mu") else
                   _SUMMARY_HEADERS.get(c, c) for c in keep]
    return out


def _patch_sheet(df: pd.DataFrame, roles=None) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for col, header in ledger_columns(roles):
        if col not in df.columns:
            continue
        v = df[col]
        if col.endswith("_m2"):
            v = pd.Series(np.round(m2_to_mu(v.to_numpy(dtype=float)), 2), index=df.index)
        elif col == "verdict":
            v = v.map(lambda x: f"{VERDICT_ZH.get(x, x)} ({x})")
        elif col in ("before", "after", "due_date"):
            v = pd.to_datetime(v, errors="coerce").dt.strftime("%Y-%m-%d")
        elif v.dtype == object:
            v = v.map(lambda x: "；".join(map(str, x)) if isinstance(x, list | tuple) else x)
        out[header] = v.to_numpy()
    return out


def _sheet_name(name: str, used: set[str]) -> str:
    base = _BAD_SHEET.sub("_", str(name))[:28] or "sheet"
    candidate, i = base, 2
    while candidate in used:
        candidate, i = f"{base[:26]}_{i}", i + 1
    used.add(candidate)
    return candidate


def write_ledger(result, path, *, overwrite: bool = False):
    """Write the ledger workbook atomically; return the path."""
    verdicts = pd.DataFrame(result.verdicts.drop(columns=result.verdicts.geometry.name))
    roles = getattr(result, "roles", None)
    with atomic_file(path, overwrite=overwrite) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            _write_summary(xw, verdicts, result, roles)
            used = {"汇总 Summary"}
            key = _township_key(verdicts)
            groups = verdicts.groupby(key, sort=True) if key is not None else [("全部", verdicts)]
            for town, df in groups:
                _patch_sheet(df, roles).to_excel(xw, sheet_name=_sheet_name(town, used),
                                                 index=False)
    return path


def _township_key(verdicts):
    if "township" not in verdicts:
        return None
    key = verdicts["township"].astype("string").fillna("(未填)")
    if "township_name" in verdicts:
        key = key + " " + verdicts["township_name"].astype("string").fillna("")
    return key.str.strip()


def _write_summary(xw, verdicts, result, roles) -> None:
    _write_summary_tables(xw, result.pack, result.provenance, verdict_summary(verdicts, roles),
                          rule_summary(verdicts, result.pack), township_summary(verdicts, roles),
                          roles)


def write_summary_ledger(path, *, pack, provenance, by_verdict, by_rule, by_township,
                         overwrite: bool = False, roles=None):
    """The ledger's summary sheet alone, from finished summary tables (a streamed province
    run has too many patches for per-township patch sheets); written atomically."""
    with atomic_file(path, overwrite=overwrite) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            _write_summary_tables(xw, pack, provenance, by_verdict, by_rule, by_township, roles)
    return path


def _write_summary_tables(xw, pack, provenance, by_verdict, by_rule, by_township,
                          roles=None) -> None:
    sheet = "汇总 Summary"
    row = 0
    head = pd.DataFrame({"项目 (item)": ["规则包 (rule pack)", "参考日期 (reference date)",
                                       "工作坐标系 (working CRS)"],
                         "值 (value)": [f"{pack.name} {pack.version}",
                                       provenance["reference_date"],
                                       provenance["working_crs"]]})
    for title, table in (("说明 About", head),
                         ("按判定结果 By verdict", _present(by_verdict, roles)),
                         ("按规则 By rule", _present(by_rule, roles)),
                         ("按乡镇 By township", _present(by_township, roles))):
        pd.DataFrame({title: []}).to_excel(xw, sheet_name=sheet, startrow=row, index=False)
        table.to_excel(xw, sheet_name=sheet, startrow=row + 1, index=False)
        row += len(table) + 4
