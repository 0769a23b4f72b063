"""Bureau values as they come: codes, Chinese names and variants, without a `values` table.

Every case is a 100 m × 100 m construction patch (type 20, after-date 2023-06-01) lying
wholly on permanent farmland, read from GBK shapefiles with Chinese field names and values,
in a layer config that maps fields only. On paper: a livestock filing may not cover
permanent farmland (自然资规〔2019〕4号), a crop filing may; an in-force temporary approval
for a batching plant (拌合站) covers a construction patch; a filing of a kind no vocabulary
knows neither covers nor counts as unapproved — the patch is for review, naming the value.
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
from landcheck.errors import VocabularyWarning
from landcheck.testing import AS_OF
from landcheck.vocab import normalise_values, value_names

CRS = "EPSG:4527"
X0, Y0 = 39_500_000.0, 3_500_000.0
SQUARE = shapely.box(X0, Y0, X0 + 100, Y0 + 100)


def _shp(path, frame):
    rows = len(next(iter(frame.values())))
    pyogrio.write_dataframe(gpd.GeoDataFrame(frame, geometry=[SQUARE] * rows, crs=CRS),
                            path, encoding="GBK")
    path.with_suffix(".cpg").write_text("GBK", encoding="ascii")


def _county(tmp_path, *, facility=None, temporary=None, level="市"):
    # XZQMC gives the sniffer enough GBK text: a lone 省 (CA A1) also decodes as UTF-8 'ʡ',
    # and a .cpg is overruled by bytes that decode as UTF-8 (landcheck.io, with a warning)
    _shp(tmp_path / "tb.shp", {"JCBH": ["P1"], "TBLX": ["20"], "QSX": ["2023-01-01"],
                               "HSX": ["2023-06-01"], "XFJB": [level], "XFRQ": ["2023-07-03"],
                               "XZQMC": ["示范县城关镇"]})
    _shp(tmp_path / "jbnt.shp", {"BSM": ["F1"]})
    text = f"""
        crs = "{CRS}"
        [patches]
        path = "tb.shp"
        [patches.fields]
        id = "JCBH"
        type = "TBLX"
        before = "QSX"
        after = "HSX"
        level = "XFJB"
        issued = "XFRQ"
        [layers.permanent_farmland]
        path = "jbnt.shp"
        fields = {{ id = "BSM" }}
    """
    if facility is not None:
        _shp(tmp_path / "ssnyd.shp", {"BABH": ["S1"], "SSLX": [facility], "BARQ": ["2023-01-01"]})
        text += """
        [layers.facility_ag]
        path = "ssnyd.shp"
        fields = { id = "BABH", kind = "SSLX", date = "BARQ" }
        """
    if temporary is not None:
        _shp(tmp_path / "lsyd.shp", {"PZWH": ["L1"], "YT": [temporary], "KSRQ": ["2023-01-01"],
                                     "JSRQ": ["2024-12-31"]})
        text += """
        [layers.temporary_land]
        path = "lsyd.shp"
        fields = { id = "PZWH", use = "YT", start = "KSRQ", end = "JSRQ" }
        """
    config = tmp_path / "county.toml"
    config.write_text(textwrap.dedent(text), encoding="utf-8")
    return config


def _screen(config):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = landcheck.screen(None, config, reference_date=AS_OF)
    vocab = [str(w.message) for w in caught if issubclass(w.category, VocabularyWarning)]
    return result.verdicts.iloc[0], result.facts.iloc[0], vocab


@pytest.mark.parametrize(("kind", "verdict"), [
    ("养殖设施", "illegal"),       # livestock: not on permanent farmland
    ("畜禽养殖设施", "illegal"),
    ("水产养殖设施", "illegal"),
    ("种植设施", "legal"),         # crop facilities may stand on permanent farmland
    ("作物种植设施", "legal"),
    ("livestock", "illegal"),     # the canonical code itself
])
def test_facility_kinds_by_chinese_name(tmp_path, kind, verdict):
    v, f, vocab = _screen(_county(tmp_path, facility=kind))
    assert v["verdict"] == verdict
    assert vocab == []
    if verdict == "illegal":
        assert f["facility_on_pf_m2"] == pytest.approx(10_000, abs=0.01)


@pytest.mark.parametrize("kind", ["温室大棚", ""])
def test_unknown_or_missing_facility_kind_is_for_review_naming_it(tmp_path, kind):
    v, f, vocab = _screen(_county(tmp_path, facility=kind))
    assert v["verdict"] == "needs_review"
    assert v["review_m2"] == pytest.approx(10_000, abs=0.01)
    assert v["illegal_m2"] == 0.0  # the filed area is not left to the remainder
    written = kind or "（空）"
    assert f["facility_unknown_kinds"] == [written]
    assert f"“{written}”" in v["reasons_zh"]
    if kind:  # the warning names the file, the field, the value and its count
        assert len(vocab) == 1
        assert "ssnyd.shp" in vocab[0] and "'SSLX'" in vocab[0] and "'温室大棚' × 1" in vocab[0]


def test_batching_plant_in_force_covers_a_construction_patch(tmp_path):
    v, f, vocab = _screen(_county(tmp_path, temporary="拌合站"))
    assert vocab == []
    assert f["temporary_m2"] == pytest.approx(10_000, abs=0.01)
    assert v["verdict"] == "legal"


@pytest.mark.parametrize(("level", "due"), [("市", "2023-07-08"), ("市级", "2023-07-08"),
                                            ("省", "2023-07-31"), ("部", "2023-08-20")])
def test_issuing_level_by_chinese_name_sets_the_deadline(tmp_path, level, due):
    _, f, vocab = _screen(_county(tmp_path, level=level))
    assert vocab == []
    assert f["due_date"] == pd.Timestamp(due)


def test_an_unknown_issuing_level_is_said(tmp_path):
    v, f, vocab = _screen(_county(tmp_path, level="乡"))
    assert pd.isna(f["due_date"])
    assert len(vocab) == 1 and "'XFJB'" in vocab[0] and "'乡' × 1" in vocab[0]
    assert f["level_unknown"] == "乡" and "“乡”" in v["reasons_zh"]


def test_spellings_are_matched_without_spaces_or_case():
    got = normalise_values(pd.Series([" 畜禽 养殖设施", "LIVESTOCK", "水产养殖", None]),
                           "facility_ag", "kind", where="t")
    assert got.tolist()[:3] == ["livestock", "livestock", "aquaculture"]
    assert pd.isna(got.iloc[3])


def test_every_spelling_means_one_code():
    names = value_names()
    assert names[("facility_ag", "kind")]["养殖设施"] == "livestock"
    assert names[("temporary_land", "use")]["拌合站"] == "batching_plant"
    for spellings in names.values():
        assert all(isinstance(code, str) and code for code in spellings.values())


def test_a_table_with_one_spelling_for_two_codes_is_refused(tmp_path):
    from landcheck.errors import InputError

    table = tmp_path / "names.csv"
    table.write_text("role,field,code,name_zh,variants,source\n"
                     "facility_ag,kind,crop,种植,,x\nfacility_ag,kind,livestock,养殖,种植,x\n",
                     encoding="utf-8")
    with pytest.raises(InputError, match=r"'种植' of facility_ag\.kind means both 'crop' and "
                                         r"'livestock'"):
        value_names.__wrapped__(table)
