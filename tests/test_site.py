"""Site query (选址查询): hand-made layers with exact areas, the demo county checked against
independent shapely / official_area computations, the workbook and the ``site`` command."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from landcheck.area import m2_to_mu, official_area
from landcheck.cli.site import site_cmd
from landcheck.errors import GeometryError, InputError, OutputExistsError
from landcheck.layers import LayerSet
from landcheck.site import COLUMNS, site_query
from landcheck.testing import CRS, SAMPLES, layer, rect

CONFIG = SAMPLES / "county.toml"
X0, Y0 = 39_505_600, 3_515_000  # south-west corner of the demo county


def oa(geom) -> float:
    return float(official_area([geom], crs=CRS)[0])


#: Official areas have edges straight in (B, L), so a union that adds vertices on a straight
#: grid edge moves the area by up to ~1e-6 (0.006 m² on 1 ha 150 m off the central meridian).
VERTICES = 1e-6


def county_box(x0, y0, x1, y1):
    """A rectangle in the demo county's local metres (see data/samples/README.md)."""
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


# ------------------------------------------------------------------ hand-made layers


def hand_layers():
    return {
        "permanent_farmland": layer(["P1", "P2"], [rect(50, 0, 150, 100), rect(70, 0, 200, 50)]),
        "landuse": layer(["L1", "L2", "L3"], [rect(0, 0, 60, 100), rect(60, 0, 80, 100),
                                               rect(80, 0, 200, 100)],
                         **{"class": ["0101", "0201K", "0702"]}),
        "eco_redline": layer(["R1"], [rect(90, 90, 120, 120)], name=["某某生态保护红线"]),
        "forest": layer(["F1", "F2", "F3"], [rect(0, 0, 10, 100), rect(0, 50, 10, 150),
                                              rect(10, 0, 20, 100)],
                        **{"class": ["commercial", "commercial", "public_welfare_provincial"]}),
        "town_boundary": layer(["T1"], [rect(1000, 1000, 1100, 1100)]),
    }


def test_hand_made_site_areas_are_exact_and_not_double_counted():
    project = layer(["A"], [rect(0, 0, 100, 100)])
    rep = site_query(project, hand_layers())
    t = rep.table.set_index(["role", rep.table["class"].fillna("")])
    assert list(rep.table.columns) == list(COLUMNS)
    assert rep.site_area_m2 == pytest.approx(oa(rect(0, 0, 100, 100)), rel=1e-12)
    # P1 and P2 overlap: the union inside the site is 50 × 100
    pf = t.loc[("permanent_farmland", "")]
    assert pf["area_m2"] == pytest.approx(oa(rect(50, 0, 100, 100)), rel=VERTICES)
    assert pf["share"] == pytest.approx(0.5, rel=1e-6)
    assert pf["area_mu"] == pytest.approx(m2_to_mu(pf["area_m2"]), rel=1e-12)
    assert sorted(pf["ids"]) == ["P1", "P2"] and pf["n"] == 2
    assert t.loc[("landuse", "0101"), "name"] == "水田"
    assert t.loc[("landuse", "0201K"), "name"] == "可调整果园"
    assert t.loc[("landuse_group", "farmland"), "area_m2"] == pytest.approx(
        oa(rect(0, 0, 60, 100)), rel=1e-9)
    assert t.loc[("landuse_group", "garden"), "name"] == "园地"
    assert t.loc[("landuse_group", "construction"), "area_m2"] == pytest.approx(
        oa(rect(80, 0, 100, 100)), rel=1e-9)
    red = t.loc[("eco_redline", "")]
    assert red["area_m2"] == pytest.approx(oa(rect(90, 90, 100, 100)), rel=1e-9)
    assert red["name"] == "某某生态保护红线"
    com = t.loc[("forest", "commercial")]
    assert com["area_m2"] == pytest.approx(oa(rect(0, 0, 10, 100)), rel=1e-9)  # F1 ∪ F2 once
    assert com["name"] == "商品林" and com["n"] == 2
    town = t.loc[("town_boundary", "")]
    assert (town["area_m2"], town["n"], town["ids"]) == (0.0, 0, [])
    assert rep.not_configured == ("village_zone", "general_ag_zone", "geohazard", "minerals")


def test_several_features_are_one_site_and_also_measured_each():
    project = layer(["A", "B"], [rect(0, 0, 100, 100), rect(50, 0, 150, 100)])
    rep = site_query(project, hand_layers())
    assert rep.site_area_m2 == pytest.approx(oa(rect(0, 0, 150, 100)), rel=1e-9)
    assert rep.features["area_m2"].sum() > rep.site_area_m2  # overlap counted once in the site
    by = rep.by_feature[rep.by_feature["role"] == "permanent_farmland"].set_index("feature")
    assert by.loc["A", "area_m2"] == pytest.approx(oa(rect(50, 0, 100, 100)), rel=VERTICES)
    assert by.loc["B", "area_m2"] == pytest.approx(oa(rect(50, 0, 150, 100)), rel=VERTICES)
    assert by.loc["B", "share"] == pytest.approx(1.0, rel=VERTICES)
    assert rep.area_m2("permanent_farmland") == pytest.approx(oa(rect(50, 0, 150, 100)),
                                                              rel=VERTICES)


def test_features_without_ids_are_numbered_from_one():
    project = gpd.GeoDataFrame(geometry=[rect(0, 0, 10, 10), rect(300, 0, 310, 10)], crs=CRS)
    rep = site_query(project, hand_layers())
    assert rep.features["feature"].tolist() == ["1", "2"]


@pytest.mark.parametrize(("project", "error", "match"), [
    (layer(["X"], [shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])]), GeometryError, "X"),
    (layer(["X"], [shapely.Point(0, 0)]), GeometryError, "not polygons"),
    (gpd.GeoDataFrame({"id": ["X"]}, geometry=[rect(0, 0, 1, 1)]), InputError, "no CRS"),
    (layer([], []), InputError, "no features"),
])
def test_bad_projects_are_refused(project, error, match):
    with pytest.raises(error, match=match):
        site_query(project, hand_layers())


def test_unknown_keyword_is_refused():
    with pytest.raises(TypeError):
        site_query(layer(["A"], [rect(0, 0, 1, 1)]), hand_layers(), crs="EPSG:4527")


# ------------------------------------------------------------------ the demo county


@pytest.fixture(scope="module")
def county_project():
    """A: a 100 m strip from permanent farmland north through forest into the river's red
    line; B: across permanent farmland 00000002 into the red line 00000003; C: over the
    limestone deposit and into the collapse-prone hazard zone."""
    return gpd.GeoDataFrame({"id": ["A", "B", "C"]},
                            geometry=[county_box(300, 3100, 400, 4750),
                                      county_box(2020, 1520, 2250, 1580),
                                      county_box(1100, 4000, 1300, 4300)], crs="EPSG:4527")


@pytest.fixture(scope="module")
def county(county_project):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return site_query(county_project, CONFIG)


@pytest.fixture(scope="module")
def county_layers():
    ls = LayerSet.from_config(CONFIG)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {r: ls.read(r) for r in ("permanent_farmland", "eco_redline", "forest",
                                         "landuse", "geohazard", "minerals", "town_boundary")}


def _expected(site, gdf, mask=None):
    geoms = gdf.geometry.to_numpy()
    if mask is not None:
        geoms = geoms[np.asarray(mask)]
    return oa(shapely.intersection(site, shapely.union_all(geoms)))


def test_county_areas_match_independent_computations(county, county_project, county_layers):
    site = shapely.union_all(county_project.geometry.to_numpy())
    assert county.site_area_m2 == pytest.approx(oa(site), rel=1e-12)
    for role in ("permanent_farmland", "eco_redline", "geohazard", "minerals", "town_boundary"):
        assert county.area_m2(role) == pytest.approx(
            _expected(site, county_layers[role]), rel=VERTICES, abs=1e-6), role
    forest = county_layers["forest"]
    for cls in ("commercial", "public_welfare_provincial"):
        assert county.area_m2("forest", cls) == pytest.approx(
            _expected(site, forest, forest["class"] == cls), rel=VERTICES), cls
    lu = county_layers["landuse"]
    for code in ("0101", "0102", "0103", "0301"):
        assert county.area_m2("landuse", code) == pytest.approx(
            _expected(site, lu, lu["class"] == code), rel=VERTICES), code


def test_county_areas_read_off_the_drawing(county):
    """Plane m²: A crosses 100 m of permanent farmland 00000030 and 50 m of the river red
    line; B has 30 × 60 m on permanent farmland 00000002 and 50 × 60 m in red line 00000003."""
    t = county.table.set_index("role")
    assert t.loc["permanent_farmland", "area_m2"] == pytest.approx(11_800, rel=1e-4)
    assert sorted(t.loc["permanent_farmland", "ids"]) == ["00000002", "00000030"]
    assert t.loc["eco_redline", "area_m2"] == pytest.approx(8_000, rel=1e-4)
    assert "示河湿地生态保护红线" in t.loc["eco_redline", "name"]
    by = county.by_feature.set_index(["feature", "role"])
    assert by.loc[("B", "permanent_farmland"), "area_m2"] == pytest.approx(1_800, rel=1e-4)
    assert by.loc[("B", "eco_redline"), "area_m2"] == pytest.approx(3_000, rel=1e-4)
    assert by.loc[("C", "minerals"), "name"] == "石灰岩"
    assert county.area_m2("town_boundary") == 0.0
    assert county.not_configured == ()


def test_county_land_use_adds_up_to_the_site(county):
    """The land-use layer is a coverage: its classes and groups fill the site exactly once."""
    for role in ("landuse", "landuse_group"):
        assert county.area_m2(role) == pytest.approx(county.site_area_m2, rel=VERTICES)


def test_project_in_geographic_coordinates_gives_the_same_areas(county, county_project):
    geo = county_project.to_crs("EPSG:4490")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = site_query(geo, CONFIG)
    assert rep.provenance["working_crs"] == "EPSG:4527"
    for role in ("permanent_farmland", "eco_redline", "forest", "minerals", "geohazard"):
        assert rep.area_m2(role) == pytest.approx(county.area_m2(role), rel=1e-6), role


def test_summary_text_in_both_languages(county):
    zh = county.summary_text()
    assert "选址查询 Site query" in zh and "永久基本农田 permanent farmland: 11799.99 m²" in zh
    assert "17.70 亩" in zh and "生态保护红线" in zh and "地质灾害危险性评估" in zh
    assert "分地块 by feature" in zh and len(zh.splitlines()) < 70
    en = county.summary_text("en")
    assert "permanent farmland: 11799.99 m² = 17.70 mu" in en and "永久基本农田" not in en
    assert "hazard risk assessment" in en
    with pytest.raises(ValueError, match="lang"):
        county.summary_text("fr")


def test_repr_and_dict(county):
    text = repr(county)
    assert text.startswith("<SiteReport 3 feature(s)") and "permanent farmland 11799.99" in text
    d = county.to_dict()
    json.dumps(d, ensure_ascii=False, default=str)
    assert d["site_area_m2"] == county.site_area_m2 and len(d["table"]) == len(county.table)
    assert {n["en"] for n in d["notes"]} >= {"overlaps the ecological red line: check"}


def test_workbook_is_written_atomically_and_never_overwritten(county, tmp_path):
    out = tmp_path / "site.xlsx"
    assert county.to_xlsx(out) == out
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["汇总 Summary", "分地块 By feature", "说明 About"]
    rows = list(wb["汇总 Summary"].values)
    head = rows[0]
    first = dict(zip(head, rows[1], strict=True))
    assert first["图层 (role)"] == "permanent_farmland"
    assert first["面积/亩 (area, mu)"] == round(float(m2_to_mu(county.area_m2(
        "permanent_farmland"))), 2)
    with pytest.raises(OutputExistsError):
        county.to_xlsx(out)
    county.to_xlsx(out, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["site.xlsx"]


# ------------------------------------------------------------------ the command


@pytest.fixture
def project_file(tmp_path, county_project):
    path = tmp_path / "project.gpkg"
    county_project.rename(columns={"id": "DKBH"}).to_file(path, layer="xm")
    return path


def test_site_command_prints_the_summary(project_file):
    result = CliRunner().invoke(site_cmd, [str(project_file), "--layers", str(CONFIG),
                                           "--id-field", "DKBH"])
    assert result.exit_code == 0, result.output
    assert "永久基本农田 permanent farmland: 11799.99 m²" in result.output
    assert "  A (" in result.output


def test_site_command_json(project_file):
    result = CliRunner().invoke(site_cmd, [str(project_file), "--layers", str(CONFIG), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    pf = [r for r in data["table"] if r["role"] == "permanent_farmland"]
    assert pf[0]["area_m2"] == pytest.approx(11_800, rel=1e-4)
    assert [f["feature"] for f in data["features"]] == ["1", "2", "3"]


def test_site_command_xlsx_needs_overwrite(project_file, tmp_path):
    out = tmp_path / "out.xlsx"
    args = [str(project_file), "--layers", str(CONFIG), "--xlsx", str(out), "--lang", "en"]
    first = CliRunner().invoke(site_cmd, args)
    assert first.exit_code == 0, first.output and out.exists()
    again = CliRunner().invoke(site_cmd, args)
    assert again.exit_code == 2 and "--overwrite" in again.output
    assert CliRunner().invoke(site_cmd, [*args, "--overwrite"]).exit_code == 0


def test_site_command_reports_errors_without_traceback(tmp_path):
    bad = tmp_path / "bowtie.geojson"
    gpd.GeoDataFrame({"id": ["X"]}, geometry=[shapely.Polygon(
        [(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10)])],
        crs="EPSG:4527").to_file(bad)
    result = CliRunner().invoke(site_cmd, [str(bad), "--layers", str(CONFIG)])
    assert result.exit_code == 1
    assert "landcheck: error:" in result.output and "Traceback" not in result.output


def test_unknown_id_field_is_a_usage_error(project_file):
    result = CliRunner().invoke(site_cmd, [str(project_file), "--layers", str(CONFIG),
                                           "--id-field", "NOPE"])
    assert result.exit_code in (1, 2) and "NOPE" in result.output


def test_table_columns_are_plain_data(county):
    assert pd.api.types.is_float_dtype(county.table["area_m2"])
    assert county.table["ids"].map(lambda v: isinstance(v, list)).all()
