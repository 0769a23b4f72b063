"""The run's area method: chosen by pack, config or argument, used by every area, recorded.

Hand-checkable shapes: a triangle with 1.2 km and 1.6 km sloping edges at 40°N, 1.2° east
of zone 39's central meridian, where the 2008 method (survey2: no densification) and the
third-survey method (survey3: edges over 70 m densified) differ by 16 m², so a run that
used the wrong method shows it.
"""

from __future__ import annotations

import textwrap

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import Polygon

import landcheck
from landcheck.area import AREA_METHODS, official_area
from landcheck.errors import ConfigError, RuleError
from landcheck.geometry.pairarea import overlap_areas
from landcheck.layers import LayerSet
from landcheck.rules.pack import load_pack
from landcheck.testing import AS_OF, SAMPLES

CRS = "EPSG:4527"
_FWD = pyproj.Transformer.from_crs("EPSG:4490", CRS, always_xy=True)
X0, Y0 = _FWD.transform(118.2, 40.0)


def triangle(dx=0.0, dy=0.0) -> Polygon:
    return Polygon([(X0 + dx, Y0 + dy), (X0 + dx + 1200, Y0 + dy + 900),
                    (X0 + dx - 300, Y0 + dy + 1500)])


def test_the_triangle_tells_the_methods_apart():
    t = [triangle()]
    s3 = official_area(t, crs=CRS)[0]
    s2 = official_area(t, crs=CRS, method="survey2")[0]
    geodesic = landcheck.geodesic_area(t, crs=CRS)[0]
    # measured: survey2 − geodesic 16.40 m², survey3 − geodesic 0.034 m² (the densified
    # pieces are straight in the plane, where a 1.5 km geodesic 100 km off the central
    # meridian is slightly curved)
    assert 15 < s2 - geodesic < 18
    assert abs(s3 - geodesic) < 0.05


def test_unknown_method_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="'survey3', 'survey2'"):
        official_area([triangle()], crs=CRS, method="survey1")
    assert set(AREA_METHODS) == {"survey3", "survey2"}


# --- pack and config --------------------------------------------------------------------------


def _pack_text(extra: str) -> str:
    return textwrap.dedent(f"""
        name = "areas"
        version = "1.0.0"
        valid_from = 2024-01-01
        title_zh = "面积"
        title_en = "Areas"
        {extra}

        [[rules]]
        id = "legality.big"
        family = "legality"
        verdict = "illegal"
        reason_zh = "面积{{area_m2}}"
        reason_en = "Area {{area_m2}}"
        when = "area_m2 > 0"
        area = "area_m2"
    """)


def test_pack_names_its_area_method(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(_pack_text('area_method = "survey2"'), encoding="utf-8")
    pack = landcheck.load_rules(path)
    assert pack.area_method == "survey2"
    assert pack.to_dict()["area_method"] == "survey2"
    path.write_text(_pack_text(""), encoding="utf-8")
    assert landcheck.load_rules(path).area_method == "survey3"
    path.write_text(_pack_text('area_method = "exact"'), encoding="utf-8")
    with pytest.raises(RuleError, match="'area_method' must be one of 'survey3', 'survey2'"):
        load_pack(path, schema=landcheck.load_rules("city2023").schema)


def test_config_names_its_area_method():
    ls = LayerSet.from_dict({"area_method": "survey2", "layers": {}})
    assert ls.area_method == "survey2"
    with pytest.raises(ConfigError, match="area_method: unknown method 'survey4'"):
        LayerSet.from_dict({"area_method": "survey4", "layers": {}})


# --- a screening run ---------------------------------------------------------------------------


def _run(tmp_path, *, pack_method=None, argument=None):
    patches = gpd.GeoDataFrame(
        {"id": ["T1"], "type": ["新增建设用地"], "after": [pd.Timestamp("2024-05-01")]},
        geometry=[triangle()], crs=CRS)
    approvals = gpd.GeoDataFrame(
        {"id": ["A1"], "date": [pd.Timestamp("2024-01-01")]},
        geometry=[shapely.box(X0 - 400, Y0 + 700, X0 + 1300, Y0 + 1600)], crs=CRS)
    pack = tmp_path / "p.toml"
    pack.write_text(_pack_text(f'area_method = "{pack_method}"' if pack_method else ""),
                    encoding="utf-8")
    return landcheck.screen(patches, {"approvals": approvals}, pack, reference_date=AS_OF,
                            area_method=argument)


@pytest.mark.parametrize(("pack_method", "argument", "expected", "source"), [
    (None, None, "survey3", "rule pack"),
    ("survey2", None, "survey2", "rule pack"),
    ("survey2", "survey3", "survey3", "argument"),
    (None, "survey2", "survey2", "argument"),
])
def test_screen_uses_and_records_the_method(tmp_path, pack_method, argument, expected, source):
    result = _run(tmp_path, pack_method=pack_method, argument=argument)
    prov = result.provenance["area_method"]
    assert prov["name"] == expected and prov["from"] == source
    assert prov["densify_m"] == AREA_METHODS[expected].densify_m
    row = result.facts.iloc[0]
    assert row["area_m2"] == official_area([triangle()], crs=CRS, method=expected)[0]
    # the overlap with the approval box is the official area of the GEOS piece, by the method
    piece = shapely.intersection(triangle(), shapely.box(X0 - 400, Y0 + 700, X0 + 1300,
                                                         Y0 + 1600))
    assert row["approved_m2"] == pytest.approx(
        official_area([piece], crs=CRS, method=expected)[0], abs=0.01)
    v = result.verdicts.iloc[0]
    assert v["legal_m2"] + v["illegal_m2"] + v["review_m2"] + v["other_m2"] == v["area_m2"]


def test_config_method_wins_over_the_pack(tmp_path):
    patches = gpd.GeoDataFrame({"id": ["T1"], "type": ["新增建设用地"],
                                "after": [pd.Timestamp("2024-05-01")]},
                               geometry=[triangle()], crs=CRS)
    pack = tmp_path / "p.toml"
    pack.write_text(_pack_text('area_method = "survey3"'), encoding="utf-8")
    ls = LayerSet.from_dict({"area_method": "survey2", "layers": {}}, source="county.toml")
    result = landcheck.screen(patches, ls, pack, reference_date=AS_OF)
    assert result.provenance["area_method"]["name"] == "survey2"
    assert result.provenance["area_method"]["from"] == "config county.toml"
    assert result.facts["area_m2"].iloc[0] == official_area([triangle()], crs=CRS,
                                                            method="survey2")[0]


def test_cli_area_method_reaches_the_metadata(tmp_path):
    from landcheck.cli.main import cli

    out = tmp_path / "v.gpkg"
    result = CliRunner().invoke(cli, ["screen", "--layers", str(SAMPLES / "county.toml"),
                                      "--as-of", str(AS_OF), "--area-method", "survey2",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    meta = gpd.read_file(out, layer="metadata")
    text = " ".join(meta.astype(str).to_numpy().ravel())
    assert "survey2" in text


# --- acceptance: overlaps equal the official area of the GEOS piece ---------------------------


@pytest.mark.parametrize("method", ["survey3", "survey2"])
def test_overlaps_on_long_sloping_edges_equal_the_geos_piece(method):
    rng = np.random.default_rng(3)
    a = [triangle(*rng.uniform(-500, 500, 2)) for _ in range(60)]
    b = [triangle(*rng.uniform(-500, 500, 2)) for _ in range(60)]
    got, _ = overlap_areas(a, b, crs=CRS, method=method)
    pieces = shapely.intersection(np.array(a, dtype=object), np.array(b, dtype=object))
    want = official_area(pieces, crs=CRS, method=method)
    assert (want > 1000).sum() > 30
    np.testing.assert_allclose(got, want, rtol=0, atol=0.01)


def test_demo_county_overlaps_equal_the_geos_pieces():
    layers = LayerSet.from_config(SAMPLES / "county.toml")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parcels = layers.read("landuse").to_crs(CRS)
        patches = layers.read("patches").to_crs(CRS)
    g = patches.geometry.to_numpy()
    ok = shapely.is_valid(g) & ~shapely.is_empty(g)
    tree = shapely.STRtree(parcels.geometry.to_numpy())
    pi, ri = tree.query(g[ok], predicate="intersects")
    a, b = g[ok][pi], parcels.geometry.to_numpy()[ri]
    got, _ = overlap_areas(a, b, crs=CRS)
    want = official_area(shapely.intersection(a, b), crs=CRS)
    assert len(a) > 300
    np.testing.assert_allclose(got, want, rtol=0, atol=0.01)
