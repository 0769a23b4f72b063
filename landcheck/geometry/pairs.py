"""Patch–feature pairs and what is measured or built from them, per patch.

The overlay's pair machinery: the pairs whose outlines meet (:func:`pairs`), the piece of
each patch inside each feature (:func:`clip`, :func:`hits`), per-patch unions, sums and
lists over the pairs (:func:`union_by`, :func:`sum_by`, :func:`sums_by_code`,
:func:`lists_by`), the ids of the features hit (:func:`feature_ids`) and
:class:`Measure`, which knows the official areas of one chunk's patches and of the pieces
built from them. Every function takes arrays (one element per patch or per pair) and
returns arrays of the same length; none loops over features in Python."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from landcheck.area import DEFAULT_AREA_METHOD, official_area
from landcheck.geometry.objects import object_ids
from landcheck.geometry.parts import polygonal, same

__all__ = [
    "MEASURE_MAX_VERTICES",
    "Distinct",
    "Measure",
    "areas",
    "clip",
    "feature_ids",
    "hits",
    "lists_by",
    "outline_points",
    "pairs",
    "several",
    "sum_by",
    "sums_by_code",
    "union_area",
    "union_by",
]


def pairs(work, ref_geoms, predicate="intersects", tree=None):
    """Intersecting (patch, feature) pairs, sorted by patch then feature.

    The tree is built on the larger side: a few huge features (town boundaries) are
    queried against a tree of the patches rather than every patch against them. With
    ``predicate=None`` the pairs are those whose bounding boxes meet (the area measured
    later decides which are hits). ``tree``: an ``STRtree`` of ``work`` already built,
    queried with the features whatever their number (one tree of a chunk's patches serves
    every layer).
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


def clip(work, ref_geoms, pi, ri, m=None) -> np.ndarray:
    """Piece of each patch inside each paired feature; the patch itself where contained.

    Containment is tested first, with prepared *copies* made here (a prepared geometry must
    never be shared between threads), on the pairs whose patch bounding box lies inside the
    feature's (a free test that rules out most pairs that cannot be contained). A contained
    patch is its own piece — the same object, so later steps recognise it (:class:`Measure`)
    and skip the work — and needs no intersection. With ``m`` (:class:`Measure`) the
    patches' outlines flattened for the chunk are reused.
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
            from landcheck.geometry.pairclip import clip_pairs

            out[rest] = clip_pairs(a[rest], ref_geoms[ri[rest]])
        else:
            out[rest] = m.clip_patches(pi[rest], ref_geoms[ri[rest]])
    return out


#: Features with more vertices than this are clipped by GEOS rather than measured from
#: the outlines (see :func:`hits`).
MEASURE_MAX_VERTICES = 128


def hits(work, ref_geoms, m, *, pieces_of=None, measure=True):
    """Pairs whose intersection has area, their pieces (polygonal only) and the pieces' areas.

    Features that only touch a patch (a shared edge or corner) are not hits: they add no
    area, are not listed among the ids hit, and their line/point pieces never reach the
    later overlay operations (mixed-dimension collections make GEOS overlays fail).

    Areas come from the outlines (:meth:`Measure.overlap`), which also tells which patches
    lie inside their feature: those are their own piece (the same object), the others are
    clipped by GEOS. Many small features (more than a quarter of the patches) are paired by
    bounding box, since the measured area decides the hits; a few large ones by
    ``intersects``. Features of more than :data:`MEASURE_MAX_VERTICES` vertices are clipped
    by GEOS (prepared containment first, :func:`clip`) and their pieces measured.
    ``pieces_of``: a mask over the hits whose pieces are wanted (default all); the others
    stay None — for a role whose pieces matter only through their areas. ``measure=False``
    clips every pair by GEOS. The areas of the pieces built are remembered by ``m``.
    """
    many = len(ref_geoms) * 4 >= len(work)
    pi, ri = pairs(work, ref_geoms, predicate=None if many else "intersects", tree=m.tree)
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
        pieces[big] = polygonal(clip(work, ref_geoms, pi[big], ri[big], m))
        inside[big] = same(pieces[big], work[pi[big]])
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


def union_by(pieces, pi, n, work=None) -> np.ndarray:
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
        whole = multi & same(pieces, work[pi])
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


def sum_by(values, pi, n) -> np.ndarray:
    return np.bincount(pi, weights=values, minlength=n) if len(pi) else np.zeros(n)


def sums_by_code(k, codes, values, pi, n) -> list[np.ndarray]:
    """Per code, the sum per patch of the values whose label is that code (``k``: per pair,
    the label's position in ``codes``, -1 for none of them): one pass over the pairs instead
    of one comparison of text labels per code (the same sums, bit for bit: bincount adds in
    pair order, and the zeros it skips add nothing)."""
    ok = k >= 0
    flat = (
        np.bincount(pi[ok] * len(codes) + k[ok], weights=values[ok], minlength=n * len(codes))
        if len(pi)
        else np.zeros(n * len(codes))
    )
    table = flat.reshape(n, len(codes))
    return [table[:, j].copy() for j in range(len(codes))]


class Distinct:
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
        return self.per_pair(
            np.array([index.get(v, -1) for v in per_value], dtype=np.int64), index.get(null, -1)
        )


def lists_by(values, pi, n) -> list:
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


def areas(geoms, crs, method=DEFAULT_AREA_METHOD) -> np.ndarray:
    """Official areas (m²) by ``method``; 0 for None."""
    out = np.zeros(len(geoms))
    has = ~shapely.is_missing(geoms)
    if has.any():
        out[has] = official_area(geoms[has], crs=crs, method=method)
    return out


class Measure:
    """Official areas for one ``compute_facts`` call, knowing the patches' own areas.

    A contained patch is its own piece, union, cover or remainder — the same object (see
    :func:`clip`) — so its area is looked up, not computed again. Object ids are safe keys
    while the patches array is alive, which it is for the lifetime of this object.
    """

    def __init__(self, work, area, crs, method=DEFAULT_AREA_METHOD):
        self.work = work
        self.crs = crs
        self.method = method
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
        """The patches flattened once (:class:`landcheck.geometry.pairarea.Flat`), for the pairs of
        patches ``pi``: the ``a_flat`` argument of ``overlap_areas`` and ``clip_pairs``."""
        if self._flat is None:
            from landcheck.geometry.pairarea import Flat

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
            out[todo] = official_area(geoms[todo], crs=self.crs, method=self.method)
        return out

    def overlap(self, a, b, flat=None) -> tuple[np.ndarray, np.ndarray]:
        """Official area of ``a[i] ∩ b[i]`` and whether ``a[i]`` lies inside ``b[i]``
        (:func:`landcheck.geometry.pairarea.overlap_areas`); an ``a[i]`` that is a patch and lies
        inside ``b[i]`` has the patch's own area, looked up."""
        from landcheck.geometry.pairarea import overlap_areas

        a = np.asarray(a, dtype=object)
        known = self.known(a)  # contained pairs with a known area take it
        area, inside = overlap_areas(a, b, crs=self.crs, a_area=known, a_flat=flat,
                                     method=self.method)
        todo = inside & np.isnan(known)
        if todo.any():
            area[todo] = official_area(a[todo], crs=self.crs, method=self.method)
        return area, inside

    def overlap_patches(self, pi, b) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`overlap` of the patches ``work[pi]`` with ``b``, their outlines flattened
        once for all calls."""
        return self.overlap(self.work[pi], b, self._patch_flat(pi))

    def clip_patches(self, pi, b) -> np.ndarray:
        """``work[pi] ∩ b`` (:func:`landcheck.geometry.pairclip.clip_pairs`), the patches' outlines
        flattened once for all calls."""
        from landcheck.geometry.pairclip import clip_pairs

        return clip_pairs(self.work[pi], b, a_flat=self._patch_flat(pi))

    def whole(self, geoms) -> np.ndarray:
        """Per-patch geometries that are the patch itself."""
        return same(geoms, self.work)

    def whole_of(self, pieces, pi) -> np.ndarray:
        """Pieces (of patches ``pi``) that are their patch itself."""
        return same(pieces, self.work[pi]) if len(pi) else np.zeros(0, dtype=bool)


def feature_ids(ref, ri) -> np.ndarray:
    if "id" in ref.columns:
        return ref["id"].astype("string").fillna("").to_numpy(dtype=object)[ri]
    return ref.index.to_numpy()[ri].astype(str)


def several(pi, inside) -> np.ndarray:
    """Hits of patches hit at least twice and not lying inside any of the features: the only
    ones whose union (hence pieces) an area-only role needs."""
    n = int(pi.max()) + 1 if len(pi) else 0
    counts = np.bincount(pi, minlength=n)
    whole = np.bincount(pi, weights=inside, minlength=n) > 0
    return (counts[pi] > 1) & ~whole[pi]


def union_area(pieces, area, pi, n, m) -> np.ndarray:
    """Area of the union of each patch's pieces: the piece's own where a patch has one, the
    patch's where it lies inside a feature, the union's (measured) where pieces overlap."""
    out = sum_by(area, pi, n)
    several = ~shapely.is_missing(pieces)
    if len(pi):
        counts = np.bincount(pi, minlength=n)
        several &= counts[pi] > 1
        whole = np.unique(pi[m.whole_of(pieces, pi)])
        out[whole] = m.area(m.work[whole])
    if several.any():
        rows = np.unique(pi[several])
        union = polygonal(union_by(pieces[several], pi[several], n))
        out[rows] = m.area(union[rows])
    return out


def outline_points(geoms):
    """The rings' points of polygonal geometries: x, y, ring number per point, and the
    offsets of each geometry's points (none for an empty one)."""
    from landcheck.geometry.pairarea import flatten

    geoms = np.asarray(geoms, dtype=object)
    has = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    per_geom = np.zeros(len(geoms), dtype=np.int64)
    if not has.any():
        return (
            np.zeros(0),
            np.zeros(0),
            np.zeros(0, dtype=np.int64),
            np.zeros(len(geoms) + 1, dtype=np.int64),
        )
    x, y, ring_off, geom_off, _ = flatten(geoms[has])
    per_geom[has] = np.diff(ring_off[geom_off])
    off = np.zeros(len(geoms) + 1, dtype=np.int64)
    np.cumsum(per_geom, out=off[1:])
    ring = np.repeat(np.arange(len(ring_off) - 1, dtype=np.int64), np.diff(ring_off))
    return x, y, ring, off
