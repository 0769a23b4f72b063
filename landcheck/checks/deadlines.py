"""Rectification deadlines of patches (整改时限), from the issuing level and issue date.

City pack (DOMAIN §6): patches issued by the city are rectified within ``city_days`` (5)
calendar days of issue; by the province, by the last day of the month of issue; by the
ministry, by day ``ministry_day`` (20) of the next month. The due date is a fact
(``due_date``); the ``deadline.*`` rules say which clause applies and give no verdict of
their own (``other``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landcheck.area import DEFAULT_AREA_METHOD
from landcheck.checks import PatchFacts, register_patch_facts

SCHEMA = {"due_date": "date"}
DOCS = {"due_date": "rectification deadline from the issuing level and the issue date (DOMAIN §6)"}


def compute(work, patches, facts, layers, *, crs, params, area_method=DEFAULT_AREA_METHOD):
    """``due_date`` per patch; null where the level or the issue date is missing or unknown.
    Measures no area: ``crs`` and ``area_method`` are accepted and unused."""
    issued = pd.to_datetime(facts["issued"], errors="coerce") if "issued" in facts else None
    out = pd.DataFrame(index=facts.index)
    if issued is None or "level" not in facts:
        out["due_date"] = pd.Series(pd.NaT, index=facts.index, dtype="datetime64[ns]")
        return out
    level = facts["level"].astype("string").fillna("").to_numpy(dtype=object)
    days = np.timedelta64(int(params.get("city_days", 5)), "D")
    day = int(params.get("ministry_day", 20))
    d = issued.to_numpy().astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    city = d + days
    province = (month + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    ministry = (month + 1).astype("datetime64[D]") + np.timedelta64(day - 1, "D")
    due = np.select([level == "city", level == "province", level == "ministry"],
                    [city, province, ministry], np.datetime64("NaT"))
    out["due_date"] = pd.to_datetime(due.astype("datetime64[D]"))
    return out


register_patch_facts(PatchFacts(name="deadlines", family="deadline", schema=SCHEMA, docs=DOCS,
                                compute=compute))
