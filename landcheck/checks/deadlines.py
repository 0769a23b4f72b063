"""Rectification deadlines of patches (整改时限), from the issuing level and issue date.

City pack (DOMAIN §6): patches issued by the city are rectified within ``city_days`` (5)
calendar days of issue; by the province, by the last day of the month of issue; by the
ministry, by day ``ministry_day`` (20) of the next month. The city report names no clause
for patches issued by the county: they are due ``county_days`` calendar days after issue
(a pack parameter; the city pack's 5 is a default, not from a source). The due date is a
fact (``due_date``); the ``deadline.*`` rules say which clause applies and give no verdict
of their own (``other``). A level that is given but is none of these (after the
vocabulary, ``value_names.csv``) gives no due date and is named in ``level_unknown``, for
review.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landcheck.area import DEFAULT_AREA_METHOD
from landcheck.checks import PatchFacts, register_patch_facts

__all__ = ["LEVELS", "SCHEMA", "compute"]

#: The issuing levels a deadline clause exists for (canonical codes of ``patches.level``).
LEVELS = ("ministry", "province", "city", "county")

SCHEMA = {"due_date": "date", "level_unknown": "text"}
DOCS = {
    "due_date": "rectification deadline from the issuing level and the issue date (DOMAIN §6)",
    "level_unknown": "the issuing level as written where it is none of ministry, province, "
                     "city, county (no deadline can be computed), else null",
}


def compute(work, patches, facts, layers, *, crs, params, area_method=DEFAULT_AREA_METHOD):
    """``due_date`` and ``level_unknown`` per patch; the due date is null where the level or
    the issue date is missing or the level unknown. Measures no area: ``crs`` and
    ``area_method`` are accepted and unused."""
    out = pd.DataFrame(index=facts.index)
    text = (facts["level"].astype("string").str.strip() if "level" in facts
            else pd.Series(pd.NA, index=facts.index, dtype="string"))
    known = text.isin(LEVELS).fillna(False)
    out["level_unknown"] = text.where(text.notna() & (text != "") & ~known).astype("string")
    issued = pd.to_datetime(facts["issued"], errors="coerce") if "issued" in facts else None
    if issued is None:
        out["due_date"] = pd.Series(pd.NaT, index=facts.index, dtype="datetime64[ns]")
        return out[list(SCHEMA)]
    level = text.fillna("").to_numpy(dtype=object)
    day = int(params.get("ministry_day", 20))
    d = issued.to_numpy().astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    city = d + np.timedelta64(int(params.get("city_days", 5)), "D")
    county = d + np.timedelta64(int(params.get("county_days", 5)), "D")
    province = (month + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    ministry = (month + 1).astype("datetime64[D]") + np.timedelta64(day - 1, "D")
    due = np.select([level == "city", level == "province", level == "ministry",
                     level == "county"],
                    [city, province, ministry, county], np.datetime64("NaT"))
    out["due_date"] = pd.to_datetime(due.astype("datetime64[D]"))
    return out[list(SCHEMA)]


register_patch_facts(PatchFacts(name="deadlines", family="deadline", schema=SCHEMA, docs=DOCS,
                                compute=compute))
