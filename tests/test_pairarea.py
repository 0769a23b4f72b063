"""Intersection areas measured from the outlines (landcheck.geometry.pairarea) against GEOS."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

from landcheck.area import SAME_AREA_M2, official_area
from landcheck.geometry import pairarea
from landcheck.geometry.pairarea import overlap_areas

CRS = "EPSG:4527"  # CGCS2000 3° GK zone 39, prefixed eastings
X0, Y0 = 39_530_000.0, 3_500_000.0


def sq(x, y, w, h=None):
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + (w if h is None else h))


def poly(*pts):
    return shapely.Polygon([(X0 + x, Y0 + y) for x, y in pts])


def geos(a, b):
    """What the overlay measured before: the official area of GEOS's piece."""
    return official_area(
        shapely.intersection(np.asarray(a, object), np.asarray(b, object)), crs=CRS
    )


def status(a, b):
    """The kernel's verdict on each pair (generic, degenerate, a inside b)."""
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    ua, ia = pairarea._unique(a)
    ub, ib = pairarea._unique(b)
    st_, planar, *_ = pairarea._kernel(*pairarea.flatten(ua), *pairarea.flatten(ub), ia, ib)
    return st_, planar


# (a, b, planar area of a ∩ b worked out on paper, kernel status)
HAND = {
    "corner overlap": (sq(0, 0, 10), sq(5.5, 5.5, 10), 4.5 * 4.5, pairarea.GENERIC),
    "a inside b": (sq(2, 2, 3), sq(0, 0, 10), 9.0, pairarea.A_INSIDE_B),
    "b inside a": (sq(0, 0, 10), sq(2, 2, 3), 9.0, pairarea.GENERIC),
    "strip across": (sq(0, 0, 10), sq(5, -1, 1, 20), 10.0, pairarea.GENERIC),
    "disjoint": (sq(0, 0, 10), sq(20, 20, 1), 0.0, pairarea.GENERIC),
    # a triangle (0,0) (10,0.5) (3,9) clipped by the square (1,1)-(6,6)
    "hole in a": (sq(0, 0, 10).difference(sq(4, 4, 2)), sq(3, 3, 4), 16.0 - 4.0, pairarea.GENERIC),
    "hole in b": (sq(3, 3, 4), sq(0, 0, 10).difference(sq(4, 4, 2)), 12.0, pairarea.GENERIC),
    "a's hole holds b": (sq(0, 0, 10).difference(sq(3, 3, 4)), sq(4, 4, 1), 0.0, pairarea.GENERIC),
    "multipolygon a": (
        shapely.union(sq(0, 0, 2), sq(5, 0, 2)),
        sq(1, -1, 5, 4),
        2.0 * 1.0 + 2.0 * 1.0,
        pairarea.GENERIC,
    ),
    "clockwise rings": (shapely.reverse(sq(0, 0, 10)), shapely.reverse(sq(5.5, 5.5, 10)), 20.25, 0),
    # outlines sharing part of an edge with different vertices along it (left to GEOS: their
    # official areas would differ by the vertex effect); then, decided with the second
    # outline shifted by an infinitesimal: a vertex on the other's edge, identical outlines,
    # a touching corner, neighbours sharing a whole edge, a shared edge seen from inside
    "shared edge": (sq(0, 0, 10), sq(0, 0, 5, 10), 50.0, pairarea.DEGENERATE),
    # the triangle right of x = 5 up to x = 10: 5 · 10 − (10/7) · 5²/2
    "vertex on edge": (
        sq(0, 0, 10),
        poly((5, 0), (12, 5), (5, 10)),
        50.0 - 125.0 / 7.0,
        pairarea.GENERIC,
    ),
    "identical": (sq(0, 0, 10), sq(0, 0, 10), 100.0, pairarea.GENERIC),
    "touching corner": (sq(0, 0, 10), sq(10, 10, 5), 0.0, pairarea.GENERIC),
    "neighbours, left": (sq(0, 0, 10), sq(-10, 0, 10), 0.0, pairarea.GENERIC),
    "neighbours, right": (sq(0, 0, 10), sq(10, 0, 10), 0.0, pairarea.GENERIC),
    "neighbours, below": (sq(0, 0, 10), sq(0, -10, 10), 0.0, pairarea.GENERIC),
    "same edges, inside": (
        sq(0, 0, 10),
        poly((0, 0), (10, 0), (10, 10), (0, 10), (-5, 5)),
        100.0,
        pairarea.GENERIC,
    ),
}


@pytest.mark.parametrize("case", list(HAND))
def test_hand_checked_pairs(case):
    a, b, planar, kind = HAND[case]
    area, inside = overlap_areas([a], [b], crs=CRS)
    ref = geos([a], [b])
    # official ≈ planar here: 30 km from the central meridian the scale differs by ~1e-5
    assert area[0] == pytest.approx(planar, rel=1e-4, abs=1e-9)
    assert area[0] == pytest.approx(ref[0], rel=1e-12, abs=1e-9)
    kernel_status, kernel_planar = status([a], [b])
    assert kernel_status[0] == kind
    if kind != pairarea.DEGENERATE:
        assert kernel_planar[0] == pytest.approx(planar, rel=1e-12, abs=1e-9)
    assert inside[0] == (kind == pairarea.A_INSIDE_B)


def test_missing_and_repeated_objects():
    a, b = sq(0, 0, 10), sq(5, 5, 10)
    area, inside = overlap_areas([a, None, a, a], [b, b, None, b], crs=CRS)
    assert area[1] == 0.0 and area[2] == 0.0
    assert area[0] == area[3] == pytest.approx(geos([a], [b])[0], rel=1e-12)
    assert not inside.any()


def test_collections_count_their_polygonal_parts():
    a = shapely.GeometryCollection([sq(0, 0, 4), shapely.LineString([(X0, Y0), (X0 + 9, Y0)])])
    area, _ = overlap_areas([a], [sq(2, 2, 10)], crs=CRS)
    assert area[0] == pytest.approx(geos([sq(0, 0, 4)], [sq(2, 2, 10)])[0], rel=1e-12)


def test_nothing_of_area_measures_zero():
    """Empty polygons, lines, points and collections without polygons have no area in
    common with anything (the kernel never sees them)."""
    square = sq(0, 0, 10)
    line = shapely.LineString([(X0, Y0), (X0 + 5, Y0 + 5)])
    nothing = [
        shapely.Polygon(),
        line,
        shapely.Point(X0 + 1, Y0 + 1),
        shapely.GeometryCollection([line]),
    ]
    area, inside = overlap_areas([*nothing, square], [*[square] * 4, shapely.Polygon()], crs=CRS)
    assert (area == 0).all() and not inside.any()


def test_lengths_must_match():
    with pytest.raises(ValueError, match="2 geometries in a, 1 in b"):
        overlap_areas([sq(0, 0, 1), sq(0, 0, 1)], [sq(0, 0, 1)], crs=CRS)


def test_empty_input():
    area, inside = overlap_areas([], [], crs=CRS)
    assert area.shape == (0,) and inside.shape == (0,)


def _star(cx, cy, radii, turn):
    angles = turn + np.linspace(0.0, 2 * np.pi, len(radii), endpoint=False)
    return shapely.Polygon(
        np.c_[X0 + cx + radii * np.cos(angles), Y0 + cy + radii * np.sin(angles)]
    )


stars = st.builds(
    _star,
    st.floats(-30, 30),
    st.floats(-30, 30),
    st.lists(st.floats(5, 40), min_size=3, max_size=24).map(np.array),
    st.floats(0, 2 * np.pi),
)


@settings(max_examples=300, deadline=None)
@given(a=stars, b=stars, grid=st.sampled_from([0.0, 0.0, 1.0, 5.0]))
def test_same_area_as_geos(a, b, grid):
    """Random star-shaped polygons; snapped to a coarse grid, outlines share vertices and
    edges (decided with one outline shifted by an infinitesimal, or left to GEOS).

    Planar areas agree to 1e-9. Official areas agree to landcheck.area.SAME_AREA_M2: where
    the outlines touch, GEOS keeps the touching point as a vertex of the piece, which the
    method rounds and whose edges it densifies on their own (docs/area.md)."""
    if grid:  # rounded coordinates (set_precision would make GEOS snap its results too)
        a, b = (shapely.transform(g, lambda xy: np.round(xy / grid) * grid) for g in (a, b))
    if not (shapely.is_valid(a) and shapely.is_valid(b)) or a.is_empty or b.is_empty:
        return
    planar, _ = overlap_areas([a, b], [b, a], crs=None)
    pieces = shapely.intersection(np.array([a, b], dtype=object), np.array([b, a], dtype=object))
    np.testing.assert_allclose(planar, shapely.area(pieces), rtol=1e-9, atol=1e-7)
    area, inside = overlap_areas([a, b], [b, a], crs=CRS)
    ref = geos([a, b], [b, a])
    np.testing.assert_allclose(area, ref, rtol=0, atol=SAME_AREA_M2)
    if inside[0]:
        assert official_area([a], crs=CRS)[0] == pytest.approx(area[0], rel=1e-12)
        assert shapely.covers(b, a)


def test_a_known_area_stands_for_a_polygon_inside_its_partner():
    """Pair 0: a lies in b, its area is given → taken as given (the outline is not measured);
    pair 1: a overlaps b → measured whatever is given; pair 2: a lies in b, area unknown
    (NaN) → measured."""
    a = np.array([sq(10, 10, 20), sq(90, 0, 20), sq(210, 10, 20)], dtype=object)
    b = np.array([sq(0, 0, 50), sq(100, 0, 50), sq(200, 0, 50)], dtype=object)
    plain, inside = overlap_areas(a, b, crs=CRS)
    given, inside2 = overlap_areas(a, b, crs=CRS, a_area=np.array([123.0, 456.0, np.nan]))
    assert inside.tolist() == inside2.tolist() == [True, False, True]
    assert given[0] == 123.0
    assert given[1] == plain[1] == pytest.approx(official_area([sq(100, 0, 10, 20)], crs=CRS)[0],
                                                 rel=1e-9)
    assert given[2] == plain[2]


@pytest.mark.parametrize("holed", [
    None,
    sq(0, 0, 10).difference(sq(4, 4, 2)),
    # a hole whose first point is the exterior's first point (valid: they touch at one point)
    shapely.Polygon([(X0, Y0), (X0 + 10, Y0), (X0 + 10, Y0 + 10), (X0, Y0 + 10)],
                    holes=[[(X0, Y0), (X0 + 5, Y0 + 2), (X0 + 2, Y0 + 5)]]),
])
def test_flatten_finds_the_rings_of_polygons_with_and_without_holes(holed):
    geoms = [sq(20, 0, 3), poly((0, 0), (4, 0), (2, 3))] + ([holed] if holed is not None else [])
    geoms = np.array(geoms, dtype=object)
    assert all(shapely.is_valid(geoms))
    _, _, ring_off, geom_off, sign = pairarea.flatten(geoms)
    n_rings = [1 + shapely.get_num_interior_rings(g) for g in geoms]
    assert np.diff(geom_off).tolist() == n_rings
    assert np.diff(ring_off).tolist() == [
        len(r.coords) for g in geoms for r in [g.exterior, *g.interiors]]
    # +1 where a ring runs with its polygon's interior on its left
    expect = [1 if shapely.is_ccw(r) == (k == 0) else -1
              for g in geoms for k, r in enumerate([g.exterior, *g.interiors])]
    assert sign.tolist() == expect


def test_a_side_flattened_once_gives_the_same_answers():
    """overlap_areas and clip_pairs with a's outlines given flattened (pairarea.Flat) and an
    index per pair answer exactly as when they flatten a themselves."""
    from landcheck.geometry.pairclip import clip_pairs

    polys = np.array([sq(0, 0, 10), sq(0, 0, 10).difference(sq(4, 4, 2)),
                      shapely.union(sq(20, 0, 2), sq(25, 0, 2))], dtype=object)
    flat = pairarea.Flat(polys)
    index = np.array([2, 0, 1, 0, 2])
    a = np.array([*polys[index[:-1]], None], dtype=object)
    b = np.array([sq(21, -1, 5, 3), sq(5.5, 5.5, 10), sq(3, 3, 4), sq(20, 20, 1),
                  sq(0, 0, 1)], dtype=object)
    got = overlap_areas(a, b, crs=CRS, a_flat=(flat, index))
    want = overlap_areas(a, b, crs=CRS)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    for difference in (False, True):
        got = clip_pairs(a, b, difference=difference, a_flat=(flat, index))
        want = clip_pairs(a, b, difference=difference)
        assert [None if g is None else g.wkb for g in got] == [
            None if g is None else g.wkb for g in want]
