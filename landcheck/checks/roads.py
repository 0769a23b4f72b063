"""Rural-road upgrades (农村道路): patch facts for the ``roads`` family.

A rural-road patch (``type_category == 'rural_road'``, e.g. ``ND``) is the road surface
after the change. The rules compare it with the previous period's road (role
``roads_before``: the earlier imagery's rural roads with their land width ``width``):

- width ≤ the maximum and not wider than before (within a tolerance), and not on
  permanent farmland → pass;
- wider than the maximum, widened, or a new road → needs review; on permanent farmland →
  illegal (that part); on general farmland → in–out balance; on public-welfare or
  commercial forest → forestry approval and the vegetation restoration fee.

This module only measures (DOMAIN §6 "Rural road upgrades"); the rules are in the pack.
The patch's area on permanent farmland, general farmland and forest by class are the
overlay's facts (``permanent_farmland_m2``, ``general_farmland_m2``,
``forest_<class>_m2``); the facts here are null for patches that are not rural roads.
Forest classes are canonical codes (``value_names.csv`` maps 国家级公益林, 省级公益林, 商品林
…); the road's area on forest of a class no vocabulary knows (or of no class), which
could need either procedure, is ``road_forest_unknown_m2``, with those classes as written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from landcheck.area import DEFAULT_AREA_METHOD
from landcheck.checks import PatchFacts, register_patch_facts
from landcheck.geometry.measure import strip_width
from landcheck.geometry.pairs import areas, clip, feature_ids, lists_by, pairs, union_by
from landcheck.geometry.parts import polygonal
from landcheck.roles import FOREST_CLASSES

__all__ = ["ROAD_CATEGORY", "SCHEMA", "road_facts"]

#: Patch category of rural roads (``landcheck/data/patch_types.csv``).
ROAD_CATEGORY = "rural_road"

SCHEMA: dict[str, str] = {
    "road_width_m": "number",
    "road_before_m2": "number",
    "road_before_ids": "list",
    "road_before_width_m": "number",
    "road_widening_m": "number",
    "road_new_m2": "number",
    "road_public_welfare_forest_m2": "number",
    "road_forest_unknown_m2": "number",
    "road_forest_unknown_classes": "list",
}

#: What each fact means (for the fact documentation).
DOCS: dict[str, str] = {
    "road_width_m": "rural road: equivalent-rectangle width of the patch (measure.strip_width), m",
    "road_before_m2": "rural road: area of the patch on previous-period roads (roads_before), m²; "
                      "null when that role is not configured",
    "road_before_ids": "rural road: ids of the previous-period roads the patch overlaps with "
                       "positive area",
    "road_before_width_m": "rural road: widest of those previous roads (their `width` field, "
                           "else their measured strip width), m",
    "road_widening_m": "rural road: road_width_m − road_before_width_m, m",
    "road_new_m2": "rural road: area of the patch off previous-period roads, m²",
    "road_public_welfare_forest_m2": "rural road: area on national plus provincial "
                                     "public-welfare forest, m²",
    "road_forest_unknown_m2": "rural road: area on forest whose class is missing or in no "
                              "vocabulary (public-welfare or commercial cannot be told), m²; "
                              "null when no forest layer is configured",
    "road_forest_unknown_classes": "rural road: those forest classes as written (（空） where "
                                   "missing)",
}


def road_facts(work, patches, facts, layers, *, crs, params,
               area_method=DEFAULT_AREA_METHOD) -> pd.DataFrame:
    """Facts of the ``roads`` family for every patch (null where not a rural road).

    Parameters
    ----------
    work : numpy.ndarray of geometries
        Patch geometries in ``crs`` (``None`` where a geometry cannot be judged).
    patches : GeoDataFrame
        The canonical patch frame (unused; part of the provider signature).
    facts : DataFrame
        Facts computed so far (``type_category``, ``forest_<class>_m2`` …).
    layers : dict of role → GeoDataFrame
        Reference layers in ``crs``; uses ``roads_before`` (``width`` field optional).
    crs : CRS
        The working CRS (areas are official ellipsoidal m²).
    params : dict
        Parameters of the ``roads`` family (no geometry parameter is needed).
    area_method : str or AreaMethod
        The run's official area method (:data:`landcheck.area.AREA_METHODS`).

    Returns
    -------
    DataFrame
        The columns of :data:`SCHEMA`, index of ``facts``.
    """
    n = len(work)
    cols = {c: np.full(n, np.nan) for c, kind in SCHEMA.items() if kind == "number"}
    ids_col = [[] for _ in range(n)]
    forest_col = [[] for _ in range(n)]
    category = (facts["type_category"].astype("string") if "type_category" in facts
                else pd.Series(pd.NA, index=facts.index, dtype="string"))
    road = (category == ROAD_CATEGORY).fillna(False).to_numpy(dtype=bool)
    rows = np.flatnonzero(road & ~shapely.is_missing(work))
    if len(rows):
        geoms = work[rows]
        width = strip_width(geoms)
        cols["road_width_m"][rows] = width
        cols["road_public_welfare_forest_m2"][rows] = _public_welfare(facts, rows)
        if "forest" in layers:
            unknown_m2, classes = _unknown_forest(geoms, layers["forest"], crs, area_method)
            cols["road_forest_unknown_m2"][rows] = unknown_m2
            for row, hit in zip(rows.tolist(), classes, strict=True):
                forest_col[row] = hit
        if "roads_before" in layers:
            before_m2, ids, before_w = _previous(geoms, layers["roads_before"], crs,
                                                 area_method)
            area = facts["area_m2"].to_numpy(dtype=float)[rows]
            cols["road_before_m2"][rows] = before_m2
            cols["road_before_width_m"][rows] = before_w
            cols["road_widening_m"][rows] = width - before_w
            cols["road_new_m2"][rows] = np.maximum(area - before_m2, 0.0)
            for row, hit in zip(rows.tolist(), ids, strict=True):
                ids_col[row] = hit
    out = pd.DataFrame(cols, index=facts.index)
    out["road_before_ids"] = pd.Series(ids_col, index=facts.index, dtype=object)
    out["road_forest_unknown_classes"] = pd.Series(forest_col, index=facts.index, dtype=object)
    return out[list(SCHEMA)]


def _unknown_forest(geoms: np.ndarray, forest, crs, method):
    """Area on forest of a missing or unknown class (the union of those pieces) and those
    classes as written, per road patch."""
    m = len(geoms)
    raw = (forest["class"].astype("string").str.strip().fillna("").to_numpy(dtype=object)
           if "class" in forest.columns else np.full(len(forest), "", dtype=object))
    unknown = ~np.isin(raw, list(FOREST_CLASSES))
    ref_geoms = np.asarray(forest.geometry.values, dtype=object)[unknown]
    pi, ri = pairs(geoms, ref_geoms)
    pieces = polygonal(clip(geoms, ref_geoms, pi, ri))
    has = ~shapely.is_missing(pieces)
    pi, ri, pieces = pi[has], ri[has], pieces[has]
    area = areas(polygonal(union_by(pieces, pi, m)), crs, method)
    written = np.where(raw[unknown] == "", "（空）", raw[unknown])
    return area, lists_by(written[ri], pi, m)


def _public_welfare(facts: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """National + provincial public-welfare forest area (the classes do not overlap)."""
    cols = [c for c in ("forest_public_welfare_national_m2", "forest_public_welfare_provincial_m2")
            if c in facts.columns]
    if not cols:
        return np.full(len(rows), np.nan)
    return facts[cols].to_numpy(dtype=float)[rows].sum(axis=1)


def _previous(geoms: np.ndarray, ref, crs, method):
    """Area on previous roads, their ids and the widest one's width, per road patch.

    Only pairs with a positive-area overlap count: a road that merely touches an earlier
    road (an extension) is a new road.
    """
    m = len(geoms)
    ref_geoms = np.asarray(ref.geometry.values, dtype=object)
    pi, ri = pairs(geoms, ref_geoms)
    pieces = polygonal(clip(geoms, ref_geoms, pi, ri))
    has = ~shapely.is_missing(pieces)
    pi, ri, pieces = pi[has], ri[has], pieces[has]
    before_m2 = areas(union_by(pieces, pi, m), crs, method)
    ids = lists_by(feature_ids(ref, ri), pi, m)
    width = _road_widths(ref, ref_geoms)
    before_w = np.full(m, np.nan)
    np.fmax.at(before_w, pi, width[ri])
    return before_m2, ids, before_w


def _road_widths(ref, ref_geoms: np.ndarray) -> np.ndarray:
    """The ``width`` field where given, else the measured strip width of the old road."""
    measured = strip_width(ref_geoms)
    if "width" not in ref.columns:
        return measured
    given = pd.to_numeric(ref["width"], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(given) & (given > 0), given, measured)


PROVIDER = register_patch_facts(PatchFacts(name="roads", family="roads", schema=SCHEMA, docs=DOCS,
                                           compute=road_facts))
