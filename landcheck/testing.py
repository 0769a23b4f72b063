"""Helpers for tests of code that uses landcheck: tiny layers you can check by hand.

>>> from landcheck.testing import rect, layer
>>> g = layer(["A", "B"], [rect(0, 0, 10, 10), rect(10, 0, 20, 10)], DLBM=["0101", "0201"])
>>> list(g.columns), g.crs.to_epsg()
(['id', 'DLBM', 'geometry'], 4527)
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

__all__ = ["ORIGIN", "assert_areas_add_up", "layer", "rect"]

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
