"""The date policy (landcheck.dates): every accepted form, Excel serial days, dates that cannot
exist, junk and blanks; and a patch whose after-image date is later than the reference date.

Fields carry the bureau's own names (监测编号, 后时相, 批准日期), mapped as a layer config maps
them.
Expected dates are checked by hand: Excel's day 0 is 1899-12-30, and 1899-12-30 + 44995 days
= 2023-03-10 (1900-01-01 is day 2; 2023-01-01 is day 44927; + 31 + 28 + 9 = 44995).
"""

from __future__ import annotations

import datetime as dt
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from landcheck.errors import DataWarning, InputError
from landcheck.layers import LayerSpec, apply_mapping
from landcheck.screen import screen
from landcheck.testing import layer, rect

PATCHES = LayerSpec(role="patches", path="图斑.gpkg", fields={"id": "监测编号", "after": "后时相"})


def patches_with(*values, ids=None):
    """A patch layer as read from the file: one patch per value of 后时相."""
    ids = ids or [f"P{i + 1}" for i in range(len(values))]
    frame = pd.DataFrame({"监测编号": ids, "后时相": pd.Series(list(values), dtype=object)})
    return gpd.GeoDataFrame(frame, geometry=[box(0, 0, 1, 1)] * len(values), crs="EPSG:4527")


def read(*values, spec=PATCHES):
    return apply_mapping(patches_with(*values), spec)["after"]


def data_warnings(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in caught if issubclass(w.category, DataWarning)]


@pytest.mark.parametrize(("value", "expected"), [
    ("2023-03-10", "2023-03-10 00:00:00"),
    ("2023-03-10 08:30", "2023-03-10 08:30:00"),
    ("2023-03-10T08:30:15", "2023-03-10 08:30:15"),
    ("2023/3/10", "2023-03-10 00:00:00"),
    ("2023.3.10", "2023-03-10 00:00:00"),
    ("2023年3月10日", "2023-03-10 00:00:00"),
    ("2023年03月10日 14:05", "2023-03-10 14:05:00"),
    (" 2023-3-10 ", "2023-03-10 00:00:00"),
    ("20230310", "2023-03-10 00:00:00"),
    (20230310, "2023-03-10 00:00:00"),
    (20230310.0, "2023-03-10 00:00:00"),
    (dt.date(2023, 3, 10), "2023-03-10 00:00:00"),
    (dt.datetime(2023, 3, 10, 9, 0), "2023-03-10 09:00:00"),
    (pd.Timestamp("2023-03-10"), "2023-03-10 00:00:00"),
    (np.datetime64("2023-03-10"), "2023-03-10 00:00:00"),
    ("2024-02-29", "2024-02-29 00:00:00"),  # a leap day that exists
])
def test_accepted_forms_read_as_the_same_date_without_a_warning(value, expected):
    got, said = data_warnings(lambda: read(value))
    assert str(got.iloc[0]) == expected
    assert pd.api.types.is_datetime64_any_dtype(got.dtype)
    assert said == []


def test_a_datetime_column_is_kept_as_it_is():
    gdf = patches_with(None)
    gdf["后时相"] = pd.to_datetime(["2023-03-10"])
    assert apply_mapping(gdf, PATCHES)["after"].iloc[0] == pd.Timestamp("2023-03-10")


@pytest.mark.parametrize(("value", "expected"), [
    (44995, "2023-03-10 00:00:00"),
    ("44995", "2023-03-10 00:00:00"),
    (44995.0, "2023-03-10 00:00:00"),
    (44995.5, "2023-03-10 12:00:00"),  # the fraction is the time of day
    (44927, "2023-01-01 00:00:00"),
])
def test_excel_serial_days_are_converted_with_a_warning(value, expected):
    got, said = data_warnings(lambda: apply_mapping(patches_with(value, "2023-03-11"), PATCHES))
    assert str(got["after"].iloc[0]) == expected
    assert str(got["after"].iloc[1]) == "2023-03-11 00:00:00"
    assert len(said) == 1
    assert said[0].startswith("图斑.gpkg: 1 value(s) of field '后时相' (patches `after`)")
    assert "Excel serial" in said[0] and "1899-12-30" in said[0] and "'P1'" in said[0]
    assert f"{value!r} → {expected.removesuffix(' 00:00:00')}" in said[0]


def test_serial_warning_counts_every_serial_once():
    _, said = data_warnings(lambda: read(44995, "44996", "2023-03-12"))
    assert len(said) == 1 and "2 value(s)" in said[0] and "'P1', 'P2'" in said[0]


@pytest.mark.parametrize("value", ["2023-02-30", "2023-13-01", "2023/2/29", "2023年4月31日",
                                   "20231345", 20231345, "2023-03-10 24:00", "2023-00-10"])
def test_dates_that_cannot_exist_are_an_error_naming_field_and_id(value):
    with pytest.raises(InputError) as err:
        apply_mapping(patches_with("2023-03-10", value, ids=["JC001", "JC002"]), PATCHES)
    message = str(err.value)
    assert message.startswith("图斑.gpkg: 1 value(s) of field '后时相' (patches `after`)")
    assert "cannot exist" in message and "ids 'JC002'" in message
    assert repr(value) in message
    assert "Correct them in the source" in message


def test_impossible_dates_without_ids_name_the_rows():
    spec = LayerSpec(role="approvals", path="批文.shp", fields={"date": "批准日期"})
    gdf = gpd.GeoDataFrame({"批准日期": ["2023-01-01", "2023-02-30"]},
                           geometry=[box(0, 0, 1, 1)] * 2, crs="EPSG:4527")
    with pytest.raises(InputError, match=r"'批准日期' \(approvals `date`\).*rows \(0-based\) 1"):
        apply_mapping(gdf, spec)


@pytest.mark.parametrize("value", ["待定", "unknown", "2023", 2023, 123456, "0000-00-00",
                                   "2023-00-00", "2023-03", True])
def test_junk_is_missing_with_a_warning_naming_field_and_ids(value):
    got, said = data_warnings(lambda: read("2023-03-10", value))
    assert pd.isna(got.iloc[1]) and got.iloc[0] == pd.Timestamp("2023-03-10")
    assert len(said) == 1
    assert "1 value(s) of field '后时相' (patches `after`) are not dates" in said[0]
    assert "ids 'P2'" in said[0] and "treated as missing" in said[0]


@pytest.mark.parametrize("value", [None, "", "   ", np.nan, pd.NaT, pd.NA])
def test_blanks_are_missing_without_a_warning(value):
    got, said = data_warnings(lambda: read(value, "2023-03-10"))
    assert pd.isna(got.iloc[0]) and said == []


def test_frames_given_to_screen_follow_the_same_policy():
    ref = {"approvals": layer(["A1"], [rect(-10, -10, 60, 60)], date=["2023年1月5日"])}
    ok = layer(["P1"], [rect(0, 0, 40, 50)], type=["20"], before=["2022/12/1"],
               after=["20230630"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the layers the legality rules read beside approvals
        v = screen(ok, ref, reference_date="2023-09-30", families=["legality"]).verdicts
    assert v.loc[0, "verdict"] == "legal" and v.loc[0, "after"] == pd.Timestamp("2023-06-30")
    bad = layer(["P1"], [rect(0, 0, 40, 50)], type=["20"], before=["2022-12-01"],
                after=["2023-02-30"])
    with warnings.catch_warnings(), pytest.raises(InputError, match=r"`after`.*'P1'.*2023-02-30"):
        warnings.simplefilter("ignore")
        screen(bad, ref, reference_date="2023-09-30", families=["legality"])


# --------------------------------------------------------- after-dates beyond the reference date

AS_OF = "2026-12-01"


def round_of(after_p1: str):
    """P1 and P2: new construction, both wholly inside approval A1 (2026-03-01)."""
    patches = layer(["P1", "P2"], [rect(0, 0, 40, 50), rect(100, 0, 140, 50)],
                    type=["20", "20"], before=["2026-05-01"] * 2, after=[after_p1, "2026-11-20"])
    ref = {"approvals": layer(["A1"], [rect(-10, -10, 200, 60)], date=["2026-03-01"])}
    return patches, ref


def screened(after_p1: str, as_of: str = AS_OF):
    patches, ref = round_of(after_p1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        v = screen(patches, ref, reference_date=as_of, families=["legality"]).verdicts
    said = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    return v.set_index("id"), said


def test_an_after_date_later_than_the_reference_date_is_needs_review_with_the_reason():
    v, said = screened("2027-01-05")
    p1 = v.loc["P1"]
    assert p1["verdict"] == "needs_review"
    assert p1["rules"][0] == "legality.after_date_future"
    assert "后时相日期2027-01-05晚于核查基准日2026-12-01，需核实影像日期" in p1["reasons_zh"]
    assert ("after-image date 2027-01-05 is later than the reference date 2026-12-01"
            in p1["reasons_en"])
    assert p1["official_subclass"] == "后时相晚于核查基准日"
    future = [s for s in said if "later than the reference date" in s]
    assert len(future) == 1
    assert "1 patch(es)" in future[0] and "ids 'P1'" in future[0] and "--as-of" in future[0]


def test_the_sibling_patch_and_a_past_after_date_are_judged_as_usual():
    v, _ = screened("2027-01-05")
    usual, said = screened("2026-11-25")
    assert v.loc["P2", "verdict"] == usual.loc["P2", "verdict"] == "legal"
    assert v.loc["P2", "rules"] == usual.loc["P2", "rules"] == ["legality.approved"]
    assert v.loc["P2", "reasons_zh"] == usual.loc["P2", "reasons_zh"]
    # the same P1 is legal where its after-date is on or before the reference date
    assert usual.loc["P1", "verdict"] == "legal"
    assert screened("2027-01-05", as_of="2027-01-05")[0].loc["P1", "verdict"] == "legal"
    assert not any("later than the reference date" in s for s in said)


def test_a_patch_whose_after_date_is_junk_is_needs_review_not_judged():
    """Junk is missing with a warning; the verdict that depends on it is not given."""
    patches = layer(["P1"], [rect(0, 0, 40, 50)], type=["20"], before=["2026-05-01"],
                    after=["待定"])
    ref = {"approvals": layer(["A1"], [rect(-10, -10, 200, 60)], date=["2026-03-01"])}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        v = screen(patches, ref, reference_date=AS_OF, families=["legality"]).verdicts
    assert v.loc[0, "verdict"] == "needs_review"
    assert v.loc[0, "rules"] == ["legality.missing_dates"]
    assert any("are not dates" in str(w.message) and "'P1'" in str(w.message) for w in caught)
