"""Summary tables of a round: by official category, issuing level, township, fired rule and
township × category, in counts and 亩 (the ledger's ``统计 Statistics`` sheet and
``landcheck report summary``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from landcheck.area import m2_to_mu

__all__ = ["by_category", "by_level", "by_rule", "by_township", "statistics_sheet",
           "township_by_category"]

_LEVEL_ZH = {"ministry": "部级", "province": "省级", "city": "市级", "county": "县级"}
_AREAS = (("area_m2", "图斑面积/亩 (area, mu)"), ("illegal_m2", "违法面积/亩 (illegal, mu)"),
          ("illegal_farmland_m2", "违法占耕地/亩 (illegal on farmland, mu)"),
          ("illegal_pf_m2", "违法占永久基本农田/亩 (illegal on permanent farmland, mu)"))


def _grouped(verdicts: pd.DataFrame, key: pd.Series, label: str) -> pd.DataFrame:
    df = verdicts.assign(_k=key.fillna("(未填)").astype(str))
    g = df.groupby("_k", sort=True)
    out = pd.DataFrame({label: list(g.groups), "图斑数 (patches)": g.size().to_numpy()})
    for col, header in _AREAS:
        if col in df:
            out[header] = np.round(m2_to_mu(g[col].sum().to_numpy(dtype=float)), 2)
    return out


def by_category(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Patches and 亩 per official category (核实认定意见) with its code."""
    if "official_class" not in verdicts:
        return _grouped(verdicts, verdicts["verdict"], "判定结果 (verdict)")
    code = verdicts.get("official_class_code", pd.Series("", index=verdicts.index))
    key = verdicts["official_class"].astype(str) + " " + code.fillna("").astype(str)
    return _grouped(verdicts, key.str.strip(), "核实认定意见 (official class)")


def by_level(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Patches and 亩 per issuing level (部/省/市)."""
    level = verdicts.get("level", pd.Series(None, index=verdicts.index, dtype=object))
    return _grouped(verdicts, level.map(_LEVEL_ZH).fillna(level), "下发级别 (issuing level)")


def by_township(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Patches and 亩 per township (code and name)."""
    town = verdicts.get("township", pd.Series(None, index=verdicts.index, dtype=object))
    if "township_name" in verdicts:
        town = (town.astype("string").fillna("(未填)") + " "
                + verdicts["township_name"].astype("string").fillna("")).str.strip()
    return _grouped(verdicts, town, "乡镇 (township)")


def by_rule(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Patches and 亩 per fired rule (a patch counts once for each rule that fired on it);
    ``rules`` holds lists or ``;``-joined text (as in a GeoPackage)."""
    rules = verdicts["rules"].map(
        lambda v: [r for r in v.split(";") if r] if isinstance(v, str) else v)
    exploded = verdicts.assign(_rule=rules).explode("_rule")
    return _grouped(exploded, exploded["_rule"], "规则 (rule)")


def township_by_category(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Patch counts per township (code and name) and official category, with a total."""
    town = verdicts.get("township", pd.Series("(未填)", index=verdicts.index)).fillna("(未填)")
    if "township_name" in verdicts:
        town = town.astype(str) + " " + verdicts["township_name"].fillna("").astype(str)
    cls = verdicts.get("official_class", verdicts["verdict"])
    table = pd.crosstab(town.str.strip(), cls.fillna("(未填)"))
    table["合计 (total)"] = table.sum(axis=1)
    table = table.reset_index()
    table.columns = ["乡镇 (township)", *table.columns[1:]]
    return table


def statistics_sheet(book, verdicts: pd.DataFrame, title: str) -> None:
    """The ledger's ``统计 Statistics`` sheet: the three tables, each with a totals row."""
    from landcheck.report.ledger import write_table

    sheet = book.sheet("统计 Statistics", widths=[34] + [18] * 12, freeze=(1, 0))
    sheet.write_row([f"{title} 统计"], "title")
    sheet.skip()
    write_table(sheet, "按认定类别 By official category", by_category(verdicts),
                total="合计 (total)")
    write_table(sheet, "按下发级别 By issuing level", by_level(verdicts), total="合计 (total)")
    write_table(sheet, "按乡镇与认定类别 By township and category (patches)",
                township_by_category(verdicts), total="合计 (total)")
