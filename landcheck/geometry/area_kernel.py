"""Compiled loops of the official area (see :mod:`landcheck.area`).

:func:`densify` inserts the survey's interior points on long edges, :func:`survey_terms`
sums formula (2) of 国土调查办发〔2008〕32号 per edge, :func:`round_half_away` is the
survey software's rounding; :func:`one_ring_each` tells polygons without holes from their
coordinates.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def round_half_away(v, scale):
    """``v`` rounded to 1/scale, halves away from zero (the survey software's rounding)."""
    if v < 0.0:
        return -math.floor(-v * scale + 0.5) / scale
    return math.floor(v * scale + 0.5) / scale


@njit(cache=True, nogil=True)
def densify(x, y, group, step, scale):
    """The points with ``floor(d / step)`` interior points on every edge longer than ``step``.

    An edge joins consecutive points of one group (ring or chain); its interior points are
    evenly spaced in the plane, each coordinate rounded to 1/scale (``scale`` 0: unrounded).
    Returns the new x, y and group arrays (original points keep their values and order).
    """
    n = len(x)
    extra = np.zeros(max(n - 1, 0), dtype=np.int64)
    total = n
    for i in range(n - 1):
        if group[i] == group[i + 1]:
            d = math.hypot(x[i + 1] - x[i], y[i + 1] - y[i])
            if d > step:
                extra[i] = math.floor(d / step)
                total += extra[i]
    ox = np.empty(total)
    oy = np.empty(total)
    og = np.empty(total, dtype=group.dtype)
    k = 0
    for i in range(n):
        ox[k], oy[k], og[k] = x[i], y[i], group[i]
        k += 1
        if i < n - 1 and extra[i]:
            m = extra[i]
            dx, dy = x[i + 1] - x[i], y[i + 1] - y[i]
            for j in range(1, m + 1):
                f = j / (m + 1)
                px, py = x[i] + f * dx, y[i] + f * dy
                if scale > 0.0:
                    px, py = round_half_away(px, scale), round_half_away(py, scale)
                ox[k], oy[k], og[k] = px, py, group[i]
                k += 1
    return ox, oy, og


@njit(cache=True, nogil=True)
def survey_terms(lam, phi, lam_ref, gap, k, b):
    """Longitude step (0 across a gap) and trapezoid term (m²) of each edge i → i + 1.

    The term is formula (2) of 国土调查办发〔2008〕32号 for the edge against the meridian
    ``lam_ref[i]``: ``2b²·(Lm − L_ref)·Σⱼ (−1)ʲ Kⱼ sin((2j+1)ΔB/2) cos((2j+1)Bm)`` with
    ``Lm`` the edge's mean longitude, ``ΔB = B₂ − B₁``, ``Bm = (B₁ + B₂)/2``; ``k`` holds
    A, B, C, D, E. Longitudes are taken the short way round from ``lam_ref`` (antimeridian).
    """
    n = len(lam) - 1
    d_lam = np.zeros(max(n, 0))
    terms = np.zeros(max(n, 0))
    bb2 = 2.0 * b * b
    nk = len(k)
    for i in range(n):
        if gap[i]:
            continue
        l1 = lam[i] - lam_ref[i]
        l2 = lam[i + 1] - lam_ref[i]
        if l1 > math.pi:
            l1 -= 2 * math.pi
        elif l1 < -math.pi:
            l1 += 2 * math.pi
        if l2 > math.pi:
            l2 -= 2 * math.pi
        elif l2 < -math.pi:
            l2 += 2 * math.pi
        dl = l2 - l1
        if dl > math.pi:  # an edge across the antimeridian from the reference meridian
            dl -= 2 * math.pi
            l2 -= 2 * math.pi
        elif dl < -math.pi:
            dl += 2 * math.pi
            l2 += 2 * math.pi
        d_lam[i] = dl
        half = 0.5 * (phi[i + 1] - phi[i])
        bm = 0.5 * (phi[i + 1] + phi[i])
        # sin(m·half) and cos(m·bm) for m = 1, 3, 5 … by the Chebyshev recurrence
        s, c = math.sin(half), math.cos(bm)
        two_cos2h, two_cos2b = 2.0 - 4.0 * s * s, 2.0 * math.cos(2.0 * bm)
        s_prev, c_prev = -s, c
        series = k[0] * s * c
        sign = 1.0
        for j in range(1, nk):
            s_prev, s = s, two_cos2h * s - s_prev
            c_prev, c = c, two_cos2b * c - c_prev
            sign = -sign
            series += sign * k[j] * s * c
        terms[i] = bb2 * 0.5 * (l1 + l2) * series
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


@njit(cache=True, nogil=True)
def gk_inverse_seconds(easting, northing, k, ep2, c, lon0, false_easting, false_northing,
                       seconds_scale):
    """Longitude and latitude in arc seconds (ρ = 206264.8062471) by the 32号 inverse series,
    rounded to 1/seconds_scale (0: unrounded); NaN for a point more than 1,000 km from the
    central meridian. ``lon0`` is the central meridian in radians; ``k`` K0 … K4."""
    rho = 206264.8062471
    n = len(easting)
    lon_s = np.empty(n)
    lat_s = np.empty(n)
    for i in range(n):
        yp = easting[i] - false_easting
        if not abs(yp) <= 1.0e6:
            lon_s[i] = np.nan
            lat_s[i] = np.nan
            continue
        e = k[0] * (northing[i] - false_northing)
        se = math.sin(e)
        se2 = se * se
        bf = e + math.cos(e) * se * (k[1] - se2 * (k[2] - se2 * (k[3] - se2 * k[4])))
        cos_bf = math.cos(bf)
        t = math.tan(bf)
        t2 = t * t
        n2 = ep2 * cos_bf * cos_bf
        v2 = 1.0 + n2
        u = yp / (c / math.sqrt(v2))
        u2 = u * u
        v2t = v2 * t
        lat = bf + v2t * u2 * (
            -0.5 + u2 * ((5.0 + 3.0 * t2 + n2 - 9.0 * n2 * t2) / 24.0
                         - u2 * (61.0 + 90.0 * t2 + 45.0 * t2 * t2) / 720.0))
        lon = lon0 + u / cos_bf * (
            1.0 - u2 * ((1.0 + 2.0 * t2 + n2) / 6.0
                        - u2 * (5.0 + 28.0 * t2 + 24.0 * t2 * t2 + 6.0 * n2 + 8.0 * n2 * t2)
                        / 120.0))
        lo, la = lon * rho, lat * rho
        if seconds_scale > 0.0:
            lo, la = round_half_away(lo, seconds_scale), round_half_away(la, seconds_scale)
        lon_s[i] = lo
        lat_s[i] = la
    return lon_s, lat_s
