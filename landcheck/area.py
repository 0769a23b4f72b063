"""Official ellipsoidal area (椭球面积) of parcels, and area unit conversions.

Chinese land surveys (TD/T 1055-2019 for the third national land survey, and the
second-survey rules before it) report parcel areas computed on the CGCS2000
ellipsoid: the Gauss–Krüger vertex coordinates are inverse-projected to geodetic
latitude/longitude (B, L), and the polygon area is summed from ellipsoidal
trapezoids. :func:`official_area` implements that computation, vectorised;
:func:`geodesic_area` and :func:`planar_area` are for cross-checks.

Notes
-----
**Trapezoid formula.** On an ellipsoid with semi-minor axis ``b`` and first
eccentricity ``e`` the area element is ``dS = M N cos B dB dL
= b² cos B / (1 − e² sin² B)² dB dL``. With ``x = sin B``,

    ∫ cos B / (1 − e² sin² B)² dB = Σₖ (k+1) e²ᵏ x²ᵏ⁺¹ / (2k+1),

and reducing the odd powers of ``sin B`` to multiple angles,
``sin²ᵐ⁺¹B = 4⁻ᵐ Σⱼ (−1)ʲ C(2m+1, m−j) sin((2j+1)B)``, gives, to ``e⁸``,

    F(B) = A sin B − B' sin 3B + C sin 5B − D sin 7B + E sin 9B
    A  = 1 + e²/2 + 3e⁴/8 + 5e⁶/16 + 35e⁸/128
    B' = e²/6 + 3e⁴/16 + 3e⁶/16 + 35e⁸/192
    C  = 3e⁴/80 + e⁶/16 + 5e⁸/64
    D  = e⁶/112 + 5e⁸/256
    E  = 5e⁸/2304

which are exactly the coefficients of the survey rules' formula
``S = 2b²ΔL[A sin(ΔB/2) cos Bm − B' sin(3ΔB/2) cos 3Bm + …]`` for the trapezoid
between latitudes ``B₁, B₂`` (``ΔB = B₂ − B₁``, ``Bm = (B₁ + B₂)/2``). The
first omitted term, ``6e¹⁰ sin¹¹B / 11``, changes areas by < 1e-10 (relative).

**Polygons.** Every edge ``(B₁, L₁) → (B₂, L₂)`` contributes the area between
itself and a reference parallel ``B₀`` (the ring's first vertex):
``b²·ΔL · [F̄ − F(B₀)]`` with ``ΔL = L₂ − L₁`` and ``F̄`` the mean of ``F`` along
the edge — the series at the edge's mean latitude ``Bm`` with each ``sin(nB)``
term multiplied by ``sinc(nΔB/2)``, which makes it exact for an edge straight in
(B, L) (the midpoint form ``F(Bm)`` alone is off by ≈ tan B·ΔB/12 of a sloping
edge's trapezoid). ``F(Bm) − F(B₀)`` is written in the product form above so
that small parcels do not lose digits. Over a closed ring ``ΣΔL = 0``, so the
choice of ``B₀`` cancels and the signed sum is the ring's area: edges are
straight lines in (B, L), as in the official figures (no densification).
Exterior rings count positive and holes negative whatever their orientation.

**Inverse projection.** Projected vertices are converted with
``pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)``: PROJ's
exact transverse Mercator (Poder/Engsager), accurate to well under a millimetre
over a Gauss–Krüger zone, replaces the hand series for the inverse GK
projection. The ellipsoid is the CRS's own (CGCS2000 for Chinese data).

**Antimeridian and poles.** Each edge is taken the short way round in longitude
(``|ΔL| < 180°``), so rings crossing ±180° are measured correctly. A ring whose
longitudes wind once round a pole has no finite trapezoid sum and is refused
with :class:`~landcheck.errors.GeometryError`.

**How big the differences are** (measured on CGCS2000 at 30°N; ``docs/area.md``).
Official minus geodesic area on the same raw vertices of a square of side s is
second order, about −(s/R)²/10: −4e-10 … −9e-10 at 500 m, −4e-8 … −7e-8 at
5 km, hence ~−4e-12 at 50 m (there hidden by the ~1e-8 rounding noise of the
geodesic computation). Each edge's geodesic bulges poleward from the straight
(B, L) edge by ~s²tan B/(8R), but opposite edges bulge the same way and cancel.
3° zone planar area exceeds the official area by the GK areal scale factor:
< 1e-8 at the central meridian, +0.0517 % at ±1.5° from it.
"""

from __future__ import annotations

from fractions import Fraction as Fr
from itertools import pairwise

import numpy as np
import pyproj
import shapely

from landcheck.errors import CRSError, GeometryError, InputError, format_ids

__all__ = [
    "HA_M2",
    "MU_M2",
    "geodesic_area",
    "ha_to_m2",
    "m2_to_ha",
    "m2_to_mu",
    "mu_to_m2",
    "official_area",
    "planar_area",
]

MU_M2: float = 2000 / 3
"""One mu (亩) in square metres: exactly 2000/3 (float nearest to it)."""
HA_M2: float = 10_000.0
"""One hectare (公顷) in square metres."""

#: Rows A, B', C, D, E of the trapezoid series; columns multiply e⁰, e², e⁴, e⁶, e⁸.
SERIES_COEFFICIENTS: tuple[tuple[Fr, ...], ...] = (
    (Fr(1), Fr(1, 2), Fr(3, 8), Fr(5, 16), Fr(35, 128)),
    (Fr(0), Fr(1, 6), Fr(3, 16), Fr(3, 16), Fr(35, 192)),
    (Fr(0), Fr(0), Fr(3, 80), Fr(1, 16), Fr(5, 64)),
    (Fr(0), Fr(0), Fr(0), Fr(1, 112), Fr(5, 256)),
    (Fr(0), Fr(0), Fr(0), Fr(0), Fr(5, 2304)),
)
_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7


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


def _rings_lonlat(geoms: np.ndarray, crs: pyproj.CRS):
    """Ring vertices as lon/lat degrees, with ring index, exterior flag and feature per ring."""
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
    lon, lat = _lonlat(xy[:, 0], xy[:, 1], crs)
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90.0))
    if bad.any():
        ids = np.unique(feature_of_poly[poly_of_ring[ring_of_pt[bad]]]).tolist()
        raise CRSError(
            f"coordinates of features at positions {format_ids(ids)} are not valid in "
            f"{crs.to_string()}; check that crs matches the data (zone, prefixed eastings)"
        )
    return lon, lat, ring_of_pt, is_exterior, feature_of_poly[poly_of_ring]


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


def _area_from_rings(ring_area, is_exterior, feature_of_ring, n) -> np.ndarray:
    signed = np.where(is_exterior, 1.0, -1.0) * np.abs(ring_area)
    return np.bincount(feature_of_ring, weights=signed, minlength=n).astype(np.float64)


def _trapezoid_sums(lon, lat, ring_of_pt, n_rings, e2, b):
    """Signed trapezoid sum (m²) and longitude winding (rad) of each ring."""
    lam, phi = np.radians(lon), np.radians(lat)
    counts = np.bincount(ring_of_pt, minlength=n_rings)
    phi0 = phi[(np.cumsum(counts) - counts)[ring_of_pt[:-1]]]  # reference: ring's 1st vertex
    # edge i runs from vertex i to i + 1, unless they are on different rings
    d_lam, terms = _edge_terms(lam, phi, phi0, ring_of_pt[1:] != ring_of_pt[:-1], e2, b)
    ring = ring_of_pt[:-1]
    area = np.bincount(ring, weights=terms, minlength=n_rings)
    return area, np.bincount(ring, weights=d_lam, minlength=n_rings)


def _edge_terms(lam, phi, phi0, gap, e2, b):
    """Trapezoid term (m²) of every edge between consecutive points, against latitude phi0.

    ``lam``, ``phi``: the points' longitude and latitude (radians); ``phi0``: the reference
    latitude of each edge; ``gap``: edges that join two different rings or chains (no term).
    Returns the longitude step of each edge (0 across a gap) and its term.
    """
    from landcheck.geometry.area_kernel import edge_terms

    k = np.array([float(sum(c * e2**j for j, c in enumerate(row))) for row in SERIES_COEFFICIENTS])
    if len(phi) < 2:
        return np.zeros(0), np.zeros(0)
    return edge_terms(
        np.ascontiguousarray(lam, dtype=np.float64),
        np.ascontiguousarray(phi, dtype=np.float64),
        np.ascontiguousarray(phi0, dtype=np.float64),
        np.ascontiguousarray(gap, dtype=np.bool_),
        k,
        float(b),
    )


def chain_official_area(x, y, chain_off, chain_pair, chain_sign, n, *, crs) -> np.ndarray:
    """Official area (m²) of regions given by their oriented boundary in open chains.

    Chain ``c`` is the points ``chain_off[c] .. chain_off[c + 1] - 1`` (projected
    coordinates in ``crs``); it belongs to region ``chain_pair[c]`` (0 … n−1, chains of one
    region consecutive) and counts with ``chain_sign[c]`` (+1 where the region lies on its
    left). The chains of a region together form closed cycles, so one reference latitude
    per region cancels as over a ring (:func:`official_area`, module Notes). Used by
    :func:`landcheck.geometry.pairarea.overlap_areas`.
    """
    out = np.zeros(n)
    n_chains = len(chain_pair)
    if n_chains == 0:
        return out
    crs = pyproj.CRS.from_user_input(crs)
    lon, lat = _lonlat(np.asarray(x, dtype=float), np.asarray(y, dtype=float), crs)
    lam, phi = np.radians(lon), np.radians(lat)
    chain_of_pt = np.repeat(np.arange(n_chains), np.diff(chain_off))
    first_chain = np.flatnonzero(np.r_[True, chain_pair[1:] != chain_pair[:-1]])
    ref = np.zeros(n)
    ref[chain_pair[first_chain]] = phi[chain_off[first_chain]]
    edge_chain = chain_of_pt[:-1]
    e2, b = _ellipsoid(crs)
    _, terms = _edge_terms(
        lam, phi, ref[chain_pair[edge_chain]], chain_of_pt[1:] != edge_chain, e2, b
    )
    per_chain = np.bincount(edge_chain, weights=terms, minlength=n_chains) * chain_sign
    # the trapezoid sum of a counter-clockwise ring is negative
    return -np.bincount(chain_pair, weights=per_chain, minlength=n)


def official_area(geometries, /, *, crs) -> np.ndarray:
    """Official ellipsoidal area (椭球面积) in m², by the survey trapezoid formula.

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

    Returns
    -------
    numpy.ndarray
        float64, one area in m² per input geometry.

    Raises
    ------
    CRSError
        Missing, unreadable or mismatched CRS, or coordinates invalid in it.
    GeometryError
        Non-geometries, curved geometries, or a ring that encloses a pole.

    Notes
    -----
    Vertices are inverse-projected to (B, L) on the CRS's ellipsoid; each ring
    is a sum of ellipsoidal trapezoids by the survey rules' series in e² (module
    Notes). Edges are straight in (B, L): for parcels the result equals the
    geodesic area to ~1e-9 relative. About 2 s per million small polygons.

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
    lon, lat, ring_of_pt, is_exterior, feature_of_ring = _rings_lonlat(geoms, crs)
    e2, b = _ellipsoid(crs)
    ring_area, winding = _trapezoid_sums(lon, lat, ring_of_pt, len(is_exterior), e2, b)
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
