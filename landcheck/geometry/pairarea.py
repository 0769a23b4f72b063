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
on, for crossings and for the crossing number — is exact: a floating-point ``orient2d``
where Shewchuk's static error bound makes its sign certain, expansion arithmetic where
not. Where the exact answer is "on the line" (a vertex on the other outline, outlines
touching, shared vertices and edges: common where outlines were digitised along each
other), outline B is taken as shifted by an infinitesimal (ε, ε²) (simulation of
simplicity), which decides every such case consistently and converges to the area of the
unshifted pair. Then the set of crossings and every stretch's inside/outside state are
exact; the only rounding is in the crossing points and the sums. Three cases go to GEOS
(``intersection``, then the official area of the piece): collinear overlapping edges that
are not the same segment (the two sides' vertices along them differ, and so would their
official areas), two crossings on one edge closer than the rounding of their positions
(their order is not known), and crossings whose position cannot be computed. An overlap
below :data:`TOUCH_RTOL` of the smaller polygon is none: outlines that only share edges
leave chains that cancel up to rounding.

Where outlines touch, GEOS keeps the touching point as a vertex of the piece; since the
official method rounds every vertex and densifies every edge on its own, the two official
areas may then differ by that vertex effect (within
:data:`landcheck.area.SAME_AREA_M2`, docs/area.md). Planar areas agree to ~1e-9 in all
cases (tested against GEOS, generic and degenerate pairs alike, and on real layers).
"""

from __future__ import annotations

import numpy as np
import shapely
from numba import njit

from landcheck.area import DEFAULT_AREA_METHOD, chain_official_area, polygons_of
from landcheck.geometry.area_kernel import one_ring_each
from landcheck.geometry.objects import object_ids

__all__ = ["overlap_areas"]

#: Pair status returned by the kernel.
GENERIC, DEGENERATE, A_INSIDE_B = 0, 1, 2
#: A measured overlap below this fraction of the smaller polygon's area is none: outlines
#: that share edges leave chains that cancel only up to rounding.
TOUCH_RTOL = 1e-12

_EPS = 2.0**-53
#: Shewchuk's ccwerrboundA, doubled as a margin: |det| above it has a certain sign.
_ORIENT_BOUND = 2.0 * (3.0 + 16.0 * _EPS) * _EPS


@njit(cache=True, nogil=True)
def _orient(px, py, qx, qy, rx, ry):
    """orient2d(p, q, r), whether its sign is certain (> 0: r left of p→q), and a bound on
    its rounding error."""
    left = (px - rx) * (qy - ry)
    right = (py - ry) * (qx - rx)
    det = left - right
    bound = _ORIENT_BOUND * (abs(left) + abs(right))
    return det, abs(det) > bound, bound


@njit(cache=True, nogil=True)
def _two_sum(a, b):
    x = a + b
    bv = x - a
    av = x - bv
    return x, (a - av) + (b - bv)


@njit(cache=True, nogil=True)
def _two_diff(a, b):
    x = a - b
    bv = a - x
    av = x + bv
    return x, (a - av) + (bv - b)


@njit(cache=True, nogil=True)
def _two_product(a, b):
    """a·b = x + y exactly (Dekker's product, no fused multiply-add needed)."""
    x = a * b
    c = 134217729.0 * a  # 2^27 + 1
    ahi = c - (c - a)
    alo = a - ahi
    c = 134217729.0 * b
    bhi = c - (c - b)
    blo = b - bhi
    err = x - ahi * bhi
    err -= alo * bhi
    err -= ahi * blo
    return x, alo * blo - err


@njit(cache=True, nogil=True)
def _exact_sign(px, py, qx, qy, rx, ry):
    """The exact sign of orient2d(p, q, r), by expansion arithmetic (Shewchuk): every
    difference and product split into exact two-term sums, added up without rounding."""
    a, at = _two_diff(px, rx)
    b, bt = _two_diff(qy, ry)
    c, ct = _two_diff(py, ry)
    d, dt = _two_diff(qx, rx)
    terms = np.empty(16)
    k = 0
    for u, v, sgn in (
        (a, b, 1.0), (a, bt, 1.0), (at, b, 1.0), (at, bt, 1.0),
        (c, d, -1.0), (c, dt, -1.0), (ct, d, -1.0), (ct, dt, -1.0),
    ):
        x, y = _two_product(u, v)
        terms[k] = sgn * x
        terms[k + 1] = sgn * y
        k += 2
    # grow a nonoverlapping expansion term by term; its largest component has the sign
    e = np.zeros(17)
    m = 0
    for i in range(16):
        q = terms[i]
        for j in range(m):
            q, h = _two_sum(q, e[j])
            e[j] = h
        e[m] = q
        m += 1
    for j in range(m - 1, -1, -1):
        if e[j] != 0.0:
            return 1 if e[j] > 0 else -1
    return 0


@njit(cache=True, nogil=True)
def _side(px, py, qx, qy, rx, ry, line_of_b):
    """orient2d(p, q, r) with a sign that is never 0: (float value, sign, exactly zero, bound
    on the value's rounding error).

    The sign is exact (filter, then expansion arithmetic). Where the exact value is 0 it is
    the sign with outline B shifted by an infinitesimal (ε, ε²) (simulation of simplicity):
    ``line_of_b`` — p, q from B, r from A — gives sign(Δy), else −sign(Δx) of q − p; otherwise
    (p, q from A, r from B) −sign(Δy), else sign(Δx). The value is 0.0 where exactly zero.
    """
    det, sure, bound = _orient(px, py, qx, qy, rx, ry)
    if sure:
        return det, (1 if det > 0 else -1), False, bound
    s = _exact_sign(px, py, qx, qy, rx, ry)
    if s != 0:
        return det, s, False, bound
    ex, ey = qx - px, qy - py
    if line_of_b:
        s = (1 if ey > 0 else -1) if ey != 0 else (-1 if ex > 0 else 1)
    else:
        s = (-1 if ey > 0 else 1) if ey != 0 else (1 if ex > 0 else -1)
    return 0.0, s, True, 0.0


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
def point_inside(px, py, x, y, ring_off, r0, r1, ox, oy, point_of_b):
    """Crossing number of point (px, py) against rings r0..r1-1, with outline B shifted by
    (ε, ε²) as in :func:`_side`: a point of A is tested as (px − ε, py − ε²) against B's
    rings, a point of B (``point_of_b``) as (px + ε, py + ε²) against A's. No point is then
    on the other outline, so the answer is always definite."""
    inside = False
    for r in range(r0, r1):
        for k in range(ring_off[r], ring_off[r + 1] - 1):
            y0, y1 = y[k] - oy, y[k + 1] - oy
            if point_of_b:
                straddles = (y0 > py) != (y1 > py)
            else:
                straddles = (y0 >= py) != (y1 >= py)
            if not straddles:
                continue
            x0, x1 = x[k] - ox, x[k + 1] - ox
            right = max(x0, x1)
            if px > right or (point_of_b and px == right):
                continue
            _, sign, _, _ = _side(x0, y0, x1, y1, px, py, not point_of_b)
            if (sign > 0) == (y1 > y0):
                inside = not inside
    return inside


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
def _kernel(ax, ay, a_roff, a_goff, a_sign, bx, by, b_roff, b_goff, b_sign, pa, pb,
            difference=False):
    """Inside chains of every pair (pa[i] of A with pb[i] of B): the outline of A ∩ B.

    With ``difference`` the chains of A are those *outside* B, and B's chains inside A count
    with the opposite orientation: the outline of A − B (status A_INSIDE_B is then not
    reported: A inside B leaves no chain).

    Returns status and planar area per pair, the chains' points (absolute coordinates),
    chain offsets into the points, the pair and orientation sign of every chain (+1 where
    the chain runs with the result's interior on its left).
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
    cx_et = np.empty(64, dtype=np.float64)  # error bounds of t and u
    cx_eu = np.empty(64, dtype=np.float64)
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
        # proper crossings, every side decided exactly (B shifted by (ε, ε²) where a vertex
        # lies on the other outline); collinear overlapping edges are left to GEOS unless
        # they are the same segment (their official areas would differ by the vertex effect)
        nc = 0
        bad = False
        for ii in range(na):
            k = ea[ii]
            p0x, p0y = ax[k] - ox, ay[k] - oy
            p1x, p1y = ax[k + 1] - ox, ay[k + 1] - oy
            if p0x == p1x and p0y == p1y:
                continue  # a repeated vertex: no edge
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
                    or (q0x == q1x and q0y == q1y)
                ):
                    continue
                d1, s1, z1, e1 = _side(q0x, q0y, q1x, q1y, p0x, p0y, True)
                d2, s2, z2, e2 = _side(q0x, q0y, q1x, q1y, p1x, p1y, True)
                if z1 and z2:  # collinear
                    same = (p0x == q0x and p0y == q0y and p1x == q1x and p1y == q1y) or (
                        p0x == q1x and p0y == q1y and p1x == q0x and p1y == q0y
                    )
                    if not same:
                        if hix - lox >= hiy - loy:
                            lo, hi = max(lox, min(q0x, q1x)), min(hix, max(q0x, q1x))
                        else:
                            lo, hi = max(loy, min(q0y, q1y)), min(hiy, max(q0y, q1y))
                        if hi > lo:
                            bad = True
                            break
                    continue  # parallel once shifted: no crossing
                if s1 == s2:
                    continue
                d3, s3, _, e3 = _side(p0x, p0y, p1x, p1y, q0x, q0y, False)
                d4, s4, _, e4 = _side(p0x, p0y, p1x, p1y, q1x, q1y, False)
                if s3 != s4:
                    # where a side is not certain in floating point, the point of crossing
                    # is within rounding of an end: keep it on the segment
                    # t = d1 / (d1 − d2) along A's edge, u along B's, with error bounds
                    # from those of the d's (where two crossings on one edge are closer
                    # than that, their order is not known: the pair goes to GEOS)
                    if d1 == d2 or d3 == d4:
                        bad = True
                        break
                    den = (d1 - d2) * (d1 - d2)
                    t = min(max(d1 / (d1 - d2), 0.0), 1.0)
                    et = (abs(d2) * e1 + abs(d1) * e2) / den + 4 * _EPS
                    den = (d3 - d4) * (d3 - d4)
                    u = min(max(d3 / (d3 - d4), 0.0), 1.0)
                    eu = (abs(d4) * e3 + abs(d3) * e4) / den + 4 * _EPS
                    if nc == len(cx_a):
                        cx_a = _grow(cx_a, nc + 1)
                        cx_b = _grow(cx_b, nc + 1)
                        cx_t = _grow(cx_t, nc + 1)
                        cx_u = _grow(cx_u, nc + 1)
                        cx_x = _grow(cx_x, nc + 1)
                        cx_y = _grow(cx_y, nc + 1)
                        cx_et = _grow(cx_et, nc + 1)
                        cx_eu = _grow(cx_eu, nc + 1)
                    cx_a[nc], cx_b[nc], cx_t[nc], cx_u[nc] = k, j, t, u
                    cx_et[nc], cx_eu[nc] = et, eu
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
            keep_inside = side == 1 or not difference  # which stretches of this side to emit
            flip = -1.0 if (side == 1 and difference) else 1.0
            if side == 0:
                xs, ys, roff, sign, r0, r1 = ax, ay, a_roff, a_sign, ar0, ar1
                oxs, oys, ooff, o0, o1 = bx, by, b_roff, br0, br1
                okey = cx_a
                opar = cx_t
                oerr = cx_et
                lo_x, hi_x, lo_y, hi_y = bxmin, bxmax, bymin, bymax
            else:
                xs, ys, roff, sign, r0, r1 = bx, by, b_roff, b_sign, br0, br1
                oxs, oys, ooff, o0, o1 = ax, ay, a_roff, ar0, ar1
                okey = cx_b
                opar = cx_u
                oerr = cx_eu
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
            # two crossings on one edge whose order is within the rounding: not known
            for c in range(1, nc):
                c0, c1 = order[c - 1], order[c]
                if okey[c0] == okey[c1]:
                    gap = opar[c1] - opar[c0]
                    if gap <= oerr[c0] + oerr[c1] and not (
                        gap == 0.0 and cx_x[c0] == cx_x[c1] and cx_y[c0] == cx_y[c1]
                    ):
                        bad = True
            if bad:
                break
            cpos = 0
            for r in range(r0, r1):
                s, e = roff[r], roff[r + 1]
                sx, sy = xs[s] - ox, ys[s] - oy
                if sx < lo_x or sx > hi_x or sy < lo_y or sy > hi_y:
                    state = False  # outside the other polygon's box, so outside it
                else:
                    state = point_inside(sx, sy, oxs, oys, ooff, o0, o1, ox, oy, side == 1)
                if side == 0 and not state:
                    a_in_all = False
                open_chain = state == keep_inside
                if not open_chain and (cpos >= nc or okey[order[cpos]] >= e - 1):
                    continue  # no crossing on this ring, and none of it is wanted
                # points are written only inside an open chain, so chains are contiguous:
                # chain c spans chain_off[c] .. chain_off[c + 1]
                if open_chain:
                    out_x[npts], out_y[npts] = sx, sy
                    npts += 1
                for k in range(s, e - 1):
                    while cpos < nc and okey[order[cpos]] == k:
                        c = order[cpos]
                        out_x[npts], out_y[npts] = cx_x[c], cx_y[c]
                        npts += 1
                        if open_chain:  # leaving the wanted side: close the chain
                            chain_off[nch + 1] = npts
                            chain_pair[nch] = i
                            chain_sign[nch] = flip * sign[r]
                            nch += 1
                        open_chain = not open_chain  # entering: the point opens a chain
                        cpos += 1
                    if open_chain:
                        out_x[npts], out_y[npts] = xs[k + 1] - ox, ys[k + 1] - oy
                        npts += 1
                if open_chain:
                    chain_off[nch + 1] = npts
                    chain_pair[nch] = i
                    chain_sign[nch] = flip * sign[r]
                    nch += 1
            if bad:
                break
            if (not difference and side == 1 and nc == 0 and a_in_all
                    and nch == chains_before + (ar1 - ar0)):
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


def flatten(geoms):
    """Coordinates of non-empty Polygons and MultiPolygons as offsets: geometry → rings →
    vertices."""
    types = shapely.get_type_id(geoms)
    if (types == 3).all():
        xy = shapely.get_coordinates(geoms)
        ring_off = np.zeros(len(geoms) + 1, dtype=np.int64)
        np.cumsum(shapely.get_num_coordinates(geoms), out=ring_off[1:])
        x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
        if one_ring_each(x, y, ring_off):
            # polygons without holes (most parcels and patches): one ring each (found from
            # the coordinates, in compiled code: asking GEOS for the number of holes held
            # the interpreter for a third of this function's time)
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
        polys, _ = polygons_of(shapely.get_parts(out[i]))
        polys = polys[~shapely.is_empty(polys)]
        out[i] = shapely.MultiPolygon(list(polys)) if len(polys) else None
    return out


def _drop_chains(pairs, x, y, chain_off, chain_pair, chain_sign):
    """The chains (and their points) of the pairs not flagged in ``pairs``."""
    keep = ~pairs[chain_pair]
    lengths = np.diff(chain_off)
    points = np.repeat(keep, lengths)
    off = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
    np.cumsum(lengths[keep], out=off[1:])
    return x[points], y[points], off, chain_pair[keep], chain_sign[keep]


class Flat:
    """Polygons flattened once (:func:`flatten`) with their planar areas, for several
    :func:`overlap_areas` / :func:`landcheck.geometry.pairclip.clip_pairs` calls on the same side
    (a chunk's patches): pass ``a_flat=(flat, index)``, ``index[i]`` the polygon of pair i."""

    def __init__(self, geoms):
        geoms = np.asarray(geoms, dtype=object)
        self.arrays = flatten(geoms) if len(geoms) else (
            np.zeros(0), np.zeros(0), np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64),
            np.zeros(0))
        self.planar = shapely.area(geoms)


def pair_chains(a, b, a_flat, difference, caller):
    """What :func:`overlap_areas` and :func:`landcheck.geometry.pairclip.clip_pairs` share: both
    sides made areal (:func:`_areal`; ``a`` as given with ``a_flat``), the rows where both
    have area, the kernel's result for those rows (None where there are none), and which of
    them overlap by less than :data:`TOUCH_RTOL` of the smaller polygon."""
    a = np.asarray(a, dtype=object)
    b = np.asarray(b, dtype=object)
    if len(a) != len(b):
        raise ValueError(f"{caller}: {len(a)} geometries in a, {len(b)} in b")
    a_areal = _areal(a) if a_flat is None else a
    b_areal = _areal(b)
    rows = np.flatnonzero(~(shapely.is_missing(a_areal) | shapely.is_missing(b_areal)))
    if not len(rows):
        return a_areal, b_areal, rows, None, None
    if a_flat is None:
        ua, ia = _unique(a_areal[rows])
        fa, a_planar = flatten(ua), shapely.area(ua)[ia]
    else:
        flat, index = a_flat
        ia = np.asarray(index, dtype=np.int64)[rows]
        fa, a_planar = flat.arrays, flat.planar[ia]
    ub, ib = _unique(b_areal[rows])
    result = _kernel(*fa, *flatten(ub), ia, ib, difference)
    touch = np.abs(result[1]) <= TOUCH_RTOL * np.minimum(a_planar, shapely.area(ub)[ib])
    return a_areal, b_areal, rows, result, touch


def _unique(geoms):
    """Distinct geometry objects (by identity) and the index of each element among them."""
    ids = object_ids(geoms)
    _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    return geoms[first], inverse


def overlap_areas(a, b, *, crs, a_area=None, a_flat=None, method=DEFAULT_AREA_METHOD
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Official area (m²) of ``a[i] ∩ b[i]`` for every i, and whether ``a[i]`` lies in ``b[i]``.

    Parameters
    ----------
    a, b : arrays of shapely geometries, same length
        Valid polygonal geometries (Polygon, MultiPolygon, or collections whose polygonal
        parts are measured), or None (area 0). Repeated objects are flattened once.
    crs : the geometries' (projected) CRS, as for :func:`landcheck.area.official_area`; or
        None for planar areas (in the coordinates' unit squared).
    a_area : float array, optional
        The official areas of ``a`` where the caller knows them (NaN elsewhere): a pair
        whose ``a[i]`` lies in ``b[i]`` takes it instead of measuring ``a[i]``'s outline.
    a_flat : (Flat, index), optional
        ``a`` already flattened (:class:`Flat`; ``a[i]`` is its polygon ``index[i]``); ``a``
        must then hold valid Polygons/MultiPolygons or None.

    Returns
    -------
    area : float64 array
        The official area of the intersection, as :func:`landcheck.area.official_area` of
        the GEOS intersection would give it, up to the vertex effect where the outlines
        touch (GEOS keeps a touching point as a vertex; docs/area.md); degenerate pairs are
        measured that way. With ``crs=None`` the planar area, as ``shapely.area`` of it.
    inside : bool array
        ``a[i]`` lies in ``b[i]`` (it may touch ``b[i]``'s outline from inside): the
        intersection is ``a[i]`` itself, whose area callers may look up instead. A pair may
        also be within and not flagged (identical outlines, GEOS-measured pairs).
    """
    a_areal, b_areal, rows, result, touch = pair_chains(a, b, a_flat, False, "overlap_areas")
    area = np.zeros(len(a_areal))
    inside = np.zeros(len(a_areal), dtype=bool)
    if result is None:
        return area, inside
    status, planar, x, y, chain_off, chain_pair, chain_sign = result
    # outlines that only share edges leave chains that cancel up to rounding: an overlap
    # below TOUCH_RTOL of the smaller polygon is none (GEOS would return a line)
    if crs is None:  # planar areas
        measured = np.abs(planar)
    else:
        known = np.zeros(len(rows), dtype=bool)
        if a_area is not None:  # a lies in b and its area is known: skip its outline
            given = np.asarray(a_area, dtype=float)[rows]
            known = (status == A_INSIDE_B) & np.isfinite(given)
            if known.any():
                x, y, chain_off, chain_pair, chain_sign = _drop_chains(
                    known, x, y, chain_off, chain_pair, chain_sign)
        measured = chain_official_area(
            x, y, chain_off, chain_pair, chain_sign, len(rows), crs=crs, method=method
        )
        # a sliver's official area can be dominated by the vertex effect and come out
        # negative; official_area takes each ring's absolute value, and so does this
        measured = np.abs(measured)
        if known.any():
            measured[known] = given[known]
    measured[touch] = 0.0
    area[rows] = measured
    inside[rows] = status == A_INSIDE_B
    bad = rows[status == DEGENERATE]
    if len(bad):
        from landcheck.area import official_area

        pieces = shapely.intersection(a_areal[bad], b_areal[bad])
        area[bad] = (shapely.area(pieces) if crs is None
                     else official_area(pieces, crs=crs, method=method))
    return area, inside
