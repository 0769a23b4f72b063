"""Consolidation-project plots: facts for the ``projects`` rules.

Two kinds of plot are judged (DOMAIN §6, "Consolidation projects"):

- **supplement** (占补平衡, adds farmland) plots must lie in the general agricultural zone
  (``general_ag_zone``);
- **linkage** (增减挂钩) demolition plots must lie in the village construction control zone
  (``village_zone``) and contain a main building (``buildings`` with ``kind == "main"``).

Kinds, crops and building kinds are canonical codes (``value_names.csv`` maps the Chinese
names and variants). A plot of a missing or unknown kind is judged by no kind's rules and
is named in ``kind_unknown``; a crop no vocabulary knows is named in ``crop_unknown``. A
building without a kind counts as a main building where its footprint inside the plot is
at least the pack's ``unlabelled_main_min_m2`` (without that parameter it never does); a
smaller one, and a building of an unknown kind, is named for review.

After acceptance (``accepted`` set) the plot must be farmland in the land-use layer (which
stands for the annual change survey updated before acceptance), paddy plots must carry
aquatic crops and linkage plots some crop. The city timetable is measured against the
year of approval.

Facts (one row per plot, same order as the plots)
-------------------------------------------------
``outside_m2``
    Plot minus the union of its kind's zone (null for a kind without a zone, or when the
    zone layer is absent); the geometry is the part ``outside``.
``main_building_n`` / ``main_building_m2`` / ``main_building_ids``
    Main buildings overlapping the plot with positive area, and the area of their union
    inside the plot; ``annex_building_n`` likewise for annexes. Buildings without a kind
    whose footprint inside the plot is at least ``unlabelled_main_min_m2`` count as main
    buildings and are also listed in ``main_building_inferred_ids`` (their number
    ``main_building_inferred_n``).
``building_unlabelled_n`` / ``building_unlabelled_ids``
    Buildings without a kind on the plot that are too small to count as main buildings.
``building_unknown_n`` / ``building_unknown_kinds``
    Buildings on the plot whose kind is neither main nor annex, and those kinds as written.
``kind_unknown`` / ``crop_unknown``
    The plot's kind as written where it is not a known kind (``（空）`` where missing), and
    its crop as written where it is given but not a known crop; null otherwise.
``farmland_after_m2`` / ``not_farmland_m2``
    Plot area on land-use parcels of the farmland group (``landcheck.vocab.landuse_group``)
    and the rest; the rest is the part ``not_farmland``.
``approval_due`` / ``implementation_due``
    Deadlines in the year of ``approved``, from the pack's month-day parameters
    ``approval_by``, ``supplement_by`` and ``linkage_by`` (text ``"MM-DD"``; a day past the
    month's end, e.g. ``"02-29"`` in a common year, becomes the month's last day). The
    rules compare dates with them, so the deadline day itself is in time.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import shapely

from landcheck.area import DEFAULT_AREA_METHOD
from landcheck.checks import SubjectCheck, register_subject
from landcheck.errors import RuleError
from landcheck.geometry.pairs import areas, clip, feature_ids, lists_by, pairs, union_by
from landcheck.geometry.parts import polygonal
from landcheck.vocab import SCHEME_COLUMN, landuse_group, scheme_of

__all__ = ["BUILDING_KINDS", "CROP_LABELS_ZH", "SCHEMA", "ZONE_OF_KIND", "compute_project_facts",
           "deadlines"]

#: Zone role each project kind must lie in.
ZONE_OF_KIND = {"supplement": "general_ag_zone", "linkage": "village_zone"}
#: Parameter (month-day text) giving each kind's implementation deadline.
DUE_PARAM_OF_KIND = {"supplement": "supplement_by", "linkage": "linkage_by"}

SCHEMA: dict[str, str] = {
    "id": "text", "kind": "text", "status": "text", "geom_ok": "bool", "area_m2": "number",
    "approved": "date", "implemented": "date", "accepted": "date",
    "approval_year": "number", "approval_due": "date", "implementation_due": "date",
    "zone_m2": "number", "outside_m2": "number",
    "main_building_n": "number", "main_building_m2": "number", "main_building_ids": "list",
    "annex_building_n": "number",
    "main_building_inferred_n": "number", "main_building_inferred_ids": "list",
    "building_unlabelled_n": "number", "building_unlabelled_ids": "list",
    "building_unknown_n": "number", "building_unknown_kinds": "list",
    "farmland_after_m2": "number", "not_farmland_m2": "number",
    "paddy": "bool", "crop": "text", "crop_zh": "text",
    "kind_unknown": "text", "crop_unknown": "text",
}
#: Chinese labels of the canonical crop evidence values (for reasons); its keys are the
#: crops the rules know.
CROP_LABELS_ZH = {"aquatic": "水生作物", "dry_crop": "旱作", "seedlings_up": "苗已出",
                  "not_planted": "未种植"}
#: Canonical building kinds (``buildings.kind``).
BUILDING_KINDS = ("main", "annex")
#: How a missing value is written where a fact names it.
MISSING = "（空）"

_MD_RE = re.compile(r"(\d{1,2})-(\d{1,2})")
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # leap-year lengths


def compute_project_facts(features, layers, *, crs, params, reference_date=None,
                          area_method=DEFAULT_AREA_METHOD):
    """Facts and measured parts of every project plot.

    Parameters
    ----------
    features : GeoDataFrame
        Project plots with canonical columns (``id``, ``kind``, ``approved``,
        ``implemented``, ``accepted``, ``status``, ``paddy``, ``crop``), in ``crs``.
    layers : dict of role → GeoDataFrame
        Reference layers in ``crs``; uses ``general_ag_zone``, ``village_zone``,
        ``buildings`` and ``landuse`` where present (absent → those facts are null).
    crs : pyproj.CRS or str
        The working (projected) CRS.
    params : dict of family → parameters
        Uses ``params["projects"]``: ``approval_by``, ``supplement_by``, ``linkage_by`` and
        ``unlabelled_main_min_m2``.
    reference_date : date, optional
        Unused: date rules compare with ``run.reference_date`` themselves.
    area_method : str or AreaMethod
        The run's official area method (:data:`landcheck.area.AREA_METHODS`).

    Returns
    -------
    facts : DataFrame
        Columns :data:`SCHEMA`, one row per plot.
    parts : dict
        ``{"outside": array, "not_farmland": array}`` of per-plot geometries (None where
        there is no such part).
    """
    p = dict(params.get("projects", {}))
    work, ok = _usable(features)
    n = len(work)
    facts = _attributes(features, ok)
    facts["area_m2"] = areas(work, crs, area_method)
    facts = pd.concat([facts, _deadline_facts(facts, p)], axis=1)
    zone, outside = _zone_facts(work, facts["kind"], layers, crs, area_method)
    facts["zone_m2"], facts["outside_m2"] = zone, _area_or_null(outside, zone, crs, area_method)
    buildings = _building_facts(work, layers.get("buildings"), crs, ok, area_method,
                                p.get("unlabelled_main_min_m2"))
    facts = pd.concat([facts, buildings], axis=1)
    farm, not_farm = _farmland_after(work, layers.get("landuse"), crs, area_method)
    facts["farmland_after_m2"] = np.where(ok, farm, np.nan) if farm is not None else np.nan
    facts["not_farmland_m2"] = (np.where(ok, areas(not_farm, crs, area_method), np.nan)
                                if not_farm is not None else np.nan)
    parts = {"outside": outside,
             "not_farmland": not_farm if not_farm is not None else np.full(n, None, dtype=object)}
    return _typed(facts), parts


def deadlines(dates: pd.Series, month_day: str) -> pd.Series:
    """The day ``month_day`` (``"MM-DD"``) in the year of each date.

    A day past the month's end becomes the month's last day (``"02-29"`` → 28 February in
    a common year); null dates give null.

    >>> d = pd.Series(pd.to_datetime(["2023-04-20", "2024-01-05", None]))
    >>> deadlines(d, "02-29").dt.strftime("%Y-%m-%d").tolist()
    ['2023-02-28', '2024-02-29', nan]
    """
    month, day = _month_day(month_day)
    years = pd.to_datetime(dates).dt.year.to_numpy(dtype=float)
    has = ~np.isnan(years)
    start = np.full(len(years), np.datetime64("NaT"), dtype="datetime64[M]")
    start[has] = ((years[has].astype(np.int64) - 1970) * 12 + month - 1).astype("datetime64[M]")
    first = start.astype("datetime64[D]")
    length = (start + 1).astype("datetime64[D]") - first
    offset = np.minimum(np.timedelta64(day - 1, "D"), length - np.timedelta64(1, "D"))
    return pd.Series((first + offset).astype("datetime64[s]"), index=dates.index)


# ---------------------------------------------------------------- steps


def _usable(features):
    """Plot geometries that can be measured (valid, polygonal, non-empty), else None."""
    geoms = np.asarray(features.geometry.values, dtype=object)
    present = ~shapely.is_missing(geoms)
    ok = present.copy()
    ok[present] = (~shapely.is_empty(geoms[present]) & shapely.is_valid(geoms[present])
                   & np.isin(shapely.get_type_id(geoms[present]), [3, 6]))
    return np.where(ok, geoms, None), ok


def _attributes(features, ok) -> pd.DataFrame:
    n = len(features)
    out = pd.DataFrame(index=pd.RangeIndex(n))

    def col(name):
        if name in features.columns:
            return features[name].reset_index(drop=True)
        return pd.Series([None] * n, index=out.index, dtype=object)

    out["id"] = col("id").astype("string")
    out["kind"] = col("kind").astype("string").str.strip()
    out["status"] = col("status").astype("string")
    out["geom_ok"] = ok
    for name in ("approved", "implemented", "accepted"):
        out[name] = pd.to_datetime(col(name), errors="coerce")
    out["paddy"] = col("paddy").astype("boolean")
    out["crop"] = col("crop").astype("string").str.strip()
    out["crop_zh"] = out["crop"].map(lambda c: CROP_LABELS_ZH.get(c, c)).astype("string")
    kind = out["kind"].fillna("")
    out["kind_unknown"] = kind.where(~kind.isin(list(ZONE_OF_KIND))).replace("", MISSING)
    crop = out["crop"].fillna("")
    out["crop_unknown"] = crop.where((crop != "") & ~crop.isin(list(CROP_LABELS_ZH)))
    return out


def _deadline_facts(facts, p) -> pd.DataFrame:
    out = pd.DataFrame(index=facts.index)
    approved = facts["approved"]
    out["approval_year"] = approved.dt.year.astype("Float64")
    nat = pd.Series(pd.NaT, index=facts.index, dtype="datetime64[s]")
    out["approval_due"] = deadlines(approved, p["approval_by"]) if "approval_by" in p else nat
    due = nat.copy()
    for kind, name in DUE_PARAM_OF_KIND.items():
        rows = (facts["kind"] == kind).fillna(False).to_numpy()
        if name in p and rows.any():
            due[rows] = deadlines(approved[rows], p[name])
    out["implementation_due"] = due
    return out


def _zone_facts(work, kinds, layers, crs, area_method):
    """Area inside the kind's zone, and the part outside it (None where nothing is)."""
    n = len(work)
    zone = np.full(n, np.nan)
    outside = np.full(n, None, dtype=object)
    kinds = kinds.fillna("").to_numpy(dtype=object)
    for kind, role in ZONE_OF_KIND.items():
        rows = np.flatnonzero((kinds == kind) & ~shapely.is_missing(work))
        if role not in layers or not len(rows):
            continue
        sub = work[rows]
        inside = _inside(sub, layers[role])
        zone[rows] = areas(inside, crs, area_method)
        rest = np.where(shapely.is_missing(inside), sub, None)
        both = ~shapely.is_missing(inside)
        if both.any():
            rest[both] = shapely.difference(sub[both], inside[both])
        outside[rows] = polygonal(rest)
    return zone, outside


def _inside(work, ref) -> np.ndarray:
    """Per geometry, the union of its pieces inside the reference features (None if none)."""
    ref_geoms = np.asarray(ref.geometry.values, dtype=object)
    pi, ri = pairs(work, ref_geoms)
    return polygonal(union_by(clip(work, ref_geoms, pi, ri), pi, len(work)))


def _area_or_null(parts, measured, crs, area_method) -> np.ndarray:
    """Area of ``parts`` where ``measured`` is known, else null."""
    return np.where(np.isnan(measured), np.nan, areas(parts, crs, area_method))


def _building_facts(work, buildings, crs, ok, area_method, unlabelled_min_m2) -> pd.DataFrame:
    """Main, annex, unlabelled and unknown-kind buildings standing on each plot (a piece of
    positive area inside it); a building without a kind is a main building where its piece
    is at least ``unlabelled_min_m2`` (never where that is None)."""
    n = len(work)
    out = pd.DataFrame(index=pd.RangeIndex(n))
    numbers = ("main_building_n", "main_building_m2", "annex_building_n",
               "main_building_inferred_n", "building_unlabelled_n", "building_unknown_n")
    if buildings is None:
        for c in numbers:
            out[c] = np.nan
        for c in ("main_building_ids", "main_building_inferred_ids", "building_unlabelled_ids",
                  "building_unknown_kinds"):
            out[c] = [[] for _ in range(n)]
        return out
    kind = (buildings["kind"].astype("string").str.strip() if "kind" in buildings.columns
            else pd.Series(pd.NA, index=buildings.index, dtype="string")).fillna("")
    kind = kind.to_numpy(dtype=object)
    geoms = np.asarray(buildings.geometry.values, dtype=object)
    pi, ri = pairs(work, geoms)
    pieces = polygonal(clip(work, geoms, pi, ri))
    footprint = areas(pieces, crs, area_method)
    positive = footprint > 0  # touching the plot is not standing on it
    k = kind[ri]
    unlabelled = (k == "") & positive
    inferred = unlabelled & (footprint >= unlabelled_min_m2 if unlabelled_min_m2 is not None
                             else np.zeros(len(pi), dtype=bool))
    is_main = ((k == "main") & positive) | inferred
    is_annex = (k == "annex") & positive
    unknown = ~np.isin(k, ["", *BUILDING_KINDS]) & positive
    small = unlabelled & ~inferred
    ids = feature_ids(buildings, ri)

    def count(mask):
        return np.where(ok, np.bincount(pi[mask], minlength=n), np.nan)

    out["main_building_n"] = count(is_main)
    union = union_by(pieces[is_main], pi[is_main], n)
    out["main_building_m2"] = np.where(ok, areas(polygonal(union), crs, area_method), np.nan)
    out["main_building_ids"] = lists_by(ids[is_main], pi[is_main], n)
    out["annex_building_n"] = count(is_annex)
    out["main_building_inferred_n"] = count(inferred)
    out["main_building_inferred_ids"] = lists_by(ids[inferred], pi[inferred], n)
    out["building_unlabelled_n"] = count(small)
    out["building_unlabelled_ids"] = lists_by(ids[small], pi[small], n)
    out["building_unknown_n"] = count(unknown)
    out["building_unknown_kinds"] = lists_by(k[unknown], pi[unknown], n)
    return out


def _farmland_after(work, landuse, crs, area_method):
    """Area on farmland-group parcels and the part of each plot that is not farmland."""
    if landuse is None or "class" not in landuse.columns:
        return None, None
    codes = landuse["class"].astype("string").str.strip().str.upper()
    group = landuse_group(codes, scheme=scheme_of(landuse), source="landuse",
                          warn=SCHEME_COLUMN not in landuse.columns)
    farm = (group == "farmland").fillna(False).to_numpy()
    farmland = _inside(work, landuse[farm])
    area = areas(farmland, crs, area_method)
    rest = np.where(shapely.is_missing(farmland), work, None)
    both = ~shapely.is_missing(farmland)
    if both.any():
        rest[both] = shapely.difference(work[both], farmland[both])
    return area, polygonal(rest)


def _month_day(text) -> tuple[int, int]:
    m = _MD_RE.fullmatch(str(text).strip())
    month, day = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    if not (1 <= month <= 12 and 1 <= day <= _MONTH_DAYS[month - 1]):
        raise RuleError(f"projects: deadline {text!r} must be a month and day 'MM-DD', "
                        "e.g. '05-31'")
    return month, day


def _typed(facts: pd.DataFrame) -> pd.DataFrame:
    """Columns in schema order with the dtypes the rule engine expects."""
    out = facts[list(SCHEMA)].copy()
    for col, kind in SCHEMA.items():
        if kind == "number":
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
        elif kind == "date":
            out[col] = pd.to_datetime(out[col], errors="coerce").astype("datetime64[s]")
    return out


register_subject(SubjectCheck(
    subject="projects", families=("projects",), schema=SCHEMA, compute=compute_project_facts,
    needs=("general_ag_zone", "village_zone", "buildings", "landuse")))
