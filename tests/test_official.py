"""Official categories (核实认定意见), child plots (拆分), covering documents' shares, the
in–out balance area and the bureau's own fields in the outputs.

Scenes are rectangles on a 10 m grid near the central meridian of CGCS2000 zone 39
(:data:`landcheck.testing.ORIGIN`), where the official area of a rectangle is its plane area
within 2e-6: the expected areas are the plane areas you can compute on paper.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from landcheck import load_rules, screen
from landcheck.errors import RuleError
from landcheck.rules import loads_pack
from landcheck.testing import layer, rect

AFTER = "2023-06-30"


def _patches(ids, geoms, types, after=AFTER, **more):
    n = len(ids)
    return layer(ids, geoms, type=types, before=pd.to_datetime(["2023-01-15"] * n),
                 after=pd.to_datetime([after] * n), **more)


def _screen(patches, layers, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return screen(patches, layers, reference_date="2023-09-30", **kw)


@pytest.fixture(scope="module")
def four_way():
    """A 100 m × 100 m building patch: approvals A1 (x 0–30) and A2 (x 20–50, overlapping A1
    by 10 m), a crop-facility filing F1 (x 50–70), and 30 m that nothing covers."""
    patches = _patches(["P1"], [rect(0, 0, 100, 100)], ["20"])
    layers = {
        "approvals": layer(["A1", "A2"], [rect(0, 0, 30, 100), rect(20, 0, 50, 100)],
                           date=pd.to_datetime(["2022-05-01", "2022-06-01"]),
                           kind=["农转用", "供地"]),
        "facility_ag": layer(["F1"], [rect(50, 0, 70, 100)],
                             date=pd.to_datetime(["2023-01-01"]), kind=["种植设施"]),
    }
    return _screen(patches, layers)


def test_four_way_split_children_add_up_exactly(four_way):
    v = four_way.verdicts.iloc[0]
    assert v["verdict"] == "illegal" and v["split_status"] == "被拆分"
    kids = four_way.fragments[four_way.fragments["child_id"].notna()]
    assert kids["child_id"].tolist() == ["P1-1", "P1-2", "P1-3", "P1-4"]
    assert kids["part"].tolist() == ["legal", "legal", "legal", "rest"]
    assert kids["doc_id"].tolist()[:3] == ["A1", "A2", "F1"]
    # A2 loses the 10 m it shares with A1: 3000, 2000, 2000 and the rest 3000 m²
    assert kids["area_m2"].to_numpy() == pytest.approx([3000, 2000, 2000, 3000], rel=2e-6)
    assert kids["area_m2"].sum() == v["area_m2"]  # exactly, not approximately
    assert kids["share_pct"].to_numpy() == pytest.approx([30, 20, 20, 30], rel=2e-6)
    assert kids["area_mu"].to_numpy() == pytest.approx(kids["area_m2"].to_numpy() * 3 / 2000,
                                                       rel=1e-12)
    got = list(zip(kids["official_class"], kids["official_subclass"], strict=True))
    assert got == [("合法", "批文"), ("合法", "供地"), ("设施农用地", "上图入库备案"),
                   ("非农违法", "未细分")]
    assert kids["official_class_code"].tolist() == ["legal", "legal", "facility_ag",
                                                    "illegal_nonag"]
    # the children do not overlap, and each legal one lies in its document
    geoms = kids.geometry.to_numpy()
    for i in range(4):
        for j in range(i + 1, 4):
            assert shapely.intersection(geoms[i], geoms[j]).area == pytest.approx(0, abs=1e-6)
    assert geoms[1].equals(rect(30, 0, 50, 100))


def test_parent_lists_its_documents_and_their_shares(four_way):
    v = four_way.verdicts.iloc[0]
    assert v["doc_ids"] == ["A1", "A2", "F1"]
    assert v["doc_shares_pct"] == pytest.approx([30.0, 30.0, 20.0])  # each counts whole
    assert v["official_class"] == "非农违法" and v["official_subclass"] == "未细分"
    assert v["official_rule"] == "legality.unapproved_construction"
    assert v["build_period"] == "新增"
    assert v["area_mu"] == pytest.approx(v["area_m2"] * 3 / 2000, rel=1e-12)


@pytest.mark.parametrize(("tblx", "extra", "expect"), [
    ("GF", {"landuse": ("0101", None)}, ("非农违法", "工矿商服（光伏）", "illegal")),
    ("YH", {}, ("非农违法", "工矿商服（硬化）", "illegal")),
    ("20", {"approvals": "供地"}, ("合法", "供地", "legal")),
    ("20", {"approvals": "农转用"}, ("合法", "批文", "legal")),
    ("XX", {}, ("存疑", "图斑类型不明", "needs_review")),
    ("02", {}, ("其他", "农业、水域或土方类变化", "other")),
    ("20", {"landuse": ("0702", None)}, ("其他", "不作为案件（未触发判定规则）", "other")),
    ("02", {"landuse": ("0101", "PF")}, ("非粮违法", "永久基本农田“四禁止”", "illegal")),
])
def test_official_class_and_subclass_of_a_patch(tblx, extra, expect):
    patches = _patches(["P"], [rect(0, 0, 50, 40)], [tblx])
    layers = {}
    if "approvals" in extra:
        layers["approvals"] = layer(["PZ1"], [rect(-10, -10, 60, 50)],
                                    date=pd.to_datetime(["2022-01-01"]), kind=[extra["approvals"]])
    if "landuse" in extra:
        code, pf = extra["landuse"]
        layers["landuse"] = layer(["L"], [rect(-10, -10, 60, 50)], **{"class": [code]})
        if pf:
            layers["permanent_farmland"] = layer(["F"], [rect(-10, -10, 60, 50)])
    v = _screen(patches, layers).verdicts.iloc[0]
    assert (v["official_class"], v["official_subclass"], v["verdict"]) == expect


def test_an_approval_without_a_kind_is_批文_for_the_patch_and_its_children():
    patches = _patches(["P", "Q"], [rect(0, 0, 50, 40), rect(100, 0, 150, 40)], ["20", "20"])
    layers = {"approvals": layer(["PZ1", "PZ2", "PZ3"],
                                 [rect(-10, -10, 60, 50), rect(100, 0, 120, 40),
                                  rect(120, 0, 130, 40)],
                                 date=pd.to_datetime(["2022-01-01"] * 3),
                                 kind=[None, None, "供地"])}
    r = _screen(patches, layers)
    v = r.verdicts.set_index("id")
    assert (v.loc["P", "official_class"], v.loc["P", "official_subclass"]) == ("合法", "批文")
    kids = r.fragments[(r.fragments["parent_id"] == "Q") & (r.fragments["part"] == "legal")]
    assert kids["official_subclass"].tolist() == ["批文", "供地"]


@pytest.mark.parametrize(("after", "period"), [("2023-01-01", "新增"), ("2022-12-31", "存量"),
                                               ("2023-06-30", "新增")])
def test_build_period_from_the_after_date_and_new_since(after, period):
    patches = layer(["P"], [rect(0, 0, 50, 40)], type=["YH"],
                    before=pd.to_datetime(["2022-06-01"]), after=pd.to_datetime([after]))
    v = _screen(patches, {}).verdicts.iloc[0]
    assert v["build_period"] == period


def test_build_period_follows_the_parameter_and_a_missing_date_is_unknown():
    patches = layer(["P", "Q"], [rect(0, 0, 50, 40), rect(100, 0, 150, 40)], type=["YH", "YH"],
                    before=pd.to_datetime(["2022-06-01", "2022-06-01"]),
                    after=pd.to_datetime(["2023-03-01", None]))
    v = _screen(patches, {}).verdicts
    assert v["build_period"].tolist() == ["新增", "不明"]
    assert v["official_class"].tolist() == ["非农违法", "存疑"]  # a missing date is for review


def test_outflow_area_and_its_exemption():
    """Garden on general farmland (0101, no permanent farmland): the whole 2000 m² is outflow
    to balance; the same with 灾毁 in the note is exempt."""
    patches = _patches(["P", "Q"], [rect(0, 0, 50, 40), rect(100, 0, 150, 40)], ["02", "02"],
                       note=["", "水毁灾毁"])
    layers = {"landuse": layer(["L"], [rect(-10, -10, 200, 50)], **{"class": ["0101"]})}
    v = _screen(patches, layers).verdicts.set_index("id")
    assert v.loc["P", "outflow_m2"] == pytest.approx(2000, rel=2e-6)
    assert v.loc["P", "outflow_exempt_m2"] == 0
    assert v.loc["Q", "outflow_m2"] == 0
    assert v.loc["Q", "outflow_exempt_m2"] == pytest.approx(2000, rel=2e-6)
    assert v.loc["P", "outflow_mu"] == pytest.approx(3.0, rel=2e-6)
    assert v.loc["P", "official_subclass"] == "耕地流出（计入进出平衡）"


def test_verdicts_carry_the_protected_features_hit():
    patches = _patches(["P"], [rect(0, 0, 50, 40)], ["20"])
    layers = {"permanent_farmland": layer(["永农1", "永农2"], [rect(0, 0, 20, 40),
                                                            rect(30, 0, 60, 40)]),
              "eco_redline": layer(["红线1"], [rect(40, 0, 80, 40)])}
    v = _screen(patches, layers).verdicts.iloc[0]
    assert v["permanent_farmland_ids"] == ["永农1", "永农2"]
    assert v["eco_redline_ids"] == ["红线1"]


# ------------------------------------------------------------------ the pack's [official]

_PACK = """
name = "t"
version = "1.0.0"
valid_from = 2023-01-01
title_zh = "测"
title_en = "t"

[[rules]]
id = "legality.x"
family = "legality"
verdict = "illegal"
reason_zh = "x"
reason_en = "x"
when = "area_m2 > 0"
{rule_extra}

{official}
"""

_OFFICIAL = """
[official]
classes = { bad = "违法", ok = "合法", unsure = "存疑", none = "其他" }
verdicts = { illegal = "bad", legal = "ok", needs_review = "unsure", other = "none" }
subclass_names = { big = "大" }
"""


def _load(rule_extra="", official=_OFFICIAL):
    from landcheck.facts.schema import fact_schema

    return loads_pack(_PACK.format(rule_extra=rule_extra, official=official),
                      schema={"patches": fact_schema()})


def test_a_pack_without_official_gets_the_ministrys_three_classes_and_review():
    scheme = _load(official="").official
    assert dict(scheme.classes) == {"illegal": "违法", "doubtful": "存疑", "legal": "合法",
                                    "other": "其他"}


@pytest.mark.parametrize(("rule_extra", "official", "message"), [
    ('official_class = "worse"', _OFFICIAL, "official_class 'worse' is not one of"),
    ('official_subclass = "big"', _OFFICIAL, "official_subclass needs an official_class"),
    ('official_class = "bad"\nofficial_subclass = "small"', _OFFICIAL,
     "official_subclass 'small' is not in official.subclass_names"),
    ("", _OFFICIAL.replace(', other = "none"', ""), "verdicts needs a class for 'other'"),
    ("", _OFFICIAL + "balance = { outflow = ['legality.y'] }\n", "no rule 'legality.y'"),
    ("", _OFFICIAL + "balance = { outflow = ['legality.x'] }\n", "names no area"),
    ("", _OFFICIAL + '[[official.subclasses]]\nclass = "bad"\nsubclass = "big"\n'
     'when = "aera_m2 > 1"\n', "aera_m2"),
    ("", _OFFICIAL + 'build_date = "id"\n', "must be a date fact"),
])
def test_the_official_table_is_checked_when_the_pack_loads(rule_extra, official, message):
    with pytest.raises(RuleError, match=message):
        _load(rule_extra, official)


def test_city_pack_names_a_class_for_every_verdict_and_known_subclasses():
    pack = load_rules("city2023")
    scheme = pack.official
    assert set(scheme.verdicts) == {"illegal", "needs_review", "legal", "other"}
    assert {"非农违法", "非粮违法", "合法", "其他", "农村道路", "设施农用地", "伪变化", "存疑"} \
        == set(scheme.classes.values())
    assert pack.to_dict()["official"]["balance"]["outflow"] == ["farmland.outflow",
                                                                 "roads.balance_required"]


# ------------------------------------------------------------------ property: children

@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_children_add_up_never_overlap_and_lie_in_their_documents(data):
    def box():
        x, y = data.draw(st.integers(0, 8)) * 10.0, data.draw(st.integers(0, 8)) * 10.0
        w, h = data.draw(st.integers(1, 8)) * 10.0, data.draw(st.integers(1, 8)) * 10.0
        return rect(x, y, x + w, y + h)

    n = data.draw(st.integers(1, 3))
    patches = _patches([f"P{i}" for i in range(n)], [box() for _ in range(n)], ["20"] * n)
    k = data.draw(st.integers(1, 4))
    docs = [box() for _ in range(k)]
    layers = {"approvals": layer([f"A{i}" for i in range(k)], docs,
                                 date=pd.to_datetime(["2022-01-01"] * k)),
              # grassland under everything: a layer that meets the patches (a run refuses
              # patches that no layer meets)
              "landuse": layer(["L"], [rect(-10, -10, 200, 200)], **{"class": ["0404"]})}
    r = _screen(patches, layers)
    kids = r.fragments[r.fragments["child_id"].notna()]
    sums = kids.groupby("parent_id")["area_m2"].sum()
    area = r.verdicts.set_index("id")["area_m2"]
    np.testing.assert_allclose(sums.reindex(area.index).to_numpy(), area.to_numpy(),
                               rtol=1e-12, atol=1e-9)
    by_doc = dict(zip([f"A{i}" for i in range(k)], docs, strict=True))
    for _, group in kids.groupby("parent_id"):
        geoms = [g for g in group.geometry if g is not None]
        for i in range(len(geoms)):
            for j in range(i + 1, len(geoms)):
                assert shapely.intersection(geoms[i], geoms[j]).area < 1e-6
        for doc, g in zip(group["doc_id"], group.geometry, strict=True):
            if isinstance(doc, str):
                assert shapely.difference(g, by_doc[doc]).area < 1e-6


# ------------------------------------------------------------------ the bureau's fields

def test_every_source_field_of_a_gbk_shapefile_is_in_both_layers(tmp_path):
    """A GBK shapefile with Chinese field names and values, one field named like a
    landcheck column (``verdict``): every field comes back under its name (that one as
    ``src_verdict``), with the values as read."""
    raw = layer(["3499012023Q3000001", "3499012023Q3000002"],
                [rect(0, 0, 100, 100), rect(200, 0, 300, 100)])
    raw = raw.rename(columns={"id": "JCBH"}).assign(
        TBLX=["20", "建(构)筑物"], XFJB=["部", "省"], QSX=["2023-01-15"] * 2,
        HSX=["2023-06-30"] * 2, BZ=["群众举报", ""], 乡镇名称=["示范镇", "新村乡"],
        verdict=["自填", "自填"])
    shp = tmp_path / "图斑.shp"
    pyogrio.write_dataframe(raw, shp, encoding="GBK")
    shp.with_suffix(".cpg").write_text("GBK", encoding="ascii")
    pz = layer(["皖政地〔2022〕1号"], [rect(0, 0, 50, 100)],
               date=pd.to_datetime(["2022-01-01"]))
    pz = pz.rename(columns={"id": "PZWH", "date": "PZRQ"})
    pyogrio.write_dataframe(pz, tmp_path / "pz.gpkg")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"""
crs = "EPSG:4527"
[patches]
path = "{shp.name}"
crs = "EPSG:4527"
[patches.fields]
id = "JCBH"
type = "TBLX"
level = "XFJB"
before = "QSX"
after = "HSX"
note = "BZ"
[layers.approvals]
path = "pz.gpkg"
fields = {{ id = "PZWH", date = "PZRQ" }}
""", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = screen(None, cfg, reference_date="2023-09-30")
    v = r.verdicts
    for name in ("JCBH", "TBLX", "XFJB", "QSX", "HSX", "BZ", "乡镇名称", "src_verdict"):
        assert name in v.columns, name
    assert v["TBLX"].tolist() == ["20", "建(构)筑物"]  # as the bureau wrote it
    assert v["乡镇名称"].tolist() == ["示范镇", "新村乡"]
    assert v["src_verdict"].tolist() == ["自填", "自填"]
    assert list(v.columns[:8]) == ["JCBH", "TBLX", "XFJB", "QSX", "HSX", "BZ", "乡镇名称",
                                   "src_verdict"]
    f = r.fragments
    assert {"JCBH", "TBLX", "乡镇名称"} <= set(f.columns)
    assert (f.loc[f["parent_id"] == "3499012023Q3000001", "BZ"] == "群众举报").all()


# ------------------------------------------------------------------ the demo county

def test_every_demo_patch_has_an_official_class_and_its_children_add_up(demo_result):
    v, f = demo_result.verdicts, demo_result.fragments
    assert v["official_class"].notna().all() and (v["official_class"] != "").all()
    assert v["official_subclass"].notna().all()
    kids = f[f["child_id"].notna()]
    sums = kids.groupby("parent_id")["area_m2"].sum()
    area = v.set_index("id")["area_m2"]
    np.testing.assert_allclose(sums.reindex(area.index).to_numpy(), area.to_numpy(),
                               rtol=1e-12, atol=1e-9)
    assert (v.loc[v["split"], "split_status"] == "被拆分").all()
    assert (v.loc[~v["split"], "split_status"] == "未拆分").all()
