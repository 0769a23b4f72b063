"""Local metric grid, feature store, land-use painting and case records.

All geometry is built in *local* metres (x 0..8000 east, y 0..6000 north) with integer or
binary-fraction coordinates, so every overlay below is exact. Only when measuring the
designed areas and when writing files is everything shifted by (X0, Y0) into CGCS2000
3-degree Gauss-Kruger zone 39 with the zone number prefixed to the easting (EPSG:4527).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

# --- where the county lies -------------------------------------------------------------------
X0 = 39_505_600.0  # local x = 0  (about 117.056 E)
Y0 = 3_515_000.0  # local y = 0  (about 31.758 N)
WIDTH, HEIGHT = 8000, 6000
CELL = 100  # the land-use grid and the slot grid
CRS = "EPSG:4527"

COUNTY_CODE = "349901"
COUNTY_NAME = "示范县"
ROUND = "2023Q3"
AS_OF = dt.date(2023, 9, 30)  # review date for temporary land, campaign year for corridors

# default parameters the case table is designed against (see README)
SLIVER_M2 = 1.0
POSITION_TOLERANCE_M = 0.5
WIDTH_TOLERANCE_M = 0.5
CORRIDOR_SEARCH_M = 10.0
AREA_TOL = 0.005  # designed vs measured area (m2), after the shift to prefixed coordinates

# The region kept free of county-wide reference layers, where the designed cases sit.
FIELD_S = box(0, 0, 5800, 1800)

D = dt.date
QSX, HSX, XFRQ = D(2023, 5, 15), D(2023, 8, 20), D(2023, 10, 16)  # dates of a designed patch


def rect(x: float, y: float, w: float, h: float) -> BaseGeometry:
    """Axis-aligned rectangle from its lower-left corner, width and height (local metres)."""
    return box(x, y, x + w, y + h)


def shift(geom: BaseGeometry) -> BaseGeometry:
    """Local metres -> EPSG:4527 plane coordinates (zone-prefixed easting)."""
    return shapely.transform(geom, lambda c: c + np.array([X0, Y0]))


def plane_area(geom: BaseGeometry | None) -> float:
    """Area in m2 as shapely computes it on the EPSG:4527 plane."""
    if geom is None or geom.is_empty:
        return 0.0
    return float(shift(geom).area)


def equivalent_width(geom: BaseGeometry) -> float:
    """Width of the rectangle with the same area and perimeter (the road-width method).

    w = (P - sqrt(P^2 - 16 A)) / 4; exact for straight and L-shaped strips of constant width.
    """
    g = shift(geom)
    a, p = g.area, g.length
    disc = p * p - 16.0 * a
    return float(np.sqrt(a)) if disc <= 0 else float((p - np.sqrt(disc)) / 4.0)


def polygons(geom: BaseGeometry) -> list[BaseGeometry]:
    """Polygon parts of a (multi)polygon or collection, empty parts dropped."""
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    return [g for part in getattr(geom, "geoms", []) for g in polygons(part)]


def check(label: str, measured: float, designed: float, tol: float = AREA_TOL) -> float:
    """Assert a measured value equals the designed one; return the measured value."""
    if abs(measured - designed) > tol:
        raise AssertionError(f"{label}: measured {measured:.6f}, designed {designed}")
    return measured


# --- features and case records ---------------------------------------------------------------
@dataclass(eq=False)
class Feature:
    layer: str
    geom: BaseGeometry
    attrs: dict[str, Any]

    @property
    def id(self) -> str:
        return self.attrs[ID_FIELD[self.layer]]


ID_FIELD = {
    "patches": "JCBH", "pz": "PZWH", "ssnyd": "BABH", "lsyd": "PZWH", "lsyd_sj": "BSM",
    "yjjbnt": "BSM", "ld": "BSM", "jtxl": "BSM", "jz": "BSM", "xm": "XMBH", "cpkf": "FABH",
    "stbhhx": "BSM", "nclu_qq": "BSM", "czjskzq": "BSM", "ybndq": "BSM", "czkfbj": "BSM",
    "dzzh": "BSM", "kcyz": "BSM", "xzq": "XZQDM",
}

ROLE_OF_LAYER = {
    "patches": "patches", "lsyd": "temporary_land", "lsyd_sj": "temporary_footprints",
    "xm": "projects", "cpkf": "development_plans",
}


@dataclass
class Measure:
    """A designed number next to the geometry it is measured from (None: not an area)."""

    designed: float
    geom: BaseGeometry | None = None
    measured: float | None = None


@dataclass
class Row:
    rule: str
    expect: str  # fires / silent
    zh: str
    en: str
    measures: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Subject:
    """One feature the case table talks about, with its rows and expected outcome."""

    layer: str
    features: list[Feature]
    label: str
    verdict: str = "other"
    legal: Measure | None = None
    illegal: Measure | None = None
    rows: list[Row] = field(default_factory=list)
    # patches only: designed overlay context, checked against the county-wide layers
    pf: float = 0.0
    farm: float = 0.0
    red: float = 0.0
    refs: set[str] = field(default_factory=set)
    background: bool = False

    @property
    def feature(self) -> Feature:
        return self.features[0]

    def fires(self, rule: str, zh: str, en: str, **measures: Any) -> Subject:
        self.rows.append(Row(rule, "fires", zh, en, measures))
        return self

    def silent(self, rule: str, zh: str, en: str, **measures: Any) -> Subject:
        self.rows.append(Row(rule, "silent", zh, en, measures))
        return self

    def result(self, verdict: str, legal: Any = None, illegal: Any = None) -> Subject:
        """Expected verdict and split; legal/illegal are Measure, a number (0) or None."""
        self.verdict = verdict
        self.legal = legal if isinstance(legal, Measure) or legal is None else Measure(legal)
        self.illegal = (
            illegal if isinstance(illegal, Measure) or illegal is None else Measure(illegal)
        )
        return self

    def context(self, pf: float = 0.0, farm: float = 0.0, red: float = 0.0, refs=()) -> Subject:
        self.pf, self.farm, self.red = pf, farm, red
        self.refs = {r.id if isinstance(r, Feature) else r for r in refs}
        return self


# --- slots: little blocks of the grid, one per designed case ---------------------------------
@dataclass
class Slot:
    x: float
    y: float
    w: float
    h: float

    @property
    def all(self) -> BaseGeometry:
        return rect(self.x, self.y, self.w, self.h)

    def r(self, dx: float, dy: float, w: float, h: float) -> BaseGeometry:
        """Rectangle relative to the slot's lower-left corner."""
        return rect(self.x + dx, self.y + dy, w, h)


class SlotAllocator:
    """Hands out w x h cell blocks inside a region, one free cell apart, away from obstacles."""

    def __init__(self, region: BaseGeometry, obstacles: BaseGeometry):
        minx, miny, maxx, maxy = (int(v) for v in region.bounds)
        self.cols = range(minx // CELL, maxx // CELL)
        self.rows = range(miny // CELL, maxy // CELL)
        self.blocked: set[tuple[int, int]] = set()
        near = obstacles.buffer(CELL, join_style="mitre")
        for c in self.cols:
            for r in self.rows:
                cell = rect(c * CELL, r * CELL, CELL, CELL)
                if not region.contains(cell) or cell.intersects(near):
                    self.blocked.add((c, r))
        self.taken: set[tuple[int, int]] = set()  # interiors
        self.halo: set[tuple[int, int]] = set()  # interiors and their margins

    def alloc(self, wc: int = 1, hc: int = 1) -> Slot:
        for r in reversed(self.rows):
            for c in self.cols:
                inner = {(c + i, r - j) for i in range(wc) for j in range(hc)}
                outer = {
                    (c + i, r - j) for i in range(-1, wc + 1) for j in range(-1, hc + 1)
                }
                if inner & (self.blocked | self.halo) or outer & self.taken:
                    continue
                if any(cell not in self.all_cells for cell in outer):
                    continue
                self.taken |= inner
                self.halo |= outer
                return Slot(c * CELL, (r - hc + 1) * CELL, wc * CELL, hc * CELL)
        raise RuntimeError(f"no room for a {wc}x{hc} slot")

    @property
    def all_cells(self) -> set[tuple[int, int]]:
        if not hasattr(self, "_all"):
            self._all = {(c, r) for c in self.cols for r in self.rows}
        return self._all


# --- the world -------------------------------------------------------------------------------
class World:
    """Everything the generator builds, in local coordinates."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.features: dict[str, list[Feature]] = defaultdict(list)
        self.paints: list[tuple[BaseGeometry, str, str | None]] = []
        self.reserved: list[BaseGeometry] = []  # kept free of county-wide fill layers
        self.subjects: list[Subject] = []
        self.counters: dict[str, int] = defaultdict(int)
        self.slots: SlotAllocator | None = None
        self.landuse: list[dict] = []  # built parcels: geometry, DLBM, ZZSXDM, XZQDM ...
        self.townships: list[tuple[str, str, BaseGeometry]] = []

    # generic ---------------------------------------------------------------------------------
    def next(self, key: str) -> int:
        self.counters[key] += 1
        return self.counters[key]

    def add(self, layer: str, geom: BaseGeometry, **attrs: Any) -> Feature:
        f = Feature(layer, geom, attrs)
        self.features[layer].append(f)
        return f

    def paint(self, geom: BaseGeometry, dlbm: str, zzsx: str | None = None) -> None:
        """Queue a land-use paint: later paints win, the result stays a coverage."""
        self.paints.append((geom, dlbm, zzsx))

    def reserve(self, geom: BaseGeometry) -> None:
        self.reserved.append(geom)

    def slot(self, wc: int = 1, hc: int = 1) -> Slot:
        return self.slots.alloc(wc, hc)

    # reference layers ------------------------------------------------------------------------
    def pf(self, geom: BaseGeometry, village: str = "南岗村") -> Feature:
        return self.add("yjjbnt", geom, BSM=f"{self.next('yjjbnt'):08d}", ZLDWMC=village)

    def approval(
        self, geom: BaseGeometry, date: dt.date, kind: str = "农转用", name: str = "",
        pzwh: str | None = None,
    ) -> Feature:
        n = self.next(f"pz{date.year}{kind == '供地'}")
        if pzwh is None:
            pzwh = (
                f"示政供〔{date.year}〕{n}号" if kind == "供地"
                else f"皖政地〔{date.year}〕{40 + 7 * n}号"
            )
        name = name or f"{COUNTY_NAME}{date.year}年度第{n}批次城镇建设用地"
        return self.add("pz", geom, PZWH=pzwh, PZRQ=date, PZLX=kind, XMMC=name)

    def filing(self, geom: BaseGeometry, kind: str, date: dt.date) -> Feature:
        n = self.next(f"ssnyd{date.year}")
        return self.add("ssnyd", geom, BABH=f"示设农备〔{date.year}〕{n}号", SSLX=kind, BARQ=date)

    def temporary(
        self, geom: BaseGeometry, start: dt.date, end: dt.date, use: str,
        linear: bool = False, name: str = "",
    ) -> Feature:
        n = self.next(f"lsyd{start.year}")
        return self.add(
            "lsyd", geom, PZWH=f"示临地〔{start.year}〕{n}号", KSRQ=start, JSRQ=end, YT=use,
            XXJC="是" if linear else "否", XMMC=name or f"{use}临时用地",
        )

    def footprint(self, geom: BaseGeometry, note: str = "") -> Feature:
        return self.add("lsyd_sj", geom, BSM=f"SJ{self.next('lsyd_sj'):04d}", GCRQ=AS_OF, BZ=note)

    def forest(self, geom: BaseGeometry, cls: str) -> Feature:
        return self.add("ld", geom, BSM=f"{self.next('ld'):08d}", LDLB=cls)

    def redline(self, geom: BaseGeometry, name: str) -> Feature:
        return self.add("stbhhx", geom, BSM=f"{self.next('stbhhx'):08d}", HXMC=name)

    def old_road(self, geom: BaseGeometry, width: float) -> Feature:
        return self.add(
            "nclu_qq", geom, BSM=f"{self.next('nclu_qq'):08d}", KD=float(width),
            DLMC="农村道路", SJNF=2021,
        )

    def zone(self, layer: str, geom: BaseGeometry, **attrs: Any) -> Feature:
        return self.add(layer, geom, BSM=f"{self.next(layer):08d}", **attrs)

    def building(self, geom: BaseGeometry, kind: str) -> Feature:
        return self.add("jz", geom, BSM=f"{self.next('jz'):08d}", JZLX=kind)

    def corridor(
        self, geom: BaseGeometry, cls: str, width: float, name: str,
        planned: float | None = None,
    ) -> Feature:
        return self.add(
            "jtxl", geom, BSM=f"{self.next('jtxl'):08d}", DLDJ=cls, KD=float(width),
            GHKD=planned, MC=name,
        )

    # subjects ----------------------------------------------------------------------------------
    def patch(
        self, label: str, geom: BaseGeometry, tblx: str | None, *,
        qsx: dt.date | None = QSX, hsx: dt.date | None = HSX,
        pzwh: str | None = None, xfjb: str | None = "部", xfrq: dt.date | None = XFRQ,
        bz: str = "", background: bool = False, **extra: Any,
    ) -> Subject:
        f = self.add(
            "patches", geom, TBLX=tblx, QSX=qsx, HSX=hsx, PZWH=pzwh, XFJB=xfjb, XFRQ=xfrq,
            BZ=bz or None, **extra,
        )
        s = Subject("patches", [f], label, background=background)
        self.subjects.append(s)
        return s

    def subject(self, layer: str, features: list[Feature] | Feature, label: str) -> Subject:
        feats = features if isinstance(features, list) else [features]
        s = Subject(layer, feats, label)
        self.subjects.append(s)
        return s
