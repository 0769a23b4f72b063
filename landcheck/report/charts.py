"""Summaries with charts of a screened GeoPackage: tables by township, official category,
fired rule and issuing level, in patches and 亩 (:mod:`landcheck.report.summary`), each
with a bar chart (PNG, drawn with the CJK font of :mod:`landcheck.report.fonts`) beside it
in an Excel workbook (:mod:`landcheck.report.xlsx`) and, if asked for, as PNG files.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from landcheck.errors import OutputExistsError
from landcheck.io.atomic import atomic_file
from landcheck.report.summary import by_category, by_level, by_rule, by_township

__all__ = ["SUMMARIES", "bar_chart", "summary_tables", "write_summary"]

#: The summaries: file stem → (sheet name, table of a verdict frame).
SUMMARIES: dict[str, tuple[str, Callable[[pd.DataFrame], pd.DataFrame]]] = {
    "by_township": ("按乡镇 By township", by_township),
    "by_category": ("按认定类别 By category", by_category),
    "by_rule": ("按规则 By rule", by_rule),
    "by_level": ("按下发级别 By level", by_level),
}
_COUNT, _MU = "图斑数 (patches)", "图斑面积/亩 (area, mu)"
_DPI = 110


def summary_tables(verdicts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every table of :data:`SUMMARIES` for ``verdicts`` (``level`` only where present)."""
    return {stem: make(verdicts) for stem, (_, make) in SUMMARIES.items()
            if stem != "by_level" or "level" in verdicts}


def bar_chart(table: pd.DataFrame, title: str) -> bytes:
    """A PNG of two horizontal bar charts side by side: patches and 亩 per row of a
    summary table (its first column labels the bars). Needs :func:`~landcheck.report.
    fonts.use_font` first."""
    from matplotlib.figure import Figure

    labels = table.iloc[:, 0].astype(str).tolist()[::-1]
    height = max(2.4, 0.8 + 0.28 * len(labels))
    fig = Figure(figsize=(9, height), dpi=_DPI, layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, col, colour, name in ((axes[0], _COUNT, "#3b6fb6", "图斑数（个）"),
                                  (axes[1], _MU, "#e3701a", "图斑面积（亩）")):
        values = table[col].to_numpy(dtype=float)[::-1] if col in table else []
        bars = ax.barh(labels, values, color=colour)
        ax.bar_label(bars, fmt="%g", fontsize=7, padding=2)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7.5)
        ax.margins(x=0.15)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.suptitle(title, fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()


def write_summary(gpkg, path, *, png_dir=None, overwrite: bool = False, font=None,
                  progress: Callable[[str], None] | None = None) -> Path:
    """Write the summary workbook of a screened GeoPackage atomically; return its path.

    One sheet per summary (:data:`SUMMARIES`): the table with a totals row and its bar
    chart beside it. ``png_dir``: also write each chart as ``<stem>.png`` there. Existing
    outputs are refused unless ``overwrite``, before anything is drawn.
    """
    from landcheck.io.write import refuse_inputs_as_outputs
    from landcheck.report.cards import read_result
    from landcheck.report.fonts import cjk_font, use_font

    path = Path(os.fspath(path)).expanduser().absolute()
    pngs = {}
    if png_dir is not None:
        png_dir = Path(os.fspath(png_dir)).expanduser().absolute()
        pngs = {stem: png_dir / f"{stem}.png" for stem in SUMMARIES}
    refuse_inputs_as_outputs({"-o": path, **{f"--png-dir {p.name}": p for p in pngs.values()}},
                             {"the GeoPackage": gpkg})
    for target in [path, *pngs.values()]:
        if target.exists() and not overwrite:
            raise OutputExistsError(f"{target} exists; pass overwrite=True (CLI: --overwrite) "
                                    "to replace it")
    use_font(cjk_font(font))
    result = read_result(gpkg)
    verdicts = pd.DataFrame(result["verdicts"].drop(columns="geometry", errors="ignore"))
    tables = summary_tables(verdicts)
    charts = {stem: bar_chart(t, SUMMARIES[stem][0]) for stem, t in tables.items()}
    _write_book(path, tables, charts, result["metadata"], overwrite)
    _say(progress, f"summary: {len(tables)} tables → {path.name}")
    if png_dir is not None:
        png_dir.mkdir(parents=True, exist_ok=True)
        for stem, png in charts.items():
            with atomic_file(pngs[stem], overwrite=overwrite) as tmp:
                tmp.write_bytes(png)
            _say(progress, f"summary: chart {pngs[stem]}")
    return path


def _write_book(path: Path, tables: dict, charts: dict, metadata: dict, overwrite: bool):
    from landcheck.report.ledger import round_name_of, write_table
    from landcheck.report.xlsx import Workbook

    title = round_name_of(metadata)
    rules = metadata.get("rules") if isinstance(metadata.get("rules"), dict) else {}
    note = (f"规则包 rule pack: {rules.get('name', '')} {rules.get('version', '')} · 参考日期 "
            f"reference date: {metadata.get('reference_date', '')} · 运行编号 run id: "
            f"{metadata.get('run_id', '')}")
    with atomic_file(path, overwrite=overwrite) as tmp, Workbook(tmp, title=title) as book:
        for stem, table in tables.items():
            name = SUMMARIES[stem][0]
            sheet = book.sheet(name, widths=[34] + [16] * (len(table.columns) - 1))
            sheet.write_row([f"{title} · {name}"], "title")
            sheet.write_row([note], "note")
            sheet.skip()
            top = sheet.row
            write_table(sheet, name, table, total="合计 (total)")
            png = charts[stem]
            w, h = _png_size(png)
            sheet.picture(top, len(table.columns) + 1, png, w, h)
    return path


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels from a PNG's header."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _say(progress, line: str) -> None:
    if progress is not None:
        progress(line)
