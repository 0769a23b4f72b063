"""Intersection and difference of polygon pairs, built from the outlines' chains.

GEOS's overlay nodes both outlines, builds a topology graph and labels it for every pair:
~16 µs for the small pairs of a screening run (a patch and an approval, a remainder and a
construction parcel), most of it fixed cost. :func:`clip_pairs` builds ``a[i] ∩ b[i]`` or
``a[i] − b[i]`` from the chains the area kernel of :mod:`landcheck.geometry.pairarea` already finds:

- the kernel finds the proper crossings of the two outlines (every side decided exactly) and
  walks each ring, emitting the stretches on the wanted side — for ``a ∩ b`` a's stretches
  inside b and b's inside a, for ``a − b`` a's stretches outside b and b's inside a, the
  latter reversed. Both chains that meet at a crossing share its point bit for bit;
- :func:`_assemble` links each chain's end to the chain that starts at the same point (there
  is exactly one where the crossings are proper), so the chains close into rings with the
  result's interior on their left: shells counter-clockwise, holes clockwise; each hole goes
  to the smallest shell that holds it;
- shapely builds the polygons from the rings in one vectorised call each.

Every result is checked with GEOS's ``is_valid``. Pairs that are not generic — the kernel's
degenerate pairs (collinear overlapping edges, crossings whose order is within rounding),
outlines that touch (two chains start at one point), a ring of no area, or a result GEOS
finds invalid — are clipped by GEOS instead, so every answer is a valid polygon (or None
where nothing has area). Coordinates agree with GEOS's pieces except the crossing points,
which each side computes with its own rounding (~1e-16 of the coordinates' magnitude).
"""

from __future__ import annotations

import numpy as np
import shapely
from numba import njit

from landcheck.geometry.pairarea import (
    A_INSIDE_B,
    GENERIC,
    pair_chains,
    point_inside,
)
from landcheck.geometry.parts import polygonal

__all__ = ["clip_pairs"]


@njit(cache=True, nogil=True)
def _run_end(keys, start):
    """End (exclusive) of the run of equal keys that begins at ``start``."""
    end = start
    while end < len(keys) and keys[end] == keys[start]:
        end += 1
    return end


@njit(cache=True, nogil=True)
def _chain_end(x, y, chain_off, chain_sign, c, last):
    """First (``last`` False) or last point of chain c in the direction it is walked."""
    if (chain_sign[c] > 0) == last:
        k = chain_off[c + 1] - 1
    else:
        k = chain_off[c]
    return x[k], y[k]


@njit(cache=True, nogil=True)
def _assemble(x, y, chain_off, chain_pair, chain_sign, npairs):
    """Close every pair's chains into rings.

    Returns per pair a status (0: rings built, 1: not generic, the chains cannot be linked
    one way), and the rings: points (closed), offsets, pair and planar signed area of each.
    """
    nch = len(chain_pair)
    status = np.zeros(npairs, dtype=np.int8)
    rx = np.empty(len(x) + 1, dtype=np.float64)
    ry = np.empty(len(x) + 1, dtype=np.float64)
    ring_off = np.zeros(nch + 1, dtype=np.int64)
    ring_pair = np.empty(nch, dtype=np.int64)
    ring_area = np.empty(nch, dtype=np.float64)
    succ = np.full(nch, -1, dtype=np.int64)
    seen = np.zeros(nch, dtype=np.bool_)
    npts = 0
    nring = 0
    c0 = 0
    while c0 < nch:
        p = chain_pair[c0]
        c1 = _run_end(chain_pair, c0)
        ok = True
        # the successor of a chain is the one chain that starts where it ends
        for c in range(c0, c1):
            ex, ey = _chain_end(x, y, chain_off, chain_sign, c, True)
            found = -1
            for d in range(c0, c1):
                sx, sy = _chain_end(x, y, chain_off, chain_sign, d, False)
                if sx == ex and sy == ey:
                    if found >= 0:
                        ok = False
                    found = d
            if found < 0:
                ok = False
            succ[c] = found
        if ok:  # a permutation: every chain is the successor of exactly one
            for c in range(c0, c1):
                seen[c] = False
            for c in range(c0, c1):
                if seen[succ[c]]:
                    ok = False
                seen[succ[c]] = True
        if not ok:
            status[p] = 1
            c0 = c1
            continue
        for c in range(c0, c1):
            seen[c] = False
        rings_before, pts_before = nring, npts
        for c in range(c0, c1):
            if seen[c]:
                continue
            start = npts
            d = c
            first = True
            while True:
                seen[d] = True
                k0, k1 = chain_off[d], chain_off[d + 1]
                n = k1 - k0
                # a chain's first point is the previous chain's last: written once
                for j in range(0 if first else 1, n):
                    k = k0 + j if chain_sign[d] > 0 else k1 - 1 - j
                    rx[npts] = x[k]
                    ry[npts] = y[k]
                    npts += 1
                first = False
                d = succ[d]
                if d == c:
                    break
            # signed area (shoelace about the ring's first point)
            ox, oy = rx[start], ry[start]
            acc = 0.0
            for k in range(start, npts - 1):
                acc += (rx[k] - ox) * (ry[k + 1] - oy) - (rx[k + 1] - ox) * (ry[k] - oy)
            if npts - start < 4 or acc == 0.0 or rx[npts - 1] != ox or ry[npts - 1] != oy:
                ok = False
            ring_off[nring + 1] = npts
            ring_pair[nring] = p
            ring_area[nring] = 0.5 * acc
            nring += 1
        if not ok:
            status[p] = 1
            nring, npts = rings_before, pts_before
        c0 = c1
    return (status, rx[:npts].copy(), ry[:npts].copy(), ring_off[: nring + 1].copy(),
            ring_pair[:nring].copy(), ring_area[:nring].copy())


@njit(cache=True, nogil=True)
def _nest(rx, ry, ring_off, ring_pair, ring_area):
    """Order the rings shell first, then its holes, polygon by polygon; each hole goes to
    the smallest shell (of its pair) that holds its first point.

    Returns the ring order, the polygon of each ring in that order, and the pair of each
    polygon; ``lost`` flags the pairs with a hole no shell holds (not generic).
    """
    nring = len(ring_pair)
    order = np.empty(nring, dtype=np.int64)
    ring_poly = np.empty(nring, dtype=np.int64)
    poly_pair = np.empty(nring, dtype=np.int64)
    owner = np.full(nring, -1, dtype=np.int64)
    lost_pairs = np.empty(nring, dtype=np.int64)
    nlost = 0
    npoly = 0
    pos = 0
    r0 = 0
    while r0 < nring:
        p = ring_pair[r0]
        r1 = _run_end(ring_pair, r0)
        nshell = 0
        last_shell = -1
        for r in range(r0, r1):
            if ring_area[r] > 0:
                nshell += 1
                last_shell = r
        lost = nshell == 0
        for r in range(r0, r1):
            if ring_area[r] > 0:
                continue
            if nshell == 1:
                owner[r] = last_shell
                continue
            best, best_area = -1, np.inf
            px, py = rx[ring_off[r]], ry[ring_off[r]]
            for s in range(r0, r1):
                # the crossing number of pairarea, about the point itself
                if ring_area[s] > 0 and ring_area[s] < best_area and point_inside(
                    0.0, 0.0, rx, ry, ring_off, s, s + 1, px, py, False
                ):
                    best, best_area = s, ring_area[s]
            if best < 0:
                lost = True
            owner[r] = best
        if lost:
            lost_pairs[nlost] = p
            nlost += 1
        else:
            for s in range(r0, r1):
                if ring_area[s] <= 0:
                    continue
                order[pos] = s
                ring_poly[pos] = npoly
                pos += 1
                for r in range(r0, r1):
                    if owner[r] == s:
                        order[pos] = r
                        ring_poly[pos] = npoly
                        pos += 1
                poly_pair[npoly] = p
                npoly += 1
        r0 = r1
    return order[:pos].copy(), ring_poly[:pos].copy(), poly_pair[:npoly].copy(), \
        lost_pairs[:nlost].copy()


def clip_pairs(a, b, *, difference: bool = False, a_flat=None) -> np.ndarray:
    """``a[i] ∩ b[i]`` (or ``a[i] − b[i]`` with ``difference``) for every i.

    Parameters
    ----------
    a, b : arrays of shapely geometries, same length
        Valid polygonal geometries (Polygon, MultiPolygon; the polygonal parts of a
        collection), or None.
    a_flat : (Flat, index), optional
        ``a`` already flattened (:class:`landcheck.geometry.pairarea.Flat`); ``a`` must then hold
        valid Polygons/MultiPolygons or None.

    Returns
    -------
    object array
        The polygonal result (Polygon, or MultiPolygon where it has several parts), None
        where it has no area. A pair whose ``a[i]`` lies inside ``b[i]`` gets ``a[i]``
        itself (the same object) as its intersection; a difference with nothing to subtract
        (``b[i]`` None) is ``a[i]`` itself.
    """
    a_areal, b_areal, rows, result, touch = pair_chains(a, b, a_flat, difference, "clip_pairs")
    out = np.full(len(a_areal), None, dtype=object)
    if difference:  # nothing to subtract: a itself
        only_a = ~shapely.is_missing(a_areal) & shapely.is_missing(b_areal)
        out[only_a] = np.asarray(a, dtype=object)[only_a]
    if result is None:
        return out
    status, _, x, y, chain_off, chain_pair, chain_sign = result
    geos = status != GENERIC
    done = np.zeros(len(rows), dtype=bool)  # answered without building rings
    if not difference:
        done = status == A_INSIDE_B
        out[rows[done]] = a_areal[rows[done]]
        geos &= ~done
    # an overlap (or what is left) within rounding of nothing: GEOS decides
    geos |= touch & (np.bincount(chain_pair, minlength=len(rows)) > 0)
    if len(chain_pair):
        ring_status, rx, ry, ring_off, ring_pair, ring_area = _assemble(
            x, y, chain_off, chain_pair, chain_sign, len(rows))
        geos |= ring_status != 0
        order, ring_poly, poly_pair, lost = _nest(rx, ry, ring_off, ring_pair, ring_area)
        geos[lost] = True
        keep = ~(geos | done)[poly_pair]
        if keep.any():
            keep_ring = keep[ring_poly]
            order, ring_poly = order[keep_ring], ring_poly[keep_ring]
            lengths = np.diff(ring_off)[order]
            starts = ring_off[:-1][order]
            idx = np.repeat(starts - np.cumsum(np.r_[0, lengths[:-1]]), lengths) + np.arange(
                lengths.sum())
            rings = shapely.linearrings(np.column_stack([rx[idx], ry[idx]]),
                                        indices=np.repeat(np.arange(len(order)), lengths))
            _, poly_index = np.unique(ring_poly, return_inverse=True)
            polys = shapely.polygons(rings, indices=poly_index)
            pairs = poly_pair[keep]
            multi = np.bincount(pairs, minlength=len(rows)) > 1
            one = ~multi[pairs]
            result = np.full(len(rows), None, dtype=object)
            result[pairs[one]] = polys[one]
            if multi.any():
                many = pairs[~one]
                _, group = np.unique(many, return_inverse=True)
                result[np.unique(many)] = shapely.multipolygons(polys[~one], indices=group)
            made = np.flatnonzero(~shapely.is_missing(result))
            valid = shapely.is_valid(result[made])
            geos[made[~valid]] = True
            made = made[valid]
            out[rows[made]] = result[made]
    if geos.any():
        sub = rows[geos]
        op = shapely.difference if difference else shapely.intersection
        got = op(a_areal[sub], b_areal[sub])
        out[sub] = polygonal(got)
    return out
