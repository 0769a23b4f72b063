"""Input integrity: row counts, geometry types per role, layer extents, TOML with a BOM."""

from __future__ import annotations

import importlib.resources
import shutil
import textwrap
import warnings

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon, box

from landcheck import read_layer
from landcheck.errors import (
    ConfigError,
    DataWarning,
    GeometryError,
    InputError,
    LayerReadError,
)
from landcheck.extents import check_extents
from landcheck.io.read import check_row_count, read_field
from landcheck.layers import LayerSet, LayerSpec
from landcheck.screen import load_rules, screen
from landcheck.testing import layer, rect

CRS = "EPSG:4527"
PACKS = importlib.resources.files("landcheck.rules") / "packs"
X0, Y0 = 39_500_000.0, 3_400_000.0  # CGCS2000 3-degree zone 39, prefixed eastings


def shapefile(folder, name, n):
    """``n`` 10 m squares in a row with GBK text in a Chinese field (地块编号 = 地块0 …)."""
    gdf = gpd.GeoDataFrame({"地块编号": [f"地块{i}" for i in range(n)]},
                           geometry=[box(X0 + 10 * i, Y0, X0 + 10 * i + 10, Y0 + 10)
                                     for i in range(n)], crs=CRS)
    path = folder / f"{name}.shp"
    gdf.to_file(path, encoding="GBK")
    return path


# --- 1. row counts ---------------------------------------------------------------------------

def test_a_dbf_cut_inside_a_record_is_an_error_for_every_read(tmp_path):
    path = shapefile(tmp_path, "p", 5)
    assert len(read_layer(path)) == 5  # intact: all five
    dbf = path.with_suffix(".dbf")
    dbf.write_bytes(dbf.read_bytes()[:-3])  # end-of-file byte and 2 bytes of record 5
    msg = r"p\.dbf is cut short: its header says 5 record\(s\).*holds 4 whole"
    with pytest.raises(LayerReadError, match=msg):
        read_layer(path)  # an Arrow read returns 4 rows without any GDAL error
    with pytest.raises(LayerReadError, match=msg):
        read_layer(path, rows=[4, 0])  # by id: record 5 comes back with empty text
    with pytest.raises(LayerReadError, match=msg):
        read_field(path, "地块编号")


def test_a_dbf_with_fewer_records_than_the_shp_is_an_error(tmp_path):
    path = shapefile(tmp_path, "p", 5)
    shutil.copy(shapefile(tmp_path, "q", 4).with_suffix(".dbf"), path.with_suffix(".dbf"))
    with pytest.raises(LayerReadError, match=r"p\.shp: read 4 feature\(s\), but the layer says "
                                             r"it holds 5.*Restore or re-export"):
        read_layer(path)


def test_row_count_check_names_both_numbers_and_skips_unknown_counts():
    with pytest.raises(LayerReadError, match=r"x\.gpkg layer 'a': read 3 .* holds 7"):
        check_row_count(3, 7, "x.gpkg layer 'a'")
    check_row_count(3, -1, "x.kml")  # the driver does not know its count
    check_row_count(7, 7, "x.gpkg")


# --- 2. geometry type per role ---------------------------------------------------------------

def spec_for(tmp_path, role, geoms, **kw):
    gdf = gpd.GeoDataFrame({"编号": [f"F{i}" for i in range(len(geoms))]}, geometry=geoms, crs=CRS)
    path = tmp_path / f"{role}.gpkg"
    gdf.to_file(path)
    return LayerSpec(role=role, path=path, fields={"id": "编号"}, **kw)


def test_lines_where_polygons_are_expected_are_an_error(tmp_path):
    ring = [(X0, Y0), (X0 + 10, Y0), (X0 + 10, Y0 + 10), (X0, Y0)]
    spec = spec_for(tmp_path, "permanent_farmland",
                    [Polygon(ring), LineString(ring), LineString(ring[:2])])
    with pytest.raises(GeometryError, match=r"permanent_farmland\.gpkg: the permanent_farmland "
                                            r"layer \(永久基本农田\) must hold polygons, but 2 of "
                                            r"its 3 feature\(s\) are not \(2 LineString; ids 'F1', "
                                            r"'F2'\); give this role a file of polygons"):
        spec.read()


def test_points_are_an_error_even_where_lines_are_allowed(tmp_path):
    approvals = spec_for(tmp_path, "approvals", [Point(X0, Y0)])
    with pytest.raises(GeometryError, match=r"approvals layer .* 1 of its 1 .* \(1 Point; id"):
        approvals.read()
    corridors = spec_for(tmp_path, "corridors", [Point(X0, Y0)])
    with pytest.raises(GeometryError, match="must hold polygons or lines"):
        corridors.read()


def test_centre_lines_and_empty_geometries_pass(tmp_path):
    line = LineString([(X0, Y0), (X0 + 100, Y0)])
    assert len(spec_for(tmp_path, "corridors", [line, box(X0, Y0, X0 + 5, Y0 + 5)]).read()) == 2
    empty = spec_for(tmp_path, "permanent_farmland", [box(X0, Y0, X0 + 5, Y0 + 5), None,
                                                      LineString()], on_invalid="warn")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the geometry policy reports the null and the empty
        assert len(empty.read()) == 3


def test_frames_in_memory_are_checked_like_files():
    """screen() with a dict of frames refuses lines as farmland and points as patches, naming
    the role and the ids; centre lines as corridors pass."""
    patches, layers = patches_and_layers(0)
    ring = [(X0, Y0), (X0 + 10, Y0), (X0 + 10, Y0 + 10), (X0, Y0)]
    lines = layer(["F1", "F2"], [LineString(ring), Polygon(ring)])
    with pytest.raises(GeometryError, match=r"layer 'permanent_farmland' \(a frame\): the "
                                            r"permanent_farmland layer \(永久基本农田\) must "
                                            r"hold polygons, but 1 of its 2 .*ids 'F1'"):
        screen(patches, {**layers, "permanent_farmland": lines}, reference_date="2023-09-30")
    points = layer(["P1"], [Point(X0, Y0)], type=["20"])
    with pytest.raises(GeometryError, match=r"patches \(a frame\): the patches layer .*Point"):
        screen(points, layers, reference_date="2023-09-30")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        centre = layer(["路1"], [LineString([(X0, Y0), (X0 + 100, Y0)])], width=[6.0])
        result = screen(patches, {**layers, "corridors": centre}, reference_date="2023-09-30")
    assert len(result.verdicts) == 1


# --- 3. extents ------------------------------------------------------------------------------

def patches_and_layers(farmland_dx):
    patches = layer(["P1"], [rect(0, 0, 40, 50)], type=["20"],
                    before=pd.to_datetime(["2022-12-31"]), after=pd.to_datetime(["2023-06-30"]))
    layers = {
        "approvals": layer(["批1"], [rect(0, 0, 20, 50)], date=pd.to_datetime(["2023-01-10"])),
        "permanent_farmland": layer(["F1"], [rect(farmland_dx, 0, farmland_dx + 40, 50)]),
    }
    return patches, layers


def test_a_layer_away_from_the_patches_is_a_warning_naming_it_and_both_extents():
    patches, layers = patches_and_layers(100_000)  # farmland 100 km east
    with pytest.warns(DataWarning, match=r"layer permanent_farmland does not meet the patches: "
                                         r"its extent is x 39600000\.\.39600040, y 3520000\.\."
                                         r"3520050, theirs x 39500000\.\.39500040, y 3520000\.\."
                                         r"3520050 \(in EPSG:4527\)") as caught:
        screen(patches, layers, reference_date="2023-09-30", threads=1)
    assert not [w for w in caught if "approvals" in str(w.message)]


def test_touching_extents_meet():
    patches, layers = patches_and_layers(40)  # farmland starts where the patch ends
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        check_extents(patches.total_bounds, layers, CRS)


def test_no_layer_meeting_the_patches_is_an_error():
    patches, layers = patches_and_layers(100_000)
    layers["approvals"] = layer(["批1"], [rect(-100_000, 0, -99_980, 50)],
                                date=pd.to_datetime(["2023-01-10"]))
    with pytest.raises(InputError, match=r"no reference layer meets the patches \(x 39500000"
                                         r".*approvals: x 39400000\.\.39400020.*"
                                         r"permanent_farmland: x 39600000"):
        screen(patches, layers, reference_date="2023-09-30", threads=1)


# --- 4. TOML with a byte-order mark ----------------------------------------------------------

def test_a_config_and_a_rule_pack_with_a_utf8_bom_are_read(tmp_path):
    shapefile(tmp_path, "永久基本农田", 2)
    config = tmp_path / "县.toml"
    config.write_text(textwrap.dedent("""\
        name = "示范县"
        crs = "EPSG:4527"
        [layers.permanent_farmland]
        path = "永久基本农田.shp"
        encoding = "GBK"
        fields = { id = "地块编号" }
        """), encoding="utf-8-sig")
    assert config.read_bytes().startswith(b"\xef\xbb\xbf")
    assert LayerSet.from_config(config).spec("permanent_farmland").fields == {"id": "地块编号"}
    pack = tmp_path / "规则.toml"
    pack.write_text(PACKS.joinpath("city2023.toml").read_text(encoding="utf-8"),
                    encoding="utf-8-sig")
    assert load_rules(pack).name == load_rules("city2023").name


def test_a_config_that_is_not_utf8_is_still_refused(tmp_path):
    config = tmp_path / "county.toml"
    config.write_bytes('name = "示范县"\n'.encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        LayerSet.from_config(config)


# --- unreadable files ------------------------------------------------------------------------

def test_an_empty_geopackage_says_it_is_empty(tmp_path):
    path = tmp_path / "永农.gpkg"
    path.write_bytes(b"")
    with pytest.raises(LayerReadError, match=r"永农\.gpkg: the file is empty \(0 bytes\)"):
        read_layer(path)


def test_a_file_that_is_not_its_format_says_so_without_gdals_driver_advice(tmp_path):
    path = tmp_path / "永农.gpkg"
    path.write_text("这不是 GeoPackage", encoding="utf-8")
    with pytest.raises(LayerReadError, match="cannot be opened as gpkg") as err:
        read_layer(path)
    assert "prefixing the file path" not in str(err.value)
    assert "of the format its suffix says" in str(err.value)
