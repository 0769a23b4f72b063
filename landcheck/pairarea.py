"""Area of the intersection of polygon pairs, without building the intersection.

Many facts need only *how much* of a patch lies on a feature, not the piece itself: the
area on each land-use parcel, on farmland under permanent farmland, the remainder's area on
farmland. GEOS builds every piece (noding, topology graph, rings) only for the area to be
read off it. :func:`overlap_areas` measures the area of ``a[i] ∩ b[i]`` straight from the
two outlines instead.

Method
------
The boundary of ``A ∩ B`` is the part of A's boundary inside B plus the part of B's
boundary inside A. An area is a boundary integral (Green's theorem: the shoelace sum in
the plane, the survey trapezoid sum on the ellipsoid, :mod:`landcheck.area`), so
``area(A ∩ B)`` is the integral over those boundary parts, each ring oriented with the
interior on its left. A compiled kernel finds, for every pair, the proper crossings of
A's and B's edges (edges pruned by bounding box), decides whether each ring's first vertex
lies inside the other polygon (crossing number), walks each ring toggling inside/outside
at its crossings, and emits the inside stretches as open chains of points (a crossing point
is computed once and shared by both chains that meet there, so the chains close exactly).
Planar areas are summed in the kernel; official areas come from
:func:`landcheck.area.chain_official_area` on the same chains, with one reference latitude
per pair (the chains of a pair form closed cycles, so it cancels as over a ring).

Exactness and the fallback
--------------------------
Coordinates are taken relative to a vertex of the pair's first polygon (exact: both are
of the same magnitude). Every orientation decision — which side of an edge a vertex lies
on, for crossings and for the crossing number — is taken only when its sign is certain
(Shewchuk's static error bound for a floating-point ``orient2d``); then the set of
crossings and the inside/outside state of every stretch are exact, and the only rounding
is in the crossing points (~1e-16 of an edge) and the sums. A pair where any decision is
uncertain — a vertex on or within rounding of the other outline, a shared or collinear
edge, outlines touching at a point: common where patches were digitised along parcel
lines — is *degenerate*: it is measured by GEOS (``intersection``, then the official area
of the piece), as before. The result for every pair is the area GEOS's piece would have,
to ~1e-12 relative (tested against GEOS, generic and degenerate pairs alike).
"""

from __future__ import annotations

import numpy as np
import shapely
from numba import njit

from landcheck.area import chain_official_area

__all__ = ["overlap_areas"]

#: Pair status returned by the kernel.
GENERIC, DEGENERATE, A_INSIDE_B = 0, 1, 2

_EPS = 2.0**-53
#: Shewchuk's ccwerrboundA, doubled as a margin: |det| above it has a certain sign.
_ORIENT_BOUND = 2.0 * (3.0 + 16.0 * _EPS) * _EPS


@njit(cache=True, nogil=True)
def _orient(px, py, qx, qy, rx, ry):
    """orient2d(p, q, r) and whether its sign is certain (> 0: r left of p→q)."""
    left = (px - rx) * (qy - ry)
    right = (py - ry) * (qx - rx)
    det = left - right
    return det, abs(det) > _ORIENT_BOUND * (abs(left) + abs(right))


@njit(cache=True, nogil=True)
def _ring_signs(x, y, ring_off, ring_exterior):
    """+1 where a ring runs with its polygon's interior on the left (exterior CCW, hole CW)."""
    n = len(ring_off) - 1
    out = np.ones(n, dtype=np.float64)
    for r in range(n):
        s, e = ring_off[r], ring_off[r + 1]
        ox, oy = x[s], y[s]
        acc = 0.0
        for k in range(s, e - 1):
            acc += (x[k] - ox) * (y[k + 1] - oy) - (x[k + 1] - ox) * (y[k] - oy)
        ccw = 1.0 if acc > 0 else -1.0
        out[r] = ccw if ring_exterior[r] else -ccw
    return out


@njit(cache=True, nogil=True)
def _inside(px, py, x, y, ring_off, r0, r1, ox, oy):
    """Crossing number of point (px, py) against rings r0..r1-1: (inside, certain)."""
    inside = False
    for r in range(r0, r1):
        for k in range(ring_off[r], ring_off[r + 1] - 1):
            y0, y1 = y[k] - oy, y[k + 1] - oy
            if (y0 > py) != (y1 > py):
                x0, x1 = x[k] - ox, x[k + 1] - ox
                if px > max(x0, x1):
                    continue
                det, sure = _orient(x0, y0, x1, y1, px, py)
                if not sure:
                    return False, False
                if (det > 0) == (y1 > y0):
                    inside = not inside
    return inside, True


@njit(cache=True, nogil=True)
def _box(x, y, k0, k1, ox, oy):
    """Bounding box of vertices k0..k1-1, relative to (ox, oy): xmin, xmax, ymin, ymax."""
    xmin = ymin = np.inf
    xmax = ymax = -np.inf
    for k in range(k0, k1):
        vx, vy = x[k] - ox, y[k] - oy
        xmin, xmax = min(xmin, vx), max(xmax, vx)
        ymin, ymax = min(ymin, vy), max(ymax, vy)
    return xmin, xmax, ymin, ymax


@njit(cache=True, nogil=True)
def _edges_near(x, y, ring_off, r0, r1, ox, oy, xmin, xmax, ymin, ymax, out):
    """Write into ``out`` the edges (index of their first vertex) of rings r0..r1-1 whose
    box meets the given box (relative to (ox, oy)); return how many."""
    n = 0
    for r in range(r0, r1):
        for k in range(ring_off[r], ring_off[r + 1] - 1):
            x0, x1 = x[k] - ox, x[k + 1] - ox
            y0, y1 = y[k] - oy, y[k + 1] - oy
            if max(x0, x1) >= xmin and min(x0, x1) <= xmax and max(y0, y1) >= ymin and (
                min(y0, y1) <= ymax
            ):
                out[n] = k
                n += 1
    return n


@njit(cache=True, nogil=True)
def _grow(arr, need):
    if need <= len(arr):
        return arr
    out = np.empty(max(need, 2 * len(arr)), dtype=arr.dtype)
    out[: len(arr)] = arr
    return out


@njit(cache=True, nogil=True)
def _kernel(ax, ay, a_roff, a_goff, a_sign, bx, by, b_roff, b_goff, b_sign, pa, pb):
    """Inside chains of every pair (pa[i] of A with pb[i] of B).

    Returns status and planar area per pair, the chains' points (absolute coordinates),
    chain offsets into the points, the pair and orientation sign of every chain.
    """
    npairs = len(pa)
    status = np.zeros(npairs, dtype=np.int8)
    planar = np.zeros(npairs, dtype=np.float64)
    out_x = np.empty(1024, dtype=np.float64)
    out_y = np.empty(1024, dtype=np.float64)
    chain_off = np.empty(257, dtype=np.int64)  # one more than the chains
    chain_pair = np.empty(256, dtype=np.int64)
    chain_sign = np.empty(256, dtype=np.float64)
    npts = 0
    nch = 0
    chain_off[0] = 0
    # scratch, grown on demand
    ea = np.empty(64, dtype=np.int64)  # candidate edges of A / B (global vertex index)
    eb = np.empty(64, dtype=np.int64)
    cx_a = np.empty(64, dtype=np.int64)  # crossings: edge of A, edge of B, t, u, point
    cx_b = np.empty(64, dtype=np.int64)
    cx_t = np.empty(64, dtype=np.float64)
    cx_u = np.empty(64, dtype=np.float64)
    cx_x = np.empty(64, dtype=np.float64)
    cx_y = np.empty(64, dtype=np.float64)
    order = np.empty(64, dtype=np.int64)
    for i in range(npairs):
        ga, gb = pa[i], pb[i]
        ar0, ar1 = a_goff[ga], a_goff[ga + 1]
        br0, br1 = b_goff[gb], b_goff[gb + 1]
        ox, oy = ax[a_roff[ar0]], ay[a_roff[ar0]]
        axmin, axmax, aymin, aymax = _box(ax, ay, a_roff[ar0], a_roff[ar1], ox, oy)
        bxmin, bxmax, bymin, bymax = _box(bx, by, b_roff[br0], b_roff[br1], ox, oy)
        # candidate edges: those whose box meets the other polygon's box (capacity for all
        # edges and for every point this pair can write is reserved once per pair: growing
        # an array inside the loops would cost a reference-count update per point)
        n_a_pts = a_roff[ar1] - a_roff[ar0]
        n_b_pts = b_roff[br1] - b_roff[br0]
        if len(ea) < n_a_pts:
            ea = _grow(ea, n_a_pts)
        if len(eb) < n_b_pts:
            eb = _grow(eb, n_b_pts)
        na = _edges_near(ax, ay, a_roff, ar0, ar1, ox, oy, bxmin, bxmax, bymin, bymax, ea)
        nb = _edges_near(bx, by, b_roff, br0, br1, ox, oy, axmin, axmax, aymin, aymax, eb)
        # proper crossings; any uncertain orientation between overlapping edges: degenerate
        nc = 0
        bad = False
        for ii in range(na):
            k = ea[ii]
            p0x, p0y = ax[k] - ox, ay[k] - oy
            p1x, p1y = ax[k + 1] - ox, ay[k + 1] - oy
            lox, hix = min(p0x, p1x), max(p0x, p1x)
            loy, hiy = min(p0y, p1y), max(p0y, p1y)
            for jj in range(nb):
                j = eb[jj]
                q0x, q0y = bx[j] - ox, by[j] - oy
                q1x, q1y = bx[j + 1] - ox, by[j + 1] - oy
                if (
                    max(q0x, q1x) < lox
                    or min(q0x, q1x) > hix
                    or max(q0y, q1y) < loy
                    or min(q0y, q1y) > hiy
                ):
                    continue
                d1, s1 = _orient(q0x, q0y, q1x, q1y, p0x, p0y)
                d2, s2 = _orient(q0x, q0y, q1x, q1y, p1x, p1y)
                d3, s3 = _orient(p0x, p0y, p1x, p1y, q0x, q0y)
                d4, s4 = _orient(p0x, p0y, p1x, p1y, q1x, q1y)
                if not (s1 and s2 and s3 and s4):
                    bad = True
                    break
                if (d1 > 0) != (d2 > 0) and (d3 > 0) != (d4 > 0):
                    t = d1 / (d1 - d2)
                    u = d3 / (d3 - d4)
                    if nc == len(cx_a):
                        cx_a = _grow(cx_a, nc + 1)
                        cx_b = _grow(cx_b, nc + 1)
                        cx_t = _grow(cx_t, nc + 1)
                        cx_u = _grow(cx_u, nc + 1)
                        cx_x = _grow(cx_x, nc + 1)
                        cx_y = _grow(cx_y, nc + 1)
                    cx_a[nc], cx_b[nc], cx_t[nc], cx_u[nc] = k, j, t, u
                    cx_x[nc] = p0x + t * (p1x - p0x)
                    cx_y[nc] = p0y + t * (p1y - p0y)
                    nc += 1
            if bad:
                break
        if bad:
            status[i] = DEGENERATE
            continue
        if len(order) < nc:
            order = _grow(order, nc)
        # points: every vertex of both outlines, each crossing twice (once per side), a
        # ring start once more per ring; chains: one per crossing and side, one per ring
        n_rings = (ar1 - ar0) + (br1 - br0)
        need = npts + n_a_pts + n_b_pts + 2 * nc + n_rings
        if len(out_x) < need:
            out_x = _grow(out_x, need)
            out_y = _grow(out_y, len(out_x))
        need = nch + 2 * nc + n_rings
        if len(chain_pair) < need:
            chain_pair = _grow(chain_pair, need)
            chain_sign = _grow(chain_sign, len(chain_pair))
            chain_off = _grow(chain_off, len(chain_pair) + 1)  # always one longer
        area2 = 0.0
        a_in_all = True
        chains_before = nch
        # two passes: the rings of A against B, then the rings of B against A
        for side in range(2):
            if side == 0:
                xs, ys, roff, sign, r0, r1 = ax, ay, a_roff, a_sign, ar0, ar1
                oxs, oys, ooff, o0, o1 = bx, by, b_roff, br0, br1
                okey = cx_a
                opar = cx_t
                lo_x, hi_x, lo_y, hi_y = bxmin, bxmax, bymin, bymax
            else:
                xs, ys, roff, sign, r0, r1 = bx, by, b_roff, b_sign, br0, br1
                oxs, oys, ooff, o0, o1 = ax, ay, a_roff, ar0, ar1
                okey = cx_b
                opar = cx_u
                lo_x, hi_x, lo_y, hi_y = axmin, axmax, aymin, aymax
            # crossings sorted by (edge, parameter along it): insertion sort, few per pair
            for c in range(nc):
                order[c] = c
            for c in range(1, nc):
                v = order[c]
                w = c - 1
                while w >= 0 and (
                    okey[order[w]] > okey[v]
                    or (okey[order[w]] == okey[v] and opar[order[w]] > opar[v])
                ):
                    order[w + 1] = order[w]
                    w -= 1
                order[w + 1] = v
            cpos = 0
            for r in range(r0, r1):
                s, e = roff[r], roff[r + 1]
                sx, sy = xs[s] - ox, ys[s] - oy
                if sx < lo_x or sx > hi_x or sy < lo_y or sy > hi_y:
                    state = False  # outside the other polygon's box, so outside it
                else:
                    state, sure = _inside(sx, sy, oxs, oys, ooff, o0, o1, ox, oy)
                    if not sure:
                        bad = True
                        break
                if side == 0 and not state:
                    a_in_all = False
                if not state and (cpos >= nc or okey[order[cpos]] >= e - 1):
                    continue  # no crossing on this ring and outside: nothing of it inside
                # points are written only inside an open chain, so chains are contiguous:
                # chain c spans chain_off[c] .. chain_off[c + 1]
                open_chain = state
                if open_chain:
                    out_x[npts], out_y[npts] = sx, sy
                    npts += 1
                for k in range(s, e - 1):
                    while cpos < nc and okey[order[cpos]] == k:
                        c = order[cpos]
                        out_x[npts], out_y[npts] = cx_x[c], cx_y[c]
                        npts += 1
                        if open_chain:  # leaving the other polygon: close the chain
                            chain_off[nch + 1] = npts
                            chain_pair[nch] = i
                            chain_sign[nch] = sign[r]
                            nch += 1
                        open_chain = not open_chain  # entering: the point opens a chain
                        cpos += 1
                    if open_chain:
                        out_x[npts], out_y[npts] = xs[k + 1] - ox, ys[k + 1] - oy
                        npts += 1
                if open_chain:
                    chain_off[nch + 1] = npts
                    chain_pair[nch] = i
                    chain_sign[nch] = sign[r]
                    nch += 1
            if bad:
                break
            if side == 1 and nc == 0 and a_in_all and nch == chains_before + (ar1 - ar0):
                status[i] = A_INSIDE_B  # only A's own rings were emitted: no B ring inside A
        if bad:
            status[i] = DEGENERATE
            nch = chains_before
            npts = chain_off[nch]
            continue
        for c in range(chains_before, nch):
            acc = 0.0
            for k in range(chain_off[c], chain_off[c + 1] - 1):
                acc += out_x[k] * out_y[k + 1] - out_x[k + 1] * out_y[k]
            area2 += chain_sign[c] * acc
        planar[i] = 0.5 * area2
        for k in range(chain_off[chains_before], npts):
            out_x[k] += ox
            out_y[k] += oy
    return (
        status,
        planar,
        out_x[:npts].copy(),
        out_y[:npts].copy(),
        chain_off[: nch + 1].copy(),
        chain_pair[:nch].copy(),
        chain_sign[:nch].copy(),
    )


def _flatten(geoms):
    """Coordinates of non-empty Polygons and MultiPolygons as offsets: geometry → rings →
    vertices."""
    types = shapely.get_type_id(geoms)
    if (types == 3).all() and not shapely.get_num_interior_rings(geoms).any():
        # polygons without holes (most parcels and patches): one ring each
        xy = shapely.get_coordinates(geoms)
        ring_off = np.zeros(len(geoms) + 1, dtype=np.int64)
        np.cumsum(shapely.get_num_coordinates(geoms), out=ring_off[1:])
        x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
        exterior = np.ones(len(geoms), dtype=bool)
        geom_off = np.arange(len(geoms) + 1, dtype=np.int64)
        return x, y, ring_off, geom_off, _ring_signs(x, y, ring_off, exterior)
    kind, xy, offsets = shapely.to_ragged_array(geoms)
    if kind == shapely.GeometryType.POLYGON:
        ring_off, poly_off = offsets
        geom_off = poly_off
    else:
        ring_off, part_off, geom_parts = offsets
        poly_off = part_off
        geom_off = part_off[geom_parts]
    exterior = np.zeros(len(ring_off) - 1, dtype=bool)
    exterior[poly_off[:-1][np.diff(poly_off) > 0]] = True
    x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    ring_off = ring_off.astype(np.int64)
    return x, y, ring_off, geom_off.astype(np.int64), _ring_signs(x, y, ring_off, exterior)


def _areal(geoms) -> np.ndarray:
    """Polygons and MultiPolygons as they are (the same objects); the polygonal parts of a
    collection as one MultiPolygon; None for anything without area (None, empty, points,
    lines)."""
    out = np.asarray(geoms, dtype=object).copy()
    has = ~shapely.is_missing(out)
    types = np.full(len(out), -1)
    types[has] = shapely.get_type_id(out[has])
    empty = np.zeros(len(out), dtype=bool)
    empty[has] = shapely.is_empty(out[has])
    out[~np.isin(types, (3, 6, 7)) | empty] = None
    for i in np.flatnonzero((types == 7) & ~empty):  # collections are rare: one by one
        from landcheck.area import _polygons

        polys, _ = _polygons(shapely.get_parts(out[i]))
        polys = polys[~shapely.is_empty(polys)]
        out[i] = shapely.MultiPolygon(list(polys)) if len(polys) else None
    return out


def _unique(geoms):
    """Distinct geometry objects (by identity) and the index of each element among them."""
    ids = np.fromiter(map(id, geoms), dtype=np.uint64, count=len(geoms))
    _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    return geoms[first], inverse


def overlap_areas(a, b, *, crs) -> tuple[np.ndarray, np.ndarray]:
    """Official area (m²) of ``a[i] ∩ b[i]`` for every i, and whether ``a[i]`` lies in ``b[i]``.

    Parameters
    ----------
    a, b : arrays of shapely geometries, same length
        Valid polygonal geometries (Polygon, MultiPolygon, or collections whose polygonal
        parts are measured), or None (area 0). Repeated objects are flattened once.
    crs : the geometries' (projected) CRS, as for :func:`landcheck.area.official_area`.

    Returns
    -------
    area : float64 array
        The official area of the intersection, as :func:`landcheck.area.official_area` of
        the GEOS intersection would give it (degenerate pairs are measured that way).
    inside : bool array
        ``a[i]`` lies in the interior of ``b[i]``, no outline touching (its area is then
        ``a[i]``'s own, which callers may look up instead).
    """
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    n = len(a)
    area = np.zeros(n)
    inside = np.zeros(n, dtype=bool)
    if len(a) != len(b):
        raise ValueError(f"overlap_areas: {len(a)} geometries in a, {len(b)} in b")
    a_areal, b_areal = _areal(a), _areal(b)
    has = ~(shapely.is_missing(a_areal) | shapely.is_missing(b_areal))
    if not has.any():
        return area, inside
    rows = np.flatnonzero(has)
    ua, ia = _unique(a_areal[rows])
    ub, ib = _unique(b_areal[rows])
    fa, fb = _flatten(ua), _flatten(ub)
    status, _planar, x, y, chain_off, chain_pair, chain_sign = _kernel(*fa, *fb, ia, ib)
    area[rows] = chain_official_area(x, y, chain_off, chain_pair, chain_sign, len(rows), crs=crs)
    inside[rows] = status == A_INSIDE_B
    bad = rows[status == DEGENERATE]
    if len(bad):
        from landcheck.area import official_area

        pieces = shapely.intersection(a_areal[bad], b_areal[bad])
        area[bad] = official_area(pieces, crs=crs)
    return area, inside
