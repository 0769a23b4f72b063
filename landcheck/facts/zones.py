"""Facts of plain and classed zones: area of the union of the role's features in each
patch, its fraction, the features hit and their ids; area per class for classed zones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from landcheck.geometry.pairs import feature_ids, hits, lists_by, several, union_area, union_by
from landcheck.geometry.parts import polygonal
from landcheck.roles import FOREST_CLASSES

__all__ = ["class_facts", "zone_facts"]


def zone_facts(work, ref, role, m, union=False):
    """Area of the union of the role's features in each patch, features hit and their ids;
    with ``union`` the union itself (a role of :attr:`RoleSet.union_roles`), else None."""
    n = len(work)
    ref_geoms = np.asarray(ref.geometry.values, dtype=object)
    area_only = not union
    pi, ri, pieces, area = hits(
        work, ref_geoms, m, pieces_of=several if area_only else None, measure=area_only
    )
    cols = pd.DataFrame(index=pd.RangeIndex(n))
    if area_only:
        union = None
        cols[f"{role}_m2"] = union_area(pieces, area, pi, n, m)
    else:
        union = polygonal(union_by(pieces, pi, n, work))
        cols[f"{role}_m2"] = m.area(union)
    cols[f"{role}_n"] = np.bincount(pi, minlength=n) if len(pi) else np.zeros(n, dtype=int)
    cols[f"{role}_ids"] = lists_by(feature_ids(ref, ri), pi, n)
    return cols, union


def class_facts(work, ref, role, m) -> pd.DataFrame:
    """Area per canonical class of the role's ``class`` field (``forest_<class>_m2``)."""
    n = len(work)
    cols = pd.DataFrame(index=pd.RangeIndex(n))
    classes = ref["class"].astype("string").fillna("other").astype(object)
    classes = classes.where(classes.isin(FOREST_CLASSES), "other")
    for value in FOREST_CLASSES:
        sub = ref[(classes == value).to_numpy()]
        geoms = np.asarray(sub.geometry.values, dtype=object)
        pi, _, pieces, area = hits(work, geoms, m, pieces_of=several)
        cols[f"{role}_{value}_m2"] = union_area(pieces, area, pi, n, m)
    return cols
