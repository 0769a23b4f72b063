"""Intersections and differences built from the outlines (geometry.pairclip) against GEOS."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely import box
from shapely.affinity import rotate

from landcheck.geometry.pairclip import clip_pairs

X0, Y0 = 39_530_000.0, 3_500_000.0


def sq(x, y, w, h=None):
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + (w if h is None else h))


def clip(a, b, difference):
    return clip_pairs(np.array([a], dtype=object), np.array([b], dtype=object),
                      difference=difference)[0]


# (a, b, planar area of a ∩ b and of a − b worked out on paper, parts of a ∩ b, of a − b)
HAND = {
    "corner overlap": (sq(0, 0, 10), sq(5.5, 5.5, 10), 4.5 * 4.5, 100 - 4.5 * 4.5, 1, 1),
    "strip across": (sq(0, 0, 10), sq(5, -1, 1, 20), 10.0, 90.0, 1, 2),
    "b inside a": (sq(0, 0, 10), sq(2, 2, 3), 9.0, 91.0, 1, 1),
    "disjoint": (sq(0, 0, 10), sq(20, 20, 1), 0.0, 100.0, 0, 1),
    "hole in a": (sq(0, 0, 10).difference(sq(4, 4, 2)), sq(3, 3, 4), 12.0, 84.0, 1, 1),
    "hole in b": (sq(3, 3, 4), sq(0, 0, 10).difference(sq(4, 4, 2)), 12.0, 4.0, 1, 1),
    "a's hole holds b": (sq(0, 0, 10).difference(sq(3, 3, 4)), sq(4, 4, 1), 0.0, 84.0, 0, 1),
    "two parts of a": (shapely.union(sq(0, 0, 2), sq(5, 0, 2)), sq(1, -1, 5, 4),
                       4.0, 4.0, 2, 2),
    "shared edge (GEOS)": (sq(0, 0, 10), sq(10, 0, 10), 0.0, 100.0, 0, 1),
    "collinear overlap (GEOS)": (sq(0, 0, 10), sq(5, 0, 10), 50.0, 50.0, 1, 1),
}


def _parts(g):
    return 0 if g is None else shapely.get_num_geometries(g)


@pytest.mark.parametrize("difference", [False, True], ids=["intersection", "difference"])
@pytest.mark.parametrize("name", list(HAND))
def test_hand_checked_pairs(name, difference):
    a, b, inter, diff, n_inter, n_diff = HAND[name]
    got = clip(a, b, difference)
    want, parts = (diff, n_diff) if difference else (inter, n_inter)
    if want == 0.0:
        assert got is None
        return
    assert shapely.is_valid(got)
    assert shapely.area(got) == pytest.approx(want, rel=1e-9)
    assert _parts(got) == parts
    assert shapely.get_type_id(got) == (3 if parts == 1 else 6)
    expect = (shapely.difference if difference else shapely.intersection)(a, b)
    assert shapely.area(shapely.symmetric_difference(got, expect)) < 1e-9


def test_a_inside_b_is_a_itself_or_nothing():
    a, b = sq(2, 2, 3), sq(0, 0, 10)
    assert clip(a, b, False) is a
    assert clip(a, b, True) is None


def test_nothing_to_subtract_and_missing_geometries():
    a = sq(0, 0, 10)
    got = clip_pairs(np.array([a, None, a], dtype=object),
                     np.array([None, a, shapely.Polygon()], dtype=object), difference=True)
    assert got[0] is a and got[1] is None and got[2] is a
    got = clip_pairs(np.array([a, None], dtype=object), np.array([None, a], dtype=object))
    assert got[0] is None and got[1] is None
    with pytest.raises(ValueError, match="2 geometries in a, 1 in b"):
        clip_pairs(np.array([a, a], dtype=object), np.array([a], dtype=object))


def test_a_hole_cut_into_a_and_rings_closed_exactly():
    """b inside a: a − b is a with a hole, the hole running clockwise."""
    a, b = sq(0, 0, 10), rotate(sq(3, 3, 2), 30)
    got = clip(a, b, True)
    assert shapely.get_num_interior_rings(got) == 1
    assert not shapely.is_ccw(got.interiors[0]) and shapely.is_ccw(got.exterior)
    assert shapely.area(got) == pytest.approx(100 - shapely.area(b), rel=1e-12)


def test_hole_goes_to_the_shell_that_holds_it():
    """b cuts a in two, and a hole of b lies in one part: that part gets a ring back."""
    a = sq(0, 0, 30, 10)
    b = sq(10, -5, 10, 20).difference(sq(12, 2, 2, 2))  # a band with a window
    got = clip(a, b, True)  # left, right part, and the window's square
    assert _parts(got) == 3
    assert shapely.area(got) == pytest.approx(100 + 100 + 4, rel=1e-12)
    got = clip(sq(0, 0, 30, 10).difference(sq(2, 2, 2, 2)).difference(sq(25, 2, 2, 2)),
               sq(10, -5, 10, 20), True)
    assert _parts(got) == 2
    assert sorted(shapely.get_num_interior_rings(shapely.get_parts(got))) == [1, 1]


def _polygon(draw, cx, cy):
    kind = draw(st.sampled_from(["box", "star", "holed"]))
    w, h = draw(st.floats(1, 40)), draw(st.floats(1, 40))
    angle = draw(st.floats(0, 180))
    if kind == "star":
        n = draw(st.integers(3, 12))
        t = np.sort(np.array(draw(st.lists(st.floats(0, 2 * np.pi), min_size=n, max_size=n,
                                           unique=True))))
        r = np.array(draw(st.lists(st.floats(0.3, 1.0), min_size=n, max_size=n)))
        g = shapely.Polygon(np.column_stack([X0 + cx + w * r * np.cos(t),
                                             Y0 + cy + h * r * np.sin(t)]))
        g = shapely.make_valid(g) if not g.is_valid else g
    else:
        g = sq(cx - w / 2, cy - h / 2, w, h)
        if kind == "holed":
            g = g.difference(sq(cx - w / 4, cy - h / 4, w / 2, h / 2))
    g = rotate(g, angle, origin="centroid")
    return shapely.get_parts(g)[0] if shapely.get_type_id(g) == 7 else g


def _shape(draw, cx, cy):
    """A polygon, or (a third of the time) the union of two: often a MultiPolygon."""
    g = _polygon(draw, cx, cy)
    if draw(st.integers(0, 2)) == 0:
        other = _polygon(draw, cx + draw(st.floats(-40, 40)), cy + draw(st.floats(-40, 40)))
        try:
            g = shapely.union(g, other)
        except shapely.errors.GEOSException:  # GEOS's own union failed: no input to test
            assume(False)
        if shapely.get_type_id(g) == 7:  # a collection from touching parts: keep its areas
            g = shapely.multipolygons(shapely.get_parts(g)[
                np.isin(shapely.get_type_id(shapely.get_parts(g)), [3])])
    return g


@st.composite
def pairs(draw):
    a = _shape(draw, 0.0, 0.0)
    b = _shape(draw, draw(st.floats(-30, 30)), draw(st.floats(-30, 30)))
    return a, b


@settings(max_examples=200, deadline=None)
@given(pairs(), st.booleans())
def test_same_region_as_geos(pair, difference):
    """Whatever the pair — generic or not, one part or several — the result is valid and
    is GEOS's region."""
    a, b = pair
    if not (shapely.is_valid(a) and shapely.is_valid(b)) or shapely.area(a) == 0:
        return
    got = clip(a, b, difference)
    expect = (shapely.difference if difference else shapely.intersection)(a, b)
    expect_area = shapely.area(expect) if not shapely.is_empty(expect) else 0.0
    scale = max(shapely.area(a), 1.0)
    if got is None:
        assert expect_area <= 1e-9 * scale
        return
    assert shapely.is_valid(got)
    assert shapely.get_type_id(got) in (3, 6)
    assert shapely.area(got) == pytest.approx(expect_area, abs=1e-9 * scale)
    assert shapely.area(shapely.symmetric_difference(got, expect)) <= 1e-9 * scale


@pytest.mark.parametrize("difference", [False, True])
def test_only_pairs_that_are_not_generic_go_to_geos(difference, monkeypatch):
    calls = []
    name = "difference" if difference else "intersection"
    real = getattr(shapely, name)
    monkeypatch.setattr(shapely, name, lambda a, b: calls.append(len(a)) or real(a, b))
    a = np.array([sq(0, 0, 10), sq(0, 0, 10), sq(0, 0, 10)], dtype=object)
    b = np.array([sq(5.5, 5.5, 10), sq(5, 0, 10), rotate(sq(3, 3, 2), 30)], dtype=object)
    got = clip_pairs(a, b, difference=difference)
    assert calls == [1]  # the collinear pair only
    for g, x, y in zip(got, a, b, strict=True):
        expect = real(x, y)
        assert shapely.area(shapely.symmetric_difference(g, expect)) < 1e-9
