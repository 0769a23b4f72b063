"""Compiled loops over the outlines of a remainder and of what it is compared with.

:func:`cut_lengths`: the part of a remainder's outline that is not its patch's outline (the
rule is :func:`landcheck.overlay._cut_length`'s), per patch over the remainder's edges and
the patch's edges (a few dozen each), with no temporary geometries. :func:`same_rings`:
whether two polygons have exactly the same rings, and :func:`opening_keeps`: whether an
opening provably gives a polygon back (both for :func:`landcheck.overlay._remainder`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _near(px, py, x, y, ring, start, end, tol2):
    """Whether point (px, py) lies within sqrt(tol2) of an edge among points start..end-1
    (an edge joins consecutive points of one ring)."""
    for j in range(start, end - 1):
        if ring[j] != ring[j + 1]:
            continue
        ax, ay = x[j], y[j]
        dx, dy = x[j + 1] - ax, y[j + 1] - ay
        qx, qy = px - ax, py - ay
        d2 = dx * dx + dy * dy
        t = 0.0 if d2 == 0.0 else (qx * dx + qy * dy) / d2
        t = min(max(t, 0.0), 1.0)
        ex, ey = qx - t * dx, qy - t * dy
        if ex * ex + ey * ey <= tol2:
            return True
    return False


@njit(cache=True, nogil=True)
def cut_lengths(rx, ry, r_ring, r_off, px, py, p_ring, p_off, tol):
    """Per row k: the length of the edges among remainder points ``r_off[k]..r_off[k+1]-1``
    whose points at a third and two thirds of their length are not both within ``tol`` of
    an edge among patch points ``p_off[k]..p_off[k+1]-1``."""
    n = len(r_off) - 1
    out = np.zeros(n)
    tol2 = tol * tol
    for k in range(n):
        ps, pe = p_off[k], p_off[k + 1]
        total = 0.0
        for i in range(r_off[k], r_off[k + 1] - 1):
            if r_ring[i] != r_ring[i + 1]:
                continue
            x0, y0 = rx[i], ry[i]
            dx, dy = rx[i + 1] - x0, ry[i + 1] - y0
            on = _near(x0 + dx / 3.0, y0 + dy / 3.0, px, py, p_ring, ps, pe, tol2) and _near(
                x0 + 2.0 * dx / 3.0, y0 + 2.0 * dy / 3.0, px, py, p_ring, ps, pe, tol2)
            if not on:
                total += math.hypot(dx, dy)
        out[k] = total
    return out


@njit(cache=True, nogil=True)
def _ring_starts(ring, start, end):
    """Start offsets of the rings among points start..end-1, and end as the last entry."""
    n = 1
    for i in range(start + 1, end):
        if ring[i] != ring[i - 1]:
            n += 1
    out = np.empty(n + 1, dtype=np.int64)
    out[0] = start
    k = 1
    for i in range(start + 1, end):
        if ring[i] != ring[i - 1]:
            out[k] = i
            k += 1
    out[n] = end
    return out


@njit(cache=True, nogil=True)
def _cyclic_equal(ax, ay, a0, bx, by, b0, m, j, step):
    """Points a0..a0+m-1 equal b's points from j on, cyclically over m, forward (step 1) or
    backward (step -1)."""
    for t in range(m):
        k = b0 + (j + step * t) % m
        if ax[a0 + t] != bx[k] or ay[a0 + t] != by[k]:
            return False
    return True


@njit(cache=True, nogil=True)
def same_rings(ax, ay, a_ring, a_off, bx, by, b_ring, b_off):
    """Per geometry k: whether its rings in A and in B are the same closed sequences of
    points, bit for bit (any starting point, either direction, rings in any order). Two
    valid polygons with the same rings are the same point set."""
    n = len(a_off) - 1
    out = np.zeros(n, dtype=np.bool_)
    for k in range(n):
        if a_off[k + 1] - a_off[k] != b_off[k + 1] - b_off[k] or a_off[k + 1] == a_off[k]:
            continue
        ra = _ring_starts(a_ring, a_off[k], a_off[k + 1])
        rb = _ring_starts(b_ring, b_off[k], b_off[k + 1])
        if len(ra) != len(rb):
            continue
        used = np.zeros(len(rb) - 1, dtype=np.bool_)
        ok = True
        for p in range(len(ra) - 1):
            a0, m = ra[p], ra[p + 1] - ra[p] - 1  # a closed ring repeats its first point
            found = False
            for q in range(len(rb) - 1):
                b0 = rb[q]
                if used[q] or rb[q + 1] - b0 - 1 != m or m < 3:
                    continue
                for j in range(m):
                    if bx[b0 + j] == ax[a0] and by[b0 + j] == ay[a0]:
                        if (_cyclic_equal(ax, ay, a0, bx, by, b0, m, j, 1)
                                or _cyclic_equal(ax, ay, a0, bx, by, b0, m, j, -1)):
                            found = True
                        break
                if found:
                    used[q] = True
                    break
            if not found:
                ok = False
                break
        out[k] = ok
    return out


#: GEOS's mitre limit (``shapely.buffer``'s default): a join whose mitre is longer than this
#: many distances is bevelled.
MITRE_LIMIT = 5.0
#: The sharpest turn at a vertex :func:`opening_keeps` accepts (degrees). At 155° the mitre is
#: 1 / cos(77.5°) = 4.6 distances long, inside the mitre limit.
MAX_TURN_DEG = 155.0
#: GEOS simplifies a buffer's input, dropping vertices closer than 0.01 distance to the line
#: through their neighbours; :func:`opening_keeps` wants every vertex this many times further.
SIMPLIFY_FACTOR = 0.01
SIMPLIFY_MARGIN = 10.0
#: Safety factor on every distance :func:`opening_keeps` checks.
OPENING_MARGIN = 1.25


@njit(cache=True, nogil=True)
def _segment_distance(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    qx, qy = px - ax, py - ay
    d2 = dx * dx + dy * dy
    t = 0.0 if d2 == 0.0 else min(max((qx * dx + qy * dy) / d2, 0.0), 1.0)
    ex, ey = qx - t * dx, qy - t * dy
    return math.sqrt(ex * ex + ey * ey)


@njit(cache=True, nogil=True)
def _turns(x, y, ring_off, r0, r1, p0, sign, cos_max, min_dev, speed, rate):
    """For :func:`opening_keeps`: each vertex's speed and what its edges lose per unit of
    offset (into ``speed``, ``rate`` at index vertex − p0); False where a turn is too sharp,
    a vertex too close to its neighbours' line, or a ring or edge degenerate."""
    for r in range(r0, r1):
        s, e = ring_off[r], ring_off[r + 1]
        m = e - s - 1  # a closed ring repeats its first point
        if m < 3:
            return False
        for j in range(m):
            k = s + j
            u = s + (j - 1 + m) % m
            w = s + (j + 1) % m
            e1x, e1y = x[k] - x[u], y[k] - y[u]
            e2x, e2y = x[w] - x[k], y[w] - y[k]
            l1 = math.sqrt(e1x * e1x + e1y * e1y)
            l2 = math.sqrt(e2x * e2x + e2y * e2y)
            cx, cy = x[w] - x[u], y[w] - y[u]
            chord = math.sqrt(cx * cx + cy * cy)
            if l1 == 0.0 or l2 == 0.0 or chord == 0.0:
                return False
            cross = e1x * e2y - e1y * e2x
            dot = e1x * e2x + e1y * e2y
            cos_phi = dot / (l1 * l2)
            if cos_phi < cos_max or abs(cross) / chord < min_dev:
                return False
            half_tan = abs(cross) / (l1 * l2 + dot)  # tan(φ/2)
            rate[k - p0] = half_tan if sign[r] * cross > 0 else -half_tan
            speed[k - p0] = math.sqrt(2.0 / (1.0 + cos_phi))  # 1 / cos(φ/2)
    return True


@njit(cache=True, nogil=True)
def _edges_hold(x, y, ring_off, r0, r1, p0, rate, dm):
    """For :func:`opening_keeps`: no edge shrinks away within the offset."""
    for r in range(r0, r1):
        s, e = ring_off[r], ring_off[r + 1]
        m = e - s - 1
        for j in range(m):
            k, w = s + j, s + (j + 1) % m
            length = math.sqrt((x[w] - x[k]) ** 2 + (y[w] - y[k]) ** 2)
            if length <= dm * (rate[k - p0] + rate[w - p0]):
                return False
    return True


@njit(cache=True, nogil=True)
def _clear(x, y, ring_off, r0, r1, p0, speed, dm):
    """For :func:`opening_keeps`: no vertex reaches an edge not its own within the offset
    (every vertex against every edge; a box test first, most edges are far)."""
    for rv in range(r0, r1):
        for v in range(ring_off[rv], ring_off[rv + 1] - 1):
            vx, vy = x[v], y[v]
            for re in range(r0, r1):
                se, ee = ring_off[re], ring_off[re + 1]
                me = ee - se - 1
                for je in range(me):
                    a, b = se + je, se + (je + 1) % me
                    if a == v or b == v:
                        continue
                    reach = dm * (speed[v - p0] + max(speed[a - p0], speed[b - p0]))
                    if (vx < min(x[a], x[b]) - reach or vx > max(x[a], x[b]) + reach
                            or vy < min(y[a], y[b]) - reach or vy > max(y[a], y[b]) + reach):
                        continue
                    if _segment_distance(vx, vy, x[a], y[a], x[b], y[b]) <= reach:
                        return False
    return True


@njit(cache=True, nogil=True)
def opening_keeps(x, y, ring_off, geom_off, sign, d):
    """Per polygonal geometry: whether an opening by ``d`` (erosion then dilation, mitre
    joins) provably gives the polygon back unchanged, so it need not be computed.

    Rings as :func:`landcheck.geometry.pairarea._flatten` gives them (``sign`` +1 where a ring runs
    with its polygon's interior on its left). The inward offset of a polygon by t moves every
    edge by t along its normal and every vertex along its bisector, at speed 1 / cos(φ/2) for
    a turn of φ; if nothing collides and no edge shrinks away for t ≤ d, the offset is exact
    and the dilation by d retraces it back to the polygon. Sufficient, each with a margin of
    :data:`OPENING_MARGIN`:

    - every turn is at most :data:`MAX_TURN_DEG` (the mitre stays within GEOS's limit);
    - every edge is longer than d·(tan(φ₀/2) ± tan(φ₁/2)), what it loses in the erosion
      (+ at a convex end, − at a reflex one);
    - every vertex is further from every edge not its own than d times its speed plus the
      faster of the edge's ends (two moving outlines first meet vertex to edge, and a point
      of a moving segment moves no faster than its faster end);
    - every vertex lies further than :data:`SIMPLIFY_MARGIN` × :data:`SIMPLIFY_FACTOR` × d
      from the line through its neighbours (GEOS would drop it from the buffer's input).

    Anything else (a repeated point, a ring of fewer than 3 vertices) is not decided: False.
    """
    ng = len(geom_off) - 1
    out = np.zeros(ng, dtype=np.bool_)
    cos_max = math.cos(math.radians(MAX_TURN_DEG))
    min_dev = SIMPLIFY_MARGIN * SIMPLIFY_FACTOR * d
    dm = OPENING_MARGIN * d
    speed = np.empty(64, dtype=np.float64)
    rate = np.empty(64, dtype=np.float64)
    for g in range(ng):
        r0, r1 = geom_off[g], geom_off[g + 1]
        p0, p1 = ring_off[r0], ring_off[r1]
        if p1 - p0 > len(speed):
            speed = np.empty(2 * (p1 - p0), dtype=np.float64)
            rate = np.empty(2 * (p1 - p0), dtype=np.float64)
        out[g] = (r1 > r0
                  and _turns(x, y, ring_off, r0, r1, p0, sign, cos_max, min_dev, speed, rate)
                  and _edges_hold(x, y, ring_off, r0, r1, p0, rate, dm)
                  and _clear(x, y, ring_off, r0, r1, p0, speed, dm))
    return out
