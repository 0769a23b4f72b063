"""Facts of the patch itself: its fields, geometry checks, area, type, width."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from landcheck.area import DEFAULT_AREA_METHOD, official_area
from landcheck.geometry.measure import strip_width
from landcheck.vocab import patch_category, patch_type_name

__all__ = ["patch_base"]

#: ``geom_problem`` in Chinese, for the Chinese reasons
_PROBLEM_ZH = {"not a polygon": "不是面要素", "invalid geometry": "几何无效，如自相交",
               "empty geometry": "几何为空"}


def patch_base(patches, geoms, crs, method=DEFAULT_AREA_METHOD) -> pd.DataFrame:
    n = len(geoms)
    missing = shapely.is_missing(geoms)
    empty = missing | shapely.is_empty(geoms)
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])
    valid = ~missing & shapely.is_valid(geoms)
    problem = np.full(n, None, dtype=object)
    problem[~polygonal & ~empty] = "not a polygon"
    problem[~valid & ~empty] = "invalid geometry"
    problem[empty] = "empty geometry"
    ok = ~empty & polygonal & valid
    facts = pd.DataFrame(index=pd.RangeIndex(n))
    for col in ("id", "township", "type", "class", "approval", "level", "note"):
        if col in patches.columns:
            # the same text dtype however the patches are chunked (a chunk where the field
            # is all null must not turn it into plain objects)
            facts[col] = pd.array(patches[col].astype("string").to_numpy(), dtype="str")
    for col in ("before", "after", "issued"):
        if col in patches.columns:
            facts[col] = pd.to_datetime(patches[col].to_numpy(), errors="coerce")
    if "area" in patches.columns:
        facts["reported_area_m2"] = pd.to_numeric(patches["area"], errors="coerce").to_numpy()
    facts["geom_ok"] = ok
    facts["reprojection_change_pct"] = 100 * (  # crs.to_crs(repair_column=...) via chain
        pd.to_numeric(patches["reprojection_change"], errors="coerce").to_numpy(dtype=float)
        if "reprojection_change" in patches.columns else np.full(n, np.nan))
    facts["geom_problem"] = pd.array(problem, dtype="string")
    facts["geom_problem_zh"] = pd.array([_PROBLEM_ZH.get(p) for p in problem], dtype="string")
    area = np.zeros(n)
    area[ok] = official_area(geoms[ok], crs=crs, method=method)
    facts["area_m2"] = area
    if "type" in facts.columns:
        # the layer's own dictionary where the patches were read through a layer config
        # (landcheck.vocab.resolve_patch_types), else the official one
        if {"type_category", "type_name"} <= set(patches.columns):
            for col in ("type_category", "type_name"):
                facts[col] = pd.array(patches[col].astype("string").to_numpy(), dtype="string")
        else:
            facts["type_category"] = patch_category(facts["type"])
            facts["type_name"] = patch_type_name(facts["type"])
    facts["width_m"] = strip_width(np.where(ok, geoms, None))
    return facts
