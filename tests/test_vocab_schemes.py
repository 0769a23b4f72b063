"""Patch-type dictionaries and land-use schemes: codes as the official tables write them.

The official patch-type dictionary (33 TBLX types, docs/vocabularies.md) is the default; the
demo county's own codes (SS, FG, WHZJ, MP, LH, 11) come from the bureau extension only. The
same land-use code means different classes under 三调 and 用地用海 (0303 红树林地 / 灌木林地,
0601 工业用地 / 农村道路, 0602 采矿用地 / 设施农用地, 0702 农村宅基地 / 城镇社区服务设施用地):
a layer's scheme is configured or detected, and said.

End-to-end cases are a 100 m × 100 m patch (after-date 2023-06-01, no approval) on one
land-use parcel covering it, read from GBK shapefiles with the bureau's field names and
Chinese values, in layer configs that map fields only (no `values` table). On paper: a
construction patch on land that is already construction land is no new construction (no
rule fires: other); on any other land it is unapproved construction of 10 000 m² (illegal).
"""

from __future__ import annotations

import textwrap
import warnings

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

import landcheck
from landcheck.checks import family_params
from landcheck.errors import ConfigError, DataWarning, VocabularyWarning
from landcheck.testing import AS_OF, SAMPLES
from landcheck.vocab import (
    LANDUSE_GROUPS,
    detect_landuse_scheme,
    landuse_class_name,
    landuse_classes,
    landuse_group,
    patch_category,
    patch_type_codes,
    patch_type_name,
    patch_types,
    resolve_patch_types,
)

CRS = "EPSG:4527"
X0, Y0 = 39_500_000.0, 3_500_000.0
SQUARE = shapely.box(X0, Y0, X0 + 100, Y0 + 100)
AREA = 10_000.0  # plane m²; the official (ellipsoidal) area is within 0.5 m² of it

#: The official dictionary as published (docs/vocabularies.md): code, name, category judged.
OFFICIAL = [
    ("20", "建(构)筑物", "construction"), ("YH", "硬化", "hardened"), ("DT", "动土", "earthworks"),
    ("TD", "推堆土", "earthworks"), ("DL1", "建成道路", "road"), ("DL2", "在建道路", "road"),
    ("DL3", "路网", "road"), ("TL", "铁路", "road"), ("ND", "农村道路", "rural_road"),
    ("SJ", "水工建筑", "construction"), ("CK", "采矿", "construction"),
    ("YT", "盐田", "construction"), ("LD", "公园绿地", "greenbelt"),
    ("GF", "光伏", "photovoltaic"), ("01", "耕地", "farmland"), ("02", "园地", "garden"),
    ("03", "林地", "forest"), ("04", "草地", "grass"), ("SM", "水面", "water"),
    ("KT", "坑塘", "pond"), ("SK", "水库", "water"), ("HL", "河流", "water"),
    ("GQ", "沟渠", "water"), ("WL", "瓦砾", "earthworks"), ("TP", "推平", "earthworks"),
    ("QT", "其他", "unknown"), ("GEF", "高尔夫", "construction"),
    ("ZQC", "足球场", "construction"), ("JC", "机场", "construction"),
    ("LT", "裸土地", "earthworks"), ("LY", "裸岩石砾地", "earthworks"),
    ("WH", "围海项目", "construction"), ("TH", "填海项目", "construction"),
]
#: The bureau extension (the demo county's codes).
BUREAU = [("SS", "设施农用地", "facility"), ("FG", "拆除复耕", "restoration"),
          ("WHZJ", "挖湖造景", "landscape_lake"), ("MP", "苗圃草皮", "nursery"),
          ("LH", "绿化", "greenbelt"), ("11", "水域", "water")]


# ---------------------------------------------------------------- files and configs


def _shp(path, columns, geoms=None):
    rows = len(next(iter(columns.values())))
    geoms = geoms or [SQUARE] * rows
    pyogrio.write_dataframe(gpd.GeoDataFrame(columns, geometry=geoms, crs=CRS), path,
                            encoding="GBK")
    path.with_suffix(".cpg").write_text("GBK", encoding="ascii")


def _county(tmp_path, types, *, landuse=None, patches_toml="", landuse_toml="",
            landuse_fields='{ id = "BSM", class = "DLBM" }'):
    """Patches of ``types`` (one square each, side by side) and, if given, a land-use layer
    of parcels ``landuse`` = {"DLBM": [...], "DLMC": [...]}, one per patch."""
    n = len(types)
    squares = [shapely.affinity.translate(SQUARE, 200 * i) for i in range(n)]
    _shp(tmp_path / "tb.shp", {"JCBH": [f"P{i + 1}" for i in range(n)], "TBLX": list(types),
                               "QSX": ["2023-01-01"] * n, "HSX": ["2023-06-01"] * n,
                               "XZQMC": ["示范县城关镇"] * n}, squares)
    text = f"""
        crs = "{CRS}"
        [patches]
        path = "tb.shp"
        fields = {{ id = "JCBH", type = "TBLX", before = "QSX", after = "HSX" }}
        {patches_toml}
    """
    if landuse is not None:
        k = len(next(iter(landuse.values())))
        _shp(tmp_path / "dltb.shp", {"BSM": [f"L{i + 1}" for i in range(k)], **landuse},
             squares[:k])
        text += f"""
        [layers.landuse]
        path = "dltb.shp"
        fields = {landuse_fields}
        {landuse_toml}
        """
    config = tmp_path / "county.toml"
    config.write_text(textwrap.dedent(text), encoding="utf-8")
    return config


def _screen(config):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = landcheck.screen(None, config, reference_date=AS_OF)
    said = {"vocabulary": [str(w.message) for w in caught
                           if issubclass(w.category, VocabularyWarning)],
            "data": [str(w.message) for w in caught if w.category is DataWarning]}
    return result, said


# ---------------------------------------------------------------- patch types


@pytest.mark.parametrize(("code", "name", "category"), OFFICIAL, ids=[c for c, _, _ in OFFICIAL])
def test_each_official_type_by_code_and_by_name(code, name, category):
    table = patch_types()
    assert table.loc[code, "name_zh"] == name
    got = pd.Series([code, name, f" {name.lower()} "])
    assert patch_type_codes(got).tolist() == [code] * 3
    assert patch_category(got).tolist() == [category] * 3
    assert patch_type_name(got).tolist() == [name] * 3


def test_the_official_dictionary_is_the_33_types_and_nothing_else():
    assert list(patch_types().index) == [c for c, _, _ in OFFICIAL]


def test_names_written_otherwise_are_recognised():
    written = pd.Series(["建/构筑物", "建（构）筑物", "光伏板", "1", "高尔夫球场", "其它"])
    assert patch_type_codes(written).tolist() == ["20", "20", "GF", "01", "GEF", "QT"]


def test_wh_is_sea_enclosure_by_default():
    t = patch_types()
    assert (t.loc["WH", "name_zh"], t.loc["WH", "category"]) == ("围海项目", "construction")
    assert patch_category(pd.Series(["挖湖造景", "WHZJ"])).tolist() == ["unknown", "unknown"]


@pytest.mark.parametrize(("code", "name", "category"), BUREAU, ids=[c for c, _, _ in BUREAU])
def test_bureau_codes_only_with_the_extension(code, name, category):
    both = patch_types(["official", "bureau"])
    assert patch_category(pd.Series([code, name])).tolist() == ["unknown", "unknown"]
    assert patch_category(pd.Series([code, name]), table=both).tolist() == [category] * 2


def test_every_type_gets_a_legality_verdict_from_the_city_pack():
    """No type's category is one the legality rules ignore (a patch no rule judges is
    'other', quietly): each is a construction or agricultural category of the pack, or has
    its own rules (photovoltaic, rural_road), or goes to review (unknown)."""
    pack = landcheck.load_rules("city2023")
    p = family_params(pack, "legality")
    judged = {*p["construction_categories"], *p["agricultural_categories"], "photovoltaic",
              "rural_road", "unknown"}
    categories = set(patch_types(["official", "bureau"])["category"])
    assert categories - judged == set()


def test_an_unknown_type_is_warned_with_its_count_and_reviewed(tmp_path):
    result, said = _screen(_county(tmp_path, ["XX", "XX", "建(构)筑物"]))
    assert len(said["vocabulary"]) == 1
    message = said["vocabulary"][0]
    assert "tb.shp" in message and "'TBLX'" in message and "'XX' × 2" in message
    v = result.verdicts.set_index("id")
    assert v.loc["P1", "verdict"] == v.loc["P2", "verdict"] == "needs_review"
    assert "legality.unknown_type" in v.loc["P1", "rules"] and "“XX”" in v.loc["P1", "reasons_zh"]
    assert v.loc["P3", "type"] == "20"  # the Chinese name becomes the code
    assert v.loc["P3", "verdict"] == "illegal"


def test_the_demo_dictionaries_in_a_config(tmp_path):
    """[patches] type_dictionary: SS is facility land (a construction category: illegal
    without a filing), WHZJ a landscape lake (on 旱地: farmland.lake_digging), WH a sea
    enclosure (construction: unapproved)."""
    config = _county(tmp_path, ["SS", "挖湖造景", "WH"],
                     landuse={"DLBM": ["0103"] * 3},
                     patches_toml='type_dictionary = ["official", "bureau"]',
                     landuse_toml='scheme = "三调"')
    result, said = _screen(config)
    assert said["vocabulary"] == []
    v = result.verdicts.set_index("id")
    assert list(v["type"]) == ["SS", "WHZJ", "WH"]
    assert "legality.unapproved_construction" in v.loc["P1", "rules"]
    assert "farmland.lake_digging" in v.loc["P2", "rules"]
    assert "legality.unapproved_construction" in v.loc["P3", "rules"]
    assert "farmland.lake_digging" not in v.loc["P3", "rules"]
    notes = result.provenance["inputs"]["patches"]["notes"]
    assert "patch types (TBLX) read with official (33 types) + bureau (6 types)" in notes


def test_a_dictionary_of_ones_own_beside_the_official_one(tmp_path):
    (tmp_path / "types.csv").write_text("code,name_zh,category\nJS,建设,construction\n",
                                        encoding="utf-8")
    config = _county(tmp_path, ["JS"], patches_toml='type_dictionary = ["official", "types.csv"]')
    result, said = _screen(config)
    assert said["vocabulary"] == []
    assert result.verdicts.iloc[0]["verdict"] == "illegal"
    assert result.facts.iloc[0]["type_name"] == "建设"


@pytest.mark.parametrize(("toml", "message"), [
    ('type_dictionary = "offical"', "'offical' is not a built-in dictionary"),
    ('type_dictionary = ["official", "clash.csv"]',
     "codes defined twice: WH (official, clash.csv)"),
])
def test_bad_dictionaries_are_refused(tmp_path, toml, message):
    (tmp_path / "clash.csv").write_text("code,name_zh,category\nWH,挖湖造景,landscape_lake\n",
                                        encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        landcheck.LayerSet.from_config(_county(tmp_path, ["20"], patches_toml=toml))
    assert "patches.type_dictionary" in str(exc.value) and message in str(exc.value)


# ---------------------------------------------------------------- land-use schemes


#: code → (三调 group, name), (用地用海 group, name), and the verdict of a construction patch on
#: it under each (other: already construction land; illegal: new construction).
SAME_CODE = {
    "0303": (("wetland", "红树林地", "illegal"), ("forest", "灌木林地", "illegal")),
    "0601": (("construction", "工业用地", "other"), ("rural_road", "农村道路", "illegal")),
    "0602": (("construction", "采矿用地", "other"), ("facility", "设施农用地", "illegal")),
    "0702": (("construction", "农村宅基地", "other"),
             ("construction", "城镇社区服务设施用地", "other")),
}


@pytest.mark.parametrize("code", list(SAME_CODE))
def test_one_code_two_schemes(code):
    for scheme, (group, name, _) in zip(("三调", "用地用海"), SAME_CODE[code], strict=True):
        assert landuse_group(pd.Series([code]), scheme=scheme).tolist() == [group]
        assert landuse_class_name(pd.Series([code]), scheme=scheme).tolist() == [name]


@pytest.mark.parametrize("code", list(SAME_CODE))
@pytest.mark.parametrize("scheme", ["三调", "用地用海"])
def test_the_scheme_in_the_config_decides_the_verdict(tmp_path, code, scheme):
    group, _, verdict = SAME_CODE[code][scheme == "用地用海"]
    config = _county(tmp_path, ["20"], landuse={"DLBM": [code]},
                     landuse_toml=f'scheme = "{scheme}"')
    result, said = _screen(config)
    assert said["data"] == [] and said["vocabulary"] == []
    f, v = result.facts.iloc[0], result.verdicts.iloc[0]
    assert f[f"lu_{group}_m2"] == pytest.approx(AREA, abs=0.5)
    assert v["verdict"] == verdict
    if verdict == "illegal":
        assert v["illegal_m2"] == pytest.approx(AREA, abs=0.5)
    label = {"三调": "三调 (survey3)", "用地用海": "用地用海 (land_sea_2023)"}[scheme]
    assert f"land-use classes (DLBM) read as {label}: configured" in \
        result.provenance["inputs"]["landuse"]["notes"]


def test_the_rural_road_and_facility_groups_of_both_schemes():
    survey3, land_sea = landuse_classes("三调"), landuse_classes("用地用海")
    assert list(survey3.index[survey3["group"] == "rural_road"]) == ["1006"]
    assert list(survey3.index[survey3["group"] == "facility"]) == ["1202"]
    assert list(land_sea.index[land_sea["group"] == "rural_road"]) == ["0601", "060101", "060102"]
    assert list(land_sea.index[land_sea["group"] == "facility"]) == \
        ["0602", "060201", "060202", "060203"]
    for table in (survey3, land_sea):
        assert set(table["group"]) <= set(LANDUSE_GROUPS) - {"unknown"}
        assert set(table.index[table["is_farmland"] == "true"]) <= {"01", "0101", "0102", "0103"}


def test_detection_from_codes_found_in_one_scheme_only():
    survey3 = detect_landuse_scheme(pd.Series(["0101", "1104A", "1104A", "0601"]))
    assert (survey3.scheme, survey3.how) == ("survey3", "detected")
    assert "1104A × 2" in survey3.evidence
    land_sea = detect_landuse_scheme(pd.Series(["0101", "1704", "0601"]))
    assert (land_sea.scheme, land_sea.how) == ("land_sea_2023", "detected")
    assert "1704 × 1" in land_sea.evidence


def test_detection_by_the_name_beside_an_ambiguous_code():
    guess = detect_landuse_scheme(pd.Series(["0601", "0101"]),
                                  names=pd.Series(["农村道路", "水田"]))
    assert (guess.scheme, guess.how) == ("land_sea_2023", "detected")
    assert "0601 农村道路 × 1" in guess.evidence


def test_codes_that_mean_the_same_in_both_need_no_scheme():
    guess = detect_landuse_scheme(pd.Series(["0101", "0102", "0201K"]))
    assert (guess.scheme, guess.how) == ("survey3", "same")


@pytest.mark.parametrize(("codes", "scheme", "group"), [
    (["1104A", "0601"], "三调 (survey3)", "construction"),
    (["1704", "0601"], "用地用海 (land_sea_2023)", "rural_road"),
])
def test_a_detected_scheme_is_said_and_noted(tmp_path, codes, scheme, group):
    config = _county(tmp_path, ["20", "20"], landuse={"DLBM": codes})
    result, said = _screen(config)
    assert len(said["data"]) == 1
    assert f"land-use scheme not configured; read as {scheme}" in said["data"][0]
    assert 'set scheme = "三调" or "用地用海" in its [layers.landuse] table' in said["data"][0]
    assert result.facts.set_index("id").loc["P2", f"lu_{group}_m2"] == pytest.approx(AREA,
                                                                                    abs=0.5)
    assert any(n.startswith(f"land-use classes (DLBM) read as {scheme}: not configured; detected")
               for n in result.provenance["inputs"]["landuse"]["notes"])


def test_an_ambiguous_layer_without_a_scheme_is_warned(tmp_path):
    config = _county(tmp_path, ["20", "20"], landuse={"DLBM": ["0101", "0601"]})
    _, said = _screen(config)
    assert len(said["data"]) == 1
    message = said["data"][0]
    assert "dltb.shp" in message and "not told by the codes" in message
    assert "0601 × 1 (工业用地 / 农村道路)" in message
    assert 'set scheme = "三调" or "用地用海"' in message


def test_an_unknown_land_use_code_is_warned_with_its_count(tmp_path):
    config = _county(tmp_path, ["20", "20", "20"], landuse={"DLBM": ["9999", "9999", "1704"]},
                     landuse_toml='scheme = "三调"')
    result, said = _screen(config)
    assert len(said["vocabulary"]) == 1
    message = said["vocabulary"][0]
    assert "dltb.shp" in message and "'DLBM'" in message
    assert "'9999' × 2" in message and "'1704' × 1" in message
    assert result.facts.iloc[0]["lu_unknown_m2"] == pytest.approx(AREA, abs=0.5)


def test_a_verdict_that_depends_on_an_unknown_class_is_for_review(tmp_path):
    config = _county(tmp_path, ["GF"], landuse={"DLBM": ["9999"]}, landuse_toml='scheme = "三调"')
    result, _ = _screen(config)
    v = result.verdicts.iloc[0]
    assert v["verdict"] == "needs_review"
    assert "legality.unknown_landuse" in v["rules"] and "9999" in v["reasons_zh"]
    assert v["official_subclass"] == "地类代码不明"


@pytest.mark.parametrize(("toml", "message"), [
    ('scheme = "二调"', "unknown land-use scheme '二调'"),
])
def test_a_bad_scheme_is_refused(tmp_path, toml, message):
    with pytest.raises(ConfigError) as exc:
        landcheck.LayerSet.from_config(_county(tmp_path, ["20"], landuse={"DLBM": ["0101"]},
                                               landuse_toml=toml))
    assert "layers.landuse.scheme" in str(exc.value) and message in str(exc.value)


def test_a_scheme_only_where_there_are_land_use_classes(tmp_path):
    config = _county(tmp_path, ["20"])
    config.write_text(config.read_text(encoding="utf-8") + textwrap.dedent("""
        [layers.permanent_farmland]
        path = "tb.shp"
        scheme = "三调"
    """), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"layers.permanent_farmland.scheme: a land-use scheme"):
        landcheck.LayerSet.from_config(config)


# ---------------------------------------------------------------- Chinese values, GBK files


def test_gbk_files_with_chinese_values_and_no_values_table(tmp_path):
    """TBLX by Chinese name; the land use by class names only (field 地类名称), which both
    schemes spell alike: 水田 is farmland, 农村道路 a rural road (1006 under 三调, the
    default when nothing tells). On paper: 光伏 on 水田 is illegal (photovoltaic on
    farmland); 硬化 on 水田 is unapproved construction, all of it on farmland; 建(构)筑物
    on the rural road is unapproved construction on no farmland."""
    config = _county(tmp_path, ["光伏", "硬化", "建(构)筑物"],
                     landuse={"地类名称": ["水田", "水田", "农村道路"]},
                     landuse_fields='{ id = "BSM", class = "地类名称" }')
    result, said = _screen(config)
    assert said["vocabulary"] == [] and said["data"] == []
    f, v = result.facts.set_index("id"), result.verdicts.set_index("id")
    assert list(f["type"]) == ["GF", "YH", "20"]
    assert list(f["type_category"]) == ["photovoltaic", "hardened", "construction"]
    assert [c for [c] in f["lu_classes"]] == ["0101", "0101", "1006"]
    assert "land-use classes (地类名称) read as 三调 (survey3): not configured; same: every " \
        "code means the same class in both schemes" in \
        result.provenance["inputs"]["landuse"]["notes"]
    assert "legality.photovoltaic_on_farmland" in v.loc["P1", "rules"]
    assert v.loc["P2", "verdict"] == "illegal"
    assert f.loc["P2", "remainder_farmland_m2"] == pytest.approx(AREA, abs=0.5)
    assert "legality.unapproved_construction" in v.loc["P3", "rules"]
    assert f.loc["P3", "lu_rural_road_m2"] == pytest.approx(AREA, abs=0.5)
    assert f.loc["P3", "remainder_farmland_m2"] == 0.0


def test_dlmc_beside_an_ambiguous_dlbm_tells_the_scheme(tmp_path):
    """DLBM 0601 is 工业用地 (三调) or 农村道路 (用地用海); the DLMC beside it says which."""
    config = _county(tmp_path, ["20"], landuse={"DLBM": ["0601"], "DLMC": ["农村道路"]})
    result, said = _screen(config)
    assert len(said["data"]) == 1 and "read as 用地用海 (land_sea_2023)" in said["data"][0]
    assert "0601 农村道路 × 1" in said["data"][0]
    assert result.facts.iloc[0]["lu_rural_road_m2"] == pytest.approx(AREA, abs=0.5)
    assert result.verdicts.iloc[0]["verdict"] == "illegal"


def test_a_frame_of_ones_own_is_resolved_like_a_file():
    frame = pd.DataFrame({"type": ["建(构)筑物", "ss", None]})
    with pytest.warns(VocabularyWarning, match=r"'ss' × 1"):
        out = resolve_patch_types(frame, where="patches (a frame)")
    assert out["type"].tolist()[:2] == ["20", "ss"] and pd.isna(out["type"].iloc[2])
    assert out["type_category"].tolist()[:2] == ["construction", "unknown"]
    both = resolve_patch_types(frame, dictionary=["official", "bureau"])
    assert both["type_category"].tolist()[:2] == ["construction", "facility"]


def test_site_query_names_classes_by_the_layer_scheme(tmp_path):
    config = _county(tmp_path, ["20"], landuse={"DLBM": ["0601"]},
                     landuse_toml='scheme = "用地用海"')
    project = gpd.GeoDataFrame({"id": ["S1"]}, geometry=[SQUARE], crs=CRS)
    report = landcheck.site_query(project, config)
    rows = report.table.set_index(["role", "class"])
    assert rows.loc[("landuse", "0601"), "name"] == "农村道路"
    assert rows.loc[("landuse_group", "rural_road"), "area_m2"] == pytest.approx(AREA, abs=0.5)
    assert report.provenance["landuse_scheme"] == "land_sea_2023"


def test_inspect_lists_unknown_patch_types_and_land_use_codes():
    """The demo county's designed unknowns: type 99 (case K1), land-use codes 1299 and 9901
    (cases OC5, OC7), before any run."""
    from landcheck.inspection import inspect_layerset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reports = {r.role: r for r in inspect_layerset(
            landcheck.LayerSet.from_config(SAMPLES / "county.toml"))}
    got = {(u.field, u.value, u.count) for u in reports["patches"].unknown_values}
    assert ("TBLX", "99", 1) in got
    assert {("DLBM", "1299", 1), ("DLBM", "9901", 1)} <= got
    lu = {(u.field, u.value, u.count) for u in reports["landuse"].unknown_values}
    assert lu == {("DLBM", "1299", 1), ("DLBM", "9901", 1)}
