"""Temporary land review (临时用地回头看): approvals and the footprints observed on the ground.

Two subject checks, both in the rule family ``temporary``:

``temporary_footprints``
    The land actually occupied (实际占地), one polygon per site, observed as of the run's
    reference date. Facts: the part beyond every temporary approval (少批多占), the approvals
    the footprint lies on with their end dates, the restoration deadline (使用期满后复垦期限)
    = end + ``restoration_years`` calendar years, and the part on approvals whose deadline
    has passed as of the reference date (到期未恢复).
``temporary_land``
    The approvals themselves (fields ``id``, ``start``, ``end``, ``use``, ``linear``). Facts:
    the term in days and calendar years, the term limit that applies (``term_limit_years``,
    ``linear_term_limit_years`` for long linear infrastructure) and the area on permanent
    farmland.

Parameters (family ``temporary`` of the rule pack): ``sliver_m2`` (1.0), ``restoration_years``
(1), ``term_limit_years`` (2), ``linear_term_limit_years`` (4).

Notes
-----
"+ N years" keeps month and day; 29 February becomes 28 February in a common year — the
same function as ``add_years`` of the rule language, so facts and rules agree to the day.
A footprint "lies on" an approval when they overlap by more than ``sliver_m2``; every
overlap, however small, counts as approved cover when the excess is measured. Areas are
official (ellipsoidal) m² in the run's working CRS.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import shapely

from landcheck.area import DEFAULT_AREA_METHOD
from landcheck.checks import SubjectCheck, register_subject
from landcheck.errors import InputError, RuleError
from landcheck.geometry.pairs import areas, clip, feature_ids, lists_by, pairs, union_by
from landcheck.geometry.parts import or_empty, polygonal
from landcheck.rules.expr import FUNCTIONS

__all__ = ["DEFAULTS", "FOOTPRINT_SCHEMA", "TEMPORARY_LAND_SCHEMA", "add_years", "footprint_facts",
           "temporary_land_facts", "term_years"]

FAMILY = "temporary"
#: Parameter defaults when the pack gives none.
DEFAULTS = {"sliver_m2": 1.0, "restoration_years": 1, "term_limit_years": 2,
            "linear_term_limit_years": 4}

FOOTPRINT_SCHEMA = {
    "id": "text", "geom_ok": "bool", "area_m2": "number",
    "approved_m2": "number",        # footprint on temporary approvals of any date
    "excess_m2": "number",          # footprint beyond every temporary approval (少批多占)
    "excess_frac": "number",
    "approval_ids": "list",         # approvals the footprint lies on (overlap > sliver)
    "approval_n": "number",
    "end_first": "date",            # earliest / latest end date of those approvals
    "end_last": "date",
    "restoration_due": "date",      # earliest end + restoration period
    "overdue_ids": "list",          # approvals whose restoration deadline has passed
    "overdue_m2": "number",         # footprint on those (and on no approval still in time)
    "overdue_days": "number",       # reference date − restoration_due, days
    "noncompliant_m2": "number",    # excess_m2 + overdue_m2 (disjoint parts)
}

TEMPORARY_LAND_SCHEMA = {
    "id": "text", "geom_ok": "bool", "area_m2": "number",
    "start": "date", "end": "date", "use": "text", "linear": "bool",
    "term_days": "number", "term_years": "number",
    "term_limit_years": "number", "term_limit_end": "date",
    "permanent_farmland_m2": "number", "permanent_farmland_frac": "number",
    "permanent_farmland_ids": "list",
}

_TRUE = {"true", "1", "是", "yes", "y", "t"}
_FALSE = {"false", "0", "否", "no", "n", "f"}


# ---------------------------------------------------------------- calendar helpers


def add_years(dates, years) -> np.ndarray:
    """``dates`` plus whole calendar ``years`` (month and day kept; 29 Feb → 28 Feb).

    Vectorised; NaT (or a null number of years) gives NaT. Uses the rule language's
    ``add_years`` so facts and rule conditions agree.

    >>> add_years(np.array(["2024-02-29", "2022-06-30"], dtype="datetime64[D]"), 1)
    array(['2025-02-28', '2023-06-30'], dtype='datetime64[D]')
    """
    d = pd.Series(np.asarray(dates, dtype="datetime64[D]"))
    n = pd.Series(np.broadcast_to(np.asarray(years, dtype=float), d.shape))
    return FUNCTIONS["add_years"].impl(d, n).to_numpy(dtype="datetime64[D]")


def term_years(start, end) -> np.ndarray:
    """Length of ``start``–``end`` in calendar years: whole years plus the fraction of the
    next year (2022-03-01 → 2024-03-01 is exactly 2; 4 years and 1 day is 4 + 1/366 when
    the next year has a 29 February).

    >>> start = np.array(["2022-03-01", "2019-07-01"], "datetime64[D]")
    >>> term_years(start, np.array(["2024-03-01", "2023-07-02"], "datetime64[D]")).round(4)
    array([2.    , 4.0027])
    """
    start = np.asarray(start, dtype="datetime64[D]")
    end = np.asarray(end, dtype="datetime64[D]")
    n = (end.astype("datetime64[Y]").astype(float) - start.astype("datetime64[Y]").astype(float))
    n[np.isnat(start) | np.isnat(end)] = np.nan
    n = np.where(add_years(start, n) > end, n - 1, n)
    a0, a1 = add_years(start, n), add_years(start, n + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (end - a0).astype(float) / (a1 - a0).astype(float)
    return np.where(np.isnat(a0), np.nan, n + frac)


# ---------------------------------------------------------------- shared helpers


def _family(params) -> dict:
    """The family's parameters over the defaults (accepts ``{family: {...}}`` or the family's
    own mapping)."""
    fam = params.get(FAMILY) if isinstance(params, Mapping) and isinstance(
        params.get(FAMILY), Mapping) else (params or {})
    return {**DEFAULTS, **dict(fam)}


def _whole(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) \
            or value < 0:
        raise RuleError(f"{FAMILY}.{name} must be a whole number of years ≥ 0, got {value!r}")
    return int(value)


def _base(feats, crs, method) -> tuple[pd.DataFrame, np.ndarray]:
    """``id``, ``geom_ok``, ``area_m2`` and the measurable geometries (None elsewhere)."""
    geoms = np.asarray(feats.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms)
    ok = ~missing & ~shapely.is_empty(or_empty(geoms)) & np.isin(shapely.get_type_id(geoms), [3, 6])
    ok &= shapely.is_valid(or_empty(geoms))
    work = np.where(ok, geoms, None)
    facts = pd.DataFrame(index=pd.RangeIndex(len(geoms)))
    ids = (feats["id"].astype("string").to_numpy() if "id" in feats.columns
           else (feats.index.astype(str)))
    facts["id"] = pd.array(ids, dtype="string")
    facts["geom_ok"] = ok
    facts["area_m2"] = np.where(ok, areas(work, crs, method), np.nan)
    return facts, work


def _dates(frame, col) -> np.ndarray:
    if col not in frame.columns:
        return np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    return pd.to_datetime(frame[col], errors="coerce").to_numpy().astype("datetime64[D]")


def _as_bool(values: pd.Series) -> pd.array:
    """是/否, true/false, 1/0 (any case) → nullable booleans; anything else → null."""
    text = values.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False).to_numpy()] = True
    out[text.isin(_FALSE).fillna(False).to_numpy()] = False
    return out.array


def _date_col(values: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(values, dtype="datetime64[D]").astype("datetime64[s]"))


def _difference(a, b) -> np.ndarray:
    """Row-wise ``a − b`` (``a`` where ``b`` is None; None where ``a`` is None)."""
    out = np.where(shapely.is_missing(b), a, None)
    both = ~shapely.is_missing(a) & ~shapely.is_missing(b)
    if both.any():
        out[both] = shapely.difference(a[both], b[both])
    return polygonal(out)


def _per_row_extreme(values: np.ndarray, rows: np.ndarray, n: int, how: str) -> np.ndarray:
    """Minimum or maximum datetime per row (NaT where a row has none)."""
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    keep = ~np.isnat(values)
    if keep.any():
        s = pd.Series(values[keep]).groupby(rows[keep])
        agg = s.min() if how == "min" else s.max()
        out[agg.index.to_numpy()] = agg.to_numpy().astype("datetime64[D]")
    return out


# ---------------------------------------------------------------- footprints


def footprint_facts(feats, layers, *, crs, params, reference_date,
                    area_method=DEFAULT_AREA_METHOD):
    """Facts and parts of observed temporary-land footprints (see :data:`FOOTPRINT_SCHEMA`).

    Parameters
    ----------
    feats : GeoDataFrame
        The footprints (``id``), in ``crs``.
    layers : dict of role → GeoDataFrame
        Must hold ``temporary_land`` (fields ``id``, ``end``).
    crs : CRS-like
        The working CRS.
    params : mapping
        Rule-pack parameters (``sliver_m2``, ``restoration_years``).
    reference_date : datetime.date
        The as-of date: approvals whose restoration deadline is before it are overdue.
    area_method : str or AreaMethod
        The run's official area method (:data:`landcheck.area.AREA_METHODS`).

    Returns
    -------
    (DataFrame, dict)
        The facts, and the parts ``beyond_approval`` and ``overdue`` (geometry per feature).
    """
    p = _family(params)
    sliver, years = float(p["sliver_m2"]), _whole(p["restoration_years"], "restoration_years")
    if "temporary_land" not in layers:
        raise InputError("temporary_footprints: the check needs the approvals; add "
                         "[layers.temporary_land] to the layer config")
    facts, work = _base(feats, crs, area_method)
    n = len(work)
    appr = layers["temporary_land"]
    ref_geoms = np.asarray(appr.geometry.values, dtype=object)
    ends = _dates(appr, "end")
    due = add_years(ends, years)
    pi, ri = pairs(work, ref_geoms)
    pieces = polygonal(clip(work, ref_geoms, pi, ri))
    has = ~shapely.is_missing(pieces)
    pi, ri, pieces = pi[has], ri[has], pieces[has]
    cover = polygonal(union_by(pieces, pi, n))
    excess = _difference(work, cover)
    on = areas(pieces, crs, area_method) > sliver  # the approvals a footprint lies on
    pi, ri, pieces = pi[on], ri[on], pieces[on]
    late = due[ri] < np.datetime64(reference_date, "D")
    overdue = _difference(polygonal(union_by(pieces[late], pi[late], n)),
                          polygonal(union_by(pieces[~late], pi[~late], n)))
    ids = feature_ids(appr, ri)
    facts["approved_m2"] = np.where(facts["geom_ok"], areas(cover, crs, area_method), np.nan)
    facts["excess_m2"] = np.where(facts["geom_ok"], areas(excess, crs, area_method), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        facts["excess_frac"] = facts["excess_m2"] / facts["area_m2"].where(facts["area_m2"] > 0)
    facts["approval_ids"] = lists_by(ids, pi, n)
    facts["approval_n"] = facts["approval_ids"].map(len).astype(float)
    facts["end_first"] = _date_col(_per_row_extreme(ends[ri], pi, n, "min"))
    facts["end_last"] = _date_col(_per_row_extreme(ends[ri], pi, n, "max"))
    first_due = _per_row_extreme(due[ri], pi, n, "min")
    facts["restoration_due"] = _date_col(first_due)
    facts["overdue_ids"] = lists_by(ids[late], pi[late], n)
    facts["overdue_m2"] = np.where(facts["geom_ok"], areas(overdue, crs, area_method), np.nan)
    days = (np.datetime64(reference_date, "D") - first_due).astype(float)
    facts["overdue_days"] = np.where(np.isnat(first_due), np.nan, days)
    facts["noncompliant_m2"] = facts["excess_m2"] + facts["overdue_m2"]
    return facts[list(FOOTPRINT_SCHEMA)], {"beyond_approval": excess, "overdue": overdue}


# ---------------------------------------------------------------- approvals


def temporary_land_facts(feats, layers, *, crs, params, reference_date=None,
                         area_method=DEFAULT_AREA_METHOD):
    """Facts and parts of temporary-land approvals (see :data:`TEMPORARY_LAND_SCHEMA`).

    The term limit is ``linear_term_limit_years`` where ``linear`` is true, else
    ``term_limit_years`` (a missing flag counts as not linear). Without a
    ``permanent_farmland`` layer the farmland facts are null (the rule cannot fire).

    Returns
    -------
    (DataFrame, dict)
        The facts, and the part ``on_permanent_farmland``.
    """
    p = _family(params)
    limit = _whole(p["term_limit_years"], "term_limit_years")
    linear_limit = _whole(p["linear_term_limit_years"], "linear_term_limit_years")
    facts, work = _base(feats, crs, area_method)
    n = len(work)
    start, end = _dates(feats, "start"), _dates(feats, "end")
    facts["start"], facts["end"] = _date_col(start), _date_col(end)
    facts["use"] = (feats["use"].astype("string").to_numpy() if "use" in feats.columns
                    else pd.array([None] * n, dtype="string"))
    facts["linear"] = (_as_bool(feats["linear"]) if "linear" in feats.columns
                       else pd.array([None] * n, dtype="boolean"))
    facts["term_days"] = np.where(np.isnat(start) | np.isnat(end), np.nan,
                                  (end - start).astype(float))
    facts["term_years"] = term_years(start, end)
    is_linear = facts["linear"].fillna(False).to_numpy(dtype=bool)
    facts["term_limit_years"] = np.where(is_linear, float(linear_limit), float(limit))
    facts["term_limit_end"] = _date_col(add_years(start, facts["term_limit_years"].to_numpy()))
    on_pf = np.full(n, None, dtype=object)
    if "permanent_farmland" in layers:
        pf = layers["permanent_farmland"]
        pf_geoms = np.asarray(pf.geometry.values, dtype=object)
        pi, ri = pairs(work, pf_geoms)
        pieces = polygonal(clip(work, pf_geoms, pi, ri))
        has = ~shapely.is_missing(pieces)
        on_pf = polygonal(union_by(pieces[has], pi[has], n))
        facts["permanent_farmland_m2"] = np.where(facts["geom_ok"],
                                                  areas(on_pf, crs, area_method), np.nan)
        facts["permanent_farmland_ids"] = lists_by(feature_ids(pf, ri[has]), pi[has], n)
    else:
        facts["permanent_farmland_m2"] = np.nan
        facts["permanent_farmland_ids"] = [[] for _ in range(n)]
    with np.errstate(invalid="ignore", divide="ignore"):
        facts["permanent_farmland_frac"] = (facts["permanent_farmland_m2"]
                                            / facts["area_m2"].where(facts["area_m2"] > 0))
    return facts[list(TEMPORARY_LAND_SCHEMA)], {"on_permanent_farmland": on_pf}


register_subject(SubjectCheck(subject="temporary_footprints", families=(FAMILY,),
                              schema=FOOTPRINT_SCHEMA, compute=footprint_facts,
                              needs=("temporary_land",)))
register_subject(SubjectCheck(subject="temporary_land", families=(FAMILY,),
                              schema=TEMPORARY_LAND_SCHEMA, compute=temporary_land_facts,
                              needs=()))
