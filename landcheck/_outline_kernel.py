"""Compiled loops over the outlines of a remainder and of what it is compared with.

:func:`cut_lengths`: the part of a remainder's outline that is not its patch's outline (the
rule is :func:`landcheck.overlay._cut_length`'s), per patch over the remainder's edges and
the patch's edges (a few dozen each), with no temporary geometries. :func:`same_rings`:
whether two polygons have exactly the same rings (:func:`landcheck.overlay._remainder`).
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
