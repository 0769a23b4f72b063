"""Patches × reference layers → facts: the only stage that touches geometry.

For each patch and each reference role the overlay measures the intersection
area (official ellipsoidal area, m²), the fraction of the patch, the ids hit and
how many. Overlapping features inside one role are never double counted: the
area of a patch on a role is the area of the union of its pieces. For the
land-use layer it measures the area per land-class group and per planting
attribute. For the covering roles (approvals, facility agriculture, temporary
land) it builds the legal cover of the patch and the **remainder** (patch minus
cover), with slivers thinner than the positional tolerance removed, and
measures the remainder on permanent farmland, farmland and the red line.

Everything is vectorised: an ``STRtree`` query gives the intersecting
patch–feature pairs, one call clips all pairs (:func:`landcheck.pairclip.clip_pairs`: the
pieces are linked from the outlines' chains, GEOS clips the pairs not in general position),
and per-patch unions are done only for patches hit by two or more features. Where only
the *area* of a piece is needed (land-use parcels, farmland under permanent farmland, the
remainder's shares) it is measured from the two outlines without building the piece
(:func:`landcheck.pairarea.overlap_areas`; GEOS for degenerate pairs). A pair whose
feature contains the patch (tested with prepared copies where the feature's bounding box holds the
patch's) takes the patch itself — the same object — as its piece; unions, covers
and remainders that are the whole patch stay that object, and their areas and
further overlays are looked up or skipped (:class:`_Measure`). Python's cyclic
garbage collector is paused while facts are computed.

Notes
-----
All geometries must already be in the run's working CRS (a projected CRS);
areas are computed on the ellipsoid of that CRS's datum (see
:func:`landcheck.area.official_area`). Fact columns are documented in
:data:`FACT_DOCS`.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from landcheck._objects import object_ids
from landcheck.area import official_area
from landcheck.measure import strip_width
from landcheck.vocab import (
    LANDUSE_GROUPS,
    landuse_group,
    patch_category,
    patch_type_name,
    temporary_uses,
)

__all__ = ["FACT_DOCS", "ZONE_ROLES", "OverlayResult", "compute_facts", "fact_schema"]

#: Roles measured as plain zones: area, fraction, ids, count.
ZONE_ROLES = (
    "permanent_farmland",
    "eco_redline",
    "town_boundary",
    "village_zone",
    "general_ag_zone",
    "forest",
    "geohazard",
    "minerals",
    "buildings",
)
#: Roles that can make (part of) a patch legal.
COVER_ROLES = ("approvals", "facility_ag", "temporary_land")
#: Facility kinds that do not cover permanent farmland (DOMAIN §6).
FACILITY_NOT_ON_PF = ("livestock", "aquaculture")
PLANTING_CODES = ("LS", "FLS", "LYFL", "LLJZ", "XG", "WG")
#: Canonical forest classes (map raw values with the layer's ``values`` table); others → other.
FOREST_CLASSES = ("public_welfare_national", "public_welfare_provincial", "commercial", "other")

FACT_DOCS: dict[str, str] = {
    "area_m2": "official (ellipsoidal) area of the patch, m²",
    "geom_ok": "patch geometry is a valid, non-empty polygon",
    "geom_problem": "why the geometry cannot be judged (empty/invalid/not polygonal), else null",
    "type_category": "category of the patch type code (patch_types.csv); 'unknown' if not listed",
    "type_name": "Chinese name of the patch type (patch_types.csv), for reasons",
    "width_m": "strip width of the patch (equivalent-rectangle width from area and perimeter), m",
    "<role>_m2": "area of the union of the role's features inside the patch, m²",
    "<role>_frac": "<role>_m2 / area_m2",
    "<role>_n": "number of the role's features hit",
    "<role>_ids": "ids of the role's features hit (list)",
    "lu_<group>_m2": "area of the patch on land-use parcels of that group, m²",
    "lu_k_m2": "area on 'K' (adjustable) land-use codes, m²",
    "lu_classes": "land-use codes hit (list)",
    "planting_<code>_m2": "area on farmland with planting attribute <code> (LS, FLS …), m²",
    "forest_<class>_m2": "area on forest of that class, m²",
    "approved_m2": "area covered by approvals dated no later than the after-date, m²",
    "approved_late_m2": "area covered only by approvals dated after the after-date (先建后批), m²",
    "facility_m2": "area covered by facility-agriculture filings that count as cover, m²",
    "facility_on_pf_m2": "livestock/aquaculture facility area on permanent farmland (no cover)",
    "temporary_m2": "area covered by temporary-land approvals in force at the after-date",
    "temporary_use_bad_m2": "area inside temporary land in force whose approved use differs",
    "temporary_expired_m2": "area covered only by temporary approvals expired at the after-date",
    "lu_farmland_pf_m2": "farmland (land-use group) on permanent farmland, m²",
    "general_farmland_m2": "farmland not on permanent farmland, m²",
    "farmland_or_pf_m2": "area on farmland or permanent farmland (union), m²",
    "planting_FLS_pf_m2": "non-grain (FLS) farmland on permanent farmland, m²",
    "built_m2": "area on land that is already construction land in the land-use layer, m²",
    "cut_m": "length of the line between the remainder and the rest of the patch, m",
    "cover_m2": "union of all legal cover, m²",
    "remainder_m2": "patch minus legal cover, slivers removed, m²",
    "remainder_pf_m2": "remainder on permanent farmland, m²",
    "remainder_farmland_m2": "remainder on farmland (land-use group farmland), m²",
    "remainder_redline_m2": "remainder on the ecological red line, m²",
}


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


_GC_LOCK = threading.Lock()
_GC_USERS = [0, False]  # calls inside, and whether the collector was enabled before the first


@contextlib.contextmanager
def _cyclic_gc_paused():
    """Pause Python's cyclic garbage collector while facts are computed.

    The overlay allocates a few container objects per pair (lists, tuples, geometry
    wrappers), which triggers full collections that walk every live object — millions when a
    province's layers are loaded — and find next to nothing: reference counting frees the
    overlay's objects at once. Measured: 6–7 % of ``compute_facts`` on the medium and large
    synthetic counties. The collector is re-enabled (if it was enabled) when the last
    concurrent call leaves — threads of the local engine share one pause.

    What was allocated during the pause and is still alive (the results: facts, lists of
    ids, geometries) would all sit in the youngest generation, and the first allocation
    after the pause would walk them (0.1 s after a 100,000-patch screen). They are moved to
    the oldest generation instead (``gc.freeze`` then ``gc.unfreeze``), where the collector
    looks only when it runs a full collection; the few cycles pandas leaves are freed then.
    That is skipped when the process has frozen objects of its own (``gc.freeze`` used by
    a pre-forking server): unfreezing would release them.
    """
    with _GC_LOCK:
        if _GC_USERS[0] == 0:
            _GC_USERS[1] = gc.isenabled()
            gc.disable()
        _GC_USERS[0] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_USERS[0] -= 1
            if _GC_USERS[0] == 0 and _GC_USERS[1]:
                if gc.get_freeze_count() == 0:
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()


def compute_facts(
    patches, layers: dict, *, crs, tolerance_m: float = 0.1, params: dict | None = None
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
    """
    with _cyclic_gc_paused():
        return _compute_facts(patches, layers, crs, tolerance_m, params)


def _compute_facts(patches, layers, crs, tolerance_m, params) -> OverlayResult:
    geoms = np.asarray(patches.geometry.values, dtype=object)
    facts = _patch_base(patches, geoms, crs)
    ok = facts["geom_ok"].to_numpy()
    work = np.where(ok, geoms, None)
    m = _Measure(work, facts["area_m2"].to_numpy(), crs)
    unions: dict[str, np.ndarray] = {}
    for role in ZONE_ROLES:
        if role in layers:
            cols, union = _zone_facts(work, layers[role], role, m)
            facts = facts.join(cols)
            if union is not None:
                unions[role] = union
    if "forest" in layers and "class" in layers["forest"].columns:
        facts = facts.join(_class_facts(work, layers["forest"], "forest", m))
    built = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object))
    farm_pieces = None
    if "landuse" in layers:
        pf = unions.get("permanent_farmland")
        pf_area = facts["permanent_farmland_m2"].to_numpy() if pf is not None else None
        cols, built, farm_pieces = _landuse_facts(work, layers["landuse"], pf, pf_area, m)
        facts = facts.join(cols)
    category = (
        facts["type_category"].astype(object).to_numpy()
        if "type_category" in facts
        else np.full(len(work), None, dtype=object)
    )
    cover, remainder, uncovered, cols = _cover_facts(
        work, patches, category, layers, unions, built, farm_pieces, facts, m, tolerance_m
    )
    facts = _fractions(facts.join(cols))
    parts: dict[str, np.ndarray] = {}
    facts = _provided(work, patches, facts, layers, crs, params or {}, parts)
    facts = _complete(facts)
    return OverlayResult(
        facts=facts, cover=cover, remainder=remainder, schema=fact_schema(), parts=parts,
        uncovered=uncovered,
    )


def _provided(work, patches, facts, layers, crs, params, parts) -> pd.DataFrame:
    from landcheck.checks import PATCH_FACT_PROVIDERS, load_builtin_checks

    load_builtin_checks()
    for provider in PATCH_FACT_PROVIDERS:
        extra = provider.compute(
            work, patches, facts, layers, crs=crs, params=params.get(provider.family, {})
        )
        if isinstance(extra, tuple):
            extra, more = extra
            parts.update(more)
        unexpected = set(extra.columns) - set(provider.schema)
        if unexpected:
            raise RuntimeError(
                f"patch fact provider {provider.name} returned undeclared "
                f"columns {sorted(unexpected)}"
            )
        facts = facts.join(extra[[c for c in extra.columns if c not in facts.columns]])
    return facts


# ---------------------------------------------------------------- patch base


def _patch_base(patches, geoms, crs) -> pd.DataFrame:
    n = len(geoms)
    missing = shapely.is_missing(geoms)
    empty = missing | shapely.is_empty(geoms)
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])
    valid = ~missing & shapely.is_valid(geoms)
    problem = np.full(n, None, dtype=object)
    problem[~polygonal & ~empty] = "not a polygon"
    problem[~valid & ~empty] = "invalid geometry"
    problem[empty] = "empty geometry"
    ok = ~empty & polygonal & valid
    facts = pd.DataFrame(index=pd.RangeIndex(n))
    for col in ("id", "township", "type", "class", "approval", "level", "note"):
        if col in patches.columns:
            # the same text dtype however the patches are chunked (a chunk where the field
            # is all null must not turn it into plain objects)
            facts[col] = pd.array(patches[col].astype("string").to_numpy(), dtype="str")
    for col in ("before", "after", "issued"):
        if col in patches.columns:
            facts[col] = pd.to_datetime(patches[col].to_numpy(), errors="coerce")
    if "area" in patches.columns:
        facts["reported_area_m2"] = pd.to_numeric(patches["area"], errors="coerce").to_numpy()
    facts["geom_ok"] = ok
    facts["geom_problem"] = pd.array(problem, dtype="string")
    area = np.zeros(n)
    area[ok] = official_area(geoms[ok], crs=crs)
    facts["area_m2"] = area
    if "type" in facts.columns:
        facts["type_category"] = patch_category(facts["type"])
        facts["type_name"] = patch_type_name(facts["type"])
    facts["width_m"] = strip_width(np.where(ok, geoms, None))
    return facts


# ---------------------------------------------------------------- pair machinery


def _pairs(work, ref_geoms, predicate="intersects", tree=None):
    """Intersecting (patch, feature) pairs, sorted by patch then feature.

    The tree is built on the larger side: a few huge features (town boundaries) are
    queried against a tree of the patches rather than every patch against them. With
    ``predicate=None`` the pairs are those whose bounding boxes meet (a tenth of the cost
    of testing ``intersects`` on a land-use layer; the area measured later decides).
    ``tree``: an ``STRtree`` of ``work`` already built, queried with the features whatever
    their number (one tree of a chunk's patches serves every layer: on a chunk of 16,667
    patches at large, building it and querying it with all five layers takes 60 ms against
    93 ms for a tree per layer).
    """
    if tree is not None:
        ri, pi = tree.query(ref_geoms, predicate=predicate)
    elif len(ref_geoms) * 4 < len(work):
        tree = shapely.STRtree(work)
        ri, pi = tree.query(ref_geoms, predicate=predicate)
    else:
        tree = shapely.STRtree(ref_geoms)
        pi, ri = tree.query(work, predicate=predicate)
    order = np.lexsort((ri, pi))
    return pi[order], ri[order]


def _clip(work, ref_geoms, pi, ri, m=None) -> np.ndarray:
    """Piece of each patch inside each paired feature; the patch itself where contained.

    Containment is tested first, with prepared *copies* made here (a prepared geometry must
    never be shared between threads), on the pairs whose patch bounding box lies inside the
    feature's (a free test that rules out most pairs that cannot be contained: on a land-use
    coverage of parcels the size of patches it leaves ~16 % of the pairs, ~12 % contained; on
    towns 99 %, 90 % contained). A contained patch is its own piece — the same object, so
    later steps recognise it (:class:`_Measure`) and skip the work — and needs no intersection.
    With ``m`` (:class:`_Measure`) the patches' outlines flattened for the chunk are reused.
    """
    a = work[pi]
    out = a.copy()
    inside = np.zeros(len(pi), dtype=bool)
    if len(pi):
        pb, fb = shapely.bounds(a), shapely.bounds(ref_geoms[ri])
        cand = (
            (pb[:, 0] >= fb[:, 0])
            & (pb[:, 1] >= fb[:, 1])
            & (pb[:, 2] <= fb[:, 2])
            & (pb[:, 3] <= fb[:, 3])
        )
        if cand.any():
            uniq, inv = np.unique(ri[cand], return_inverse=True)
            local = shapely.from_wkb(shapely.to_wkb(ref_geoms[uniq]))
            shapely.prepare(local)
            inside[cand] = shapely.contains_properly(local[inv], a[cand])
    rest = ~inside
    if rest.any():
        if m is None:
            from landcheck.pairclip import clip_pairs

            out[rest] = clip_pairs(a[rest], ref_geoms[ri[rest]])
        else:
            out[rest] = m.clip_patches(pi[rest], ref_geoms[ri[rest]])
    return out


#: Features with more vertices than this are clipped by GEOS rather than measured from
#: the outlines (see :func:`_hits`).
MEASURE_MAX_VERTICES = 128


def _hits(work, ref_geoms, m, *, pieces_of=None, measure=True):
    """Pairs whose intersection has area, their pieces (polygonal only) and the pieces' areas.

    Features that only touch a patch (a shared edge or corner) are not hits: they add no
    area, are not listed among the ids hit, and their line/point pieces never reach the
    later overlay operations (mixed-dimension collections make GEOS overlays fail).

    Areas come from the outlines (:meth:`_Measure.overlap`), which also tells which patches
    lie inside their feature: those are their own piece (the same object), the others are
    clipped by GEOS. Many small features (more than a quarter of the patches) are paired by
    bounding box, since the measured area decides the hits; a few large ones by
    ``intersects``. Features of more than :data:`MEASURE_MAX_VERTICES` vertices are clipped
    by GEOS (prepared containment first, :func:`_clip`) and their pieces measured.
    ``pieces_of``: a mask over the hits whose pieces are wanted (default all); the others
    stay None — for a role whose pieces matter only through their areas. ``measure=False``
    clips every pair by GEOS. The areas of the pieces built are remembered by ``m``.
    """
    many = len(ref_geoms) * 4 >= len(work)
    pi, ri = _pairs(work, ref_geoms, predicate=None if many else "intersects", tree=m.tree)
    # the outline measure walks every edge of both outlines per pair: it pays for small
    # features, and where it spares a clip or an intersects test; large features (towns,
    # big zones), and roles whose pieces are all wanted anyway (``measure=False``), are
    # clipped by GEOS
    # (the choice depends on the feature and the role only, never on the chunk, so that
    # every chunking gives the same bits)
    big = shapely.get_num_coordinates(ref_geoms)[ri] > MEASURE_MAX_VERTICES
    if not measure:
        big[:] = True
    area = np.zeros(len(pi))
    inside = np.zeros(len(pi), dtype=bool)
    pieces = np.full(len(pi), None, dtype=object)
    small = ~big
    if small.any():
        area[small], inside[small] = m.overlap_patches(pi[small], ref_geoms[ri[small]])
    if big.any():
        pieces[big] = _polygonal(_clip(work, ref_geoms, pi[big], ri[big], m))
        inside[big] = _same(pieces[big], work[pi[big]])
        area[big] = m.area(pieces[big])
    hit = area > 0
    pi, ri, area, inside, pieces, small = (x[hit] for x in (pi, ri, area, inside, pieces, small))
    pieces[inside] = work[pi[inside]]
    cut = small & ~inside
    if pieces_of is not None:
        cut &= pieces_of(pi, inside)
    if cut.any():
        pieces[cut] = m.clip_patches(pi[cut], ref_geoms[ri[cut]])
        lost = cut & shapely.is_missing(pieces)  # GEOS found no area: not a hit
        if lost.any():
            keep = ~lost
            pi, ri, pieces, area, cut = pi[keep], ri[keep], pieces[keep], area[keep], cut[keep]
        m.remember(pieces[cut], area[cut])
    return pi, ri, pieces, area


def _union_by(pieces, pi, n, work=None) -> np.ndarray:
    """Union of the pieces of each patch (None where a patch has none).

    With ``work`` (the patches), a patch one of whose pieces is the patch itself is its own
    union, without a union operation.
    """
    out = np.full(n, None, dtype=object)
    if len(pi) == 0:
        return out
    counts = np.bincount(pi, minlength=n)
    single = counts[pi] == 1
    out[pi[single]] = pieces[single]
    multi = ~single
    if work is not None and multi.any():
        whole = multi & _same(pieces, work[pi])
        out[pi[whole]] = work[pi[whole]]
        multi &= ~np.isin(pi, pi[whole])
    if multi.any():
        mpi, mpieces = pi[multi], pieces[multi]
        order = np.argsort(mpi, kind="stable")
        mpi, mpieces = mpi[order], mpieces[order]
        starts = np.flatnonzero(np.r_[True, mpi[1:] != mpi[:-1]])
        for s, e in zip(starts, np.r_[starts[1:], len(mpi)], strict=True):
            out[mpi[s]] = shapely.union_all(mpieces[s:e])
    return out


def _sum_by(values, pi, n) -> np.ndarray:
    return np.bincount(pi, weights=values, minlength=n) if len(pi) else np.zeros(n)


def _sums_by_code(k, codes, values, pi, n) -> list[np.ndarray]:
    """Per code, the sum per patch of the values whose label is that code (``k``: per pair,
    the label's position in ``codes``, -1 for none of them): one pass over the pairs instead
    of one comparison of text labels per code (the same sums, bit for bit: bincount adds in
    pair order, and the zeros it skips add nothing)."""
    ok = k >= 0
    flat = np.bincount(pi[ok] * len(codes) + k[ok], weights=values[ok],
                       minlength=n * len(codes)) if len(pi) else np.zeros(n * len(codes))
    table = flat.reshape(n, len(codes))
    return [table[:, j].copy() for j in range(len(codes))]


class _Distinct:
    """A text column of a layer, per pair, as an index into its distinct values: they are
    cleaned (stripped, upper case), looked up and compared once each — a land-use layer has
    a few dozen classes for tens of thousands of parcels — and no text object is made per
    pair. Pair k's value is ``self.text[self.code[k]]``; ``self.code[k]`` is
    ``len(self.text)`` where the value is null.
    """

    def __init__(self, column, rows):
        code, uniques = pd.factorize(column, use_na_sentinel=True)
        self.text = pd.Series(uniques, dtype="string").str.strip().str.upper()
        self.counts = np.bincount(code[code >= 0], minlength=len(uniques))  # rows per value
        code = code[rows]
        self.code = np.where(code < 0, len(uniques), code)

    def per_pair(self, per_value, null) -> np.ndarray:
        """Per pair, from one item per distinct value, ``null`` where the value is null."""
        per_value = np.asarray(per_value)
        return np.append(per_value, np.array([null], dtype=per_value.dtype))[self.code]

    def position(self, per_value, null, codes) -> np.ndarray:
        """Per pair, the position in ``codes`` of its item (:meth:`per_pair`'s arguments),
        -1 where it is not there."""
        index = {c: j for j, c in enumerate(codes)}
        return self.per_pair(np.array([index.get(v, -1) for v in per_value], dtype=np.int64),
                             index.get(null, -1))


def _lists_by(values, pi, n) -> list:
    """Distinct values per patch, each patch's in pair order (a loop over patches, not pairs)."""
    out = [[] for _ in range(n)]
    if len(pi):
        order = np.argsort(pi, kind="stable")
        pi, values = np.asarray(pi)[order], np.asarray(values, dtype=object)[order]
        firsts = ~pd.DataFrame({"p": pi, "v": values}).duplicated().to_numpy()
        p, v = pi[firsts], values[firsts]
        starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
        for s, e in zip(starts, np.r_[starts[1:], len(p)], strict=True):
            out[p[s]] = v[s:e].tolist()
    return out


def _area(geoms, crs) -> np.ndarray:
    out = np.zeros(len(geoms))
    has = ~shapely.is_missing(geoms)
    if has.any():
        out[has] = official_area(geoms[has], crs=crs)
    return out


def _same(a, b) -> np.ndarray:
    """Elementwise ``a[i] is b[i]`` (and not None): the very same geometry object."""
    a = np.asarray(a, dtype=object)
    return (object_ids(a) == object_ids(b)) & ~shapely.is_missing(a)


class _Measure:
    """Official areas for one ``compute_facts`` call, knowing the patches' own areas.

    A contained patch is its own piece, union, cover or remainder — the same object (see
    :func:`_clip`) — so its area is looked up, not computed again. Object ids are safe keys
    while the patches array is alive, which it is for the lifetime of this object.
    """

    def __init__(self, work, area, crs):
        self.work = work
        self.crs = crs
        self._tree = None
        self._flat = None
        self._kept = [work]  # every object whose area is known stays alive (ids stay unique)
        has = ~shapely.is_missing(work)
        ids = object_ids(work[has])
        order = np.argsort(ids)
        self._ids, self._areas = ids[order], np.asarray(area, dtype=float)[has][order]

    def remember(self, geoms, areas) -> None:
        """Know the areas of these geometries (pieces measured from their outlines), so that
        a union that is a single piece — the same object — is not measured again."""
        geoms = np.asarray(geoms, dtype=object)
        has = ~shapely.is_missing(geoms)
        if not has.any():
            return
        self._kept.append(geoms)
        ids = np.concatenate([self._ids, object_ids(geoms[has])])
        areas = np.concatenate([self._areas, np.asarray(areas, dtype=float)[has]])
        order = np.argsort(ids, kind="stable")
        self._ids, self._areas = ids[order], areas[order]

    def known(self, geoms) -> np.ndarray:
        """The areas of these geometries where known (NaN elsewhere; 0 for None)."""
        geoms = np.asarray(geoms, dtype=object)
        out = np.full(len(geoms), np.nan)
        has = ~shapely.is_missing(geoms)
        out[~has] = 0.0
        if has.any() and len(self._ids):
            ids = object_ids(geoms[has])
            pos = np.minimum(np.searchsorted(self._ids, ids), len(self._ids) - 1)
            found = self._ids[pos] == ids
            rows = np.flatnonzero(has)
            out[rows[found]] = self._areas[pos[found]]
        return out

    def _patch_flat(self, pi):
        """The patches flattened once (:class:`landcheck.pairarea.Flat`), for the pairs of
        patches ``pi``: the ``a_flat`` argument of ``overlap_areas`` and ``clip_pairs``."""
        if self._flat is None:
            from landcheck.pairarea import Flat

            has = ~shapely.is_missing(self.work)
            index = np.full(len(self.work), -1, dtype=np.int64)
            index[has] = np.arange(int(has.sum()))
            self._flat = (Flat(self.work[has]), index)
        flat, index = self._flat
        return flat, index[np.asarray(pi, dtype=np.int64)]

    @property
    def tree(self):
        """An ``STRtree`` of the patches, built on first use."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.work)
        return self._tree

    def area(self, geoms) -> np.ndarray:
        geoms = np.asarray(geoms, dtype=object)
        out = self.known(geoms)
        todo = np.isnan(out)
        if todo.any():
            out[todo] = official_area(geoms[todo], crs=self.crs)
        return out

    def overlap(self, a, b, flat=None) -> tuple[np.ndarray, np.ndarray]:
        """Official area of ``a[i] ∩ b[i]`` and whether ``a[i]`` lies inside ``b[i]``
        (:func:`landcheck.pairarea.overlap_areas`); an ``a[i]`` that is a patch and lies
        inside ``b[i]`` has the patch's own area, looked up."""
        from landcheck.pairarea import overlap_areas

        a = np.asarray(a, dtype=object)
        known = self.known(a)  # contained pairs with a known area take it
        area, inside = overlap_areas(a, b, crs=self.crs, a_area=known, a_flat=flat)
        todo = inside & np.isnan(known)
        if todo.any():
            area[todo] = official_area(a[todo], crs=self.crs)
        return area, inside

    def overlap_patches(self, pi, b) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`overlap` of the patches ``work[pi]`` with ``b``, their outlines flattened
        once for all calls."""
        return self.overlap(self.work[pi], b, self._patch_flat(pi))

    def clip_patches(self, pi, b) -> np.ndarray:
        """``work[pi] ∩ b`` (:func:`landcheck.pairclip.clip_pairs`), the patches' outlines
        flattened once for all calls."""
        from landcheck.pairclip import clip_pairs

        return clip_pairs(self.work[pi], b, a_flat=self._patch_flat(pi))

    def whole(self, geoms) -> np.ndarray:
        """Per-patch geometries that are the patch itself."""
        return _same(geoms, self.work)

    def whole_of(self, pieces, pi) -> np.ndarray:
        """Pieces (of patches ``pi``) that are their patch itself."""
        return _same(pieces, self.work[pi]) if len(pi) else np.zeros(0, dtype=bool)


def _ids(ref, ri) -> np.ndarray:
    if "id" in ref.columns:
        return ref["id"].astype("string").fillna("").to_numpy(dtype=object)[ri]
    return ref.index.to_numpy()[ri].astype(str)


# ---------------------------------------------------------------- roles


#: Zone roles whose per-patch union is used as geometry after the zone facts (farmland on
#: permanent farmland, facility cover, the remainder's shares); the others need areas only.
UNION_ROLES = ("permanent_farmland", "eco_redline")


def _several(pi, inside) -> np.ndarray:
    """Hits of patches hit at least twice and not lying inside any of the features: the only
    ones whose union (hence pieces) an area-only role needs."""
    n = int(pi.max()) + 1 if len(pi) else 0
    counts = np.bincount(pi, minlength=n)
    whole = np.bincount(pi, weights=inside, minlength=n) > 0
    return (counts[pi] > 1) & ~whole[pi]


def _zone_facts(work, ref, role, m):
    """Area of the union of the role's features in each patch, features hit and their ids;
    the union itself for :data:`UNION_ROLES` (None elsewhere: not needed)."""
    n = len(work)
    ref_geoms = np.asarray(ref.geometry.values, dtype=object)
    area_only = role not in UNION_ROLES
    pi, ri, pieces, area = _hits(
        work, ref_geoms, m, pieces_of=_several if area_only else None, measure=area_only
    )
    cols = pd.DataFrame(index=pd.RangeIndex(n))
    if area_only:
        union = None
        cols[f"{role}_m2"] = _union_area(pieces, area, pi, n, m)
    else:
        union = _polygonal(_union_by(pieces, pi, n, work))
        cols[f"{role}_m2"] = m.area(union)
    cols[f"{role}_n"] = np.bincount(pi, minlength=n) if len(pi) else np.zeros(n, dtype=int)
    cols[f"{role}_ids"] = _lists_by(_ids(ref, ri), pi, n)
    return cols, union


def _class_facts(work, ref, role, m) -> pd.DataFrame:
    """Area per canonical class of the role's ``class`` field (``forest_<class>_m2``)."""
    n = len(work)
    cols = pd.DataFrame(index=pd.RangeIndex(n))
    classes = ref["class"].astype("string").fillna("other").astype(object)
    classes = classes.where(classes.isin(FOREST_CLASSES), "other")
    for value in FOREST_CLASSES:
        sub = ref[(classes == value).to_numpy()]
        geoms = np.asarray(sub.geometry.values, dtype=object)
        pi, _, pieces, area = _hits(work, geoms, m, pieces_of=_several)
        cols[f"{role}_{value}_m2"] = _union_area(pieces, area, pi, n, m)
    return cols


def _union_area(pieces, area, pi, n, m) -> np.ndarray:
    """Area of the union of each patch's pieces: the piece's own where a patch has one, the
    patch's where it lies inside a feature, the union's (measured) where pieces overlap."""
    out = _sum_by(area, pi, n)
    several = ~shapely.is_missing(pieces)
    if len(pi):
        counts = np.bincount(pi, minlength=n)
        several &= counts[pi] > 1
        whole = np.unique(pi[m.whole_of(pieces, pi)])
        out[whole] = m.area(m.work[whole])
    if several.any():
        rows = np.unique(pi[several])
        union = _polygonal(_union_by(pieces[several], pi[several], n))
        out[rows] = m.area(union[rows])
    return out


def _landuse_facts(work, ref, pf_union, pf_area, m):
    """Area per land-use group and planting attribute, farmland on permanent farmland, the
    existing construction land under each patch (geometry, for the remainder) and the
    farmland pairs (for the remainder on farmland). The layer must be a coverage (no
    overlaps), so pieces are summed without a union.

    Only the construction land is needed as geometry: every other figure is the area of a
    patch–parcel intersection, measured from the two outlines
    (:func:`landcheck.pairarea.overlap_areas`) without building the piece.
    """
    n = len(work)
    ref_geoms = np.asarray(ref.geometry.values, dtype=object)
    pi, ri = _pairs(work, ref_geoms, predicate=None, tree=m.tree)
    piece_area, inside = m.overlap_patches(pi, ref_geoms[ri])
    hit = piece_area > 0  # a parcel that only touches the patch (or its box) is not hit
    pi, ri, piece_area, inside = pi[hit], ri[hit], piece_area[hit], inside[hit]
    codes = _Distinct(ref["class"], ri)
    text = codes.text.astype(object).to_numpy()
    groups = landuse_group(codes.text, source="landuse", counts=codes.counts).fillna("unknown")
    groups = groups.astype(object).to_numpy()
    group = codes.per_pair(groups, "unknown")
    cols = pd.DataFrame(index=pd.RangeIndex(n))
    k = codes.position(groups, "unknown", LANDUSE_GROUPS)
    for g, total in zip(LANDUSE_GROUPS, _sums_by_code(k, LANDUSE_GROUPS, piece_area, pi, n),
                        strict=True):
        cols[f"lu_{g}_m2"] = total
    is_k = codes.per_pair(codes.text.str.endswith("K").fillna(False).to_numpy(bool), False)
    cols["lu_k_m2"] = _sum_by(np.where(is_k, piece_area, 0.0), pi, n)
    cols["lu_classes"] = _lists_by(codes.per_pair(text, ""), pi, n)
    if "planting" in ref.columns:
        kinds = _Distinct(ref["planting"], ri)
        values = kinds.text.astype(object).to_numpy()
        planting_k = kinds.position(values, "", PLANTING_CODES)
        planting = kinds.per_pair(values, "")
    else:
        planting_k = np.full(len(ri), -1, dtype=np.int64)
        planting = np.full(len(ri), None, dtype=object)
    for code, total in zip(PLANTING_CODES,
                           _sums_by_code(planting_k, PLANTING_CODES, piece_area, pi, n),
                           strict=True):
        cols[f"planting_{code}_m2"] = total
    farm = group == "farmland"
    on_pf = np.zeros(len(pi))
    if pf_union is not None:
        on_pf[farm] = _on(
            ref_geoms[ri[farm]], inside[farm], piece_area[farm], pf_union, pf_area, pi[farm], m
        )
    cols["lu_farmland_pf_m2"] = _sum_by(np.where(farm, on_pf, 0.0), pi, n)
    cols["planting_FLS_pf_m2"] = _sum_by(np.where(farm & (planting == "FLS"), on_pf, 0.0), pi, n)
    cols["general_farmland_m2"] = cols["lu_farmland_m2"] - cols["lu_farmland_pf_m2"]
    # the construction land under each patch, as the parcels themselves (the remainder is
    # the patch minus them, so they need no clipping), or the patch where it lies in one
    on_built = group == "construction"
    parcels = np.where(inside[on_built], work[pi[on_built]], ref_geoms[ri[on_built]])
    lu_total = _sum_by(piece_area, pi, n)
    return cols, (pi[on_built], parcels), (pi, pi[farm], ref_geoms[ri[farm]], inside[farm],
                                           lu_total)


def _on(parcels, inside, piece_area, union, union_area, pi, m) -> np.ndarray:
    """Area of each patch–parcel piece (patch ``pi``) inside that patch's ``union``.

    ``union`` lies inside its patch, so the piece's part in it is the parcel's part in it.
    A union that is the whole patch holds the piece (its area); a patch inside the parcel
    (``inside``) has the union's area; the rest are measured from the outlines.
    """
    target = union[pi]
    out = np.zeros(len(pi))
    has = ~shapely.is_missing(target)
    whole_t = has & _same(target, m.work[pi])
    out[whole_t] = piece_area[whole_t]
    whole_p = has & ~whole_t & inside
    out[whole_p] = union_area[pi[whole_p]]
    rest = has & ~whole_t & ~whole_p
    if rest.any():
        out[rest] = m.overlap(target[rest], parcels[rest])[0]
    return out


# ---------------------------------------------------------------- cover and remainder


def _dated_pieces(work, ref, after, date_ok, m):
    """Clip pairs and split them by a date condition ``date_ok(pairs) -> bool mask``."""
    ref_geoms = np.asarray(ref.geometry.values, dtype=object)
    pi, ri, pieces, _ = _hits(work, ref_geoms, m)
    return pi, ri, pieces, date_ok(pi, ri)


def _cover_facts(
    work, patches, category, layers, unions, built, farm_pieces, facts, m, tolerance_m
):
    """Legal cover, the parts excluded from the remainder, and the remainder itself.

    remainder = patch − cover − later approvals − existing construction land, with parts
    thinner than ``tolerance_m`` removed. ``cut_m`` is the length of the line between the
    remainder and the rest of the patch.

    The remainder is cut with the features themselves (approvals, construction parcels),
    not with their pieces inside the patch: a piece's edges along the patch outline are the
    patch's edges split at rounded crossing points, and cutting the patch with them leaves
    hairline slivers and spikes along the outline (the opening then had to trim 11,695 of
    15,167 single-approval remainders at large; cut with the approvals, 1,690) and costs a
    third more. Facility and temporary covers, which are not whole features, cut as pieces.
    """
    n = len(work)
    after = (
        pd.to_datetime(patches["after"], errors="coerce").to_numpy()
        if "after" in patches.columns
        else np.full(n, np.datetime64("NaT"))
    )
    cols = pd.DataFrame(index=pd.RangeIndex(n))
    covers: list[np.ndarray] = []
    # what the remainder is cut with, in this order: (patch row, geometry) pairs
    cut_pi, cutters = [], []
    n_valid = np.zeros(n, dtype=np.int64)  # cutters that are approvals in force
    if "approvals" in layers:
        ok_union, a_pi, a_cutters, a_valid = _approval_cover(
            work, layers["approvals"], after, cols, m)
        covers.append(ok_union)
        cut_pi.append(a_pi)
        cutters.append(a_cutters)
        n_valid = np.bincount(a_pi[a_valid], minlength=n)
    pieced = []
    if "facility_ag" in layers:
        pieced.append(_facility_cover(work, layers["facility_ag"], after, unions, cols, m))
    if "temporary_land" in layers:
        pieced.append(
            _temporary_cover(work, layers["temporary_land"], after, category, cols, m))
    covers.extend(pieced)
    cover = _union_rows(covers, n, work)
    for extra in pieced:
        rows = np.flatnonzero(~shapely.is_missing(extra))
        cut_pi.append(rows)
        cutters.append(extra[rows])
    cut_pi.append(built[0])
    cutters.append(built[1])
    cut_pi = np.concatenate(cut_pi).astype(np.int64)
    cutters = np.concatenate([np.asarray(c, dtype=object) for c in cutters])
    remainder, raw = _remainder(work, cut_pi, cutters, tolerance_m)
    # where a patch is cut by its approvals in force alone, the bare difference is
    # patch − cover, which the fragments reuse
    n_cut = np.bincount(cut_pi, minlength=n)
    uncovered = np.where((n_cut == n_valid) & (n_valid > 0), raw, None)
    cols["cover_m2"] = m.area(cover)
    cols["built_m2"] = (  # the construction parcels' share of the patch (a coverage)
        facts["lu_construction_m2"].to_numpy() if "lu_construction_m2" in facts else np.nan
    )
    cols["remainder_m2"] = m.area(remainder)
    cols["cut_m"] = _cut_length(work, remainder)
    _remainder_on(remainder, cols["remainder_m2"].to_numpy(), unions, farm_pieces, facts, cols, m)
    return cover, remainder, uncovered, cols


#: Distance (m) within which a remainder edge counts as lying on the patch boundary.
CUT_SNAP_M = 1e-6


def _cut_length(work, remainder) -> np.ndarray:
    """Length of the remainder's boundary that is not the patch's boundary: the line along
    which the remainder was cut from the rest of the patch (0 for an uncut patch).

    Overlay noding splits the remainder's boundary wherever it leaves the patch's, so each
    edge of the remainder lies either on the patch boundary or inside the patch. An edge
    counts as on the boundary when the points at a third and two thirds of its length are
    both within :data:`CUT_SNAP_M` of the patch boundary (the overlay moves vertices by
    ~1e-9 m, so exact tests fail); the rest is the cut.
    """
    has = ~shapely.is_missing(work) & ~shapely.is_missing(remainder)
    has &= ~_same(remainder, work)
    out = np.zeros(len(work))
    if not has.any():
        return out
    from landcheck._outline_kernel import cut_lengths

    rows = np.flatnonzero(has)
    rx, ry, r_ring, r_off = _outline_points(remainder[rows])
    px, py, p_ring, p_off = _outline_points(work[rows])
    out[rows] = cut_lengths(rx, ry, r_ring, r_off, px, py, p_ring, p_off, CUT_SNAP_M)
    return out


def _outline_points(geoms):
    """The rings' points of polygonal geometries: x, y, ring number per point, and the
    offsets of each geometry's points (none for an empty one)."""
    from landcheck.pairarea import _flatten

    geoms = np.asarray(geoms, dtype=object)
    has = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    per_geom = np.zeros(len(geoms), dtype=np.int64)
    if not has.any():
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(
            len(geoms) + 1, dtype=np.int64)
    x, y, ring_off, geom_off, _ = _flatten(geoms[has])
    per_geom[has] = np.diff(ring_off[geom_off])
    off = np.zeros(len(geoms) + 1, dtype=np.int64)
    np.cumsum(per_geom, out=off[1:])
    ring = np.repeat(np.arange(len(ring_off) - 1, dtype=np.int64), np.diff(ring_off))
    return x, y, ring, off


def _approval_cover(work, ref, after, cols, m):
    """Approvals dated on or before the after-date cover; later ones are 先建后批."""
    n = len(work)
    date = pd.to_datetime(ref["date"], errors="coerce").to_numpy()
    pi, ri, pieces, valid = _dated_pieces(
        work, ref, after, lambda pi, ri: date[ri] <= after[pi], m
    )
    late = ~valid & (date[ri] > after[pi])
    # the remainder is cut with the approvals themselves (or the patch, where it lies in one)
    dated = valid | late
    whole = m.whole_of(pieces, pi)
    ref_geoms = np.asarray(ref.geometry.values, dtype=object)
    cutters = np.where(whole, pieces, ref_geoms[ri])[dated]
    ok_union = _union_by(pieces[valid], pi[valid], n, work)
    late_union = _union_by(pieces[late], pi[late], n, work)
    both = ~shapely.is_missing(ok_union) & ~shapely.is_missing(late_union)
    late_only = np.where(shapely.is_missing(ok_union), late_union, None)
    diff = both & ~m.whole(ok_union)  # a whole-patch approval leaves nothing late-only
    if diff.any():
        late_only[diff] = shapely.difference(late_union[diff], ok_union[diff])
    late_only = _polygonal(late_only)
    ok_union = _polygonal(ok_union)
    cols["approved_m2"] = m.area(ok_union)
    cols["approved_late_m2"] = m.area(late_only)
    ids = _ids(ref, ri)
    cols["approval_ids"] = _lists_by(ids[valid], pi[valid], n)
    cols["approval_late_ids"] = _lists_by(ids[late], pi[late], n)
    return ok_union, pi[dated], cutters, valid[dated]


def _facility_cover(work, ref, after, unions, cols, m):
    n = len(work)
    date = (
        pd.to_datetime(ref["date"], errors="coerce").to_numpy()
        if "date" in ref.columns
        else np.full(len(ref), np.datetime64("NaT"))
    )
    kind = (
        ref["kind"].astype("string").fillna("").to_numpy(dtype=object)
        if "kind" in ref.columns
        else np.full(len(ref), "", dtype=object)
    )
    pi, ri, pieces, ok = _dated_pieces(
        work, ref, after, lambda pi, ri: pd.isna(date[ri]) | (date[ri] <= after[pi]), m
    )
    restricted = np.isin(kind[ri], FACILITY_NOT_ON_PF)
    free = _union_by(pieces[ok & ~restricted], pi[ok & ~restricted], n, work)
    limited = _union_by(pieces[ok & restricted], pi[ok & restricted], n, work)
    pf = unions.get("permanent_farmland", np.full(n, None, dtype=object))
    on_pf = np.where(
        shapely.is_missing(limited) | shapely.is_missing(pf),
        None,
        shapely.intersection(_nz(limited), _nz(pf)),
    )
    limited_ok = np.where(
        shapely.is_missing(on_pf), limited, shapely.difference(_nz(limited), _nz(on_pf))
    )
    cover = _union_rows([free, limited_ok], n, work)
    cols["facility_m2"] = m.area(_polygonal(cover))
    cols["facility_on_pf_m2"] = m.area(_polygonal(on_pf))
    cols["facility_ids"] = _lists_by(_ids(ref, ri)[ok], pi[ok], n)
    return cover


def _temporary_cover(work, ref, after, category, cols, m):
    """Temporary approvals in force at the after-date cover a patch whose category their
    approved use allows (``temporary_uses.csv``); in force but another use → use changed."""
    n = len(work)
    start = pd.to_datetime(ref["start"], errors="coerce").to_numpy()
    end = pd.to_datetime(ref["end"], errors="coerce").to_numpy()
    pi, ri, pieces, in_force = _dated_pieces(
        work, ref, after, lambda pi, ri: (start[ri] <= after[pi]) & (after[pi] <= end[ri]), m
    )
    if "use" in ref.columns:
        allowed = temporary_uses()
        use = ref["use"].astype("string").fillna("").to_numpy(dtype=object)
        fits = np.array(
            [
                category[p] in allowed.get(use[r], ())
                for p, r in zip(pi.tolist(), ri.tolist(), strict=True)
            ],
            dtype=bool,
        )
    else:
        fits = np.ones(len(pi), dtype=bool)
    ok = in_force & fits
    expired = ~in_force & (end[ri] < after[pi])
    cover = _polygonal(_union_by(pieces[ok], pi[ok], n, work))
    bad = _union_by(pieces[in_force & ~fits], pi[in_force & ~fits], n, work)
    exp_union = _union_by(pieces[expired], pi[expired], n, work)
    cols["temporary_m2"] = m.area(cover)
    cols["temporary_use_bad_m2"] = m.area(_polygonal(bad))
    cols["temporary_expired_m2"] = m.area(_polygonal(exp_union))
    cols["temporary_ids"] = _lists_by(_ids(ref, ri)[in_force], pi[in_force], n)
    return cover


def _nz(geoms):
    """Replace None by an empty geometry so binary GEOS calls stay vectorised."""
    return np.where(shapely.is_missing(geoms), shapely.Polygon(), geoms)


def _polygonal(geoms) -> np.ndarray:
    """Keep polygonal parts only; None where nothing of area remains."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    has = ~shapely.is_missing(geoms)
    if not has.any():
        return out
    g = geoms[has]
    tid = shapely.get_type_id(g)
    mixed = ~np.isin(tid, [3, 6])
    if mixed.any():  # collections from touching pieces: rare, so a loop over them only
        g = g.copy()
        fixed = []
        for geom in g[mixed]:
            parts = _polygon_parts(geom)
            fixed.append(shapely.multipolygons(parts) if parts else None)
        g[mixed] = np.array([*fixed, None], dtype=object)[:-1]
    g = np.where(
        shapely.is_missing(g) | shapely.is_empty(_nz(g)) | (shapely.area(_nz(g)) == 0), None, g
    )
    out[has] = g
    return out


def _polygon_parts(geom) -> list:
    out = []
    for part in shapely.get_parts(geom):
        kind = shapely.get_type_id(part)
        if kind == 3:
            out.append(part)
        elif kind == 6:
            out.extend(shapely.get_parts(part))
        elif kind == 7:
            out.extend(_polygon_parts(part))
    return out


def _union_rows(parts: list[np.ndarray], n: int, work=None) -> np.ndarray:
    """Row-wise union of several per-patch geometry arrays (all inside their patch: with
    ``work``, a row where one of them is the patch itself is the patch, without a union)."""
    out = np.full(n, None, dtype=object)
    for arr in parts:
        both = ~shapely.is_missing(out) & ~shapely.is_missing(arr)
        only = shapely.is_missing(out) & ~shapely.is_missing(arr)
        out[only] = arr[only]
        if work is not None and both.any():
            whole = both & (_same(arr, work) | _same(out, work))
            out[whole] = work[whole]
            both &= ~whole
        if both.any():
            out[both] = shapely.union(out[both], arr[both])
    return _polygonal(out)


def _remainder(work, cut_pi, cutters, tolerance_m) -> tuple[np.ndarray, np.ndarray]:
    """Each patch minus the union of its cutters (``cutters[k]`` cuts patch ``cut_pi[k]``),
    with parts thinner than the tolerance removed (opening).

    A patch without cutters is its own remainder (the same object); a patch one of whose
    cutters is the patch itself has none. Also returns the bare differences (None where
    none was needed).
    """
    n = len(work)
    has = ~shapely.is_missing(work)
    rem = np.asarray(work, dtype=object).copy()
    raw = np.full(n, None, dtype=object)
    gone = np.zeros(n, dtype=bool)
    gone[cut_pi[_same(cutters, work[cut_pi])]] = True
    both = has & (np.bincount(cut_pi, minlength=n) > 0) & ~gone
    rem[gone] = None
    if both.any():
        # one cutter after the other (round k: every patch with a k-th cutter), rather than
        # a union of the cutters first: each difference is a small remainder against one
        # feature (whose edges away from the remainder's box are skipped), while a union of
        # whole features (approvals, parcels) costs more than all the differences together
        sel = both[cut_pi]
        cpi, cut = cut_pi[sel], cutters[sel]
        order = np.argsort(cpi, kind="stable")
        cpi, cut = cpi[order], cut[order]
        first = np.flatnonzero(np.r_[True, cpi[1:] != cpi[:-1]])
        rank = np.arange(len(cpi)) - np.repeat(first, np.diff(np.r_[first, len(cpi)]))
        from landcheck.pairclip import clip_pairs

        left = work.copy()
        for k in range(int(rank.max()) + 1):
            at = rank == k
            left[cpi[at]] = clip_pairs(left[cpi[at]], cut[at], difference=True)
        raw[both] = rem[both] = left[both]
    rem = _polygonal(rem)
    if tolerance_m > 0:
        from landcheck._outline_kernel import opening_keeps, same_rings
        from landcheck.pairarea import _flatten, overlap_areas

        cut = ~shapely.is_missing(rem) & both  # only a cut remainder can have slivers
        d = tolerance_m / 2.0
        # a remainder with no part thinner than the tolerance, no corner sharper than the
        # mitre limit allows and no vertex GEOS would simplify away is its own opening
        # (checked from its outline, without GEOS: 79 % of the cut remainders at large)
        if cut.any():
            cut[np.flatnonzero(cut)[opening_keeps(*_flatten(rem[cut]), d)]] = False
        opened = _polygonal(
            shapely.buffer(shapely.buffer(rem[cut], -d, join_style="mitre"), d, join_style="mitre")
        )
        # keep the exact difference where the opening removed nothing: the opening moves
        # edges by ~1e-9 m, which must not turn into phantom cuts or areas. (The opening
        # alone is not enough to tell: mitre joins can bulge out of the remainder.) What is
        # left of the remainder inside its opening is measured from the outlines (planar);
        # the opening mostly repeats the remainder's vertices exactly, which the measure
        # decides without GEOS. Only remainders that lost something are trimmed.
        cut_rem = rem[cut]
        after = np.zeros(len(cut_rem))
        changed = np.zeros(len(cut_rem), dtype=bool)
        # an opening that repeats the remainder's rings bit for bit removed nothing (a third
        # of the cut remainders at medium): no need to measure it
        todo = ~same_rings(*_outline_points(cut_rem), *_outline_points(_nz(opened)))
        if todo.any():
            before = shapely.area(cut_rem[todo])
            after[todo], _ = overlap_areas(cut_rem[todo], opened[todo], crs=None)
            lost = after[todo] < before - 1e-9 * np.maximum(before, 1.0)
            # a zero-width spike (a ring running out along a line and back) has no area, but
            # the opening removes it, and it would count twice in the cut length
            perimeter = shapely.length(cut_rem[todo])
            lost |= (shapely.length(_nz(opened[todo]))
                     < perimeter - 1e-6 * np.maximum(perimeter, 1.0))
            changed[todo] = lost
        rows = np.flatnonzero(cut)[changed]
        # an opening whose area is what the measure found of it inside the remainder (up to
        # the ~1e-9 m its edges moved: 1e-9 relative) lies in the remainder and is the
        # trimmed remainder itself; only where a mitre join bulged out of the remainder
        # (5 % of the changed ones at medium) is it cut back by GEOS
        opened = opened[changed]
        kept = after[changed]
        fits = shapely.area(_nz(opened)) <= kept + 1e-9 * np.maximum(kept, 1.0)
        trimmed = np.where(fits, opened, None)
        if (~fits).any():
            trimmed[~fits] = _polygonal(shapely.intersection(rem[rows[~fits]], opened[~fits]))
        rem[rows] = trimmed
    return rem, raw


def _remainder_on(remainder, rem_area, unions, farm_pieces, facts, cols, m) -> None:
    """The remainder on permanent farmland, the red line and farmland.

    An uncut patch (its remainder is the patch) takes the patch's own figures; a union that
    is the whole patch holds the whole remainder. Only cut remainders are intersected: with
    the zone unions, and for farmland with the farmland parcels the land-use step found
    under the patch (the land-use layer is a coverage, so their areas add up).
    """
    n = len(remainder)
    has = ~shapely.is_missing(remainder)
    uncut = m.whole(remainder)
    cut = has & ~uncut
    for role, col in (
        ("permanent_farmland", "remainder_pf_m2"),
        ("eco_redline", "remainder_redline_m2"),
    ):
        if role not in unions:
            continue
        u = unions[role]
        out = np.zeros(n)
        out[uncut] = facts[f"{role}_m2"].to_numpy()[uncut]
        inside = cut & m.whole(u)
        out[inside] = rem_area[inside]
        todo = cut & ~inside & ~shapely.is_missing(u)
        if todo.any():
            out[todo] = m.overlap(remainder[todo], u[todo])[0]
        cols[col] = out
    if farm_pieces is not None:
        pi_all, pi, parcels, in_parcel, lu_total = farm_pieces
        out = np.zeros(n)
        out[uncut] = facts["lu_farmland_m2"].to_numpy()[uncut]
        # a patch whose land-use pieces are all farmland and fill it (a coverage without a
        # gap under the patch) has its whole remainder on farmland
        n_all = np.bincount(pi_all, minlength=n)
        n_farm = np.bincount(pi, minlength=n)
        filled = lu_total >= facts["area_m2"].to_numpy() * (1 - 1e-6)
        all_farm = cut & (n_farm == n_all) & (n_farm > 0) & filled
        out[all_farm] = rem_area[all_farm]
        sel = (cut & ~all_farm)[pi]
        whole = sel & in_parcel  # the patch lies in one farmland parcel
        rest = sel & ~whole
        on = np.zeros(len(pi))
        on[whole] = rem_area[pi[whole]]
        if rest.any():  # with the parcels, not the pieces: two derived outlines sharing
            # edges to ~1e-9 m make overlays unstable
            on[rest] = m.overlap(remainder[pi[rest]], parcels[rest])[0]
        out += _sum_by(np.where(sel, on, 0.0), pi, n)
        cols["remainder_farmland_m2"] = out


def _fractions(facts: pd.DataFrame) -> pd.DataFrame:
    area = facts["area_m2"].to_numpy()
    if "lu_farmland_m2" in facts:
        pf = facts["permanent_farmland_m2"] if "permanent_farmland_m2" in facts else 0.0
        facts = facts.assign(
            farmland_or_pf_m2=facts["lu_farmland_m2"] + pf - facts["lu_farmland_pf_m2"]
        )
    names = (
        [f"{r}_m2" for r in ZONE_ROLES]
        + [f"lu_{g}_m2" for g in LANDUSE_GROUPS]
        + ["cover_m2", "remainder_m2"]
    )
    extra = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for col in names:
            if col in facts.columns:
                extra[col[:-3] + "_frac"] = np.where(area > 0, facts[col].to_numpy() / area, np.nan)
    return pd.concat([facts, pd.DataFrame(extra, index=facts.index)], axis=1)


def fact_schema() -> dict[str, str]:
    """Every fact column :func:`compute_facts` produces, with its type for the rule checker
    (``number``, ``text``, ``date``, ``bool`` or ``list``). It does not depend on the data, so a
    rule pack can be checked before anything is read; facts of roles that are not configured
    are null (and rules on them cannot fire)."""
    schema = {
        c: "text"
        for c in (
            "id",
            "township",
            "type",
            "class",
            "approval",
            "level",
            "note",
            "type_category",
            "type_name",
            "geom_problem",
        )
    }
    schema.update({c: "date" for c in ("before", "after", "issued")})
    schema.update(
        {"geom_ok": "bool", "area_m2": "number", "reported_area_m2": "number", "width_m": "number"}
    )
    for role in ZONE_ROLES:
        schema.update(
            {
                f"{role}_m2": "number",
                f"{role}_frac": "number",
                f"{role}_n": "number",
                f"{role}_ids": "list",
            }
        )
    schema.update({f"forest_{c}_m2": "number" for c in FOREST_CLASSES})
    for g in LANDUSE_GROUPS:
        schema.update({f"lu_{g}_m2": "number", f"lu_{g}_frac": "number"})
    schema.update({"lu_k_m2": "number", "lu_classes": "list"})
    schema.update({f"planting_{c}_m2": "number" for c in PLANTING_CODES})
    schema.update(
        {
            c: "number"
            for c in (
                "lu_farmland_pf_m2",
                "planting_FLS_pf_m2",
                "general_farmland_m2",
                "farmland_or_pf_m2",
                "approved_m2",
                "approved_late_m2",
                "facility_m2",
                "facility_on_pf_m2",
                "temporary_m2",
                "temporary_use_bad_m2",
                "temporary_expired_m2",
                "cover_m2",
                "cover_frac",
                "built_m2",
                "remainder_m2",
                "remainder_frac",
                "cut_m",
                "remainder_pf_m2",
                "remainder_farmland_m2",
                "remainder_redline_m2",
            )
        }
    )
    schema.update(
        {c: "list" for c in ("approval_ids", "approval_late_ids", "facility_ids", "temporary_ids")}
    )
    from landcheck.checks import PATCH_FACT_PROVIDERS, load_builtin_checks

    load_builtin_checks()
    for provider in PATCH_FACT_PROVIDERS:
        clash = set(provider.schema) & set(schema)
        if clash:
            raise RuntimeError(f"patch fact provider {provider.name} redefines {sorted(clash)}")
        schema.update(provider.schema)
    return schema


def _complete(facts: pd.DataFrame) -> pd.DataFrame:
    """Add every schema column that is missing (null), in schema order."""
    schema = fact_schema()
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
