"""``check``: judge features other than patches (project plots, temporary land, plans …).

Same chain as :func:`landcheck.screen`: rules are loaded and checked first, layers read,
one working CRS, facts (geometry only here) → rules of the pack whose ``subject`` is the
role → verdicts with reasons and areas → the same result object and writers.
"""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landcheck.area import official_area
from landcheck.errors import InputError
from landcheck.verdicts import decide

__all__ = ["NO_FINDING", "check"]

#: A feature on which no rule fires is compliant.
NO_FINDING = ("engine.no_finding", "legal", "未发现问题", "no finding")


def check(subject: str, layers, rules="city2023", *, overrides=None, working_crs=None,
          reference_date=None, progress=None, area_method=None):
    """Judge every feature of the role ``subject`` with the pack's rules for it.

    Parameters
    ----------
    subject : str
        A registered subject: ``"projects"``, ``"temporary_land"``,
        ``"temporary_footprints"``, ``"development_plans"`` (see
        :data:`landcheck.checks.SUBJECTS`).
    layers : LayerSet or path to a TOML layer config
    rules, overrides, working_crs, reference_date, area_method
        As for :func:`landcheck.screen`. ``reference_date`` is the as-of date of
        date-based rules (default: today).

    Returns
    -------
    ScreenResult
        ``verdicts`` has one row per feature; ``fragments`` the measured parts
        (e.g. the part outside the allowed zone) with the feature's verdict.

    Examples
    --------
    The land-consolidation projects of the demo county:

    >>> import landcheck
    >>> from landcheck.testing import AS_OF, SAMPLES
    >>> result = landcheck.check("projects", SAMPLES / "county.toml", reference_date=AS_OF)
    >>> result.verdicts["verdict"].value_counts().sort_index().to_dict()
    {'illegal': 9, 'legal': 8, 'needs_review': 10}
    """
    from landcheck import chain as ch
    from landcheck.checks import SUBJECTS, load_builtin_checks
    from landcheck.screen import ScreenResult, load_rules

    t0 = time.perf_counter()
    say = progress or (lambda msg: ch.log.info(msg))
    load_builtin_checks()
    if subject not in SUBJECTS:
        raise InputError(f"unknown subject {subject!r}; checks exist for: "
                         f"{', '.join(sorted(SUBJECTS)) or 'none'}")
    spec = SUBJECTS[subject]
    full = load_rules(rules, overrides=overrides)
    pack = full.for_subject(subject)
    if not pack.rules:
        raise InputError(f"rule pack {full.name} has no rules for subject {subject!r}")
    layerset = ch.as_layerset(layers)
    if subject not in layerset:
        where = getattr(layerset, "source", None) or "layers"
        raise InputError(f"{where}: no layer for role {subject!r}; add [layers.{subject}] to "
                         "the config (or the frame to the dict) to run this check")
    say(f"reading {subject} and reference layers")
    if isinstance(layerset, dict):  # frames: values recognised as for config layers
        feats = ch.frame_values(layerset[subject], subject, f"layer {subject!r} (a frame)")
        refs = {r: ch.frame_values(g, r, f"layer {r!r} (a frame)")
                for r, g in layerset.items() if r != subject}
    else:
        feats = layerset.read(subject)
        refs = {r: layerset.read(r) for r in layerset.roles if r != subject}
    crs_decision = ch.decide_working_crs(feats, refs, layerset, working_crs)
    feats, refs = ch.to_working_all(feats, refs, layerset, crs_decision.crs)
    ref_date = ch.as_date(reference_date)
    method, method_from = ch.area_method_of(area_method, layerset, full)
    facts, parts = spec.compute(feats, refs, crs=crs_decision.crs,
                                params=ch.family_params(full), reference_date=ref_date,
                                area_method=method)
    run = {"reference_date": pd.Timestamp(ref_date), "year": ref_date.year}
    fired = pack.evaluate(facts, run=run, subject=subject)
    decided = decide(facts, fired, pack.rules, default=NO_FINDING, run=run)
    geometry = parts.pop("geometry", None)
    verdicts = _verdict_table(feats, facts, decided, geometry)
    fragments = _fragments(facts, decided, parts, crs_decision.crs, method)
    prov = ch.provenance(feats, refs, full, crs_decision, None, ref_date, t0,
                         ch.area_provenance(method, method_from))
    prov["subject"] = subject
    return ScreenResult(verdicts=verdicts, fragments=fragments, facts=facts, fired=fired,
                           provenance=prov, pack=pack)


def _verdict_table(feats, facts, decided, geometry=None) -> gpd.GeoDataFrame:
    """One row per facts row; its geometry is ``geometry`` when the check groups features
    (e.g. plan parts into plans), else the features' own."""
    table = pd.concat([facts, decided], axis=1)
    geoms = feats.geometry.to_numpy() if geometry is None else np.asarray(geometry, dtype=object)
    if len(geoms) != len(table):
        raise RuntimeError(f"check returned {len(table)} facts rows but {len(geoms)} geometries")
    return gpd.GeoDataFrame(table, geometry=geoms, crs=feats.crs)


def _fragments(facts, decided, parts, crs, method) -> gpd.GeoDataFrame:
    frames = []
    for name, geoms in parts.items():
        geoms = np.asarray(geoms, dtype=object)
        has = ~shapely.is_missing(geoms) & ~shapely.is_empty(
            np.where(shapely.is_missing(geoms), shapely.Polygon(), geoms))
        rows = np.flatnonzero(has)
        area = official_area(geoms[rows], crs=crs, method=method) if len(rows) else np.zeros(0)
        frames.append(pd.DataFrame({"id": facts["id"].to_numpy()[rows], "part": name,
                                    "verdict": decided["verdict"].to_numpy()[rows],
                                    "area_m2": area, "geometry": geoms[rows]}))
    frame = (pd.concat(frames, ignore_index=True) if frames else
             pd.DataFrame({"id": [], "part": [], "verdict": [], "area_m2": [], "geometry": []}))
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)
