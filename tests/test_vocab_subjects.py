"""The other layers' vocabularies, and what an unknown or missing value does to a verdict.

Every layer here is a GBK shapefile with Chinese field names and Chinese values, read
through a layer config that maps fields only (no ``values`` table). Geometries are boxes in
metres from :data:`landcheck.testing.ORIGIN` (EPSG:4527, on the zone's central meridian, so
official areas are the plane areas to 1e-4). On paper:

- each vocabulary of ``value_names.csv`` knows its codes by code, Chinese name and variant;
- a value no vocabulary knows is one VocabularyWarning naming the file, the field, the value
  and its count, and every feature whose verdict depends on it is needs_review with a reason
  naming it — never the permissive default;
- a county-issued patch issued 2023-08-03 is due 2023-08-08 (``county_days`` = 5);
- a building without a kind counts as a main building when its footprint inside the plot is
  at least 40 m² (``unlabelled_main_min_m2``): 41 m² counts, 39 m² is for review;
- a plan's declared public-interest share (percent) is used where no part carries a use, the
  share measured from the parts where they do.
"""

from __future__ import annotations

import csv
import textwrap
import warnings
from importlib import resources

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

import landcheck
from landcheck.checks.corridors import CLASS_ZH
from landcheck.checks.deadlines import LEVELS
from landcheck.checks.plans import PUBLIC_USE
from landcheck.checks.projects import BUILDING_KINDS, CROP_LABELS_ZH, ZONE_OF_KIND
from landcheck.cli.main import cli
from landcheck.errors import DataWarning, VocabularyWarning
from landcheck.inspection import UnknownValue, inspect_layerset
from landcheck.roles import FOREST_CLASSES
from landcheck.screen import load_rules
from landcheck.testing import AS_OF, CRS, rect
from landcheck.vocab import normalise_values, value_names

BIG = rect(-1000, -1000, 2000, 2000)


def _rows() -> list[dict]:
    with resources.files("landcheck.data").joinpath("value_names.csv").open(
            encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _shp(path, columns: dict, geoms):
    frame = gpd.GeoDataFrame(columns, geometry=list(geoms), crs=CRS)
    pyogrio.write_dataframe(frame, path, encoding="GBK")
    path.with_suffix(".cpg").write_text("GBK", encoding="ascii")


def _config(tmp_path, layers: dict, *, patches: dict | None = None):
    """A config of GBK shapefiles: ``layers`` role → (columns, geoms, field mapping)."""
    text = f'crs = "{CRS}"\n'
    if patches:
        columns, geoms, fields = patches
        _shp(tmp_path / "tb.shp", columns, geoms)
        text += f'[patches]\npath = "tb.shp"\nfields = {_inline(fields)}\n'
    for role, (columns, geoms, fields) in layers.items():
        _shp(tmp_path / f"{role}.shp", columns, geoms)
        text += f'[layers.{role}]\npath = "{role}.shp"\nfields = {_inline(fields)}\n'
    path = tmp_path / "county.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _inline(fields: dict) -> str:
    return "{ " + ", ".join(f'{k} = "{v}"' for k, v in fields.items()) + " }"


def _run(fn, *args, **kw):
    """``fn(*args, **kw)`` and the messages of the VocabularyWarnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args, **kw)
    vocab = [str(w.message) for w in caught if issubclass(w.category, VocabularyWarning)]
    return result, vocab


def _check(subject, config, **kw):
    return _run(landcheck.check, subject, config, reference_date=AS_OF, **kw)


def _screen(config, **kw):
    return _run(landcheck.screen, None, config, reference_date=AS_OF, **kw)


def _patches(types, geoms, *, level="部", issued="2023-08-03", after="2023-06-01"):
    n = len(types)
    return ({"监测编号": [f"P{i + 1}" for i in range(n)], "图斑类型": types,
             "前时相": ["2023-01-01"] * n, "后时相": [after] * n, "下发级别": [level] * n,
             "下发日期": [issued] * n},
            geoms,
            {"id": "监测编号", "type": "图斑类型", "before": "前时相", "after": "后时相",
             "level": "下发级别", "issued": "下发日期"})


# ------------------------------------------------------------------ the tables themselves

#: (role, field) of every vocabulary this file covers, the Chinese field name it is read from
#: and the other fields the role requires.
FIELDS = {
    ("patches", "level"): ("下发级别", {"监测编号": "id"}),
    ("approvals", "kind"): ("批准类型", {"批准文号": "id", "批准日期": "date"}),
    ("projects", "kind"): ("项目类型", {"项目编号": "id"}),
    ("projects", "status"): ("项目状态", {"项目编号": "id", "类型": "kind"}),
    ("projects", "crop"): ("种植情况", {"项目编号": "id", "类型": "kind"}),
    ("corridors", "class"): ("道路等级", {}),
    ("forest", "class"): ("森林类别", {}),
    ("buildings", "kind"): ("房屋类型", {}),
    ("development_plans", "kind"): ("方案类型", {"方案编号": "plan"}),
    ("development_plans", "use"): ("用途", {"方案编号": "plan"}),
}


@pytest.mark.parametrize(("role", "fld"), list(FIELDS), ids=[f"{r}.{f}" for r, f in FIELDS])
def test_every_code_is_read_by_code_chinese_name_and_a_variant(tmp_path, role, fld):
    rows = [r for r in _rows() if (r["role"], r["field"]) == (role, fld)]
    assert rows
    # three features per code: the code, its Chinese name, its first variant
    values = [v for r in rows for v in (r["code"], r["name_zh"], r["variants"].split("|")[0])]
    expected = [r["code"] for r in rows for _ in range(3)]
    name, others = FIELDS[(role, fld)]
    n = len(values)
    columns = {name: values}
    for other, canonical in others.items():
        columns[other] = ([f"X{i}" for i in range(n)] if canonical in ("id", "plan") else
                          ["2023-01-01"] * n if canonical == "date" else ["占补平衡"] * n)
    fields = {fld: name, **{c: o for o, c in others.items()}}
    geoms = [rect(10 * i, 0, 10 * i + 5, 5) for i in range(n)]
    if role == "patches":
        config = _config(tmp_path, {}, patches=(columns, geoms, fields))
        read = landcheck.LayerSet.from_config(config).patch_spec(None).read
    else:
        config = _config(tmp_path, {role: (columns, geoms, fields)})
        read = landcheck.LayerSet.from_config(config).spec(role).read
    gdf, vocab = _run(read)
    assert vocab == []
    assert gdf[fld].tolist() == expected


def test_the_codes_are_those_the_checks_compare_with():
    names = value_names()

    def codes(role, fld):
        return set(names[(role, fld)].values())

    assert codes("projects", "kind") == set(ZONE_OF_KIND)
    assert codes("projects", "crop") == set(CROP_LABELS_ZH)
    assert codes("buildings", "kind") == set(BUILDING_KINDS)
    assert codes("forest", "class") == set(FOREST_CLASSES)
    assert codes("patches", "level") == set(LEVELS)
    assert PUBLIC_USE in codes("development_plans", "use")
    assert codes("corridors", "class") == set(CLASS_ZH)
    table = {r["code"]: r["name_zh"] for r in _rows() if r["role"] == "corridors"}
    assert table == CLASS_ZH  # the Chinese names in reasons are the vocabulary's
    params = load_rules("city2023").params
    limits = {k[:-len("_limit_m")] for p in params.values() for k in p if k.endswith("_limit_m")}
    assert limits <= codes("corridors", "class")
    minima = {k[len("public_share_min_"):] for p in params.values() for k in p
              if k.startswith("public_share_min_")}
    assert minima == codes("development_plans", "kind")


def test_every_row_has_a_source():
    assert all(r["source"].strip() for r in _rows())


@pytest.mark.parametrize(("role", "fld", "raw", "code"), [
    ("corridors", "class", "county", "county_road"),  # the English word bureaus write
    ("corridors", "class", "X", "county_road"),       # GB/T 917-2017 route letter
    ("corridors", "class", "G", "national_road"),
    ("patches", "level", "区县", "county"),
    ("patches", "level", "县（区）", "county"),
    ("forest", "class", "国家级生态公益林", "public_welfare_national"),
    ("development_plans", "use", "公益性", "public_interest"),
    ("projects", "crop", "水稻", "aquatic"),
])
def test_variants(role, fld, raw, code):
    assert normalise_values(pd.Series([raw]), role, fld, where="t").tolist() == [code]


# ------------------------------------------------------------------ issuing level → deadline


def _deadline(tmp_path, level, **kw):
    config = _config(tmp_path, {}, patches=_patches(["20"], [rect(0, 0, 10, 10)], level=level))
    result, vocab = _screen(config, **kw)
    return result.verdicts.iloc[0], result.facts.iloc[0], vocab


@pytest.mark.parametrize("level", ["县", "县级", "county"])
def test_county_issued_patch_is_due_county_days_after_issue(tmp_path, level):
    v, f, vocab = _deadline(tmp_path, level)
    assert vocab == []
    assert f["level"] == "county"
    assert f["due_date"] == pd.Timestamp("2023-08-08")  # 2023-08-03 + 5 days
    assert "deadline.county" in v["rules"]
    assert "2023-08-08" in v["reasons_zh"] and "5日内" in v["reasons_zh"]


def test_county_days_is_a_parameter(tmp_path):
    _, f, _ = _deadline(tmp_path, "县", overrides={"deadline.county_days": 10})
    assert f["due_date"] == pd.Timestamp("2023-08-13")


def test_unknown_level_is_warned_and_for_review(tmp_path):
    v, f, vocab = _deadline(tmp_path, "乡镇")
    assert len(vocab) == 1 and "'下发级别'" in vocab[0] and "'乡镇' × 1" in vocab[0]
    assert pd.isna(f["due_date"]) and f["level_unknown"] == "乡镇"
    assert "deadline.level_unknown" in v["rules"] and "“乡镇”" in v["reasons_zh"]


# ------------------------------------------------------------------ consolidation projects

PLOT = rect(0, 0, 60, 50)


def _projects(tmp_path, rows, *, buildings=None, zone=BIG, **kw):
    """Plots at PLOT (one per row: 项目类型, 种植情况), approved, implemented and accepted in
    time; zones everywhere unless ``zone`` says; ``buildings``: (columns, geoms, fields)."""
    n = len(rows)
    columns = {"项目编号": [f"X{i + 1}" for i in range(n)], "项目类型": [r[0] for r in rows],
               "立项日期": ["2023-04-20"] * n, "实施日期": ["2023-06-10"] * n,
               "验收日期": ["2023-08-15"] * n, "种植情况": [r[1] for r in rows]}
    fields = {"id": "项目编号", "kind": "项目类型", "approved": "立项日期",
              "implemented": "实施日期", "accepted": "验收日期", "crop": "种植情况"}
    zones = ({"编号": ["Z1"]}, [zone], {"id": "编号"})
    layers = {"projects": (columns, [PLOT] * n, fields), "general_ag_zone": zones,
              "village_zone": zones}
    layers["buildings"] = buildings or ({"编号": ["B0"], "房屋类型": ["主房"]},
                                        [rect(10, 10, 20, 20)],
                                        {"id": "编号", "kind": "房屋类型"})
    return _check("projects", _config(tmp_path, layers), **kw)


@pytest.mark.parametrize("kind", ["占补平衡", "耕地占补平衡", "补充耕地", "supplement"])
def test_supplement_kind_by_name_is_judged_against_its_zone(tmp_path, kind):
    result, vocab = _projects(tmp_path, [(kind, "旱作")], zone=rect(500, 500, 600, 600))
    v = result.verdicts.iloc[0]
    assert vocab == []
    assert v["rules"] == ["projects.supplement_misplaced"] and v["verdict"] == "illegal"


@pytest.mark.parametrize(("kind", "written"), [("土地复垦", "土地复垦"), ("", "（空）")])
def test_unknown_or_missing_project_kind_is_for_review(tmp_path, kind, written):
    # outside every zone: a known kind would be misplaced, an unknown one is not judged
    result, vocab = _projects(tmp_path, [(kind, "旱作")], zone=rect(500, 500, 600, 600))
    v = result.verdicts.iloc[0]
    assert v["verdict"] == "needs_review" and v["rules"] == ["projects.kind_unknown"]
    assert f"“{written}”" in v["reasons_zh"]
    if kind:
        assert len(vocab) == 1 and "'项目类型'" in vocab[0] and "'土地复垦' × 1" in vocab[0]


@pytest.mark.parametrize(("crop", "rules"), [
    ("已出苗", []),                              # variant of seedlings_up
    ("玉米", ["projects.crop_unknown"]),          # not in the vocabulary: for review, named
    ("未种植", ["projects.linkage_no_crop"]),
])
def test_linkage_crop_at_acceptance(tmp_path, crop, rules):
    result, vocab = _projects(tmp_path, [("增减挂钩", crop)])
    v = result.verdicts.iloc[0]
    assert v["rules"] == (rules or ["engine.no_finding"])
    assert v["verdict"] == ("needs_review" if rules else "legal")
    if crop == "玉米":
        assert "“玉米”" in v["reasons_zh"]
        assert len(vocab) == 1 and "'种植情况'" in vocab[0] and "'玉米' × 1" in vocab[0]


def _unlabelled(*boxes):
    """A building layer with no kind field at all."""
    return ({"编号": [f"B{i + 1}" for i in range(len(boxes))]}, [rect(*b) for b in boxes],
            {"id": "编号"})


@pytest.mark.parametrize(("box", "inside", "counted"), [
    ((10, 10, 20, 14.1), 41.0, True),   # 10 × 4.1 m inside the plot
    ((55, 10, 62, 17.8), 39.0, False),  # straddles the edge: 5 × 7.8 m inside the plot
])
def test_building_without_kind_counts_as_main_by_its_footprint(tmp_path, box, inside, counted):
    result, _ = _projects(tmp_path, [("增减挂钩", "苗已出")], buildings=_unlabelled(box))
    v, f = result.verdicts.iloc[0], result.facts.iloc[0]
    if counted:
        assert v["verdict"] == "legal" and v["rules"] == ["projects.main_building_by_footprint"]
        assert f["main_building_m2"] == pytest.approx(inside, rel=1e-4)
        assert f["main_building_inferred_ids"] == ["B1"] and "B1" in v["reasons_zh"]
    else:
        assert v["verdict"] == "needs_review" and v["rules"] == ["projects.building_unlabelled"]
        assert f["main_building_n"] == 0 and f["building_unlabelled_ids"] == ["B1"]
        assert "B1" in v["reasons_zh"] and "40" in v["reasons_zh"]


def test_footprint_threshold_is_a_parameter(tmp_path):
    result, _ = _projects(tmp_path, [("增减挂钩", "苗已出")],
                          buildings=_unlabelled((55, 10, 62, 17.8)),
                          overrides={"projects.unlabelled_main_min_m2": 30.0})
    assert result.verdicts["rules"].iloc[0] == ["projects.main_building_by_footprint"]


def test_labelled_main_building_needs_no_fallback(tmp_path):
    buildings = ({"编号": ["B1", "B2"], "房屋类型": ["主屋", ""]},
                 [rect(10, 10, 20, 20), rect(30, 10, 33, 13)], {"id": "编号", "kind": "房屋类型"})
    result, vocab = _projects(tmp_path, [("增减挂钩", "苗已出")], buildings=buildings)
    v, f = result.verdicts.iloc[0], result.facts.iloc[0]
    assert vocab == [] and v["verdict"] == "legal"
    assert f["main_building_ids"] == ["B1"] and f["building_unlabelled_ids"] == ["B2"]


def test_unknown_building_kind_is_for_review(tmp_path):
    buildings = ({"编号": ["B1", "B2"], "房屋类型": ["厂房", "附属用房"]},
                 [rect(10, 10, 20, 20), rect(30, 10, 40, 20)], {"id": "编号", "kind": "房屋类型"})
    result, vocab = _projects(tmp_path, [("增减挂钩", "苗已出")], buildings=buildings)
    v, f = result.verdicts.iloc[0], result.facts.iloc[0]
    assert v["verdict"] == "needs_review" and v["rules"] == ["projects.building_kind_unknown"]
    assert f["annex_building_n"] == 1 and f["building_unknown_kinds"] == ["厂房"]
    assert "“厂房”" in v["reasons_zh"]
    assert len(vocab) == 1 and "'房屋类型'" in vocab[0] and "'厂房' × 1" in vocab[0]


def test_without_building_layer_a_linkage_plot_is_for_review(tmp_path):
    n = 1
    columns = {"项目编号": ["X1"] * n, "项目类型": ["增减挂钩"] * n, "立项日期": ["2023-04-20"],
               "实施日期": ["2023-06-10"]}
    fields = {"id": "项目编号", "kind": "项目类型", "approved": "立项日期",
              "implemented": "实施日期"}
    zones = ({"编号": ["Z1"]}, [BIG], {"id": "编号"})
    config = _config(tmp_path, {"projects": (columns, [PLOT], fields), "village_zone": zones})
    result, _ = _check("projects", config)
    assert result.verdicts["rules"].iloc[0] == ["projects.buildings_missing"]


# ------------------------------------------------------------------ development plans


def _plans_config(tmp_path, parts):
    """Plan parts: (plan id, 方案类型, 用途, 公益比例, geometry)."""
    columns = {"方案编号": [p[0] for p in parts], "方案类型": [p[1] for p in parts],
               "用途": [p[2] for p in parts], "公益比例": [p[3] for p in parts]}
    fields = {"plan": "方案编号", "kind": "方案类型", "use": "用途", "public_share": "公益比例"}
    return _config(tmp_path, {"development_plans": (columns, [p[4] for p in parts], fields)})


def _plans(tmp_path, parts):
    return _check("development_plans", _plans_config(tmp_path, parts))


SQUARE = rect(0, 0, 100, 100)
WEST, EAST = rect(0, 0, 50, 100), rect(50, 0, 100, 100)


@pytest.mark.parametrize(("declared", "verdict", "rule"), [
    ("45%", "legal", "plans.public_share_declared"),
    ("35", "needs_review", "plans.public_share_low"),
])
def test_declared_share_is_used_where_no_part_carries_a_use(tmp_path, declared, verdict, rule):
    result, _ = _plans(tmp_path, [("F1", "产业主导型", "", declared, SQUARE)])
    v, f = result.verdicts.iloc[0], result.facts.iloc[0]
    pct = float(declared.rstrip("%"))
    assert f["public_share_source"] == "declared"
    assert f["public_share"] == pytest.approx(pct / 100) and f["public_share_min"] == 0.40
    assert v["verdict"] == verdict and v["rules"] == [rule]
    assert f"{pct:g}%" in v["reasons_zh"] and "填报" in v["reasons_zh"]


def test_measured_share_is_preferred_to_the_declared_one(tmp_path):
    # half public interest by the parts' uses; the plan declares 30 %
    result, _ = _plans(tmp_path, [("F1", "产城融合", "公益性用地", "30", WEST),
                                  ("F1", "产城融合", "居住用地", "30", EAST)])
    v, f = result.verdicts.iloc[0], result.facts.iloc[0]
    assert f["public_share_source"] == "measured" and f["public_share_declared_pct"] == 30
    assert f["public_share"] == pytest.approx(0.5, rel=1e-4)
    assert v["verdict"] == "legal" and v["rules"] == ["engine.no_finding"]


def test_measured_share_below_the_minimum_says_it_was_measured(tmp_path):
    result, _ = _plans(tmp_path, [("F1", "产城融合", "居住用地", "60", SQUARE)])
    v = result.verdicts.iloc[0]
    assert v["rules"] == ["plans.public_share_low"] and "按片区用途量算" in v["reasons_zh"]


def test_no_use_and_no_declared_share_is_for_review(tmp_path):
    result, _ = _plans(tmp_path, [("F1", "产业主导", "", "", SQUARE)])
    v = result.verdicts.iloc[0]
    assert pd.isna(result.facts["public_share"].iloc[0])
    assert v["verdict"] == "needs_review" and v["rules"] == ["plans.public_share_unknown"]


@pytest.mark.parametrize("declared", ["150", "四成"])
def test_a_declared_share_that_is_not_a_percentage_is_warned_and_not_used(tmp_path, declared):
    config = _plans_config(tmp_path, [("F1", "产业主导", "", declared, SQUARE)])
    with pytest.warns(DataWarning, match=r"not a percentage 0–100 \(plans 'F1'"):
        result = landcheck.check("development_plans", config, reference_date=AS_OF)
    assert result.verdicts["rules"].iloc[0] == ["plans.public_share_unknown"]


def test_a_declared_ratio_is_read_as_percent_with_a_warning(tmp_path):
    config = _plans_config(tmp_path, [("F1", "产业主导", "", "0.45", SQUARE)])
    with pytest.warns(DataWarning, match=r"plans 'F1' declare a public-interest share of at most"):
        result = landcheck.check("development_plans", config, reference_date=AS_OF)
    assert result.facts["public_share"].iloc[0] == pytest.approx(0.0045)
    assert result.verdicts["rules"].iloc[0] == ["plans.public_share_low"]


def test_parts_declaring_different_shares_are_not_used(tmp_path):
    config = _plans_config(tmp_path, [("F1", "产业主导", "", "45", WEST),
                                      ("F1", "产业主导", "", "50", EAST)])
    with pytest.warns(DataWarning, match=r"parts of plans 'F1' declare different"):
        result = landcheck.check("development_plans", config, reference_date=AS_OF)
    assert result.verdicts["rules"].iloc[0] == ["plans.public_share_unknown"]


def test_unknown_part_use_is_for_review_when_the_share_falls_short(tmp_path):
    result, vocab = _plans(tmp_path, [("F1", "产城融合", "绿地", "", WEST),
                                      ("F1", "产城融合", "居住用地", "", EAST)])
    v, f = result.verdicts.iloc[0], result.facts.iloc[0]
    assert f["use_unknown"] == ["绿地"] and f["use_unknown_m2"] == pytest.approx(5000, rel=1e-4)
    assert v["rules"] == ["plans.public_share_low", "plans.use_unknown"]
    assert "“绿地”" in v["reasons_zh"]
    assert len(vocab) == 1 and "'用途'" in vocab[0] and "'绿地' × 1" in vocab[0]


def test_unknown_part_use_does_not_matter_when_the_share_is_met(tmp_path):
    result, _ = _plans(tmp_path, [("F1", "产城融合", "公益性用地", "", WEST),
                                  ("F1", "产城融合", "绿地", "", EAST)])
    assert result.verdicts["rules"].iloc[0] == ["engine.no_finding"]


def test_unknown_plan_kind_is_for_review(tmp_path):
    result, vocab = _plans(tmp_path, [("F1", "城市更新型", "公益性用地", "", SQUARE)])
    v = result.verdicts.iloc[0]
    assert v["verdict"] == "needs_review" and v["rules"] == ["plans.kind_unknown"]
    assert "“城市更新型”" in v["reasons_zh"] and "40%" in v["reasons_zh"]
    assert len(vocab) == 1 and "'方案类型'" in vocab[0] and "'城市更新型' × 1" in vocab[0]


# ------------------------------------------------------------------ corridors and forest


def _belt(tmp_path, cls, *, width=10.0, depth=8.0, planned=""):
    """A forest patch (type 03) of ``depth`` × 100 m north of a corridor of ``width`` m, on
    farmland, built 2022-04-15."""
    patches = _patches(["03"], [rect(300, width, 400, width + depth)], after="2022-04-15")
    corridors = ({"编号": ["K1"], "道路等级": [cls], "宽度": [width], "规划宽度": [planned]},
                 [rect(0, 0, 1000, width)],
                 {"id": "编号", "class": "道路等级", "width": "宽度",
                  "planned_width": "规划宽度"})
    landuse = ({"编号": ["L1"], "地类编码": ["0103"]}, [BIG], {"id": "编号", "class": "地类编码"})
    config = _config(tmp_path, {"corridors": corridors, "landuse": landuse}, patches=patches)
    result, vocab = _screen(config)
    return result.verdicts.iloc[0], result.facts.iloc[0], vocab


@pytest.mark.parametrize("cls", ["县道", "county", "X", "县级公路"])
def test_county_road_by_any_spelling_limits_the_belt_to_3_m(tmp_path, cls):
    v, f, vocab = _belt(tmp_path, cls)
    assert vocab == []
    assert f["belt_limit_m"] == 3.0
    assert f["belt_excess_m2"] == pytest.approx(500, rel=1e-4)  # (8 − 3) m × 100 m
    assert {"corridors.over_standard", "corridors.recent_deadline"} <= set(v["rules"])


def test_unknown_corridor_class_is_for_review_not_passed(tmp_path):
    v, f, vocab = _belt(tmp_path, "专用公路")
    assert pd.isna(f["belt_excess_m2"]) and f["belt_unjudged_corridors"] == ["专用公路"]
    assert "corridors.class_unknown" in v["rules"] and "corridors.over_standard" not in v["rules"]
    assert "专用公路" in v["reasons_zh"]
    assert len(vocab) == 1 and "'道路等级'" in vocab[0] and "'专用公路' × 1" in vocab[0]


def test_river_without_planned_width_is_for_review(tmp_path):
    v, f, _ = _belt(tmp_path, "河道", width=60.0, depth=25.0)
    assert f["belt_unjudged_corridors"] == ["河流（未填规划宽度）"]
    assert "corridors.class_unknown" in v["rules"]


def _road_on_forest(tmp_path, cls):
    patches = _patches(["ND"], [rect(0, 0, 100, 6)])  # a 6 m rural road
    forest = ({"编号": ["W1"], "森林类别": [cls]}, [rect(0, 0, 50, 6)],
              {"id": "编号", "class": "森林类别"})
    result, vocab = _screen(_config(tmp_path, {"forest": forest}, patches=patches))
    return result.verdicts.iloc[0], result.facts.iloc[0], vocab


def test_road_on_provincial_public_welfare_forest_by_a_variant(tmp_path):
    v, f, vocab = _road_on_forest(tmp_path, "省级生态公益林")
    assert vocab == []
    assert f["road_public_welfare_forest_m2"] == pytest.approx(300, rel=1e-4)
    assert "roads.public_welfare_forest" in v["rules"]


@pytest.mark.parametrize(("cls", "written"), [("地方公益林", "地方公益林"), ("", "（空）")])
def test_road_on_forest_of_unknown_class_is_for_review(tmp_path, cls, written):
    v, f, vocab = _road_on_forest(tmp_path, cls)
    assert f["road_forest_unknown_m2"] == pytest.approx(300, rel=1e-4)
    assert f["road_forest_unknown_classes"] == [written]
    assert "roads.forest_class_unknown" in v["rules"] and f"“{written}”" in v["reasons_zh"]
    assert v["verdict"] == "needs_review"
    if cls:
        assert len(vocab) == 1 and "'森林类别'" in vocab[0] and "'地方公益林' × 1" in vocab[0]


# ------------------------------------------------------------------ temporary land, approvals


def _on_temporary_land(tmp_path, use):
    patches = _patches(["20"], [rect(0, 0, 100, 100)])
    temporary = ({"批准文号": ["L1"], "批准用途": [use], "起始日期": ["2023-01-01"],
                  "终止日期": ["2024-12-31"]}, [rect(0, 0, 100, 100)],
                 {"id": "批准文号", "use": "批准用途", "start": "起始日期", "end": "终止日期"})
    result, vocab = _screen(_config(tmp_path, {"temporary_land": temporary}, patches=patches))
    return result.verdicts.iloc[0], result.facts.iloc[0], vocab


def test_known_temporary_use_covers(tmp_path):
    v, f, vocab = _on_temporary_land(tmp_path, "材料堆场")
    assert vocab == [] and v["verdict"] == "legal"
    assert f["temporary_m2"] == pytest.approx(10_000, rel=1e-4)


@pytest.mark.parametrize(("use", "written"), [("堆料场", "堆料场"), ("", "（空）")])
def test_unknown_temporary_use_is_held_for_review_not_illegal(tmp_path, use, written):
    v, f, vocab = _on_temporary_land(tmp_path, use)
    assert f["temporary_m2"] == 0.0 and f["temporary_use_bad_m2"] == 0.0
    assert f["temporary_use_unknown_m2"] == pytest.approx(10_000, rel=1e-4)
    assert f["temporary_use_unknown"] == [written]
    assert f["remainder_m2"] == 0.0  # the held area is not left to the unapproved remainder
    assert v["verdict"] == "needs_review" and v["illegal_m2"] == 0.0
    assert v["review_m2"] == pytest.approx(10_000, rel=1e-4)
    assert "temporary.use_unknown" in v["rules"] and f"“{written}”" in v["reasons_zh"]
    if use:
        assert len(vocab) == 1 and "'批准用途'" in vocab[0] and "'堆料场' × 1" in vocab[0]


def test_unknown_approval_kind_is_warned(tmp_path):
    approvals = ({"批准文号": ["A1", "A2"], "批准类型": ["农用地转用", "先行用地"],
                  "批准日期": ["2023-01-01"] * 2}, [rect(0, 0, 10, 10), rect(20, 0, 30, 10)],
                 {"id": "批准文号", "kind": "批准类型", "date": "批准日期"})
    config = _config(tmp_path, {"approvals": approvals})
    gdf, vocab = _run(landcheck.LayerSet.from_config(config).spec("approvals").read)
    assert gdf["kind"].tolist() == ["conversion", "先行用地"]
    assert len(vocab) == 1 and "'批准类型'" in vocab[0] and "'先行用地' × 1" in vocab[0]


# ------------------------------------------------------------------ inspect, before a run


def _inspect_config(tmp_path):
    rows = ["土地复垦", "占补平衡", "土地复垦"]
    columns = {"项目编号": ["X1", "X2", "X3"], "项目类型": rows, "种植情况": ["玉米", "", "旱作"]}
    fields = {"id": "项目编号", "kind": "项目类型", "crop": "种植情况"}
    geoms = [rect(0, 0, 10, 10), rect(20, 0, 30, 10), rect(40, 0, 50, 10)]
    return _config(tmp_path, {"projects": (columns, geoms, fields)},
                   patches=_patches(["20"], [rect(0, 0, 10, 10)], level="乡镇"))


def test_inspect_lists_unknown_values_per_layer_and_field(tmp_path):
    reports = {r.role: r for r in inspect_layerset(
        landcheck.LayerSet.from_config(_inspect_config(tmp_path)))}
    assert reports["projects"].unknown_values == [UnknownValue("项目类型", "kind", "土地复垦", 2),
                                                  UnknownValue("种植情况", "crop", "玉米", 1)]
    patches = reports["patches"].unknown_values
    assert patches == [UnknownValue("下发级别", "level", "乡镇", 1)]


def test_cli_inspect_prints_them(tmp_path):
    out = CliRunner().invoke(cli, ["inspect", str(_inspect_config(tmp_path))])
    assert out.exit_code == 0, out.output
    assert "unknown    项目类型 (projects `kind`): '土地复垦' × 2" in out.output
    assert "unknown    下发级别 (patches `level`): '乡镇' × 1" in out.output
