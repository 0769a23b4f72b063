"""The land-use coverage (DLTB) and the county-wide layers derived from it.

The coverage is built by painting: base parcels first, then every queued paint in order; each
paint cuts what lies below it, so the result is a gap-free, overlap-free partition. Permanent
farmland, the general agricultural zone and the forest layer are then taken from the land use
by region, minus the reserved areas around designed cases.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
import shapely
from landcheck.area import round_half_up

from .layout import (
    GENERAL_AG_REGIONS,
    HILLS,
    PF_REGIONS,
    TOWN_BOUNDARY,
    VILLAGES,
    _tiles,
    corridor_union,
)
from .world import (
    COUNTY_CODE,
    FIELD_S,
    HEIGHT,
    WIDTH,
    D,
    World,
    polygons,
    rect,
    shift,
)

FARM = {"0101", "0102", "0103"}
FOREST = {"0301", "0301K", "0302", "0305", "0307"}
CLASSES_CSV = Path(__file__).resolve().parents[3] / "landcheck" / "data" / "landuse_classes.csv"
BUCKET = 200


def class_table() -> dict[str, dict]:
    with open(CLASSES_CSV, encoding="utf-8", newline="") as fh:
        return {row["code"]: row for row in csv.DictReader(fh)}


# --- background approvals ------------------------------------------------------------------------
def background_approvals(w: World) -> None:
    """Approved construction batches on the edges of town, villages and the industrial park."""
    specs = [
        (rect(6300, 2000, 400, 300), D(2022, 9, 15), "农转用", "示范县东湖工业园2022年度第3批次"),
        (rect(6300, 2000, 200, 300), D(2023, 3, 10), "供地", "示范县新能源配件厂项目"),
        (rect(7300, 2300, 300, 300), D(2021, 12, 20), "农转用",
         "示范县2021年度第9批次城镇建设用地"),
        (rect(7300, 2300, 300, 300), D(2021, 12, 20), "征收", "示范县2021年度第9批次城镇建设用地"),
        (rect(3500, 4800, 400, 300), D(2022, 4, 28), "农转用", "北河乡集镇2022年度第1批次"),
        (rect(5000, 1900, 300, 300), D(2023, 1, 16), "农转用", "示范县2023年度第1批次城镇建设用地"),
        (rect(1900, 2000, 300, 300), D(2021, 6, 8), "农转用", "南岗镇工业集中区2021年度第2批次"),
        (rect(7500, 4700, 300, 250), D(2022, 11, 30), "农转用", "东湖镇2022年度第4批次"),
        (rect(6400, 3300, 250, 200), D(2022, 7, 7), "征收", "示范县王圩安置区项目"),
    ]
    for geom, date, kind, name in specs:
        w.approval(geom, date, kind=kind, name=name)


# --- land use ------------------------------------------------------------------------------------
class Coverage:
    """Parcels with a bucket index so a paint only touches its neighbours."""

    def __init__(self):
        self.parcels: dict[int, list] = {}
        self.index: dict[tuple[int, int], set[int]] = defaultdict(set)
        self.n = 0

    def _buckets(self, geom):
        minx, miny, maxx, maxy = geom.bounds
        for i in range(int(minx // BUCKET), int(maxx // BUCKET) + 1):
            for j in range(int(miny // BUCKET), int(maxy // BUCKET) + 1):
                yield (i, j)

    def add(self, geom, cls, zzsx):
        for poly in polygons(geom):
            self.n += 1
            self.parcels[self.n] = [poly, cls, zzsx]
            for b in self._buckets(poly):
                self.index[b].add(self.n)

    def remove(self, pid):
        geom = self.parcels.pop(pid)[0]
        for b in self._buckets(geom):
            self.index[b].discard(pid)

    def paint(self, geom, cls, zzsx):
        geom = geom.intersection(rect(0, 0, WIDTH, HEIGHT))
        if geom.is_empty:
            return
        hits = set().union(*(self.index.get(b, set()) for b in self._buckets(geom)))
        for pid in sorted(hits):
            old, ocls, ozz = self.parcels[pid]
            if not old.intersects(geom) or old.touches(geom):
                continue
            rest = old.difference(geom)
            self.remove(pid)
            self.add(rest, ocls, ozz)
        self.add(geom, cls, zzsx)


def build_landuse(w: World, base: list) -> None:
    cov = Coverage()
    for geom, cls, zzsx in base:
        cov.add(geom, cls, zzsx)
    for geom, cls, zzsx in w.paints:
        cov.paint(geom, cls, zzsx)
    parcels = []
    for geom, cls, zzsx in cov.parcels.values():
        for code, _name, tgeom in w.townships:
            if not geom.intersects(tgeom) or geom.touches(tgeom):
                continue
            piece = geom if tgeom.contains(geom) else geom.intersection(tgeom)
            for poly in polygons(piece):
                parcels.append(dict(geometry=poly, DLBM=cls, ZZSXDM=zzsx, XZQDM=code))
    _node(parcels)
    _planting(w, parcels)
    _attributes(parcels)
    w.landuse = parcels


def _node(parcels: list) -> None:
    """Give neighbours identical vertices along shared edges (a coverage must be noded)."""
    lines = shapely.union_all([p["geometry"].boundary for p in parcels])
    faces = list(shapely.get_parts(shapely.polygonize(list(shapely.get_parts(lines)))))
    tree = shapely.STRtree(faces)
    taken = set()
    for p in parcels:
        pt = p["geometry"].representative_point()
        hits = [int(i) for i in tree.query(pt, predicate="within")]
        assert len(hits) == 1 and hits[0] not in taken, "noding changed the parcels"
        taken.add(hits[0])
        assert abs(faces[hits[0]].area - p["geometry"].area) < 1e-6
        p["geometry"] = shapely.normalize(faces[hits[0]])
    assert len(taken) == len(faces)


def _planting(w: World, parcels: list) -> None:
    """Planting attribute for farmland: no non-grain (FLS) inside permanent-farmland regions."""
    rng = np.random.default_rng(20231)
    in_pf = ["LS"] * 16 + ["LYFL"] * 2 + ["XG", "LLJZ", "WG"]
    out_pf = ["LS"] * 11 + ["FLS"] * 6 + ["LYFL"] * 2 + ["WG"]
    for p in sorted(parcels, key=_order):
        if p["DLBM"] not in FARM:
            p["ZZSXDM"] = None
        elif p["ZZSXDM"] is None:
            pt = p["geometry"].representative_point()
            p["ZZSXDM"] = str(rng.choice(in_pf if PF_REGIONS.contains(pt) else out_pf))


def _order(p: dict):
    c = p["geometry"].representative_point()
    return (p["XZQDM"], -round(c.y, 3), round(c.x, 3))


def _attributes(parcels: list) -> None:
    names = class_table()
    parcels.sort(key=_order)
    shifted = [shift(p["geometry"]) for p in parcels]
    ell = ellipsoidal_areas(shifted)
    for n, (p, a) in enumerate(zip(parcels, ell, strict=True), start=1):
        p["BSM"] = f"{COUNTY_CODE}{n:010d}"
        # a code the table does not know (a designed data-quality case) keeps a made-up name
        p["DLMC"] = names[p["DLBM"]]["name_zh"] if p["DLBM"] in names else "未知地类"
        p["TBMJ"] = float(round_half_up(a, 2))
        p["XZQDM"] = p["XZQDM"] + "000"




def ellipsoidal_areas(shifted: list) -> list[float]:
    """Official ellipsoidal area (图斑椭球面积, the third-survey method ``survey3`` of
    :func:`landcheck.area.official_area`) in m², as a survey database's TBMJ holds it before
    rounding; NaN for a missing geometry."""
    from landcheck.area import official_area

    out = np.full(len(shifted), np.nan)
    has = [g is not None and not g.is_empty for g in shifted]
    if any(has):
        geoms = np.array([g for g, h in zip(shifted, has, strict=True) if h], dtype=object)
        out[np.array(has)] = official_area(geoms, crs="EPSG:4527", method="survey3")
    return out.tolist()


# --- county-wide fill layers ---------------------------------------------------------------------
def _exclusions(w: World):
    return shapely.union_all(
        [FIELD_S, TOWN_BOUNDARY] + w.reserved
        + [f.geom for f in w.features["pz"]] + [f.geom for f in w.features["czjskzq"]]
    )


def _nearest_village(geom) -> str:
    c = geom.representative_point()
    def dist(v):
        return (v[1] + v[3] / 2 - c.x) ** 2 + (v[2] + v[4] / 2 - c.y) ** 2

    return min(VILLAGES, key=dist)[0]


def fill_permanent_farmland(w: World) -> None:
    farm = shapely.union_all([p["geometry"] for p in w.landuse if p["DLBM"] in FARM])
    pf = farm.intersection(PF_REGIONS).difference(_exclusions(w))
    for piece in _tiles(pf, 500):
        if piece.area >= 200:
            w.pf(piece, village=_nearest_village(piece))


def fill_general_ag_zone(w: World) -> None:
    pf = shapely.union_all([f.geom for f in w.features["yjjbnt"]])
    zone = (GENERAL_AG_REGIONS.difference(corridor_union(w)).difference(HILLS)
            .difference(_exclusions(w)).difference(pf))
    for piece in _tiles(zone, 1000):
        if piece.area >= 5000:
            w.zone("ybndq", piece, GNFQMC="一般农业区")


def fill_forest(w: World) -> None:
    def kind(pt):
        if pt.x < 800 and pt.y > 5300:
            return "国家级公益林"
        if pt.x < 1600 and 4000 < pt.y <= 5300:
            return "省级公益林"
        return "商品林"

    groups: dict[str, list] = defaultdict(list)
    for p in w.landuse:
        if p["DLBM"] in FOREST and HILLS.contains(p["geometry"]):
            groups[kind(p["geometry"].representative_point())].append(p["geometry"])
    for cls in ("国家级公益林", "省级公益林", "商品林"):
        merged = shapely.union_all(groups[cls])
        for piece in _tiles(merged, 600):
            w.forest(piece, cls)
