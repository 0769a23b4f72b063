"""Tests for landcheck.crs: GK codes, CRS decisions, bounds checks, transformations."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from pyproj import CRS, Transformer
from pyproj.transformer import TransformerGroup
from shapely import Point, box

from landcheck import crs as lc
from landcheck.errors import (
    AmbiguousCRSError,
    CRSError,
    CRSWarning,
    InputError,
    TransformationError,
)

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
NO_REALDATA = f"real data not found at {REALDATA} (the shared folder beside the project)"
A_XIAN80 = 6378140.0  # IAG 1975 semi-major axis (Xian 1980)
A_CGCS2000 = 6378137.0

# A 10 km square in CGCS2000 zone 39 (Hefei-ish), prefixed and unprefixed eastings.
PREFIXED_39 = (39_500_000.0, 3_480_000.0, 39_510_000.0, 3_490_000.0)
UNPREFIXED = (500_000.0, 3_480_000.0, 510_000.0, 3_490_000.0)
LONLAT_CN = (117.1, 31.4, 117.3, 31.5)


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _params(crs: CRS) -> dict:
    return {p.name: p.value for p in crs.coordinate_operation.params}


def _project(crs, lon_lat_bounds):
    """Bounds of a lon/lat box (CGCS2000) in ``crs``."""
    t = Transformer.from_crs(4490, crs, always_xy=True)
    return t.transform_bounds(*lon_lat_bounds)


# --- GK EPSG codes, checked against PROJ's own definitions ---------------------------------


@pytest.mark.parametrize("prefixed", [True, False])
@pytest.mark.parametrize("zone", range(25, 46))
def test_gk3_codes_match_pyproj(zone, prefixed):
    crs = lc.gk_crs(zone=zone, prefixed=prefixed)
    p = _params(crs)
    assert crs.to_epsg() == (4488 if prefixed else 4509) + zone
    assert crs.name == (f"CGCS2000 / 3-degree Gauss-Kruger zone {zone}" if prefixed
                        else f"CGCS2000 / 3-degree Gauss-Kruger CM {3 * zone}E")
    assert p["Longitude of natural origin"] == 3 * zone
    assert p["False easting"] == (zone * 1_000_000 + 500_000 if prefixed else 500_000)
    assert p["Scale factor at natural origin"] == 1
    assert crs.datum.name == "China 2000"
    assert lc.gk_crs(central_meridian=3 * zone, prefixed=prefixed) == crs


@pytest.mark.parametrize("prefixed", [True, False])
@pytest.mark.parametrize("zone", range(13, 24))
def test_gk6_codes_match_pyproj(zone, prefixed):
    crs = lc.gk_crs(zone=zone, zone_width=6, prefixed=prefixed)
    p = _params(crs)
    assert crs.to_epsg() == (4478 if prefixed else 4489) + zone
    assert crs.name == (f"CGCS2000 / Gauss-Kruger zone {zone}" if prefixed
                        else f"CGCS2000 / Gauss-Kruger CM {6 * zone - 3}E")
    assert p["Longitude of natural origin"] == 6 * zone - 3
    assert p["False easting"] == (zone * 1_000_000 + 500_000 if prefixed else 500_000)
    assert lc.gk_crs(central_meridian=6 * zone - 3, zone_width=6, prefixed=prefixed) == crs


@pytest.mark.parametrize(
    "kwargs",
    [dict(zone=50), dict(zone=24), dict(central_meridian=118), dict(zone=39, central_meridian=120),
     dict(zone=20, zone_width=4), dict(zone=39, zone_width=6), dict()],
)
def test_gk_crs_rejects_bad_hints(kwargs):
    with pytest.raises(CRSError):
        lc.gk_crs(**kwargs)


@pytest.mark.parametrize(
    ("lon", "width", "zone"),
    [(117.0, 3, 39), (115.5, 3, 39), (118.49, 3, 39), (118.5, 3, 40), (120.4, 3, 40),
     (75.0, 3, 25), (117.0, 6, 20), (114.0, 6, 20), (113.99, 6, 19), (-55.0, 6, -9)],
)
def test_zone_for_lon(lon, width, zone):
    assert lc.zone_for_lon(lon, zone_width=width) == zone


# --- deciding a layer's CRS ---------------------------------------------------------------


def test_detects_prefixed_3_degree_zone():
    with pytest.warns(CRSWarning, match=r"patches\.shp.*39xxxxxx.*EPSG:4527"):
        d = lc.resolve_crs(None, PREFIXED_39, source="patches.shp")
    assert (d.label(), d.how) == ("EPSG:4527", "detected")
    assert "39xxxxxx" in d.detail


def test_detects_prefixed_6_degree_zone():
    bounds = (20_500_000.0, 3_480_000.0, 20_510_000.0, 3_490_000.0)
    with pytest.warns(CRSWarning, match="20xxxxxx"):
        d = lc.resolve_crs(None, bounds)
    assert d.label() == "EPSG:4498"


def test_detects_geographic_as_cgcs2000_with_warning():
    with pytest.warns(CRSWarning, match="EPSG:4490.*assumed"):
        d = lc.resolve_crs(None, LONLAT_CN, source="a.shp")
    assert (d.label(), d.how) == ("EPSG:4490", "detected")


def test_unprefixed_eastings_are_ambiguous():
    with pytest.raises(AmbiguousCRSError, match="zone") as err:
        lc.resolve_crs(None, UNPREFIXED, source="farmland.shp")
    msg = str(err.value)
    assert "farmland.shp" in msg and "central_meridian" in msg and "`zone`" in msg


@pytest.mark.skipif(not (REALDATA / "china_wuxi_xinwu_euluc").exists(),
                    reason=NO_REALDATA)
def test_real_utm_layer_stripped_of_its_crs_is_ambiguous():
    import pyogrio

    info = pyogrio.read_info(REALDATA / "china_wuxi_xinwu_euluc" / "xinwu_euluc_landuse.gpkg",
                             layer="euluc_land_use")
    with pytest.raises(AmbiguousCRSError):
        lc.resolve_crs(None, info["total_bounds"])


@pytest.mark.parametrize(
    ("hint", "label"),
    [(dict(zone=39), "EPSG:4548"), (dict(central_meridian=117), "EPSG:4548"),
     (dict(zone=39, central_meridian=117), "EPSG:4548"),
     (dict(zone=20, zone_width=6), "EPSG:4509")],
)
def test_zone_hint_for_unprefixed_eastings(hint, label, no_warnings):
    d = lc.resolve_crs(None, UNPREFIXED, **hint)
    assert (d.label(), d.how) == (label, "argument")


def test_zone_hint_agreeing_with_prefix_gives_prefixed_crs(no_warnings):
    assert lc.resolve_crs(None, PREFIXED_39, zone=39).label() == "EPSG:4527"


def test_zone_hint_contradicting_prefix_is_an_error():
    bounds = (40_500_000.0, 3_480_000.0, 40_510_000.0, 3_490_000.0)
    with pytest.raises(CRSError, match=r"x\.shp: zone=39.*zone 40"):
        lc.resolve_crs(None, bounds, zone=39, source="x.shp")


def test_features_in_two_prefixed_zones_are_an_error():
    with pytest.raises(CRSError, match="39 and 40"):
        lc.resolve_crs(None, (39_900_000.0, 3_480_000.0, 40_100_000.0, 3_490_000.0))


def test_zone_hint_does_not_override_lon_lat_data():
    with pytest.warns(CRSWarning):
        assert lc.resolve_crs(None, LONLAT_CN, zone=39).label() == "EPSG:4490"


def test_unrecognisable_coordinates_are_an_error():
    rd_new = (62_457.7, 346_308.5, 252_276.3, 585_260.3)  # Dutch RD coordinates, no .prj
    with pytest.raises(CRSError, match="neither lon/lat") as err:
        lc.resolve_crs(None, rd_new, source="nl.shp")
    assert not isinstance(err.value, AmbiguousCRSError)


def test_empty_layer_without_crs():
    empty = (math.nan,) * 4
    with pytest.warns(CRSWarning, match="empty"):
        assert lc.resolve_crs(None, empty).label() == "EPSG:4490"
    assert lc.resolve_crs(None, empty, zone=39).label() == "EPSG:4548"


def test_file_crs_is_used(no_warnings):
    d = lc.resolve_crs(CRS(4527), PREFIXED_39)
    assert (d.label(), d.how) == ("EPSG:4527", "file")


def test_declared_crs_overrides_a_different_file_crs():
    with pytest.warns(CRSWarning, match=r"a\.gpkg.*EPSG:4326.*EPSG:4490"):
        d = lc.resolve_crs(CRS(4326), LONLAT_CN, declared="EPSG:4490", source="a.gpkg")
    assert (d.label(), d.how) == ("EPSG:4490", "argument")


def test_declared_crs_equal_to_an_esri_prj_does_not_warn(no_warnings):
    esri = (
        'PROJCS["CGCS2000_3_Degree_GK_Zone_39",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",'
        'DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],'
        'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],'
        'PARAMETER["False_Easting",39500000.0],PARAMETER["False_Northing",0.0],'
        'PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],'
        'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
    )
    assert lc.resolve_crs(CRS(esri), PREFIXED_39, declared=4527).label() == "EPSG:4527"
    lc.check_bounds(CRS(esri), PREFIXED_39)  # area of use found through the EPSG match


def test_declared_crs_must_be_understood():
    with pytest.raises(CRSError, match=r"a\.shp.*not a CRS"):
        lc.resolve_crs(None, LONLAT_CN, declared="EPSG:123456789", source="a.shp")


# --- bounds checks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("crs", "bounds", "pattern"),
    [
        (4490, (31.4, 117.1, 31.5, 117.2), r"swapped \(lat, lon\)"),
        (4258, (52.0, 5.0, 53.0, 6.0), r"swapped \(lat, lon\)"),  # Europe: both below 90
        (4527, (3_480_000, 39_500_000, 3_490_000, 39_510_000), "northing/easting"),
        (4548, (3_480_000, 500_000, 3_490_000, 510_000), "northing/easting"),
        (32650, (3_484_000, 813_918, 3_499_000, 834_100), "northing/easting"),
    ],
)
def test_swapped_axes(crs, bounds, pattern):
    with pytest.raises(CRSError, match=pattern):
        lc.check_bounds(crs, bounds, source="x.gpkg")


def test_swapped_prefixed_axes_without_crs():
    with pytest.raises(CRSError, match="northing/easting"):
        lc.resolve_crs(None, (3_480_000, 39_500_000, 3_490_000, 39_510_000))


def test_metres_in_a_geographic_crs():
    with pytest.raises(CRSError, match="look projected"):
        lc.check_bounds(4490, PREFIXED_39)


@pytest.mark.parametrize(
    ("crs", "bounds"),
    [
        (4527, (40_500_000, 3_480_000, 40_510_000, 3_490_000)),  # zone 40 data, zone 39 CRS
        (4490, (-55.2, -10.1, -54.9, -9.8)),  # Brazilian coordinates
        (4674, LONLAT_CN),  # SIRGAS 2000 on Chinese data
        (32650, (200_000, 6_000_000, 300_000, 6_100_000)),  # far north-west of zone 50N
    ],
)
def test_outside_area_of_use(crs, bounds):
    with pytest.raises(CRSError, match="outside the area of use") as err:
        lc.check_bounds(crs, bounds, source="x.gpkg")
    assert "x.gpkg" in str(err.value) and f"EPSG:{crs}" in str(err.value)


def test_declared_zone_checked_against_data():
    with pytest.raises(CRSError, match=r"outside the area of use.*declared crs EPSG:4527"):
        lc.resolve_crs(None, (40_500_000, 3_480_000, 40_510_000, 3_490_000), declared=4527)


def test_detected_lon_lat_outside_china_is_an_error():
    with pytest.raises(CRSError, match="outside the area of use of EPSG:4490"):
        lc.resolve_crs(None, (-55.2, -10.1, -54.9, -9.8), source="brazil.shp")


@pytest.mark.parametrize(("east", "ok"), [(119.9, True), (120.1, False)])
def test_area_tolerance(east, ok):
    # EPSG:4548 covers 115.5–118.5°E; data may spill over by AREA_TOLERANCE_DEG (1.5°).
    assert lc.AREA_TOLERANCE_DEG == 1.5
    bounds = _project(4548, (117.0, 31.0, east, 31.1))
    if ok:
        lc.check_bounds(4548, bounds)
    else:
        with pytest.raises(CRSError, match="outside"):
            lc.check_bounds(4548, bounds)


def test_empty_bounds_pass():
    lc.check_bounds(4527, (math.nan,) * 4)


def _real_layers():
    if not REALDATA.exists():
        return []
    import pyogrio

    return [
        pytest.param(path, name, id=f"{path.parent.name}:{name}")
        for path in sorted(REALDATA.glob("*/*.gpkg"))
        for name, _ in pyogrio.list_layers(path)
    ]


@pytest.mark.skipif(not REALDATA.exists(),
                    reason=NO_REALDATA)
@pytest.mark.parametrize(("path", "layer"), _real_layers())
def test_no_false_positive_on_real_layers(path, layer, no_warnings):
    import pyogrio

    info = pyogrio.read_info(path, layer=layer)
    file_crs = CRS.from_user_input(info["crs"])
    d = lc.resolve_crs(file_crs, info["total_bounds"], source=f"{path}:{layer}")
    assert d.how == "file" and d.crs == file_crs
    assert lc.resolve_crs(file_crs, info["total_bounds"], declared=info["crs"]).crs == file_crs


# --- transformations ----------------------------------------------------------------------


def test_zone_to_geographic_is_exact(no_warnings):
    lon, lat = lc.make_transformer(4527, 4490).transform(39_500_000.0, 3_480_000.0)
    assert lon == pytest.approx(117.0, abs=1e-12)  # easting = false easting → central meridian
    assert 31 < lat < 32


def test_prefixed_to_unprefixed_drops_the_prefix(no_warnings):
    x, y = lc.make_transformer(4527, 4548).transform(39_512_345.678, 3_456_789.0)
    assert (x, y) == pytest.approx((512_345.678, 3_456_789.0), abs=1e-6)


@pytest.mark.parametrize(("src", "dst"), [(2384, 4548), (4610, 4490), (4214, 4490), (4258, 4490)])
def test_ballpark_datum_shift_is_refused(src, dst):
    with pytest.raises(TransformationError, match=r"old\.shp.*ballpark.*helmert") as err:
        lc.make_transformer(src, dst, source="old.shp")
    assert "arc-seconds" in str(err.value) and "position_vector" in str(err.value)


def test_proj_reports_wgs84_cgcs2000_as_ballpark():
    # If PROJ ever publishes a real WGS 84 → CGCS2000 operation, revisit the policy.
    op = TransformerGroup(4326, 4490, always_xy=True).transformers[0]
    assert op.accuracy == -1 and "Ballpark" in op.description


@pytest.mark.parametrize(("src", "dst"), [(4326, 4490), (4490, 4326), (32650, 4527)])
def test_wgs84_cgcs2000_allowed_with_warning(src, dst):
    with pytest.warns(CRSWarning, match="WGS 84 and CGCS2000"):
        t = lc.make_transformer(src, dst)
    if src in (4326, 4490) and dst in (4326, 4490):
        assert t.transform(117.25, 31.75) == pytest.approx((117.25, 31.75), abs=1e-12)


@pytest.mark.parametrize(("src", "dst"), [(4258, 4326), (4674, 4326), (4674, 31981), (6668, 4326)])
def test_known_accuracy_shifts_are_allowed(src, dst, no_warnings):
    assert lc.make_transformer(src, dst).accuracy in (0.0, 1.0)


def test_helmert_translation_hand_case(no_warnings):
    # ty = 100 m at lon 0, lat 0: the point (a, 0, 0) moves to (a, 100, 0), i.e. due east,
    # to longitude atan(100 / a) on the equator.
    t = lc.make_transformer(4610, 4490, helmert=dict(tx=0, ty=100, tz=0))
    lon, lat = t.transform(0.0, 0.0)
    assert math.radians(lon - math.degrees(math.atan2(100, A_XIAN80))) * A_CGCS2000 == (
        pytest.approx(0, abs=1e-3))
    assert lat == pytest.approx(0, abs=1e-12)
    assert math.radians(lon) * A_XIAN80 == pytest.approx(100, abs=1e-3)  # 100 m of arc


def test_helmert_x_translation_at_90_east_moves_west(no_warnings):
    lon, lat = lc.make_transformer(4610, 4490, helmert=dict(tx=100, ty=0, tz=0)).transform(90, 0)
    assert lon == pytest.approx(90 - math.degrees(math.atan2(100, A_XIAN80)), abs=1e-11)
    assert lat == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize(("convention", "sign"), [("position_vector", 1),
                                                  ("coordinate_frame", -1)])
def test_helmert_rotation_convention(convention, sign, no_warnings):
    # rz = 1″ turns the point (0, a, 0) about the Z axis: longitude changes by ±1″.
    helmert = dict(tx=0, ty=0, tz=0, rx=0, ry=0, rz=1, s=0, convention=convention)
    lon, _ = lc.make_transformer(4610, 4490, helmert=helmert).transform(90, 0)
    assert (lon - 90) * 3600 == pytest.approx(sign * 1.0, abs=1e-6)


def test_helmert_projected_round_trip(no_warnings):
    helmert = dict(tx=-20.5, ty=105.3, tz=60.1, rx=0.5, ry=-0.8, rz=0.9, s=1.5,
                   convention="coordinate_frame")
    t = lc.make_transformer(2384, 4548, helmert=helmert)
    x, y = t.transform(512_345.0, 3_480_000.0)
    assert 50 < math.hypot(x - 512_345.0, y - 3_480_000.0) < 300  # a real shift happened
    back = t.transform(x, y, direction="INVERSE")
    assert back == pytest.approx((512_345.0, 3_480_000.0), abs=1e-3)


def test_helmert_scale_only_accepts_numpy_numbers(no_warnings):
    # s = 10 ppm at lon 90, lat 0 only scales the geocentric vector: lon/lat unchanged.
    import numpy as np

    t = lc.make_transformer(4610, 4490, helmert=dict(tx=0, ty=np.float64(0), tz=0, s=10.0))
    assert "s=10.0" in t.definition and "np." not in t.definition
    assert t.transform(90, 0) == pytest.approx((90, 0), abs=1e-12)


def test_helmert_is_not_applied_within_one_datum(no_warnings):
    t = lc.make_transformer(4527, 4548, helmert=dict(tx=100, ty=100, tz=100))
    assert t.transform(39_512_345.0, 3_480_000.0) == pytest.approx((512_345.0, 3_480_000.0))


@pytest.mark.parametrize(
    "helmert",
    [dict(tx=1, ty=2), dict(tx=1, ty=2, tz=3, dx=4), dict(tx=1, ty=2, tz=3, rz=1),
     dict(tx=1, ty=2, tz=3, rz=1, convention="bursa"), dict(tx="1", ty=2, tz=3),
     dict(tx=True, ty=2, tz=3), [1, 2, 3]],
)
def test_bad_helmert_is_rejected(helmert):
    with pytest.raises(InputError, match="helmert"):
        lc.make_transformer(4610, 4490, helmert=helmert)


# --- to_crs -------------------------------------------------------------------------------


@pytest.fixture
def zone39_frame():
    g = gpd.GeoDataFrame(
        {"code": ["0101", "0102"], "area_m2": [1.0e4, 2.5e3]},
        geometry=[box(39_500_000, 3_480_000, 39_500_100, 3_480_100), Point(39_501_000, 3_481_000)],
        index=["a", "b"], crs="EPSG:4527",
    )
    g.attrs["source"] = "patches.shp"
    return g


def test_to_crs_returns_new_frame_and_leaves_input(zone39_frame, no_warnings):
    before = zone39_frame.copy()
    out = lc.to_crs(zone39_frame, 4548)
    assert out is not zone39_frame
    assert out.crs.to_epsg() == 4548 and zone39_frame.crs.to_epsg() == 4527
    assert list(out.columns) == list(zone39_frame.columns)
    assert list(out.index) == ["a", "b"] and out.attrs == {"source": "patches.shp"}
    assert out["code"].tolist() == ["0101", "0102"]
    assert out.geometry.iloc[0].bounds == pytest.approx((500_000, 3_480_000, 500_100, 3_480_100))
    assert (out.geometry.iloc[1].x, out.geometry.iloc[1].y) == pytest.approx((501_000, 3_481_000))
    assert shapely.equals(zone39_frame.geometry.values, before.geometry.values).all()


def test_to_crs_same_crs_copies(zone39_frame, no_warnings):
    out = lc.to_crs(zone39_frame, "EPSG:4527")
    assert out is not zone39_frame
    assert shapely.equals(out.geometry.values, zone39_frame.geometry.values).all()
    out.loc["a", "code"] = "9999"
    assert zone39_frame.loc["a", "code"] == "0101"


def test_to_crs_keeps_z(no_warnings):
    g = gpd.GeoDataFrame(geometry=[Point(39_500_000, 3_480_000, 12.5)], crs=4527)
    p = lc.to_crs(g, 4548).geometry.iloc[0]
    assert (p.x, p.y, p.z) == pytest.approx((500_000, 3_480_000, 12.5))


def test_to_crs_needs_a_crs():
    with pytest.raises(CRSError, match=r"p\.shp.*no CRS"):
        lc.to_crs(gpd.GeoDataFrame(geometry=[Point(0, 0)]), 4490, source="p.shp")


def test_to_crs_refuses_xian80_without_helmert_and_uses_it_when_given():
    g = gpd.GeoDataFrame(geometry=[Point(117.0, 31.0)], crs=4610)
    with pytest.raises(TransformationError):
        lc.to_crs(g, 4490)
    helmert = dict(tx=-20.0, ty=100.0, tz=50.0)
    out = lc.to_crs(g, 4490, helmert=helmert)
    expected = lc.make_transformer(4610, 4490, helmert=helmert).transform(117.0, 31.0)
    assert out.crs.to_epsg() == 4490
    assert (out.geometry.iloc[0].x, out.geometry.iloc[0].y) == pytest.approx(expected, abs=1e-12)
    assert out.geometry.iloc[0].x != pytest.approx(117.0, abs=1e-5)


def test_to_crs_reports_untransformable_features():
    g = gpd.GeoDataFrame(geometry=[Point(117, 31), Point(117, 95)], index=["ok", "bad"], crs=4490)
    with pytest.raises(TransformationError, match=r"1 feature.*'bad'"):
        lc.to_crs(g, 4527)


# --- working CRS --------------------------------------------------------------------------


def test_working_crs_declared(no_warnings):
    d = lc.choose_working_crs([(4490, LONLAT_CN)], declared="EPSG:4548")
    assert (d.label(), d.how) == ("EPSG:4548", "argument")


@pytest.mark.parametrize("declared", [4490, 2263])  # geographic; US survey feet
def test_working_crs_declared_must_be_projected_metres(declared):
    with pytest.raises(CRSError, match="projected"):
        lc.choose_working_crs([], declared=declared)


def test_working_crs_declared_web_mercator_warns():
    with pytest.warns(CRSWarning, match="Web Mercator"):
        lc.choose_working_crs([], declared=3857)


def test_working_crs_is_first_projected_input(no_warnings):
    inputs = [(4490, LONLAT_CN), (4548, UNPREFIXED), (4527, PREFIXED_39)]
    d = lc.choose_working_crs(inputs)
    assert (d.label(), d.how) == ("EPSG:4548", "file")


def test_working_crs_passes_over_legacy_datums(no_warnings):
    xian_cm117 = (2384, UNPREFIXED)
    assert lc.choose_working_crs([xian_cm117, (4548, UNPREFIXED)]).label() == "EPSG:4548"
    assert lc.choose_working_crs([xian_cm117, (4490, LONLAT_CN)]).label() == "EPSG:2384"


@pytest.mark.parametrize(
    ("inputs", "label"),
    [
        ([(4490, LONLAT_CN)], "EPSG:4527"),
        ([(4490, (120.3, 31.5, 120.6, 31.7))], "EPSG:4528"),
        ([(4326, LONLAT_CN), (4490, (math.nan,) * 4)], "EPSG:4527"),  # any CGCS2000 input
        ([(3857, (1.3e7, 3.6e6, 1.31e7, 3.61e6)), (4490, LONLAT_CN)], "EPSG:4527"),
        ([(4326, (106.27, 29.38, 106.32, 29.45))], "EPSG:32648"),
        ([(4674, (-62.67, -8.83, -62.50, -8.70))], "EPSG:31980"),  # SIRGAS 2000 / UTM 20S
        ([(6668, (141.26, 43.03, 141.43, 43.17))], "EPSG:6691"),  # JGD2011 / UTM 54N
        ([(4258, (-6.68, 53.58, -6.18, 54.11))], "EPSG:25829"),  # ETRS89 / UTM 29N
        ([(4283, (148.9, -35.4, 149.2, -35.2))], "EPSG:32755"),  # no "GDA94 / UTM" → WGS 84
    ],
)
def test_working_crs_from_data_centre(inputs, label, no_warnings):
    d = lc.choose_working_crs(inputs)
    assert (d.label(), d.how) == (label, "detected")


def test_working_crs_needs_some_coordinates():
    with pytest.raises(CRSError, match="declare the working CRS"):
        lc.choose_working_crs([(4490, (math.nan,) * 4)])


def test_decision_label_and_repr():
    d = lc.CRSDecision(CRS.from_proj4("+proj=tmerc +lon_0=117 +ellps=GRS80"), "argument", "x")
    assert d.label() == d.crs.name
    assert repr(lc.CRSDecision(CRS(4527), "file", "f")).startswith("CRSDecision(crs=EPSG:4527")
