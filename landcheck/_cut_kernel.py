"""Compiled cut length: the part of a remainder's outline that is not its patch's outline.

See :func:`landcheck.overlay._cut_length` for the rule; this is its loop, per patch, over
the remainder's edges and the patch's edges (a few dozen each), with no temporary
geometries.
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
