"""The official survey area (图斑椭球面积) cross-checked against a plain reference.

The reference below is written from the method's text (国土调查办发〔2008〕32号 and the third
survey's evaluation steps), not from ``landcheck.area``: pure Python, ``math`` and ``decimal``
only, one point at a time. pyproj is used only to read a CRS's central meridian and false
easting, to build test shapes, and to check the reference's inverse series.

survey3, per ring:
  1. plane coordinates rounded to 4 decimals, half away from zero;
  2. every edge longer than 70 m gets floor(d / 70) equally spaced interior points, rounded
     to 6 decimals (the endpoints are not rounded again);
  3. the 32号 inverse Gauss–Krüger series with its printed CGCS2000 constants;
  4. latitude and longitude rounded to 1e-6 arc seconds;
  5. formula (2) per edge with the edge's mean longitude measured from Greenwich (the
     evaluation software's choice; any reference meridian cancels over a closed ring).
survey2 is the 2008 text as written: steps 3–5 on the raw vertices.

Test shapes are random triangles and stars with sloping 100 m–2 km edges at 20–50°N, up to
1.5° from the central meridian, in three zones, with and without the zone prefix. Their
coordinates are kept 1e-6 m (in 4-decimal units: 0.01 of a unit) away from a rounding tie of
step 1, so that rounding the stored double exactly and rounding ``v * 1e4`` in floating point
give the same 4-decimal value; exact ties are tested on their own.
"""

from __future__ import annotations

import math
import random
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import numpy as np
import pyproj
import pytest
from shapely.affinity import translate
from shapely.geometry import MultiPolygon, Polygon

import landcheck.area as area

# --- the reference --------------------------------------------------------------------------

# Printed CGCS2000 constants of the 32号 text.
B_AXIS = 6356752.31414036  # semi-minor axis b, m
E2 = 0.00669438002290  # first eccentricity squared
EP2 = 0.00673949677548  # second eccentricity squared
C_POLAR = 6399593.62586  # polar radius of curvature c = a² / b, m
K0 = 1.57048761144159e-07
K1 = 5.05250178820567e-03
K2 = 2.98472900956587e-05
K3 = 2.41626669230084e-07
K4 = 2.22241238938534e-09
PI_PRINTED = 3.14159265358979
RHO = 206264.8062471  # arc seconds per radian

# Formula (2)'s coefficients, from the printed e².
A_C = 1 + (3 / 6) * E2 + (30 / 80) * E2**2 + (35 / 112) * E2**3 + (630 / 2304) * E2**4
B_C = (1 / 6) * E2 + (15 / 80) * E2**2 + (21 / 112) * E2**3 + (420 / 2304) * E2**4
C_C = (3 / 80) * E2**2 + (7 / 112) * E2**3 + (180 / 2304) * E2**4
D_C = (1 / 112) * E2**3 + (45 / 2304) * E2**4
E_C = (5 / 2304) * E2**4

DENSIFY_M = 70.0


def round_half_away(value: float, decimals: int, rounding: str = ROUND_HALF_UP) -> float:
    """``value`` rounded to ``decimals`` places, half away from zero (``ROUND_HALF_UP`` in
    ``decimal``), on the exact value of the double."""
    step = Decimal(1).scaleb(-decimals)
    return float(Decimal(value).quantize(step, rounding=rounding))


def zone_of(crs) -> tuple[float, float]:
    """(central meridian in degrees, false easting in metres) of a Gauss–Krüger CRS."""
    op = pyproj.CRS(crs).coordinate_operation
    params = {p.name: p.value for p in op.params}
    assert op.method_name == "Transverse Mercator"
    assert params["Scale factor at natural origin"] == 1.0
    assert params["Latitude of natural origin"] == 0.0
    assert params["False northing"] == 0.0
    return params["Longitude of natural origin"], params["False easting"]


def series_inverse(easting: float, northing: float, zone: tuple[float, float]):
    """32号 inverse series: plane (E, N) to (B, L) in radians, before any rounding."""
    central_meridian, false_easting = zone
    y = easting - false_easting
    x = northing
    beta = K0 * x
    sb = math.sin(beta)
    bf = beta + math.cos(beta) * (K1 * sb - K2 * sb**3 + K3 * sb**5 - K4 * sb**7)
    t = math.tan(bf)
    t2 = t * t
    eta2 = EP2 * math.cos(bf) ** 2
    v2 = 1 + eta2
    n_radius = C_POLAR / math.sqrt(v2)
    u = y / n_radius
    b = (bf
         - 0.5 * v2 * t * u**2
         + (5 + 3 * t2 + eta2 - 9 * eta2 * t2) * v2 * t * u**4 / 24
         - (61 + 90 * t2 + 45 * t2 * t2) * v2 * t * u**6 / 720)
    l0 = central_meridian * PI_PRINTED / 180
    lon = l0 + (u
                - (1 + 2 * t2 + eta2) * u**3 / 6
                + (5 + 28 * t2 + 24 * t2 * t2 + 6 * eta2 + 8 * eta2 * t2) * u**5 / 120
                ) / math.cos(bf)
    return b, lon


def to_seconds_and_back(angle: float) -> float:
    """Step 4: an angle in radians rounded to 1e-6 arc seconds, back in radians."""
    return round_half_away(angle * RHO, 6) / RHO


def geodetic_ring(ring, zone) -> list[tuple[float, float]]:
    """Steps 3 and 4 for every point of a ring: (B, L) in radians."""
    out = []
    for easting, northing in ring:
        b, lon = series_inverse(easting, northing, zone)
        out.append((to_seconds_and_back(b), to_seconds_and_back(lon)))
    return out


def densified(ring) -> list[tuple[float, float]]:
    """Step 2: each edge over 70 m gets floor(d / 70) interior points rounded to 6 decimals."""
    out = []
    for i, (pe, pn) in enumerate(ring):
        qe, qn = ring[(i + 1) % len(ring)]
        out.append((pe, pn))
        d = math.hypot(qe - pe, qn - pn)
        if d > DENSIFY_M:
            n = math.floor(d / DENSIFY_M)
            for k in range(1, n + 1):
                f = k / (n + 1)
                out.append((round_half_away(pe + f * (qe - pe), 6),
                            round_half_away(pn + f * (qn - pn), 6)))
    return out


def formula2_sum(ring_bl, l_ref: float = 0.0) -> float:
    """Step 5: the signed sum of formula (2) over the edges of a (B, L) ring."""
    terms = []
    for i, (b1, l1) in enumerate(ring_bl):
        b2, l2 = ring_bl[(i + 1) % len(ring_bl)]
        dl = (l1 + l2) / 2 - l_ref
        db = b2 - b1
        bm = (b1 + b2) / 2
        terms.append(2 * B_AXIS**2 * dl * (
            A_C * math.sin(db / 2) * math.cos(bm)
            - B_C * math.sin(3 * db / 2) * math.cos(3 * bm)
            + C_C * math.sin(5 * db / 2) * math.cos(5 * bm)
            - D_C * math.sin(7 * db / 2) * math.cos(7 * bm)
            + E_C * math.sin(9 * db / 2) * math.cos(9 * bm)))
    return math.fsum(terms)


def plane_ring(ring, method: str, rounding: str = ROUND_HALF_UP) -> list[tuple[float, float]]:
    """The plane points a method projects: survey3 rounds and densifies, survey2 does not.
    ``rounding`` of step 1 is a parameter only to show that the tie test tells it apart."""
    if method == "survey2":
        return list(ring)
    assert method == "survey3"
    return densified([(round_half_away(e, 4, rounding), round_half_away(n, 4, rounding))
                      for e, n in ring])


def rings_of(geom):
    """[(exterior, [holes])] of a Polygon or MultiPolygon, rings without the closing point."""
    polygons = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    return [(list(p.exterior.coords)[:-1], [list(h.coords)[:-1] for h in p.interiors])
            for p in polygons]


def reference_area(geom, crs, method: str = "survey3", rounding: str = ROUND_HALF_UP) -> float:
    """The official area in m²: |ring sum| per ring, exterior − holes, parts added."""
    zone = zone_of(crs)

    def ring_area(ring):
        return abs(formula2_sum(geodetic_ring(plane_ring(ring, method, rounding), zone)))

    return sum(ring_area(ext) - sum(ring_area(h) for h in holes) for ext, holes in rings_of(geom))


def meridian_integral(b: float) -> float:
    """G(B) = b² ∫₀^B cos B / (1 − e² sin² B)² dB by formula (2)'s own series:
    G = b² (A sin B − B sin 3B + C sin 5B − D sin 7B + E sin 9B), since
    2 sin(kΔB/2) cos(kBm) = sin kB2 − sin kB1 makes 2b² × formula (2)'s bracket G(B2) − G(B1)."""
    return B_AXIS**2 * (A_C * math.sin(b) - B_C * math.sin(3 * b) + C_C * math.sin(5 * b)
                        - D_C * math.sin(7 * b) + E_C * math.sin(9 * b))


def straight_bl_area(geom, crs, intervals: int = 16) -> float:
    """The exact area of the survey2 (B, L) ring whose edges are straight in latitude and
    longitude: |Σ ∫ G(B) dL| per ring, each edge by Simpson's rule over its parameter. G is
    taken relative to the ring's first latitude, which cancels (Σ ΔL = 0) and keeps the terms
    small."""
    zone = zone_of(crs)

    def ring_area(ring):
        bl = geodetic_ring(ring, zone)
        g0 = meridian_integral(bl[0][0])
        terms = []
        for i, (b1, l1) in enumerate(bl):
            b2, l2 = bl[(i + 1) % len(bl)]
            h = 1 / intervals
            weights = [1 if j in (0, intervals) else (4 if j % 2 else 2)
                       for j in range(intervals + 1)]
            g_mean = h / 3 * math.fsum(w * (meridian_integral(b1 + j * h * (b2 - b1)) - g0)
                                       for j, w in enumerate(weights))
            terms.append((l2 - l1) * g_mean)
        return abs(math.fsum(terms))

    return sum(ring_area(ext) - sum(ring_area(h) for h in holes) for ext, holes in rings_of(geom))


# --- test shapes ----------------------------------------------------------------------------

# (CRS, latitude range) pairs inside each CRS's EPSG area of use; together 20–50°N.
ZONES = [
    ("EPSG:4525", (20.0, 45.0)),  # zone 37, CM 111°E, prefix 37
    ("EPSG:4546", (20.0, 45.0)),  # CM 111°E, no prefix
    ("EPSG:4527", (23.0, 49.5)),  # zone 39, CM 117°E, prefix 39
    ("EPSG:4548", (23.0, 49.5)),  # CM 117°E, no prefix
    ("EPSG:4528", (25.0, 50.0)),  # zone 40, CM 120°E, prefix 40
    ("EPSG:4549", (25.0, 50.0)),  # CM 120°E, no prefix
]


def forward(crs, lon, lat):
    return pyproj.Transformer.from_crs(pyproj.CRS(crs).geodetic_crs, crs,
                                       always_xy=True).transform(lon, lat)


def off_tie(v: float) -> float:
    """``v`` moved by 3e-5 m when its 4-decimal rounding is within 0.01 units of a tie."""
    frac = (Decimal(v) * 10**4) % 1
    return v + 3e-5 if abs(frac - Decimal("0.5")) < Decimal("0.01") else v


def place(rng, crs, lat_range):
    """A random plane point at lat_range, up to 1.45° east or west of the central meridian."""
    cm, _ = zone_of(crs)
    return forward(crs, cm + rng.uniform(-1.45, 1.45), rng.uniform(*lat_range))


def sloping(points, degrees: float = 6.0) -> bool:
    """Every edge 100 m–2 km long and at least ``degrees`` off the plane axes."""
    for i, (pe, pn) in enumerate(points):
        qe, qn = points[(i + 1) % len(points)]
        d = math.hypot(qe - pe, qn - pn)
        off_axes = min(abs(qe - pe), abs(qn - pn)) >= d * math.sin(math.radians(degrees))
        if not (100 <= d <= 2000 and off_axes):
            return False
    return True


def star_points(centre, tips, outer, inner, turn):
    ce, cn = centre
    angles = [turn + math.pi * i / tips for i in range(2 * tips)]
    return [(ce + r * math.cos(a), cn + r * math.sin(a))
            for r, a in zip([outer, inner] * tips, angles, strict=True)]


def longest_edge(points) -> float:
    return max(math.dist(p, points[i - 1]) for i, p in enumerate(points))


def random_star(rng, centre, edge_max=2000.0):
    while True:
        tips = rng.randint(5, 9)
        outer = rng.uniform(500, 2600)
        inner = outer * rng.uniform(0.35, 0.7)
        pts = star_points(centre, tips, outer, inner, rng.uniform(0, 2 * math.pi))
        if sloping(pts) and longest_edge(pts) <= edge_max:
            return [(off_tie(e), off_tie(n)) for e, n in pts]


def random_triangle(rng, centre):
    while True:
        pts = [centre]
        for _ in range(2):
            r, a = rng.uniform(100, 2000), rng.uniform(0, 2 * math.pi)
            pts.append((centre[0] + r * math.cos(a), centre[1] + r * math.sin(a)))
        p, q, s = pts
        twice_area = abs((q[0] - p[0]) * (s[1] - p[1]) - (q[1] - p[1]) * (s[0] - p[0]))
        longest = max(math.dist(p, q), math.dist(q, s), math.dist(s, p))
        if sloping(pts) and twice_area > 0.3 * longest**2:  # no slivers
            return [(off_tie(e), off_tie(n)) for e, n in pts]


def make_cases():
    """(id, crs, geometry): 4 triangles and 4 stars per CRS, one star with a triangular hole
    and one two-star MultiPolygon per CRS; fixed seed."""
    rng = random.Random(20240611)
    cases = []
    for crs, lats in ZONES:
        code = crs.split(":")[1]
        for i in range(4):
            tri = random_triangle(rng, place(rng, crs, lats))
            cases.append((f"tri-{code}-{i}", crs, Polygon(tri)))
        for i in range(4):
            star = random_star(rng, place(rng, crs, lats))
            cases.append((f"star-{code}-{i}", crs, Polygon(star)))
    for crs, lats in ZONES:
        code = crs.split(":")[1]
        centre = place(rng, crs, lats)
        while True:
            outer = Polygon(random_star(rng, centre))
            hole = Polygon(random_triangle(rng, (centre[0] - 40.37, centre[1] - 30.81)))
            holed = Polygon(outer.exterior.coords, [hole.exterior.coords])
            if outer.contains(hole) and holed.is_valid:
                break
        cases.append((f"holed-{code}", crs, holed))
        beside = (centre[0] + 5123.71, centre[1] + 2987.43)
        multi = MultiPolygon([Polygon(random_star(rng, centre)),
                              Polygon(random_star(rng, beside))])
        assert multi.is_valid
        cases.append((f"multi-{code}", crs, multi))
    return cases


CASES = make_cases()
STARS = [c for c in CASES if c[0].startswith("star")]
TRIANGLES_AND_STARS = [c for c in CASES if c[0].startswith(("tri", "star"))]


def case_id(case):
    return case[0]


def exact_cell_area(b1, l1, b2, l2):
    """Closed-form ellipsoidal area between two parallels and two meridians (printed b, e²):
    b² ΔL [q(B2) − q(B1)], q(B) = sin B / (2(1 − e² sin² B)) + atanh(e sin B) / (2e)."""
    e = math.sqrt(E2)

    def q(b):
        s = math.sin(b)
        return s / (2 * (1 - E2 * s * s)) + math.atanh(e * s) / (2 * e)

    return B_AXIS**2 * (l2 - l1) * (q(b2) - q(b1))


def trapezoid_formula(b1, l1, b2, l2):
    """32号 formula for one trapezoid between two parallels and two meridians."""
    db, bm = b2 - b1, (b1 + b2) / 2
    return 2 * B_AXIS**2 * (l2 - l1) * (
        A_C * math.sin(db / 2) * math.cos(bm)
        - B_C * math.sin(3 * db / 2) * math.cos(3 * bm)
        + C_C * math.sin(5 * db / 2) * math.cos(5 * bm)
        - D_C * math.sin(7 * db / 2) * math.cos(7 * bm)
        + E_C * math.sin(9 * db / 2) * math.cos(9 * bm))


def bl_rectangle(crs, lon, lat, dlon=0.025, dlat=0.018):
    """The plane polygon whose corners are (lon, lat) and (lon + dlon, lat + dlat), projected
    by pyproj (about 2 km × 2 km at mid latitudes)."""
    corners = [(lon, lat), (lon + dlon, lat), (lon + dlon, lat + dlat), (lon, lat + dlat)]
    return Polygon([forward(crs, x, y) for x, y in corners])


def star_2km_45n(jitter: float, seed: int = 45):
    """A 7-tip star at 45°N, 1.2° east of zone 40's central meridian, alternating radii
    2100 m / 1000 m, each radius scaled by up to ±``jitter``, scaled so that its longest edge
    is 1999 m, and turned until every edge is 2° or more off the plane axes."""
    crs = "EPSG:4528"
    ce, cn = forward(crs, 121.2, 45.0)
    rng = random.Random(seed)
    radii = [base * rng.uniform(1 - jitter, 1 + jitter) for base in [2100, 1000] * 7]
    turn = 0.3
    while True:
        angles = [turn + math.pi * i / 7 for i in range(14)]
        pts = [(ce + r * math.cos(a), cn + r * math.sin(a))
               for r, a in zip(radii, angles, strict=True)]
        scale = 1999 / longest_edge(pts)
        pts = [(ce + (e - ce) * scale, cn + (n - cn) * scale) for e, n in pts]
        if sloping(pts, degrees=2.0):
            return crs, Polygon([(off_tie(e), off_tie(n)) for e, n in pts])
        turn += 0.01


# --- the reference checks itself ------------------------------------------------------------


def test_rounding_is_half_away_from_zero_on_the_exact_double():
    # 1/32 = 0.03125 and 5/32 = 0.15625 are exact doubles and exact ties at 4 decimals
    assert round_half_away(39500000.03125, 4) == 39500000.0313
    assert round_half_away(4000000.15625, 4) == 4000000.1563
    assert round_half_away(-0.15625, 4) == -0.1563
    # 0.00015 is stored as 0.000149999...: no tie, rounds down
    assert round_half_away(0.00015, 4) == 0.0001
    assert round_half_away(180000.1234565, 6) == 180000.123457  # stored above the tie


def test_densification_inserts_floor_d_over_70_points():
    for length, count in [(70.0, 0), (70.01, 1), (139.99, 1), (140.0, 2), (2000.0, 28)]:
        ring = [(500000.0, 4000000.0), (500000.0 + length * 0.6, 4000000.0 + length * 0.8),
                (500000.0, 4000000.0 + length * 0.8)]  # first edge is `length` long
        points = densified(ring)
        first_edge = points[1:points.index(ring[1])]
        assert len(first_edge) == count
        # the interior points are equally spaced along the edge, to the 6-decimal rounding
        for k, (e, n) in enumerate(first_edge, start=1):
            assert math.hypot(e - ring[0][0], n - ring[0][1]) == pytest.approx(
                length * k / (count + 1), abs=2e-6)


@pytest.mark.parametrize("crs", ["EPSG:4527", "EPSG:4548"])
def test_series_inverse_agrees_with_pyproj_over_the_zone(crs):
    # 20–50°N, up to 1.5° from the central meridian, every 2.5° × 0.25°. Angle differences are
    # turned into metres with the meridian (M = c/V³) and prime vertical (N = c/V) radii.
    # Measured: north 0.069 mm at 20°N to 0.131 mm at 50°N, the same on the central meridian
    # (the footpoint series with the printed K0–K4); east at most 0.0016 mm.
    zone = zone_of(crs)
    inverse = pyproj.Transformer.from_crs(crs, pyproj.CRS(crs).geodetic_crs, always_xy=True)
    worst_north = worst_east = 0.0
    for i in range(13):
        for j in range(13):
            lat, lon = 20 + 2.5 * i, zone[0] - 1.5 + 0.25 * j
            e, n = forward(crs, lon, lat)
            lon_p, lat_p = inverse.transform(e, n)
            b_s, l_s = series_inverse(e, n, zone)
            bp, lp = math.radians(lat_p), math.radians(lon_p)
            v2 = 1 + EP2 * math.cos(bp) ** 2
            worst_north = max(worst_north, abs(b_s - bp) * C_POLAR / v2**1.5)
            worst_east = max(worst_east, abs(l_s - lp) * C_POLAR / math.sqrt(v2) * math.cos(bp))
    assert worst_north < 0.15e-3
    assert worst_east < 0.005e-3


@pytest.mark.parametrize("cell", [(20.0, 110.0, 21.0, 111.0), (40.0, 115.0, 45.0, 118.0),
                                  (49.98, 120.0, 50.0, 120.02)], ids=str)
def test_formula2_over_a_lat_lon_cell_is_the_trapezoid_formula(cell):
    # The ring sum over the cell's four edges (two along parallels contribute 0) equals the
    # 32号 one-trapezoid formula, to the rounding of terms ~L/ΔL times the area (longitudes
    # from Greenwich), and that equals the ellipsoid's closed form (series error ~e¹⁰).
    b1, l1, b2, l2 = (math.radians(v) for v in cell)
    ring = [(b1, l1), (b1, l2), (b2, l2), (b2, l1)]
    trapezoid = trapezoid_formula(b1, l1, b2, l2)
    assert abs(formula2_sum(ring)) == pytest.approx(trapezoid, rel=1e-13, abs=1e-5)
    assert trapezoid == pytest.approx(exact_cell_area(b1, l1, b2, l2), rel=1e-10)


@pytest.mark.parametrize("case", TRIANGLES_AND_STARS[::3], ids=case_id)
@pytest.mark.parametrize("method", ["survey3", "survey2"])
def test_reference_ignores_orientation_start_vertex_and_reference_meridian(case, method):
    # Reversing the ring or starting at another vertex only negates or reorders the terms
    # (math.fsum adds them exactly); measured difference 0 on every triangle and star. The
    # reference meridian cancels over a closed ring up to the terms' rounding; measured with
    # the central meridian instead of Greenwich: ≤ 8e-6 m².
    _, crs, polygon = case
    ring = list(polygon.exterior.coords)[:-1]
    area0 = reference_area(polygon, crs, method)
    for variant in (ring[::-1], ring[2:] + ring[:2], (ring[1:] + ring[:1])[::-1]):
        assert reference_area(Polygon(variant), crs, method) == pytest.approx(area0, abs=1e-4)
    zone = zone_of(crs)
    bl = geodetic_ring(plane_ring(ring, method), zone)
    assert abs(formula2_sum(bl, math.radians(zone[0]))) == pytest.approx(area0, abs=1e-4)


# --- the library against the reference ------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_survey3_matches_the_reference(case):
    _, crs, geom = case
    got = area.official_area([geom], crs=crs, method="survey3")[0]
    assert abs(got - reference_area(geom, crs, "survey3")) <= 0.01


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_survey2_matches_the_reference(case):
    _, crs, geom = case
    got = area.official_area([geom], crs=crs, method="survey2")[0]
    assert abs(got - reference_area(geom, crs, "survey2")) <= 0.01


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_default_method_is_survey3(case):
    _, crs, geom = case
    default = area.official_area([geom], crs=crs)[0]
    assert default == area.official_area([geom], crs=crs, method="survey3")[0]


def test_all_cases_in_one_call_match_one_by_one():
    # one array in, one area per geometry out, in order
    for crs, _ in ZONES:
        geoms = [g for _, c, g in CASES if c == crs]
        together = area.official_area(np.array(geoms, dtype=object), crs=crs)
        assert len(together) == len(geoms)
        for g, got in zip(geoms, together, strict=True):
            assert abs(got - reference_area(g, crs)) <= 0.01


@pytest.mark.parametrize("case", [c for c in CASES if c[1] in ("EPSG:4527", "EPSG:4528")],
                         ids=case_id)
def test_the_zone_prefix_changes_nothing(case):
    # The same shape with the zone number taken off its eastings, in the unprefixed CRS.
    # Interior points computed at another magnitude can land on the other side of a 1e-6″
    # rounding of step 4, which moves a point ~3e-5 m, ~0.002 m² (measured ≤ 0.0017 m²
    # between the two references).
    _, crs, geom = case
    unprefixed, prefix = {"EPSG:4527": ("EPSG:4548", 39e6), "EPSG:4528": ("EPSG:4549", 40e6)}[crs]
    moved = translate(geom, xoff=-prefix)
    for method in ("survey3", "survey2"):
        want = reference_area(geom, crs, method)
        assert reference_area(moved, unprefixed, method) == pytest.approx(want, abs=0.01)
        assert abs(area.official_area([moved], crs=unprefixed, method=method)[0] - want) <= 0.01


def tie_triangle():
    """A triangle near 118.2°E 40°N in zone 39 whose coordinates are exact rounding ties at 4
    decimals, fractions k/32. The first vertex has 1/32 and 5/32, where half to even rounds
    down and half away from zero rounds up; the others have 3/32, 7/32, 11/32 and 15/32
    (the third easting is e0 − 300 + 11/32), where both round up."""
    e0, n0 = 39_602_000, 4_430_000
    return Polygon([(e0 + 0.03125, n0 + 0.15625), (e0 + 1200.09375, n0 + 900.21875),
                    (e0 - 299.65625, n0 + 1500.46875)])


def test_exact_ties_round_half_away_from_zero():
    # Rounding the first vertex half to even moves it 1e-4 m west and south of where half
    # away from zero puts it, which changes the plane area by 1e-4 × (300 + 750) = 0.105 m²
    # (measured on the ellipsoid: 0.101, the rest is the 1e-6″ rounding of the moved interior
    # points), so a library that rounds half to even fails here.
    crs, tri = "EPSG:4527", tie_triangle()
    want = reference_area(tri, crs, "survey3")
    assert abs(reference_area(tri, crs, "survey3", ROUND_HALF_EVEN) - want) > 0.05
    assert abs(area.official_area([tri], crs=crs)[0] - want) <= 0.01


def test_unknown_method_names_the_allowed_ones():
    with pytest.raises(ValueError, match="survey3") as raised:
        area.official_area([tie_triangle()], crs="EPSG:4527", method="nope")
    assert "survey2" in str(raised.value)


# --- the checks can fail: the methods differ by more than the tolerances --------------------


def test_densification_changes_the_star_areas():
    # Measured on the 24 random stars: |survey3 − survey2| from 0.0002 to 0.18 m², over
    # 0.01 m² for 19 of them (and 0.1–115 m² on the triangles, whose edges do not cancel).
    diffs = [abs(reference_area(g, c, "survey3") - reference_area(g, c, "survey2"))
             for _, c, g in STARS]
    assert sum(d > 0.01 for d in diffs) >= len(diffs) // 2
    assert max(diffs) > 0.1


def test_straight_in_lat_lon_edges_are_not_survey2():
    # Formula (2) with the mean longitude is exact for an edge straight in (L, G(B)), not in
    # (L, B): per edge the two differ by about b² sin B ΔL ΔB² / 12, up to ~30 m² for a
    # sloping 2 km edge at 45°N. On a regular star these terms cancel by symmetry
    # (Σ cos θ sin² θ = 0 over 7 equally turned directions), leaving a measured +0.032 m²;
    # with its radii jittered by ±25 % they do not: measured +11.8 m².
    crs, regular = star_2km_45n(jitter=0.0)
    assert straight_bl_area(regular, crs) - reference_area(regular, crs, "survey2") > 0.02
    crs, irregular = star_2km_45n(jitter=0.25)
    assert abs(straight_bl_area(irregular, crs) - reference_area(irregular, crs, "survey2")) > 0.1


# --- limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize("crs, lon, lat", [("EPSG:4525", 109.6, 20.2), ("EPSG:4548", 117.0, 35.0),
                                           ("EPSG:4528", 121.4, 49.9)], ids=str)
def test_survey2_is_the_lat_lon_cell_on_a_meridian_parallel_rectangle(crs, lon, lat):
    # Edges along a meridian (ΔL = 0) or a parallel (ΔB = 0) make formula (2) exact, so
    # survey2 equals the straight-(B, L) integral of the same vertices; both are within the
    # series' ~0.1 mm of the closed-form cell (the north error is nearly the same on both
    # parallels). Measured: ≤ 6e-6 m² and ≤ 6.2e-5 m².
    rectangle = bl_rectangle(crs, lon, lat)
    survey2 = reference_area(rectangle, crs, "survey2")
    assert survey2 == pytest.approx(straight_bl_area(rectangle, crs), abs=0.01)
    cell = exact_cell_area(*(math.radians(v) for v in (lat, lon, lat + 0.018, lon + 0.025)))
    assert survey2 == pytest.approx(cell, abs=0.001)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_survey3_is_close_to_the_geodesic_area(case):
    # Densified edges follow the straight plane line, which a geodesic 100–160 km off the
    # central meridian leaves by a few mm over 2 km. Measured |survey3 − geodesic| / geodesic:
    # triangles ≤ 1.27e-6 (0.66 m² at most), stars ≤ 4.2e-8, holed stars ≤ 7.6e-8, star
    # pairs ≤ 2.0e-8.
    cid, crs, geom = case
    geodesic = area.geodesic_area([geom], crs=crs)[0]
    bound = 1.5e-6 if cid.startswith("tri") else 1e-7
    assert abs(reference_area(geom, crs, "survey3") - geodesic) <= bound * geodesic
