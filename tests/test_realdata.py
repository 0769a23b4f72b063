"""Acceptance tests on real public vector data (``shared/realdata/`` beside the repository).

Every vector layer of every GeoPackage there is read, measured with the official ellipsoidal
area and cross-checked against the geodesic area, against the layer's own area attribute where
it has one, and against the projection's scale factor. Origins, licences and the meaning of the
attributes are in each folder's SOURCE.md. The module is skipped when the folder is absent.

Measured tolerances are written next to each assertion; the bounds are set slightly above them.
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely

import landcheck
from landcheck.errors import CRSError, DuplicateIdError

REALDATA = Path(__file__).resolve().parents[2] / "shared/realdata"
if not REALDATA.is_dir():
    pytest.skip(f"real data not found at {REALDATA}", allow_module_level=True)

LAYERS = [(gpkg, name) for gpkg in sorted(REALDATA.glob("*/*.gpkg"))
          for name, _ in pyogrio.list_layers(gpkg)]
IDS = [f"{gpkg.parent.name}/{name}" for gpkg, name in LAYERS]
LPIS = REALDATA / "lpis_parcel_samples/lpis_parcel_samples.gpkg"
MAPBIOMAS = REALDATA / "brazil_mapbiomas_alerts_ti/mapbiomas_alerts_ti.gpkg"
CAR = REALDATA / "brazil_para_car_uc/para_car_uc.gpkg"
EULUC = REALDATA / "china_wuxi_xinwu_euluc/xinwu_euluc_landuse.gpkg"
RABA = REALDATA / "slovenia_eolearn_raba_ndvi/raba_lulc.gpkg"
RONDONIA = REALDATA / "rondonia_prodes_s2class/rondonia_patches.gpkg"

#: Official minus geodesic area, as measured on the raw vertices: (relative on the layer's
#: total, and the largest part beyond the standard's rounding of 0.01 m², relative, on one
#: feature of more than 100 m²: max((|official − geodesic| − 0.01 m²)/geodesic)).
#: Geographic layers (EPSG:4326, 4674, 4258, 6668) skip the plane steps: official edges are
#: straight in (L, F(B)) (formula (2)), geodesic edges are geodesics, and an edge with east
#: and north spans Δx, Δy encloses ~tan B/(12R)·(3ΔxΔy² + Δx³) between the two kinds (a
#: parallel bows by tan B·s²/(8R): 13.6 m² on a 1.9 km PRODES edge along 8.8°S). This does
#: not cancel on real parcels with one long side facing many short ones: up to 4.0e-4 on CAR
#: properties, 2.9e-5 on the totals of the two huge Indigenous Lands (edges of kilometres).
#: Projected layers go through survey3: pieces of at most 70 m straight in the plane, against
#: geodesics that bow in the projection by its scale gradient (curvature ≈ x·|Δy|/(s·R²) at
#: easting x from the central meridian, enclosing ~x·Δy·s²/(12R²) per edge of length s:
#: 0.70 m² on a Xinwu parcel 330 km east of UTM 50N's, 0.71 m² predicted), plus what the
#: 70 m pieces keep of the (L, F(B)) term (0.03 m² along a 390 m Flemish side), plus the
#: rounding of the plane coordinates to 4 decimals (0.084 m² on the 1 km Slovenian
#: patch_bbox, whose corners carry 8 decimals). Features under 100 m² agree to 0.01 m²
#: (measured ≤ 1.9e-3 m²). test_official_and_geodesic_agree_on_densified_edges shows
#: that on short (L, F(B)) edges the difference is the rounding and nothing else.
OFFICIAL_VS_GEODESIC = {
    "mapbiomas_alerts": (1.15e-07, 3.41e-06),
    "terras_indigenas": (2.89e-05, 2.91e-05),
    "car_imoveis": (1.55e-05, 4.00e-04),
    "unidades_conservacao": (9.95e-07, 3.39e-06),
    "euluc_land_use": (1.39e-09, 2.78e-05),
    "osm_water": (4.04e-07, 2.72e-06),
    "fr_rpg_contiguous": (1.35e-08, 5.86e-07),
    "nl_brp_gewaspercelen_2023": (5.58e-08, 1.49e-05),
    "nl_referentiepercelen_2023": (9.87e-07, 1.24e-05),
    "dk_marker_2026": (3.68e-09, 7.59e-07),
    "at_invekos_schlaege_2025": (2.13e-08, 2.22e-07),
    "fi_kasvulohko_2023": (4.75e-09, 1.14e-06),
    "de_bb_antrag": (4.29e-09, 1.49e-06),
    "be_vlg_landbouwgebruikspercelen_2023": (3.65e-08, 1.38e-05),
    "es_cat_cultius_dun_2023": (1.24e-08, 1.31e-07),
    "se_skiften_2023": (7.45e-08, 3.25e-08),
    "ie_gsaa_2024": (1.78e-07, 7.28e-06),
    "jp_fude_polygons_2024": (3.82e-09, 1.19e-05),
    "prodes_deforestation_patches": (2.46e-07, 1.13e-05),
    "s2_clearcut_patches_2020_2021": (4.47e-09, 7.11e-08),
    "raba_lulc": (7.93e-08, 1.63e-07),
    "patch_bbox": (8.59e-08, 7.60e-08),
}
#: The standard's rounding on one parcel (official areas are reported to 0.01 m²).
ROUNDING_M2 = 0.01
MARGIN = 1.5



@cache
def _read(gpkg: Path, name: str):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gdf = landcheck.read_layer(gpkg, layer=name, on_invalid="warn")
    return gdf, tuple(caught)


@cache
def _areas(gpkg: Path, name: str):
    gdf, _ = _read(gpkg, name)
    return (landcheck.official_area(gdf.geometry, crs=gdf.crs),
            landcheck.geodesic_area(gdf.geometry, crs=gdf.crs))


def layer(gpkg: Path, name: str):
    return _read(gpkg, name)[0]


def rel(a, b):
    return np.abs(np.asarray(a) - np.asarray(b)) / np.abs(np.asarray(b))


def representative_lonlat(gdf):
    points = gdf.geometry.representative_point().to_crs(gdf.crs.geodetic_crs)
    return points.x.to_numpy(), points.y.to_numpy()


# --- every layer --------------------------------------------------------------------------------


def test_every_layer_has_a_measured_tolerance():
    assert sorted(name for _, name in LAYERS) == sorted(OFFICIAL_VS_GEODESIC)


@pytest.mark.parametrize(("gpkg", "name"), LAYERS, ids=IDS)
def test_read_layer(gpkg, name):
    gdf, caught = _read(gpkg, name)
    meta = pyogrio.read_info(gpkg, layer=name)
    assert len(gdf) == meta["features"] > 0
    # the CRS is the file's, and SourceInfo says so
    assert gdf.crs == pyproj.CRS(meta["crs"])
    info = landcheck.source_info(gdf)
    assert (info.crs, info.crs_how, info.layer, info.driver) == (meta["crs"], "file", name, "GPKG")
    assert info.n_features == len(gdf)
    # SOURCE.md: all geometries are valid; no warning was needed
    geoms = gdf.geometry.values
    invalid = int((~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)).sum())
    empty = int((shapely.is_missing(geoms) | shapely.is_empty(geoms)).sum())
    assert (invalid, empty) == (0, 0)
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize(("gpkg", "name"), LAYERS, ids=IDS)
def test_official_area_agrees_with_geodesic_area(gpkg, name):
    official, geodesic = _areas(gpkg, name)
    total, worst = OFFICIAL_VS_GEODESIC[name]
    assert abs(official.sum() - geodesic.sum()) / geodesic.sum() <= max(MARGIN * total, 1e-8)
    big = geodesic > 100
    bound = ROUNDING_M2 + max(MARGIN * worst, 1e-8) * geodesic[big]
    assert (np.abs(official - geodesic)[big] <= bound).all()
    # the smallest features (down to 1.7e-5 m² in CAR) agree to the rounding
    assert np.abs(official - geodesic)[~big].max(initial=0.0) < ROUNDING_M2


@pytest.mark.parametrize(("gpkg", "name"), LAYERS, ids=IDS)
def test_official_and_geodesic_agree_on_densified_edges(gpkg, name):
    """Cut every edge into pieces of at most 1e-4° (~10 m) in (lon, lat): official edges
    (straight in (L, F(B)); geographic input, no plane steps) and geodesics then coincide, and
    the areas agree to the standard's seconds rounding, which grows with the number of
    vertices: measured ≤ 2.2e-3 m² on parcels, 0.020 m² on a 1.2 km² PRODES patch (629
    vertices) and on an Indigenous Land (90 659), and a total within 0.087 m² (PRODES,
    8.6e-10). CAR's huge polygons use 1e-3° (~110 m) to keep this fast: 0.90 m² on a
    1 250 km² property, 5.9e-8 of it beyond 0.01 m²."""
    gdf = layer(gpkg, name)
    lonlat = gdf.to_crs(gdf.crs.geodetic_crs)
    step = 1e-3 if name == "car_imoveis" else 1e-4
    dense = shapely.segmentize(np.asarray(lonlat.geometry.array), step)
    official = landcheck.official_area(dense, crs=lonlat.crs)
    geodesic = landcheck.geodesic_area(dense, crs=lonlat.crs)
    # totals: measured within 1e-8 relative or 0.0065 m² (the 100 Austrian parcels)
    assert abs(official.sum() - geodesic.sum()) <= 1e-8 * geodesic.sum() + ROUNDING_M2
    assert (np.abs(official - geodesic) <= ROUNDING_M2 + 1e-7 * geodesic).all()


@pytest.mark.parametrize(("gpkg", "name"), LAYERS, ids=IDS)
def test_planar_area_needs_a_projected_crs(gpkg, name):
    gdf = layer(gpkg, name)
    if gdf.crs.is_geographic:
        with pytest.raises(CRSError, match="geographic"):
            landcheck.planar_area(gdf.geometry, crs=gdf.crs)
    else:
        planar = landcheck.planar_area(gdf.geometry, crs=gdf.crs)
        np.testing.assert_array_equal(planar, gdf.geometry.area.to_numpy())


# --- the layers' own area attributes ----------------------------------------------------------


def test_mapbiomas_alertha():
    """ALERTHA: MapBiomas' alert area in ha with 4 decimals (1 m²), computed by MapBiomas on
    the ellipsoid. Measured official − ALERTHA: median −0.10 m², 5–95 % within −0.70..+0.38 m²,
    extremes −33.5 m² / +0.48 m² (a few alerts were edited after their area was recorded);
    total −6.6e-6."""
    gdf = layer(MAPBIOMAS, "mapbiomas_alerts")
    official, _ = _areas(MAPBIOMAS, "mapbiomas_alerts")
    diff = official - gdf["ALERTHA"].to_numpy() * 1e4
    assert abs(np.median(diff)) < 0.15
    assert np.quantile(np.abs(diff), 0.9) < 0.6
    assert np.abs(diff).max() < 35
    assert rel(official, gdf["ALERTHA"] * 1e4).max() < 5e-4
    assert abs(official.sum() / (gdf["ALERTHA"].sum() * 1e4) - 1) < 1e-5


def test_terras_indigenas_superficie():
    """superficie: FUNAI's legal (decree) area in ha, not measured on these polygons. Measured
    official/superficie − 1: −7.8e-4 (Parque do Xingu, 2.6 Mha) and +1.9e-2 (Rio das Cobras)."""
    gdf = layer(MAPBIOMAS, "terras_indigenas")
    official, _ = _areas(MAPBIOMAS, "terras_indigenas")
    ratio = official / (gdf["superficie"].to_numpy() * 1e4) - 1
    assert np.abs(ratio).max() < 0.02
    assert np.abs(ratio).min() < 1e-3
    # accented characters were lost upstream (SOURCE.md): kept as U+FFFD, not re-decoded
    assert gdf["etnia_nome"].str.contains("\ufffd").any()


def test_car_declared_area():
    """num_area: the owner's declared area in ha (SICAR), 5 records 0. Measured over the 4561
    others: |official/num_area − 1| median 4.6e-4, 95 % < 1.4e-3, 99 % < 1.8e-3; a few
    declarations are off by −48 %..+25 %."""
    gdf = layer(CAR, "car_imoveis")
    official, _ = _areas(CAR, "car_imoveis")
    declared = gdf["num_area"].to_numpy() * 1e4
    assert int((declared == 0).sum()) == 5
    ratio = np.abs(official[declared > 0] / declared[declared > 0] - 1)
    assert np.median(ratio) < 6e-4
    assert np.quantile(ratio, 0.95) < 1.6e-3
    assert np.quantile(ratio, 0.99) < 2.2e-3


def test_car_duplicate_codes_are_refused_by_name():
    with pytest.raises(DuplicateIdError) as exc:
        landcheck.read_layer(CAR, layer="car_imoveis", id_field="cod_imovel")
    message = str(exc.value)
    assert "para_car_uc.gpkg" in message and "car_imoveis" in message
    assert "3 duplicated id(s)" in message


def test_conservation_units_ha_total():
    """ha_total: the official UC area in ha, stored as text. Measured official/ha_total − 1:
    +1.24e-5 .. +1.72e-5 (ha_total is an ellipsoidal area too, of an older boundary version)."""
    gdf = layer(CAR, "unidades_conservacao")
    assert pd.api.types.is_string_dtype(gdf["ha_total"])
    official, _ = _areas(CAR, "unidades_conservacao")
    ratio = official / (gdf["ha_total"].astype(float).to_numpy() * 1e4) - 1
    assert ((ratio > 1e-5) & (ratio < 2e-5)).all(), ratio


def test_euluc_area_m2_is_planar_utm():
    """area_m2 was computed in EPSG:32650 (SOURCE.md): equal to the planar area (measured: 0).
    Xinwu lies 3.3–3.5° east of UTM 50N's central meridian, where planar areas are 0.18 %
    too large; official × areal scale at each parcel gives back the planar area (survey3
    measures the parcel straight in the plane; measured ≤ 2.1e-4 per parcel, on a 0.29 m²
    sliver where the standard's rounding, 6e-5 m², is all there is, ≤ 5.7 m² on one parcel
    — the areal scale is taken at one point of each parcel — and 2.4e-8 on the total)."""
    gdf = layer(EULUC, "euluc_land_use")
    planar = landcheck.planar_area(gdf.geometry, crs=gdf.crs)
    np.testing.assert_allclose(planar, gdf["area_m2"].to_numpy(), rtol=1e-12)
    official, _ = _areas(EULUC, "euluc_land_use")
    scale = pyproj.Proj(gdf.crs).get_factors(*representative_lonlat(gdf)).areal_scale
    assert ((scale - 1 > 1.5e-3) & (scale - 1 < 2.2e-3)).all()
    assert rel(official * scale, planar).max() < 4.5e-4
    assert abs((official * scale).sum() / planar.sum() - 1) < 5e-8


# LPIS: (layer, attribute, what it is, measured planar − attribute×1e4 in m²). The national
# systems store the planar area of the parcel in their national grid, rounded or truncated to
# the attribute's decimals, or an area declared in the aid application.
LPIS_AREAS = [
    # surf_parc: ha with 2 decimals, rounded: |d| ≤ 50 m² (measured 49.7)
    ("fr_rpg_contiguous", "surf_parc", -50.0, 50.0),
    # IMK_areal: ha with 2 decimals, truncated: 0 ≤ d < 100 m² (measured 0.12 .. 99.4)
    ("dk_marker_2026", "IMK_areal", 0.0, 100.0),
    # SL_FLAECHE_BRUTTO_HA: gross ha with 8 decimals: |d| ≤ 1e-4 m² (measured ≤ 1e-4)
    ("at_invekos_schlaege_2025", "SL_FLAECHE_BRUTTO_HA", -1.5e-4, 1.5e-4),
    # PINTA_ALA: ha with 2 decimals, from another geometry version: measured −69.6 .. +115.2
    ("fi_kasvulohko_2023", "PINTA_ALA", -75.0, 120.0),
    # groesse: ha with 4 decimals; 97 parcels within 0..1 m² (truncated), 3 redrawn ones
    # −20.3, −2.8, +5.0 m²
    ("de_bb_antrag", "groesse", -21.0, 5.5),
    # GRAF_OPP: graphic area, ha with 4 decimals, rounded: |d| ≤ 0.5 m² (measured 0.494)
    ("be_vlg_landbouwgebruikspercelen_2023", "GRAF_OPP", -0.5, 0.5),
    # ha: unrounded planar area (measured |d| ≤ 3.3e-7 m²)
    ("es_cat_cultius_dun_2023", "ha", -1e-6, 1e-6),
    # ansokt_are: area applied for, ha with 2 decimals: measured −49.8 .. +53.2
    ("se_skiften_2023", "ansokt_are", -55.0, 55.0),
]


@pytest.mark.parametrize(("name", "column", "low", "high"), LPIS_AREAS,
                         ids=[row[0] for row in LPIS_AREAS])
def test_lpis_area_attribute(name, column, low, high):
    gdf = layer(LPIS, name)
    planar = landcheck.planar_area(gdf.geometry, crs=gdf.crs)
    diff = planar - gdf[column].to_numpy(dtype=float) * 1e4
    assert low - 1e-9 <= diff.min() and diff.max() <= high + 1e-9, (diff.min(), diff.max())
    # official area = planar area / areal scale of the national grid at the parcel. survey3
    # measures the parcel straight in the plane (pieces ≤ 70 m), so what remains is the
    # scale's variation across the parcel (taken at one point; relative) and, in absolute
    # terms, what the 70 m pieces keep of the (L, F(B)) edge term and the rounding: measured
    # |official × scale − planar| − 2.5e-6 × planar ≤ 0.025 m² (a Flemish parcel with a 390 m
    # side), ≤ 0.006 m² on the other layers
    official, _ = _areas(LPIS, name)
    scale = pyproj.Proj(gdf.crs).get_factors(*representative_lonlat(gdf)).areal_scale
    assert (np.abs(official * scale - planar) <= 5 * ROUNDING_M2 + 3e-6 * planar).all()


def test_lpis_area_rounding_is_as_described():
    """The two rounding rules above, checked where they are sharp."""
    fr = layer(LPIS, "fr_rpg_contiguous")
    planar = landcheck.planar_area(fr.geometry, crs=fr.crs)
    np.testing.assert_array_equal(np.round(planar / 1e4, 2), fr["surf_parc"].to_numpy())
    dk = layer(LPIS, "dk_marker_2026")
    planar = landcheck.planar_area(dk.geometry, crs=dk.crs)
    np.testing.assert_array_equal(np.floor(planar / 100) / 100, dk["IMK_areal"].to_numpy())


def test_slovenia_area_is_planar_in_the_old_national_grid():
    """AREA (m², 4 decimals) is the planar area in D48/GK (EPSG:3912, Bessel, k0 = 0.9999),
    the grid RABA was published in. In UTM 33N (k0 = 0.9996, same central meridian 15°E)
    the planar area is smaller by (0.9996/0.9999)² − 1 = −6.0e-4 (measured −5.78e-4, the rest
    is the Bessel datum); transformed back to EPSG:3912 the areas agree to 2.3e-6 (1.1 m² on a
    68.5 ha forest, measured; the MGI 1901 transformation is good to ~1 m)."""
    gdf = layer(RABA, "raba_lulc")
    area = gdf["AREA"].to_numpy()
    planar_utm = landcheck.planar_area(gdf.geometry, crs=gdf.crs)
    ratio = planar_utm / area - 1
    assert ((ratio > -5.85e-4) & (ratio < -5.70e-4)).all()
    d48 = landcheck.to_crs(gdf, "EPSG:3912")
    planar_d48 = landcheck.planar_area(d48.geometry, crs=d48.crs)
    assert rel(planar_d48, area).max() < 3e-6
    assert abs(planar_d48.sum() / area.sum() - 1) < 2.5e-6
    # official (ellipsoidal) area is 1.9e-4 above AREA: 1/k0² of D48/GK less the datum
    # (measured 1.917e-4 .. 1.964e-4 on the features over 1000 m²), to the standard's
    # rounding on the smallest (a 29 m² feature is 1.77e-4 above: 2.4e-4 m² short of 1.85e-4)
    official, _ = _areas(RABA, "raba_lulc")
    assert (official >= area * (1 + 1.85e-4) - ROUNDING_M2).all()
    assert (official <= area * (1 + 2.2e-4) + ROUNDING_M2).all()


# --- reprojection and round trips ---------------------------------------------------------------


def test_brazilian_layer_into_its_utm_zone():
    """PRODES patches (SIRGAS 2000, EPSG:4674) near 62.6°W 8.8°S → SIRGAS 2000 / UTM 20S.
    survey2 (no plane steps) gives the same official area in either CRS: PROJ's inverse
    brings back the same seconds to the rounding of 1e-6″ (measured: identical). survey3
    cuts the UTM edges into pieces of at most 70 m straight in the plane, where the
    geographic layer's edges are straight in (L, F(B)): the two differ by tan B/(12R)·Σ(3ΔxΔy²
    + Δx³) (13.6 m², 1.13e-5, on a 1.2 km² patch with a 1.9 km side along a parallel; 2.4e-7
    on the total). The planar area is the official area times the UTM areal scale at the
    patch (measured ≤ 1.15e-5: the scale varies across the larger patches, and pixel edges are
    straight in degrees)."""
    gdf = layer(RONDONIA, "prodes_deforestation_patches")
    decision = landcheck.choose_working_crs([(gdf.crs, gdf.total_bounds)])
    assert decision.crs == pyproj.CRS("EPSG:31980")
    assert decision.how == "detected"
    utm = landcheck.to_crs(gdf, decision.crs)
    assert utm.crs == decision.crs and gdf.crs == pyproj.CRS("EPSG:4674")  # input untouched
    official, _ = _areas(RONDONIA, "prodes_deforestation_patches")
    survey2_utm = landcheck.official_area(utm.geometry, crs=utm.crs, method="survey2")
    assert rel(survey2_utm, official).max() < 1e-12
    official_utm = landcheck.official_area(utm.geometry, crs=utm.crs)
    # measured: within 0.084 m² of the estimate (a 21 km² patch with 87 km of outline: the
    # rest is the rounding of the UTM coordinates to 4 decimals)
    np.testing.assert_allclose(official - official_utm, sloping_edge_term(utm, gdf), rtol=0,
                               atol=0.15)
    assert rel(official_utm, official).max() < 1.5e-5
    assert abs(official_utm.sum() / official.sum() - 1) < 5e-7
    planar = landcheck.planar_area(utm.geometry, crs=utm.crs)
    scale = pyproj.Proj(decision.crs).get_factors(*representative_lonlat(gdf)).areal_scale
    assert ((scale - 1 > -7.7e-4) & (scale - 1 < -7.2e-4)).all()  # k0² = 0.9992 plus x²/R²
    assert rel(planar, official * scale).max() < 1.5e-5
    assert abs(planar.sum() / (official * scale).sum() - 1) < 1e-6


def sloping_edge_term(projected, geographic, radius=6_371_000.0):
    """tan B/(12R)·Σ(3ΔxΔy² + Δx³) per feature: survey2 minus survey3 on edges with plane
    spans Δx, Δy (rings oriented with the interior on their left), B at the feature."""
    lat = representative_lonlat(geographic)[1]
    out = np.zeros(len(projected))
    for i, geom in enumerate(projected.geometry.values):
        for poly in getattr(geom, "geoms", [geom]):
            for k, ring in enumerate([poly.exterior, *poly.interiors]):
                d = np.diff(np.asarray(ring.coords), axis=0)
                sign = (1.0 if ring.is_ccw else -1.0) * (1.0 if k == 0 else -1.0)
                out[i] += sign * float((3 * d[:, 0] * d[:, 1] ** 2 + d[:, 0] ** 3).sum())
    return np.tan(np.radians(lat)) / (12 * radius) * out


def _assert_round_trip(original, back):
    assert back.crs == original.crs
    assert list(back.columns) == list(original.columns)
    pd.testing.assert_frame_equal(pd.DataFrame(back.drop(columns="geometry")),
                                  pd.DataFrame(original.drop(columns="geometry")))
    assert shapely.equals_exact(back.geometry.values, original.geometry.values, 0).all()
    np.testing.assert_array_equal(landcheck.official_area(back.geometry, crs=back.crs),
                                  landcheck.official_area(original.geometry, crs=original.crs))


def test_round_trip_through_geopackage(tmp_path):
    gdf = layer(MAPBIOMAS, "mapbiomas_alerts")  # 56 fields: text, float, int, datetime
    path = landcheck.write_layer(gdf, tmp_path / "alerts.gpkg")
    back, caught = _read.__wrapped__(path, "alerts")
    assert caught == ()
    _assert_round_trip(gdf, back)


def test_round_trip_through_geoparquet(tmp_path):
    gdf = layer(MAPBIOMAS, "mapbiomas_alerts")
    path = landcheck.write_layer(gdf, tmp_path / "alerts.parquet")
    _assert_round_trip(gdf, landcheck.read_layer(path))


def test_round_trip_through_geoparquet_without_attrs(tmp_path):
    """What works today: the same frame with its attrs (the SourceInfo) cleared."""
    gdf = layer(MAPBIOMAS, "mapbiomas_alerts").copy()
    gdf.attrs = {}
    path = landcheck.write_layer(gdf, tmp_path / "alerts.parquet")
    back = landcheck.read_layer(path)
    assert landcheck.source_info(back).driver == "GeoParquet"
    _assert_round_trip(gdf, back)


# --- the edge integral --------------------------------------------------------------------------


def test_official_area_is_exact_for_edges_along_meridians_and_parallels():
    """Formula (2) takes an edge straight in (L, F(B)): along a meridian (L constant) or a
    parallel (B, hence F(B), constant) that is the meridian or the parallel itself, so points
    added on such edges leave the official area as it is, the seconds rounding included (it
    moves an added point along its meridian or parallel). The PRODES patches are pixel
    outlines in degrees, every edge along a meridian or a parallel: 702 673 points added,
    measured 8.2e-15 relative, 4.8e-8 m²."""
    gdf = layer(RONDONIA, "prodes_deforestation_patches")
    geoms = np.asarray(gdf.geometry.values)
    xy, ring = shapely.get_coordinates(shapely.get_rings(geoms), return_index=True)
    spans = np.diff(xy, axis=0)[ring[1:] == ring[:-1]]
    assert ((spans[:, 0] == 0) | (spans[:, 1] == 0)).all()
    split = shapely.segmentize(geoms, 1e-5)
    assert shapely.get_num_coordinates(split).sum() > shapely.get_num_coordinates(geoms).sum()
    before = landcheck.official_area(geoms, crs=gdf.crs)
    after = landcheck.official_area(split, crs=gdf.crs)
    np.testing.assert_allclose(after, before, rtol=1e-13, atol=0)


def test_points_on_sloping_lonlat_edges_change_the_official_area():
    """On a sloping edge, points added on the straight line in (lon, lat) move the official
    area from the edge straight in (L, F(B)) to the one straight in (L, B): by
    −tan B/(12R)·ΣΔxΔy² (east and north spans Δx, Δy, ring counter-clockwise). A thin Flemish
    parcel with a 390 m side, read in lon/lat: 2175.12 m² (survey3 in its own Lambert grid:
    2173.41, geodesic 2173.37); split into 1e-5° pieces 2174.85, the change −0.27037 m²
    against the estimate −0.27029 m² (measured)."""
    gdf = layer(LPIS, "be_vlg_landbouwgebruikspercelen_2023")
    crs = gdf.crs.geodetic_crs
    parcel = gdf.to_crs(crs).geometry.iloc[99]
    split = shapely.segmentize(parcel, 1e-5)
    before, after = landcheck.official_area([parcel, split], crs=crs)
    assert before == pytest.approx(2175.12, abs=0.01)
    lonlat = np.radians(np.asarray(parcel.exterior.coords))
    lat, radius = lonlat[:, 1].mean(), 6_371_000.0
    dx = np.diff(lonlat[:, 0]) * radius * np.cos(lat)
    dy = np.diff(lonlat[:, 1]) * radius
    sign = 1.0 if parcel.exterior.is_ccw else -1.0
    expected = -sign * np.tan(lat) / (12 * radius) * float((dx * dy**2).sum())
    assert after - before == pytest.approx(expected, rel=0.01, abs=0.001)


#: Real outlines measured against each other from their outlines (geometry.pairarea) and by
#: GEOS's intersection: (file, layer a, layer b). Land use with OSM water, and layers against
#: themselves, where neighbours share edges and vertices (decided exactly, with one outline
#: shifted by an infinitesimal) and overlapping properties cross at every angle. The
#: criterion is the project's: the overlap equals the official area of the GEOS piece to
#: 0.01 m² (SAME_AREA_M2), whatever extra vertices (touching points) the piece carries.
#: Geographic layers are measured in their UTM zone, as screening measures in a projected
#: working CRS: in degrees the method has no plane steps, so a vertex added on a kilometre-long
#: edge moves the area (one Pará pair, two outlines running along each other 3e-14° apart
#: with different vertices: 55.27 m² apart in EPSG:4674, 0.0045 m² in UTM 22S, where the
#: 70 m densification makes the pieces short). Measured: ≤ 2.1e-8 m² on the Xinwu,
#: MapBiomas and French layers; Pará in the test's comment.
OVERLAP_CASES = [
    (EULUC, "euluc_land_use", "osm_water"),
    (EULUC, "euluc_land_use", "euluc_land_use"),
    (CAR, "car_imoveis", "car_imoveis"),
    (MAPBIOMAS, "mapbiomas_alerts", "mapbiomas_alerts"),
    (LPIS, "fr_rpg_contiguous", "fr_rpg_contiguous"),
]


@pytest.mark.parametrize(("gpkg", "name_a", "name_b"), OVERLAP_CASES,
                         ids=[f"{a}-x-{b}" for _, a, b in OVERLAP_CASES])
def test_intersection_areas_from_outlines_agree_with_geos(gpkg, name_a, name_b):
    from landcheck.geometry.pairarea import overlap_areas

    a_gdf, b_gdf = layer(gpkg, name_a), layer(gpkg, name_b)
    if a_gdf.crs.is_geographic:
        utm = a_gdf.estimate_utm_crs()
        a_gdf, b_gdf = a_gdf.to_crs(utm), b_gdf.to_crs(utm)
    a = np.asarray(a_gdf.geometry.values, dtype=object)
    b = np.asarray(b_gdf.geometry.values, dtype=object)
    a, b = a[shapely.is_valid(a)], b[shapely.is_valid(b)]
    pa, pb = shapely.STRtree(b).query(a, predicate="intersects")
    measured, inside = overlap_areas(a[pa], b[pb], crs=a_gdf.crs)
    pieces = shapely.intersection(a[pa], b[pb])
    reference = landcheck.official_area(pieces, crs=a_gdf.crs)
    assert len(pa) > 100
    # where the two outlines carry different vertices (outlines digitised along each other),
    # each is rounded to the 1e-4 m grid on its own: a vertex moves ≤ 5e-5·√2 m, the area
    # ≤ that times the perimeter. Measured on the Pará pairs: 4 of 20,926 pieces over 1 m²
    # beyond 0.01 m² (at most 0.022 m², on a 1.8 km² piece), and ≤ 1.6e-5 m × perimeter
    diff = np.abs(measured - reference)
    assert (diff <= 0.01 + 5e-5 * np.sqrt(2) * shapely.length(pieces)).all()
    assert np.mean(diff[reference > 1.0] <= 0.01) > 0.999
    assert shapely.covers(b[pb[inside]], a[pa[inside]]).all()


@pytest.mark.parametrize("difference", [False, True], ids=["intersection", "difference"])
@pytest.mark.parametrize(("gpkg", "name_a", "name_b"), OVERLAP_CASES,
                         ids=[f"{a}-x-{b}" for _, a, b in OVERLAP_CASES])
def test_pieces_built_from_outlines_are_geos_regions(gpkg, name_a, name_b, difference):
    """landcheck.geometry.pairclip on real outlines (shared edges, touching neighbours, overlaps at
    every angle): every result is valid and covers GEOS's region up to 1e-9 of the patch
    (pairs not in general position are GEOS's own result). Measured: the symmetric
    difference with GEOS's region is at most 1.4e-12 of a's area (Pará properties); of the
    24,472 Pará pairs 1,496 intersections and 5,245 differences went to GEOS, of 2,037 Xinwu
    land-use pairs with themselves (neighbours sharing edges) 52 and 2,034."""
    from landcheck.geometry.pairclip import clip_pairs

    a_gdf, b_gdf = layer(gpkg, name_a), layer(gpkg, name_b)
    a = np.asarray(a_gdf.geometry.values, dtype=object)
    b = np.asarray(b_gdf.geometry.values, dtype=object)
    a, b = a[shapely.is_valid(a)], b[shapely.is_valid(b)]
    pa, pb = shapely.STRtree(b).query(a, predicate="intersects")
    got = clip_pairs(a[pa], b[pb], difference=difference)
    expect = (shapely.difference if difference else shapely.intersection)(a[pa], b[pb])
    has = ~shapely.is_missing(got)
    assert shapely.is_valid(got[has]).all()
    gap = shapely.area(shapely.symmetric_difference(
        np.where(has, got, shapely.Polygon()), expect))
    assert (gap <= 1e-9 * np.maximum(shapely.area(a[pa]), 1.0)).all()
