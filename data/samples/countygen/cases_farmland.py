"""Designed cases of the farmland family (非农化 / 非粮化 / 流出), one slot each in FIELD_S."""

from __future__ import annotations

from .cases_legality import slot, std
from .world import Measure, World

AGRI = ("legality.agricultural_change", "非建设类变化，按其他处理",
        "non-construction change: other")


def build(w: World) -> None:
    four_prohibitions(w)
    outflow(w)
    lake_digging(w)
    non_grain(w)
    exempt(w)


def four_prohibitions(w: World) -> None:
    items = [
        ("FP1", "0101", "02", "种植果树", "orchard"),
        ("FP2", "0101", "KT", "挖塘养鱼", "fish pond"),
        ("FP3", "0102", "MP", "种植绿化苗木", "nursery stock"),
        ("FP4", "0103", "LH", "建设绿化带", "green belt"),
        ("FP5", "0101", "03", "种植速生杨", "poplar plantation"),
    ]
    for label, cls, tblx, bz, en in items:
        s = slot(w, cls)
        pf = w.pf(s.all)
        p = std(s)
        (w.patch(label, p, tblx, bz=bz).context(pf=2000, farm=2000)
         .fires("farmland.four_prohibitions", f"永久基本农田上{bz}（四严禁）",
                f"{en} on permanent farmland (four prohibitions)", pf_m2=Measure(2000, p & pf.geom))
         .fires(*AGRI)
         .silent("farmland.outflow", "全部在永久基本农田上，没有一般耕地流出",
                 "all on permanent farmland: no general-farmland outflow")
         .result("illegal", legal=0, illegal=Measure(2000, p & pf.geom)))

    s = slot(w, "0103")
    w.paint(s.r(0, 0, 50, 100), "0101", "LS")
    pf = w.pf(s.r(0, 0, 50, 100))
    p = std(s)
    (w.patch("FP6", p, "02", bz="种植葡萄").context(pf=1000, farm=2000)
     .fires("farmland.four_prohibitions", "西半部1000平方米永久基本农田种植果树",
            "orchard on the western 1000 m2 of permanent farmland",
            pf_m2=Measure(1000, p & pf.geom))
     .fires("farmland.outflow", "东半部1000平方米一般耕地流出为园地",
            "eastern 1000 m2 of general farmland flows out to garden",
            balance_m2=Measure(1000, p - pf.geom))
     .fires(*AGRI)
     .result("illegal", legal=0, illegal=Measure(1000, p & pf.geom)))


def outflow(w: World) -> None:
    items = [
        ("O1", "0103", "02", "农户自行种植果树", "orchard planted by the farmer"),
        ("O2", "0101", "KT", "挖塘养殖", "pond dug for aquaculture"),
        ("O3", "0102", "03", "种植用材林", "timber plantation"),
        ("O4", "0103", "04", "种草", "grass sown"),
    ]
    for label, cls, tblx, bz, en in items:
        s = slot(w, cls)
        p = std(s)
        subj = (w.patch(label, p, tblx, bz=bz).context(farm=2000)
                .fires("farmland.outflow", f"一般耕地流出（{bz}），计入进出平衡",
                       f"general farmland outflow ({en}), recorded for in-out balance",
                       balance_m2=Measure(2000, p))
                .fires(*AGRI)
                .result("other", legal=0, illegal=0))
        if label == "O1":
            subj.silent("farmland.balance_exempt", "备注不属于生态退耕、灾毁或自然淹没",
                        "the remark is not ecological retirement, disaster or flooding")
        if label == "O2":
            subj.silent("farmland.lake_digging", "养殖坑塘不是挖湖造景，可以进出平衡",
                        "an aquaculture pond is not a landscape lake: it can be balanced")

    s = slot(w, "0201")
    (w.patch("O6", std(s), "02", bz="果园改种").context()
     .silent("farmland.outflow", "原地类已是果园，不是耕地", "already an orchard, not farmland")
     .fires(*AGRI)
     .result("other", legal=0, illegal=0))
    s = slot(w, "0201K")
    (w.patch("O7", std(s), "02", bz="可调整果园补种").context()
     .silent("farmland.outflow", "0201K可调整地类默认不计为耕地（策略可配置）",
             "0201K adjustable land is not farmland by default (a configurable policy)")
     .fires(*AGRI)
     .result("other", legal=0, illegal=0))


def lake_digging(w: World) -> None:
    s = slot(w, "0103")
    p = std(s)
    (w.patch("W1", p, "WHZJ", bz="挖田造湖建景观水面").context(farm=2000)
     .fires("farmland.lake_digging", "占一般耕地挖湖造景，须恢复，不得以进出平衡落实",
            "landscape lake dug in general farmland: restore, no balancing allowed",
            illegal_m2=Measure(2000, p))
     .silent("farmland.outflow", "挖湖造景不计入可平衡的流出", "a landscape lake is not "
             "balanceable outflow")
     .fires(*AGRI)
     .result("illegal", legal=0, illegal=Measure(2000, p)))

    s = slot(w, "0101")
    pf = w.pf(s.all)
    p = std(s)
    (w.patch("W2", p, "WHZJ", bz="农家乐景观湖").context(pf=2000, farm=2000)
     .fires("farmland.lake_digging", "占永久基本农田挖湖造景", "landscape lake dug in "
            "permanent farmland", illegal_m2=Measure(2000, p))
     .fires("farmland.four_prohibitions", "永久基本农田挖湖造景（四严禁）",
            "landscape lake on permanent farmland (four prohibitions)",
            pf_m2=Measure(2000, p & pf.geom))
     .fires(*AGRI)
     .result("illegal", legal=0, illegal=Measure(2000, p)))

    s = slot(w, "1206")
    (w.patch("W3", std(s), "WHZJ", bz="裸土地上挖湖").context()
     .silent("farmland.lake_digging", "原地类为裸土地，不占耕地", "on bare land, no farmland")
     .fires(*AGRI)
     .result("other", legal=0, illegal=0))


def non_grain(w: World) -> None:
    s = slot(w, "0101", "FLS")
    pf = w.pf(s.all)
    p = std(s)
    (w.patch("NG1", p, "01", bz="种植蔬菜").context(pf=2000, farm=2000)
     .fires("farmland.non_grain", "永久基本农田种植属性为非粮（FLS）", "permanent farmland with "
            "non-grain planting (FLS)", fls_m2=Measure(2000, p & pf.geom))
     .fires(*AGRI)
     .result("needs_review", legal=0, illegal=0))

    s = slot(w, "0103", "LS")
    w.paint(s.r(0, 0, 50, 100), "0103", "FLS")
    pf = w.pf(s.all)
    p = std(s)
    (w.patch("NG2", p, "01", bz="部分种植花卉").context(pf=2000, farm=2000)
     .fires("farmland.non_grain", "西半部1000平方米为非粮种植", "the western 1000 m2 is "
            "non-grain", fls_m2=Measure(1000, p & s.r(0, 0, 50, 100)))
     .fires(*AGRI)
     .result("needs_review", legal=0, illegal=0))

    s = slot(w, "0103", "FLS")
    (w.patch("NG3", std(s), "01", bz="种植蔬菜").context(farm=2000)
     .silent("farmland.non_grain", "非粮种植但不在永久基本农田上", "non-grain, but not on "
             "permanent farmland")
     .fires(*AGRI)
     .result("other", legal=0, illegal=0))

    s = slot(w, "0101", "LYFL")
    w.pf(s.all)
    (w.patch("NG4", std(s), "01", bz="稻菜轮作").context(pf=2000, farm=2000)
     .silent("farmland.non_grain", "粮与非粮轮作（LYFL）不按非粮处理", "grain/non-grain "
             "rotation (LYFL) is not non-grain")
     .fires(*AGRI)
     .result("other", legal=0, illegal=0))


def exempt(w: World) -> None:
    s = slot(w, "0103")
    p = std(s)
    (w.patch("E1", p, "03", bz="国家安排生态退耕还林").context(farm=2000)
     .fires("farmland.outflow", "一般耕地流出为林地", "general farmland flows out to forest",
            balance_m2=Measure(2000, p))
     .fires("farmland.balance_exempt", "国家安排的生态退耕，记为免于平衡",
            "state-arranged ecological retirement: recorded as exempt")
     .fires(*AGRI)
     .result("other", legal=0, illegal=0))

    s = slot(w, "0101")
    p = std(s)
    (w.patch("E2", p, "11", bz="2023年7月暴雨洪水，耕地自然淹没").context(farm=2000)
     .fires("farmland.outflow", "一般耕地变为水面", "general farmland became water",
            balance_m2=Measure(2000, p))
     .fires("farmland.balance_exempt", "自然淹没，记为免于平衡", "natural flooding: recorded as "
            "exempt")
     .fires(*AGRI)
     .result("other", legal=0, illegal=0))

    s = slot(w, "0404")
    (w.patch("E3", std(s), "04", bz="灾毁后自然恢复草地").context()
     .silent("farmland.balance_exempt", "备注含灾毁，但不是耕地流出", "the remark says disaster, "
             "but it is no farmland outflow")
     .fires(*AGRI)
     .result("other", legal=0, illegal=0))
