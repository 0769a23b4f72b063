"""Designed cases of the rural-road (roads) and green-corridor (corridors) families.

Road patches (TBLX ``ND``) are the whole road surface after the change; the width is the
equivalent-rectangle width of the patch and "before" is the previous-period road (nclu_qq)
that the patch overlaps. Green belts are ``LH`` patches beside a corridor polygon (jtxl).
"""

from __future__ import annotations

import shapely

from .cases_legality import slot
from .world import AS_OF, D, Measure, Slot, World, rect

RURAL = ("legality.rural_road", "农村道路宽度不超过8米，按其他处理",
         "rural road not wider than 8 m: other")


def strip(s: Slot, width: float, length: float = 200, x: float = 50, yc: float = 50):
    """A straight road strip of the given width, centred on y = yc within the slot."""
    return s.r(x, yc - width / 2, length, width)


def build(w: World, corridors: dict) -> None:
    roads_pass(w)
    roads_fail(w)
    roads_land(w)
    green_belts(w, corridors)


def _old(w: World, s: Slot, width: float):
    """Previous-period road: a 1006 parcel and an nclu_qq feature."""
    g = strip(s, width)
    w.paint(g, "1006")
    return w.old_road(g, width), g


def roads_pass(w: World) -> None:
    for label, width, before, base in (("R1", 6, 6, "0404"), ("R15", 8, 8, "0404"),
                                       ("R16", 6.5, 6, "0404")):
        s = slot(w, base, wc=3)
        old, _ = _old(w, s, before)
        p = strip(s, width)
        subj = (w.patch(label, p, "ND", bz="道路硬化提升").context(refs=[old])
                .fires(*RURAL, width_m=Measure(width))
                .fires("roads.pass", f"宽{width}米，前期道路宽{before}米，未拓宽",
                       f"{width} m wide, previous road {before} m: not widened")
                .result("other", legal=0, illegal=0))
        if label == "R15":
            subj.silent("roads.too_wide", "宽度恰为8米（≤8米）", "exactly 8 m wide (<= 8 m)")
        elif label == "R16":
            subj.silent("roads.widened", "6.5米比前期6米宽0.5米，在宽度容差内",
                        "6.5 m vs 6 m before: within the 0.5 m width tolerance")
        else:
            subj.silent("roads.widened", "宽度未变", "width unchanged")
            subj.silent("roads.new_road", "前期已有道路", "there was a road before")
            subj.silent("roads.balance_required", "不占耕地", "no farmland taken")

    s = slot(w, "0404", wc=2, hc=2)
    el = shapely.union_all([s.r(20, 20, 160, 6), s.r(174, 20, 6, 160)])
    w.paint(el, "1006")
    old = w.old_road(el, 6)
    (w.patch("R2", el, "ND", bz="L形道路硬化").context(refs=[old])
     .fires(*RURAL, width_m=Measure(6))
     .fires("roads.pass", "L形6米道路，与前期一致", "L-shaped 6 m road, same as before")
     .result("other", legal=0, illegal=0))

    s = slot(w, "0404", wc=3)
    old, g = _old(w, s, 6)
    w.paint(s.r(0, 53, 300, 47), "0301")
    w.forest(s.r(0, 53, 300, 47), "省级公益林")
    (w.patch("R17", g, "ND", bz="林缘道路硬化").context(refs=[old])
     .fires(*RURAL, width_m=Measure(6))
     .fires("roads.pass", "原宽硬化", "hardened at the same width")
     .silent("roads.public_welfare_forest", "道路与公益林仅边相接，不占林地",
             "the road only touches the public-welfare forest")
     .result("other", legal=0, illegal=0))

    s = slot(w, "0101", wc=3)
    old, g = _old(w, s, 6)
    w.pf(s.r(0, 0, 300, 47))
    w.pf(s.r(0, 53, 300, 47))
    (w.patch("R18", g, "ND", bz="田间道路硬化").context(refs=[old])
     .fires(*RURAL, width_m=Measure(6))
     .fires("roads.pass", "原宽硬化，两侧为永久基本农田", "hardened at the same width between "
            "permanent farmland")
     .silent("roads.on_permanent_farmland", "与永久基本农田仅边相接", "only touches permanent "
             "farmland")
     .result("other", legal=0, illegal=0))


def roads_fail(w: World) -> None:
    s = slot(w, "0404", wc=3)
    p = strip(s, 10)
    (w.patch("R3", p, "ND", bz="新修道路").context()
     .fires("roads.too_wide", "宽10米，超过8米", "10 m wide, more than 8 m", width_m=Measure(10))
     .fires("roads.new_road", "前期无道路", "no road before")
     .silent(*RURAL[:1], "超过8米按建设用地判定", "wider than 8 m: treated as construction")
     .fires("legality.unapproved_construction", "按建设用地判定且未批", "treated as construction, "
            "unapproved")
     .result("illegal", legal=0, illegal=Measure(2000, p)))

    s = slot(w, "0404", wc=3)
    old, p = _old(w, s, 9)
    (w.patch("R4", p, "ND", bz="道路硬化").context(refs=[old])
     .fires("roads.too_wide", "宽9米，超过8米", "9 m wide, more than 8 m", width_m=Measure(9))
     .silent("roads.widened", "与前期同宽", "as wide as before")
     .silent(*RURAL[:1], "超过8米按建设用地判定", "wider than 8 m: treated as construction")
     .fires("legality.unapproved_construction", "1006农村道路不是建设用地，按未批建设判定",
            "1006 rural road is not construction land: unapproved construction")
     .result("illegal", legal=0, illegal=Measure(1800, p)))

    s = slot(w, "0404", wc=3)
    old, _ = _old(w, s, 4)
    p = strip(s, 6)
    (w.patch("R5", p, "ND", bz="道路拓宽").context(refs=[old])
     .fires("roads.widened", "由4米拓宽到6米", "widened from 4 m to 6 m", width_m=Measure(6))
     .fires(*RURAL)
     .silent("roads.pass", "已拓宽，不予通过", "widened: does not pass")
     .result("needs_review", legal=0, illegal=0))

    s = slot(w, "0404", wc=3)
    p = strip(s, 6)
    (w.patch("R7", p, "ND", bz="新建机耕路").context()
     .fires("roads.new_road", "前期影像无道路", "no road in the earlier imagery")
     .fires(*RURAL, width_m=Measure(6))
     .result("needs_review", legal=0, illegal=0))


def roads_land(w: World) -> None:
    s = slot(w, "0103", wc=3)
    old, g = _old(w, s, 5)
    p = strip(s, 7)
    (w.patch("R6", p, "ND", bz="道路拓宽").context(farm=400, refs=[old])
     .fires("roads.widened", "由5米拓宽到7米", "widened from 5 m to 7 m", width_m=Measure(7))
     .fires("roads.balance_required", "拓宽占一般耕地400平方米，须进出平衡",
            "widening takes 400 m2 of general farmland: balance needed",
            farmland_m2=Measure(400, p - g))
     .fires("farmland.outflow", "一般耕地流出为农村道路", "general farmland to rural road",
            balance_m2=Measure(400, p - g))
     .fires(*RURAL)
     .result("needs_review", legal=0, illegal=0))

    s = slot(w, "0101", wc=3)
    pf = w.pf(s.all)
    p = strip(s, 6)
    (w.patch("R8", p, "ND", bz="新建道路").context(pf=1200, farm=1200)
     .fires("roads.on_permanent_farmland", "新建道路占永久基本农田1200平方米",
            "new road on 1200 m2 of permanent farmland", pf_m2=Measure(1200, p & pf.geom))
     .fires("roads.new_road", "前期无道路", "no road before")
     .fires(*RURAL)
     .silent("farmland.outflow", "占的是永久基本农田，不是一般耕地流出",
             "takes permanent farmland, not general farmland")
     .result("illegal", legal=0, illegal=Measure(1200, p & pf.geom)))

    s = slot(w, "0101", wc=3)
    old, g = _old(w, s, 4)
    pfs = [w.pf(s.r(0, 0, 300, 48)), w.pf(s.r(0, 52, 300, 48))]
    p = strip(s, 6)
    pf_part = p & (pfs[0].geom | pfs[1].geom)
    (w.patch("R9", p, "ND", bz="道路拓宽").context(pf=400, farm=400, refs=[old])
     .fires("roads.widened", "由4米拓宽到6米", "widened from 4 m to 6 m")
     .fires("roads.on_permanent_farmland", "拓宽部分占永久基本农田400平方米",
            "the widening takes 400 m2 of permanent farmland", pf_m2=Measure(400, pf_part))
     .fires(*RURAL)
     .result("illegal", legal=0, illegal=Measure(400, pf_part)))

    s = slot(w, "0102", wc=3)
    p = strip(s, 5)
    (w.patch("R10", p, "ND", bz="新建生产路").context(farm=1000)
     .fires("roads.new_road", "前期无道路", "no road before")
     .fires("roads.balance_required", "占一般耕地1000平方米", "takes 1000 m2 of general farmland",
            farmland_m2=Measure(1000, p))
     .fires("farmland.outflow", "一般耕地流出为农村道路", "general farmland to rural road",
            balance_m2=Measure(1000, p))
     .fires(*RURAL)
     .result("needs_review", legal=0, illegal=0))

    forest_roads = [
        ("R11", "省级公益林", 4, 6, "roads.public_welfare_forest", "provincial public-welfare"),
        ("R12", "国家级公益林", None, 6, "roads.public_welfare_forest", "national public-welfare"),
        ("R13", "商品林", None, 6, "roads.commercial_forest", "commercial"),
        ("R14", "商品林", 5, 7, "roads.commercial_forest", "commercial"),
    ]
    for label, cls, before, width, rule, en in forest_roads:
        s = slot(w, "0301", wc=3)
        refs = []
        if before:
            old, g = _old(w, s, before)
            refs = [old]
            lower = 50 - before / 2
            parts = [w.forest(s.r(0, 0, 300, lower), cls),
                     w.forest(s.r(0, 50 + before / 2, 300, lower), cls)]
        else:
            parts = [w.forest(s.all, cls)]
        p = strip(s, width)
        taken = p & shapely.union_all([f.geom for f in parts])
        designed = 200 * (width - (before or 0))
        subj = (w.patch(label, p, "ND", bz="林区道路").context(refs=refs + parts)
                .fires(rule, f"占{cls}{designed:.0f}平方米", f"takes {designed:.0f} m2 of "
                       f"{en} forest", forest_m2=Measure(designed, taken))
                .fires(*RURAL)
                .result("needs_review", legal=0, illegal=0))
        if rule == "roads.public_welfare_forest":
            subj.silent("roads.commercial_forest", f"{cls}不是商品林", f"{en} forest is not "
                        "commercial forest")
        if before:
            subj.fires("roads.widened", f"由{before}米拓宽到{width}米",
                       f"widened from {before} m to {width} m")
        else:
            subj.fires("roads.new_road", "前期无道路", "no road before")


# --- green corridors ----------------------------------------------------------------------------
BELT_LIMIT = {"铁路": 5, "高速公路": 5, "国道": 5, "省道": 5, "县道": 3, "乡道": 3}


def green_belts(w: World, c: dict) -> None:
    all_corridors = shapely.union_all([f.geom for f in w.features["jtxl"]])
    belts = [
        # label, corridor key, belt rect, built, land class, excess designed, bz
        ("C1", "expressway", rect(3050, 5240, 100, 10), D(2022, 4, 15), "0103", 500),
        ("C2", "county_e", rect(7500, 3592, 100, 8), D(2020, 10, 1), "0103", 500),
        ("C3", "river", rect(6600, 4375, 80, 25), D(2021, 1, 1), "0103", 400),
        ("C4", "railway", rect(3100, 1830, 100, 5), D(2022, 6, 1), "0103", 0),
        ("C5", "village_1", rect(6805, 2500, 10, 100), D(2022, 11, 1), "0103", 0),
        ("C6", "expressway", rect(3600, 5240, 100, 10), D(2022, 4, 15), "0404", 0),
        ("C7", "national", rect(6230, 1000, 8, 100), D(2023, 3, 10), "0103", 300),
        ("C8", "provincial", rect(2621, 2100, 6, 100), D(2023, 5, 20), "0103", 200),
        ("C9", "railway", rect(3500, 1830, 120, 8), D(2019, 8, 1), "0103", 360),
    ]
    for label, key, belt, built, cls, excess in belts:
        corridor = c[key]
        around = belt.envelope.buffer(40, join_style="mitre").difference(all_corridors)
        w.paint(around, cls, "LS" if cls == "0103" else None)
        w.reserve(belt.buffer(60, join_style="mitre"))
        _belt_case(w, label, corridor, belt, built, cls, excess)


def _belt_case(w, label, corridor, belt, built, cls, excess) -> None:
    kind = corridor.attrs["DLDJ"]
    limit = BELT_LIMIT.get(kind, corridor.attrs["GHKD"])
    farm = belt.area if cls == "0103" else 0
    subj = w.patch(label, belt, "LH", qsx=D(built.year - 1, 11, 1) if built.month < 3 else
                   D(built.year, built.month - 1, 1), hsx=built,
                   bz=f"廊道绿化专项排查：{corridor.attrs['MC']}两侧绿化带").context(
        farm=farm, refs=[corridor])
    subj.fires("legality.agricultural_change", "绿化属非建设类变化", "greening is a "
               "non-construction change")
    if farm:
        subj.fires("farmland.outflow", "一般耕地流出为绿化带", "general farmland to green belt",
                   balance_m2=Measure(farm, belt))
    due = D(AS_OF.year, 12, 31)
    if excess:
        zone = corridor.geom.buffer(limit, join_style="mitre")
        subj.fires("corridors.over_standard",
                   f"{kind}旁绿化带超出标准宽度{limit:g}米，超标面积{excess}平方米",
                   f"green belt beside a {kind} wider than {limit:g} m: {excess} m2 over",
                   excess_m2=Measure(excess, belt - zone))
        if built >= D(2021, 1, 1):
            subj.fires("corridors.recent_deadline", f"{built}形成（2021年1月1日以来），年底前整改",
                       f"built {built} (since 2021-01-01): rectify by 31 December", due=due)
            subj.silent("corridors.plan_required", "2021年以来形成，不走整改计划",
                        "built since 2021: no rectification plan route")
        else:
            subj.fires("corridors.plan_required", f"{built}形成（2021年前），制定整改计划",
                       f"built {built} (before 2021): rectification plan")
            subj.silent("corridors.recent_deadline", "2021年前形成", "built before 2021")
        subj.result("illegal", legal=0, illegal=Measure(excess, belt - zone))
        return
    why = {
        "C4": ("铁路旁绿化带恰为5米，不超标", "exactly 5 m beside the railway: within standard"),
        "C5": ("村道不在限宽范围（仅铁路、公路、县乡道、河渠）", "village roads have no "
               "width limit (only railways, highways, county/township roads, rivers, canals)"),
        "C6": ("绿化带不在耕地上", "the green belt is not on farmland"),
    }[label]
    subj.silent("corridors.over_standard", *why)
    if label == "C4":
        subj.silent("corridors.recent_deadline", "未超标，无整改期限", "not over standard, no "
                    "deadline")
    subj.result("other", legal=0, illegal=0)
