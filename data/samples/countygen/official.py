"""The official class and sub-type each designed patch case must get (CASES.csv columns
``official_class`` / ``official_subclass``), from the case's designed rules, verdict, patch
type and covering documents — written from the city pack's documented mapping
(docs/official.md), not from landcheck's code.
"""

from __future__ import annotations

from .world import Subject, World

#: The city pack's rules that name a class, in pack order: rule → (verdict, class, sub-type);
#: sub-type None: by patch type; "cover": the largest covering document's.
RULES = {
    "legality.invalid_geometry": ("needs_review", "存疑", "图斑几何无效"),
    "legality.unknown_type": ("needs_review", "存疑", "图斑类型不明"),
    "legality.unknown_landuse": ("needs_review", "存疑", "地类代码不明"),
    "legality.missing_dates": ("needs_review", "存疑", "时相缺失或矛盾"),
    "legality.approved": ("legal", "合法", "cover"),
    "legality.facility_ag": ("legal", "设施农用地", "cover"),
    "legality.facility_kind_unknown": ("needs_review", "存疑", "设施农用地类型不明"),
    "legality.temporary_land": ("legal", "合法", "cover"),
    "legality.built_before_approval": ("illegal", "非农违法", None),
    "legality.near_threshold": ("needs_review", "存疑", "未覆盖部分在定位容差内"),
    "legality.unapproved_construction": ("illegal", "非农违法", None),
    "legality.photovoltaic_on_farmland": ("illegal", "非农违法", "工矿商服（光伏）"),
    "legality.rural_road": ("other", "农村道路", "宽度不超过标准"),
    "temporary.use_changed": ("illegal", "非农违法", None),
    "temporary.use_unknown": ("needs_review", "存疑", "临时用地批准用途不明"),
    "farmland.four_prohibitions": ("illegal", "非粮违法", "永久基本农田“四禁止”"),
    "farmland.lake_digging": ("illegal", "非农违法", "工矿商服（挖湖造景）"),
    "farmland.balance_exempt": ("other", "其他", "灾毁地块或生态退耕"),
    "farmland.outflow": ("other", "其他", "耕地流出（计入进出平衡）"),
    "farmland.non_grain": ("needs_review", "存疑", "疑似非粮化"),
    "deadline.level_unknown": ("needs_review", "存疑", "下发层级不明（无法计算整改期限）"),
    "roads.pass": ("other", "农村道路", "宽度不超过标准"),
    "roads.too_wide": ("needs_review", "存疑", "农村道路待核实（宽度、新建或拓宽）"),
    "roads.widened": ("needs_review", "存疑", "农村道路待核实（宽度、新建或拓宽）"),
    "roads.new_road": ("needs_review", "存疑", "农村道路待核实（宽度、新建或拓宽）"),
    "roads.on_permanent_farmland": ("illegal", "非农违法", "道路交通"),
    "roads.balance_required": ("other", "农村道路", "占用一般耕地（须进出平衡）"),
    "roads.public_welfare_forest": ("needs_review", "存疑", "林地手续待核实"),
    "roads.commercial_forest": ("needs_review", "存疑", "林地手续待核实"),
    "roads.forest_class_unknown": ("needs_review", "存疑", "林地手续待核实"),
    "corridors.over_standard": ("illegal", "非粮违法", "超标准绿色通道"),
    "corridors.class_unknown": ("needs_review", "存疑", "道路河渠等级不明（绿化带标准无法确定）"),
}
#: The class of a verdict no rule names.
BY_VERDICT = {"illegal": "非农违法", "needs_review": "存疑", "legal": "合法", "other": "其他"}
#: Sub-types of 非农违法 by patch type (the pack's [[official.subclasses]]).
ILLEGAL_BY_TYPE = {"GF": "工矿商服（光伏）", "YH": "工矿商服（硬化）",
                   "WHZJ": "工矿商服（挖湖造景）",
                   "CK": "工矿商服（采矿用地）", "DL1": "道路交通", "DL2": "道路交通",
                   "DL3": "道路交通", "TL": "道路交通", "ND": "道路交通", "DT": "圈占堆放",
                   "TD": "圈占堆放", "WL": "圈占堆放", "TP": "圈占堆放", "LT": "圈占堆放",
                   "LY": "圈占堆放"}
#: Patch types of agricultural, water or earth changes (legality.agricultural_change).
AGRICULTURAL = {"01", "02", "03", "04", "KT", "SM", "SK", "HL", "GQ", "LD", "DT", "TD", "WL",
                "TP", "LT", "LY", "11", "FG", "WHZJ", "MP", "LH"}


def expected(w: World, s: Subject) -> tuple[str, str]:
    """(official class, sub-type) of a patch case."""
    fired = {r.rule for r in s.rows if r.expect == "fires"}
    tblx = s.feature.attrs.get("TBLX")
    for rule, (verdict, cls, sub) in RULES.items():
        if rule in fired and verdict == s.verdict:
            if sub == "cover":
                return cls, _cover(w, s)
            if sub is None:
                return cls, ILLEGAL_BY_TYPE.get(tblx, "未细分")
            return cls, sub
    cls = BY_VERDICT[s.verdict]
    if cls == "非农违法":
        return cls, ILLEGAL_BY_TYPE.get(tblx, "未细分")
    if cls == "其他":
        return cls, ("农业、水域或土方类变化" if tblx in AGRICULTURAL
                     else "不作为案件（未触发判定规则）")
    return cls, "未细分"


def _cover(w: World, s: Subject) -> str:
    """The sub-type of the covering document with the largest share of the patch."""
    geom = s.feature.geom
    best, sub = 0.0, "未细分"
    for layer, name in (("pz", None), ("ssnyd", "上图入库备案"), ("lsyd", "临时用地")):
        for f in w.features[layer]:
            if not f.geom.intersects(geom):
                continue
            a = f.geom.intersection(geom).area
            if a > best:
                best = a
                sub = name or ("供地" if f.attrs.get("PZLX") == "供地" else "批文")
    return sub
