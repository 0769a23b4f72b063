"""read_layer: formats, provenance, layers, ids and columns.

Geometries are boxes a few metres wide placed in CGCS2000 3-degree GK zone 39
(EPSG:4527, zone-prefixed eastings), so areas can be checked by hand.
"""

from __future__ import annotations

import datetime
import hashlib
import warnings
import zipfile
from pathlib import Path

import geopandas
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

from landcheck.errors import (
    CRSWarning,
    DuplicateIdError,
    EncodingGuessWarning,
    GeometryWarning,
    InputError,
    LayerReadError,
)
from landcheck.io import list_layers, read_layer, write_layer, write_layers
from landcheck.provenance import source_info

X0, Y0 = 39_500_000.0, 3_400_000.0  # EPSG:4527, about 117.0°E 30.7°N
LON0, LAT0 = 117.0, 30.7
APPROVAL = "批准文号 浙政土字〔2022〕12号"


def patches(crs="EPSG:4527") -> geopandas.GeoDataFrame:
    """Two patches: a 2 m × 2 m box (4 m²) and a 3 m × 4 m box (12 m²)."""
    if crs == "EPSG:4326":
        geoms = [box(LON0, LAT0, LON0 + 0.001, LAT0 + 0.001),
                 box(LON0 + 0.01, LAT0, LON0 + 0.013, LAT0 + 0.004)]
    else:
        geoms = [box(X0, Y0, X0 + 2, Y0 + 2), box(X0 + 10, Y0, X0 + 13, Y0 + 4)]
    return geopandas.GeoDataFrame(
        {"JCBH": ["A1", "A2"], "DLBM": ["0101", "0102"], "DLMC": ["水田", APPROVAL],
         "PZRQ": [datetime.date(2022, 1, 1), datetime.date(2023, 5, 6)]},
        geometry=geoms, crs=crs)


def expected_sha256(path: Path) -> str:
    """The digest SourceInfo must carry, computed independently with hashlib."""
    h = hashlib.sha256()
    if path.is_dir():
        for child in sorted(q for q in path.rglob("*") if q.is_file()):
            h.update(str(child.relative_to(path)).encode() + b"\0")
            h.update(child.read_bytes())
    elif path.suffix == ".shp":
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            part = path.with_suffix(ext)
            if part.exists():
                h.update(part.name.encode() + b"\0")
                h.update(part.read_bytes())
    else:
        h.update(path.read_bytes())
    return h.hexdigest()


def zip_dir(directory: Path, target: Path, inner_prefix: str | None) -> Path:
    with zipfile.ZipFile(target, "w") as z:
        for f in directory.rglob("*"):
            rel = f.relative_to(directory)
            z.write(f, str(Path(inner_prefix) / rel) if inner_prefix else str(rel))
    return target


def build(fmt: str, tmp_path: Path) -> Path:
    """Write the sample patches in ``fmt`` and return the path to read."""
    if fmt == "gdb.zip":
        (tmp_path / "src").mkdir()
        gdb = write_layer(patches(), tmp_path / "src" / "patches.gdb")
        return zip_dir(gdb, tmp_path / "patches.gdb.zip", "patches.gdb")
    if fmt == "kml":
        path = tmp_path / "patches.kml"
        pyogrio.write_dataframe(patches("EPSG:4326"), path, driver="KML")
        return path
    if fmt == "kmz":
        path = tmp_path / "patches.kmz"
        pyogrio.write_dataframe(patches("EPSG:4326"), path, driver="LIBKML")
        return path
    return write_layer(patches(), tmp_path / f"patches.{fmt}")


FORMATS = {  # fmt: (driver, encoding_how, multi-layer)
    "gpkg": ("GPKG", "format", True),
    "shp": ("ESRI Shapefile", "cpg", False),
    "gdb": ("OpenFileGDB", "format", True),
    "gdb.zip": ("OpenFileGDB", "format", True),
    "geojson": ("GeoJSON", "format", False),
    "parquet": ("GeoParquet", "format", False),
    "fgb": ("FlatGeobuf", "format", False),
    "kml": ("LIBKML", "format", True),
    "kmz": ("LIBKML", "format", True),
}


@pytest.mark.filterwarnings("ignore:Geometry is in a geographic CRS")
@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_keeps_text_codes_geometry_and_crs(fmt, tmp_path):
    path = build(fmt, tmp_path)
    gdf = read_layer(path, id_field="JCBH")
    original = patches("EPSG:4326" if fmt in ("kml", "kmz") else "EPSG:4527")

    assert gdf["DLMC"].tolist() == ["水田", APPROVAL]
    assert gdf["DLBM"].tolist() == ["0101", "0102"]
    assert all(isinstance(v, str) for v in gdf["DLBM"])
    assert gdf.crs == original.crs
    assert gdf.area.tolist() == pytest.approx(original.area.tolist(), rel=1e-9)
    difference = gdf.geometry.symmetric_difference(original.geometry, align=False).area
    assert (difference <= 1e-9 * original.area).all()  # same shapes (GDB makes them Multi)
    assert isinstance(gdf.index, pd.RangeIndex)


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_fills_source_info(fmt, tmp_path):
    path = build(fmt, tmp_path)
    info = source_info(read_layer(path))
    driver, how, multi = FORMATS[fmt]

    assert info.path == str(path)
    assert info.sha256 == expected_sha256(path)
    assert info.driver == driver
    assert info.encoding_how == how
    assert info.encoding == ("GBK" if fmt == "shp" else "UTF-8")
    assert info.crs == ("EPSG:4326" if fmt in ("kml", "kmz") else "EPSG:4527")
    assert info.crs_how == "file"
    assert info.n_features == 2
    assert (info.layer is not None) == multi


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "gdb", "geojson", "parquet", "fgb"])
def test_dates_stay_dates(fmt, tmp_path):
    gdf = read_layer(build(fmt, tmp_path))
    values = gdf["PZRQ"].tolist()
    assert not pd.api.types.is_string_dtype(gdf["PZRQ"])
    assert [pd.Timestamp(v).date() for v in values] == [datetime.date(2022, 1, 1),
                                                        datetime.date(2023, 5, 6)]


@pytest.mark.parametrize("inner", ["patches.gdb", "data/patches.gdb", None])
def test_gdb_zip_is_read_through_vsizip(inner, tmp_path):
    gdb = write_layer(patches(), tmp_path / "patches.gdb")
    archive = zip_dir(gdb, tmp_path / "delivery.zip", inner)
    gdf = read_layer(archive)
    info = source_info(gdf)
    assert info.driver == "OpenFileGDB"
    assert info.path == str(archive)
    assert info.layer == "patches"
    assert gdf["DLMC"].tolist() == ["水田", APPROVAL]


def test_zip_without_gdb_is_refused(tmp_path):
    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(LayerReadError, match="no FileGDB"):
        read_layer(archive)


# --- DXF ---------------------------------------------------------------------------------------

def lwpolyline(handle, layer, points, closed):
    out = ["0", "LWPOLYLINE", "5", handle, "8", layer, "90", str(len(points)),
           "70", "1" if closed else "0"]
    for x, y in points:
        out += ["10", repr(x), "20", repr(y)]
    return out


def write_dxf(path: Path, entities: list[str], codepage="ANSI_936") -> Path:
    header = ["0", "SECTION", "2", "HEADER", "9", "$ACADVER", "1", "AC1015",
              "9", "$DWGCODEPAGE", "3", codepage, "0", "ENDSEC"]
    body = ["0", "SECTION", "2", "ENTITIES", *entities, "0", "ENDSEC", "0", "EOF"]
    path.write_bytes(("\r\n".join(header + body) + "\r\n").encode("gbk"))
    return path


def square(x, y, size):
    return [(x, y), (x + size, y), (x + size, y + size), (x, y + size)]


@pytest.fixture
def dxf_path(tmp_path):
    entities = (
        lwpolyline("1A", "耕地", square(X0, Y0, 2), closed=True)                      # 4 m²
        + lwpolyline("1B", "建设用地", [*square(X0 + 10, Y0, 3), (X0 + 10, Y0)], False)  # 9 m²
        + lwpolyline("1C", "道路", [(X0, Y0 + 10), (X0 + 5, Y0 + 10)], closed=False)
        + ["0", "TEXT", "5", "1D", "8", "注记", "10", repr(X0), "20", repr(Y0), "40", "1",
           "1", "水田"])
    return write_dxf(tmp_path / "plan.dxf", entities)


def test_dxf_closed_polylines_become_polygons_and_others_are_reported(dxf_path):
    with pytest.warns(GeometryWarning, match=r"dropped 2 other entities") as caught:
        gdf = read_layer(dxf_path, crs="EPSG:4527")
    message = " ".join(str(w.message) for w in caught)
    assert "'1C'" in message  # the open line, by its entity handle
    assert gdf.geom_type.tolist() == ["Polygon", "Polygon"]
    assert gdf.area.tolist() == pytest.approx([4.0, 9.0])
    assert gdf["Layer"].tolist() == ["耕地", "建设用地"]  # ANSI_936 decoded, attribute kept
    info = source_info(gdf)
    assert (info.driver, info.encoding, info.encoding_how) == ("DXF", "CP936", "format")
    assert any("$DWGCODEPAGE=ANSI_936" in n for n in info.notes)


@pytest.mark.filterwarnings("ignore::landcheck.errors.GeometryWarning")
def test_dxf_without_crs_is_detected_from_zone_prefix(dxf_path):
    with pytest.warns(CRSWarning):
        gdf = read_layer(dxf_path)
    assert gdf.crs.to_epsg() == 4527
    assert source_info(gdf).crs_how == "detected"


@pytest.mark.filterwarnings("ignore::landcheck.errors.GeometryWarning")
def test_dxf_with_a_wrong_codepage_is_flagged_and_encoding_overrides_it(tmp_path):
    entities = lwpolyline("1A", "耕地", square(X0, Y0, 2), closed=True)
    path = write_dxf(tmp_path / "plan.dxf", entities, codepage="ANSI_1252")
    with pytest.warns(EncodingGuessWarning, match="encoding='GB18030'"):
        garbled = read_layer(path, crs="EPSG:4527")
    assert garbled["Layer"].tolist() != ["耕地"]
    gdf = read_layer(path, crs="EPSG:4527", encoding="GBK")
    assert gdf["Layer"].tolist() == ["耕地"]
    assert (source_info(gdf).encoding, source_info(gdf).encoding_how) == ("GBK", "argument")


def test_dxf_without_closed_polylines_is_an_error(tmp_path):
    path = write_dxf(tmp_path / "lines.dxf",
                     lwpolyline("1", "0", [(X0, Y0), (X0 + 5, Y0)], closed=False))
    with pytest.raises(LayerReadError, match="no closed polylines"), warnings.catch_warnings():
        warnings.simplefilter("ignore", GeometryWarning)
        read_layer(path, crs="EPSG:4527")


# --- files and layers ---------------------------------------------------------------------------

def test_missing_file_suggests_what_exists(tmp_path):
    write_layer(patches(), tmp_path / "patches.gpkg")
    with pytest.raises(LayerReadError, match=r"not found.*patches\.gpkg"):
        read_layer(tmp_path / "patches.shp")


def test_missing_directory_is_named(tmp_path):
    with pytest.raises(LayerReadError, match="does not exist either"):
        read_layer(tmp_path / "nowhere" / "patches.gpkg")


def test_missing_layer_names_close_matches_and_layers(tmp_path):
    path = write_layers({"patches": patches(), "farmland": patches()}, tmp_path / "m.gpkg")
    with pytest.raises(LayerReadError) as err:
        read_layer(path, layer="Patches")
    assert "did you mean 'patches'" in str(err.value)
    assert "'farmland'" in str(err.value)


def test_multi_layer_source_needs_layer(tmp_path):
    path = write_layers({"patches": patches(), "farmland": patches()}, tmp_path / "m.gpkg")
    with pytest.raises(LayerReadError, match=r"2 layers.*'patches'.*'farmland'"):
        read_layer(path)
    assert read_layer(path, layer="farmland")["DLMC"].tolist() == ["水田", APPROVAL]


def test_single_spatial_layer_beside_a_table_needs_no_layer(tmp_path):
    table = pd.DataFrame({"PZWH": ["浙政土字〔2022〕12号"]})
    path = write_layers({"patches": patches(), "approvals": table}, tmp_path / "m.gpkg")
    assert source_info(read_layer(path)).layer == "patches"
    with pytest.raises(LayerReadError, match="no geometry"):
        read_layer(path, layer="approvals")


def test_list_layers(tmp_path):
    table = pd.DataFrame({"n": [1]})
    path = write_layers({"patches": patches(), "t": table}, tmp_path / "m.gpkg")
    assert list_layers(path) == [("patches", "Polygon"), ("t", "None")]
    assert list_layers(write_layer(patches(), tmp_path / "p.parquet")) == [("p", "Polygon")]


@pytest.mark.parametrize("missing", [".shx", ".dbf"])
def test_shapefile_without_companion_file(missing, tmp_path):
    path = write_layer(patches(), tmp_path / "p.shp")
    path.with_suffix(missing).unlink()
    with pytest.raises(LayerReadError, match=rf"p\{missing} missing"):
        read_layer(path)


def test_unknown_format_and_plain_directory(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(LayerReadError, match=r"unknown format '\.csv'"):
        read_layer(tmp_path / "x.csv")
    with pytest.raises(LayerReadError, match="is a directory"):
        read_layer(tmp_path)


def test_unknown_keyword_is_a_type_error(tmp_path):
    with pytest.raises(TypeError):
        read_layer(tmp_path / "p.gpkg", layers="x")  # type: ignore[call-arg]


def test_on_invalid_is_checked_before_anything_is_read(tmp_path):
    with pytest.raises(ValueError, match=r"'raise', 'warn', 'fix'"):
        read_layer(tmp_path / "missing.gpkg", on_invalid="repair")


def test_encoding_argument_is_refused_for_utf8_formats(tmp_path):
    path = write_layer(patches(), tmp_path / "p.gpkg")
    with pytest.raises(InputError, match="UTF-8 by specification"):
        read_layer(path, encoding="GBK")


# --- ids and columns ----------------------------------------------------------------------------

def test_missing_id_field_lists_fields(tmp_path):
    path = write_layer(patches(), tmp_path / "p.gpkg")
    with pytest.raises(InputError, match=r"no id field 'BSM'.*JCBH, DLBM, DLMC, PZRQ"):
        read_layer(path, id_field="BSM")


def test_duplicate_ids_are_listed_with_counts(tmp_path):
    gdf = pd.concat([patches(), patches(), patches().iloc[[1]]], ignore_index=True)
    path = write_layer(gdf, tmp_path / "p.gpkg")
    with pytest.raises(DuplicateIdError, match=r"2 duplicated id\(s\): 'A2' ×3, 'A1' ×2"):
        read_layer(path, id_field="JCBH")


def test_null_ids_are_an_error(tmp_path):
    gdf = patches()
    gdf.loc[1, "JCBH"] = None
    path = write_layer(gdf, tmp_path / "p.gpkg")
    with pytest.raises(InputError, match=r"no 'JCBH' value, at rows \(0-based\) 1"):
        read_layer(path, id_field="JCBH")


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "parquet"])
def test_columns_limit_the_fields_read(fmt, tmp_path):
    path = write_layer(patches(), tmp_path / f"p.{fmt}")
    gdf = read_layer(path, columns=["DLBM"], id_field="JCBH")
    assert sorted(c for c in gdf.columns if c != gdf.geometry.name) == ["DLBM", "JCBH"]
    with pytest.raises(InputError, match=r"no field\(s\) 'XZQDM'"):
        read_layer(path, columns=["XZQDM"])


# --- CRS ----------------------------------------------------------------------------------------

def test_shapefile_without_prj_gets_detected_crs(tmp_path):
    path = write_layer(patches(), tmp_path / "p.shp")
    path.with_suffix(".prj").unlink()
    with pytest.warns(CRSWarning) as caught:
        gdf = read_layer(path)
    assert gdf.crs.to_epsg() == 4527
    assert source_info(gdf).crs_how == "detected"
    assert str(caught[0].message) in source_info(gdf).notes
    assert caught[0].filename == __file__  # the warning points at the caller


def test_declared_crs_is_set_not_transformed(tmp_path):
    path = write_layer(patches(), tmp_path / "p.shp")
    path.with_suffix(".prj").unlink()
    gdf = read_layer(path, crs="EPSG:4527")
    assert source_info(gdf).crs_how == "argument"
    assert gdf.total_bounds.tolist() == [X0, Y0, X0 + 13, Y0 + 4]

