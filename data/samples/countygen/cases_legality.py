"""Designed cases of the legality family (卫片合法性判定), one 100 m slot each in FIELD_S.

Most patches are the same 40 m x 50 m rectangle ``s.r(30, 25, 40, 50)`` (2000 m2) so that the
covered, remaining and protected parts can be read off the slot drawing.
"""

from __future__ import annotations

from shapely.geometry import MultiPolygon, Polygon

from .world import D, Measure, Slot, World

FARM = {"0101", "0102", "0103"}


def slot(w: World, base: str = "0103", zzsx: str | None = "LS", wc: int = 1, hc: int = 1) -> Slot:
    """A fresh slot painted with one land-use class."""
    s = w.slot(wc, hc)
    w.paint(s.all, base, zzsx if base in FARM else None)
    return s


def std(s: Slot):
    return s.r(30, 25, 40, 50)


def build(w: World) -> dict[str, object]:
    refs: dict[str, object] = {}
    approved(w, refs)
    built_before(w)
    unapproved(w)
    near_threshold(w)
    photovoltaic(w)
    facility(w)
    temporary_cover(w)
    data_quality(w)
    return refs


# --- approvals ----------------------------------------------------------------------------------
def approved(w: World, refs: dict) -> None:
    s = slot(w, "0103")
    a1 = w.approval(s.r(20, 15, 60, 70), D(2022, 5, 10), name="示范县2022年度第2批次城镇建设用地")
    refs["a1"] = a1
    p = std(s)
    (w.patch("A1", p, "20", bz="新建厂房", pzwh=a1.id).context(farm=2000, refs=[a1])
     .fires("legality.approved", "农转用批准范围完全覆盖，批准日期早于后时相",
            "fully inside a conversion approval dated before the after-image")
     .result("legal", legal=Measure(2000, p & a1.geom), illegal=0))

    s = slot(w, "0103")
    a2 = w.approval(s.r(30, 25, 20, 50), D(2022, 8, 1), name="示范县2022年度第4批次城镇建设用地")
    p = std(s)
    (w.patch("A2", p, "20", bz="厂房及附属设施", pzwh=a2.id).context(farm=2000, refs=[a2])
     .fires("legality.approved", "西半部（20×50米）在批准范围内",
            "western half (20 m x 50 m) is approved", legal_m2=Measure(1000, p & a2.geom))
     .fires("legality.unapproved_construction", "东半部1000平方米未批先建，占一般耕地",
            "eastern half, 1000 m2 on general farmland, has no approval",
            farmland_m2=Measure(1000, p - a2.geom))
     .result("illegal", legal=Measure(1000, p & a2.geom), illegal=Measure(1000, p - a2.geom)))

    s = slot(w, "0103")
    a3a = w.approval(s.r(10, 20, 50, 60), D(2021, 11, 20), kind="农转用",
                     name="示范县2021年度第6批次城镇建设用地")
    a3b = w.approval(s.r(40, 20, 50, 60), D(2022, 1, 12), kind="征收",
                     name="示范县2021年度第6批次城镇建设用地（征收）")
    p = s.r(20, 30, 60, 40)
    (w.patch("A3", p, "20", bz="仓储用房", pzwh=a3a.id).context(farm=2400, refs=[a3a, a3b])
     .fires("legality.approved",
            "两宗相互重叠的批准共同覆盖图斑；重叠800平方米只计一次",
            "two overlapping approvals cover the patch together; their 800 m2 overlap counts once",
            overlap_m2=Measure(800, p & a3a.geom & a3b.geom))
     .result("legal", legal=Measure(2400, p & (a3a.geom | a3b.geom)), illegal=0))

    s = slot(w, "0404")
    a4 = w.approval(s.r(20, 15, 60, 70), D(2023, 8, 20), name="示范县2023年度第3批次城镇建设用地")
    p = std(s)
    (w.patch("A4", p, "YH", bz="场地硬化", pzwh=a4.id).context(refs=[a4])
     .fires("legality.approved", "批准日期与后时相同为2023-08-20（≤ 即合法）",
            "approval dated on the after-image date itself, 2023-08-20 (<= counts)")
     .silent("legality.built_before_approval", "批准日期不晚于后时相，不是先建后批",
             "approval is not later than the after-image: not built before approval")
     .result("legal", legal=Measure(2000, p & a4.geom), illegal=0))

    s = slot(w, "0404")
    w.approval(s.r(70, 25, 25, 50), D(2022, 3, 3), name="示范县2022年度第1批次城镇建设用地")
    p = std(s)
    (w.patch("A5", p, "20", bz="新建厂房").context(refs=[])
     .silent("legality.approved", "批准范围与图斑仅边相接，覆盖面积为0",
             "the approval only touches the patch edge: covered area 0")
     .fires("legality.unapproved_construction", "整图斑未批先建", "whole patch unapproved")
     .result("illegal", legal=0, illegal=Measure(2000, p)))

    s = slot(w, "0103")
    p = std(s)
    (w.patch("A6", p, "20", bz="村民自述已批", pzwh=a1.id).context(farm=2000)
     .silent("legality.approved", f"填报的批准文号{a1.id}属于别处的批准范围，以图形为准",
             f"the claimed approval {a1.id} lies elsewhere; geometry decides, not the number")
     .fires("legality.unapproved_construction", "整图斑未批先建，占一般耕地2000平方米",
            "whole patch unapproved, 2000 m2 on general farmland")
     .result("illegal", legal=0, illegal=Measure(2000, p)))


def built_before(w: World) -> None:
    s = slot(w, "0103")
    b1 = w.approval(s.r(20, 15, 60, 70), D(2023, 10, 20), name="示范县2023年度第5批次城镇建设用地")
    p = std(s)
    (w.patch("B1", p, "20", bz="已补办农转用手续", pzwh=b1.id).context(farm=2000, refs=[b1])
     .fires("legality.built_before_approval", "批准日期2023-10-20晚于后时相2023-08-20：先建后批",
            "approval dated 2023-10-20, after the after-image 2023-08-20: procedures completed "
            "later")
     .silent("legality.approved", "批准晚于后时相，不算合法部分",
             "the approval is later than the after-image, so it is no legal part")
     .silent("legality.unapproved_construction", "图斑已被（后批的）批准覆盖，无剩余",
             "covered by the (later) approval, no remainder")
     .result("illegal", legal=0, illegal=Measure(2000, p & b1.geom)))

    s = slot(w, "0103")
    ok = w.approval(s.r(10, 20, 40, 60), D(2022, 6, 30), name="示范县2022年度第3批次城镇建设用地")
    late = w.approval(s.r(50, 20, 40, 60), D(2023, 11, 5), name="示范县2023年度第6批次城镇建设用地")
    p = s.r(20, 30, 60, 40)
    (w.patch("B2", p, "20", bz="厂房扩建", pzwh=ok.id).context(farm=2400, refs=[ok, late])
     .fires("legality.approved", "西半部1200平方米批准在前", "western 1200 m2 approved in time",
            legal_m2=Measure(1200, p & ok.geom))
     .fires("legality.built_before_approval", "东半部1200平方米批准在后（2023-11-05）",
            "eastern 1200 m2 approved only on 2023-11-05", illegal_m2=Measure(1200, p & late.geom))
     .result("illegal", legal=Measure(1200, p & ok.geom), illegal=Measure(1200, p & late.geom)))


def unapproved(w: World) -> None:
    s = slot(w, "0103")
    w.paint(s.r(0, 0, 50, 100), "0101", "LS")
    pf = w.pf(s.r(0, 0, 50, 100))
    p = std(s)
    (w.patch("U1", p, "20", bz="村民建房（非住宅）").context(pf=1000, farm=2000)
     .fires("legality.unapproved_construction",
            "未批先建；其中永久基本农田1000平方米，耕地2000平方米",
            "unapproved; 1000 m2 on permanent farmland, 2000 m2 on farmland",
            pf_m2=Measure(1000, p & pf.geom), farmland_m2=Measure(2000, p))
     .silent("legality.agricultural_change", "建(构)筑物是建设类，不按其他处理",
             "a building is construction-type, not a non-construction change")
     .result("illegal", legal=0, illegal=Measure(2000, p)))

    s = slot(w, "0404")
    red = w.redline(s.all, "南岗水土保持生态保护红线")
    p = s.r(35, 35, 30, 30)
    (w.patch("U2", p, "YH", bz="推土硬化").context(red=900)
     .fires("legality.unapproved_construction", "未批先建，全部位于生态保护红线内",
            "unapproved, all inside the ecological red line", redline_m2=Measure(900, p & red.geom))
     .result("illegal", legal=0, illegal=Measure(900, p)))

    s = slot(w, "0702")
    p = std(s)
    (w.patch("U3", p, "20", bz="原址翻建住房").context()
     .silent("legality.unapproved_construction", "原地类为农村宅基地（建设用地），不是新增建设",
             "the land was already construction land (rural homestead): not new construction")
     .result("other", legal=0, illegal=0))

    s = slot(w, "0702")
    w.paint(s.r(50, 0, 50, 100), "0103", "LS")
    p = std(s)
    (w.patch("U4", p, "20", bz="扩建住房").context(farm=1000)
     .fires("legality.unapproved_construction",
            "西半部在宅基地上不计；东半部1000平方米占耕地未批",
            "western half is on homestead land and does not count; the eastern 1000 m2 on "
            "farmland is unapproved", farmland_m2=Measure(1000, p & s.r(50, 0, 50, 100)))
     .result("illegal", legal=0, illegal=Measure(1000, p & s.r(50, 0, 50, 100))))


def near_threshold(w: World) -> None:
    """Remainders around the sliver threshold (1 m2 + 0.5 m x cut length)."""
    s = slot(w, "0404")
    a = w.approval(s.r(20, 25.25, 60, 60), D(2022, 9, 9), name="示范县2022年度第5批次城镇建设用地")
    p = std(s)
    (w.patch("N1", p, "YH", bz="厂区硬化", pzwh=a.id).context(refs=[a])
     .fires("legality.approved", "批准覆盖1990平方米", "1990 m2 approved")
     .fires("legality.near_threshold",
            "剩余0.25米×40米=10平方米，在1+0.5×40=21平方米容差带内",
            "remainder 0.25 m x 40 m = 10 m2, inside the band 1 + 0.5 x 40 = 21 m2",
            remainder_m2=Measure(10, p - a.geom), cut_m=40)
     .silent("legality.unapproved_construction", "剩余在容差带内，转人工核实",
             "remainder inside the tolerance band: review, not illegal")
     .result("needs_review", legal=Measure(1990, p & a.geom), illegal=0))

    s = slot(w, "0404")
    a = w.approval(s.r(20.5, 10, 60, 80), D(2022, 9, 9),
                   name="示范县2022年度第5批次城镇建设用地（二）")
    p = s.r(20, 20, 30, 60)
    (w.patch("N2", p, "20", bz="门卫室及围墙", pzwh=a.id).context(refs=[a])
     .fires("legality.approved", "批准覆盖1770平方米", "1770 m2 approved")
     .fires("legality.near_threshold", "剩余0.5米×60米=30平方米，恰在1+0.5×60=31平方米之内",
            "remainder 0.5 m x 60 m = 30 m2, just inside 1 + 0.5 x 60 = 31 m2",
            remainder_m2=Measure(30, p - a.geom), cut_m=60)
     .result("needs_review", legal=Measure(1770, p & a.geom), illegal=0))

    s = slot(w, "0404")
    a = w.approval(s.r(24, 25.03125, 52, 60), D(2022, 9, 9),
                   name="示范县2022年度第5批次城镇建设用地（三）")
    p = s.r(34, 25, 32, 50)
    (w.patch("N3", p, "YH", bz="场地硬化", pzwh=a.id).context(refs=[a])
     .fires("legality.approved", "批准覆盖1599平方米", "1599 m2 approved")
     .silent("legality.near_threshold", "剩余32米×0.03125米=1.0平方米，不超过1平方米碎片阈值",
             "remainder 32 m x 0.03125 m = 1.0 m2, not above the 1 m2 sliver threshold",
             remainder_m2=Measure(1, p - a.geom))
     .silent("legality.unapproved_construction", "碎片忽略", "sliver ignored")
     .result("legal", legal=Measure(1599, p & a.geom), illegal=0))

    s = slot(w, "0404")
    a = w.approval(s.r(20, 26, 60, 60), D(2022, 9, 9),
                   name="示范县2022年度第5批次城镇建设用地（四）")
    p = std(s)
    (w.patch("N4", p, "YH", bz="厂区硬化", pzwh=a.id).context(refs=[a])
     .fires("legality.approved", "批准覆盖1960平方米", "1960 m2 approved")
     .fires("legality.unapproved_construction", "剩余1米×40米=40平方米，超出21平方米容差带",
            "remainder 1 m x 40 m = 40 m2, beyond the 21 m2 band",
            remainder_m2=Measure(40, p - a.geom))
     .silent("legality.near_threshold", "剩余明显超出容差带", "remainder clearly beyond the band")
     .result("illegal", legal=Measure(1960, p & a.geom), illegal=Measure(40, p - a.geom)))


def photovoltaic(w: World) -> None:
    s = slot(w, "0101")
    pf = w.pf(s.all)
    p = s.r(20, 20, 60, 50)
    (w.patch("PV1", p, "GF", bz="农光互补光伏阵列").context(pf=3000, farm=3000)
     .fires("legality.photovoltaic_on_farmland", "光伏阵列占永久基本农田3000平方米",
            "photovoltaic array on 3000 m2 of permanent farmland", pf_m2=Measure(3000, p & pf.geom))
     .result("illegal", legal=0, illegal=Measure(3000, p)))

    s = slot(w, "0404")
    w.paint(s.r(0, 0, 50, 100), "0103", "LS")
    p = s.r(20, 20, 60, 50)
    farm = p & s.r(0, 0, 50, 100)
    (w.patch("PV2", p, "GF", bz="光伏电站扩建").context(farm=1500)
     .fires("legality.photovoltaic_on_farmland", "西半部1500平方米占一般耕地，东半部在其他草地",
            "western 1500 m2 on general farmland; the eastern part is on grassland",
            farmland_m2=Measure(1500, farm))
     .result("illegal", legal=0, illegal=Measure(1500, farm)))

    s = slot(w, "1206")
    p = s.r(20, 20, 60, 50)
    (w.patch("PV3", p, "GF", bz="裸土地上光伏阵列").context()
     .silent("legality.photovoltaic_on_farmland", "位于裸土地，不占耕地",
             "on bare land, no farmland")
     .silent("legality.unapproved_construction", "光伏不按建设类判定", "photovoltaic is not a "
             "construction-type category")
     .silent("legality.agricultural_change", "光伏不是非建设类变化", "photovoltaic is no "
             "non-construction change either")
     .result("other", legal=0, illegal=0))


def facility(w: World) -> None:
    s = slot(w, "0103")
    f = w.filing(s.r(20, 15, 60, 70), "种植设施", D(2023, 3, 1))
    p = std(s)
    (w.patch("F1", p, "SS", bz="蔬菜大棚").context(farm=2000, refs=[f])
     .fires("legality.facility_ag", "种植设施已备案", "planting facility filed")
     .fires("farmland.outflow", "设施农用地占一般耕地，计入进出平衡", "facility on general "
            "farmland: recorded for in-out balance", balance_m2=Measure(2000, p))
     .result("legal", legal=Measure(2000, p & f.geom), illegal=0))

    s = slot(w, "0404")
    f = w.filing(s.r(20, 15, 60, 70), "畜禽养殖设施", D(2023, 2, 10))
    p = std(s)
    (w.patch("F2", p, "SS", bz="生猪养殖棚舍").context(refs=[f])
     .fires("legality.facility_ag", "畜禽养殖设施已备案，不占永久基本农田",
            "livestock facility filed, not on permanent farmland")
     .result("legal", legal=Measure(2000, p & f.geom), illegal=0))

    s = slot(w, "0101")
    w.pf(s.all)
    f = w.filing(s.r(20, 15, 60, 70), "种植设施", D(2023, 4, 2))
    p = std(s)
    (w.patch("F3", p, "SS", bz="育秧大棚").context(pf=2000, farm=2000, refs=[f])
     .fires("legality.facility_ag", "种植设施可以位于永久基本农田", "a planting facility may lie "
            "on permanent farmland")
     .silent("farmland.four_prohibitions", "不属于畜禽/水产养殖设施", "not a livestock or "
             "aquaculture facility")
     .silent("farmland.outflow", "永久基本农田不计流出（只计一般耕地）",
             "permanent farmland is not outflow (only general farmland is)")
     .result("legal", legal=Measure(2000, p & f.geom), illegal=0))

    livestock = (("F4", "畜禽养殖设施", "养鸡场"), ("F5", "水产养殖设施", "工厂化养殖车间"))
    for label, kind, bz in livestock:
        s = slot(w, "0101")
        pf = w.pf(s.all)
        f = w.filing(s.r(20, 15, 60, 70), kind, D(2023, 1, 20))
        p = std(s)
        (w.patch(label, p, "SS", bz=bz).context(pf=2000, farm=2000, refs=[f])
         .silent("legality.facility_ag", f"{kind}位于永久基本农田，备案不作为合法依据",
                 "a livestock/aquaculture filing on permanent farmland does not legalise it")
         .fires("legality.unapproved_construction", "整图斑按未批处理", "whole patch unapproved",
                pf_m2=Measure(2000, p & pf.geom))
         .fires("farmland.four_prohibitions", "永久基本农田上新建养殖设施（四严禁）",
                "new livestock/aquaculture facility on permanent farmland (four prohibitions)",
                pf_m2=Measure(2000, p & pf.geom))
         .result("illegal", legal=0, illegal=Measure(2000, p)))

    s = slot(w, "0404")
    w.paint(s.r(0, 0, 50, 100), "0101", "LS")
    pf = w.pf(s.r(0, 0, 50, 100))
    f = w.filing(s.r(20, 15, 60, 70), "畜禽养殖设施", D(2023, 1, 20))
    p = std(s)
    (w.patch("F6", p, "SS", bz="肉牛养殖").context(pf=1000, farm=1000, refs=[f])
     .fires("legality.facility_ag", "备案覆盖东半部（不在永久基本农田上）1000平方米",
            "the filing covers the eastern 1000 m2 off permanent farmland",
            legal_m2=Measure(1000, (p & f.geom) - pf.geom))
     .fires("legality.unapproved_construction", "西半部1000平方米在永久基本农田上，不被备案覆盖",
            "western 1000 m2 on permanent farmland is not covered by the filing")
     .fires("farmland.four_prohibitions", "养殖设施占永久基本农田1000平方米",
            "livestock facility on 1000 m2 of permanent farmland", pf_m2=Measure(1000, p & pf.geom))
     .result("illegal", legal=Measure(1000, p - pf.geom), illegal=Measure(1000, p & pf.geom)))


def temporary_cover(w: World) -> None:
    def one(start, end, use):
        s = slot(w, "0404")
        t = w.temporary(s.r(10, 10, 80, 80), start, end, use, name=f"示兴高速公路{use}")
        fp = w.footprint(t.geom, "与批准范围一致")
        return fp, t, std(s)

    _, t, p = one(D(2023, 3, 1), D(2024, 2, 29), "施工便道")
    (w.patch("T1", p, "YH", bz="施工便道硬化").context(refs=[t])
     .fires("legality.temporary_land", "施工便道临时用地在有效期内，用途相符",
            "haul-road temporary land in force, use consistent")
     .silent("temporary.use_changed", "硬化属于施工便道允许的用途", "hardening is allowed on a "
             "haul road")
     .result("legal", legal=Measure(2000, p & t.geom), illegal=0))

    _, t, p = one(D(2023, 1, 10), D(2024, 12, 31), "项目部")
    (w.patch("T2", p, "20", bz="项目部板房").context(refs=[t])
     .fires("legality.temporary_land", "项目部临时用地在有效期内", "site camp temporary land in "
            "force")
     .result("legal", legal=Measure(2000, p & t.geom), illegal=0))

    fp, t, p = one(D(2022, 1, 1), D(2023, 6, 30), "材料堆场")
    (w.subject("lsyd_sj", fp, "TF3")
     .silent("temporary.overdue", "2023-06-30到期，复垦期至2024-06-30，2023-09-30仍占用不算逾期",
             "expired 2023-06-30; restoration is due by 2024-06-30, so occupation on 2023-09-30 "
             "is not overdue", due=D(2024, 6, 30))
     .silent("temporary.over_footprint", "实际占地与批准范围一致", "footprint equals the approval")
     .result("legal"))
    (w.patch("T3", p, "YH", bz="堆场硬化").context(refs=[t])
     .silent("legality.temporary_land", "临时用地2023-06-30已到期，后时相时不在有效期内",
             "temporary approval expired on 2023-06-30, before the after-image")
     .fires("legality.unapproved_construction", "到期后的硬化按未批处理",
            "hardening after expiry counts as unapproved")
     .result("illegal", legal=0, illegal=Measure(2000, p)))

    _, t, p = one(D(2023, 2, 1), D(2024, 1, 31), "取土场")
    (w.patch("T4", p, "20", bz="取土场内建房").context(refs=[t])
     .fires("temporary.use_changed", "取土场内新建建(构)筑物，改变批准用途",
            "a building inside a borrow pit: approved use changed", illegal_m2=Measure(2000, p))
     .silent("legality.temporary_land", "用途不符，临时用地不作为合法依据",
             "use not consistent, the temporary approval does not legalise it")
     .fires("legality.unapproved_construction", "按未批处理", "counts as unapproved")
     .result("illegal", legal=0, illegal=Measure(2000, p)))

    _, t, p = one(D(2023, 4, 1), D(2024, 3, 31), "施工便道")
    (w.patch("T5", p, "KT", bz="便道范围内挖塘").context(refs=[t])
     .fires("temporary.use_changed", "施工便道范围内挖塘，改变批准用途",
            "a pond dug inside a haul road: approved use changed", illegal_m2=Measure(2000, p))
     .fires("legality.agricultural_change", "挖塘属于非建设类变化", "pond digging is a "
            "non-construction change")
     .result("illegal", legal=0, illegal=Measure(2000, p)))

    _, t, p = one(D(2023, 2, 15), D(2024, 2, 14), "取土场")
    (w.patch("T6", p, "DT", bz="取土").context(refs=[t])
     .silent("legality.temporary_land", "挖土不是建设类，不需要覆盖",
             "earthworks are not construction-type: no cover needed")
     .silent("temporary.use_changed", "取土场内挖土与批准用途相符", "digging inside a borrow pit "
             "matches the approved use")
     .fires("legality.agricultural_change", "挖土/堆土按其他处理", "earthworks count as other")
     .result("other", legal=0, illegal=0))


# --- data quality -------------------------------------------------------------------------------
def data_quality(w: World) -> None:
    s = slot(w, "0404")
    (w.patch("K1", std(s), "99", bz="类型待定").context()
     .fires("legality.unknown_type", "图斑类型99不在类型表中", "patch type 99 is not in the "
            "vocabulary")
     .result("needs_review", legal=0, illegal=0))
    s = slot(w, "0404")
    (w.patch("K2", std(s), None, bz="").context()
     .fires("legality.unknown_type", "图斑类型为空", "patch type is empty")
     .result("needs_review", legal=0, illegal=0))
    s = slot(w, "0404")
    (w.patch("K3", std(s), "MP", bz="苗木基地").context()
     .silent("legality.unknown_type", "MP（苗圃草皮）是类型表中的代码", "MP (nursery/turf) is a "
             "known code")
     .fires("legality.agricultural_change", "苗圃在其他草地上，按其他处理",
            "nursery on grassland: other")
     .result("other", legal=0, illegal=0))

    dates = {
        "M1": (D(2023, 5, 15), None, "后时相为空", "after-image date missing"),
        "M2": (D(2023, 9, 10), D(2023, 7, 15), "前时相晚于后时相", "before-date later than "
               "after-date"),
        "M3": (None, D(2023, 8, 20), "前时相为空", "before-image date missing"),
        "M4": (D(2023, 8, 19), D(2023, 8, 20), "前后时相正常（相差1天）", "dates in order (one "
               "day apart)"),
    }
    for label, (qsx, hsx, zh, en) in dates.items():
        s = slot(w, "0404")
        a = w.approval(s.r(20, 15, 60, 70), D(2022, 6, 1), name="示范县2022年度第3批次城镇建设用地"
                       f"（{label}）")
        p = std(s)
        subj = w.patch(label, p, "20", qsx=qsx, hsx=hsx, bz="新建厂房", pzwh=a.id).context(refs=[a])
        if label == "M4":
            (subj.silent("legality.missing_dates", zh, en)
             .fires("legality.approved", "正常批准", "approved as usual")
             .result("legal", legal=Measure(2000, p & a.geom), illegal=0))
        elif label == "M1":
            (subj.fires("legality.missing_dates", zh, en)
             .silent("legality.approved", "没有后时相，无法比较批准日期",
                     "no after-date: the approval date cannot be compared")
             .silent("legality.unapproved_construction", "批准范围完全覆盖，无剩余",
                     "fully inside an approval: no remainder")
             .result("needs_review", legal=0, illegal=0))
        else:
            (subj.fires("legality.missing_dates", zh, en)
             .fires("legality.approved", "后时相存在，仍可与批准日期比较",
                    "the after-date exists, so the approval date can still be compared")
             .result("needs_review", legal=Measure(2000, p & a.geom), illegal=0))

    s = slot(w, "0103")
    bowtie = Polygon([(s.x + 30, s.y + 25), (s.x + 70, s.y + 75), (s.x + 70, s.y + 25),
                      (s.x + 30, s.y + 75), (s.x + 30, s.y + 25)])
    (w.patch("G1", bowtie, "20", bz="", JCMJ=1000.0, DLBM="0103", XZQDM="349901004").context()
     .fires("legality.invalid_geometry", "自相交（蝴蝶结）多边形", "self-intersecting (bowtie) "
            "polygon")
     .result("needs_review", legal=None, illegal=None))
    s = slot(w, "0103")
    (w.patch("G2", Polygon(), "YH", bz="", JCMJ=1250.0, DLBM="0103", XZQDM="349901004").context()
     .fires("legality.invalid_geometry", "几何为空（格式转换丢失）", "empty geometry (lost in a "
            "format conversion)")
     .result("needs_review", legal=None, illegal=None))
    s = slot(w, "0201")
    multi = MultiPolygon([s.r(15, 30, 20, 20), s.r(60, 30, 20, 20)])
    (w.patch("G3", multi, "02", bz="果园更新").context()
     .silent("legality.invalid_geometry", "两部分的多部件面，合法几何", "a valid two-part "
             "multipolygon")
     .fires("legality.agricultural_change", "园地变化", "garden change")
     .result("other", legal=0, illegal=0))
    s = slot(w, "0404")
    holed = Polygon(s.r(20, 20, 60, 60).exterior.coords, [s.r(40, 40, 20, 20).exterior.coords])
    (w.patch("G4", holed, "03", bz="植树造林").context()
     .silent("legality.invalid_geometry", "带洞多边形，合法几何", "a valid polygon with a hole")
     .fires("legality.agricultural_change", "草地造林", "planting trees on grassland")
     .result("other", legal=0, illegal=0))
