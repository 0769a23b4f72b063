"""write_layer / write_layers: atomic replacement, overwrite policy, GBK shapefiles."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import geopandas
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

from landcheck.errors import (
    CRSError,
    EncodingError,
    InputError,
    OutputExistsError,
    WriteError,
)
from landcheck.io import list_layers, read_layer, write_layer, write_layers
from landcheck.provenance import file_sha256, source_info

X0, Y0 = 39_500_000.0, 3_400_000.0  # EPSG:4527
VALUES = ["水田", "批准文号 浙政土字〔2022〕12号"]
FORMATS = ["gpkg", "shp", "gdb", "geojson", "parquet", "fgb"]


def patches(values=VALUES, n=2) -> geopandas.GeoDataFrame:
    return geopandas.GeoDataFrame(
        {"JCBH": [f"A{i}" for i in range(n)], "DLBM": ["0101", "0102"][:n],
         "DLMC": list(values)[:n]},
        geometry=[box(X0 + 3 * i, Y0, X0 + 3 * i + 2, Y0 + 2) for i in range(n)],
        crs="EPSG:4527")


def snapshot(directory: Path) -> dict[str, str]:
    """Every file under ``directory`` (hidden ones too) with its digest."""
    return {str(p.relative_to(directory)): file_sha256(p)
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", FORMATS)
def test_existing_target_without_overwrite_is_refused_and_untouched(fmt, tmp_path):
    target = write_layer(patches(), tmp_path / f"p.{fmt}")
    before = snapshot(tmp_path)
    with pytest.raises(OutputExistsError, match=r"overwrite=True.*--overwrite"):
        write_layer(patches(["旱地", "林地"]), target)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_overwrite_replaces_and_leaves_no_temporary_files(fmt, tmp_path):
    target = write_layer(patches(), tmp_path / f"p.{fmt}")
    write_layer(patches(["旱地", "林地"]), target, overwrite=True)
    assert read_layer(target)["DLMC"].tolist() == ["旱地", "林地"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_overwrite_of_a_gdb_directory_drops_the_old_layers(tmp_path):
    target = write_layer(patches(), tmp_path / "p.gdb", layer="old")
    write_layer(patches(["旱地", "林地"]), target, layer="new", overwrite=True)
    assert [name for name, _ in list_layers(target)] == ["new"]
    assert read_layer(target)["DLMC"].tolist() == ["旱地", "林地"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.gdb"]


def failing_after(real):
    """A writer that writes (creating the temporary output) and then fails."""
    def write(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("disk full")
    return write


@pytest.mark.parametrize("existing", [True, False], ids=["replace", "new"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_failure_mid_write_leaves_target_untouched_and_no_temp(fmt, existing, tmp_path,
                                                               monkeypatch):
    target = tmp_path / f"p.{fmt}"
    if existing:
        write_layer(patches(), target)
    before = snapshot(tmp_path)
    if fmt == "parquet":
        monkeypatch.setattr(geopandas.GeoDataFrame, "to_parquet",
                            failing_after(geopandas.GeoDataFrame.to_parquet))
    else:
        monkeypatch.setattr(pyogrio, "write_dataframe", failing_after(pyogrio.write_dataframe))
    with pytest.raises(WriteError, match=r"p\.\w+: could not be written.*disk full"):
        write_layer(patches(["旱地", "林地"]), target, overwrite=True)
    assert snapshot(tmp_path) == before


def test_failure_while_moving_shapefile_parts_restores_the_old_ones(tmp_path, monkeypatch):
    target = write_layer(patches(), tmp_path / "p.shp")
    before = snapshot(tmp_path)
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith("p.dbf") and "/new/" in str(src):
            raise OSError("device busy")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(WriteError, match="device busy"):
        write_layer(patches(["旱地", "林地"]), target, overwrite=True)
    assert snapshot(tmp_path) == before


def test_old_shapefile_is_kept_when_it_cannot_be_put_back(tmp_path, monkeypatch):
    target = write_layer(patches(), tmp_path / "p.shp")
    old_dbf = target.with_suffix(".dbf").read_bytes()
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst) == tmp_path / "p.dbf":  # neither the new nor the old .dbf can move in
            raise OSError("device busy")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(WriteError, match="previous version could not be put back") as err:
        write_layer(patches(["旱地", "林地"]), target, overwrite=True)
    kept = Path(str(err.value).split("it is kept in ")[1].split(":")[0])
    assert (kept / "p.dbf").read_bytes() == old_dbf


# --- shapefiles ---------------------------------------------------------------------------------

def chinese_named() -> geopandas.GeoDataFrame:
    return patches().rename(columns={"DLMC": "地类名称", "DLBM": "地类编码"})


def test_shapefile_with_chinese_field_names_needs_rename(tmp_path):
    with pytest.raises(InputError) as err:
        write_layer(chinese_named(), tmp_path / "p.shp")
    message = str(err.value)
    assert "'地类编码', '地类名称'" in message and "rename=" in message
    assert not list(tmp_path.iterdir())


def test_shapefile_with_rename_is_gbk_with_cpg_and_reads_back_identical(tmp_path):
    target = write_layer(chinese_named(), tmp_path / "p.shp",
                         rename={"地类名称": "DLMC", "地类编码": "DLBM"})
    assert target.with_suffix(".cpg").read_text() == "GBK"
    assert "水田".encode("gbk") in target.with_suffix(".dbf").read_bytes()
    back = read_layer(target)
    assert back["DLMC"].tolist() == VALUES and back["DLBM"].tolist() == ["0101", "0102"]
    assert source_info(back).encoding_how == "cpg"


def test_long_ascii_names_and_collisions_are_refused(tmp_path):
    gdf = patches().rename(columns={"DLMC": "LANDCLASSNAME"})
    with pytest.raises(InputError, match="'LANDCLASSNAME'"):
        write_layer(gdf, tmp_path / "p.shp")
    with pytest.raises(InputError, match="collide"):
        write_layer(gdf, tmp_path / "p.shp", rename={"LANDCLASSNAME": "dlbm"})


def test_values_not_in_gbk_are_an_error_naming_field_and_feature(tmp_path):
    gdf = patches(["水田", "𠀀地"])  # U+20000 is outside GBK
    with pytest.raises(EncodingError, match=r"field 'DLMC', feature at row 1.*'𠀀'"):
        write_layer(gdf, tmp_path / "p.shp")
    write_layer(gdf, tmp_path / "p.gpkg")  # fine in UTF-8 formats


def test_values_too_long_for_a_dbf_field_are_refused(tmp_path):
    gdf = patches(["水田", "地" * 128])  # 256 bytes in GBK
    with pytest.raises(InputError, match=r"field 'DLMC', feature at row 1.*256 bytes in GBK"):
        write_layer(gdf, tmp_path / "p.shp")
    write_layer(patches(["水田", "地" * 127]), tmp_path / "p.shp")


def test_shapefile_utf8_on_request(tmp_path):
    target = write_layer(patches(), tmp_path / "p.shp", encoding="UTF-8")
    assert target.with_suffix(".cpg").read_text() == "UTF-8"
    assert read_layer(target)["DLMC"].tolist() == VALUES


# --- checks and options -------------------------------------------------------------------------

def test_frame_without_crs_is_refused(tmp_path):
    with pytest.raises(CRSError, match=r"no CRS.*set_crs"):
        write_layer(patches().set_crs(None, allow_override=True), tmp_path / "p.gpkg")


def test_options_are_checked(tmp_path):
    with pytest.raises(TypeError):
        write_layer(patches(), tmp_path / "p.gpkg", overwite=True)  # type: ignore[call-arg]
    with pytest.raises(InputError, match=r"unknown output format '\.xyz'"):
        write_layer(patches(), tmp_path / "p.xyz")
    with pytest.raises(InputError, match="cannot write driver 'KML'"):
        write_layer(patches(), tmp_path / "p.kml", driver="KML")
    with pytest.raises(InputError, match="layer= applies to GeoPackage and FileGDB"):
        write_layer(patches(), tmp_path / "p.shp", layer="x")
    with pytest.raises(InputError, match="not in the frame"):
        write_layer(patches(), tmp_path / "p.gpkg", rename={"XZQDM": "x"})
    with pytest.raises(InputError, match="must be named"):
        write_layer(patches(), tmp_path / "p.dat", driver="ESRI Shapefile")
    with pytest.raises(InputError, match="unknown encoding 'GBX'"):
        write_layer(patches(), tmp_path / "p.shp", encoding="GBX")
    with pytest.raises(InputError, match="shapefiles only"):
        write_layer(patches(), tmp_path / "p.gpkg", encoding="GBK")
    with pytest.raises(WriteError, match="does not exist"):
        write_layer(patches(), tmp_path / "missing" / "p.gpkg")
    assert not list(tmp_path.iterdir())


def test_driver_overrides_the_suffix(tmp_path):
    target = write_layer(patches(), tmp_path / "p.data", driver="GeoJSON")
    assert pyogrio.read_info(target)["driver"] == "GeoJSON"


def test_codes_dates_and_row_order_survive(tmp_path):
    gdf = patches()
    gdf["PZRQ"] = [datetime.date(2022, 1, 1), datetime.date(2023, 5, 6)]
    gdf = gdf.iloc[::-1].reset_index(drop=True)  # rows not in spatial order
    for fmt in FORMATS:
        back = read_layer(write_layer(gdf, tmp_path / f"p.{fmt}"))
        assert back["JCBH"].tolist() == ["A1", "A0"], fmt
        assert back["DLBM"].tolist() == ["0102", "0101"], fmt
        assert [pd.Timestamp(v).date() for v in back["PZRQ"]] == [
            datetime.date(2023, 5, 6), datetime.date(2022, 1, 1)], fmt


def test_gdb_integers_that_fit_stay_integers(tmp_path):
    gdf = patches()
    gdf["N"] = [1, 2]
    back = read_layer(write_layer(gdf, tmp_path / "p.gdb"))
    assert pd.api.types.is_integer_dtype(back["N"]) and back["N"].tolist() == [1, 2]


# --- write_layers -------------------------------------------------------------------------------

def test_write_layers_writes_spatial_layers_and_tables_into_one_gpkg(tmp_path):
    table = pd.DataFrame({"PZWH": ["浙政土字〔2022〕12号"], "MJ": [1.5]})
    target = write_layers({"patches": patches(), "farmland": patches(), "approvals": table},
                          tmp_path / "run.gpkg")
    assert list_layers(target) == [("patches", "Polygon"), ("farmland", "Polygon"),
                                   ("approvals", "None")]
    back = pyogrio.read_dataframe(target, layer="approvals")
    assert back["PZWH"].tolist() == ["浙政土字〔2022〕12号"]
    assert read_layer(target, layer="farmland")["DLMC"].tolist() == VALUES


def test_write_layers_is_atomic_and_respects_overwrite(tmp_path, monkeypatch):
    target = write_layers({"a": patches()}, tmp_path / "run.gpkg")
    before = snapshot(tmp_path)
    with pytest.raises(OutputExistsError):
        write_layers({"b": patches()}, target)
    calls = []
    real = pyogrio.write_dataframe

    def second_fails(*args, **kwargs):
        calls.append(kwargs.get("layer"))
        if len(calls) == 2:
            raise RuntimeError("interrupted")
        real(*args, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", second_fails)
    with pytest.raises(WriteError, match="interrupted"):
        write_layers({"b": patches(), "c": patches()}, target, overwrite=True)
    assert snapshot(tmp_path) == before


def test_write_layers_checks_its_input(tmp_path):
    with pytest.raises(InputError, match="GeoPackages only"):
        write_layers({"a": patches()}, tmp_path / "run.gdb")
    with pytest.raises(InputError, match="collide"):
        write_layers({"a": patches(), "A": patches()}, tmp_path / "run.gpkg")
    with pytest.raises(CRSError, match="layer 'b' has no CRS"):
        write_layers({"a": patches(), "b": patches().set_crs(None, allow_override=True)},
                     tmp_path / "run.gpkg")
    with pytest.raises(InputError, match="non-empty dict"):
        write_layers({}, tmp_path / "run.gpkg")
