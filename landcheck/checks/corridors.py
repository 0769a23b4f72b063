"""Green corridors on farmland (超标准建设绿色通道): patch facts for the ``corridors`` family.

Where the land beside a railway, road, river or canal is farmland, a tree belt may be at
most so wide, measured per side from the corridor's land boundary (DOMAIN §6): railways,
highways, national and provincial roads 5 m; county and township roads 3 m; rivers and
canals the width of the approved plan (the corridor layer's ``planned_width``); village
roads have no limit. All of these are parameters of the ``corridors`` family
(``<class>_limit_m``, ``planned_width_classes``).

A **belt** is a patch of a belt category (``belt_categories``: green belt, forest) within
``corridor_search_m`` of a corridor polygon that has a limit. Its **allowed zone** is the
union of those corridors' land widened by their limits (:func:`landcheck.measure.allowed_zone`,
mitred corners), and its **excess** is::

    excess = belt ∩ (farmland ∪ permanent farmland) − allowed zone

with farmland = the land-use parcels of group ``farmland``
(:func:`landcheck.vocab.landuse_group`). The provider returns the facts and the excess
geometry (fragments part ``excess``).

Classes are canonical codes (``value_names.csv`` maps 县道, ``X``, ``county`` … to
``county_road``). A corridor within the search distance of a belt-category patch whose limit
cannot be known — a class that neither the vocabulary nor a ``<class>_limit_m`` or
``planned_width_classes`` parameter knows (or no class), a planned-width class without a
``planned_width``, or a centre line without a land ``width`` where its class has a limit —
is named in ``belt_unjudged_corridors``; such a patch has no excess (the allowed zone is not
known), and is for review.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from landcheck.area import DEFAULT_AREA_METHOD
from landcheck.checks import PatchFacts, register_patch_facts
from landcheck.geometry.measure import allowed_zone, corridor_land
from landcheck.geometry.pairs import areas, clip, feature_ids, lists_by, pairs, union_by
from landcheck.geometry.parts import or_empty, polygonal
from landcheck.vocab import SCHEME_COLUMN, landuse_group, scheme_of, value_names

__all__ = ["CLASS_ZH", "SCHEMA", "belt_facts", "known_classes"]

SCHEMA: dict[str, str] = {
    "belt_corridor_ids": "list",
    "belt_corridor_classes": "list",
    "belt_corridor_classes_zh": "list",
    "belt_limit_m": "number",
    "belt_farmland_m2": "number",
    "belt_excess_m2": "number",
    "belt_built": "date",
    "belt_unjudged_n": "number",
    "belt_unjudged_corridors": "list",
}

#: What each fact means (for the fact documentation).
DOCS: dict[str, str] = {
    "belt_corridor_ids": "green belt: ids of the corridors with a width limit within the search "
                         "distance",
    "belt_corridor_classes": "green belt: their canonical classes (railway, county_road …)",
    "belt_corridor_classes_zh": "green belt: the same classes in Chinese (铁路, 县道 …), for "
                                "reasons",
    "belt_limit_m": "green belt: allowed width per side beside the nearest of those corridors, m",
    "belt_farmland_m2": "green belt: area on farmland or permanent farmland, m²",
    "belt_excess_m2": "green belt: area on farmland or permanent farmland outside the allowed "
                      "zone (over-standard area), m²",
    "belt_built": "green belt: when it was built (the patch's after-date)",
    "belt_unjudged_n": "green belt: corridors within the search distance whose width limit "
                       "cannot be known (0 for a patch of a belt category with none; null "
                       "elsewhere); where positive, belt_excess_m2 is null",
    "belt_unjudged_corridors": "green belt: those corridors' classes as written (（空） where "
                               "missing), with what is missing for a known class",
}

#: Chinese names of the canonical corridor classes (reasons are written in Chinese).
CLASS_ZH: dict[str, str] = {
    "railway": "铁路", "highway": "高速公路", "national_road": "国道", "provincial_road": "省道",
    "county_road": "县道", "township_road": "乡道", "village_road": "村道", "river": "河流",
    "canal": "沟渠", "reservoir": "水库",
}

#: Parameter names of the ``corridors`` family that carry a per-class limit: ``<class>_limit_m``.
LIMIT_SUFFIX = "_limit_m"


def belt_facts(work, patches, facts, layers, *, crs, params,
               area_method=DEFAULT_AREA_METHOD) -> tuple[pd.DataFrame, dict]:
    """Facts of the ``corridors`` family and the excess geometry of every patch.

    Parameters
    ----------
    work : numpy.ndarray of geometries
        Patch geometries in ``crs`` (``None`` where a geometry cannot be judged).
    patches : GeoDataFrame
        The canonical patch frame (``after`` = when the belt was built).
    facts : DataFrame
        Facts computed so far (``type_category``).
    layers : dict of role → GeoDataFrame
        Reference layers in ``crs``: ``corridors`` (``class``, ``width``,
        ``planned_width``), ``landuse`` and ``permanent_farmland``.
    crs : CRS
        The working CRS (areas are official ellipsoidal m²).
    params : dict
        Parameters of the ``corridors`` family: ``corridor_search_m``,
        ``belt_categories``, ``<class>_limit_m`` per corridor class and
        ``planned_width_classes``. Without ``corridor_search_m`` (the pack has no
        corridor rules) nothing is measured.
    area_method : str or AreaMethod
        The run's official area method (:data:`landcheck.area.AREA_METHODS`).

    Returns
    -------
    tuple
        ``(facts, {"excess": geometries})``: the columns of :data:`SCHEMA` (null for
        patches that are not belts) and the excess part per patch (``None`` where none).
    """
    n = len(work)
    cols = _empty(n)
    excess = np.full(n, None, dtype=object)
    if "corridors" in layers and "corridor_search_m" in params:
        _measure(work, patches, facts, layers, crs, params, cols, excess, area_method)
        _unjudged(work, facts, layers["corridors"], params, cols, excess)
    out = pd.DataFrame({c: pd.Series(v, index=facts.index, dtype=object if SCHEMA[c] == "list"
                                     else None) for c, v in cols.items()})
    return out[list(SCHEMA)], {"excess": excess}


def _empty(n: int) -> dict:
    return {
        "belt_corridor_ids": [[] for _ in range(n)],
        "belt_corridor_classes": [[] for _ in range(n)],
        "belt_corridor_classes_zh": [[] for _ in range(n)],
        "belt_limit_m": np.full(n, np.nan),
        "belt_farmland_m2": np.full(n, np.nan),
        "belt_excess_m2": np.full(n, np.nan),
        "belt_built": np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"),
        "belt_unjudged_n": np.full(n, np.nan),
        "belt_unjudged_corridors": [[] for _ in range(n)],
    }


def _measure(work, patches, facts, layers, crs, params, cols, excess, method) -> None:
    """Fill ``cols`` and ``excess`` for the belts (patches near a corridor with a limit)."""
    corridors = layers["corridors"]
    land, limit, classes = _limited(corridors, params)
    keep = np.flatnonzero(~shapely.is_missing(land) & np.isfinite(limit))
    if "type_category" not in facts or not len(keep):
        return
    rows = _belt_rows(work, facts, params)
    pi, ki = shapely.STRtree(land[keep]).query(work[rows], predicate="dwithin",
                                               distance=float(params["corridor_search_m"]))
    if not len(pi):
        return
    # pairs in (patch, corridor) order, not the tree's: the same whatever subset of the
    # corridors a chunk was given, so unions and lists do not depend on the chunking
    o = np.lexsort((ki, pi))
    pi, ki = pi[o], ki[o]
    belts, pj = np.unique(pi, return_inverse=True)  # pj: belt position of each pair
    sel, ci = rows[belts], keep[ki]  # patch rows of the belts; corridor of each pair
    geoms, m = work[sel], len(belts)
    used, cj = np.unique(ci, return_inverse=True)
    zone = union_by(allowed_zone(land[used], limit[used])[cj], pj, m)
    farm = _farmland(geoms, layers)
    over = np.full(m, None, dtype=object)
    both = ~shapely.is_missing(farm)
    over[both] = shapely.difference(farm[both], zone[both])
    over = polygonal(over)
    ids, kinds = lists_by(feature_ids(corridors, ci), pj, m), lists_by(classes[ci], pj, m)
    for i, row in enumerate(sel.tolist()):
        cols["belt_corridor_ids"][row] = ids[i]
        cols["belt_corridor_classes"][row] = kinds[i]
        cols["belt_corridor_classes_zh"][row] = [CLASS_ZH.get(k, k) for k in kinds[i]]
    cols["belt_limit_m"][sel] = limit[_nearest(geoms, land, pj, ci, m)]
    cols["belt_farmland_m2"][sel] = areas(farm, crs, method)
    cols["belt_excess_m2"][sel] = areas(over, crs, method)
    if "after" in patches.columns:
        after = pd.to_datetime(patches["after"], errors="coerce").to_numpy(dtype="datetime64[ns]")
        cols["belt_built"][sel] = after[sel]
    excess[sel] = over


def _belt_rows(work, facts, params) -> np.ndarray:
    """Rows of the patches of a belt category with a geometry."""
    wanted = facts["type_category"].astype("string").isin(list(params.get("belt_categories", [])))
    return np.flatnonzero(wanted.fillna(False).to_numpy(dtype=bool) & ~shapely.is_missing(work))


def known_classes(params) -> set[str]:
    """Corridor classes whose limit is known: the vocabulary's (``value_names.csv``), those
    with a ``<class>_limit_m`` parameter and the ``planned_width_classes``."""
    known = set(value_names().get(("corridors", "class"), {}).values())
    known |= {k[:-len(LIMIT_SUFFIX)] for k in params if k.endswith(LIMIT_SUFFIX)}
    return known | set(params.get("planned_width_classes", []))


def _unjudged(work, facts, corridors, params, cols, excess) -> None:
    """Count and name, per belt-category patch, the nearby corridors whose limit cannot be
    known; where there are any, the excess is unknown (null, no geometry)."""
    if "type_category" not in facts:
        return
    rows = _belt_rows(work, facts, params)
    cols["belt_unjudged_n"][rows] = 0.0
    raw = (corridors["class"].astype("string").str.strip().fillna("").to_numpy(dtype=object)
           if "class" in corridors.columns else np.full(len(corridors), "", dtype=object))
    geoms = np.asarray(corridors.geometry.values, dtype=object)
    limited = [k[:-len(LIMIT_SUFFIX)] for k in params if k.endswith(LIMIT_SUFFIX)]
    planned = np.isin(raw, list(params.get("planned_width_classes", [])))
    unknown = ~np.isin(raw, list(known_classes(params)))
    no_width = planned & ~np.isfinite(_numbers(corridors, "planned_width"))
    no_land = ((np.isin(raw, limited) | planned) & ~no_width
               & shapely.is_missing(corridor_land(geoms, _numbers(corridors, "width"))))
    zh = np.array([CLASS_ZH.get(c, c) for c in raw.tolist()], dtype=object)
    what = np.where(unknown, np.where(raw == "", "（空）", raw),
                    np.where(no_width, zh + "（未填规划宽度）", zh + "（中心线未填宽度）"))
    bad = np.flatnonzero((unknown | no_width | no_land) & ~shapely.is_missing(geoms))
    if not len(rows) or not len(bad):
        return
    pi, ki = shapely.STRtree(geoms[bad]).query(work[rows], predicate="dwithin",
                                               distance=float(params["corridor_search_m"]))
    o = np.lexsort((ki, pi))
    pi, ki = pi[o], ki[o]
    m = len(rows)
    cols["belt_unjudged_n"][rows] = np.bincount(pi, minlength=m)
    named = lists_by(what[bad][ki], pi, m)
    for i, row in enumerate(rows.tolist()):
        if named[i]:
            cols["belt_unjudged_corridors"][row] = named[i]
            cols["belt_excess_m2"][row] = np.nan
            excess[row] = None


def _limited(corridors, params):
    """Land polygon, allowed width per side (NaN: no limit) and class of every corridor."""
    classes = (corridors["class"].astype("string").fillna("").to_numpy(dtype=object)
               if "class" in corridors.columns else np.full(len(corridors), "", dtype=object))
    geoms = np.asarray(corridors.geometry.values, dtype=object)
    width = _numbers(corridors, "width")
    land = corridor_land(geoms, width)
    per_class = {k[:-len(LIMIT_SUFFIX)]: float(v) for k, v in params.items()
                 if k.endswith(LIMIT_SUFFIX)}
    limit = pd.Series(classes, dtype=object).map(per_class).to_numpy(dtype=float)
    planned = np.isin(classes, list(params.get("planned_width_classes", [])))
    limit = np.where(planned, _numbers(corridors, "planned_width"), limit)
    return land, limit, classes


def _numbers(frame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def _farmland(geoms: np.ndarray, layers) -> np.ndarray:
    """Per belt: the union of its parts on farmland (land-use group) and permanent farmland."""
    refs = []
    if "landuse" in layers and "class" in layers["landuse"].columns:
        lu = layers["landuse"]
        group = landuse_group(lu["class"], scheme=scheme_of(lu), source="landuse",
                              warn=SCHEME_COLUMN not in lu.columns)
        group = group.fillna("").to_numpy(dtype=object)
        refs.append(np.asarray(lu.geometry.values, dtype=object)[group == "farmland"])
    if "permanent_farmland" in layers:
        refs.append(np.asarray(layers["permanent_farmland"].geometry.values, dtype=object))
    if not refs:
        return np.full(len(geoms), None, dtype=object)
    ref_geoms = np.concatenate(refs)
    pi, ri = pairs(geoms, ref_geoms)
    return polygonal(union_by(clip(geoms, ref_geoms, pi, ri), pi, len(geoms)))


def _nearest(geoms, land, pi, ci, m) -> np.ndarray:
    """Index of the nearest paired corridor per belt (every belt has one)."""
    dist = shapely.distance(geoms[pi], or_empty(land[ci]))
    order = np.lexsort((dist, pi))
    first = np.r_[True, pi[order][1:] != pi[order][:-1]]
    out = np.zeros(m, dtype=int)
    out[pi[order][first]] = ci[order][first]
    return out


PROVIDER = register_patch_facts(PatchFacts(name="corridors", family="corridors", schema=SCHEMA,
                                           docs=DOCS, compute=belt_facts))
