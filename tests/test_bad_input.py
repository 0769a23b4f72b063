"""Bad input gets a clear error or warning that names the file, the feature or field, and
says what to do: the deliberately broken files of data/samples/county/bad/ (see its README),
hostile layer configs, and a legacy Xian 1980 layer."""

from __future__ import annotations

import json
import textwrap
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import box

import landcheck
from landcheck.cli.main import cli
from landcheck.errors import (
    AmbiguousCRSError,
    ConfigError,
    CRSError,
    DuplicateIdError,
    EncodingError,
    EncodingGuessWarning,
    GeometryError,
    GeometryWarning,
    InputError,
    LandcheckError,
    LayerReadError,
    TransformationError,
)
from landcheck.layers import LayerSpec, apply_mapping
from landcheck.testing import SAMPLES

COUNTY = SAMPLES / "county"
BAD = COUNTY / "bad"

GBK_CPG = BAD / "pz_gbk_cpg_utf8.shp"
NO_ZONE = BAD / "yjjbnt_no_zone_prefix.shp"
BAD_GEOMETRY = BAD / "patches_bad_geometry.geojson"
Z_LAYER = BAD / "pz_3d.gpkg"
INT_DLBM = BAD / "dltb_dlbm_integer.shp"

FIRST, BOWTIE, EMPTY = "3499012023Q3000001", "3499012023Q3000217", "3499012023Q3999998"
CGCS2000_GK39 = pyproj.CRS("EPSG:4527")
HELMERT = {"tx": 24.0, "ty": -123.0, "tz": -94.0, "rx": 0.02, "ry": -0.25, "rz": -0.13,
           "s": 1.1, "convention": "position_vector"}  # made-up values, for the mechanics only


def read(path, **kwargs):
    """read_layer, returning the frame and every warning it emitted."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gdf = landcheck.read_layer(path, **kwargs)
    return gdf, caught


def messages(caught, category):
    return [str(w.message) for w in caught if issubclass(w.category, category)]


def write_config(folder: Path, text: str, name: str = "layers.toml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_every_bad_file_is_documented():
    documented = {"pz_gbk_cpg_utf8.shp", "yjjbnt_no_zone_prefix.shp",
                  "patches_bad_geometry.geojson", "pz_3d.gpkg", "dltb_dlbm_integer.shp"}
    readme = (BAD / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}" in readme for name in documented)
    stems = {p.name.split(".")[0] for p in BAD.iterdir() if p.name != "README.md"}
    assert stems == {name.split(".")[0] for name in documented}


# --- GBK text behind a .cpg that says UTF-8 -------------------------------------------------


def test_gbk_behind_a_utf8_cpg_is_decoded_with_a_warning():
    gdf, caught = read(GBK_CPG)
    [message] = messages(caught, EncodingGuessWarning)
    assert "pz_gbk_cpg_utf8.shp" in message
    assert "UTF-8" in message and "GB18030" in message  # what the .cpg said, what was used
    assert "encoding=" in message and ".cpg" in message  # what to do
    info = landcheck.source_info(gdf)
    assert (info.encoding, info.encoding_how) == ("GB18030", "sniffed")
    # the same text as the first five approvals of pz.shp
    pz, _ = read(COUNTY / "pz.shp", encoding="GB18030")
    assert len(gdf) == 5
    for column in ("PZWH", "PZRQ", "PZLX", "XMMC"):
        assert gdf[column].tolist() == pz[column].head(5).tolist(), column
    assert gdf["PZWH"].iloc[0] == "皖政地〔2022〕47号"
    assert gdf["XMMC"].iloc[0] == "示范县2022年度第2批次城镇建设用地"
    assert set(gdf["PZLX"]) <= {"农转用", "征收", "供地"}


def test_gbk_with_the_encoding_declared_reads_silently():
    gdf, caught = read(GBK_CPG, encoding="GB18030")
    assert not messages(caught, EncodingGuessWarning)
    assert landcheck.source_info(gdf).encoding_how == "argument"
    assert gdf["XMMC"].str.contains("示范县").all()


def test_gbk_read_as_the_cpg_claims_is_refused_with_the_field():
    with pytest.raises(EncodingError) as exc:
        landcheck.read_layer(GBK_CPG, encoding="UTF-8")
    message = str(exc.value)
    assert "pz_gbk_cpg_utf8.shp" in message and "'PZWH'" in message and "record 0" in message
    assert "GB18030" in message  # suggests the right encoding


def test_gbk_through_a_config_warns_and_decodes(tmp_path):
    cfg = write_config(tmp_path, f"""
        [layers.approvals]
        path = "{GBK_CPG.as_posix()}"
        fields = {{ id = "PZWH", date = "PZRQ", kind = "PZLX", name = "XMMC" }}
    """)
    layerset = landcheck.LayerSet.from_config(cfg)
    with pytest.warns(EncodingGuessWarning, match="pz_gbk_cpg_utf8"):
        approvals = layerset.read("approvals")
    assert approvals["name"].str.startswith("示范县").all()
    assert pd.api.types.is_datetime64_any_dtype(approvals["date"])


# --- unprefixed eastings without .prj ---------------------------------------------------------


def test_unprefixed_eastings_without_prj_are_refused():
    with pytest.raises(AmbiguousCRSError) as exc:
        landcheck.read_layer(NO_ZONE)
    message = str(exc.value)
    assert "yjjbnt_no_zone_prefix.shp" in message
    assert "zone" in message and "central_meridian" in message and ".prj" in message
    assert isinstance(exc.value, CRSError) and isinstance(exc.value, ValueError)


@pytest.mark.parametrize("hint", [{"zone": 39}, {"central_meridian": 117},
                                  {"crs": "EPSG:4548"}], ids=["zone", "cm", "crs"])
def test_unprefixed_eastings_with_a_zone_hint(hint):
    gdf, _ = read(NO_ZONE, **hint)
    assert gdf.crs == pyproj.CRS("EPSG:4548")
    info = landcheck.source_info(gdf)
    assert (info.crs, info.crs_how) == ("EPSG:4548", "argument")
    # the first 20 polygons of yjjbnt.shp, shifted by exactly 39 000 000 m
    reference, _ = read(COUNTY / "yjjbnt.shp", crs="EPSG:4527")
    shifted = shapely.transform(gdf.geometry.values, lambda xy: xy + np.array([39_000_000.0, 0.0]))
    assert len(gdf) == 20
    assert shapely.equals_exact(shifted, reference.geometry.values[:20], tolerance=0).all()
    # prefixed or not, the same place: the same official area
    np.testing.assert_allclose(
        landcheck.official_area(gdf.geometry, crs=gdf.crs),
        landcheck.official_area(reference.geometry[:20], crs=reference.crs), rtol=1e-12)


def test_unprefixed_eastings_through_a_config(tmp_path):
    table = f"""
        [layers.permanent_farmland]
        path = "{NO_ZONE.as_posix()}"
        fields = {{ id = "BSM" }}
    """
    # the config is valid (no geometry is read to check it); reading tells what to set
    layerset = landcheck.LayerSet.from_config(write_config(tmp_path, table))
    with pytest.raises(AmbiguousCRSError, match=r"yjjbnt_no_zone_prefix\.shp.*zone"):
        layerset.read("permanent_farmland")
    layerset = landcheck.LayerSet.from_config(write_config(tmp_path, table + "zone = 39\n"))
    farmland = layerset.read("permanent_farmland")
    assert farmland.crs == pyproj.CRS("EPSG:4548") and len(farmland) == 20


# --- bowtie, empty geometry and a duplicate id ----------------------------------------------


def test_duplicate_id_is_refused_with_the_id_field():
    with pytest.raises(DuplicateIdError) as exc:
        landcheck.read_layer(BAD_GEOMETRY, id_field="JCBH", on_invalid="warn")
    message = str(exc.value)
    assert "patches_bad_geometry.geojson" in message
    assert "'JCBH'" in message and f"'{FIRST}' ×2" in message
    assert "unique" in message


def test_bowtie_raises_naming_the_file_and_the_feature():
    with pytest.raises(GeometryError) as exc:
        read(BAD_GEOMETRY, on_invalid="raise")
    message = str(exc.value)
    # without an id field, features are named by their row
    assert "patches_bad_geometry.geojson" in message and "rows (0-based) 1" in message
    assert "Self-intersection" in message and "on_invalid='fix'" in message


@pytest.fixture
def without_duplicate(tmp_path):
    """The bad GeoJSON without its 4th feature (the duplicate id), legacy crs kept."""
    data = json.loads(BAD_GEOMETRY.read_text(encoding="utf-8"))
    assert [f["properties"]["JCBH"] for f in data["features"]] == [FIRST, BOWTIE, EMPTY, FIRST]
    data["features"] = data["features"][:3]
    path = tmp_path / "patches_bad_geometry_unique.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_bowtie_and_empty_are_named_by_id(without_duplicate):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(GeometryError) as exc:
            landcheck.read_layer(without_duplicate, id_field="JCBH", on_invalid="raise")
    message = str(exc.value)
    assert "patches_bad_geometry_unique.geojson" in message
    assert f"ids (JCBH) '{BOWTIE}'" in message and "Self-intersection" in message
    # the empty geometry is reported even though the read failed
    [empty] = messages(caught, GeometryWarning)
    assert EMPTY in empty and "empty" in empty and "patches_bad_geometry_unique" in empty


def test_bowtie_warn_keeps_it(without_duplicate):
    gdf, caught = read(without_duplicate, id_field="JCBH", on_invalid="warn")
    assert len(gdf) == 3
    assert not gdf.geometry.iloc[1].is_valid
    warned = messages(caught, GeometryWarning)
    assert any(BOWTIE in m and "Kept as they are" in m for m in warned)
    assert any(EMPTY in m for m in warned)


def test_bowtie_fix_makes_it_valid():
    gdf, caught = read(BAD_GEOMETRY, on_invalid="fix")
    assert len(gdf) == 4  # nothing dropped: the empty geometry and the duplicate stay
    assert gdf.crs == pyproj.CRS("EPSG:4490")
    geoms = gdf.geometry.values
    assert shapely.is_valid(geoms).all()
    assert shapely.is_empty(geoms).tolist() == [False, False, True, False]
    assert gdf.geometry.iloc[1].geom_type == "MultiPolygon"  # the bowtie's two triangles
    assert len(gdf.geometry.iloc[1].geoms) == 2
    warned = messages(caught, GeometryWarning)
    assert any("1 invalid geometry repaired" in m for m in warned)
    assert any("empty" in m for m in warned)
    notes = landcheck.source_info(gdf).notes
    assert any("repaired with make_valid" in n for n in notes)


# --- Z coordinates --------------------------------------------------------------------------


def test_z_is_dropped_with_a_note():
    gdf, caught = read(Z_LAYER)
    [message] = messages(caught, GeometryWarning)
    assert "pz_3d.gpkg" in message and "'pz_3d'" in message
    assert "5 geometries had Z/M" in message and "2D" in message
    assert not shapely.has_z(gdf.geometry.values).any()
    assert any("dropped to 2D" in n for n in landcheck.source_info(gdf).notes)
    # the approvals of pz.shp, flat
    pz, _ = read(COUNTY / "pz.shp", encoding="GB18030")
    assert gdf["PZWH"].tolist() == pz["PZWH"].head(5).tolist()
    assert shapely.equals(gdf.geometry.values, pz.geometry.values[:5]).all()
    np.testing.assert_allclose(landcheck.official_area(gdf.geometry, crs=gdf.crs),
                               landcheck.official_area(pz.geometry[:5], crs=pz.crs), rtol=1e-12)


# --- integer DLBM -----------------------------------------------------------------------------


def test_integer_dlbm_is_read_as_stored():
    gdf, _ = read(INT_DLBM)
    assert pd.api.types.is_integer_dtype(gdf["DLBM"])
    assert sorted(set(gdf["DLBM"])) == [101, 102, 103, 201]


def _assert_codes_must_be_text(message: str) -> None:
    assert "dltb_dlbm_integer.shp" in message and "'DLBM'" in message
    assert "text" in message and "'0101'" in message and "leading zeros" in message


def test_integer_dlbm_refused_by_the_mapping():
    gdf, _ = read(INT_DLBM)
    spec = LayerSpec(role="landuse", path=INT_DLBM, fields={"id": "BSM", "class": "DLBM"})
    with pytest.raises(InputError) as exc:
        apply_mapping(gdf, spec)
    _assert_codes_must_be_text(str(exc.value))


@pytest.mark.parametrize("fields", ['{ id = "BSM", class = "DLBM" }', "{}"],
                         ids=["mapped", "national-default"])
def test_integer_dlbm_refused_through_a_config(tmp_path, fields):
    cfg = write_config(tmp_path, f"""
        [layers.landuse]
        path = "{INT_DLBM.as_posix()}"
        fields = {fields}
    """)
    layerset = landcheck.LayerSet.from_config(cfg)
    assert layerset.spec("landuse").fields["class"] == "DLBM"
    with pytest.raises(InputError) as exc:
        layerset.read("landuse")
    _assert_codes_must_be_text(str(exc.value))


# --- hostile configs ----------------------------------------------------------------------------


def _config_problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        landcheck.LayerSet.from_config(path)
    assert str(path) in str(exc.value)  # the message names the config file
    return exc.value.problems


def test_config_with_a_wrong_crs(tmp_path):
    problems = _config_problems(write_config(tmp_path, f"""
        crs = "EPSG:4490"
        [layers.permanent_farmland]
        path = "{(COUNTY / 'yjjbnt.shp').as_posix()}"
        crs = "CGCS2000 zone 39"
    """))
    assert len(problems) == 2
    assert any(p.startswith("crs:") and "projected" in p and "EPSG:4527" in p for p in problems)
    assert any(p.startswith("layers.permanent_farmland.crs") and "'CGCS2000 zone 39'" in p
               and "EPSG:4527" in p for p in problems)


def test_config_with_an_unknown_role(tmp_path):
    [problem] = _config_problems(write_config(tmp_path, f"""
        [layers.aproval]
        path = "{(COUNTY / 'pz.shp').as_posix()}"
    """))
    assert "layers.aproval" in problem and "unknown role" in problem
    assert "did you mean 'approvals'" in problem


def test_config_with_a_missing_field(tmp_path):
    [problem] = _config_problems(write_config(tmp_path, f"""
        [layers.approvals]
        path = "{(COUNTY / 'pz.shp').as_posix()}"
        encoding = "GB18030"
        fields = {{ id = "PZWH", date = "PZRQQ" }}
    """))
    assert "layers.approvals.fields.date" in problem and "'PZRQQ'" in problem
    assert "pz.shp" in problem and "did you mean 'PZRQ'" in problem


def test_config_missing_a_required_field(tmp_path):
    [problem] = _config_problems(write_config(tmp_path, f"""
        [layers.temporary_land]
        path = "{(COUNTY / 'county.gpkg').as_posix()}"
        layer = "lsyd"
        fields = {{ id = "PZWH", start = "KSRQ" }}
    """))
    assert "required field `end`" in problem and "JSRQ" in problem  # lists the file's fields


def test_config_reports_every_problem_at_once(tmp_path):
    problems = _config_problems(write_config(tmp_path, f"""
        crs = "EPSG:999999"
        colour = "red"
        [layers.landuse]
        path = "{(COUNTY / 'dltb.gdb').as_posix()}"
        layer = "DLTBX"
        [layers.permanent_farmland]
        path = "yjjbnt.shp"
        zone = 99
        on_invalid = "ignore"
        [layers.approvals]
        path = "{(COUNTY / 'pz.shp').as_posix()}"
        encoding = "GBK-2000"
    """))
    assert len(problems) == 7, problems
    joined = "\n".join(problems)
    for part in ("'EPSG:999999'", "'colour'", "'DLTBX'", "did you mean 'DLTB'",
                 "file not found", "zone", "on_invalid", "'GBK-2000'"):
        assert part in joined, part


def test_gbk_encoded_config_is_an_error_not_a_traceback(tmp_path):
    path = tmp_path / "county_gbk.toml"
    path.write_bytes(textwrap.dedent(f"""
        name = "示范县"
        [layers.approvals]
        path = "{(COUNTY / 'pz.shp').as_posix()}"
    """).encode("gbk"))
    [problem] = _config_problems(path)
    assert "not UTF-8" in problem and "save the config as UTF-8" in problem


def test_invalid_toml_is_a_config_error(tmp_path):
    [problem] = _config_problems(write_config(tmp_path, "[layers.approvals\npath = 'x'\n"))
    assert "not valid TOML" in problem


def test_cli_reports_a_bad_config_without_a_traceback(tmp_path):
    cfg = write_config(tmp_path, '[layers.aproval]\npath = "nowhere.shp"\n', name="bad.toml")
    result = CliRunner().invoke(cli, ["inspect", str(cfg)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "landcheck: error:" in result.output and "bad.toml" in result.output
    assert "did you mean 'approvals'" in result.output


# --- a legacy datum -----------------------------------------------------------------------------


@pytest.fixture
def xian80(tmp_path):
    """A tiny layer in Xian 1980 / 3-degree GK CM 117E (EPSG:2384), as a GeoPackage."""
    path = tmp_path / "xian80_parcels.gpkg"
    gdf = gpd.GeoDataFrame({"BSM": ["1", "2"]},
                           geometry=[box(505_600, 3_515_000, 505_700, 3_515_100),
                                     box(505_700, 3_515_000, 505_800, 3_515_050)],
                           crs="EPSG:2384")
    landcheck.write_layer(gdf, path)
    return path


def test_xian80_to_cgcs2000_needs_helmert_parameters(xian80):
    gdf, _ = read(xian80)
    assert gdf.crs == pyproj.CRS("EPSG:2384")
    assert landcheck.source_info(gdf).crs_how == "file"
    with pytest.raises(TransformationError) as exc:
        landcheck.to_crs(gdf, "EPSG:4527", source=str(xian80))
    message = str(exc.value)
    assert "xian80_parcels.gpkg" in message
    assert "helmert" in message.lower() and "7-parameter" in message
    assert "Xian 1980" in message and "EPSG:4527" in message
    # with a 7-parameter set the layer is transformed
    moved = landcheck.to_crs(gdf, "EPSG:4527", helmert=HELMERT)
    assert moved.crs == CGCS2000_GK39
    assert np.isfinite(shapely.get_coordinates(moved.geometry.values)).all()
    assert moved.total_bounds[0] > 39_000_000


def test_xian80_refusal_names_the_file_by_itself(xian80):
    gdf, _ = read(xian80)
    with pytest.raises(TransformationError, match=r"xian80_parcels\.gpkg"):
        landcheck.to_crs(gdf, "EPSG:4527")


# --- no bare tracebacks -------------------------------------------------------------------------


def _read_layerset(tmp_path, table: str, role: str):
    return landcheck.LayerSet.from_config(write_config(tmp_path, table)).read(role)


BAD_CASES = {
    "gbk-as-utf8": (GBK_CPG.name, lambda tmp: landcheck.read_layer(GBK_CPG, encoding="UTF-8")),
    "no-zone": (NO_ZONE.name, lambda tmp: landcheck.read_layer(NO_ZONE)),
    "duplicate-id": (BAD_GEOMETRY.name,
                     lambda tmp: landcheck.read_layer(BAD_GEOMETRY, id_field="JCBH")),
    "bowtie": (BAD_GEOMETRY.name, lambda tmp: landcheck.read_layer(BAD_GEOMETRY)),
    "unknown-id-field": (BAD_GEOMETRY.name,
                         lambda tmp: landcheck.read_layer(BAD_GEOMETRY, id_field="BSM")),
    "integer-dlbm": (INT_DLBM.name, lambda tmp: _read_layerset(
        tmp, f'[layers.landuse]\npath = "{INT_DLBM.as_posix()}"\n', "landuse")),
    "no-zone-config": (NO_ZONE.name, lambda tmp: _read_layerset(
        tmp, f'[layers.permanent_farmland]\npath = "{NO_ZONE.as_posix()}"\n',
        "permanent_farmland")),
    "missing-file": ("nowhere.gpkg", lambda tmp: landcheck.read_layer(tmp / "nowhere.gpkg")),
    "wrong-layer": ("county.gpkg", lambda tmp: landcheck.read_layer(COUNTY / "county.gpkg",
                                                                      layer="cpkff")),
    "no-layer": ("county.gpkg", lambda tmp: landcheck.read_layer(COUNTY / "county.gpkg")),
    "wrong-zone": (NO_ZONE.name, lambda tmp: landcheck.read_layer(NO_ZONE, crs="EPSG:4527")),
    "bad-config": ("layers.toml", lambda tmp: landcheck.LayerSet.from_config(
        write_config(tmp, '[layers.landuse]\npath = "dltb.gdb"\n'))),
    "gbk-config": ("gbk.toml", lambda tmp: landcheck.LayerSet.from_config(
        _write_bytes(tmp / "gbk.toml", 'name = "示范县"\n'.encode("gbk")))),
}


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_errors_are_landcheck_errors_naming_the_file(tmp_path, case):
    name, action = BAD_CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as exc:
            action(tmp_path)
    assert isinstance(exc.value, LandcheckError), f"{type(exc.value).__name__}: {exc.value}"
    assert isinstance(exc.value, ValueError | OSError)
    assert name in str(exc.value)
    assert "Traceback" not in str(exc.value)


def test_missing_file_is_a_layer_read_error(tmp_path):
    with pytest.raises(LayerReadError) as exc:
        landcheck.read_layer(tmp_path / "nowhere.gpkg")
    assert isinstance(exc.value, OSError)
