"""Geometry policy of read_layer: invalid (raise/warn/fix), empty, null, Z/M, DXF-free types.

The bowtie ((0,0),(2,2),(2,0),(0,2)) is two triangles of area 1 crossing at (1,1):
its signed area is 0, repaired it is a MultiPolygon of area 2.
"""

from __future__ import annotations

import warnings

import geopandas
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from landcheck.errors import GeometryError, GeometryWarning
from landcheck.io import read_layer, write_layer
from landcheck.io.geometry import _same_dimension
from landcheck.provenance import source_info

X0, Y0 = 39_500_000.0, 3_400_000.0  # EPSG:4527


def shifted(coords):
    return [(X0 + x, Y0 + y) for x, y in coords]


BOWTIE = Polygon(shifted([(0, 0), (2, 2), (2, 0), (0, 2)]))
SQUARE = box(X0 + 10, Y0, X0 + 12, Y0 + 2)
FLAT = Polygon(shifted([(0, 5), (1, 5), (2, 5), (0, 5)]))  # collapses to nothing


def layer(tmp_path, geoms, ids=None):
    ids = ids or [f"B{i}" for i in range(len(geoms))]
    gdf = geopandas.GeoDataFrame({"JCBH": ids}, geometry=list(geoms), crs="EPSG:4527")
    return write_layer(gdf, tmp_path / "g.gpkg")


def test_invalid_raise_lists_ids_reasons_and_the_fix(tmp_path):
    path = layer(tmp_path, [SQUARE, BOWTIE])
    with pytest.raises(GeometryError) as err:
        read_layer(path, id_field="JCBH")
    message = str(err.value)
    assert "1 invalid geometry, ids (JCBH) 'B1'" in message
    assert "Self-intersection" in message
    assert "on_invalid='fix'" in message and "g.gpkg" in message


def test_invalid_without_id_field_is_named_by_row(tmp_path):
    path = layer(tmp_path, [SQUARE, BOWTIE])
    with pytest.raises(GeometryError, match=r"rows \(0-based\) 1"):
        read_layer(path)


def test_invalid_warn_keeps_the_geometry(tmp_path):
    path = layer(tmp_path, [SQUARE, BOWTIE])
    with pytest.warns(GeometryWarning, match=r"1 invalid geometry, ids \(JCBH\) 'B1'"):
        gdf = read_layer(path, id_field="JCBH", on_invalid="warn")
    assert gdf.geometry.iloc[1].equals_exact(BOWTIE, 0)
    assert not gdf.is_valid.iloc[1]
    assert any("'B1'" in note for note in source_info(gdf).notes)


def test_invalid_fix_repairs_into_two_triangles(tmp_path):
    path = layer(tmp_path, [SQUARE, BOWTIE])
    with pytest.warns(GeometryWarning, match=r"1 invalid geometry repaired .* 'B1'"):
        gdf = read_layer(path, id_field="JCBH", on_invalid="fix")
    fixed = gdf.geometry.iloc[1]
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon"
    assert fixed.area == pytest.approx(2.0, abs=1e-6)
    assert gdf.geometry.iloc[0].equals(SQUARE)  # valid features untouched
    notes = source_info(gdf).notes
    assert any(n.startswith("feature 'B1'") and "area 0 -> 2" in n for n in notes)


def test_fix_that_leaves_nothing_becomes_empty_and_is_reported(tmp_path):
    path = layer(tmp_path, [SQUARE, BOWTIE, FLAT])
    with pytest.warns(GeometryWarning) as caught:
        gdf = read_layer(path, id_field="JCBH", on_invalid="fix")
    message = " ".join(str(w.message) for w in caught)
    assert "2 invalid geometries repaired" in message
    assert "1 became empty, ids (JCBH) 'B2'" in message
    assert len(gdf) == 3 and gdf.geometry.iloc[2].is_empty
    assert gdf.geometry.iloc[2].geom_type == "Polygon"


@pytest.mark.parametrize("on_invalid", ["raise", "warn", "fix"])
@pytest.mark.parametrize("missing", [Polygon(), None], ids=["empty", "null"])
def test_empty_and_null_geometries_are_reported_never_dropped(missing, on_invalid, tmp_path):
    path = layer(tmp_path, [SQUARE, missing, SQUARE])
    with pytest.warns(GeometryWarning, match=r"1 feature\(s\) with null or empty geometry, "
                                             r"ids \(JCBH\) 'B1'"):
        gdf = read_layer(path, id_field="JCBH", on_invalid=on_invalid)
    assert gdf["JCBH"].tolist() == ["B0", "B1", "B2"]
    assert gdf.geometry.iloc[1] is None or gdf.geometry.iloc[1].is_empty


def test_z_is_dropped_with_a_count(tmp_path):
    with_z = [shapely.force_3d(SQUARE, 5.0), shapely.force_3d(box(X0, Y0, X0 + 1, Y0 + 1), 7.0)]
    path = layer(tmp_path, with_z)
    with pytest.warns(GeometryWarning, match="2 geometries had Z/M coordinates"):
        gdf = read_layer(path)
    assert not gdf.has_z.any()
    assert gdf.area.tolist() == pytest.approx([4.0, 1.0])
    assert "Z/M coordinates dropped to 2D on 2 feature(s)" in source_info(gdf).notes


def test_zero_z_is_dropped_quietly_with_a_note(tmp_path):
    path = layer(tmp_path, [shapely.force_3d(SQUARE, 0.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gdf = read_layer(path)
    assert not gdf.has_z.any()
    assert any("all Z were 0" in note for note in source_info(gdf).notes)


def test_points_and_lines_are_not_restricted(tmp_path):
    geoms = [Point(X0, Y0), LineString(shifted([(0, 0), (3, 4)])), SQUARE]
    gdf = geopandas.GeoDataFrame({"JCBH": ["P", "L", "S"]}, geometry=geoms, crs="EPSG:4527")
    back = read_layer(write_layer(gdf, tmp_path / "mixed.geojson"))
    assert back.geom_type.tolist() == ["Point", "LineString", "Polygon"]
    assert back.length.iloc[1] == pytest.approx(5.0)


def test_invalid_line_is_repaired_to_an_empty_line(tmp_path):
    bad = LineString([(X0, Y0), (X0, Y0)])
    gdf = geopandas.GeoDataFrame({"JCBH": ["L1"]}, geometry=[bad], crs="EPSG:4527")
    path = write_layer(gdf, tmp_path / "lines.gpkg")
    with pytest.warns(GeometryWarning, match="1 became empty"):
        back = read_layer(path, on_invalid="fix", crs="EPSG:4527")
    assert back.geometry.iloc[0].is_empty and back.geom_type.iloc[0] == "LineString"


def test_collections_keep_only_parts_of_the_original_dimension():
    before = np.array([BOWTIE, LineString([(0, 0), (1, 1)])], dtype=object)
    repaired = np.array([
        shapely.GeometryCollection([box(0, 0, 1, 1), LineString([(5, 5), (6, 6)]),
                                    box(2, 2, 3, 3)]),
        shapely.GeometryCollection([Point(0, 0)]),
    ], dtype=object)
    out = _same_dimension(before, repaired)
    assert out[0].geom_type == "MultiPolygon" and out[0].area == 2.0
    assert out[1].is_empty and out[1].geom_type == "LineString"
