"""Helpers for tests of code that uses landcheck: tiny layers you can check by hand.

>>> from landcheck.testing import rect, layer
>>> g = layer(["A", "B"], [rect(0, 0, 10, 10), rect(10, 0, 20, 10)], DLBM=["0101", "0201"])
>>> list(g.columns), g.crs.to_epsg()
(['id', 'DLBM', 'geometry'], 4527)
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

__all__ = ["AS_OF", "ORIGIN", "SAMPLES", "assert_areas_add_up", "column_digests", "layer", "rect"]

#: A point in CGCS2000 3-degree zone 39 (EPSG:4527, prefixed eastings), near 117°E 31.8°N.
ORIGIN = (39_500_000.0, 3_520_000.0)
CRS = "EPSG:4527"


def rect(x0: float, y0: float, x1: float, y1: float):
    """A rectangle given in metres relative to :data:`ORIGIN`."""
    return box(ORIGIN[0] + x0, ORIGIN[1] + y0, ORIGIN[0] + x1, ORIGIN[1] + y1)


def layer(ids, geoms, *, crs: str = CRS, **columns) -> gpd.GeoDataFrame:
    """A GeoDataFrame with an ``id`` column, the given columns and geometries."""
    data = {"id": list(ids), **{k: list(v) for k, v in columns.items()}}
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=list(geoms), crs=crs)


def assert_areas_add_up(verdicts, *, rtol: float = 1e-9) -> None:
    """Assert ``legal + illegal + review + other == area`` for every row of a verdict table."""
    parts = verdicts[["legal_m2", "illegal_m2", "review_m2", "other_m2"]].sum(axis=1).to_numpy()
    area = verdicts["area_m2"].to_numpy()
    bad = ~np.isclose(parts, area, rtol=rtol, atol=1e-6)
    if bad.any():
        ids = verdicts.loc[bad, "id"].tolist() if "id" in verdicts else np.flatnonzero(bad).tolist()
        raise AssertionError(f"split areas do not add up for {len(ids)} patch(es): {ids[:10]}")


def column_digests(frame, *, decimals: int | None = None) -> dict[str, str]:
    """A SHA-256 per column of a table, over its name, dtype and every value.

    Floats are hashed bit for bit, or rounded to ``decimals`` first (a digest that survives a
    change of GEOS or PROJ that moves areas in the last bits); geometries are hashed as WKB
    (rounded coordinates with ``decimals``); lists element by element. Two tables have the
    same digests exactly when they hold the same columns, in the same order, with the same
    values — which is how a refactoring proves it changed nothing.

    >>> import pandas as pd
    >>> a = column_digests(pd.DataFrame({"x": [1.0, 2.0]}))
    >>> b = column_digests(pd.DataFrame({"x": [1.0, 2.0 + 1e-12]}))
    >>> rounded = column_digests(pd.DataFrame({"x": [1.0, 2.0 + 1e-12]}), decimals=6)
    >>> a == b, column_digests(pd.DataFrame({"x": [1.0, 2.0]}), decimals=6) == rounded
    (False, True)
    >>> flags = pd.DataFrame({"f": pd.array([True, None], dtype="boolean")})
    >>> column_digests(flags) == column_digests(flags.copy(deep=True))
    True
    """
    import hashlib

    import shapely

    out = {}
    for pos, col in enumerate(frame.columns):
        s = frame[col]
        h = hashlib.sha256(f"{pos}:{col}:{s.dtype}".encode())
        # decided on the array's own dtype: a nullable column (``boolean`` with nulls) comes
        # out as objects, whose bytes would be pointers
        values = s.to_numpy()
        if str(s.dtype) == "geometry":
            g = np.asarray(values, dtype=object)
            if decimals is not None:
                g = shapely.set_precision(g, 10.0**-decimals, mode="pointwise")
            for w in shapely.to_wkb(g, hex=True).tolist():
                h.update(f"{w}|".encode())
        elif values.dtype.kind == "f":
            v = np.asarray(values, dtype=float)
            if decimals is not None:
                v = np.round(v, decimals) + 0.0  # (-0.0 → 0.0)
            h.update(np.ascontiguousarray(v).tobytes())
        elif values.dtype.kind in "biumM":
            h.update(np.ascontiguousarray(values).tobytes())
        else:
            for x in values.tolist():
                h.update(f"{_canonical(x, decimals)}|".encode())
        out[str(col)] = h.hexdigest()
    return out


def _canonical(x, decimals):
    if isinstance(x, list | tuple | np.ndarray):
        return "[" + ",".join(_canonical(v, decimals) for v in list(x)) + "]"
    if isinstance(x, float):
        if x != x:
            return "nan"
        return repr(round(x, decimals) + 0.0) if decimals is not None else x.hex()
    if x is None or x is pd.NA or x is pd.NaT:
        return "null"
    return f"{type(x).__name__}:{x}"

#: The bundled demo county (``data/samples`` of a source checkout) and the reference date its
#: cases are written for.
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
AS_OF = "2023-09-30"
