"""Compiled per-edge trapezoid terms of the official area (see :mod:`landcheck.area`).

One pass over the edges, no temporary arrays: the same arithmetic as the series in
:mod:`landcheck.area`'s Notes, term by term, in the same order. Also
:func:`one_ring_each`, which tells polygons without holes from their coordinates.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def edge_terms(lam, phi, phi0, gap, k, b):
    """Longitude step (0 across a gap) and trapezoid term (m²) of each edge i → i + 1.

    ``lam``, ``phi``: the points' longitude and latitude (radians); ``phi0``: each edge's
    reference latitude; ``gap``: edges joining two rings or chains; ``k``: the series
    coefficients A, B', C, D, E for the ellipsoid; ``b``: its semi-minor axis (m).
    """
    n = len(lam) - 1
    d_lam = np.empty(n)
    terms = np.empty(n)
    bb = b * b
    nk = len(k)
    for i in range(n):
        dl = 0.0 if gap[i] else lam[i + 1] - lam[i]
        if dl > math.pi:  # short way round the antimeridian
            dl -= 2 * math.pi
        elif dl < -math.pi:
            dl += 2 * math.pi
        d_lam[i] = dl
        phi_m = 0.5 * (phi[i + 1] + phi[i])
        # sum_j (-1)^j K_j sin((2j+1)u) cos((2j+1)v), multiple angles by recurrence
        u, v = 0.5 * (phi_m - phi0[i]), 0.5 * (phi_m + phi0[i])
        s, c = math.sin(u), math.cos(v)
        two_cos2u, two_cos2v = 2.0 - 4.0 * s * s, 4.0 * c * c - 2.0
        s_prev, c_prev = -s, c
        series = k[0] * s * c
        sign = 1.0
        for j in range(1, nk):
            s_prev, s = s, two_cos2u * s - s_prev
            c_prev, c = c, two_cos2v * c - c_prev
            sign = -sign
            series += sign * k[j] * s * c
        # the exact-integral correction: sum (-1)^j K_j sin(m Bm)(sinc(m dB/2) - 1)
        d_phi = phi[i + 1] - phi[i]
        half2 = 0.25 * d_phi * d_phi
        sm = math.sin(phi_m)
        sm_prev = -sm
        two_cos2 = 2.0 * math.cos(2.0 * phi_m)
        corr = 0.0
        sign = 1.0
        for j in range(nk):
            m = 2 * j + 1
            if j:
                sm_prev, sm = sm, two_cos2 * sm - sm_prev
                sign = -sign
            x = 0.5 * m * d_phi
            if abs(x) >= 1e-3:
                sinc_m1 = (math.sin(x) - x) / x
            else:
                x2 = m * m * half2
                sinc_m1 = -x2 / 6.0 * (1.0 - x2 / 20.0)
            corr += sign * k[j] * sm * sinc_m1
        terms[i] = bb * dl * (2.0 * series + corr)
    return d_lam, terms


@njit(cache=True, nogil=True)
def one_ring_each(x, y, off):
    """Whether every coordinate run off[g]..off[g+1]-1 is one closed ring: its first point
    comes back only at its end (an exterior ring of a valid polygon does not pass through
    its start again, so an earlier return means the run goes on with holes)."""
    for g in range(len(off) - 1):
        s, e = off[g], off[g + 1]
        for k in range(s + 1, e - 1):
            if x[k] == x[s] and y[k] == y[s]:
                return False
    return True
