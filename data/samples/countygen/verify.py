"""Checks run on every build: the land use is a coverage, every designed number is what the
geometry gives, and no designed case is disturbed by a layer it does not name.
"""

from __future__ import annotations

from collections import Counter

import shapely

from .fill import FARM
from .world import (
    AREA_TOL,
    CORRIDOR_SEARCH_M,
    HEIGHT,
    WIDTH,
    Measure,
    Subject,
    World,
    check,
    equivalent_width,
    plane_area,
)

RULES = """
legality.approved legality.facility_ag legality.temporary_land legality.built_before_approval
legality.unapproved_construction legality.photovoltaic_on_farmland legality.agricultural_change
legality.rural_road legality.unknown_type legality.missing_dates legality.invalid_geometry
legality.near_threshold farmland.four_prohibitions farmland.outflow farmland.lake_digging
farmland.non_grain farmland.balance_exempt projects.supplement_misplaced
projects.linkage_misplaced projects.linkage_no_building projects.not_farmland_after
projects.paddy_not_aquatic projects.linkage_no_crop projects.late_approval
projects.late_supplement projects.late_linkage corridors.over_standard corridors.recent_deadline
corridors.plan_required roads.pass roads.too_wide roads.widened roads.new_road
roads.on_permanent_farmland roads.balance_required roads.public_welfare_forest
roads.commercial_forest temporary.over_footprint temporary.overdue temporary.use_changed
temporary.on_permanent_farmland temporary.term_too_long plans.outside_town_boundary
plans.contains_permanent_farmland plans.public_share_low deadline.city deadline.province
deadline.ministry legality.facility_kind_unknown legality.unknown_landuse
""".split()

REF_LAYERS = ("pz", "ssnyd", "lsyd", "ld", "nclu_qq")


def _union(w: World, layer: str, pred=None):
    return shapely.union_all([f.geom for f in w.features[layer] if pred is None or pred(f)])


def landuse(w: World) -> None:
    geoms = [p["geometry"] for p in w.landuse]
    assert all(g.is_valid and g.geom_type == "Polygon" for g in geoms)
    assert shapely.coverage_is_valid(geoms), "land use is not a valid coverage"
    total = sum(g.area for g in geoms)
    assert abs(total - WIDTH * HEIGHT) < 1e-3, total
    assert abs(shapely.union_all(geoms).area - WIDTH * HEIGHT) < 1e-3


def measures(w: World) -> None:
    """Every designed area equals the area of the geometry it names (in EPSG:4527)."""
    for s in w.subjects:
        for row in s.rows:
            for key, m in row.measures.items():
                if isinstance(m, Measure):
                    m.measured = _measure(s, key, m)
        for key in ("legal", "illegal"):
            m = getattr(s, key)
            if m is not None:
                m.measured = check(f"{s.label} {key}", plane_area(m.geom), m.designed)


def _measure(s: Subject, key: str, m: Measure) -> float:
    if key == "width_m":
        return check(f"{s.label} width", equivalent_width(s.feature.geom), m.designed, 1e-6)
    return check(f"{s.label} {key}", plane_area(m.geom), m.designed)


def patch_context(w: World) -> None:
    """Recompute each patch's overlay with the county-wide layers and compare with the design."""
    pf = _union(w, "yjjbnt")
    farm = shapely.union_all([p["geometry"] for p in w.landuse if p["DLBM"] in FARM])
    red = _union(w, "stbhhx")
    trees = {layer: shapely.STRtree([f.geom for f in w.features[layer]]) for layer in REF_LAYERS}
    corridors = w.features["jtxl"]
    ctree = shapely.STRtree([f.geom for f in corridors])
    patches = [s for s in w.subjects if s.layer == "patches"]
    for s in patches:
        g = s.feature.geom
        if g.is_empty or not g.is_valid:
            continue
        for name, layer_union, designed in (("pf", pf, s.pf), ("farm", farm, s.farm),
                                            ("red", red, s.red)):
            check(f"{s.label} context {name}", plane_area(g & layer_union), designed)
        found = set()
        for layer, tree in trees.items():
            for i in tree.query(g, predicate="intersects"):
                f = w.features[layer][int(i)]
                if (f.geom & g).area > 1e-9:
                    found.add(f.id)
        for i in ctree.query(g, predicate="dwithin", distance=CORRIDOR_SEARCH_M):
            found.add(corridors[int(i)].id)
        assert found == s.refs, (s.label, sorted(found ^ s.refs))
    valid = [s.feature.geom for s in patches if s.feature.geom.is_valid
             and not s.feature.geom.is_empty]
    tree = shapely.STRtree(valid)
    pairs = tree.query(valid, predicate="intersects")
    assert all(a == b for a, b in pairs.T), "patches overlap"


def review_subjects(w: World) -> None:
    """Projects, plans and temporary land measured again against the county-wide layers."""
    ybndq, village = _union(w, "ybndq"), _union(w, "czjskzq")
    town, pf = _union(w, "czkfbj"), _union(w, "yjjbnt")
    farm = shapely.union_all([p["geometry"] for p in w.landuse if p["DLBM"] in FARM])
    lsyd = _union(w, "lsyd")
    main = _union(w, "jz", lambda f: f.attrs["JZLX"] == "主房")
    for s in w.subjects:
        fired = {r.rule: r for r in s.rows if r.expect == "fires"}
        g = shapely.union_all([f.geom for f in s.features])
        a = s.feature.attrs
        if s.layer == "xm":
            zone = ybndq if a["XMLX"] == "占补平衡" else village
            rule = ("projects.supplement_misplaced" if a["XMLX"] == "占补平衡"
                    else "projects.linkage_misplaced")
            _expect(s, fired, rule, "outside_m2", plane_area(g - zone))
            if a["YSRQ"] is not None:
                _expect(s, fired, "projects.not_farmland_after", "illegal_m2", plane_area(g - farm))
            if a["XMLX"] == "增减挂钩":
                assert (plane_area(g & main) > 0) != ("projects.linkage_no_building" in fired)
        elif s.layer == "cpkf":
            _expect(s, fired, "plans.outside_town_boundary", "outside_m2", plane_area(g - town))
            _expect(s, fired, "plans.contains_permanent_farmland", "pf_m2", plane_area(g & pf))
        elif s.layer == "lsyd":
            _expect(s, fired, "temporary.on_permanent_farmland", "pf_m2", plane_area(g & pf))
        elif s.layer == "lsyd_sj":
            _expect(s, fired, "temporary.over_footprint", "illegal_m2", plane_area(g - lsyd))


def quiet_features(w: World) -> None:
    """Temporary approvals and footprints that are no case must not trip any temporary rule."""
    named = {id(f) for s in w.subjects for f in s.features}
    pf, lsyd = _union(w, "yjjbnt"), _union(w, "lsyd")
    for f in w.features["lsyd"]:
        if id(f) in named:
            continue
        a = f.attrs
        years = 4 if a["XXJC"] == "是" else 2
        limit = a["KSRQ"].replace(year=a["KSRQ"].year + years)
        assert a["JSRQ"] <= limit and plane_area(f.geom & pf) <= AREA_TOL, a["PZWH"]
    for f in w.features["lsyd_sj"]:
        if id(f) not in named:
            assert plane_area(f.geom - lsyd) <= AREA_TOL, f.id


def _expect(s: Subject, fired: dict, rule: str, key: str, measured: float) -> None:
    if rule in fired:
        check(f"{s.label} {rule}", measured, fired[rule].measures[key].designed)
    else:
        assert measured <= AREA_TOL, (s.label, rule, measured)


def rule_coverage(w: World) -> Counter:
    counts: Counter = Counter()
    for s in w.subjects:
        for r in s.rows:
            assert r.rule in RULES, r.rule
            counts[(r.rule, r.expect)] += 1
    for rule in RULES:
        assert counts[(rule, "fires")] >= 2 and counts[(rule, "silent")] >= 1, (rule, counts)
    return counts


def unique_ids(w: World) -> None:
    for layer in ("patches", "pz", "ssnyd", "lsyd", "lsyd_sj", "xm", "yjjbnt", "ld", "jtxl"):
        ids = [f.id for f in w.features[layer]]
        assert len(ids) == len(set(ids)), layer


def run(w: World) -> Counter:
    landuse(w)
    measures(w)
    patch_context(w)
    review_subjects(w)
    quiet_features(w)
    unique_ids(w)
    return rule_coverage(w)
