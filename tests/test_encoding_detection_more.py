"""Shapefile encodings the simple sniffer gets wrong: single-byte .cpg files over Chinese
text, Big5, records in two encodings, and what the guess warning says.

Each shapefile is written by pyogrio, then its .dbf bytes or .cpg are rewritten.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas
import pyogrio
import pytest
from shapely.geometry import box

from landcheck.errors import EncodingError, EncodingGuessWarning
from landcheck.io import read_layer
from landcheck.io.encoding import dbf_header, detect_shapefile_encoding
from landcheck.provenance import source_info

X0, Y0 = 39_500_000.0, 3_400_000.0  # EPSG:4527
LAND = ["永久基本农田", "建设用地", "永久基本农田"]
APPROVALS = ["浙土字〔2023〕15号", "浙土字〔2023〕16号", "浙政土字〔2022〕12号"]


def shapefile(tmp_path: Path, columns: dict, encoding: str, cpg: str | None) -> Path:
    """Write ``columns`` as ``encoding`` bytes, then set the .cpg to ``cpg`` (None: none)."""
    n = len(next(iter(columns.values())))
    gdf = geopandas.GeoDataFrame(
        columns, geometry=[box(X0 + 3 * i, Y0, X0 + 3 * i + 2, Y0 + 2) for i in range(n)],
        crs="EPSG:4527")
    path = tmp_path / "p.shp"
    pyogrio.write_dataframe(gdf, path, encoding=encoding)
    path.with_suffix(".cpg").unlink(missing_ok=True)
    if cpg is not None:
        path.with_suffix(".cpg").write_text(cpg)
    return path


def set_value(path: Path, row: int, field: str, raw: bytes) -> None:
    """Overwrite one text value in the .dbf with ``raw``, blank-padded to the field width."""
    dbf = path.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    _, header_len, record_len = dbf_header(bytes(data[:12]))
    offset = 1
    for start in range(32, header_len - 1, 32):
        name, width = bytes(data[start:start + 11]).split(b"\0", 1)[0], data[start + 16]
        if name == field.encode("ascii"):
            break
        offset += width
    assert len(raw) <= width, (raw, width)
    at = header_len + row * record_len + offset
    data[at:at + width] = raw.ljust(width, b" ")
    dbf.write_bytes(bytes(data))


def read_quietly(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        return read_layer(path, **kwargs)


# --- a single-byte .cpg is weighed against the bytes -----------------------------------


@pytest.mark.parametrize("claim", ["1252", "8859_1", "LATIN1", "ANSI 1252", "ISO-8859-1"])
def test_gbk_behind_a_single_byte_cpg_is_decoded_as_gb18030_with_a_warning(claim, tmp_path):
    path = shapefile(tmp_path, {"DLMC": LAND, "PZWH": APPROVALS}, "GBK", cpg=claim)
    with pytest.warns(EncodingGuessWarning) as caught:
        gdf = read_layer(path)
    assert gdf["DLMC"].tolist() == LAND and gdf["PZWH"].tolist() == APPROVALS
    assert (source_info(gdf).encoding, source_info(gdf).encoding_how) == ("GB18030", "sniffed")
    [message] = [str(w.message) for w in caught if w.category is EncodingGuessWarning]
    assert str(path) in message
    assert f"the .cpg says {claim!r}" in message and "decoded as GB18030" in message
    assert "2 fields (DLMC, PZWH)" in message
    # an example decoded both ways: GB18030 and the code page's mojibake
    mojibake = "永久基本农田".encode("gbk").decode("latin-1")
    assert "'永久基本农田' as GB18030" in message
    assert mojibake[:6] in message


def test_western_text_behind_a_1252_cpg_is_believed_silently(tmp_path):
    path = shapefile(tmp_path, {"NAME": ["Café", "Zürich", "Crème brûlée"]}, "CP1252", "1252")
    gdf = read_quietly(path)
    assert gdf["NAME"].tolist() == ["Café", "Zürich", "Crème brûlée"]
    assert (source_info(gdf).encoding, source_info(gdf).encoding_how) == ("CP1252", "cpg")


def test_latin1_read_as_gb18030_is_not_plausibly_chinese(tmp_path):
    # 'Zürich' in 1252 is valid GB18030 ('Z黵ich'), but 黵 is no common hanzi
    path = shapefile(tmp_path, {"NAME": ["Zürich"]}, "CP1252", "1252")
    assert "Zürich".encode("cp1252").decode("gb18030") == "Z黵ich"
    decision = detect_shapefile_encoding(path)
    assert (decision.encoding, decision.how, decision.warning) == ("CP1252", "cpg", None)


def test_gbk_field_names_behind_a_1252_cpg_are_decoded_as_gb18030(tmp_path):
    path = shapefile(tmp_path, {"地类编码": ["0101", "0102"], "地类名称": ["a", "b"]}, "GBK",
                     cpg="1252")
    with pytest.warns(EncodingGuessWarning, match="only the field names hold non-ASCII"):
        gdf = read_layer(path)
    assert [c for c in gdf.columns if c != "geometry"] == ["地类编码", "地类名称"]


def test_declared_encoding_still_wins_over_a_single_byte_cpg(tmp_path):
    path = shapefile(tmp_path, {"DLMC": LAND}, "GBK", cpg="1252")
    gdf = read_quietly(path, encoding="CP1252")
    assert gdf["DLMC"].tolist() != LAND  # what was asked for: mojibake
    assert source_info(gdf).encoding_how == "argument"


# --- Big5 -----------------------------------------------------------------------------


BIG5 = ["臺北市", "農地", "臺北市農地"]


def test_big5_without_cpg_is_detected(tmp_path):
    path = shapefile(tmp_path, {"DLMC": BIG5}, "CP950", cpg=None)
    with pytest.warns(EncodingGuessWarning) as caught:
        gdf = read_layer(path)
    assert gdf["DLMC"].tolist() == BIG5
    assert (source_info(gdf).encoding, source_info(gdf).encoding_how) == ("CP950", "sniffed")
    [message] = [str(w.message) for w in caught if w.category is EncodingGuessWarning]
    assert "decodes as Big5 (CP950)" in message and "common traditional Chinese" in message
    assert "'臺北市' as Big5 (CP950)" in message  # and how GB18030 would have read it
    assert "encoding='CP950'" in message


def test_big5_behind_a_1252_cpg_is_detected(tmp_path):
    path = shapefile(tmp_path, {"DLMC": BIG5}, "CP950", cpg="1252")
    with pytest.warns(EncodingGuessWarning, match=r"the \.cpg says '1252'.*decoded as CP950"):
        assert read_layer(path)["DLMC"].tolist() == BIG5


def test_gbk_without_cpg_is_still_gb18030(tmp_path):
    path = shapefile(tmp_path, {"DLMC": LAND, "PZWH": APPROVALS}, "GBK", cpg=None)
    with pytest.warns(EncodingGuessWarning, match="no .cpg file.*decodes as GB18030"):
        gdf = read_layer(path)
    assert gdf["DLMC"].tolist() == LAND
    assert source_info(gdf).encoding == "GB18030"


def test_a_tie_between_gb18030_and_big5_goes_to_gb18030_with_both_readings(tmp_path):
    # 耕地 in GBK (B8FB B5D8) reads as the Big5 level-1 hanzi 較華: both readings look right
    path = shapefile(tmp_path, {"DLMC": ["耕地"]}, "GBK", cpg=None)
    with pytest.warns(EncodingGuessWarning) as caught:
        gdf = read_layer(path)
    assert gdf["DLMC"].tolist() == ["耕地"]
    assert source_info(gdf).encoding == "GB18030"
    [message] = [str(w.message) for w in caught if w.category is EncodingGuessWarning]
    assert "Big5 reads as plausibly Chinese" in message
    assert "'耕地' as GB18030 and '較華' as Big5 (CP950)" in message
    assert "encoding='CP950'" in message


def test_text_implausible_in_both_gb18030_and_big5_is_undecidable(tmp_path):
    # Crème in 1252 without a .cpg: 'Cr鑝e' as GB18030, 'Cr鋗e' as Big5, both rare hanzi
    path = shapefile(tmp_path, {"NAME": ["Crème"]}, "CP1252", cpg=None)
    with pytest.raises(EncodingError) as err:
        read_layer(path)
    message = str(err.value)
    assert str(path) in message and "cannot tell whether the text is GB18030" in message
    assert "'Cr鑝e' as GB18030 and 'Cr鋗e' as Big5 (CP950)" in message
    assert "encoding='GB18030'" in message and "`encoding` key" in message
    assert read_quietly(path, encoding="CP1252")["NAME"].tolist() == ["Crème"]


# --- records in two encodings -----------------------------------------------------------


def mixed(tmp_path) -> Path:
    """UTF-8 text in records 0 and 2, GBK in records 1 and 3 (field DLMC)."""
    values = ["永久基本农田", "建设用地", "耕地", "浙土字〔2023〕15号"]
    path = shapefile(tmp_path, {"DLMC": values, "BSM": ["1", "2", "3", "4"]}, "UTF-8", "UTF-8")
    for row in (1, 3):
        set_value(path, row, "DLMC", values[row].encode("gbk"))
    return path


def test_records_in_two_encodings_are_an_error_naming_field_and_counts(tmp_path):
    path = mixed(tmp_path)
    with pytest.raises(EncodingError) as err:
        read_layer(path)
    message = str(err.value)
    assert str(path) in message and "field 'DLMC'" in message
    assert "2 records (e.g. 0, 2) in UTF-8" in message
    assert "2 records (e.g. 1, 3) in GBK/GB18030" in message
    assert "Re-export the layer in one encoding" in message


def test_records_in_two_encodings_without_cpg_are_an_error(tmp_path):
    path = mixed(tmp_path)
    path.with_suffix(".cpg").unlink()
    with pytest.raises(EncodingError, match="mixes encodings"):
        read_layer(path)


def test_records_in_two_encodings_read_with_a_declared_encoding_are_warned(tmp_path):
    path = mixed(tmp_path)
    set_value(path, 2, "DLMC", "水田".encode())  # GB18030-valid UTF-8: the read succeeds
    set_value(path, 0, "DLMC", "旱地".encode())
    with pytest.warns(EncodingGuessWarning, match=r"mixes encodings.*garbled"):
        gdf = read_layer(path, encoding="GB18030")
    assert gdf["DLMC"].tolist()[1] == "建设用地"


def test_gbk_value_that_happens_to_be_valid_utf8_is_not_mixing(tmp_path):
    # 省 in GBK (CA A1) is valid UTF-8 'ʡ', which is not Chinese text
    path = shapefile(tmp_path, {"XZQMC": ["省", "示范县城关镇"]}, "GBK", cpg=None)
    with pytest.warns(EncodingGuessWarning, match="decoded as GB18030"):
        assert read_layer(path)["XZQMC"].tolist() == ["省", "示范县城关镇"]


# --- what the guess warning says -------------------------------------------------------


def test_guess_warning_names_fields_counts_and_how_sure(tmp_path):
    n = 1234
    columns = {"DLMC": (LAND * n)[:n], "PZWH": (APPROVALS * n)[:n], "ZLDWMC": ["示范村"] * n,
               "DLBM": ["0101"] * n}
    path = shapefile(tmp_path, columns, "GBK", cpg=None)
    with pytest.warns(EncodingGuessWarning) as caught:
        read_layer(path)
    [message] = [str(w.message) for w in caught if w.category is EncodingGuessWarning]
    assert "all 3,702 non-ASCII values in 3 fields (DLMC, PZWH, ZLDWMC)" in message
    assert "decode as GB18030, none as UTF-8" in message
    assert "all 1,234 records read" in message
    assert "100% of their characters are common simplified Chinese (GB2312)" in message
    assert "add a .cpg file containing 'GBK'" in message and "encoding='GB18030'" in message
    assert "DLBM" not in message  # ASCII-only fields are not named


def test_a_gbk_cpg_silences_the_warning(tmp_path):
    path = shapefile(tmp_path, {"DLMC": LAND, "PZWH": APPROVALS}, "GBK", cpg="GBK")
    assert read_quietly(path)["PZWH"].tolist() == APPROVALS
