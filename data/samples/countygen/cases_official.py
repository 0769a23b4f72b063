"""Designed cases of the official categories (docs/official.md): the four-way child split, a
patch legal by land supply (供地), a mining patch, a facility filing of a kind no vocabulary
knows and a patch on a land-use code no scheme knows. Built after every other case so that
the earlier slots keep their places.
"""

from __future__ import annotations

from .cases_legality import slot, std
from .world import D, Measure, World


def build(w: World) -> None:
    four_way(w)
    supply(w)
    mining(w)
    facility_unknown(w)
    unknown_landuse(w)


def four_way(w: World) -> None:
    """Two approvals (overlapping by 5 m), a crop-facility filing and 8 m that nothing covers:
    four child plots of 750, 500 (the second approval less the first), 350 and 400 m², in
    that order."""
    s = slot(w, "0404")
    a = w.approval(s.r(25, 20, 20, 60), D(2022, 3, 15), kind="农转用",
                   name="示范县2022年度第1批次城镇建设用地（拆分示例）")
    b = w.approval(s.r(40, 20, 15, 60), D(2022, 6, 20), kind="供地",
                   name="示范县2022年度国有建设用地供应（拆分示例）")
    f = w.filing(s.r(55, 20, 7, 60), "种植设施", D(2023, 2, 1))
    p = std(s)
    (w.patch("OC1", p, "20", bz="厂区及配套大棚").context(refs=[a, b, f])
     .fires("legality.approved", "西部25米在两宗批准范围内（重叠5米只计一次）",
            "the western 25 m lie in two approvals (their 5 m overlap counts once)",
            legal_m2=Measure(1250, p & (a.geom | b.geom)))
     .fires("legality.facility_ag", "中部7米为已备案种植设施", "the middle 7 m are a filed "
            "planting facility", legal_m2=Measure(350, p & f.geom))
     .silent("legality.facility_kind_unknown", "备案类型“种植设施”可识别", "the filed kind "
             "'种植设施' is known")
     .fires("legality.unapproved_construction", "东部8米（400平方米）未批先建",
            "the eastern 8 m (400 m2) have no approval", illegal_m2=Measure(400, p - a.geom
                                                                            - b.geom - f.geom))
     .result("illegal", legal=Measure(1600, p & (a.geom | b.geom | f.geom)),
             illegal=Measure(400, p - a.geom - b.geom - f.geom)))


def supply(w: World) -> None:
    s = slot(w, "0404")
    a = w.approval(s.r(20, 15, 60, 70), D(2022, 9, 1), kind="供地",
                   name="示范县2022年度国有建设用地供应")
    p = std(s)
    (w.patch("OC2", p, "20", bz="供地后建设").context(refs=[a])
     .fires("legality.approved", "整图斑在供地范围内", "the whole patch lies in a land supply")
     .result("legal", legal=Measure(2000, p & a.geom), illegal=0))


def mining(w: World) -> None:
    s = slot(w, "0404")
    p = std(s)
    (w.patch("OC3", p, "CK", bz="采石场").context()
     .fires("legality.unapproved_construction", "采矿用地未批先建", "mining without approval")
     .silent("legality.unknown_landuse", "地类0404可识别", "land-use code 0404 is known")
     .result("illegal", legal=0, illegal=Measure(2000, p)))


def facility_unknown(w: World) -> None:
    s = slot(w, "0404")
    f = w.filing(s.r(20, 15, 60, 70), "", D(2023, 3, 1))
    p = std(s)
    (w.patch("OC6", p, "YH", bz="晒场硬化").context(refs=[f])
     .fires("legality.facility_kind_unknown", "备案未填类型，不作为合法依据，待核实",
            "facility filing without a kind: no cover, for review")
     .result("needs_review", legal=0, illegal=0))

    s = slot(w, "0404")
    f = w.filing(s.r(20, 15, 60, 70), "其他设施", D(2023, 3, 1))
    p = std(s)
    (w.patch("OC4", p, "20", bz="附属设施").context(refs=[f])
     .fires("legality.facility_kind_unknown", "备案类型“其他设施”无法识别，不作为合法依据，待核实",
            "facility filing of unknown kind '其他设施': no cover, for review")
     .silent("legality.unapproved_construction", "备案覆盖部分待核实，不计入未批部分",
             "the filed part is held for review, not left to the unapproved remainder")
     .result("needs_review", legal=0, illegal=0))


def unknown_landuse(w: World) -> None:
    s = slot(w, "9901")
    p = std(s)
    (w.patch("OC7", p, "03", bz="植树").context()
     .fires("legality.unknown_landuse", "地类代码9901不在三调地类表中，待核实",
            "land-use code 9901 is not in the 三调 table: for review")
     .fires("legality.agricultural_change", "林地类变化，不属新增建设",
            "forest change, not new construction")
     .result("needs_review", legal=0, illegal=0))

    s = slot(w, "1299")
    p = std(s)
    (w.patch("OC5", p, "02", bz="新植果树").context()
     .fires("legality.unknown_landuse", "地类代码1299不在三调地类表中，待核实",
            "land-use code 1299 is not in the 三调 table: for review")
     .fires("legality.agricultural_change", "园地类变化，不属新增建设",
            "garden change, not new construction")
     .result("needs_review", legal=0, illegal=0))
