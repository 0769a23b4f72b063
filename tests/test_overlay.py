"""Overlay facts on shapes whose answers are known: halves, overlaps, slivers, dates."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from landcheck.area import official_area
from landcheck.facts import compute_facts

CRS = "EPSG:4527"
X0, Y0 = 39_500_000.0, 3_520_000.0


def b(x0, y0, x1, y1):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def oa(*geoms):
    return float(official_area(list(geoms), crs=CRS).sum())


def frame(rows, geoms):
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=list(geoms), crs=CRS)


def patches(*geoms, after="2023-06-30", type_="20"):
    n = len(geoms)
    return frame(
        {
            "id": [f"P{i}" for i in range(n)],
            "type": [type_] * n,
            "before": pd.to_datetime(["2022-12-31"] * n),
            "after": pd.to_datetime([after] * n),
        },
        geoms,
    )


def approvals(*items):
    return frame(
        {"id": [i[0] for i in items], "date": pd.to_datetime([i[1] for i in items])},
        [i[2] for i in items],
    )


def test_half_on_approval_half_on_permanent_farmland():
    p = patches(b(0, 0, 40, 50))
    layers = {
        "approvals": approvals(("A1", "2023-01-01", b(0, 0, 20, 50))),
        "permanent_farmland": frame({"id": ["F1"]}, [b(20, -10, 60, 60)]),
    }
    f = compute_facts(p, layers, crs=CRS).facts.iloc[0]
    assert f["area_m2"] == pytest.approx(oa(b(0, 0, 40, 50)), rel=1e-12)
    assert f["approved_m2"] == pytest.approx(oa(b(0, 0, 20, 50)), rel=1e-9)
    assert f["remainder_m2"] == pytest.approx(oa(b(20, 0, 40, 50)), rel=1e-9)
    assert f["remainder_pf_m2"] == pytest.approx(oa(b(20, 0, 40, 50)), rel=1e-9)
    assert f["permanent_farmland_frac"] == pytest.approx(0.5, rel=1e-6)
    # cover and remainder are measured on their own outlines: they add up to the area to
    # 0.01 m²
    assert f["cover_m2"] + f["remainder_m2"] == pytest.approx(f["area_m2"], abs=0.01)
    assert f["approval_ids"] == ["A1"]
    assert f["permanent_farmland_ids"] == ["F1"]


def test_overlapping_approvals_not_double_counted():
    p = patches(b(0, 0, 100, 100))
    layers = {
        "approvals": approvals(
            ("A1", "2023-01-01", b(0, 0, 60, 100)), ("A2", "2023-02-01", b(40, 0, 80, 100))
        )
    }
    f = compute_facts(p, layers, crs=CRS).facts.iloc[0]
    # the patch on the union of the approvals (its outline carries their corners at x = 40
    # and 60) against the hand-drawn box: different outlines, to 0.01 m²
    assert f["approved_m2"] == pytest.approx(oa(b(0, 0, 80, 100)), abs=0.01)
    assert f["remainder_m2"] == pytest.approx(oa(b(80, 0, 100, 100)), rel=1e-9)
    assert sorted(f["approval_ids"]) == ["A1", "A2"]


def test_approval_after_the_after_date_is_late_not_cover():
    p = patches(b(0, 0, 40, 50), after="2023-06-30")
    layers = {
        "approvals": approvals(
            ("A1", "2023-07-01", b(0, 0, 40, 50)), ("A0", "2023-06-30", b(0, 0, 10, 50))
        )
    }
    f = compute_facts(p, layers, crs=CRS).facts.iloc[0]
    assert f["approved_m2"] == pytest.approx(oa(b(0, 0, 10, 50)), rel=1e-9)  # same day counts
    assert f["approved_late_m2"] == pytest.approx(oa(b(10, 0, 40, 50)), rel=1e-9)
    # the late part is 先建后批, not an unapproved remainder
    assert f["remainder_m2"] == pytest.approx(0.0, abs=1e-9)
    assert f["approval_late_ids"] == ["A1"]


@pytest.mark.parametrize("tolerance, expect_strip", [(0.1, False), (0.0, True), (0.04, True)])
def test_sliver_removed_by_tolerance(tolerance, expect_strip):
    p = patches(b(0, 0, 40, 50))
    layers = {"approvals": approvals(("A1", "2023-01-01", b(0, 0, 39.95, 50)))}
    f = compute_facts(p, layers, crs=CRS, tolerance_m=tolerance).facts.iloc[0]
    strip = oa(b(39.95, 0, 40, 50))
    assert f["remainder_m2"] == pytest.approx(strip if expect_strip else 0.0, rel=1e-6, abs=1e-9)
    assert f["cover_m2"] == pytest.approx(oa(b(0, 0, 39.95, 50)), rel=1e-9)
    # a removed sliver counts as neither cover nor remainder
    assert f["cover_m2"] + f["remainder_m2"] + (0 if expect_strip else strip) == pytest.approx(
        f["area_m2"], rel=1e-9
    )
    assert f["cut_m"] == pytest.approx(50.0 if expect_strip else 0.0, abs=1e-5)


def test_facility_livestock_does_not_cover_permanent_farmland():
    p = patches(b(0, 0, 40, 40), b(100, 0, 140, 40))
    fac = frame(
        {"id": ["S1", "S2"], "kind": ["livestock", "crop"]},
        [b(0, 0, 40, 40), b(100, 0, 140, 40)],
    )
    pf = frame(
        {"id": ["F1"]},
        [
            b(0, 0, 20, 200),
        ],
    )
    pf2 = frame({"id": ["F1", "F2"]}, [b(0, 0, 20, 40), b(100, 0, 120, 40)])
    for pf_layer in (pf, pf2):
        facts = compute_facts(
            p, {"facility_ag": fac, "permanent_farmland": pf_layer}, crs=CRS
        ).facts
        assert facts.loc[0, "facility_m2"] == pytest.approx(oa(b(20, 0, 40, 40)), rel=1e-9)
        assert facts.loc[0, "facility_on_pf_m2"] == pytest.approx(oa(b(0, 0, 20, 40)), rel=1e-9)
        assert facts.loc[0, "remainder_pf_m2"] == pytest.approx(oa(b(0, 0, 20, 40)), rel=1e-9)
    # planting facility covers even on permanent farmland
    assert facts.loc[1, "facility_m2"] == pytest.approx(oa(b(100, 0, 140, 40)), rel=1e-9)
    assert facts.loc[1, "remainder_m2"] == 0


@pytest.mark.parametrize(
    "after, in_force",
    [
        ("2023-06-30", True),
        ("2021-01-01", True),
        ("2022-12-31", True),
        ("2023-07-01", False),
        ("2020-12-31", False),
    ],
)
def test_temporary_land_in_force_at_after_date(after, in_force):
    p = patches(b(0, 0, 10, 10), after=after)
    tmp = frame(
        {
            "id": ["T1"],
            "start": pd.to_datetime(["2021-01-01"]),
            "end": pd.to_datetime(["2023-06-30"]),
        },
        [b(-5, -5, 15, 15)],
    )
    f = compute_facts(p, {"temporary_land": tmp}, crs=CRS).facts.iloc[0]
    full = oa(b(0, 0, 10, 10))
    assert f["temporary_m2"] == pytest.approx(full if in_force else 0.0, rel=1e-9)
    assert f["remainder_m2"] == pytest.approx(0.0 if in_force else full, rel=1e-9, abs=1e-9)
    expired = after > "2023-06-30"
    assert f["temporary_expired_m2"] == pytest.approx(full if expired else 0.0, rel=1e-9)


def test_landuse_groups_k_codes_and_planting():
    p = patches(b(0, 0, 100, 10))
    lu = frame(
        {"id": ["1", "2", "3"], "class": ["0101", "0201K", "0702"], "planting": ["FLS", "", ""]},
        [b(0, 0, 50, 10), b(50, 0, 80, 10), b(80, 0, 100, 10)],
    )
    lu.loc[:, "geometry"] = [b(-10, -10, 50, 20), b(50, -10, 80, 20), b(80, -10, 120, 20)]
    f = compute_facts(p, {"landuse": lu}, crs=CRS).facts.iloc[0]
    assert f["lu_farmland_m2"] == pytest.approx(oa(b(0, 0, 50, 10)), rel=1e-9)
    assert f["lu_garden_m2"] == pytest.approx(oa(b(50, 0, 80, 10)), rel=1e-9)
    assert f["lu_construction_m2"] == pytest.approx(oa(b(80, 0, 100, 10)), rel=1e-9)
    assert f["lu_k_m2"] == pytest.approx(oa(b(50, 0, 80, 10)), rel=1e-9)
    assert f["planting_FLS_m2"] == pytest.approx(oa(b(0, 0, 50, 10)), rel=1e-9)
    assert sorted(f["lu_classes"]) == ["0101", "0201K", "0702"]
    assert f["remainder_farmland_m2"] == pytest.approx(oa(b(0, 0, 50, 10)), rel=1e-9)


@pytest.mark.parametrize("segment", [None, 10.0])
def test_contained_patch_gets_its_own_area(segment):
    """A patch inside a feature (small or > 64 vertices) takes the prepared containment
    shortcut: the piece is the patch itself, with the patch's own area, bit for bit."""
    inner = b(10, 10, 20, 20)
    town = b(0, 0, 1000, 1000)
    if segment:
        town = shapely.segmentize(town, segment)
        assert shapely.get_num_coordinates(town) > 64
    f = compute_facts(patches(inner), {"town_boundary": frame({"id": ["T"]}, [town])},
                      crs=CRS).facts.iloc[0]
    assert f["town_boundary_m2"] == f["area_m2"]
    assert f["town_boundary_frac"] == 1.0


def test_whole_patch_cover_and_unions_take_the_patch_area_exactly():
    """One approval contains the patch, another overlaps it: the cover is the patch (no
    union re-noding its outline), nothing remains, nothing is late-only."""
    p = patches(b(0, 0, 40, 50))
    layers = {
        "approvals": approvals(
            ("A1", "2023-01-01", b(-5, -5, 45, 55)),
            ("A2", "2023-02-01", b(20, 20, 60, 30)),
            ("A3", "2024-02-01", b(30, 0, 70, 50)),
        ),
        "permanent_farmland": frame({"id": ["F1", "F2"]}, [b(-5, -5, 30, 55), b(30, -5, 60, 55)]),
    }
    f = compute_facts(p, layers, crs=CRS).facts.iloc[0]
    assert f["approved_m2"] == f["area_m2"] == f["cover_m2"]
    assert f["approved_late_m2"] == 0.0
    assert f["remainder_m2"] == 0.0 and f["cut_m"] == 0.0
    # the patch on F1 and F2 (which meet at x = 30) against the patch itself: to 0.01 m²
    assert f["permanent_farmland_m2"] == pytest.approx(f["area_m2"], abs=0.01)
    assert f["approval_ids"] == ["A1", "A2"] and f["approval_late_ids"] == ["A3"]


def test_cut_remainder_inside_one_zone_and_on_farmland_only():
    """The patch lies inside one permanent-farmland polygon and on two farmland parcels;
    an approval takes a hole out of its middle: the remainder is all on permanent farmland
    and all on farmland, and the cut is the hole's outline (4 × 10 m)."""
    p = patches(b(0, 0, 40, 50))
    layers = {
        "approvals": approvals(("A1", "2023-01-01", b(10, 10, 20, 20))),
        "permanent_farmland": frame({"id": ["F1"]}, [b(-5, -5, 45, 55)]),
        "landuse": frame(
            {"id": ["1", "2"], "class": ["0101", "0103"]}, [b(-5, -5, 25, 55), b(25, -5, 45, 55)]
        ),
    }
    f = compute_facts(p, layers, crs=CRS).facts.iloc[0]
    assert f["remainder_m2"] == pytest.approx(oa(b(0, 0, 40, 50)) - oa(b(10, 10, 20, 20)),
                                              rel=1e-9)
    assert f["remainder_pf_m2"] == f["remainder_m2"]
    assert f["remainder_farmland_m2"] == f["remainder_m2"]
    assert f["cut_m"] == pytest.approx(40.0, abs=1e-9)


def test_cut_length_of_a_remainder_cut_twice():
    """Approvals take a corner square and a strip across the patch: the remainder's cut
    lines are the corner's two inner edges (10 + 10 m) and the strip's two edges (2 × 40 m),
    not the parts of its outline on the patch boundary."""
    p = patches(b(0, 0, 40, 50))
    layers = {
        "approvals": approvals(
            ("A1", "2023-01-01", b(-5, -5, 10, 10)), ("A2", "2023-01-01", b(-5, 30, 45, 35))
        )
    }
    f = compute_facts(p, layers, crs=CRS).facts.iloc[0]
    assert f["cut_m"] == pytest.approx(100.0, abs=1e-9)


def test_a_sliver_with_almost_no_area_is_removed_with_its_cut_length():
    """An approval covers the patch's right part but stops 1e-8 m short of its bottom edge:
    the remainder is the 10 × 100 m left part plus a 90 m × 1e-8 m strip (9e-7 m², under
    1e-9 of the remainder's area). The strip is thinner than the tolerance, so it goes, and
    the cut is the 100 m line x = 10 alone, not 100 + 2 × 90 m."""
    p = patches(b(0, 0, 100, 100))
    layers = {"approvals": approvals(("A1", "2023-01-01", b(10, 1e-8, 110, 110)))}
    f = compute_facts(p, layers, crs=CRS).facts.iloc[0]
    assert f["remainder_m2"] == pytest.approx(oa(b(0, 0, 10, 100)), rel=1e-9)
    assert f["cut_m"] == pytest.approx(100.0, abs=1e-6)


@pytest.mark.parametrize("chamfer", [0.0, 0.02])
def test_a_trimmed_remainder_never_takes_the_bulge_of_a_mitre_join(chamfer):
    """An approval leaves a 0.05 m strip on the west edge (a sliver at tolerance 0.1 m) and
    the east part x ≥ 20. With a 0.02 m chamfer at the east part's corner (40, 50), the
    opening erodes the chamfer away and grows the corner back sharp: a 2e-4 m² bulge
    outside the remainder, which must not count. Without the chamfer the opening lies in
    the remainder and is the trimmed remainder."""
    east = [(20, 0), (40, 0), (40, 50 - chamfer), (40 - chamfer, 50), (20, 50)]
    if not chamfer:
        east = [(20, 0), (40, 0), (40, 50), (20, 50)]
    outline = [(0, 0), *east[1:-1], (0, 50)]
    patch = Polygon([(X0 + x, Y0 + y) for x, y in outline])
    layers = {"approvals": approvals(("A1", "2023-01-01", b(0.05, -1, 20, 51)))}
    r = compute_facts(patches(patch), layers, crs=CRS)
    f = r.facts.iloc[0]
    east_part = Polygon([(X0 + x, Y0 + y) for x, y in east])
    assert f["remainder_m2"] == pytest.approx(oa(east_part), rel=1e-9)
    assert shapely.area(shapely.difference(r.remainder[0], patch)) < 1e-6
    assert f["cut_m"] == pytest.approx(50.0, abs=1e-5)


def test_few_big_features_are_queried_against_a_tree_of_patches():
    """4 × features < patches: the tree is built on the patches; pairs are the same."""
    many = [b(x, 0, x + 5, 5) for x in range(0, 400, 10)]
    town = frame({"id": ["T1", "T2"]}, [b(-1, -1, 98, 6), b(298, -1, 401, 6)])
    facts = compute_facts(patches(*many), {"town_boundary": town}, crs=CRS).facts
    hit = facts["town_boundary_ids"].map(tuple).tolist()
    assert hit == [("T1",)] * 10 + [()] * 20 + [("T2",)] * 10


def test_bad_geometries_are_flagged_not_fatal():
    bowtie = Polygon([(X0, Y0), (X0 + 2, Y0 + 2), (X0 + 2, Y0), (X0, Y0 + 2)])
    p = patches(b(0, 0, 10, 10), bowtie, Polygon(), None)
    facts = compute_facts(
        p, {"approvals": approvals(("A", "2023-01-01", b(0, 0, 5, 10)))}, crs=CRS
    ).facts
    assert facts["geom_ok"].tolist() == [True, False, False, False]
    assert facts["geom_problem"].tolist()[1:] == [
        "invalid geometry",
        "empty geometry",
        "empty geometry",
    ]
    assert facts["geom_problem_zh"].tolist()[1:] == ["几何无效，如自相交", "几何为空", "几何为空"]
    assert facts.loc[1:, "area_m2"].tolist() == [0.0, 0.0, 0.0]
    assert facts.loc[0, "approved_m2"] > 0


@pytest.mark.parametrize(
    "shape, width",
    [
        (b(0, 0, 100, 6), 6.0),
        (shapely.union(b(0, 0, 100, 6), b(0, 0, 6, 80)), 6.0),  # L-shaped 6 m road
        (b(0, 0, 300, 8.5), 8.5),
    ],
)
def test_strip_width(shape, width):
    f = compute_facts(patches(shape), {}, crs=CRS).facts.iloc[0]
    assert f["width_m"] == pytest.approx(width, rel=1e-9)


def test_input_not_mutated_and_order_kept():
    p = patches(b(0, 0, 10, 10), b(20, 0, 30, 10), b(40, 0, 50, 10))
    before = p.copy()
    facts = compute_facts(
        p, {"approvals": approvals(("A", "2023-01-01", b(20, 0, 30, 10)))}, crs=CRS
    ).facts
    assert facts["id"].tolist() == ["P0", "P1", "P2"]
    assert np.allclose(facts["approved_m2"].to_numpy() > 0, [False, True, False])
    pd.testing.assert_frame_equal(p, before)


def test_existing_construction_land_is_not_remainder_and_cut_length():
    """Half homestead (0702), half farmland: only the farmland half remains; cut 50 m."""
    p = patches(b(0, 0, 40, 50))
    lu = frame(
        {"id": ["1", "2"], "class": ["0702", "0103"]}, [b(-10, -10, 20, 60), b(20, -10, 60, 60)]
    )
    f = compute_facts(p, {"landuse": lu}, crs=CRS).facts.iloc[0]
    assert f["built_m2"] == pytest.approx(oa(b(0, 0, 20, 50)), rel=1e-9)
    assert f["remainder_m2"] == pytest.approx(oa(b(20, 0, 40, 50)), rel=1e-9)
    assert f["cut_m"] == pytest.approx(50.0, abs=1e-5)  # ends within CUT_SNAP_M of the edge
    assert f["remainder_farmland_m2"] == pytest.approx(oa(b(20, 0, 40, 50)), rel=1e-9)


@pytest.mark.parametrize(
    "use, category, covered",
    [
        ("haul_road", "20", False),
        ("haul_road", "YH", True),
        ("borrow_pit", "20", False),
        ("site_camp", "20", True),
    ],
)
def test_temporary_cover_needs_a_fitting_use(use, category, covered):
    p = patches(b(0, 0, 10, 10), type_=category)
    tmp = frame(
        {
            "id": ["T1"],
            "start": pd.to_datetime(["2023-01-01"]),
            "end": pd.to_datetime(["2024-01-01"]),
            "use": [use],
        },
        [b(-5, -5, 15, 15)],
    )
    f = compute_facts(p, {"temporary_land": tmp}, crs=CRS).facts.iloc[0]
    full = oa(b(0, 0, 10, 10))
    assert f["temporary_m2"] == pytest.approx(full if covered else 0.0, rel=1e-9, abs=1e-9)
    assert f["temporary_use_bad_m2"] == pytest.approx(0.0 if covered else full, rel=1e-9, abs=1e-9)


def test_farmland_on_permanent_farmland_and_general_farmland():
    p = patches(b(0, 0, 40, 50))
    lu = frame(
        {"id": ["1", "2"], "class": ["0101", "0201"], "planting": ["FLS", ""]},
        [b(-10, -10, 30, 60), b(30, -10, 60, 60)],
    )
    pf = frame({"id": ["F"]}, [b(-10, -10, 10, 60)])
    f = compute_facts(p, {"landuse": lu, "permanent_farmland": pf}, crs=CRS).facts.iloc[0]
    assert f["lu_farmland_pf_m2"] == pytest.approx(oa(b(0, 0, 10, 50)), rel=1e-9)
    assert f["planting_FLS_pf_m2"] == pytest.approx(oa(b(0, 0, 10, 50)), rel=1e-9)
    # farmland less its part on permanent farmland, against the hand-drawn box: to 0.01 m²
    assert f["general_farmland_m2"] == pytest.approx(oa(b(10, 0, 30, 50)), abs=0.01)
    assert f["farmland_or_pf_m2"] == pytest.approx(oa(b(0, 0, 30, 50)), rel=1e-9)


def test_features_that_only_touch_are_not_hits():
    """Edge- and corner-touching features add no area, no ids, and do not break overlays
    (their line/point pieces once made a GEOS overlay fail on mixed dimensions)."""
    p = patches(b(0, 0, 10, 10), b(20, 0, 30, 10))
    layers = {
        "approvals": approvals(("EDGE", "2023-01-01", b(10, 0, 20, 10)),
                               ("CORNER", "2023-12-01", b(30, 10, 40, 20)),
                               ("IN", "2023-01-01", b(0, 0, 5, 10))),
        "permanent_farmland": frame({"id": ["F"]}, [b(-10, 10, 40, 20)]),  # touches both
    }
    facts = compute_facts(p, layers, crs=CRS).facts
    assert facts["approval_ids"].tolist() == [["IN"], []]
    assert facts["approval_late_ids"].tolist() == [[], []]
    assert facts["permanent_farmland_n"].tolist() == [0, 0]
    assert facts.loc[1, "remainder_m2"] == pytest.approx(oa(b(20, 0, 30, 10)), rel=1e-9)


def test_garbage_collector_is_paused_only_while_facts_are_computed(monkeypatch):
    import gc

    import landcheck.facts.compute as ov

    seen = []
    real = ov.patch_base

    def spy(*args):
        seen.append(gc.isenabled())
        return real(*args)

    monkeypatch.setattr(ov, "patch_base", spy)
    assert gc.isenabled()
    compute_facts(patches(b(0, 0, 10, 10)), {}, crs=CRS)
    assert seen == [False] and gc.isenabled()

    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(ov, "patch_base", broken)
    with pytest.raises(RuntimeError, match="boom"):
        compute_facts(patches(b(0, 0, 10, 10)), {}, crs=CRS)
    assert gc.isenabled()
    gc.disable()  # a caller that runs without the collector keeps it off
    try:
        monkeypatch.setattr(ov, "patch_base", real)
        compute_facts(patches(b(0, 0, 10, 10)), {}, crs=CRS)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_patch_minus_cover_is_kept_only_where_the_remainder_step_computed_exactly_it():
    """P0: approved west half → patch − cover kept (the fragments reuse it); P1: a later
    approval also excluded → not patch − cover, left to the fragments; P2: whole patch
    approved and P3: no approval → nothing to keep."""
    p = patches(b(0, 0, 40, 50), b(100, 0, 140, 50), b(200, 0, 240, 50), b(300, 0, 340, 50))
    layers = {
        "approvals": approvals(
            ("A0", "2023-01-01", b(0, 0, 20, 50)),
            ("A1", "2023-01-01", b(100, 0, 120, 50)),
            ("A1L", "2024-01-01", b(130, 0, 140, 50)),
            ("A2", "2023-01-01", b(190, -10, 250, 60)),
        ),
    }
    r = compute_facts(p, layers, crs=CRS)
    kept = r.uncovered
    assert kept[0] is not None
    assert shapely.equals(kept[0], shapely.difference(p.geometry[0], r.cover[0]))
    assert shapely.area(kept[0]) == pytest.approx(20 * 50, rel=1e-12)
    assert kept[1] is None and kept[2] is None and kept[3] is None
    assert r.facts["remainder_m2"].iloc[1] == pytest.approx(oa(b(120, 0, 130, 50)), rel=1e-9)


def _cut_length_by_geos(work, remainder):
    """The cut-length rule written with GEOS predicates, for comparison."""
    out = np.zeros(len(work))
    for k, (patch, rem) in enumerate(zip(work, remainder, strict=True)):
        if rem is None or rem is patch:
            continue
        edge = shapely.boundary(patch)
        for ring in shapely.get_rings(shapely.get_parts(rem)):
            c = shapely.get_coordinates(ring)
            p0, p1 = c[:-1], c[1:]
            on = (shapely.dwithin(shapely.points(p0 + (p1 - p0) / 3.0), edge, 1e-6)
                  & shapely.dwithin(shapely.points(p0 + 2.0 * (p1 - p0) / 3.0), edge, 1e-6))
            out[k] += np.hypot(*(p1 - p0).T)[~on].sum()
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-20, 60), st.floats(-20, 60), st.floats(1, 40),
                          st.floats(1, 40), st.floats(0, 90)), min_size=1, max_size=6))
def test_cut_length_matches_the_rule_written_with_geos(boxes):
    """Patches with a hole and a second part, each cut by a rotated box (the cut edges,
    the edges left on the patch outline and the holes' edges all occur)."""
    from shapely import affinity

    from landcheck.facts.remainder import cut_length as _cut_length

    base = shapely.MultiPolygon([
        Polygon([(0, 0), (50, 0), (50, 40), (0, 40)], [[(10, 10), (20, 10), (20, 20), (10, 20)]]),
        Polygon([(60, 0), (70, 0), (70, 10), (60, 10)]),
    ])
    work, rem = [], []
    for x, y, w, h, angle in boxes:
        cutter = affinity.rotate(shapely.box(x, y, x + w, y + h), angle)
        work.append(base)
        left = shapely.difference(base, cutter)
        rem.append(None if left.is_empty else left)
    work = np.array([*work, base], dtype=object)
    rem = np.array([*rem, base], dtype=object)  # the last is uncut: the patch itself
    got = _cut_length(work, rem)
    assert got == pytest.approx(_cut_length_by_geos(work, rem), rel=1e-12, abs=1e-9)
    assert got[-1] == 0.0


def test_what_the_paused_overlay_keeps_alive_goes_to_the_oldest_generation():
    """No collection walks the results right after the pause; a process's own frozen objects
    (a pre-forking server's) stay frozen."""
    import gc

    gc.collect()
    r = compute_facts(patches(b(0, 0, 10, 10)), {}, crs=CRS)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert gc.get_count()[0] < 50  # the youngest generation is (nearly) empty
    assert any(r.facts is o for o in gc.get_objects(generation=2))
    anchor = [[]]  # a container the collector tracks

    def tracked(obj):
        return any(obj is o for g in range(3) for o in gc.get_objects(generation=g))

    assert tracked(anchor)
    gc.freeze()
    try:
        compute_facts(patches(b(0, 0, 10, 10)), {}, crs=CRS)
        assert not tracked(anchor) and gc.get_freeze_count() > 0  # still frozen
    finally:
        gc.unfreeze()
    assert tracked(anchor)


def test_same_rings_any_start_direction_and_ring_order():
    from landcheck.geometry.outline_kernel import same_rings
    from landcheck.geometry.pairs import outline_points as _outline_points

    outer = [(0, 0), (10, 0), (10, 10), (0, 10)]
    hole1, hole2 = [(1, 1), (2, 1), (2, 2)], [(5, 5), (6, 5), (6, 6)]
    base = Polygon(outer, [hole1, hole2])
    turned = Polygon(outer[2:] + outer[:2], [hole2[::-1], hole1[1:] + hole1[:1]])
    moved = Polygon([(0, 0), (10, 0), (10, 10), (0, 10.000000001)], [hole1, hole2])
    fewer = Polygon(outer, [hole1])
    multi = shapely.MultiPolygon([Polygon(outer), Polygon([(20, 0), (21, 0), (21, 1)])])
    multi_swapped = shapely.MultiPolygon([Polygon([(21, 1), (20, 0), (21, 0)]), Polygon(outer)])
    a = np.array([base, base, base, multi, base, Polygon()], dtype=object)
    b = np.array([base, turned, moved, multi_swapped, fewer, Polygon()], dtype=object)
    got = same_rings(*_outline_points(a), *_outline_points(b))
    assert got.tolist() == [True, True, False, True, False, False]


def test_remainder_is_cut_with_the_features_not_their_pieces():
    """A patch crossed at odd angles by an approval and a construction parcel: the remainder
    is the patch minus the approval, then minus the parcel (the features themselves), with
    nothing left for the opening to trim. Cutting with the pieces (patch ∩ feature) instead
    leaves the piece's rounded crossing points on the patch outline as extra vertices."""
    from shapely.affinity import rotate

    patch = rotate(b(0, 0, 40, 30), 17, origin="centroid")
    approval = rotate(b(25, -20, 70, 15), -23, origin="centroid")
    parcel = rotate(b(-15, 18, 12, 60), 31, origin="centroid")
    layers = {
        "approvals": approvals(("A1", "2023-01-01", approval)),
        "landuse": frame({"id": ["1", "2"], "class": ["0702", "0103"]},
                         [parcel, shapely.difference(b(-100, -100, 150, 150), parcel)]),
    }
    r = compute_facts(patches(patch), layers, crs=CRS)
    expect = shapely.difference(shapely.difference(patch, approval), parcel)
    assert _same_outline(r.remainder[0], expect)
    f = r.facts.iloc[0]
    assert f["remainder_m2"] == pytest.approx(oa(expect), rel=1e-12)
    cover = shapely.intersection(patch, approval)
    assert f["approved_m2"] == pytest.approx(oa(cover), rel=1e-9)
    assert r.uncovered[0] is None  # the parcel cuts too: not patch − cover
    # without the parcel the bare difference is patch − approval, kept for the fragments
    r = compute_facts(patches(patch), {"approvals": layers["approvals"]}, crs=CRS)
    assert _same_outline(r.uncovered[0], shapely.difference(patch, approval))


def _same_outline(got, expect):
    """The same vertices, each within 1e-9 m (crossing points are rounded independently)."""
    got, expect = shapely.normalize(got), shapely.normalize(expect)
    return shapely.get_num_coordinates(got) == shapely.get_num_coordinates(expect) and bool(
        shapely.equals_exact(got, expect, tolerance=1e-9))


def _keeps(*geoms, d=0.05):
    from landcheck.geometry.outline_kernel import opening_keeps
    from landcheck.geometry.pairarea import flatten as _flatten

    return opening_keeps(*_flatten(np.array(geoms, dtype=object)), d).tolist()


def _geos_opening(g, d=0.05):
    return shapely.buffer(shapely.buffer(g, -d, join_style="mitre"), d, join_style="mitre")


@pytest.mark.parametrize("shape, keeps", [
    (b(0, 0, 10, 10), True),
    (b(0, 0, 0.3, 10), True),  # 0.3 m wide: a vertex is 0.3 m from the far edge, needs 0.18
    (b(0, 0, 0.15, 10), False),  # needs GEOS (which keeps it: 0.15 > 0.1)
    (shapely.union(b(0, 0, 10, 10), b(10, 5, 20, 5.05)), False),  # a 5 cm strip sticks out
    (Polygon([(X0, Y0), (X0 + 10, Y0), (X0, Y0 + 1.5)]), False),  # an 8.5° corner
    (Polygon([(X0, Y0), (X0 + 5, Y0 + 0.001), (X0 + 10, Y0), (X0 + 10, Y0 + 10),
              (X0, Y0 + 10)]), False),  # a vertex 1 mm off the line of its neighbours
    (b(0, 0, 10, 10).difference(b(4, 4, 6, 6)), True),
    (b(0, 0, 10, 10).difference(b(0.05, 4, 6, 6)), False),  # a hole 5 cm from the edge
    (shapely.union(b(0, 0, 10, 10), b(20, 0, 30, 10)), True),
    (shapely.union(b(0, 0, 10, 10), b(10.1, 0, 20, 10)), False),  # parts 0.1 m apart
])
def test_opening_keeps_only_what_the_opening_gives_back(shape, keeps):
    assert _keeps(shape) == [keeps]
    if keeps:  # and then GEOS's opening is the polygon itself
        opened = _geos_opening(shape)
        assert shapely.area(shapely.symmetric_difference(opened, shape)) < 1e-9


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 2 * np.pi), st.floats(0.05, 1.0)), min_size=3,
                max_size=14, unique_by=lambda t: t[0]),
       st.floats(0.2, 30.0))
def test_an_opening_said_to_keep_the_polygon_does(spokes, size):
    """Star polygons of every sharpness and size: where the outline check says the opening
    gives the polygon back, GEOS's opening does (the same area, nothing moved)."""
    spokes = sorted(spokes)
    pts = [(X0 + size * r * np.cos(t), Y0 + size * r * np.sin(t)) for t, r in spokes]
    g = Polygon(pts)
    if not g.is_valid or g.area == 0:
        return
    if _keeps(g) == [True]:
        opened = _geos_opening(g)
        # GEOS rounds the offset outlines to the coordinates' resolution (7.5e-9 m at
        # eastings of 39.5e6 m): a band of a few of those along the outline
        band = 4e-8 * g.length
        assert shapely.area(opened) == pytest.approx(shapely.area(g), abs=band)
        assert shapely.area(shapely.symmetric_difference(opened, g)) <= band


def test_landuse_codes_are_cleaned_grouped_and_counted_per_parcel():
    """Codes in mixed case and padding, a null code and a null planting value, two parcels
    with the same old three-digit code: each parcel's figures as if read one by one, and the
    report counts parcels, not distinct codes."""
    from landcheck.errors import DataWarning

    p = patches(b(0, 0, 100, 10))
    lu = frame(
        {"id": list("12345"), "class": [" 0101 ", "0201k", None, "011", "011"],
         "planting": ["fls", None, "LS", "", " ls"]},
        [b(-10, -10, 20, 20), b(20, -10, 40, 20), b(40, -10, 60, 20), b(60, -10, 80, 20),
         b(80, -10, 120, 20)],
    )
    with pytest.warns(DataWarning, match=r"landuse: 2 land-use code\(s\) use the old"):
        f = compute_facts(p, {"landuse": lu}, crs=CRS).facts.iloc[0]
    assert f["lu_farmland_m2"] == pytest.approx(oa(b(0, 0, 20, 10)), rel=1e-9)
    assert f["lu_garden_m2"] == pytest.approx(oa(b(20, 0, 40, 10)), rel=1e-9)
    assert f["lu_k_m2"] == pytest.approx(oa(b(20, 0, 40, 10)), rel=1e-9)
    # three parcels' pieces (x = 40–60, 60–80, 80–100) against one box: to 0.01 m²
    assert f["lu_unknown_m2"] == pytest.approx(oa(b(40, 0, 100, 10)), abs=0.01)
    assert f["planting_FLS_m2"] == pytest.approx(oa(b(0, 0, 20, 10)), rel=1e-9)
    assert f["planting_LS_m2"] == pytest.approx(oa(b(40, 0, 60, 10), b(80, 0, 100, 10)), rel=1e-9)
    assert sorted(f["lu_classes"]) == ["", "0101", "011", "0201K"]


def test_landuse_parcels_all_without_a_class_are_unknown():
    p = patches(b(0, 0, 40, 10))
    lu = frame({"id": ["1", "2"], "class": [None, None], "planting": [None, None]},
               [b(-10, -10, 20, 20), b(20, -10, 50, 20)])
    f = compute_facts(p, {"landuse": lu}, crs=CRS).facts.iloc[0]
    # the two parcels' pieces (cut at x = 20) against one box: to 0.01 m²
    assert f["lu_unknown_m2"] == pytest.approx(oa(b(0, 0, 40, 10)), abs=0.01)
    assert f["planting_FLS_m2"] == 0.0
    assert f["lu_classes"] == [""]
