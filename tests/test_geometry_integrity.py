"""Geometry that reading or reprojection could make quietly wrong: curves, polygons a
reprojection makes invalid, zip archives that expand without bound, symbolic-link loops.

The curved fixture is a GeoPackage written through GDAL from ISO WKB (pyogrio.raw.write
passes WKB through; shapely holds no curves), its declared type then set to CURVEPOLYGON
as QGIS or ArcGIS write it. Centre (500 000, 3 500 000) in EPSG:4549 (CGCS2000 GK CM 120°E):

* ``C1``: a full circle of radius 100 m, area π·100² = 31 415.93 m²;
* ``C2``: a half disc of radius 100 m (an arc closed by its diameter, a CompoundCurve
  ring), area π·100²/2;
* ``P1``: a plain 10 m square, 100 m².
"""

from __future__ import annotations

import math
import sqlite3
import struct
import warnings
import zipfile

import geopandas
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import pytest
import shapely

import landcheck.io.formats as formats
from landcheck.crs import to_crs
from landcheck.errors import GeometryWarning, LayerReadError
from landcheck.facts.base import patch_base
from landcheck.io import read_layer, write_layer
from landcheck.io.findings import FeatureLabels, Findings
from landcheck.io.geometry import ARC_STEP_DEGREES, arc_area_error, repair_reprojected
from landcheck.provenance import source_info
from landcheck.screen import load_rules

CX, CY, R = 500_000.0, 3_500_000.0, 100.0


def _points(points) -> bytes:
    return struct.pack("<I", len(points)) + b"".join(struct.pack("<dd", *p) for p in points)


def _curve(wkb_type: int, points) -> bytes:
    return struct.pack("<BI", 1, wkb_type) + _points(points)


def _curve_polygon(ring: bytes) -> bytes:
    return struct.pack("<BII", 1, 10, 1) + ring  # ISO WKB CurvePolygon, one ring


def curved_gpkg(path):
    circle = _curve_polygon(_curve(8, [(CX + R, CY), (CX - R, CY), (CX + R, CY)]))
    arc = _curve(8, [(CX + R, CY), (CX, CY + R), (CX - R, CY)])
    diameter = _curve(2, [(CX - R, CY), (CX + R, CY)])
    half = _curve_polygon(struct.pack("<BII", 1, 9, 2) + arc + diameter)  # CompoundCurve
    square = shapely.to_wkb(shapely.box(CX + 200, CY, CX + 210, CY + 10))
    geometry = np.array([circle, half, square], dtype=object)
    pyogrio.raw.write(path, geometry=geometry, field_data=[np.array(["C1", "C2", "P1"],
                      dtype=object)], fields=["BSM"], geometry_type="Unknown",
                      crs="EPSG:4549", layer="arcs", driver="GPKG")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE gpkg_geometry_columns SET geometry_type_name = 'CURVEPOLYGON'")
    return path


def read_curved(path, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gdf = read_layer(path, id_field="BSM", **kwargs)
    return gdf, [w for w in caught if issubclass(w.category, GeometryWarning)]


@pytest.mark.parametrize("arc_step", [ARC_STEP_DEGREES, 4.0, 0.25])
def test_curve_polygons_are_linearised_within_the_documented_area_error(tmp_path, arc_step):
    gdf, caught = read_curved(curved_gpkg(tmp_path / "arcs.gpkg"), arc_step=arc_step)
    area = dict(zip(gdf["BSM"], gdf.geometry.area, strict=True))
    bound = arc_area_error(arc_step)
    for key, exact in (("C1", math.pi * R**2), ("C2", math.pi * R**2 / 2)):
        # chords lie inside a convex arc: never larger, smaller by at most the bound
        assert exact * (1 - bound) - 1e-6 <= area[key] <= exact + 1e-6, (key, area[key])
    assert area["P1"] == pytest.approx(100.0)
    assert gdf.geometry.is_valid.all()
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "arcs.gpkg layer 'arcs'" in message and "2 feature(s) with curved geometry" in message
    assert "2 CURVEPOLYGON" in message and f"arc_step={arc_step:g}" in message
    assert f"{bound:.2g} of each arc's sector" in message
    assert message in source_info(gdf).notes


def test_circle_area_at_the_default_step(tmp_path):
    gdf, _ = read_curved(curved_gpkg(tmp_path / "arcs.gpkg"))
    circle = gdf.geometry[gdf["BSM"] == "C1"].iloc[0]
    error = 1 - circle.area / (math.pi * R**2)
    assert 0 < error <= arc_area_error(ARC_STEP_DEGREES) < 5.1e-5  # 31 414.34 m² measured
    assert shapely.get_num_coordinates(circle) >= 361


def test_curves_read_by_feature_id_are_linearised_and_counted(tmp_path):
    gdf, caught = read_curved(curved_gpkg(tmp_path / "arcs.gpkg"), rows=[3, 1])
    assert gdf["BSM"].tolist() == ["P1", "C1"]
    assert gdf.geometry.iloc[1].area == pytest.approx(math.pi * R**2, rel=6e-5)
    assert len(caught) == 1 and "1 feature(s) with curved geometry" in str(caught[0].message)


def test_arc_step_is_checked(tmp_path):
    with pytest.raises(ValueError, match="arc_step"):
        read_layer(tmp_path / "missing.gpkg", arc_step=0)


def test_arc_step_leaves_gdal_config_as_it_was(tmp_path):
    read_curved(curved_gpkg(tmp_path / "arcs.gpkg"), arc_step=2.0)
    assert pyogrio.get_gdal_config_option("OGR_ARC_STEPSIZE") is None


# --- polygons a reprojection makes invalid ---------------------------------------------------

LAT, LON0, LON1 = 31.0, 121.0, 121.4  # a 38 km edge along a parallel, 1.0–1.4° east of CM 120°E


def w_polygon():
    """Valid in lon/lat; self-intersecting in EPSG:4549.

    The bottom edge runs along 31°N. The top dips to a vertex 0.0000775° (8.6 m) above the
    edge's midpoint; in Gauss–Krüger the straight edge between the same two corners passes
    0.000155° (17 m) north of 31°N at its midpoint, so the vertex falls below it and the ring
    crosses itself.
    """
    return shapely.Polygon([(LON0, LAT), (LON1, LAT), (LON1, LAT + 0.05),
                            (121.2000054, LAT + 0.0000775), (LON0, LAT + 0.05)])


def test_a_polygon_reprojection_makes_invalid_is_repaired_with_a_note(tmp_path):
    assert w_polygon().is_valid
    plain = gpd_frame([w_polygon()], ["W1"], "EPSG:4490").to_crs("EPSG:4549")
    assert not plain.geometry.iloc[0].is_valid  # what geopandas alone gives
    path = write_layer(gpd_frame([w_polygon(), shapely.box(121, 31.1, 121.01, 31.11)],
                                 ["W1", "B2"], "EPSG:4490"), tmp_path / "w.gpkg")
    gdf = read_layer(path, id_field="id")
    with pytest.warns(GeometryWarning, match=r"1 polygon\(s\) valid before reprojection") as w:
        out = to_crs(gdf, "EPSG:4549", source="patches (w.gpkg)")
    message = str(w[0].message)
    assert "patches (w.gpkg): reprojected to EPSG:4549" in message and "'W1'" in message
    assert "B2" not in message and "check them against the source" not in message
    assert out.geometry.is_valid.all()
    assert out.geometry.iloc[0].area == pytest.approx(plain.geometry.iloc[0].area, rel=1e-3)
    assert any("'W1'" in n and "after reprojection" in n for n in source_info(out).notes)
    assert not any("'W1'" in n for n in source_info(gdf).notes)  # the input is not modified
    facts = patch_base(out, np.asarray(out.geometry.array), out.crs)
    assert facts["geom_ok"].all() and (facts["area_m2"] > 1e8).iloc[0]  # never area 0


def test_a_repair_beyond_the_tolerance_names_the_ids_to_check():
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    before = np.array([shapely.box(0, 0, 2, 2), shapely.box(5, 5, 6, 6)])
    after = np.array([bowtie, shapely.box(5, 5, 6, 6)])
    findings = Findings()
    labels = FeatureLabels(None, np.array(["A", "B"], dtype=object))
    fixed = repair_reprojected(before, after, labels, "demo", findings)
    assert shapely.is_valid(fixed).all() and fixed[0].area == pytest.approx(2.0)
    assert fixed[1] is after[1]
    (_, message), = findings.pending
    assert "'A'" in message and "'B'" not in message.replace("'A'", "")
    assert "changed area by more than 0.001" in message  # signed area 0 → 2: infinite change


@pytest.mark.parametrize(("limit_pct", "reviewed"), [(0.1, False), (0.0001, True)])
def test_a_repair_that_moves_the_area_beyond_the_parameter_is_needs_review(limit_pct, reviewed):
    """The W polygon's repair moves its area by 4.8e-6 (0.00048 %): within the pack's 0.1 %,
    beyond 0.0001 % (legality.reprojection_repaired, naming the change in Chinese)."""
    from landcheck import screen

    patches = geopandas.GeoDataFrame(
        {"id": ["W1", "B2"], "type": ["20", "20"],
         "before": pd.to_datetime(["2022-12-31"] * 2), "after": pd.to_datetime(["2023-06-30"] * 2)},
        geometry=[w_polygon(), shapely.box(LON0, LAT - 0.02, LON0 + 0.01, LAT - 0.01)],
        crs="EPSG:4490")
    farmland = geopandas.GeoDataFrame({"id": ["F1"]}, geometry=[shapely.box(LON0, LAT - 0.02,
                                                                           LON1, LAT + 0.05)],
                                      crs="EPSG:4490")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = screen(patches, {"permanent_farmland": farmland}, reference_date="2023-09-30",
                        working_crs="EPSG:4549", families=["legality"],
                        rules=load_rules("city2023", overrides={
                            "legality.reprojection_change_pct": limit_pct}))
    v = result.verdicts.set_index("id")
    change = result.facts.set_index("id").loc["W1", "reprojection_change_pct"]
    assert change == pytest.approx(4.8e-4, rel=0.05)
    assert math.isnan(result.facts.set_index("id").loc["B2", "reprojection_change_pct"])
    assert ("legality.reprojection_repaired" in v.loc["W1", "rules"]) is reviewed
    assert "legality.reprojection_repaired" not in v.loc["B2", "rules"]
    if reviewed:  # the rule joins the others; the worst verdict wins (here: on farmland)
        assert v.loc["W1", "verdict"] in ("needs_review", "illegal")
        assert "图斑投影变换后几何无效，修复后面积变化" in v.loc["W1", "reasons_zh"]
    assert v.loc["W1", "area_m2"] > 1e8  # never area 0


def test_polygons_invalid_before_reprojection_are_left_to_the_read_policy():
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    findings = Findings()
    out = repair_reprojected(np.array([bowtie]), np.array([bowtie]),
                             FeatureLabels(None, np.arange(1)), "demo", findings)
    assert out[0] is bowtie and not findings.pending


def gpd_frame(geoms, ids, crs):
    return geopandas.GeoDataFrame({"id": ids}, geometry=geoms, crs=crs)


# --- archives and links -----------------------------------------------------------------------

def zeros_kmz(path, size):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("doc.kml", b"\0" * size)
    return path


def test_a_zip_expanding_beyond_the_total_limit_is_refused(tmp_path, monkeypatch):
    path = zeros_kmz(tmp_path / "bomb.kmz", 2_000_000)
    monkeypatch.setattr(formats, "MAX_EXPANDED_BYTES", 1_000_000)
    with pytest.raises(LayerReadError) as exc:
        read_layer(path)
    message = str(exc.value)
    assert str(path) in message and "expands to 1.9 MiB" in message
    assert "976.6 KiB (landcheck.io.formats.MAX_EXPANDED_BYTES)" in message
    assert "Unzip it yourself" in message


def test_a_highly_compressed_big_member_is_refused(tmp_path, monkeypatch):
    path = zeros_kmz(tmp_path / "bomb.kmz", 2_000_000)  # about 2 KB compressed
    monkeypatch.setattr(formats, "RATIO_MIN_BYTES", 1_000_000)
    with pytest.raises(LayerReadError, match=r"member 'doc.kml' expands \d+ times.*MAX_RATIO"):
        read_layer(path)


def test_a_zipped_filegdb_within_the_limits_is_checked_and_read(tmp_path):
    gdb = write_layer(gpd_frame([shapely.box(CX, CY, CX + 1, CY + 1)], ["A"], "EPSG:4549"),
                      tmp_path / "a.gdb")
    zipped = tmp_path / "a.gdb.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        for part in sorted(gdb.rglob("*")):
            z.write(part, part.relative_to(tmp_path).as_posix())
    formats.check_zip_expansion(zipped)
    assert len(read_layer(zipped)) == 1
    assert read_layer(zipped, rows=[1])["id"].tolist() == ["A"]


def test_a_damaged_zip_is_a_layer_read_error(tmp_path):
    path = tmp_path / "broken.kmz"
    path.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(LayerReadError, match="not a readable zip file"):
        read_layer(path)


def test_a_symbolic_link_loop_is_a_layer_read_error(tmp_path):
    a, b = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(LayerReadError, match=r"a\.gpkg: is a loop of symbolic links"):
        read_layer(a)


def test_a_dangling_symbolic_link_names_its_target(tmp_path):
    link = tmp_path / "a.gpkg"
    link.symlink_to(tmp_path / "gone.gpkg")
    with pytest.raises(LayerReadError, match=r"symbolic link to .*gone\.gpkg.*does not exist"):
        read_layer(link)


def test_a_symbolic_link_loop_in_a_layer_config_is_a_config_problem(tmp_path):
    from landcheck.errors import ConfigError
    from landcheck.layers import LayerSet

    a, b = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(ConfigError, match="cannot be resolved"):
        LayerSet.from_dict({"patches": {"path": "a.gpkg"}}, base_dir=tmp_path)
