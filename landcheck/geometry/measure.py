"""Shape measures the rules need: strip widths, allowed zones beside corridors, excess parts.

Every function takes arrays of shapely geometries (or one geometry) and returns an array
of the same length; ``None`` in gives ``NaN`` / ``None`` out. All work is one vectorised
GEOS call per step, no Python loop over features. Geometries must be in a projected CRS
in metres (the run's working CRS); the widths and lengths returned are plane metres.

The methods, their exact cases and their limits are written up in ``docs/measures.md``.
"""

from __future__ import annotations

import numpy as np
import shapely

from landcheck.geometry.parts import or_empty

__all__ = ["allowed_zone", "corridor_land", "excess_beyond", "strip_length", "strip_width"]

#: Relative slack on the discriminant P² − 16A, so a square (discriminant exactly 0) is
#: not lost to rounding and gets width = side.
_DISC_SLACK = 1e-9


def _array(geoms) -> np.ndarray:
    """Geometries as a 1-d object array (a single geometry becomes an array of one)."""
    arr = np.asarray(geoms, dtype=object)
    return arr.reshape(1) if arr.ndim == 0 else arr


def strip_width(geoms) -> np.ndarray:
    """Equivalent-rectangle width of polygons: the strip width that explains area and perimeter.

    A strip of constant width *w* along a centre line of length *L* (straight, or bent
    with mitred corners) has area *A* = *w*·*L* and perimeter *P* = 2*L* + 2*w*, so
    *w* is the smaller root of *w*² − (*P*/2)·*w* + *A* = 0::

        w = (P − √(P² − 16·A)) / 4

    Parameters
    ----------
    geoms : array_like of shapely geometries
        Polygons in a projected CRS (metres). ``None`` is allowed.

    Returns
    -------
    numpy.ndarray of float
        Width in metres; ``NaN`` for missing or empty geometries, for non-areal ones and
        for shapes more compact than a square (*P*² < 16*A*: no strip has them).

    Notes
    -----
    Exact for rectangles (a square of side *s* gives *s*) and for constant-width strips
    bent at right angles or any angle with mitred corners (L, Z, U shapes) without
    self-contact. Holes, branches (T junctions), ragged edges and digitising noise add
    perimeter, so the width comes out smaller than the true one; a strip whose width
    varies gives a value between its narrowest and widest parts. For the width of the
    widest part use ``2 * shapely.maximum_inscribed_circle(g)`` radius instead; for very
    irregular outlines, area divided by the medial-axis length is more robust but needs a
    skeleton.

    Examples
    --------
    >>> from shapely import box, union_all
    >>> strip_width([box(0, 0, 100, 6), box(0, 0, 10, 10), None]).tolist()
    [6.0, 10.0, nan]
    >>> el = union_all([box(0, 0, 160, 6), box(154, 0, 160, 160)])
    >>> float(strip_width(el)[0])
    6.0
    """
    g = _array(geoms)
    a = np.asarray(shapely.area(g), dtype=float)
    p = np.asarray(shapely.length(g), dtype=float)
    disc = p * p - 16.0 * a
    disc = np.where((disc < 0) & (disc >= -_DISC_SLACK * p * p), 0.0, disc)
    with np.errstate(invalid="ignore"):
        w = (p - np.sqrt(disc)) / 4.0
    return np.where(np.isfinite(w) & (a > 0), w, np.nan)


def strip_length(geoms) -> np.ndarray:
    """Centre-line length of the equivalent strip, *A* / :func:`strip_width` (metres).

    >>> from shapely import box
    >>> strip_length([box(0, 0, 100, 6)]).tolist()
    [100.0]
    """
    g = _array(geoms)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(shapely.area(g), dtype=float) / strip_width(g)


def corridor_land(geoms, width_m=np.nan) -> np.ndarray:
    """Land polygons of corridors: polygons as given, centre lines widened to ``width_m``.

    A line is buffered by half its land width with flat caps and mitred joins (so a line
    of length *L* becomes an *L* × ``width_m`` strip, not a rounded sausage). A line
    without a finite positive width, a point, or ``None`` gives ``None``.

    Parameters
    ----------
    geoms : array_like of shapely geometries
    width_m : float or array_like of float
        Land width per feature (the corridor layer's ``width`` field), metres.

    Examples
    --------
    >>> from shapely import LineString, box
    >>> land = corridor_land([LineString([(0, 0), (100, 0)]), box(0, 0, 5, 5)], [10, 5])
    >>> [round(g.area) for g in land]
    [1000, 25]
    """
    g = _array(geoms)
    width = np.broadcast_to(np.asarray(width_m, dtype=float), g.shape)
    dim = shapely.get_dimensions(g)
    out = np.where(dim == 2, g, None)
    line = (dim == 1) & np.isfinite(width) & (width > 0)
    if line.any():
        out[line] = shapely.buffer(g[line], width[line] / 2.0, cap_style="flat",
                                   join_style="mitre")
    return out


def allowed_zone(corridors, limit_m) -> np.ndarray:
    """The corridor land widened by ``limit_m`` on every side (mitred corners).

    Parameters
    ----------
    corridors : array_like of shapely geometries
        Corridor land polygons (see :func:`corridor_land`).
    limit_m : float or array_like of float
        The allowed belt width per side, measured from the land boundary, metres.
        ``NaN`` (no limit known) gives ``None``; ``0`` gives the land itself.

    Notes
    -----
    Mitred joins keep the zone's corners square: along a straight side the zone is
    exactly ``limit_m`` wide, and at a convex corner of the corridor it reaches the
    corner of the two offset sides (up to ``limit_m``·√2 from the land corner for a right
    angle) instead of the quarter circle of a strict distance test. Belts usually end
    square beside a road end, so this is the reading the field teams use.

    Examples
    --------
    >>> from shapely import box
    >>> float(allowed_zone([box(0, 0, 100, 40)], 5)[0].area)
    5500.0
    """
    g = _array(corridors)
    limit = np.broadcast_to(np.asarray(limit_m, dtype=float), g.shape)
    ok = ~shapely.is_missing(g) & np.isfinite(limit)
    out = np.full(g.shape, None, dtype=object)
    if ok.any():
        out[ok] = shapely.buffer(g[ok], limit[ok], join_style="mitre")
    return out


def excess_beyond(belt, corridor, limit_m) -> np.ndarray:
    """The part of each belt farther than ``limit_m`` from its corridor's land boundary.

    ``belt − allowed_zone(corridor, limit_m)``, pairwise (arrays broadcast like numpy).

    Parameters
    ----------
    belt : array_like of shapely geometries
        Belt polygons (green belts, trees …).
    corridor : array_like of shapely geometries
        Corridor land polygons; a ``None`` corridor allows nothing (the whole belt is
        excess).
    limit_m : float or array_like of float
        Allowed width per side, metres (``NaN``: no limit known → the whole belt).

    Returns
    -------
    numpy.ndarray of geometries
        The excess part; an empty polygon when the belt lies within the limit, ``None``
        where the belt is ``None``.

    Examples
    --------
    A 10 m × 100 m belt along a 40 m wide highway, 5 m allowed: 5 m × 100 m is excess.

    >>> from shapely import box
    >>> road, belt = box(0, 0, 1000, 40), box(300, 40, 400, 50)
    >>> float(excess_beyond([belt], [road], 5)[0].area)
    500.0
    """
    b, c, limit = np.broadcast_arrays(_array(belt), _array(corridor),
                                      np.asarray(limit_m, dtype=float))
    b, c = b.astype(object), c.astype(object)
    zone = allowed_zone(c, limit)
    out = np.full(b.shape, None, dtype=object)
    has = ~shapely.is_missing(b)
    if has.any():
        out[has] = shapely.difference(b[has], or_empty(zone[has]))
    return out
