"""Child plots (拆分): the official split of a patch into plots of one class each.

Contract
--------
- A patch whose verdict is split (:func:`landcheck.verdicts.decide`: ``split``) is the
  parent (被拆分) of one child plot per covering document — each approval, facility filing
  and temporary approval in force that covers part of it, in that order, each piece less
  what the earlier ones took, so the children never overlap — and one child for the rest
  (the part no document covers), which carries the patch's verdict and class.
- Every child's area is its official area, except the rest's: the rest is the patch's
  area less the other children's, so the children add up to the patch **exactly**. (The
  rest's own outline measures within :data:`landcheck.area.SAME_AREA_M2` of that: each
  cut adds vertices, and each vertex is rounded and each edge densified on its own.)
- A patch that is not split is one plot (``part`` ``whole``), its own child
  (``child_id`` = ``parent_id``).
- Other measured parts of a patch (e.g. a green belt's over-standard strip, ``excess``)
  are rows of the same layer with ``child_id`` empty: details inside a plot, not plots.
- Child ids are ``<parent id>-<k>``, k from 1 in the order above.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from landcheck.area import official_area
from landcheck.geometry.parts import polygonal
from landcheck.official import OfficialScheme, cover_category
from landcheck.report.tables import VERDICT_ZH

__all__ = ["CHILD_DOCS", "M2_PER_MU", "MU_COLUMNS", "SOURCE_ORDER", "child_plots",
           "document_shares", "dominant_cover"]

#: 1 亩 = 2000/3 m², exactly.
M2_PER_MU = 2000.0 / 3.0
#: Areas the verdict table repeats in 亩 (``<name>_mu``), the areas county forms report.
MU_COLUMNS = ("area_m2", "legal_m2", "illegal_m2", "review_m2", "other_m2", "outflow_m2",
              "permanent_farmland_m2", "lu_farmland_m2", "eco_redline_m2",
              "illegal_pf_m2", "illegal_farmland_m2", "illegal_redline_m2", "lu_paddy_m2",
              "land3_nonfarm_agricultural_m2", "land3_unused_m2", "land3_construction_m2",
              "lu_k_m2")
#: Covering roles in the order their children are cut.
SOURCE_ORDER = ("approvals", "facility_ag", "temporary_land")
_SOURCE_ZH = {"approvals": "批准文件", "facility_ag": "设施农用地备案",
              "temporary_land": "临时用地批准"}

#: The columns of the child-plot layer (``fragments``).
CHILD_DOCS: dict[str, str] = {
    "parent_id": "the patch's id (JCBH)",
    "child_id": "<parent_id>-<k> for a child of a split patch; the parent id for a patch that is "
                "not split; empty for a measured detail that is not a plot",
    "verdict_zh": "the verdict in Chinese (违法, 待核实, 合法, 其他)",
    "part": "whole (not split), legal (covered by one document), rest (what no document "
            "covers) or the name of a measured detail (excess …)",
    "source": "the covering role of a legal child (approvals, facility_ag, temporary_land)",
    "doc_id": "the covering document's number (批准文号, 备案编号 …)",
    "doc_kind": "the covering document's kind (conversion, supply, crop …)",
    "area_m2": "official area, m²; the children of a patch add up to its area exactly",
    "area_mu": "the same in 亩 (area_m2 / (2000/3))",
    "share_pct": "the child's share of its parent's area, %",
}


def document_shares(pieces: pd.DataFrame | None, n: int, area: np.ndarray, crs, method
                    ) -> tuple[pd.DataFrame, list, list]:
    """Per covering piece its official area; per patch the ids of the covering documents
    and the share (%) of the patch each covers (overlapping documents each count whole).

    Returns ``(pieces with area_m2, ids per patch, shares per patch)``.
    """
    ids: list = [[] for _ in range(n)]
    shares: list = [[] for _ in range(n)]
    if pieces is None or not len(pieces):
        return pd.DataFrame(columns=["row", "source", "ref_id", "kind", "geometry", "area_m2"]
                            ), ids, shares
    pieces = _ordered(pieces)
    pieces["area_m2"] = official_area(pieces["geometry"].to_numpy(), crs=crs, method=method)
    pieces = pieces[pieces["area_m2"] > 0]
    rows = pieces["row"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.round(100.0 * pieces["area_m2"].to_numpy() / area[rows], 2)
    for r, ref, p in zip(rows.tolist(), pieces["ref_id"].tolist(), pct.tolist(), strict=True):
        ids[r].append(ref)
        shares[r].append(p)
    return pieces, ids, shares


def dominant_cover(pieces: pd.DataFrame) -> pd.DataFrame:
    """Per patch row (index) the ``source`` and ``kind`` of its largest covering piece."""
    if not len(pieces):
        return pd.DataFrame(columns=["source", "kind"])
    top = pieces.sort_values(["row", "area_m2"], ascending=[True, False], kind="stable")
    return top.drop_duplicates("row").set_index("row")[["source", "kind"]]


def _ordered(pieces: pd.DataFrame) -> pd.DataFrame:
    order = {s: k for k, s in enumerate(SOURCE_ORDER)}
    key = pieces["source"].map(order).fillna(len(order)).to_numpy()
    sort = np.lexsort((np.arange(len(pieces)), key, pieces["row"].to_numpy()))
    return pieces.iloc[sort].reset_index(drop=True)


def child_plots(table, pieces: pd.DataFrame, rest: np.ndarray, parts: dict,
                scheme: OfficialScheme, *, crs, method) -> pd.DataFrame:
    """One row per child plot (and measured detail); see the module docstring.

    ``table``: the verdict table (the patch file's fields before ``id``, patch geometry,
    ``area_m2``, ``verdict``, ``split``, reasons and the official columns); ``pieces``: the
    covering pieces with their areas (:func:`document_shares`); ``rest``: per patch, the
    geometry no document covers (used where the patch is split); ``parts``: measured details
    by name.
    """
    geoms = np.asarray(table.geometry.values, dtype=object)
    ids = table["id"].to_numpy(dtype=object)
    area = table["area_m2"].to_numpy(dtype=float)
    split = table["split"].to_numpy(dtype=bool)
    verdict = table["verdict"].to_numpy(dtype=object)
    frames = [_whole(np.flatnonzero(~split), ids, geoms, area, verdict)]
    legal = _legal_children(pieces[np.isin(pieces["row"].to_numpy(), np.flatnonzero(split))],
                            scheme, crs, method)
    frames.append(legal)
    taken = np.bincount(legal["_row"].to_numpy(dtype=np.int64), weights=legal["area_m2"],
                        minlength=len(table)) if len(legal) else np.zeros(len(table))
    srows = np.flatnonzero(split)
    frames.append(pd.DataFrame({
        "_row": srows, "_k": 2, "parent_id": ids[srows], "part": "rest", "source": None,
        "doc_id": None, "doc_kind": None, "verdict": verdict[srows],
        "area_m2": area[srows] - taken[srows], "geometry": rest[srows]}))
    for k, (name, extra) in enumerate(parts.items(), start=3):
        extra = np.asarray(extra, dtype=object)
        has = ~shapely.is_missing(extra)
        has[has] = ~shapely.is_empty(extra[has])
        rows = np.flatnonzero(has)
        frames.append(pd.DataFrame({
            "_row": rows, "_k": k, "parent_id": ids[rows], "part": name, "source": None,
            "doc_id": None, "doc_kind": None, "verdict": verdict[rows],
            "area_m2": official_area(extra[rows], crs=crs, method=method) if len(rows) else [],
            "geometry": extra[rows]}))
    frame = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    frame = frame.sort_values(["_row", "_k"], kind="stable").reset_index(drop=True)
    return _label(frame, table, scheme, area)


def _whole(rows, ids, geoms, area, verdict) -> pd.DataFrame:
    return pd.DataFrame({
        "_row": rows, "_k": 0, "parent_id": ids[rows], "part": "whole", "source": None,
        "doc_id": None, "doc_kind": None, "verdict": verdict[rows], "area_m2": area[rows],
        "geometry": geoms[rows]})


def _legal_children(pieces: pd.DataFrame, scheme, crs, method) -> pd.DataFrame:
    """Each covering piece less the earlier pieces of its patch (never overlapping)."""
    if not len(pieces):
        return pd.DataFrame(columns=["_row", "_k", "parent_id", "part", "source", "doc_id",
                                     "doc_kind", "verdict", "area_m2", "geometry"])
    rows = pieces["row"].to_numpy()
    geoms = pieces["geometry"].to_numpy(dtype=object).copy()
    first = np.r_[True, rows[1:] != rows[:-1]]
    starts = np.flatnonzero(first)
    for i in np.flatnonzero(~first).tolist():  # only the later pieces of a patch are cut
        start = starts[np.searchsorted(starts, i, side="right") - 1]
        earlier = shapely.union_all(geoms[start:i])
        if shapely.intersects(geoms[i], earlier):
            geoms[i] = shapely.difference(geoms[i], earlier)
    cut = ~first
    if cut.any():
        geoms[cut] = polygonal(geoms[cut])
    areas = pieces["area_m2"].to_numpy(dtype=float).copy()
    if cut.any():
        areas[cut] = official_area(geoms[cut], crs=crs, method=method)
    keep = areas > 0
    kinds = pieces["kind"].to_numpy(dtype=object)
    return pd.DataFrame({
        "_row": rows[keep], "_k": 1, "parent_id": None, "part": "legal",
        "source": pieces["source"].to_numpy(dtype=object)[keep],
        "doc_id": pieces["ref_id"].to_numpy(dtype=object)[keep],
        "doc_kind": kinds[keep], "verdict": "legal", "area_m2": areas[keep],
        "geometry": geoms[keep]})


def _label(frame, table, scheme, area) -> pd.DataFrame:
    """Ids, classes, shares and reasons of the rows of :func:`child_plots`."""
    row = frame["_row"].to_numpy(dtype=np.int64)
    ids = table["id"].to_numpy(dtype=object)
    frame["parent_id"] = ids[row]
    plot = frame["_k"].to_numpy() <= 2
    split_row = frame["part"].isin(["legal", "rest"]).to_numpy()
    k = frame[split_row].groupby("_row").cumcount().to_numpy() + 1
    child = np.full(len(frame), None, dtype=object)
    child[plot & ~split_row] = ids[row[plot & ~split_row]]
    child[split_row] = [f"{p}-{j}" for p, j in zip(ids[row[split_row]].tolist(), k.tolist(),
                                                   strict=True)]
    frame["child_id"] = child
    cols = ("official_class", "official_class_code", "official_subclass",
            "official_subclass_code", "build_period")
    for c in cols:
        frame[c] = table[c].to_numpy(dtype=object)[row]
    legal = np.flatnonzero((frame["part"] == "legal").to_numpy())
    reasons_zh = table["reasons_zh"].to_numpy(dtype=object)[row].copy()
    reasons_en = table["reasons_en"].to_numpy(dtype=object)[row].copy()
    if len(legal):  # a legal child takes its document's class (one lookup per source and kind)
        source = frame["source"].to_numpy(dtype=object)[legal]
        kind = frame["doc_kind"].to_numpy(dtype=object)[legal]
        doc = frame["doc_id"].to_numpy(dtype=object)[legal]
        keys = [(s, k if isinstance(k, str) else None)  # (a missing kind as None, not NaN)
                for s, k in zip(source.tolist(), kind.tolist(), strict=True)]
        found = {k: cover_category(scheme, *k) for k in set(keys)}
        cls = np.array([found[k][0] for k in keys], dtype=object)
        sub = np.array([found[k][1] for k in keys], dtype=object)
        for col, values in (("official_class_code", cls),
                            ("official_class", [scheme.name(c) for c in cls.tolist()]),
                            ("official_subclass_code", sub),
                            ("official_subclass", [scheme.subclass_name(c) for c in sub.tolist()])):
            column = frame[col].to_numpy(dtype=object).copy()
            column[legal] = values
            frame[col] = column
        reasons_zh[legal] = [f"{_SOURCE_ZH.get(s_, s_)}{d}覆盖，{scheme.name(c)}" for s_, d, c
                             in zip(source.tolist(), doc.tolist(), cls.tolist(), strict=True)]
        reasons_en[legal] = [f"covered by {s_} {d}: {c}" for s_, d, c
                             in zip(source.tolist(), doc.tolist(), cls.tolist(), strict=True)]
    frame["reasons_zh"], frame["reasons_en"] = reasons_zh, reasons_en
    frame["verdict_zh"] = frame["verdict"].map(VERDICT_ZH).to_numpy()
    frame["area_mu"] = frame["area_m2"].to_numpy(dtype=float) / M2_PER_MU
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["share_pct"] = 100.0 * frame["area_m2"].to_numpy(dtype=float) / area[row]
    for c in ("township", "township_name"):
        if c in table.columns:
            frame[c] = table[c].to_numpy(dtype=object)[row]
    first = list(table.columns[:table.columns.get_loc("id")])  # the patch file's own fields
    for c in first:  # (their own types: a number field stays a number)
        frame[c] = table[c].to_numpy()[row]
    order = [*first, "parent_id", "child_id", "part", "verdict", "verdict_zh", *cols, "source",
             "doc_id", "doc_kind", "area_m2", "area_mu", "share_pct", "reasons_zh", "reasons_en",
             *[c for c in ("township", "township_name") if c in frame.columns], "geometry"]
    return frame[order]
