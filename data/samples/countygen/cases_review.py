"""Designed cases of the review families that have their own subjects: temporary land
(lsyd / lsyd_sj), consolidation projects (xm) and contiguous development plans (cpkf); plus the
issue dates of the rectification-deadline cases.
"""

from __future__ import annotations

from .cases_legality import slot
from .layout import TOWN_HOLE
from .world import AS_OF, D, Measure, World, rect


def build(w: World) -> None:
    temporary_footprints(w)
    temporary_approvals(w)
    projects(w)
    plans(w)


# --- temporary land -----------------------------------------------------------------------------
def temporary_footprints(w: World) -> None:
    s = slot(w, "0103", wc=2)
    t = w.temporary(s.r(20, 20, 100, 50), D(2023, 2, 1), D(2024, 1, 31), "材料堆场",
                    name="示兴铁路站场材料堆场")
    fp = w.footprint(s.r(20, 20, 120, 50), "实际堆放范围超出批准范围")
    (w.subject("lsyd_sj", fp, "TF7")
     .fires("temporary.over_footprint", "实际占地6000平方米，批准5000平方米，多占20%即1000平方米",
            "6000 m2 occupied against 5000 m2 approved: the extra 20 % is 1000 m2",
            illegal_m2=Measure(1000, fp.geom - t.geom))
     .silent("temporary.overdue", "批准仍在有效期内", "the approval is still in force")
     .result("illegal", illegal=Measure(1000, fp.geom - t.geom)))

    s = slot(w, "0103")
    fp = w.footprint(s.r(30, 30, 40, 30), "无临时用地批准")
    (w.subject("lsyd_sj", fp, "TF8")
     .fires("temporary.over_footprint", "没有任何批准，1200平方米全部超出",
            "no approval at all: all 1200 m2 are beyond approval",
            illegal_m2=Measure(1200, fp.geom))
     .result("illegal", illegal=Measure(1200, fp.geom)))

    s = slot(w, "0103")
    t = w.temporary(s.r(20, 20, 60, 50), D(2023, 1, 1), D(2024, 12, 31), "拌合站",
                    name="示兴高速公路拌合站")
    fp = w.footprint(t.geom, "与批准范围一致")
    (w.subject("lsyd_sj", fp, "TF9")
     .silent("temporary.over_footprint", "实际占地与批准范围完全一致", "footprint equals the "
             "approval")
     .silent("temporary.overdue", "在有效期内", "in force")
     .result("legal"))

    overdue = [
        ("TF10", D(2020, 7, 1), D(2021, 6, 30), True, "2021-06-30到期，2022-06-30前应复垦，仍占用",
         "expired 2021-06-30, restoration was due 2022-06-30, still occupied"),
        ("TF11", D(2021, 10, 1), D(2022, 9, 29), True, "复垦期限2023-09-29早于核查日2023-09-30",
         "restoration due 2023-09-29, one day before the review date 2023-09-30"),
        ("TF12", D(2021, 10, 1), D(2022, 9, 30), False, "复垦期限2023-09-30等于核查日，不算逾期",
         "restoration due 2023-09-30, the review date itself: not overdue"),
    ]
    for label, start, end, fires, zh, en in overdue:
        s = slot(w, "0103")
        t = w.temporary(s.r(20, 20, 50, 40), start, end, "弃土场", name="示兴铁路弃土场")
        fp = w.footprint(t.geom, "到期后仍有堆土")
        due = D(end.year + 1, end.month, end.day)
        subj = w.subject("lsyd_sj", fp, label)
        if fires:
            (subj.fires("temporary.overdue", zh, en, due=due,
                        illegal_m2=Measure(2000, fp.geom & t.geom))
             .result("illegal", illegal=Measure(2000, fp.geom & t.geom)))
        else:
            subj.silent("temporary.overdue", zh, en, due=due).result("legal")
        subj.silent("temporary.over_footprint", "未超出批准范围", "within the approval")


def temporary_approvals(w: World) -> None:
    s = slot(w, "0101")
    pf = w.pf(s.all)
    t = w.temporary(s.r(30, 20, 40, 60), D(2023, 2, 1), D(2024, 1, 31), "施工便道", linear=True,
                    name="西气东输支线管道施工便道")
    (w.subject("lsyd", t, "TL13")
     .fires("temporary.on_permanent_farmland", "临时用地全部位于永久基本农田，需核实",
            "temporary land entirely on permanent farmland: review",
            pf_m2=Measure(2400, t.geom & pf.geom))
     .result("needs_review"))

    s = slot(w, "0103")
    w.paint(s.r(0, 0, 50, 100), "0101", "LS")
    pf = w.pf(s.r(0, 0, 50, 100))
    t = w.temporary(s.r(20, 20, 60, 40), D(2023, 3, 1), D(2024, 2, 28), "项目部",
                    name="示范县污水管网工程项目部")
    (w.subject("lsyd", t, "TL14")
     .fires("temporary.on_permanent_farmland", "西半部1200平方米占永久基本农田",
            "western 1200 m2 on permanent farmland", pf_m2=Measure(1200, t.geom & pf.geom))
     .result("needs_review"))

    s = slot(w, "0103")
    w.paint(s.r(0, 0, 30, 100), "0101", "LS")
    w.pf(s.r(0, 0, 30, 100))
    t = w.temporary(s.r(30, 20, 40, 60), D(2023, 3, 1), D(2024, 2, 28), "材料堆场",
                    name="示范县污水管网工程材料堆场")
    (w.subject("lsyd", t, "TL15")
     .silent("temporary.on_permanent_farmland", "与永久基本农田仅边相接", "only touches "
             "permanent farmland")
     .result("legal"))

    terms = [
        ("TL16", D(2021, 1, 1), D(2023, 6, 30), False, True, "非线性工程期限2.5年，超过2年",
         "2.5 years for a non-linear project, more than 2"),
        ("TL17", D(2019, 7, 1), D(2023, 7, 2), True, True, "线性工程期限4年零1天，超过4年",
         "4 years and 1 day for linear infrastructure, more than 4"),
        ("TL18", D(2022, 3, 1), D(2024, 3, 1), False, False,
         "期限恰为2年（2022-03-01至2024-03-01）",
         "exactly 2 years (2022-03-01 to 2024-03-01)"),
        ("TL19", D(2021, 5, 1), D(2024, 10, 31), True, False, "线性工程3.5年，不超过4年",
         "3.5 years for linear infrastructure, within 4"),
    ]
    for label, start, end, linear, fires, zh, en in terms:
        s = slot(w, "0404")
        t = w.temporary(s.r(25, 25, 50, 50), start, end, "施工便道", linear=linear,
                        name="示兴铁路施工便道" if linear else "示范县农贸市场项目部")
        subj = w.subject("lsyd", t, label)
        limit = 4 if linear else 2
        if fires:
            subj.fires("temporary.term_too_long", zh, en, limit_years=limit).result("needs_review")
        else:
            subj.silent("temporary.term_too_long", zh, en, limit_years=limit).result("legal")


# --- consolidation projects ----------------------------------------------------------------------
SUPPLEMENT = dict(XMLX="占补平衡", LXRQ=D(2023, 4, 20), SSRQ=D(2023, 6, 10),
                  YSRQ=D(2023, 8, 15), ZT="已验收", SFST="否", ZWQK="旱作")
LINKAGE = dict(XMLX="增减挂钩", LXRQ=D(2023, 5, 10), SSRQ=D(2023, 8, 20),
               YSRQ=D(2023, 9, 10), ZT="已验收", SFST="否", ZWQK="苗已出")


def _plot(w: World, kind: str, label: str, *, zone: str = "all", land: str = "0103",
          house: str = "main", **attrs):
    """One project plot (60 m x 50 m = 3000 m2) in its own slot, defaults valid."""
    s = slot(w, land, "LS")
    plot = s.r(20, 25, 60, 50)
    base = dict(SUPPLEMENT if kind == "supplement" else LINKAGE)
    base.update(attrs)
    n = w.next(f"xm-{kind}")
    prefix = "BC" if kind == "supplement" else "ZJ"
    xmbh = f"{prefix}3499012023{n:03d}"
    name = (f"南岗镇{n}号补充耕地项目" if kind == "supplement" else f"南岗镇{n}号增减挂钩拆旧地块")
    f = w.add("xm", plot, XMBH=xmbh, XMMC=name, **base)
    layer = "ybndq" if kind == "supplement" else "czjskzq"
    extra = {"GNFQMC": "一般农业区"} if layer == "ybndq" else {"CZMC": "南岗村"}
    if zone == "all":
        w.zone(layer, s.all, **extra)
    elif zone == "half":
        w.zone(layer, s.r(0, 0, 50, 100), **extra)
    if kind == "linkage":
        if house == "main":
            w.building(s.r(35, 40, 12, 10), "主房")
        if house in ("main", "annex"):
            w.building(s.r(50, 42, 6, 5), "附房")
        if house == "straddle":
            w.building(s.r(74, 40, 12, 10), "主房")
    return w.subject("xm", f, label), plot, s


def projects(w: World) -> None:
    supplement_cases(w)
    linkage_cases(w)


def supplement_cases(w: World) -> None:
    subj, plot, s = _plot(w, "supplement", "XM1", zone="none")
    (subj.fires("projects.supplement_misplaced", "补充耕地地块全部不在一般农地区",
                "supplement plot entirely outside the general agricultural zone",
                outside_m2=Measure(3000, plot))
     .result("illegal", illegal=Measure(3000, plot)))
    subj, plot, s = _plot(w, "supplement", "XM2", zone="half")
    (subj.fires("projects.supplement_misplaced", "东侧1500平方米在一般农地区外",
                "eastern 1500 m2 outside the general agricultural zone",
                outside_m2=Measure(1500, plot - s.r(0, 0, 50, 100)))
     .result("illegal", illegal=Measure(1500, plot - s.r(0, 0, 50, 100))))
    subj, plot, s = _plot(w, "supplement", "XM3")
    (subj.silent("projects.supplement_misplaced", "全部在一般农地区内", "entirely inside the "
                 "general agricultural zone")
     .silent("projects.not_farmland_after", "验收后变更调查为旱地", "dry farmland in the survey "
             "after acceptance")
     .silent("projects.paddy_not_aquatic", "不是水田地块", "not a paddy plot")
     .result("legal"))

    subj, plot, s = _plot(w, "supplement", "XM4", land="0404")
    (subj.fires("projects.not_farmland_after", "验收后变更调查仍为其他草地，新增耕地不予认定",
                "still grassland in the survey after acceptance: no new farmland recognised",
                illegal_m2=Measure(3000, plot))
     .result("illegal", illegal=Measure(3000, plot)))
    subj, plot, s = _plot(w, "supplement", "XM5")
    w.paint(s.r(50, 0, 50, 100), "1206")
    (subj.fires("projects.not_farmland_after", "东侧1500平方米仍为裸土地",
                "eastern 1500 m2 still bare land",
                illegal_m2=Measure(1500, plot - s.r(0, 0, 50, 100)))
     .result("illegal", illegal=Measure(1500, plot - s.r(0, 0, 50, 100))))
    subj, plot, s = _plot(w, "supplement", "XM6", land="0404", ZT="实施中", SSRQ=D(2023, 6, 20),
                          YSRQ=None, ZWQK=None)
    (subj.silent("projects.not_farmland_after", "尚未验收，不检查", "not accepted yet: not checked")
     .result("legal"))

    paddy = [("XM7", "旱作", True), ("XM8", "未种植", True), ("XM9", "水生作物", False)]
    for label, crop, fires in paddy:
        subj, plot, s = _plot(w, "supplement", label, land="0101", SFST="是", ZWQK=crop)
        if fires:
            (subj.fires("projects.paddy_not_aquatic", f"水田地块验收时为“{crop}”",
                        f"paddy plot found '{crop}' at acceptance")
             .result("needs_review"))
        else:
            (subj.silent("projects.paddy_not_aquatic", "水田地块种植水生作物", "paddy plot with "
                         "aquatic crops")
             .result("legal"))

    dates = [
        ("XM11", dict(LXRQ=D(2023, 6, 1), SSRQ=D(2023, 6, 25)), "projects.late_approval", True,
         "2023-06-01立项，晚于5月31日", "approved 2023-06-01, after 31 May"),
        ("XM13", dict(LXRQ=D(2023, 5, 31)), "projects.late_approval", False,
         "5月31日立项，恰在期限内", "approved on 31 May itself"),
        ("XM14", dict(SSRQ=D(2023, 7, 1)), "projects.late_supplement", True,
         "2023-07-01实施完成，晚于6月30日", "implemented 2023-07-01, after 30 June"),
        ("XM15", dict(SSRQ=D(2023, 8, 10)), "projects.late_supplement", True,
         "2023-08-10实施完成", "implemented 2023-08-10"),
        ("XM16", dict(SSRQ=D(2023, 6, 30)), "projects.late_supplement", False,
         "6月30日完成实施，恰在期限内", "implemented on 30 June itself"),
    ]
    _dated(w, "supplement", dates)


def _dated(w: World, kind: str, dates: list) -> None:
    for label, attrs, rule, fires, zh, en in dates:
        subj = _plot(w, kind, label, **attrs)[0]
        if fires:
            subj.fires(rule, zh, en).result("needs_review")
        else:
            subj.silent(rule, zh, en).result("legal")


def linkage_cases(w: World) -> None:
    subj, plot, s = _plot(w, "linkage", "XL1", zone="none")
    (subj.fires("projects.linkage_misplaced", "拆旧地块全部不在村庄建设控制区",
                "demolition plot entirely outside the village construction control zone",
                outside_m2=Measure(3000, plot))
     .result("illegal", illegal=Measure(3000, plot)))
    subj, plot, s = _plot(w, "linkage", "XL2", zone="half")
    (subj.fires("projects.linkage_misplaced", "东侧1500平方米在村庄建设控制区外",
                "eastern 1500 m2 outside the village zone",
                outside_m2=Measure(1500, plot - s.r(0, 0, 50, 100)))
     .result("illegal", illegal=Measure(1500, plot - s.r(0, 0, 50, 100))))
    subj, plot, s = _plot(w, "linkage", "XL3")
    (subj.silent("projects.linkage_misplaced", "全部在村庄建设控制区内", "entirely inside the "
                 "village zone")
     .silent("projects.linkage_no_building", "地块内有主房", "a main building stands on the plot")
     .silent("projects.linkage_no_crop", "验收时苗已出", "seedlings up at acceptance")
     .silent("projects.late_linkage", "8月20日实施完成", "implemented 20 August")
     .result("legal"))
    subj, plot, s = _plot(w, "linkage", "XL4", house="annex")
    (subj.fires("projects.linkage_no_building", "地块内只有附房，没有主房",
                "only an annex on the plot, no main building")
     .result("illegal", illegal=Measure(3000, plot)))
    subj, plot, s = _plot(w, "linkage", "XL5", house="none")
    (subj.fires("projects.linkage_no_building", "地块内没有任何房屋", "no building on the plot")
     .result("illegal", illegal=Measure(3000, plot)))
    subj, plot, s = _plot(w, "linkage", "XL6", house="straddle")
    (subj.silent("projects.linkage_no_building", "主房跨地块边界，一半在地块内，算有主房",
                 "the main building straddles the plot edge, half inside: counts")
     .result("legal"))
    subj, plot, s = _plot(w, "linkage", "XL7", ZWQK="未种植")
    subj.fires("projects.linkage_no_crop", "验收时未种植", "not planted at acceptance")
    subj.result("needs_review")
    subj, plot, s = _plot(w, "linkage", "XL8", ZWQK=None)
    subj.fires("projects.linkage_no_crop", "没有作物举证", "no crop evidence")
    subj.result("needs_review")
    subj, plot, s = _plot(w, "linkage", "XL12", land="0702")
    (subj.fires("projects.not_farmland_after", "验收后变更调查仍为农村宅基地",
                "still rural homestead in the survey after acceptance",
                illegal_m2=Measure(3000, plot))
     .result("illegal", illegal=Measure(3000, plot)))

    dates = [
        ("XL9", dict(SSRQ=D(2023, 9, 1)), "projects.late_linkage", True,
         "2023-09-01实施完成，晚于8月31日", "implemented 2023-09-01, after 31 August"),
        ("XL10", dict(SSRQ=D(2023, 10, 15), YSRQ=None, ZT="已竣工"), "projects.late_linkage",
         True, "2023-10-15实施完成", "implemented 2023-10-15"),
        ("XL11", dict(SSRQ=D(2023, 8, 31)), "projects.late_linkage", False,
         "8月31日完成实施，恰在期限内", "implemented on 31 August itself"),
        ("XL13", dict(LXRQ=D(2023, 7, 15), SSRQ=D(2023, 8, 30), YSRQ=D(2023, 9, 20)),
         "projects.late_approval", True, "2023-07-15立项，晚于5月31日",
         "approved 2023-07-15, after 31 May"),
    ]
    _dated(w, "linkage", dates)


# --- contiguous development plans ----------------------------------------------------------------
def plans(w: World) -> None:
    designs = [
        # label, x, y, w, h, kind, public width (m, a strip on the west side), other uses
        ("CP1", 4900, 2500, 300, 300, "产业主导", 105, ["工业用地"]),
        ("CP2", 3500, 2500, 300, 300, "产城融合", 135, ["居住用地", "商业服务业用地"]),
        ("CP3", 5300, 3000, 300, 200, "产业主导", 120, ["工业用地"]),
        ("CP4", 4500, 3300, 400, 400, "产城融合", 200, ["居住用地"]),
        ("CP5", 4000, 2200, 300, 200, "产业主导", 135, ["工业用地"]),
        ("CP6", 3500, 3800, 300, 300, "产城融合", 114, ["居住用地", "商业服务业用地"]),
    ]
    for n, (label, x, y, pw, ph, kind, public, uses) in enumerate(designs, start=1):
        fabh = f"349901CP2023{n:03d}"
        parts = [w.add("cpkf", rect(x, y, public, ph), FABH=fabh, FALX=kind, YTFL="公益性用地",
                       PQMC=f"城关片区{n}")]
        rest = pw - public
        step = rest / len(uses)
        for k, use in enumerate(uses):
            parts.append(w.add("cpkf", rect(x + public + k * step, y, step, ph), FABH=fabh,
                               FALX=kind, YTFL=use, PQMC=f"城关片区{n}"))
        w.reserve(rect(x, y, pw, ph).buffer(50, join_style="mitre"))
        _plan_case(w, label, parts, rect(x, y, pw, ph), public / pw)


def _plan_case(w: World, label: str, parts: list, outline, share: float) -> None:
    subj = w.subject("cpkf", parts, label)
    share_token = round(share, 4)
    if label == "CP5":
        w.paint(rect(4000, 2200, 300, 100), "0101", "LS")
        w.pf(rect(4000, 2200, 300, 100), village="何庄村")
    low = share < 0.40
    if low:
        subj.fires("plans.public_share_low", f"公益性用地占比{share:.0%}，低于40%",
                   f"public-interest share {share:.0%}, below 40 %", share=share_token)
    else:
        subj.silent("plans.public_share_low", f"公益性用地占比{share:.0%}，不低于40%",
                    f"public-interest share {share:.0%}, not below 40 %", share=share_token)
    outside = {"CP3": (20000, outline - rect(3300, 2300, 2200, 2000)),
               "CP4": (40000, outline & TOWN_HOLE),
               "CP5": (30000, outline - rect(3300, 2300, 2200, 2000))}
    if label in outside:
        area, geom = outside[label]
        subj.fires("plans.outside_town_boundary", f"{area}平方米在城镇开发边界外",
                   f"{area} m2 outside the town development boundary",
                   outside_m2=Measure(area, geom))
    else:
        subj.silent("plans.outside_town_boundary", "全部在城镇开发边界内", "entirely inside the "
                    "town development boundary")
    if label in ("CP4", "CP5"):
        area, geom = outside[label]
        subj.fires("plans.contains_permanent_farmland", f"含永久基本农田{area}平方米",
                   f"contains {area} m2 of permanent farmland", pf_m2=Measure(area, geom))
        subj.result("illegal", illegal=Measure(area, geom))
    else:
        if label in ("CP2", "CP3"):
            subj.silent("plans.contains_permanent_farmland", "不含永久基本农田",
                        "no permanent farmland inside")
        if label == "CP3":
            subj.result("illegal", illegal=Measure(20000, outside["CP3"][1]))
        else:
            subj.result("needs_review" if low else "legal")


# --- rectification deadlines ---------------------------------------------------------------------
DEADLINE_DESIGN = {
    # label: (level, issue date, due date, note zh, note en)
    "O2": ("市", D(2023, 9, 28), D(2023, 10, 3), "市级交办5日内", "city: within 5 days"),
    "O3": ("市", D(2023, 12, 29), D(2024, 1, 3), "市级交办跨年", "city: across the new year"),
    "O4": ("市", D(2024, 2, 26), D(2024, 3, 2), "市级交办跨闰年2月", "city: across leap February"),
    "A1": ("省", D(2023, 9, 30), D(2023, 9, 30), "省级月末交办，当日即期限",
           "province: issued on the last day of the month, due the same day"),
    "A3": ("省", D(2024, 2, 5), D(2024, 2, 29), "省级交办，闰年2月底", "province: end of leap "
           "February"),
    "U3": ("省", D(2023, 12, 15), D(2023, 12, 31), "省级交办，当月底",
           "province: end of the month"),
    "U1": ("部", D(2023, 12, 31), D(2024, 1, 20), "部级12月交办，次年1月20日",
           "ministry: issued in December, due 20 January next year"),
    "A5": ("部", D(2024, 1, 31), D(2024, 2, 20), "部级月末交办，次月20日", "ministry: issued at a "
           "month end, due the 20th of the next month"),
    "A2": ("部", D(2023, 10, 20), D(2023, 11, 20), "部级交办，次月20日",
           "ministry: 20th of the next month"),
    "K3": (None, None, None, "自查发现，无交办层级", "found locally, no issuing level"),
}


def deadlines(w: World) -> None:
    by_label = {s.label: s for s in w.subjects if s.layer == "patches"}
    for label, (level, issued, _due, _zh, _en) in DEADLINE_DESIGN.items():
        attrs = by_label[label].feature.attrs
        attrs["XFJB"], attrs["XFRQ"] = level, issued
    assert AS_OF.year == 2023
