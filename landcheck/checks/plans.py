"""Contiguous development plans (成片开发方案): facts for the ``plans`` rules.

The features of the ``development_plans`` role are plan **parts** (片区 by use); a plan is
all parts with one ``plan`` id (DOMAIN §6, "Contiguous development plans"). A plan must lie
inside the town development boundary (the boundary's holes count as outside), must not
include permanent farmland, and its public-interest parts (``use == "public_interest"``)
must reach a minimum share of the plan area.

Facts are measured per plan: plan geometry = union of its parts, public-interest area =
union of its public-interest parts (overlaps are never counted twice).

Rows
----
The verdict table has **one row per plan** (``id`` = the plan id): :func:`compute_plan_facts`
returns the plan facts and the plan geometries (the union of the parts) as
``parts["geometry"]``, which :func:`landcheck.checks.run.check` uses for the rows. The
measured parts (``outside``, ``permanent_farmland``) are the plan's.

The minimum public-interest share of a plan comes from the pack: ``public_share_min_<kind>``
(e.g. ``public_share_min_industry``) where the pack has one for the plan's kind, else
``public_share_min``; the fact ``public_share_min`` holds the value that applies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from landcheck.area import DEFAULT_AREA_METHOD
from landcheck.checks import SubjectCheck, register_subject
from landcheck.geometry.pairs import areas, clip, pairs, union_by
from landcheck.geometry.parts import polygonal

__all__ = ["PLAN_SCHEMA", "SCHEMA", "compute_plan_facts", "plan_facts"]

#: Part use that counts as public-interest land.
PUBLIC_USE = "public_interest"

#: Facts of one plan.
PLAN_SCHEMA: dict[str, str] = {
    "id": "text", "kind": "text", "part_n": "number", "geom_ok": "bool", "area_m2": "number",
    "public_m2": "number", "public_share": "number", "public_share_pct": "number",
    "public_share_min": "number", "public_share_min_pct": "number",
    "town_boundary_m2": "number", "outside_m2": "number", "permanent_farmland_m2": "number",
}
#: Facts of the subject (one row per plan).
SCHEMA: dict[str, str] = PLAN_SCHEMA


def compute_plan_facts(features, layers, *, crs, params, reference_date=None,
                       area_method=DEFAULT_AREA_METHOD):
    """Facts of every plan (one row per plan) and its measured parts.

    Parameters
    ----------
    features : GeoDataFrame
        Plan parts with canonical columns ``plan``, ``kind`` and ``use``, in ``crs``.
    layers : dict of role → GeoDataFrame
        Reference layers in ``crs``; uses ``town_boundary`` and ``permanent_farmland``
        (absent → those facts are null).
    crs : pyproj.CRS or str
        The working (projected) CRS.
    params : dict of family → parameters
        Uses ``params["plans"]``: ``public_share_min`` and ``public_share_min_<kind>``.
    reference_date : date, optional
        Unused.
    area_method : str or AreaMethod
        The run's official area method (:data:`landcheck.area.AREA_METHODS`).

    Returns
    -------
    facts : DataFrame
        Columns :data:`SCHEMA`, one row per plan, plans in order of their first part.
    parts : dict
        ``{"outside": array, "permanent_farmland": array, "geometry": array}``: per plan, its
        part outside the town boundary, its part on permanent farmland, and its geometry.
    """
    plans, _, _, plan_geom = plan_facts(features, layers, crs=crs, params=params,
                                        area_method=area_method,
                                        with_parts=True)
    parts = {"outside": _outside(plan_geom, layers.get("town_boundary")),
             "permanent_farmland": _inside(plan_geom, layers.get("permanent_farmland")),
             "geometry": plan_geom}
    return plans, parts


def plan_facts(features, layers, *, crs, params, with_parts=False,
               area_method=DEFAULT_AREA_METHOD):
    """Facts one row per plan (columns :data:`PLAN_SCHEMA`), plans in order of first part.

    With ``with_parts=True`` also returns the usable part geometries, per part the row
    number of its plan, and the plan geometries.
    """
    work = _usable(features)
    code, ids = _plan_codes(features)
    n = len(ids)
    plan_geom = polygonal(union_by(work, code, n))
    public = (_text(features, "use") == PUBLIC_USE).fillna(False).to_numpy()
    public_geom = polygonal(union_by(work[public], code[public], n))
    out = pd.DataFrame({"id": ids})
    out["kind"] = _first_by(_text(features, "kind").str.strip(), code, n)
    out["part_n"] = np.bincount(code, minlength=n).astype(float)
    out["geom_ok"] = np.bincount(code, weights=shapely.is_missing(work), minlength=n) == 0
    out["area_m2"] = areas(plan_geom, crs, area_method)
    out["public_m2"] = areas(public_geom, crs, area_method)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["public_share"] = np.where(out["area_m2"] > 0, out["public_m2"] / out["area_m2"],
                                       np.nan)
    out["public_share_min"] = _share_min(out["kind"], params.get("plans", {}))
    out["public_share_pct"] = out["public_share"] * 100
    out["public_share_min_pct"] = out["public_share_min"] * 100
    for col, ref, measure in (("town_boundary_m2", "town_boundary", _inside),
                              ("outside_m2", "town_boundary", _outside),
                              ("permanent_farmland_m2", "permanent_farmland", _inside)):
        out[col] = (areas(measure(plan_geom, layers[ref]), crs, area_method) if ref in layers
                    else np.nan)
    out = _typed(out, PLAN_SCHEMA)
    return (out, work, code, plan_geom) if with_parts else out


# ---------------------------------------------------------------- steps


def _usable(features) -> np.ndarray:
    """Part geometries that can be measured (valid, polygonal, non-empty), else None."""
    geoms = np.asarray(features.geometry.values, dtype=object)
    present = ~shapely.is_missing(geoms)
    ok = present.copy()
    ok[present] = (~shapely.is_empty(geoms[present]) & shapely.is_valid(geoms[present])
                   & np.isin(shapely.get_type_id(geoms[present]), [3, 6]))
    return np.where(ok, geoms, None)


def _text(features, name) -> pd.Series:
    if name in features.columns:
        return features[name].reset_index(drop=True).astype("string")
    return pd.Series(pd.NA, index=pd.RangeIndex(len(features)), dtype="string")


def _plan_codes(features) -> tuple[np.ndarray, np.ndarray]:
    """Plan row of each part and the plan ids; a part without a plan id is a plan of its own."""
    plan = _text(features, "plan").str.strip()
    key = plan.where(plan.notna() & (plan != ""),
                     pd.Series([f"#{i + 1}" for i in range(len(plan))], dtype="string"))
    code, ids = pd.factorize(key, sort=False)
    return code.astype(np.intp), np.asarray(ids, dtype=object)


def _first_by(values: pd.Series, code: np.ndarray, n: int) -> pd.Series:
    """First non-null value per plan."""
    frame = pd.DataFrame({"code": code, "value": values.to_numpy()})
    first = frame.dropna().drop_duplicates("code").set_index("code")["value"]
    return first.reindex(range(n)).astype("string").reset_index(drop=True)


def _share_min(kinds: pd.Series, p) -> np.ndarray:
    default = float(p["public_share_min"]) if "public_share_min" in p else np.nan
    return np.array([float(p.get(f"public_share_min_{k}", default)) if isinstance(k, str)
                     else default for k in kinds.astype(object).where(kinds.notna(), None)])


def _inside(work, ref) -> np.ndarray:
    """Per geometry, its piece inside the union of the reference features (None if none)."""
    n = len(work)
    if ref is None:
        return np.full(n, None, dtype=object)
    ref_geoms = np.asarray(ref.geometry.values, dtype=object)
    pi, ri = pairs(work, ref_geoms)
    return polygonal(union_by(clip(work, ref_geoms, pi, ri), pi, n))


def _outside(work, ref) -> np.ndarray:
    """Per geometry, its piece outside the union of the reference features."""
    if ref is None:
        return np.full(len(work), None, dtype=object)
    inside = _inside(work, ref)
    rest = np.where(shapely.is_missing(inside), work, None)
    both = ~shapely.is_missing(inside)
    if both.any():
        rest[both] = shapely.difference(work[both], inside[both])
    return polygonal(rest)


def _typed(frame: pd.DataFrame, schema) -> pd.DataFrame:
    out = frame[list(schema)].copy()
    for col, kind in schema.items():
        if kind == "number":
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
        elif kind == "text":
            out[col] = out[col].astype("string")
        elif kind == "bool":
            out[col] = out[col].astype("boolean")
    return out


register_subject(SubjectCheck(
    subject="development_plans", families=("plans",), schema=SCHEMA,
    compute=compute_plan_facts, needs=("town_boundary", "permanent_farmland")))
