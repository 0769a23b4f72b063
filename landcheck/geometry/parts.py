"""Per-row geometry arrays: polygonal parts, object identity, row-wise unions."""

from __future__ import annotations

import numpy as np
import shapely

from landcheck.geometry.objects import object_ids

__all__ = ["or_empty", "polygon_parts", "polygonal", "same", "union_rows"]


def or_empty(geoms):
    """Replace None by an empty geometry so binary GEOS calls stay vectorised."""
    return np.where(shapely.is_missing(geoms), shapely.Polygon(), geoms)


def polygonal(geoms) -> np.ndarray:
    """Keep polygonal parts only; None where nothing of area remains."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    has = ~shapely.is_missing(geoms)
    if not has.any():
        return out
    g = geoms[has]
    tid = shapely.get_type_id(g)
    mixed = ~np.isin(tid, [3, 6])
    if mixed.any():  # collections from touching pieces: rare, so a loop over them only
        g = g.copy()
        fixed = []
        for geom in g[mixed]:
            parts = polygon_parts(geom)
            fixed.append(shapely.multipolygons(parts) if parts else None)
        g[mixed] = np.array([*fixed, None], dtype=object)[:-1]
    g = np.where(
        shapely.is_missing(g) | shapely.is_empty(or_empty(g)) | (shapely.area(or_empty(g)) == 0),
        None,
        g,
    )
    out[has] = g
    return out


def polygon_parts(geom) -> list:
    out = []
    for part in shapely.get_parts(geom):
        kind = shapely.get_type_id(part)
        if kind == 3:
            out.append(part)
        elif kind == 6:
            out.extend(shapely.get_parts(part))
        elif kind == 7:
            out.extend(polygon_parts(part))
    return out


def same(a, b) -> np.ndarray:
    """Elementwise ``a[i] is b[i]`` (and not None): the very same geometry object."""
    a = np.asarray(a, dtype=object)
    return (object_ids(a) == object_ids(b)) & ~shapely.is_missing(a)


def union_rows(parts: list[np.ndarray], n: int, work=None) -> np.ndarray:
    """Row-wise union of several per-patch geometry arrays (all inside their patch: with
    ``work``, a row where one of them is the patch itself is the patch, without a union)."""
    out = np.full(n, None, dtype=object)
    for arr in parts:
        both = ~shapely.is_missing(out) & ~shapely.is_missing(arr)
        only = shapely.is_missing(out) & ~shapely.is_missing(arr)
        out[only] = arr[only]
        if work is not None and both.any():
            whole = both & (same(arr, work) | same(out, work))
            out[whole] = work[whole]
            both &= ~whole
        if both.any():
            out[both] = shapely.union(out[both], arr[both])
    return polygonal(out)
