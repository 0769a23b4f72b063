""":func:`compute_facts`: patches × reference layers → one row of facts per patch."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from landcheck.area import DEFAULT_AREA_METHOD
from landcheck.collector import cyclic_gc_paused
from landcheck.facts.base import patch_base
from landcheck.facts.covers import cover_facts
from landcheck.facts.landuse import landuse_facts
from landcheck.facts.providers import provided_facts
from landcheck.facts.schema import fact_schema
from landcheck.facts.zones import class_facts, zone_facts
from landcheck.geometry.pairs import Measure
from landcheck.roles import BUILTIN, RoleSet
from landcheck.vocab import LANDUSE_GROUPS

__all__ = ["OverlayResult", "compute_facts"]


@dataclass
class OverlayResult:
    """Facts (one row per patch, same order as the patches) and the split geometries."""

    facts: pd.DataFrame
    cover: np.ndarray  # legal cover geometry per patch (None where no cover)
    remainder: np.ndarray  # remainder geometry per patch (None where nothing remains)
    schema: dict[str, str] = field(default_factory=dict)
    parts: dict[str, np.ndarray] = field(default_factory=dict)  # extra measured parts by name
    #: patch − cover where the remainder step computed exactly that difference (no later
    #: approval or construction land under the patch), else None: the fragments reuse it
    uncovered: np.ndarray | None = None
    #: the official area method of every area here (:data:`landcheck.area.AREA_METHODS`)
    area_method: object = DEFAULT_AREA_METHOD
    #: the legal cover piece by piece: one row per patch and covering feature
    #: (:data:`landcheck.facts.covers.COVER_PIECE_COLUMNS`; ``row`` is the patch's row)
    cover_pieces: pd.DataFrame | None = None


def compute_facts(
    patches,
    layers: dict,
    *,
    crs,
    tolerance_m: float = 0.1,
    params: dict | None = None,
    roles: RoleSet | None = None,
    area_method=DEFAULT_AREA_METHOD,
) -> OverlayResult:
    """Measure every patch against every reference layer.

    Parameters
    ----------
    patches : GeoDataFrame
        Patches with canonical columns (``id``, ``type``, ``after`` …), in ``crs``.
    layers : dict of role → GeoDataFrame
        Reference layers with canonical columns, in ``crs``.
    crs : pyproj.CRS or str
        The working (projected) CRS.
    tolerance_m : float
        Positional tolerance: remainder parts thinner than this are slivers.
    params : dict of family → parameters, optional
        Rule-pack parameters for the registered patch fact providers
        (:data:`landcheck.checks.PATCH_FACT_PROVIDERS`).
    roles : RoleSet, optional
        The roles of the layer set (:attr:`landcheck.LayerSet.role_set`); its custom zone
        roles are measured like the built-in zones, their facts after the built-in ones.
        Default: the built-in roles.
    area_method : str or AreaMethod
        The official area method of every area measured (:data:`landcheck.area.AREA_METHODS`;
        default ``"survey3"``).
    """
    with cyclic_gc_paused():
        return _compute_facts(patches, layers, crs, tolerance_m, params, roles or BUILTIN,
                              area_method)


def _compute_facts(patches, layers, crs, tolerance_m, params, roles, method) -> OverlayResult:
    geoms = np.asarray(patches.geometry.values, dtype=object)
    facts = patch_base(patches, geoms, crs, method)
    ok = facts["geom_ok"].to_numpy()
    work = np.where(ok, geoms, None)
    m = Measure(work, facts["area_m2"].to_numpy(), crs, method)
    unions: dict[str, np.ndarray] = {}
    for role in roles.zone_roles:
        if role in layers:
            cols, union = zone_facts(work, layers[role], role, m, role in roles.union_roles)
            facts = facts.join(cols)
            if union is not None:
                unions[role] = union
    if "forest" in layers and "class" in layers["forest"].columns:
        facts = facts.join(class_facts(work, layers["forest"], "forest", m))
    built = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object))
    farm_pieces = None
    if "landuse" in layers:
        pf = unions.get("permanent_farmland")
        pf_area = facts["permanent_farmland_m2"].to_numpy() if pf is not None else None
        cols, built, farm_pieces = landuse_facts(work, layers["landuse"], pf, pf_area, m)
        facts = facts.join(cols)
    category = (
        facts["type_category"].astype(object).to_numpy()
        if "type_category" in facts
        else np.full(len(work), None, dtype=object)
    )
    shares = [(s.role, s.remainder) for s in roles.shares if s.role in roles.union_roles]
    cover, remainder, uncovered, cols, pieces = cover_facts(
        work, patches, category, layers, unions, shares, built, farm_pieces, facts, m,
        tolerance_m
    )
    facts = _fractions(facts.join(cols), roles.zone_roles)
    parts: dict[str, np.ndarray] = {}
    facts = provided_facts(work, patches, facts, layers, crs, params or {}, parts, method)
    schema = fact_schema(roles)
    facts = _complete(facts, schema)
    return OverlayResult(
        facts=facts,
        cover=cover,
        remainder=remainder,
        schema=schema,
        parts=parts,
        uncovered=uncovered,
        area_method=method,
        cover_pieces=pieces,
    )


def _fractions(facts: pd.DataFrame, zone_roles) -> pd.DataFrame:
    area = facts["area_m2"].to_numpy()
    if "lu_farmland_m2" in facts:
        pf = facts["permanent_farmland_m2"] if "permanent_farmland_m2" in facts else 0.0
        facts = facts.assign(
            farmland_or_pf_m2=facts["lu_farmland_m2"] + pf - facts["lu_farmland_pf_m2"]
        )
    names = (
        [f"{r}_m2" for r in zone_roles]
        + [f"lu_{g}_m2" for g in LANDUSE_GROUPS]
        + ["cover_m2", "remainder_m2"]
    )
    extra = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for col in names:
            if col in facts.columns:
                extra[col[:-3] + "_frac"] = np.where(area > 0, facts[col].to_numpy() / area, np.nan)
    return pd.concat([facts, pd.DataFrame(extra, index=facts.index)], axis=1)


def _complete(facts: pd.DataFrame, schema: dict[str, str]) -> pd.DataFrame:
    """Add every schema column that is missing (null), in schema order."""
    n = len(facts)
    extra = {}
    for col, kind in schema.items():
        if col in facts.columns:
            continue
        if kind == "number":
            extra[col] = np.full(n, np.nan)
        elif kind == "date":
            extra[col] = pd.Series(pd.NaT, index=facts.index, dtype="datetime64[ns]")
        elif kind == "list":  # null, like every fact of a role that is not configured
            extra[col] = pd.Series([None] * n, index=facts.index, dtype=object)
        elif kind == "text":  # (all-null arrays made whole, not from a list of Nones)
            extra[col] = pd.Series(pd.NA, index=facts.index, dtype="string")
        else:
            extra[col] = pd.Series(pd.NA, index=facts.index, dtype="boolean")
    out = pd.concat([facts, pd.DataFrame(extra, index=facts.index)], axis=1)
    return out[list(schema) + [c for c in out.columns if c not in schema]]
