"""Ordinary patches that fill the round: approved construction, ordinary agricultural change,
illegal houses on farmland ... Each template knows which rules fire; placement keeps every
patch inside one land-use parcel and away from the layers its template does not name.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely
from shapely.geometry import Polygon

from .fill import FARM
from .world import FIELD_S, Feature, Measure, Subject, World

CONSTRUCTION_LAND = {"0702", "0701", "0601", "1201", "05H1", "0508", "0809", "08H2"}
REMARKS = {
    "20": ["新建厂房", "村民建房", "养殖用房", "仓库", "沿街商铺", "农资店"],
    "YH": ["场地硬化", "停车场硬化", "推土平整", "晒场硬化"],
    "DL1": ["园区道路"],
    "01": ["耕地种植", "撂荒复耕", "水旱轮作"],
    "02": ["种植果树", "种植桃树", "种植梨树"],
    "03": ["植树造林", "种植杨树"],
    "04": ["种植草皮", "自然生草"],
    "KT": ["挖塘养殖", "坑塘改造"],
    "MP": ["苗木种植"],
    "DT": ["临时堆土", "取土"],
    "11": ["蓄水", "水面扩大"],
    "FG": ["拆除复耕"],
    "GF": ["光伏阵列"],
    "SS": ["设施农业"],
}
AGRI = ("legality.agricultural_change", "非建设类变化", "non-construction change")


class Placer:
    """Finds room for a patch inside one parcel, away from layers it must not touch."""

    def __init__(self, w: World):
        self.w = w
        self.rng = np.random.default_rng(7)
        keep_off = ["lsyd", "lsyd_sj", "ld", "stbhhx", "nclu_qq", "xm", "cpkf", "ssnyd"]
        avoid = shapely.union_all(
            [f.geom for layer in keep_off for f in w.features[layer]]
            + [f.geom.buffer(15) for f in w.features["jtxl"]] + w.reserved + [FIELD_S]
        )
        self.pz = shapely.union_all([f.geom for f in w.features["pz"]])
        self.pf = shapely.union_all([f.geom for f in w.features["yjjbnt"]])
        for g in (avoid, self.pz, self.pf):
            shapely.prepare(g)
        self.facts = []  # (parcel, pf share, approved area) of parcels clear of the avoid set
        for p in w.landuse:
            g = p["geometry"]
            if g.area < 1200 or (avoid.intersects(g) and g.intersection(avoid).area > 0):
                continue
            pf = g.intersection(self.pf).area / g.area if self.pf.intersects(g) else 0.0
            appr = g.intersection(self.pz).area if self.pz.intersects(g) else 0.0
            self.facts.append((p, pf, appr))
        self.used: set[int] = set()
        self.taken = shapely.union_all([s.feature.geom.buffer(10) for s in w.subjects
                                        if not s.feature.geom.is_empty])

    def parcels(self, classes: set[str], *, pf: bool | None, approved: bool) -> list[dict]:
        out = []
        for p, share, appr in self.facts:
            if p["DLBM"] not in classes:
                continue
            if (appr >= 2500) != approved or (not approved and appr > 0):
                continue
            if (pf is True and share < 1 - 1e-9) or (pf is False and share > 0):
                continue
            out.append(p)
        return out

    def place(self, candidates: list[dict], within=None) -> tuple[Polygon, dict] | None:
        order = self.rng.permutation(len(candidates))
        for k in order:
            parcel = candidates[int(k)]
            if id(parcel) in self.used:
                continue
            room = parcel["geometry"] if within is None else parcel["geometry"] & within
            geom = self._shape(room.buffer(-5, join_style="mitre"))
            if geom is None or geom.intersects(self.taken):
                continue
            if within is None:  # approved batches may hold several patches per parcel
                self.used.add(id(parcel))
            self.taken = self.taken.union(geom.buffer(10))
            return geom, parcel
        return None

    def _shape(self, inner) -> Polygon | None:
        if inner.is_empty:
            return None
        minx, miny, maxx, maxy = inner.bounds
        for _ in range(12):
            w = float(self.rng.integers(40, 121)) / 2
            h = float(self.rng.integers(32, 91)) / 2
            if maxx - minx <= w or maxy - miny <= h:
                continue
            x = minx + float(self.rng.integers(0, int((maxx - minx - w) * 2) + 1)) / 2
            y = miny + float(self.rng.integers(0, int((maxy - miny - h) * 2) + 1)) / 2
            c = [float(v) / 2 for v in self.rng.integers(0, 13, size=3)]
            geom = Polygon([
                (x + c[0], y), (x + w, y), (x + w, y + h - c[1]), (x + w - c[2], y + h),
                (x, y + h), (x, y + c[0]),
            ])
            if geom.is_valid and inner.contains(geom):
                return geom
        return None


def _dates(rng) -> dict:
    qsx = dt.date(2023, 4, 1) + dt.timedelta(days=int(rng.integers(0, 91)))
    hsx = dt.date(2023, 7, 1) + dt.timedelta(days=int(rng.integers(0, 92)))
    level = str(rng.choice(["部"] * 7 + ["省"] * 2 + ["市"]))
    issued = {"部": dt.date(2023, 10, 16), "省": dt.date(2023, 10, 25), "市": dt.date(2023, 10, 9)}
    return dict(qsx=qsx, hsx=hsx, xfjb=level, xfrq=issued[level])


def build(w: World) -> None:
    pl = Placer(w)
    templates = [
        (approved, 40), (unapproved_general, 35), (unapproved_pf, 10), (on_construction_land, 25),
        (farmland_kept, 20), (outflow, 25), (other_agricultural, 30), (facilities, 8),
        (unapproved_other, 15), (photovoltaic, 3),
    ]
    for template, count in templates:
        made = 0
        for k in range(count):
            if template(w, pl, k):
                made += 1
        if made != count:
            raise RuntimeError(f"{template.__name__}: placed {made} of {count}")


def _new(w: World, pl: Placer, label: str, classes: set[str], tblx: str, *, pf=False,
         approved=False) -> tuple[Subject, Polygon, dict] | None:
    found = pl.place(pl.parcels(classes, pf=pf, approved=approved),
                     within=pl.pz if approved else None)
    if found is None:
        return None
    geom, parcel = found
    rng = pl.rng
    bz = str(rng.choice(REMARKS[tblx]))
    subj = w.patch(label, geom, tblx, bz=bz, background=True, **_dates(rng))
    return subj, geom, parcel


def approved(w: World, pl: Placer, k: int) -> bool:
    tblx = ["20", "20", "YH", "20", "DL1", "20", "YH", "20"][k % 8]
    made = _new(w, pl, f"BG-A{k}", {"0101", "0102", "0103", "0404", "1206"}, tblx, pf=None,
                approved=True)
    if not made:
        return False
    subj, geom, _ = made
    cover = [f for f in w.features["pz"] if f.geom.intersects(geom)]
    assert all(f.attrs["PZRQ"] <= subj.feature.attrs["HSX"] for f in cover)
    if k % 3:
        subj.feature.attrs["PZWH"] = min(cover, key=lambda f: f.attrs["PZRQ"]).id
    farm = geom.area if made[2]["DLBM"] in FARM else 0
    (subj.context(farm=farm, refs=cover)
     .fires("legality.approved", "位于批准范围内", "inside an approval")
     .result("legal", legal=Measure(geom.area, geom), illegal=0))
    return True


def unapproved_general(w: World, pl: Placer, k: int) -> bool:
    made = _new(w, pl, f"BG-U{k}", FARM, ["20", "YH", "20"][k % 3], pf=False)
    if not made:
        return False
    subj, geom, _ = made
    (subj.context(farm=geom.area)
     .fires("legality.unapproved_construction", "未批先建，占一般耕地",
            "unapproved, on general farmland", farmland_m2=Measure(geom.area, geom))
     .result("illegal", legal=0, illegal=Measure(geom.area, geom)))
    return True


def unapproved_pf(w: World, pl: Placer, k: int) -> bool:
    made = _new(w, pl, f"BG-P{k}", FARM, ["20", "YH"][k % 2], pf=True)
    if not made:
        return False
    subj, geom, _ = made
    (subj.context(pf=geom.area, farm=geom.area)
     .fires("legality.unapproved_construction", "未批先建，占永久基本农田",
            "unapproved, on permanent farmland", pf_m2=Measure(geom.area, geom))
     .result("illegal", legal=0, illegal=Measure(geom.area, geom)))
    return True


def on_construction_land(w: World, pl: Placer, k: int) -> bool:
    made = _new(w, pl, f"BG-C{k}", CONSTRUCTION_LAND, ["20", "YH", "20", "20"][k % 4], pf=None)
    if not made:
        return False
    made[0].context().result("other", legal=0, illegal=0)
    return True


def farmland_kept(w: World, pl: Placer, k: int) -> bool:
    made = _new(w, pl, f"BG-F{k}", FARM, "01", pf=None)
    if not made:
        return False
    subj, geom, parcel = made
    pf = geom.intersection(pl.pf).area
    if pf and parcel["ZZSXDM"] == "FLS":
        raise AssertionError("non-grain planting inside permanent farmland")
    subj.context(pf=pf, farm=geom.area).fires(*AGRI).result("other", legal=0, illegal=0)
    return True


def outflow(w: World, pl: Placer, k: int) -> bool:
    tblx = ["02", "03", "04", "KT", "MP"][k % 5]
    made = _new(w, pl, f"BG-O{k}", FARM, tblx, pf=False)
    if not made:
        return False
    subj, geom, _ = made
    (subj.context(farm=geom.area).fires(*AGRI)
     .fires("farmland.outflow", "一般耕地流出，计入进出平衡", "general farmland outflow, "
            "recorded for balance", balance_m2=Measure(geom.area, geom))
     .result("other", legal=0, illegal=0))
    return True


def other_agricultural(w: World, pl: Placer, k: int) -> bool:
    kinds = [("03", {"0404"}), ("04", {"1206", "0404"}), ("KT", {"1104", "1104A"}),
             ("DT", {"0404", "1206"}), ("11", {"1104", "1104K"}), ("FG", {"0702"}),
             ("02", {"0201", "0202"})]
    tblx, classes = kinds[k % len(kinds)]
    made = _new(w, pl, f"BG-G{k}", classes, tblx, pf=False)
    if not made:
        return False
    made[0].context().fires(*AGRI).result("other", legal=0, illegal=0)
    return True


def facilities(w: World, pl: Placer, k: int) -> bool:
    planting = k % 2 == 0
    made = _new(w, pl, f"BG-S{k}", FARM if planting else {"0404"}, "SS", pf=False)
    if not made:
        return False
    subj, geom, _ = made
    subj.feature.attrs["BZ"] = "蔬菜大棚" if planting else "养殖棚舍"
    kind = "种植设施" if planting else "畜禽养殖设施"
    filing: Feature = w.filing(geom.envelope.buffer(3, join_style="mitre"), kind,
                               dt.date(2023, 3, 1))
    subj.context(farm=geom.area if planting else 0, refs=[filing])
    subj.fires("legality.facility_ag", f"{kind}已备案",
               "planting facility filed" if planting else "livestock facility filed")
    if planting:
        subj.fires("farmland.outflow", "设施农用地占一般耕地", "facility on general farmland",
                   balance_m2=Measure(geom.area, geom))
    subj.result("legal", legal=Measure(geom.area, geom), illegal=0)
    return True


def unapproved_other(w: World, pl: Placer, k: int) -> bool:
    made = _new(w, pl, f"BG-N{k}", {"0404", "1206", "0201"}, ["20", "YH", "20"][k % 3], pf=False)
    if not made:
        return False
    subj, geom, _ = made
    (subj.context()
     .fires("legality.unapproved_construction", "未批先建（非耕地）", "unapproved (not farmland)")
     .result("illegal", legal=0, illegal=Measure(geom.area, geom)))
    return True


def photovoltaic(w: World, pl: Placer, k: int) -> bool:
    made = _new(w, pl, f"BG-V{k}", {"1206", "0404"}, "GF", pf=False)
    if not made:
        return False
    made[0].context().result("other", legal=0, illegal=0)
    return True
