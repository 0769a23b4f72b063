"""The steps of the screening chain: read, transform, facts, judge, provenance.

:func:`landcheck.screen`, the streamed run (:mod:`landcheck.stream`) and the subject checks
(:func:`landcheck.check`) are these steps in order; each step takes and returns plain
frames, so a caller can run them on the whole round or chunk by chunk:

1. :func:`as_layerset`, :func:`read_inputs` — the layer set and its layers, read;
2. :func:`decide_working_crs`, :func:`to_working_all` — one working CRS, everything in it;
3. :func:`run_facts` — the facts on the chosen engine (``local`` or ``dask``);
4. :func:`judge` — rules fired, the verdict table and the fragments;
5. :func:`provenance` — what the run read, decided and used.
"""

from __future__ import annotations

import datetime as _dt
import logging
import platform
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from landcheck._version import __version__
from landcheck.area import DEFAULT_AREA_METHOD, AreaMethod, area_method
from landcheck.children import (
    M2_PER_MU,
    MU_COLUMNS,
    child_plots,
    document_shares,
    dominant_cover,
)
from landcheck.engine import ENGINES
from landcheck.errors import InputError
from landcheck.official import classify
from landcheck.provenance import source_info
from landcheck.report.tables import VERDICT_ZH
from landcheck.roles import BUILTIN, RoleSet
from landcheck.unchecked import absent_roles, null_absent, warn_absent
from landcheck.verdicts import decide

log = logging.getLogger("landcheck.screen")

#: Fact columns copied into the verdict table (besides the split areas): the patch's own,
#: the built-in roles' reported facts (:attr:`landcheck.roles.RoleSet.verdict_facts`), the
#: cover and the remainder.
VERDICT_FACTS = (
    "area_m2",
    "reported_area_m2",
    "type_category",
    "geom_problem",
    "width_m",
    *BUILTIN.verdict_facts,
    "approved_m2",
    "approved_late_m2",
    "facility_m2",
    "temporary_m2",
    "cover_m2",
    "remainder_m2",
    "approval_ids",
    "approval_late_ids",
    "due_date",
    # the areas county forms report beside 耕地, 永久基本农田 and 生态保护红线
    "lu_paddy_m2",
    "land3_nonfarm_agricultural_m2",
    "land3_unused_m2",
    "land3_construction_m2",
    "lu_k_m2",
    "lu_unknown_classes",
)
DEFAULT_TOLERANCE_M = 0.1

__all__ = [
    "DEFAULT_TOLERANCE_M",
    "VERDICT_FACTS",
    "as_date",
    "as_layerset",
    "check_engine",
    "check_patch_frame",
    "decide_working_crs",
    "family_params",
    "fragments",
    "frame_values",
    "helmert_of",
    "judge",
    "provenance",
    "read_inputs",
    "roles_of",
    "run_facts",
    "to_working",
    "to_working_all",
    "tolerance_of",
    "verdict_table",
]


def as_layerset(layers):
    from landcheck.layers import LayerSet

    if isinstance(layers, LayerSet) or isinstance(layers, Mapping):
        return layers
    if isinstance(layers, str | Path):
        return LayerSet.from_config(layers)
    raise TypeError(
        f"layers must be a LayerSet, a TOML path or a dict of GeoDataFrames, "
        f"not {type(layers).__name__}"
    )


def roles_of(layerset) -> RoleSet:
    """The roles of a layer set: built-in and custom (a dict of frames has the built-in)."""
    if isinstance(layerset, Mapping):
        return BUILTIN
    return layerset.role_set


def read_inputs(patches, layerset, say):
    if isinstance(layerset, Mapping):
        # frames carry canonical columns; their values may still be codes or Chinese names
        from landcheck.layers import check_frame_geometry_types

        ref = {role: frame_values(g, role, f"layer {role!r} (a frame)")
               for role, g in layerset.items()}
        for role, g in ref.items():
            if role in BUILTIN and isinstance(g, gpd.GeoDataFrame):
                check_frame_geometry_types(g, BUILTIN[role], f"layer {role!r} (a frame)")
        if not isinstance(patches, gpd.GeoDataFrame):
            raise TypeError("with a dict of layers, patches must be a GeoDataFrame")
        patches = frame_values(patches, "patches", "patches (a frame)")
        check_frame_geometry_types(patches, BUILTIN["patches"], "patches (a frame)")
        return check_patch_frame(patches), ref
    from landcheck.layers import LayerSpec

    if isinstance(patches, gpd.GeoDataFrame):
        from landcheck.layers import check_frame_geometry_types

        check_frame_geometry_types(patches, BUILTIN["patches"], "patches (a frame)")
        patch_gdf = check_patch_frame(patches)
    else:
        spec = patches if isinstance(patches, LayerSpec) else layerset.patch_spec(patches)
        say(f"reading patches {spec.path}")
        patch_gdf = spec.read()
    ref = {}
    for role in layerset.roles:
        say(f"reading {role} {layerset.spec(role).path}")
        ref[role] = layerset.read(role)
    return patch_gdf, ref


def frame_values(frame, role: str, where: str):
    """A frame given to ``screen``/``check``: its values recognised by the vocabularies and
    its dates read by the date policy, as for a layer read through a config."""
    from landcheck.dates import dates_of_frame
    from landcheck.vocab import normalise_frame

    return dates_of_frame(normalise_frame(frame, role, where=where), role, where=where)


def check_patch_frame(gdf):
    if "id" not in gdf.columns:
        raise InputError(
            "patches: no `id` column; map the patch id field (e.g. JCBH) to `id` "
            "or read the patches through a layer set"
        )
    dup = gdf["id"][gdf["id"].duplicated()]
    if len(dup):
        from landcheck.errors import DuplicateIdError, format_ids

        raise DuplicateIdError(f"patches: duplicate ids {format_ids(dup.unique())}")
    if gdf.crs is None:
        raise InputError("patches: the GeoDataFrame has no CRS; set one with .set_crs(...)")
    return gdf


def decide_working_crs(patch_gdf, ref, layerset, working_crs):
    from landcheck.crs import choose_working_crs

    declared = working_crs
    if declared is None and not isinstance(layerset, Mapping):
        declared = layerset.crs
    items = [(patch_gdf.crs, tuple(patch_gdf.total_bounds))]
    items += [(g.crs, tuple(g.total_bounds)) for g in ref.values() if len(g)]
    return choose_working_crs(items, declared=declared)


def to_working_all(patch_gdf, ref, layerset, crs):
    out = {role: to_working(g, crs, role, helmert_of(layerset, role)) for role, g in ref.items()}
    patches = to_working(patch_gdf, crs, "patches", helmert_of(layerset, "patches"))
    from landcheck.extents import check_extents

    info = source_info(patches)
    check_extents(patches.total_bounds, out, crs,
                  what=str(info.path) if info is not None else "the patches", stacklevel=4)
    return patches, out


def helmert_of(layerset, role):
    """The Helmert parameters the layer set gives a role's source, if any."""
    if isinstance(layerset, Mapping):
        return None
    spec = layerset.patch_spec() if role == "patches" and layerset.patches else None
    spec = spec or (layerset.spec(role) if role in layerset else None)
    return spec.helmert if spec is not None else None


#: the patches' column of relative area changes by repairs after reprojection (facts/base.py)
REPAIR_COLUMN = "reprojection_change"


def to_working(gdf, crs, role, helmert):
    """A layer in the working CRS; messages name the role and its file."""
    from landcheck.crs import to_crs

    info = source_info(gdf)
    where = f"{role} ({info.path})" if info is not None else role
    # patches keep their repair's area change: legality.reprojection_repaired reads it
    column = REPAIR_COLUMN if role == "patches" else None
    return to_crs(gdf, crs, helmert=helmert, source=where, repair_column=column)


def check_engine(engine, scheduler, shared_dir, threads, chunk_size, partition="tiles") -> None:
    """Engine options are checked before anything is read."""
    if engine not in ENGINES:
        names = " or ".join(repr(e) for e in ENGINES)
        raise ValueError(f"engine must be {names}, got {engine!r}")
    given = {"scheduler": scheduler, "shared_dir": shared_dir, "partition": partition}
    stray = [k for k, v in given.items()
             if k not in ENGINES[engine].options and v is not None and v != "tiles"]
    if stray:
        raise TypeError("scheduler, shared_dir and partition apply to engine='dask' only")
    if partition not in ("tiles", "township"):
        raise ValueError(f"partition must be 'tiles' or 'township', got {partition!r}")
    for name, value in (("threads", threads), ("chunk_size", chunk_size)):
        if value is not None and int(value) < 1:
            raise ValueError(f"threads and chunk_size must be ≥ 1, got {name}={value}")


def run_facts(
    patches,
    ref,
    crs,
    tol,
    params,
    engine,
    *,
    threads,
    chunk_size,
    scheduler,
    shared_dir,
    partition,
    progress,
    roles=None,
    area_method=DEFAULT_AREA_METHOD,
):
    """The facts of every patch on the chosen engine of :data:`landcheck.engine.ENGINES`
    (``local``: :func:`landcheck.engine.facts_in_chunks`; ``dask``:
    :func:`landcheck.backends.dask.facts_on_dask`), which give identical facts."""
    spec = ENGINES.get(engine)
    if spec is None:  # check_engine says so first
        raise ValueError(f"engine must be one of {', '.join(map(repr, ENGINES))}, got {engine!r}")
    given = {"threads": threads, "scheduler": scheduler, "shared_dir": shared_dir,
             "partition": partition}
    return spec.run(patches, ref, crs=crs, tolerance_m=tol, params=params,
                    chunk_size=chunk_size, progress=progress, roles=roles,
                    area_method=area_method, **{k: given[k] for k in spec.options})


def area_method_of(given, layerset, pack) -> tuple[AreaMethod, str]:
    """The run's official area method and where it comes from: the ``area_method``
    argument, else the layer config's ``area_method``, else the rule pack's (whose default
    is ``survey3``)."""
    if given is not None:
        return area_method(given), "argument"
    if layerset is not None and getattr(layerset, "area_method", None):
        return area_method(layerset.area_method), f"config {layerset.source or ''}".strip()
    return area_method(getattr(pack, "area_method", DEFAULT_AREA_METHOD)), "rule pack"


def area_provenance(method: AreaMethod, source: str) -> dict:
    """The provenance record of an area method: its name, steps and where it was chosen."""
    return {"name": method.name, "from": source, "plane_decimals": method.plane_decimals,
            "densify_m": method.densify_m, "densify_decimals": method.densify_decimals,
            "seconds_decimals": method.seconds_decimals}


def family_params(pack) -> dict:
    from landcheck.checks import family_params

    return {fam: family_params(pack, fam) for fam in pack.families}


def tolerance_of(pack, tolerance_m):
    if tolerance_m is not None:
        return float(tolerance_m)
    for rule in pack.rules:
        if "tolerance_m" in rule.params:
            return float(rule.params["tolerance_m"])
    return DEFAULT_TOLERANCE_M


class DefaultDate(_dt.date):
    """Today's date, used because no reference date was given; the provenance records
    ``reference_date_how`` from it."""


def as_date(value) -> _dt.date:
    """The reference date: ``value`` as a date, or today's as a :class:`DefaultDate`."""
    if value is None:
        return DefaultDate.today()
    return pd.Timestamp(value).date()


def reference_date_how(ref_date: _dt.date) -> str:
    """How the reference date was decided, for the provenance."""
    if isinstance(ref_date, DefaultDate):
        return "default: today's date (no reference_date / --as-of given)"
    return "given (reference_date / --as-of)"


def verdict_table(patch_gdf, facts, decided, townships=None, roles=None) -> gpd.GeoDataFrame:
    """The verdict table: the patch file's own fields (:func:`source_fields`), then the
    patch's canonical fields, the decision, :data:`VERDICT_FACTS` (then the reported facts
    of ``roles``' custom roles), the ids of every zone feature the patch meets, and the
    main areas again in 亩 (:data:`MU_COLUMNS`)."""
    cols = {"id": facts["id"].to_numpy()}
    for c in ("township", "type", "before", "after", "level", "issued"):
        if c in facts.columns:
            cols[c] = facts[c].to_numpy()
    if townships is not None and {"id", "name"} <= set(townships.columns) and "township" in cols:
        names = dict(zip(townships["id"].astype(str), townships["name"].astype(str), strict=True))
        cols["township_name"] = (
            pd.Series(cols["township"])
            .map(lambda c: names.get(str(c)) if pd.notna(c) else None)
            .to_numpy()
        )
    table = pd.DataFrame(cols, index=facts.index)
    reported = [c for c in _verdict_facts(roles) if c in facts.columns]
    ids = [f"{r}_ids" for r in (roles or BUILTIN).zone_roles if f"{r}_ids" in facts.columns]
    table = pd.concat([table, decided, facts[reported + [c for c in ids if c not in reported]]],
                      axis=1)
    table = table.assign(**{f"{c[:-3]}_mu": table[c].to_numpy(dtype=float) / M2_PER_MU
                            for c in MU_COLUMNS if c in table.columns})
    source = source_fields(patch_gdf, table.columns)
    if len(source.columns):
        table = pd.concat([source.set_axis(table.index), table], axis=1)
    return gpd.GeoDataFrame(table, geometry=patch_gdf.geometry.to_numpy(), crs=patch_gdf.crs)


def source_fields(patch_gdf, taken) -> pd.DataFrame:
    """The patch file's own fields as read, in the file's order (those a layer config
    mapped, :data:`landcheck.layers.SOURCE_FIELDS_KEY`; for a frame given directly, its
    columns that are not canonical patch fields). One whose name a landcheck column also
    has (``taken``) is kept as ``src_<name>``."""
    from landcheck.layers import SOURCE_FIELDS_KEY

    names = patch_gdf.attrs.get(SOURCE_FIELDS_KEY)
    if names is None:
        canonical = set(BUILTIN["patches"].fields) | {patch_gdf.geometry.name} | DERIVED
        names = [c for c in patch_gdf.columns if c not in canonical]
    names = [c for c in names if c in patch_gdf.columns]
    from landcheck.io.write import dates_as_datetimes

    taken = set(taken)
    return dates_as_datetimes(pd.DataFrame(
        {(f"src_{c}" if c in taken else c): patch_gdf[c].to_numpy() for c in names},
        index=range(len(patch_gdf))))



#: Columns the reading step adds to a patch frame (not the bureau's fields).
DERIVED = frozenset({"type_category", "type_name", "class_scheme"})


def _verdict_facts(roles) -> tuple[str, ...]:
    if roles is None or not roles.custom:
        return VERDICT_FACTS
    return VERDICT_FACTS + tuple(f for r in roles.custom for f in r.reported)


#: What a missing layer that rules read does (:mod:`landcheck.unchecked`): ``warn`` — said
#: up front, "（未核查）" in reasons; ``review`` — also its facts null and the patches a rule on
#: it could make worse ``needs_review``.
MISSING_LAYERS = ("warn", "review")


def absent_layers(pack, layerset, roles, mode: str = "warn") -> dict:
    """Rule id → the roles it reads that ``layerset`` lacks, said once as a warning per layer
    (:mod:`landcheck.unchecked`), before anything is read; with ``mode="review"`` the dict
    also carries ``"@review": ()`` for :func:`judge`."""
    if mode not in MISSING_LAYERS:
        raise ValueError(f"missing_layers must be one of {MISSING_LAYERS}, not {mode!r}")
    configured = list(layerset) if isinstance(layerset, Mapping) else layerset.roles
    absent = absent_roles(pack.rules, configured, roles)
    warn_absent(absent, pack.name, roles, review=mode == "review")
    return {**absent, "@review": ()} if mode == "review" and absent else absent


def judge(patch_gdf, overlay, pack, run, townships, roles=None, absent=None):
    """From the facts: the rules fired, the verdict table (with the official categories and
    the covering documents' shares) and the child plots (for ``screen`` and for each chunk
    of a streamed run). ``absent``: :func:`absent_layers`."""
    absent = dict(absent or {})
    review = absent.pop("@review", None) is not None
    facts = null_absent(overlay.facts, absent, roles) if review else overlay.facts
    fired = pack.evaluate(facts, run=run)
    decided = decide(facts, fired, pack.rules, run=run, roles=roles, absent=absent,
                     review=review)
    pieces, doc_ids, doc_shares = document_shares(
        overlay.cover_pieces, len(facts), facts["area_m2"].to_numpy(dtype=float),
        patch_gdf.crs, overlay.area_method)
    official = classify(facts, fired, pack.rules, decided["verdict"].to_numpy(), pack.official,
                        cover_kind=dominant_cover(pieces), run=run)
    split = decided["split"].to_numpy(dtype=bool)
    official.insert(0, "verdict_zh", decided["verdict"].map(VERDICT_ZH).to_numpy())
    official["split_status"] = np.where(split, "被拆分", "未拆分")
    official["doc_ids"], official["doc_shares_pct"] = doc_ids, doc_shares
    verdicts = verdict_table(patch_gdf, facts, pd.concat([decided, official], axis=1),
                             townships, roles)
    return fired, verdicts, fragments(verdicts, overlay, pieces, pack.official)


def fragments(verdicts, overlay, pieces, scheme) -> gpd.GeoDataFrame:
    """The child plots (:func:`landcheck.children.child_plots`) of the verdict table."""
    geoms = np.asarray(verdicts.geometry.values, dtype=object)
    split = verdicts["split"].to_numpy(dtype=bool)
    rest = np.full(len(verdicts), None, dtype=object)
    if split.any():
        known = overlay.uncovered  # patch − cover, where the overlay already computed it
        known = np.full(len(verdicts), None, dtype=object) if known is None else known
        todo = split & shapely.is_missing(known)
        rest[split & ~todo] = known[split & ~todo]
        rest[todo] = shapely.difference(geoms[todo], overlay.cover[todo])
        rest[split] = np.where(shapely.is_empty(rest[split]), None, rest[split])
    frame = child_plots(verdicts, pieces, rest, overlay.parts, scheme, crs=verdicts.crs,
                        method=overlay.area_method)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=verdicts.crs)


def provenance(patch_gdf, ref, pack, crs_decision, tol, ref_date, t0, area=None) -> dict:
    import pyogrio
    import pyproj

    def info(g):
        si = source_info(g)
        return si.to_dict() if si is not None else {"path": None, "note": "in-memory frame"}

    return {
        "landcheck": __version__,
        "run_id": uuid.uuid4().hex,  # shared by the GeoPackage and the ledger of one run
        "run_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "reference_date": ref_date.isoformat(),
        "reference_date_how": reference_date_how(ref_date),
        "working_crs": crs_decision.label(),
        "working_crs_how": f"{crs_decision.how}: {crs_decision.detail}",
        "tolerance_m": tol,
        "area_method": area if area is not None else area_provenance(
            area_method(getattr(pack, "area_method", DEFAULT_AREA_METHOD)), "rule pack"),
        "rules": pack.to_dict(),
        "inputs": {"patches": info(patch_gdf), **{r: info(g) for r, g in ref.items()}},
        "versions": {
            "python": platform.python_version(),
            "shapely": shapely.__version__,
            "geos": shapely.geos_version_string,
            "pyproj": pyproj.__version__,
            "proj": pyproj.proj_version_str,
            "gdal": pyogrio.__gdal_version_string__,
            "geopandas": gpd.__version__,
            "pandas": pd.__version__,
            "numpy": np.__version__,
        },
        "seconds": round(time.perf_counter() - t0, 3),
    }
