"""Layer-set configs: validation reports every problem at once; mapping to canonical fields."""

from __future__ import annotations

import textwrap

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from landcheck.errors import ConfigError, DataWarning, InputError
from landcheck.layers import ROLES, LayerSet, LayerSpec, apply_mapping

X0, Y0 = 39_500_000.0, 3_520_000.0  # CGCS2000 3-degree zone 39, prefixed eastings


@pytest.fixture
def county(tmp_path):
    """Two small layers and a config that names them."""
    pz = gpd.GeoDataFrame(
        {
            "PZWH": ["皖政地〔2022〕1号", "皖政地〔2022〕2号"],
            "PZRQ": ["2022-03-01", "20220401"],
            "XMMC": ["示范项目", "工业园"],
        },
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 200, Y0, X0 + 300, Y0 + 50)],
        crs="EPSG:4527",
    )
    pz.to_file(tmp_path / "layers.gpkg", layer="pz")
    dltb = gpd.GeoDataFrame(
        {"BSM": ["1", "2"], "DLBM": ["0101", "0201K"], "ZZSXDM": ["LS", ""]},
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 100, Y0, X0 + 200, Y0 + 100)],
        crs="EPSG:4527",
    )
    dltb.to_file(tmp_path / "layers.gpkg", layer="dltb")
    return tmp_path


def write(tmp_path, text):
    path = tmp_path / "county.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_valid_config_resolves_paths_and_defaults(county):
    cfg = write(
        county,
        """
        crs = "EPSG:4527"
        [layers.approvals]
        path = "layers.gpkg"
        layer = "pz"
        fields = { date = "PZRQ", name = "XMMC" }
        [layers.landuse]
        path = "layers.gpkg"
        layer = "dltb"
    """,
    )
    ls = LayerSet.from_config(cfg)
    assert ls.roles == ["approvals", "landuse"]
    assert ls.spec("approvals").path == (county / "layers.gpkg").resolve()
    # national field names are taken when the file has them and no mapping is given
    assert ls.spec("approvals").fields["id"] == "PZWH"
    assert ls.spec("landuse").fields == {"class": "DLBM", "id": "BSM", "planting": "ZZSXDM"}


def test_every_problem_reported_at_once(county):
    cfg = write(
        county,
        """
        crs = "EPSG:4490"
        colour = "red"
        [layers.aprovals]
        path = "layers.gpkg"
        [layers.landuse]
        path = "layers.gpkg"
        layer = "DLTB"
        [layers.approvals]
        path = "missing.shp"
        [layers.permanent_farmland]
        path = "layers.gpkg"
        layer = "pz"
        encoding = "klingon"
        on_invalid = "ignore"
        fields = { id = "NOPE", colour = "PZWH" }
    """,
    )
    with pytest.raises(ConfigError) as err:
        LayerSet.from_config(cfg)
    problems = err.value.problems
    text = str(err.value)
    assert str(cfg) in text
    expected = [
        "crs: the working CRS must be projected",
        "unknown top-level key 'colour'",
        "layers.aprovals: unknown role (did you mean 'approvals'?)",
        "layers.landuse: layer 'DLTB' not in layers.gpkg (did you mean 'dltb'?)",
        "layers.approvals.path: file not found",
        "layers.permanent_farmland.encoding: unknown encoding 'klingon'",
        "layers.permanent_farmland.on_invalid: must be one of raise, warn, fix",
        "layers.permanent_farmland.fields: unknown canonical field 'colour'",
    ]
    for fragment in expected:
        assert any(fragment in p for p in problems), (fragment, problems)
    assert len(problems) == len(expected)


def test_missing_field_names_what_exists(county):
    cfg = write(
        county,
        """
        [layers.approvals]
        path = "layers.gpkg"
        layer = "pz"
        fields = { id = "PZWH", date = "PZDATE" }
    """,
    )
    with pytest.raises(ConfigError) as err:
        LayerSet.from_config(cfg)
    (problem,) = err.value.problems
    assert "layers.approvals.fields.date: field 'PZDATE' not in layers.gpkg" in problem
    assert "PZRQ" in problem  # lists what exists


def test_required_field_unmapped(county):
    cfg = write(
        county,
        """
        [layers.approvals]
        path = "layers.gpkg"
        layer = "pz"
    """,
    )
    with pytest.raises(ConfigError, match=r"required field `date` is not mapped"):
        LayerSet.from_config(cfg)


def test_multi_layer_file_needs_layer(county):
    cfg = write(county, '[layers.landuse]\npath = "layers.gpkg"\n')
    with pytest.raises(ConfigError, match=r"has 2 layers; set `layer` to one of: pz, dltb"):
        LayerSet.from_config(cfg)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("crs = \n", "not valid TOML"),
        ("[layers.landuse]\nlayer = 'x'\n", "layers.landuse: missing `path`"),
        ("[layers.landuse]\npath = 5\n", "layers.landuse.path: must be text"),
        (
            "[layers.landuse]\npath='layers.gpkg'\nlayer='dltb'\nzone = 'x'\n",
            "zone: must be a zone number",
        ),
        (
            "[layers.landuse]\npath='layers.gpkg'\nlayer='dltb'\nhelmert = { tx = 1 }\n",
            "helmert: missing",
        ),
        ("layers = 3\n", "`layers` must be a table"),
    ],
)
def test_malformed_config(county, text, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(")):
        LayerSet.from_config(write(county, text))


def test_config_not_found(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        LayerSet.from_config(tmp_path / "nope.toml")


def test_config_errors_are_value_errors(county):
    with pytest.raises(ValueError):
        LayerSet.from_config(write(county, "colour = 1\n"))


def _spec(role, **fields):
    return LayerSpec(role=role, path="x.gpkg", fields=fields)


def test_apply_mapping_renames_orders_and_types():
    gdf = gpd.GeoDataFrame(
        {
            "XMMC": ["a", "b"],
            "PZRQ": ["2022-03-01", "2022年4月1日"],
            "PZWH": ["1", "2"],
            "id": ["x", "y"],
        },
        geometry=[box(0, 0, 1, 1)] * 2,
        crs="EPSG:4527",
    )
    gdf.attrs["landcheck_source"] = "kept"
    out = apply_mapping(gdf, _spec("approvals", id="PZWH", date="PZRQ"))
    assert list(out.columns[:2]) == ["id", "date"]
    assert "src_id" in out.columns and "XMMC" in out.columns
    assert list(out["date"]) == [pd.Timestamp("2022-03-01"), pd.Timestamp("2022-04-01")]
    assert out.attrs["landcheck_source"] == "kept"
    assert list(gdf.columns) == ["XMMC", "PZRQ", "PZWH", "id", "geometry"]  # input untouched


def test_dates_that_are_not_dates_warn_with_ids():
    gdf = gpd.GeoDataFrame(
        {"PZWH": ["A", "B"], "PZRQ": ["待定", "2022-01-02"]},
        geometry=[box(0, 0, 1, 1)] * 2,
        crs="EPSG:4527",
    )
    with pytest.warns(DataWarning, match=r"1 value\(s\) of field 'PZRQ'.*'A'"):
        out = apply_mapping(gdf, _spec("approvals", id="PZWH", date="PZRQ"))
    assert out["date"].isna().tolist() == [True, False]


def test_dates_that_cannot_exist_are_refused_with_ids():
    gdf = gpd.GeoDataFrame(
        {"PZWH": ["A", "B"], "PZRQ": ["2022-13-45", "2022-01-02"]},
        geometry=[box(0, 0, 1, 1)] * 2,
        crs="EPSG:4527",
    )
    with pytest.raises(InputError, match=r"'PZRQ' \(approvals `date`\).*'A'.*'2022-13-45'"):
        apply_mapping(gdf, _spec("approvals", id="PZWH", date="PZRQ"))


def test_numeric_codes_refused():
    gdf = gpd.GeoDataFrame({"DLBM": [101, 102]}, geometry=[box(0, 0, 1, 1)] * 2, crs="EPSG:4527")
    with pytest.raises(InputError, match=r"'DLBM'.*stored as numbers.*'0101'"):
        apply_mapping(gdf, _spec("landuse", **{"class": "DLBM"}))


def test_value_mapping():
    gdf = gpd.GeoDataFrame(
        {"XMBH": ["1", "2", "3"], "XMLX": ["占补平衡", "增减挂钩", "其他"]},
        geometry=[box(0, 0, 1, 1)] * 3,
        crs="EPSG:4527",
    )
    spec = LayerSpec(
        role="projects",
        path="x",
        fields={"id": "XMBH", "kind": "XMLX"},
        values={"kind": {"占补平衡": "supplement", "增减挂钩": "linkage"}},
    )
    assert apply_mapping(gdf, spec)["kind"].tolist() == ["supplement", "linkage", "其他"]


def test_roles_cover_the_design_card():
    for role in [
        "permanent_farmland",
        "landuse",
        "town_boundary",
        "village_zone",
        "general_ag_zone",
        "eco_redline",
        "approvals",
        "facility_ag",
        "temporary_land",
        "forest",
        "corridors",
        "buildings",
        "projects",
        "development_plans",
        "townships",
    ]:
        assert role in ROLES


def test_config_accepts_a_zipped_filegdb(county):
    """Fields are checked through the reader's own opening (here: a FileGDB inside a zip)."""
    import shutil

    gdb = county / "dltb.gdb"
    gpd.read_file(county / "layers.gpkg", layer="dltb").to_file(gdb, layer="DLTB",
                                                               driver="OpenFileGDB")
    shutil.make_archive(str(county / "dltb.gdb"), "zip", county, "dltb.gdb")
    shutil.rmtree(gdb)
    cfg = write(county, """
        [layers.landuse]
        path = "dltb.gdb.zip"
        layer = "DLTB"
    """)
    ls = LayerSet.from_config(cfg)
    assert ls.spec("landuse").fields["class"] == "DLBM"
    assert ls.read("landuse")["class"].tolist() == ["0101", "0201K"]
