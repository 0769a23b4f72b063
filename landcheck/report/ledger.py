"""The Excel ledger (台账) an analyst works in.

Sheets: ``汇总 Summary`` (the round, the pack, tables by verdict, rule and township with
names), ``统计 Statistics`` (by official category, issuing level and township × category,
with charts where matplotlib is installed), one sheet per township, and a hidden
``字段 Fields`` sheet (column code, Chinese header, English header).

Each township sheet has a title row (round name, township code and name), a row with the
rule pack and its version, the reference date and the run time, a row of column codes (the
verdict table's names, ``*_mu`` for columns shown in 亩), the Chinese header row with an
autofilter, the patches, and a totals row (``SUBTOTAL``, so a filter changes it) below them.
Dates are Excel dates, areas are numbers rounded to 2 decimals in ``#,##0.00``, the header
rows and the id column stay in view. Rows are streamed (:mod:`landcheck.report.xlsx`):
100,000 patches take a few seconds.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from landcheck.area import m2_to_mu
from landcheck.io.atomic import atomic_file
from landcheck.report.tables import VERDICT_ZH, rule_summary, township_summary, verdict_summary
from landcheck.report.xlsx import Formula, Workbook, col_letter, text_width
from landcheck.roles import BUILTIN

__all__ = ["LEDGER_COLUMNS", "ledger_columns", "round_name_of", "write_ledger",
           "write_summary_ledger"]

log = logging.getLogger("landcheck.report")

_HEAD = (
    ("id", "监测编号 (id)"), ("township", "乡镇代码 (township)"),
    ("township_name", "乡镇名称 (township name)"), ("type", "图斑类型 (type)"),
    ("before", "前时相 (before)"), ("after", "后时相 (after)"),
    ("level", "下发级别 (issuing level)"), ("verdict", "判定结果 (verdict)"),
    ("official_class", "核实认定意见 (official class)"),
    ("official_subclass", "认定子类 (official sub-type)"),
    ("build_period", "新增/存量 (build period)"), ("split_status", "拆分 (split)"),
    ("area_m2", "图斑面积/平方米 (area, m²)"),
    ("area_m2", "图斑面积/亩 (area, mu)"), ("legal_m2", "合法面积/亩 (legal, mu)"),
    ("illegal_m2", "违法面积/亩 (illegal, mu)"),
)
_TAIL = (
    ("rules", "触发规则 (rules)"), ("reasons_zh", "判定理由 (reasons)"),
    ("reasons_en", "判定理由（英文） (reasons in English)"),
    ("approval_ids", "批准文号 (approvals)"), ("doc_ids", "合法依据文号 (documents)"),
    ("doc_shares_pct", "合法依据占比/% (document shares, %)"),
    ("due_date", "整改期限 (due date)"),
)
_DATES = {"before", "after", "due_date", "issued"}
_LEVEL_ZH = {"ministry": "部级", "province": "省级", "city": "市级", "county": "县级"}
_WIDE = {"reasons_zh": 70, "reasons_en": 70, "rules": 40}
_SUMMARY = "汇总 Summary"


def ledger_columns(roles=None) -> tuple[tuple[str, str], ...]:
    """Ledger columns (source column, header "中文 (English)") for a run's roles: the illegal
    area on each remainder share (:attr:`landcheck.roles.RoleSet.shares`, custom ones after
    the built-in) between the areas and the reasons. A header ending in ``/亩 (…)`` shows the
    ``*_m2`` source in 亩, ``/平方米`` in m²; both rounded to 2 decimals."""
    shares = tuple((s.illegal, s.header) for s in (roles or BUILTIN).shares)
    return _HEAD + shares + _TAIL


#: Ledger columns of the built-in roles: (source column, header).
LEDGER_COLUMNS = ledger_columns()
_SUMMARY_HEADERS = {
    "verdict": "判定结果 (verdict)", "verdict_zh": "判定结果", "patches": "图斑数 (patches)",
    "rule": "规则 (rule)", "reason_zh": "规则说明", "township": "乡镇代码 (township)",
    "township_name": "乡镇名称 (township name)",
    **{f"{v}_patches": f"{zh}图斑数 ({v}_patches)" for v, zh in VERDICT_ZH.items()},
}
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


def _split(header: str) -> tuple[str, str]:
    """("中文", "English") of a "中文 (English)" header."""
    zh, _, en = header.partition(" (")
    return zh, en.rstrip(")")


def _column(col: str, header: str) -> tuple[str, str]:
    """(code, kind) of a ledger column: kind ``mu``, ``m2``, ``date`` or ``text``."""
    zh = _split(header)[0]
    if col.endswith("_m2") and zh.endswith("/亩"):
        return col[:-3] + "_mu", "mu"
    if col.endswith("_m2"):
        return col, "m2"
    return col, "date" if col in _DATES else "text"


def round_name_of(provenance, default: str | None = None) -> str:
    """The round's name for titles: ``default`` when given, else the provenance's ``round``
    (or ``name``), else the patch layer's name, else "卫片图斑"."""
    if default:
        return str(default)
    for key in ("round", "round_name", "name"):
        if provenance.get(key):
            return str(provenance[key])
    patches = (provenance.get("inputs") or {}).get("patches") or {}
    return str(patches.get("layer") or "卫片图斑")


def _pack_line(pack, provenance, n: int | None = None) -> str:
    parts = [f"规则包 rule pack: {pack.name} {pack.version}",
             f"参考日期 reference date: {provenance.get('reference_date', '')}"]
    if n is not None:  # patch sheets; the summary sheet stays the same across reruns
        parts += [f"图斑 patches: {n}", f"生成 run at: {str(provenance.get('run_at', ''))[:19]}",
                  f"运行编号 run id: {provenance.get('run_id', '')}"]
    return " · ".join(parts)


def _values(df: pd.DataFrame, col: str, kind: str):
    v = df[col]
    if kind in ("mu", "m2"):
        arr = v.to_numpy(dtype=float)
        return np.round(m2_to_mu(arr) if kind == "mu" else arr, 2)
    if kind == "date":
        return v
    if col == "verdict":
        return v.map(VERDICT_ZH).fillna(v)
    if col == "level":
        return v.map(_LEVEL_ZH).fillna(v)
    if v.dtype == object:
        seq = list | tuple | np.ndarray
        return [";".join(map(str, x)) if isinstance(x, seq) else x for x in v.to_numpy()]
    return v


def _widths(df: pd.DataFrame, cols) -> list[float]:
    sample = df.head(200)
    out = []
    for col, header, code, kind in cols:
        w = max(text_width(_split(header)[0]), len(code)) + 2
        if kind == "date":
            w = max(w, 12)
        elif kind in ("mu", "m2"):
            w = max(w, 12)
        elif col in sample:
            vals = [text_width(x) for x in _values(sample, col, kind) if isinstance(x, str)]
            w = max(w, max(vals, default=0) + 2)
        out.append(float(min(w, _WIDE.get(col, 40))))
    return out


def _patch_sheet(book: Workbook, name: str, df: pd.DataFrame, cols, title: str,
                 note: str, block: int = 20_000) -> None:
    n = len(df)
    sheet = book.sheet(name, widths=_widths(df, cols), freeze=(4, 1))
    sheet.write_row([title], "title")
    sheet.write_row([note], "note")
    sheet.write_row([code for _, _, code, _ in cols], "code")
    header_row = sheet.write_row([_split(h)[0] for _, h, _, _ in cols], "head")
    styles = {"mu": "num2", "m2": "num2", "date": "date", "text": "default"}
    for start in range(0, n, block):
        part = df.iloc[start:start + block]
        sheet.write_columns([(_values(part, col, kind), "num" if kind in ("mu", "m2") else kind,
                              styles[kind]) for col, _, _, kind in cols])
    first, last = header_row + 2, header_row + 1 + n  # 1-based data rows
    totals: list = ["合计 (total)", Formula(f"SUBTOTAL(103,A{first}:A{max(last, first)})", n)]
    for i, (col, _, _, kind) in enumerate(cols[2:], start=2):
        if kind in ("mu", "m2"):
            letter = col_letter(i)
            cached = float(np.round(np.sum(_values(df, col, kind)), 2)) if n else 0.0
            totals.append(Formula(f"SUBTOTAL(109,{letter}{first}:{letter}{max(last, first)})",
                                  cached))
        else:
            totals.append(None)
    sheet.write_row(totals, ["total", "count"] + ["total"] * (len(cols) - 2))
    sheet.autofilter = (header_row, 0, header_row + n, len(cols) - 1)


def _sheet_name(name: str, used: set[str]) -> str:
    base = _BAD_SHEET.sub("_", str(name)).strip("'")[:28] or "sheet"
    candidate, i = base, 2
    while candidate in used:
        candidate, i = f"{base[:26]}_{i}", i + 1
    used.add(candidate)
    return candidate


def _township_key(verdicts):
    if "township" not in verdicts:
        return None
    key = verdicts["township"].astype("string").fillna("(未填)")
    if "township_name" in verdicts:
        key = key + " " + verdicts["township_name"].astype("string").fillna("")
    return key.str.strip()


def write_ledger(result, path, *, overwrite: bool = False, round_name: str | None = None,
                 progress: Callable[[str], None] | None = None):
    """Write the ledger workbook of a :class:`~landcheck.ScreenResult` atomically; return
    the path.

    ``round_name``: the round's name in the titles (default :func:`round_name_of`);
    ``progress``: called with a line per sheet (also logged at INFO).
    """
    t0 = time.perf_counter()
    verdicts = pd.DataFrame(result.verdicts.drop(columns=result.verdicts.geometry.name))
    roles = getattr(result, "roles", None)
    prov, pack = result.provenance, result.pack
    title = round_name_of(prov, round_name)
    cols = [(c, h, *_column(c, h)) for c, h in ledger_columns(roles) if c in verdicts.columns]
    key = _township_key(verdicts)
    groups = (list(verdicts.groupby(key, sort=True)) if key is not None
              else [("全部", verdicts)])
    with atomic_file(path, overwrite=overwrite) as tmp, Workbook(tmp, title=title) as book:
        _summary_sheet(book, title, pack, prov, verdict_summary(verdicts, roles),
                       rule_summary(verdicts, pack), township_summary(verdicts, roles), roles)
        from landcheck.report.summary import statistics_sheet

        statistics_sheet(book, verdicts, title)
        used = {_SUMMARY, "统计 Statistics", "字段 Fields"}
        for k, (town, df) in enumerate(groups, start=1):
            _patch_sheet(book, _sheet_name(town, used), df, cols,
                         f"{title} 图斑核查台账 · {town}", _pack_line(pack, prov, len(df)))
            _say(progress, f"ledger: sheet {k}/{len(groups)} ({town}, {len(df)} patches)")
        _fields_sheet(book, cols)
    _say(progress, f"ledger: {len(verdicts)} patches in {time.perf_counter() - t0:.1f} s")
    return path


def _say(progress, line: str) -> None:
    log.info(line)
    if progress is not None:
        progress(line)


def _fields_sheet(book: Workbook, cols) -> None:
    sheet = book.sheet("字段 Fields", widths=[28, 36, 44, 10], hidden=True)
    sheet.write_row(["代码 (code)", "中文表头 (Chinese header)", "英文 (English)",
                     "单位 (unit)"], "head")
    for _col, header, code, kind in cols:
        unit = {"mu": "亩", "m2": "m²", "date": "日期"}.get(kind, "")
        sheet.write_row([code, _split(header)[0], _split(header)[1], unit])


def write_summary_ledger(path, *, pack, provenance, by_verdict, by_rule, by_township,
                         overwrite: bool = False, roles=None, round_name: str | None = None):
    """The ledger's summary sheet alone, from finished summary tables (a streamed province
    run has too many patches for per-township patch sheets); written atomically."""
    title = round_name_of(provenance, round_name)
    with atomic_file(path, overwrite=overwrite) as tmp, Workbook(tmp, title=title) as book:
        _summary_sheet(book, title, pack, provenance, by_verdict, by_rule, by_township, roles)
    return path


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


def write_table(sheet, title: str, table: pd.DataFrame, *, total: str | None = None) -> None:
    """A titled table: a bold title row, the header row, the rows (counts as integers, 亩 and
    other floats in ``#,##0.00``), and a ``total`` row summing the numeric columns when
    ``total`` names its label; then an empty row."""
    sheet.write_row([title], "bold")
    sheet.write_row(list(table.columns), "head")
    numeric = [pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(
        table[c]) for c in table.columns]
    ints = [pd.api.types.is_integer_dtype(table[c]) for c in table.columns]
    styles = ["int" if i else "num2" if n else "default" for n, i in zip(numeric, ints,
                                                                            strict=True)]
    for row in table.itertuples(index=False):
        values = [v.item() if isinstance(v, np.generic) else v for v in row]
        sheet.write_row(values, styles)
    if total is not None:
        sums = [float(np.round(table[c].sum(), 2)) if n else None
                for c, n in zip(table.columns, numeric, strict=True)]
        sums = [int(s) if s is not None and i else s for s, i in zip(sums, ints, strict=True)]
        sheet.write_row([total, *sums[1:]], ["total"] + [
            "total_int" if i else "total" for i in ints[1:]])
    sheet.skip()


def _summary_sheet(book, title, pack, provenance, by_verdict, by_rule, by_township,
                   roles=None) -> None:
    sheet = book.sheet(_SUMMARY, widths=[34, 22, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16],
                       freeze=(2, 0))
    sheet.write_row([f"{title} 图斑核查台账 汇总"], "title")
    sheet.write_row([_pack_line(pack, provenance)], "note")
    sheet.skip()
    head = pd.DataFrame({"项目 (item)": ["轮次 (round)", "规则包 (rule pack)",
                                       "参考日期 (reference date)",
                                       "工作坐标系 (working CRS)",
                                       "运行编号 (run id)"],
                         "值 (value)": [title, f"{pack.name} {pack.version}",
                                       provenance["reference_date"],
                                       provenance["working_crs"],
                                       provenance.get("run_id", "")]})
    write_table(sheet, "说明 About", head)
    write_table(sheet, "按判定结果 By verdict", _present(by_verdict, roles))
    write_table(sheet, "按规则 By rule", _present(by_rule, roles))
    write_table(sheet, "按乡镇 By township", _present(by_township, roles), total="合计 (total)")
