"""Shape measures on shapes whose answers are known by hand: strips, L shapes, belts."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, Point, affinity, box, union_all

from landcheck.geometry.measure import (
    allowed_zone,
    corridor_land,
    excess_beyond,
    strip_length,
    strip_width,
)
from landcheck.testing import rect


def turn(g, angle, origin=(0, 0)):
    return affinity.rotate(g, angle, origin=origin)


# ---------------------------------------------------------------- strip width


@pytest.mark.parametrize(("w", "length"), [(6, 200), (8, 200), (6.5, 200), (10, 300), (0.5, 40),
                                           (30, 30)])
def test_rectangle_width_is_exact(w, length):
    assert strip_width([box(0, 0, length, w)])[0] == w
    assert strip_width([rect(0, 0, w, length)])[0] == pytest.approx(w, rel=1e-12)


def test_square_is_a_strip_as_wide_as_long():
    assert strip_width(box(0, 0, 10, 10)).tolist() == [10.0]
    assert strip_length(box(0, 0, 10, 10)).tolist() == [10.0]


@pytest.mark.parametrize("shape", ["L", "Z", "U"])
def test_bent_strips_of_constant_width_are_exact(shape):
    arms = {
        "L": [box(20, 20, 180, 26), box(174, 20, 180, 180)],  # the demo county's R2
        "Z": [box(0, 0, 100, 6), box(94, 0, 100, 80), box(94, 74, 200, 80)],
        "U": [box(0, 0, 6, 100), box(0, 0, 120, 6), box(114, 0, 120, 100)],
    }[shape]
    g = union_all(arms)
    assert strip_width([g])[0] == pytest.approx(6.0, rel=0.02)  # the brief's bound …
    assert strip_width([g])[0] == 6.0  # … but it is exact
    assert strip_length([g])[0] == pytest.approx(g.area / 6.0)


def test_l_shape_width_at_county_coordinates():
    el = union_all([rect(20, 20, 180, 26), rect(174, 20, 180, 180)])
    assert strip_width([el])[0] == pytest.approx(6.0, rel=1e-9)


@pytest.mark.parametrize("angle", [0, 17, 30, 45, 90, 123.4])
def test_rotated_shapes_keep_their_width(angle):
    strip = turn(box(0, 0, 200, 7), angle)
    el = turn(union_all([box(0, 0, 160, 6), box(154, 0, 160, 160)]), angle)
    assert strip_width([strip, el]) == pytest.approx([7.0, 6.0], rel=1e-9)


@pytest.mark.parametrize("geom", [Point(0, 0).buffer(10), None, shapely.Polygon(),
                                  LineString([(0, 0), (10, 0)])],
                         ids=["disc", "none", "empty", "line"])
def test_no_width_for_blobs_and_non_areas(geom):
    assert math.isnan(strip_width([geom])[0])


def test_ragged_edge_underestimates_width():
    """Extra perimeter (a notch) gives a smaller width: documented limit of the method."""
    notched = box(0, 0, 200, 6).difference(box(100, 5, 101, 6))
    assert strip_width([notched])[0] < 6.0


# ---------------------------------------------------------------- corridors and zones


def test_centre_line_becomes_a_flat_capped_strip():
    land = corridor_land([LineString([(0, 0), (100, 0)]), LineString([(0, 0), (50, 0), (50, 50)])],
                         [40, 10])
    assert land[0].equals(box(0, -20, 100, 20))
    assert land[1].area == pytest.approx(100 * 10)  # centre length × width: mitred, flat ends


def test_corridor_land_keeps_polygons_and_drops_unknown_widths():
    poly = box(0, 0, 10, 40)
    land = corridor_land([poly, LineString([(0, 0), (1, 0)]), None], [np.nan, np.nan, 5])
    assert land[0] is poly and land[1] is None and land[2] is None


def test_allowed_zone_is_mitred_and_nan_means_no_zone():
    zone = allowed_zone([box(0, 0, 100, 40), box(0, 0, 100, 40), None], [5, np.nan, 5])
    assert zone[0].equals(box(-5, -5, 105, 45))
    assert zone[1] is None and zone[2] is None


# ---------------------------------------------------------------- excess beyond the limit


def test_belt_beside_highway_has_exactly_half_its_width_in_excess():
    """C1 of the demo county: 10 m × 100 m beside the expressway, 5 m allowed."""
    road = rect(0, 0, 8000, 40)
    belt = rect(3050, 40, 3150, 50)
    out = excess_beyond([belt], [road], 5)[0]
    assert out.area == 500.0
    assert out.equals(rect(3050, 45, 3150, 50))


@pytest.mark.parametrize(("depth", "limit", "expect"), [
    (10, 5, 500), (5, 5, 0), (4, 5, 0), (8, 3, 500), (25, 20, 500), (10, 0, 1000)])
def test_excess_of_belts_along_a_straight_road(depth, limit, expect):
    road, belt = box(0, 0, 1000, 30), box(300, 30, 400, 30 + depth)
    assert excess_beyond([belt], [road], limit)[0].area == pytest.approx(expect, abs=1e-9)


def test_gap_between_road_and_belt_counts_from_the_land_boundary():
    """C8: a 6 m belt starting 1 m from the road: 2 m of it lies beyond 5 m."""
    road, belt = box(0, 0, 20, 6000), box(21, 2100, 27, 2200)
    assert excess_beyond([belt], [road], 5)[0].area == pytest.approx(200)


@pytest.mark.parametrize("angle", [13, 30, 60, 90, 145])
def test_rotated_belt_and_road(angle):
    road, belt = turn(box(0, 0, 1000, 40), angle), turn(box(300, 40, 400, 50), angle)
    out = excess_beyond([belt], [road], 5)[0]
    assert out.area == pytest.approx(500, rel=1e-9)
    assert out.symmetric_difference(turn(box(300, 45, 400, 50), angle)).area < 1e-6


def test_no_corridor_means_all_excess_and_no_belt_means_none():
    out = excess_beyond([box(0, 0, 10, 10), None], [None, box(0, 0, 1, 1)], 5)
    assert out[0].area == 100 and out[1] is None


def test_scalar_inputs_broadcast():
    out = excess_beyond(box(0, 40, 100, 50), box(0, 0, 100, 40), [5, 10])
    assert [g.area for g in out] == [500, 0]


# ---------------------------------------------------------------- properties

sizes = st.floats(0.5, 50)
lengths = st.floats(60, 400)
angles = st.floats(0, 360)
shifts = st.floats(-1e6, 1e6)


@settings(max_examples=60, deadline=None)
@given(w=sizes, length=lengths, angle=angles, dx=shifts, dy=shifts)
def test_width_is_invariant_to_rotation_and_translation(w, length, angle, dx, dy):
    base = box(0, 0, length, w)
    moved = affinity.translate(turn(base, angle), dx, dy)
    assert strip_width([moved])[0] == pytest.approx(strip_width([base])[0], rel=1e-6)
    assert strip_width([base])[0] == pytest.approx(min(w, length), rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(x=st.floats(-200, 1100), y=st.floats(-60, 80), bw=st.floats(1, 150), bh=st.floats(1, 60),
       limit=st.floats(0, 20), angle=angles)
def test_excess_never_exceeds_the_belt(x, y, bw, bh, limit, angle):
    road = turn(box(0, 0, 1000, 30), angle)
    belt = turn(box(x, y, x + bw, y + bh), angle)
    out = excess_beyond([belt], [road], limit)[0]
    assert out.area <= belt.area * (1 + 1e-9)
    assert out.difference(belt).area <= 1e-6 * belt.area


@settings(max_examples=60, deadline=None)
@given(x=st.floats(0, 900), bw=st.floats(1, 100), frac=st.floats(0, 1), limit=st.floats(0.5, 20),
       angle=angles, side=st.booleans())
def test_no_excess_when_the_belt_is_within_the_limit(x, bw, frac, limit, angle, side):
    road = box(0, 0, 1000, 30)
    depth = frac * limit
    belt = box(x, 30, x + bw, 30 + depth) if side else box(x, -depth, x + bw, 0)
    if belt.area == 0:
        return
    out = excess_beyond([turn(belt, angle, (500, 15))], [turn(road, angle, (500, 15))], limit)[0]
    assert out.area <= 1e-6 * max(belt.area, 1.0)
