"""Shapefile text encodings: .cpg files that are missing or wrong, sniffing, field names."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas
import pyogrio
import pytest
from shapely.geometry import Polygon, box

import landcheck.io.encoding as encoding_module
from landcheck.errors import EncodingError, EncodingGuessWarning, GeometryError
from landcheck.io import read_layer
from landcheck.io.encoding import detect_shapefile_encoding
from landcheck.provenance import source_info

X0, Y0 = 39_500_000.0, 3_400_000.0  # EPSG:4527
VALUES = ["水田", "批准文号 浙政土字〔2022〕12号"]


def frame(columns=None, n=2) -> geopandas.GeoDataFrame:
    data = columns or {"DLBM": ["0101", "0102"], "DLMC": VALUES}
    return geopandas.GeoDataFrame(
        data, geometry=[box(X0 + 3 * i, Y0, X0 + 3 * i + 2, Y0 + 2) for i in range(n)],
        crs="EPSG:4527")


def shapefile(tmp_path: Path, encoding: str, cpg: str | None, gdf=None) -> Path:
    """Write ``gdf`` with ``encoding`` bytes, then set the .cpg to ``cpg`` (None: delete it)."""
    path = tmp_path / "p.shp"
    pyogrio.write_dataframe(frame() if gdf is None else gdf, path, encoding=encoding)
    path.with_suffix(".cpg").unlink(missing_ok=True)
    if cpg is not None:
        path.with_suffix(".cpg").write_text(cpg)
    return path


def read_quietly(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        return read_layer(path, **kwargs)


@pytest.mark.parametrize(("written", "sniffed"), [("GBK", "GB18030"), ("UTF-8", "UTF-8")])
def test_no_cpg_is_sniffed_and_warned(written, sniffed, tmp_path):
    path = shapefile(tmp_path, written, cpg=None)
    with pytest.warns(EncodingGuessWarning, match=rf"no \.cpg file.*decodes as {sniffed}"):
        gdf = read_layer(path)
    assert gdf["DLMC"].tolist() == VALUES
    info = source_info(gdf)
    assert (info.encoding, info.encoding_how) == (sniffed, "sniffed")


@pytest.mark.parametrize(("written", "claim", "sniffed"), [
    ("GBK", "UTF-8", "GB18030"),
    ("UTF-8", "GBK", "UTF-8"),
    ("UTF-8", "936", "UTF-8"),
    ("UTF-8", "CP936", "UTF-8"),
    ("UTF-8", "ISO-8859-1", "UTF-8"),
])
def test_lying_cpg_is_overruled_with_a_warning(written, claim, sniffed, tmp_path):
    path = shapefile(tmp_path, written, cpg=claim)
    with pytest.warns(EncodingGuessWarning) as caught:
        gdf = read_layer(path)
    message = str(caught[0].message)
    assert f"the .cpg says {claim!r}" in message and f"decoded as {sniffed}" in message
    assert str(path) in message
    assert gdf["DLMC"].tolist() == VALUES
    assert source_info(gdf).encoding_how == "sniffed"


@pytest.mark.parametrize(("written", "claim", "used"), [
    ("GBK", "GBK", "GBK"),
    ("GBK", "936", "CP936"),
    ("GBK", " cp936\n", "CP936"),
    ("UTF-8", "UTF-8", "UTF-8"),
    ("UTF-8", "utf8", "UTF-8"),
])
def test_agreeing_cpg_is_used_without_warning(written, claim, used, tmp_path):
    gdf = read_quietly(shapefile(tmp_path, written, cpg=claim))
    assert gdf["DLMC"].tolist() == VALUES
    info = source_info(gdf)
    assert (info.encoding, info.encoding_how) == (used, "cpg")


def test_pure_ascii_needs_no_cpg_and_no_warning(tmp_path):
    gdf = frame({"DLBM": ["0101", "0102"], "NOTE": ["ok", "fine"]})
    info = source_info(read_quietly(shapefile(tmp_path, "UTF-8", cpg=None, gdf=gdf)))
    assert (info.encoding, info.encoding_how) == ("UTF-8", "sniffed")


def test_explicit_wrong_encoding_is_an_error_naming_file_and_field(tmp_path):
    path = shapefile(tmp_path, "GBK", cpg=None)
    with pytest.raises(EncodingError) as err:
        read_layer(path, encoding="UTF-8")
    message = str(err.value)
    assert str(path) in message and "field 'DLMC', record 0" in message
    assert "encoding='GB18030'" in message


def test_explicit_encoding_wins_over_cpg(tmp_path):
    gdf = read_quietly(shapefile(tmp_path, "GBK", cpg="UTF-8"), encoding="GBK")
    assert gdf["DLMC"].tolist() == VALUES
    assert (source_info(gdf).encoding, source_info(gdf).encoding_how) == ("GBK", "argument")


def test_explicit_gbk_on_utf8_bytes_is_used_but_warned(tmp_path):
    # UTF-8 水田 (6 bytes) happens to be valid GBK too (3 other characters): the argument
    # wins, with a warning; 〔 in UTF-8 is not valid GBK and would be an EncodingError.
    gdf = frame({"DLMC": ["水田", "旱地"]})
    path = shapefile(tmp_path, "UTF-8", cpg=None, gdf=gdf)
    with pytest.warns(EncodingGuessWarning, match="probably UTF-8"):
        back = read_layer(path, encoding="GBK")
    assert back["DLMC"].tolist() != ["水田", "旱地"]  # what was asked for: mojibake
    with pytest.raises(EncodingError, match="not valid GBK"):
        read_layer(shapefile(tmp_path, "UTF-8", cpg=None), encoding="GBK")


def test_gbk_chinese_field_names_are_decoded(tmp_path):
    gdf = frame({"地类编码": ["0101", "0102"], "地类名称": VALUES})
    path = shapefile(tmp_path, "GBK", cpg=None, gdf=gdf)
    with pytest.warns(EncodingGuessWarning):
        back = read_layer(path, id_field="地类编码", columns=["地类名称"])
    assert [c for c in back.columns if c != "geometry"] == ["地类编码", "地类名称"]
    assert back["地类名称"].tolist() == VALUES


def test_utf8_field_names_cut_inside_a_character_are_shortened(tmp_path):
    # GDAL cuts the 12-byte UTF-8 name 地类名称 at 10 bytes, inside 称; pyogrio cannot
    # read such a file at all, landcheck drops the cut character.
    gdf = frame({"地类名称": VALUES, "DLBM": ["0101", "0102"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's laundering notice
        path = shapefile(tmp_path, "UTF-8", cpg="UTF-8", gdf=gdf)
    back = read_quietly(path, columns=["地类名"])
    assert [c for c in back.columns if c != "geometry"] == ["地类名"]
    assert back["地类名"].tolist() == VALUES
    assert "shortened" in " ".join(source_info(back).notes)
    # one field alone, through the same re-decoding (the streamed reader checks ids this way)
    from landcheck.io.read import read_field

    assert read_field(path, "地类名").tolist() == VALUES


def test_bytes_that_are_neither_utf8_nor_gb18030_are_an_error(tmp_path):
    path = shapefile(tmp_path, "GBK", cpg=None)
    dbf = path.with_suffix(".dbf")
    dbf.write_bytes(dbf.read_bytes().replace("水田".encode("gbk"), b"\xff\xfe\xff\xfe"))
    with pytest.raises(EncodingError, match=r"field 'DLMC', record 0.*UTF-8, GB18030 or Big5"):
        read_layer(path)


def test_non_ascii_far_into_the_file_is_found(tmp_path):
    n = 5000
    names = ["plain"] * n
    names[2500] = "水田"
    path = shapefile(tmp_path, "GBK", cpg=None, gdf=frame({"DLMC": names}, n=n))
    with pytest.warns(EncodingGuessWarning):
        gdf = read_layer(path)
    assert gdf["DLMC"].iloc[2500] == "水田"


def test_text_beyond_a_sample_that_missed_it_is_an_error_not_mojibake(tmp_path, monkeypatch):
    n = 5000
    names = ["plain"] * n
    names[2500] = "水田"
    path = shapefile(tmp_path, "GBK", cpg=None, gdf=frame({"DLMC": names}, n=n))
    monkeypatch.setattr(encoding_module, "SAMPLE_BYTES", 64)  # 64 single records of 5000
    with pytest.raises(EncodingError, match="further into the file"):
        read_layer(path)


def test_warnings_noticed_before_an_error_are_still_emitted(tmp_path):
    bowtie = Polygon([(X0, Y0), (X0 + 2, Y0 + 2), (X0 + 2, Y0), (X0, Y0 + 2)])
    gdf = geopandas.GeoDataFrame({"DLMC": ["水田"]}, geometry=[bowtie], crs="EPSG:4527")
    path = shapefile(tmp_path, "GBK", cpg=None, gdf=gdf)
    with pytest.warns(EncodingGuessWarning), pytest.raises(GeometryError):
        read_layer(path)


def test_unknown_cpg_label_counts_as_no_claim(tmp_path):
    path = shapefile(tmp_path, "GBK", cpg="SOMETHING")
    with pytest.warns(EncodingGuessWarning, match="the .cpg says 'SOMETHING'"):
        assert read_layer(path)["DLMC"].tolist() == VALUES


def test_detect_returns_decision_without_warning(tmp_path):
    path = shapefile(tmp_path, "GBK", cpg=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        decision = detect_shapefile_encoding(path)
    assert decision.encoding == "GB18030"
    assert decision.field_names == ("DLBM", "DLMC")
    assert decision.warning is not None and decision.cpg is None
