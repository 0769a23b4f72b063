"""Official ellipsoidal area (图斑椭球面积) of parcels, and area unit conversions.

Chinese land surveys report parcel areas (``TBMJ``) on the ellipsoid, by the method of
《图幅理论面积与图斑椭球面积计算公式及要求》 (国土调查办发〔2008〕32号) as the third national
land survey's evaluation software applies it. :func:`official_area` reproduces it; the steps
and their sources are in ``docs/area.md``:

1. plane coordinates rounded to 4 decimals (third survey);
2. every edge longer than 70 m gets ``floor(length / 70)`` interior points, evenly spaced
   in the plane, rounded to 6 decimals (third survey);
3. every point inverse-projected by the 32号 Gauss–Krüger series (section 三) with the
   printed constants (section 四, CGCS2000 values of the evaluation material);
4. latitude and longitude rounded to 1e-6 arc second (ρ = 206264.8062471);
5. per edge, formula (2): ``S = 2b²ΔL[A sin(ΔB/2) cos Bm − B sin(3ΔB/2) cos 3Bm + C sin(5ΔB/2)
   cos 5Bm − D sin(7ΔB/2) cos 7Bm + E sin(9ΔB/2) cos 9Bm]`` with ``ΔL`` the edge's mean
   longitude minus a reference meridian, ``ΔB = B₂ − B₁``, ``Bm = (B₁ + B₂)/2``; a ring's
   area is ``|ΣS|``, holes subtract, parts add.

:data:`AREA_METHODS` names the variants: ``survey3`` (all five steps, the default) and
``survey2`` (the 2008 text as written: steps 3–5). Each step's parameter is a field of
:class:`AreaMethod`, so a bureau whose software differs (3 plane decimals, say) states it.

Notes
-----
**What formula (2) measures.** ``2[A sin(ΔB/2) cos Bm − …] = F(B₂) − F(B₁)`` with
``F(B) = A sin B − B sin 3B + C sin 5B − D sin 7B + E sin 9B``, the series to e⁸ of
``∫ cos B / (1 − e² sin² B)² dB``; so ``S`` is the exact area between the meridian
``L_ref`` and an edge that is straight in (L, F(B)), and the ring sum is the area of the
polygon with such edges. ``L_ref`` cancels over a closed ring: :func:`official_area`
takes each ring's first vertex, which keeps the terms small (the evaluation software
takes the prime meridian; the two agree to ~1e-6 m² on parcels). The densification of
step 2 brings the edges close to the plane's straight lines: densified areas agree with
the geodesic area to ~1e-6 relative (``docs/area.md``).

**Inverse projection.** A CRS that is Gauss–Krüger (transverse Mercator, scale 1, false
northing 0, metres) on the CGCS2000 or Xian 1980 ellipsoid uses the 32号 series with the
printed constants (:data:`GK_CONSTANTS`): PROJ's exact transverse Mercator agrees with it
to ~0.1 mm, but the official figures are the series'. Any other projected CRS (UTM,
national grids, Beijing 1954 GK) uses PROJ's inverse on its own ellipsoid, with the same
plane steps; geographic coordinates skip the plane steps (1 and 2).

**Antimeridian and poles.** Longitudes are taken the short way round from each ring's
reference meridian, so rings crossing ±180° are measured correctly. A ring whose
longitudes wind once round a pole has no finite trapezoid sum and is refused with
:class:`~landcheck.errors.GeometryError`.

**Planar area** in a 3° Gauss–Krüger zone exceeds the official area by the areal scale
factor: ~0 at the central meridian (up to the rounding noise, ~5e-8 on a 100 m square),
+0.0517 % at ±1.5° from it (30°N).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction as Fr
from itertools import pairwise

import numpy as np
import pyproj
import shapely

from landcheck.errors import CRSError, GeometryError, InputError, format_ids

__all__ = [
    "AREA_METHODS",
    "DEFAULT_AREA_METHOD",
    "HA_M2",
    "MU_M2",
    "SAME_AREA_M2",
    "AreaMethod",
    "area_method",
    "geodesic_area",
    "ha_to_m2",
    "m2_to_ha",
    "m2_to_mu",
    "mu_to_m2",
    "official_area",
    "planar_area",
    "round_half_up",
]

MU_M2: float = 2000 / 3
"""One mu (亩) in square metres: exactly 2000/3 (float nearest to it)."""
HA_M2: float = 10_000.0
"""One hectare (公顷) in square metres."""

#: Rows A, B, C, D, E of formula (2) (32号 sections 一 and 二); columns multiply e⁰ … e⁸.
SERIES_COEFFICIENTS: tuple[tuple[Fr, ...], ...] = (
    (Fr(1), Fr(3, 6), Fr(30, 80), Fr(35, 112), Fr(630, 2304)),
    (Fr(0), Fr(1, 6), Fr(15, 80), Fr(21, 112), Fr(420, 2304)),
    (Fr(0), Fr(0), Fr(3, 80), Fr(7, 112), Fr(180, 2304)),
    (Fr(0), Fr(0), Fr(0), Fr(1, 112), Fr(45, 2304)),
    (Fr(0), Fr(0), Fr(0), Fr(0), Fr(5, 2304)),
)
#: ρ, arc seconds per radian, as printed in 32号 section 四.
RHO_SECONDS: float = 206264.8062471
#: π as printed in 32号 section 四 (central meridians in radians).
PI_PRINTED: float = 3.14159265358979
_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7


@dataclass(frozen=True)
class GKConstants:
    """Printed constants of the 32号 inverse Gauss–Krüger series for one ellipsoid.

    ``a`` and ``inverse_flattening`` identify the ellipsoid; ``b`` is the semi-minor axis of
    formula (2), ``e2`` the e² of its coefficients, ``ep2`` e′², ``c`` the polar radius of
    curvature, ``k`` the footpoint-latitude constants K0 … K4.
    """

    name: str
    a: float
    inverse_flattening: float
    b: float
    e2: float
    ep2: float
    c: float
    k: tuple[float, float, float, float, float]


#: The ellipsoids whose constants are printed: CGCS2000 as in the third-survey evaluation
#: material (b = 6356752.31414036 …), Xian 1980 as in 32号 section 四.
GK_CONSTANTS: dict[str, GKConstants] = {
    "CGCS2000": GKConstants(
        "CGCS2000", 6378137.0, 298.257222101, 6356752.31414036, 0.00669438002290,
        0.00673949677548, 6399593.62586,
        (1.57048761144159e-07, 5.05250178820567e-03, 2.98472900956587e-05,
         2.41626669230084e-07, 2.22241238938534e-09),
    ),
    "Xian 1980": GKConstants(
        "Xian 1980", 6378140.0, 298.257, 6356755.29, 6.69438499958795e-03,
        6.73950181947292e-03, 6399596.65198801,
        (1.57048687472752e-07, 5.05250559291393e-03, 2.98473350966158e-05,
         2.41627215981336e-07, 2.22241909461273e-09),
    ),
}


@dataclass(frozen=True)
class AreaMethod:
    """The steps of an official area computation (module docstring; ``docs/area.md``).

    Attributes
    ----------
    name : str
        The method's name, recorded in a run's provenance.
    plane_decimals : int or None
        Plane coordinates rounded to this many decimals (half away from zero) first; None:
        as stored.
    densify_m : float or None
        Edges longer than this get ``floor(length / densify_m)`` evenly spaced interior
        points; None: no densification.
    densify_decimals : int or None
        Decimals of the interior points' coordinates; None: unrounded.
    seconds_decimals : int or None
        Latitude and longitude rounded to this many decimals of an arc second; None: not
        rounded.
    """

    name: str
    plane_decimals: int | None
    densify_m: float | None
    densify_decimals: int | None
    seconds_decimals: int | None


#: The official methods by name: ``survey3`` (third national land survey, the default) and
#: ``survey2`` (国土调查办发〔2008〕32号 as written).
AREA_METHODS: dict[str, AreaMethod] = {
    "survey3": AreaMethod("survey3", 4, 70.0, 6, 6),
    "survey2": AreaMethod("survey2", None, None, None, 6),
}
DEFAULT_AREA_METHOD = "survey3"
#: Official areas of one region described by different outlines (a piece with a vertex
#: more, the pieces of a patch against the patch) agree to this (m²): each vertex is rounded
#: and each edge densified on its own, ~1e-4–1e-3 m² on a parcel; 0.01 m² is the precision
#: the survey reports (``TBMJ`` is Float(15,2)).
SAME_AREA_M2 = 0.01


def area_method(method) -> AreaMethod:
    """The :class:`AreaMethod` for a name of :data:`AREA_METHODS` (or the method itself).

    Raises
    ------
    ValueError
        An unknown name, naming the known ones.
    """
    if isinstance(method, AreaMethod):
        return method
    found = AREA_METHODS.get(method) if isinstance(method, str) else None
    if found is None:
        raise ValueError(
            f"unknown area method {method!r}; use one of {', '.join(map(repr, AREA_METHODS))}"
        )
    return found


def _prepare(geometries, crs) -> tuple[np.ndarray, pyproj.CRS]:
    """Check the CRS and return a 1-D object array of geometries (or None)."""
    if crs is None:
        raise CRSError("crs is required: pass crs=... (e.g. crs=gdf.crs or crs='EPSG:4527')")
    try:
        crs = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(f"cannot read crs {crs!r}: {exc}") from exc
    own = getattr(geometries, "crs", None)
    own = None if own is None else pyproj.CRS.from_user_input(own)
    if own is not None and not own.equals(crs, ignore_axis_order=True):
        raise CRSError(
            f"crs={crs.to_string()} disagrees with the geometries' own CRS {own.to_string()}; "
            "reproject first or pass the right crs"
        )
    if hasattr(geometries, "geometry") and not isinstance(geometries, shapely.Geometry):
        geometries = geometries.geometry  # GeoDataFrame -> active geometry column
    if isinstance(geometries, shapely.Geometry):
        geometries = [geometries]
    if hasattr(geometries, "__array__"):  # ndarray, GeoSeries, GeometryArray
        geoms = np.asarray(geometries, dtype=object)
    else:
        values = list(geometries)
        geoms = np.empty(len(values), dtype=object)
        geoms[:] = values
    if geoms.ndim != 1:
        raise InputError(f"expected a 1-D sequence of geometries, got shape {geoms.shape}")
    bad = np.flatnonzero(~(shapely.is_geometry(geoms) | shapely.is_missing(geoms)))
    if bad.size:
        raise GeometryError(f"not shapely geometries at positions {format_ids(bad.tolist())}")
    return geoms, crs


def polygons_of(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every Polygon inside ``geoms`` (through multi-parts and collections), with its feature."""
    parts, feature = geoms, np.arange(len(geoms))
    while True:  # one pass per nesting level, never per feature
        types = shapely.get_type_id(parts)
        if (types > _COLLECTION).any():
            curved = np.unique(feature[types > _COLLECTION]).tolist()
            raise GeometryError(f"curved geometries at positions {format_ids(curved)}; linearise")
        multi = (types == _MULTIPOLYGON) | (types == _COLLECTION)
        if not multi.any():
            return parts[types == _POLYGON], feature[types == _POLYGON]
        sub, idx = shapely.get_parts(parts[multi], return_index=True)
        parts = np.concatenate([parts[~multi], sub])
        feature = np.concatenate([feature[~multi], feature[multi][idx]])


def _rings_xy(geoms: np.ndarray):
    """Ring vertices (x, y), the ring of each point, and per ring its exterior flag and
    feature."""
    from landcheck.geometry.area_kernel import one_ring_each

    polys, feature_of_poly = polygons_of(geoms)
    xy = shapely.get_coordinates(polys)
    counts = shapely.get_num_coordinates(polys)
    off = np.zeros(len(polys) + 1, dtype=np.int64)
    np.cumsum(counts, out=off[1:])
    if one_ring_each(np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1]), off):
        # no holes anywhere (told from the coordinates in compiled code, not by asking GEOS
        # per polygon): a polygon's coordinates are its exterior ring's
        poly_of_ring = np.arange(len(polys))
        ring_of_pt = np.repeat(poly_of_ring, counts)
    else:
        rings, poly_of_ring = shapely.get_rings(polys, return_index=True)
        xy, ring_of_pt = shapely.get_coordinates(rings, return_index=True)
    is_exterior = np.ones(len(poly_of_ring), dtype=bool)
    is_exterior[1:] = poly_of_ring[1:] != poly_of_ring[:-1]  # exterior ring comes first
    x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    return x, y, ring_of_pt, is_exterior, feature_of_poly[poly_of_ring]


def _invalid(crs, features) -> CRSError:
    return CRSError(
        f"coordinates of features at positions {format_ids(np.unique(features).tolist())} "
        f"are not valid in {crs.to_string()}; check that crs matches the data (zone, "
        "prefixed eastings)"
    )


def _rings_lonlat(geoms: np.ndarray, crs: pyproj.CRS):
    """Ring vertices as lon/lat degrees (PROJ), with ring index, exterior flag and feature
    per ring."""
    x, y, ring_of_pt, is_exterior, feature_of_ring = _rings_xy(geoms)
    lon, lat = _lonlat(x, y, crs)
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90.0))
    if bad.any():
        raise _invalid(crs, feature_of_ring[ring_of_pt[bad]])
    return lon, lat, ring_of_pt, is_exterior, feature_of_ring


def _lonlat(x, y, crs: pyproj.CRS):
    """Longitude and latitude (degrees) on the CRS's own ellipsoid."""
    if crs.geodetic_crs is None:
        raise CRSError(f"{crs.to_string()} has no ellipsoid; an ellipsoidal area needs one")
    if crs.is_geographic and crs.equals(crs.geodetic_crs, ignore_axis_order=True):
        return x, y
    transformer = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
    return transformer.transform(x, y)


def _ellipsoid(crs: pyproj.CRS) -> tuple[float, float]:
    """First eccentricity squared and semi-minor axis (m) of the CRS's ellipsoid."""
    ell = crs.ellipsoid
    f = 1.0 / ell.inverse_flattening if ell.inverse_flattening else 0.0
    return f * (2.0 - f), ell.semi_major_metre * (1.0 - f)


def gauss_kruger(crs) -> tuple[GKConstants, float, float, float] | None:
    """The printed series constants, central meridian (degrees), false easting and false
    northing (m) of a Gauss–Krüger CRS on an ellipsoid of :data:`GK_CONSTANTS`; None for any
    other CRS (its inverse is PROJ's)."""
    crs = pyproj.CRS.from_user_input(crs)
    op = crs.coordinate_operation if crs.is_projected else None
    if op is None or op.method_name != "Transverse Mercator":
        return None
    if crs.axis_info and crs.axis_info[0].unit_conversion_factor != 1.0:
        return None
    params = {p.name: p.value for p in op.params}
    if params.get("Scale factor at natural origin") != 1.0 or params.get(
            "Latitude of natural origin") != 0.0:
        return None
    ell = crs.ellipsoid
    for const in GK_CONSTANTS.values():
        if (ell.semi_major_metre == const.a
                and abs(ell.inverse_flattening - const.inverse_flattening) < 1e-9):
            return (const, float(params["Longitude of natural origin"]),
                    float(params["False easting"]), float(params["False northing"]))
    return None


def gk_inverse(easting, northing, const: GKConstants, lon0_deg: float, false_easting: float,
               false_northing: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (radians) by the inverse series of 32号 section 三.

    ``y′ = easting − false_easting``, ``x = northing − false_northing``; footpoint
    latitude ``Bf = E + cos E (K1 sin E − K2 sin³E + K3 sin⁵E − K4 sin⁷E)``, ``E = K0·x``;
    B to (y′/N)⁶, L to (y′/N)⁵, ``N = c/V``, ``V² = 1 + e′² cos² Bf``; the central meridian
    in radians with the printed π; NaN more than 1,000 km from the central meridian (the
    series holds within a zone). Compiled in
    :func:`landcheck.geometry.area_kernel.gk_inverse_seconds`.
    """
    from landcheck.geometry.area_kernel import gk_inverse_seconds

    lon_s, lat_s = gk_inverse_seconds(
        np.ascontiguousarray(easting, dtype=np.float64),
        np.ascontiguousarray(northing, dtype=np.float64), np.array(const.k), const.ep2,
        const.c, lon0_deg * PI_PRINTED / 180.0, false_easting, false_northing, 0.0)
    return lon_s / RHO_SECONDS, lat_s / RHO_SECONDS


def round_half_up(values, decimals: int = 2) -> np.ndarray:
    """``values`` rounded to ``decimals`` decimals, halves away from zero: the survey
    software's rounding of coordinates and seconds, and of reported areas (``TBMJ`` is
    Float(15,2): ``round_half_up(official_area(...), 2)``).

    >>> round_half_up([0.125, 2.675, -0.125], 2).tolist()
    [0.13, 2.68, -0.13]
    """
    scale = 10.0**decimals
    v = np.asarray(values, dtype=np.float64)
    return np.sign(v) * np.floor(np.abs(v) * scale + 0.5) / scale



def _survey_sums(x, y, group, region_of_group, crs, method):
    """Formula (2) summed per group of points (a ring or a chain): signed sum (m²), longitude
    winding (rad), and which groups have points invalid in ``crs``.

    Consecutive points of a group are its edges; every group of a region (``region_of_group``)
    shares the reference meridian of the region's first point, so chains that together close
    a region add up to its area. The steps of ``method`` apply in order (module docstring).
    """
    from landcheck.geometry.area_kernel import densify, gk_inverse_seconds, survey_terms

    m = area_method(method)
    rounded = False
    n_groups = len(region_of_group)
    group = np.asarray(group, dtype=np.int64)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if crs.is_geographic:
        e2, b = _ellipsoid(crs)
        lon_s, lat_s = (np.asarray(v, dtype=np.float64) * 3600.0 for v in _lonlat(x, y, crs))
    else:
        if m.plane_decimals is not None:
            x, y = round_half_up(x, m.plane_decimals), round_half_up(y, m.plane_decimals)
        if m.densify_m is not None and len(x):
            scale = 0.0 if m.densify_decimals is None else 10.0**m.densify_decimals
            x, y, group = densify(x, y, group, float(m.densify_m), scale)
        gk = gauss_kruger(crs)
        if gk is not None:  # the series and the seconds' rounding in one compiled pass
            const, lon0, fe, fn = gk
            e2, b = const.e2, const.b
            lon_s, lat_s = gk_inverse_seconds(
                np.ascontiguousarray(x), np.ascontiguousarray(y), np.array(const.k),
                const.ep2, const.c, lon0 * PI_PRINTED / 180.0, fe, fn,
                0.0 if m.seconds_decimals is None else 10.0**m.seconds_decimals)
            rounded = True
        else:
            e2, b = _ellipsoid(crs)
            lon, lat = _lonlat(x, y, crs)
            lon_s = np.asarray(lon, dtype=np.float64) * 3600.0
            lat_s = np.asarray(lat, dtype=np.float64) * 3600.0
    bad = ~(np.isfinite(lon_s) & np.isfinite(lat_s) & (np.abs(lat_s) <= 324000.0))
    bad_groups = np.zeros(n_groups, dtype=bool)
    if bad.any():
        bad_groups[group[bad]] = True
        lon_s, lat_s = np.where(bad, 0.0, lon_s), np.where(bad, 0.0, lat_s)
    if m.seconds_decimals is not None and not rounded:
        lon_s = round_half_up(lon_s, m.seconds_decimals)
        lat_s = round_half_up(lat_s, m.seconds_decimals)
    lam = np.ascontiguousarray(lon_s / RHO_SECONDS)
    phi = np.ascontiguousarray(lat_s / RHO_SECONDS)
    if len(group) < 2:
        return np.zeros(n_groups), np.zeros(n_groups), bad_groups
    # each region's reference meridian: its first group's first point
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    first_of_group = np.zeros(n_groups, dtype=np.int64)
    first_of_group[group[starts][::-1]] = starts[::-1]
    region_of_group = np.asarray(region_of_group, dtype=np.int64)
    n_regions = int(region_of_group.max()) + 1 if n_groups else 0
    first_group = np.full(n_regions, n_groups, dtype=np.int64)
    np.minimum.at(first_group, region_of_group, np.arange(n_groups))
    ref = lam[first_of_group[first_group[region_of_group]]]
    edge_group = group[:-1]
    k = np.array([float(sum(c * e2**j for j, c in enumerate(row))) for row in SERIES_COEFFICIENTS])
    d_lam, terms = survey_terms(lam, phi, np.ascontiguousarray(ref[edge_group]),
                                group[1:] != edge_group, k, float(b))
    return (np.bincount(edge_group, weights=terms, minlength=n_groups),
            np.bincount(edge_group, weights=d_lam, minlength=n_groups), bad_groups)


def _area_from_rings(ring_area, is_exterior, feature_of_ring, n) -> np.ndarray:
    signed = np.where(is_exterior, 1.0, -1.0) * np.abs(ring_area)
    return np.bincount(feature_of_ring, weights=signed, minlength=n).astype(np.float64)


def chain_official_area(x, y, chain_off, chain_pair, chain_sign, n, *, crs,
                        method=DEFAULT_AREA_METHOD) -> np.ndarray:
    """Official area (m²) of regions given by their oriented boundary in open chains.

    Chain ``c`` is the points ``chain_off[c] .. chain_off[c + 1] - 1`` (projected
    coordinates in ``crs``); it belongs to region ``chain_pair[c]`` (0 … n−1) and counts
    with ``chain_sign[c]`` (+1 where the region lies on its left). The chains of a region
    together form closed cycles whose edges are the region's edges, so each chain's edges
    go through the steps of ``method`` as a ring's would (rounded, densified, one reference
    meridian per region) and the region's area is what :func:`official_area` gives the
    polygon with those rings. Used by :func:`landcheck.geometry.pairarea.overlap_areas`.
    """
    out = np.zeros(n)
    n_chains = len(chain_pair)
    if n_chains == 0:
        return out
    crs = pyproj.CRS.from_user_input(crs)
    chain_of_pt = np.repeat(np.arange(n_chains), np.diff(chain_off))
    per_chain, _, bad = _survey_sums(x, y, chain_of_pt, chain_pair, crs, method)
    if bad.any():
        raise _invalid(crs, np.asarray(chain_pair)[bad])
    return np.bincount(chain_pair, weights=per_chain * chain_sign, minlength=n)


def official_area(geometries, /, *, crs, method=DEFAULT_AREA_METHOD) -> np.ndarray:
    """Official ellipsoidal area (椭球面积) in m², by the land survey's method.

    Parameters
    ----------
    geometries : GeoSeries, GeoDataFrame, array or list of shapely geometries
        Polygons and MultiPolygons (holes subtracted, parts summed). A
        GeometryCollection counts its polygonal parts; points, lines, empty
        geometries and None count 0.0. Geometries are assumed valid.
    crs : anything :meth:`pyproj.CRS.from_user_input` accepts
        CRS of the coordinates (required). Geographic coordinates are read as
        x = longitude, y = latitude in degrees. Must agree with ``geometries.crs``
        when the input has one.
    method : str or AreaMethod
        A name of :data:`AREA_METHODS`: ``"survey3"`` (default: the third national land
        survey — plane coordinates to 4 decimals, edges over 70 m densified) or
        ``"survey2"`` (32号 as written), or an :class:`AreaMethod` of your own.

    Returns
    -------
    numpy.ndarray
        float64, one area in m² per input geometry, unrounded (``TBMJ`` is this rounded
        half up to 0.01 m²).

    Raises
    ------
    CRSError
        Missing, unreadable or mismatched CRS, or coordinates invalid in it.
    GeometryError
        Non-geometries, curved geometries, or a ring that encloses a pole.
    ValueError
        An unknown method.

    Notes
    -----
    The steps are the module docstring's; a Gauss–Krüger CRS on CGCS2000 or Xian 1980
    is inverted by the 32号 series, any other CRS by PROJ. Densified areas agree with
    the geodesic area to ~1e-6 relative; survey2 differs from both on long sloping edges
    (``docs/area.md``). About 2 s per million small polygons.

    Examples
    --------
    A 0.01° x 0.01° cell at 30°N on CGCS2000 (m², then mu), and None:

    >>> from shapely import box
    >>> area = official_area([box(117.0, 30.0, 117.01, 30.01), None], crs="EPSG:4490")
    >>> area.round(3)
    array([1069521.173,       0.   ])
    >>> m2_to_mu(area[0]).round(2)
    np.float64(1604.28)

    A 100 m square (planar 10 000 m²) in the 3° GK zone 39, at the zone edge
    (118.5°E) and at the central meridian (117°E):

    >>> squares = [box(39_644_000, 3_320_000, 39_644_100, 3_320_100),
    ...            box(39_500_000, 3_320_000, 39_500_100, 3_320_100)]
    >>> official_area(squares, crs="EPSG:4527").round(2)
    array([ 9994.88, 10000.  ])
    """
    geoms, crs = _prepare(geometries, crs)
    x, y, ring_of_pt, is_exterior, feature_of_ring = _rings_xy(geoms)
    n_rings = len(is_exterior)
    ring_area, winding, bad = _survey_sums(x, y, ring_of_pt, np.arange(n_rings), crs, method)
    if bad.any():
        raise _invalid(crs, feature_of_ring[bad])
    if (np.abs(winding) > np.pi).any():
        ids = np.unique(feature_of_ring[np.abs(winding) > np.pi]).tolist()
        raise GeometryError(
            f"rings of features at positions {format_ids(ids)} enclose a pole; "
            "split them or use geodesic_area"
        )
    return _area_from_rings(ring_area, is_exterior, feature_of_ring, len(geoms))


def geodesic_area(geometries, /, *, crs) -> np.ndarray:
    """Geodesic area in m² on the CRS's ellipsoid (edges are geodesics), for cross-checks.

    Same inputs, output and errors as :func:`official_area` (poles allowed). Each
    ring goes through :meth:`pyproj.Geod.polygon_area_perimeter` (Karney; the
    per-ring core of ``geometry_area_perimeter``) on ``crs.get_geod()``; absolute
    values, exteriors added and holes subtracted, so orientation does not matter.
    A Python loop over rings: for checks, not for a million features.

    Examples
    --------
    >>> from shapely import box
    >>> geodesic_area([box(117.0, 30.0, 117.01, 30.01)], crs="EPSG:4490").round(3)
    array([1069521.174])
    """
    geoms, crs = _prepare(geometries, crs)
    lon, lat, ring_of_pt, is_exterior, feature_of_ring = _rings_lonlat(geoms, crs)
    geod = crs.get_geod()
    bounds = np.searchsorted(ring_of_pt, np.arange(len(is_exterior) + 1))
    ring_area = np.array(
        [geod.polygon_area_perimeter(lon[i:j], lat[i:j])[0] for i, j in pairwise(bounds.tolist())],
        dtype=np.float64,
    )
    return _area_from_rings(ring_area, is_exterior, feature_of_ring, len(geoms))


def planar_area(geometries, /, *, crs) -> np.ndarray:
    """Planar area in m² in a projected CRS (:func:`shapely.area`, scaled by the axis unit).

    Same inputs and output as :func:`official_area`; None counts 0.0.

    Raises
    ------
    CRSError
        When ``crs`` is geographic: planar area of degrees means nothing.

    Notes
    -----
    In a 3° Gauss–Krüger zone the planar area exceeds the official area by the
    squared scale factor, ~1 + (y/R)², y the distance from the central meridian:
    about +0.052 % at the zone edge at 30°N.

    Examples
    --------
    >>> from shapely import box
    >>> planar_area([box(39_500_000, 3_300_000, 39_500_100, 3_300_100)], crs="EPSG:4527")
    array([10000.])
    """
    geoms, crs = _prepare(geometries, crs)
    if crs.is_geographic:
        raise CRSError("planar area in a geographic CRS is meaningless; use official_area")
    scale = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    area = shapely.area(geoms) * scale**2
    return np.where(np.isnan(area), 0.0, area).astype(np.float64)


def _scale(values, num: int, den: int):
    """values * num / den: exact for Fraction (or object arrays of them), else float64."""
    if isinstance(values, Fr):
        return values * num / den
    arr = np.asarray(values)
    if arr.dtype == object:
        return arr * num / den
    return np.asarray(values, dtype=np.float64) * num / den


def m2_to_mu(m2):
    """Square metres to mu (亩): ``m2 * 3 / 2000``, vectorised; exact for Fractions.

    >>> m2_to_mu([2000 / 3, 10_000.0])
    array([ 1., 15.])
    """
    return _scale(m2, 3, 2000)


def mu_to_m2(mu):
    """Mu (亩) to square metres: ``mu * 2000 / 3``, vectorised; exact for Fractions.

    >>> from fractions import Fraction
    >>> mu_to_m2(Fraction(15))
    Fraction(10000, 1)
    """
    return _scale(mu, 2000, 3)


def m2_to_ha(m2):
    """Square metres to hectares (公顷): ``m2 / 10000``, vectorised; exact for Fractions.

    >>> m2_to_ha(25_000.0)
    np.float64(2.5)
    """
    return _scale(m2, 1, 10_000)


def ha_to_m2(ha):
    """Hectares (公顷) to square metres: ``ha * 10000``, vectorised; exact for Fractions.

    >>> ha_to_m2([1, 0.5])
    array([10000.,  5000.])
    """
    return _scale(ha, 10_000, 1)
