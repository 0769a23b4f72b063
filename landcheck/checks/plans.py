"""Contiguous development plans (成片开发方案): facts for the ``plans`` rules.

The features of the ``development_plans`` role are plan **parts** (片区 by use); a plan is
all parts with one ``plan`` id (DOMAIN §6, "Contiguous development plans"). A plan must lie
inside the town development boundary (the boundary's holes count as outside), must not
include permanent farmland, and its public-interest parts (``use == "public_interest"``)
must reach a minimum share of the plan area.

Facts are measured per plan: plan geometry = union of its parts, public-interest area =
union of its public-interest parts (overlaps are never counted twice).

Public-interest share
---------------------
Where any part of a plan carries a use (``use``, a canonical code: ``value_names.csv`` maps
the Chinese names), the share is **measured** from the parts: public-interest parts over the
plan. A part of that plan whose use is missing or unknown counts as not public and is named
in ``use_unknown`` (for review where the share falls short). Where no part carries a use,
the plan's **declared** share is used: the canonical field ``public_share`` of its parts, in
**percent** (0–100, e.g. ``45`` or ``"45%"``; a value outside that range, or parts of one
plan declaring different values, is warned about and not used). With neither, the share is
null (for review). ``public_share_source`` says which applied.

Rows
----
The verdict table has **one row per plan** (``id`` = the plan id): :func:`compute_plan_facts`
returns the plan facts and the plan geometries (the union of the parts) as
``parts["geometry"]``, which :func:`landcheck.checks.run.check` uses for the rows. The
measured parts (``outside``, ``permanent_farmland``) are the plan's.

The minimum public-interest share of a plan comes from the pack: ``public_share_min_<kind>``
(e.g. ``public_share_min_industry``) where the pack has one for the plan's kind, else
``public_share_min``; the fact ``public_share_min`` holds the value that applies. A kind
that is neither in the vocabulary nor has a minimum of its own is named in
``kind_unknown``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import shapely

from landcheck.area import DEFAULT_AREA_METHOD
from landcheck.checks import SubjectCheck, register_subject
from landcheck.errors import DataWarning, format_ids
from landcheck.geometry.pairs import areas, clip, lists_by, pairs, union_by
from landcheck.geometry.parts import polygonal
from landcheck.vocab import value_names

__all__ = ["PLAN_SCHEMA", "SCHEMA", "compute_plan_facts", "plan_facts"]

#: Part use that counts as public-interest land.
PUBLIC_USE = "public_interest"
#: How each source of the public-interest share is named in reasons.
SHARE_SOURCE_ZH = {"measured": "按片区用途量算", "declared": "按方案填报的公益性用地比例"}
#: How a missing value is written where a fact names it.
MISSING = "（空）"

#: Facts of one plan.
PLAN_SCHEMA: dict[str, str] = {
    "id": "text", "kind": "text", "part_n": "number", "geom_ok": "bool", "area_m2": "number",
    "public_m2": "number", "public_share": "number", "public_share_pct": "number",
    "public_share_min": "number", "public_share_min_pct": "number",
    "town_boundary_m2": "number", "outside_m2": "number", "permanent_farmland_m2": "number",
    "public_share_declared_pct": "number", "public_share_source": "text",
    "public_share_source_zh": "text", "use_unknown_n": "number", "use_unknown_m2": "number",
    "use_unknown": "list", "kind_unknown": "text",
}
#: Facts of the subject (one row per plan).
SCHEMA: dict[str, str] = PLAN_SCHEMA


def compute_plan_facts(features, layers, *, crs, params, reference_date=None,
                       area_method=DEFAULT_AREA_METHOD):
    """Facts of every plan (one row per plan) and its measured parts.

    Parameters
    ----------
    features : GeoDataFrame
        Plan parts with canonical columns ``plan``, ``kind``, ``use`` and optionally
        ``public_share`` (the plan's declared share, percent), in ``crs``.
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
    p = params.get("plans", {})
    plan_geom = polygonal(union_by(work, code, n))
    use = _text(features, "use").str.strip().fillna("")
    public = (use == PUBLIC_USE).to_numpy()
    public_geom = polygonal(union_by(work[public], code[public], n))
    out = pd.DataFrame({"id": ids})
    out["kind"] = _first_by(_text(features, "kind").str.strip(), code, n)
    out["part_n"] = np.bincount(code, minlength=n).astype(float)
    out["geom_ok"] = np.bincount(code, weights=shapely.is_missing(work), minlength=n) == 0
    out["area_m2"] = areas(plan_geom, crs, area_method)
    measured = np.bincount(code, weights=(use != "").to_numpy(), minlength=n) > 0
    declared = _declared_pct(features, code, ids)
    source = np.where(measured, "measured", np.where(np.isnan(declared), None, "declared"))
    out["public_m2"] = np.where(measured, areas(public_geom, crs, area_method), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(out["area_m2"] > 0, out["public_m2"] / out["area_m2"], np.nan)
    out["public_share"] = np.where(measured, share, declared / 100)
    out["public_share_declared_pct"] = declared
    out["public_share_source"] = pd.array(source, dtype="string")
    out["public_share_source_zh"] = pd.Series(source).map(SHARE_SOURCE_ZH).astype("string")
    out = out.join(_unknown_uses(work, use, code, measured, n, crs, area_method))
    out["kind_unknown"] = _unknown_kinds(out["kind"], p)
    out["public_share_min"] = _share_min(out["kind"], p)
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


def _declared_pct(features, code: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The declared public-interest share of each plan in percent (NaN where none is usable).

    Values are numbers or texts such as ``"45"``, ``"45%"``; outside 0–100, not a number, or
    differing between the parts of one plan → warned about and not used."""
    n = len(ids)
    if "public_share" not in features.columns:
        return np.full(n, np.nan)
    raw = features["public_share"].reset_index(drop=True)
    text = raw.astype("string").str.strip().str.rstrip("%％").str.strip()
    value = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    given = (text.notna() & (text != "")).to_numpy()
    bad = given & ~((value >= 0) & (value <= 100))
    if bad.any():
        _warn(f"{int(bad.sum())} part(s) declare a public-interest share (`public_share`) that "
              f"is not a percentage 0–100 (plans {_plans(ids, code, bad)}; e.g. "
              f"{raw[bad].iloc[0]!r}); it is not used. Give the share in percent, e.g. 45")
    value = np.where(bad, np.nan, value)
    ratio_like = (value > 0) & (value <= 1)
    if ratio_like.any():
        first = float(value[ratio_like][0])
        _warn(f"plans {_plans(ids, code, ratio_like)} declare a public-interest share of at "
              f"most 1 (e.g. {first!r}); `public_share` is in percent, so that is read as at "
              "most 1 %. Write 45 for 45 %")
    frame = pd.DataFrame({"code": code, "value": value}).dropna()
    spread = frame.groupby("code")["value"].agg(["min", "max"])
    out = np.full(n, np.nan)
    out[spread.index.to_numpy()] = spread["min"].to_numpy()
    differ = spread.index.to_numpy()[(spread["max"] != spread["min"]).to_numpy()]
    if len(differ):
        _warn(f"the parts of plans {format_ids(ids[differ])} declare different public-interest "
              "shares (`public_share`); none is used for those plans. Give each plan one share")
        out[differ] = np.nan
    return out


def _plans(ids, code, rows) -> str:
    return format_ids(pd.unique(ids[code[rows]]))


def _warn(message: str) -> None:
    warnings.warn(f"development_plans: {message}.", DataWarning, stacklevel=4)


def _unknown_uses(work, use: pd.Series, code, measured, n, crs, area_method) -> pd.DataFrame:
    """Parts of measured plans whose use is missing or in no vocabulary: their number, the
    area of their union and the uses as written (``（空）`` where missing)."""
    known = set(value_names().get(("development_plans", "use"), {}).values()) | {PUBLIC_USE}
    unknown = (~use.isin(list(known))).to_numpy() & measured[code]
    written = np.where(use.to_numpy(dtype=object) == "", MISSING, use.to_numpy(dtype=object))
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["use_unknown_n"] = np.bincount(code[unknown], minlength=n).astype(float)
    out["use_unknown_m2"] = areas(polygonal(union_by(work[unknown], code[unknown], n)), crs,
                                  area_method)
    out["use_unknown"] = lists_by(written[unknown], code[unknown], n)
    return out


def _unknown_kinds(kinds: pd.Series, p) -> pd.Series:
    """The kind as written where it is given but neither in the vocabulary nor has a minimum
    share of its own in the pack (``public_share_min_<kind>``)."""
    known = set(value_names().get(("development_plans", "kind"), {}).values())
    known |= {k[len("public_share_min_"):] for k in p if k.startswith("public_share_min_")}
    text = kinds.astype("string").fillna("")
    return text.where((text != "") & ~text.isin(list(known))).astype("string")


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
