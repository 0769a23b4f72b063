"""Finishing the patch round: monitoring ids, township codes, areas, classes and deadlines."""

from __future__ import annotations

import calendar
import datetime as dt

import shapely

from .cases_review import DEADLINE_DESIGN
from .layout import township_of
from .world import COUNTY_CODE, ROUND, World, plane_area

LEVEL = {"部": "ministry", "省": "province", "市": "city"}
LEVEL_NOTE = {
    "ministry": ("部级交办，次月20日前整改到位", "ministry: rectify by the 20th of the next month"),
    "province": ("省级交办，当月内整改到位", "province: rectify within the month of issue"),
    "city": ("市级交办，5日内整改到位", "city: rectify within 5 days"),
}


def due_date(level: str, issued: dt.date) -> dt.date:
    """Rectification deadline of the city pack for one issuing level."""
    if level == "city":
        return issued + dt.timedelta(days=5)
    if level == "province":
        return issued.replace(day=calendar.monthrange(issued.year, issued.month)[1])
    year, month = (issued.year + 1, 1) if issued.month == 12 else (issued.year, issued.month + 1)
    return dt.date(year, month, 20)


def finish(w: World) -> None:
    subjects = [s for s in w.subjects if s.layer == "patches"]
    parcels = [p["geometry"] for p in w.landuse]
    tree = shapely.STRtree(parcels)
    for s in subjects:
        a, g = s.feature.attrs, s.feature.geom
        if "JCMJ" not in a:
            a["JCMJ"] = round(plane_area(g), 2)
        if "DLBM" not in a:
            a["DLBM"] = _dominant_class(w, tree, g)
        if "XZQDM" not in a:
            pt = g.representative_point()
            a["XZQDM"] = township_of(pt.x, pt.y)
    subjects.sort(key=_order)
    for n, s in enumerate(subjects, start=1):
        s.feature.attrs["JCBH"] = f"{COUNTY_CODE}{ROUND}{n:06d}"
    for s in subjects:
        _deadline_rows(s)


def _order(s) -> tuple:
    g = s.feature.geom
    if g.is_empty:
        return (s.feature.attrs["XZQDM"], float("inf"), 0.0)
    pt = g.envelope.centroid
    return (s.feature.attrs["XZQDM"], -round(pt.y, 3), round(pt.x, 3))


def _dominant_class(w: World, tree, geom) -> str:
    best, best_area = None, -1.0
    for i in sorted(tree.query(geom, predicate="intersects")):
        p = w.landuse[int(i)]
        area = p["geometry"].intersection(geom).area
        if area > best_area + 1e-9:
            best, best_area = p["DLBM"], area
    return best


def _deadline_rows(s) -> None:
    a = s.feature.attrs
    level, issued = LEVEL.get(a["XFJB"]), a["XFRQ"]
    design = DEADLINE_DESIGN.get(s.label)
    if level is None or issued is None:
        for lv in ("city", "province", "ministry"):
            s.silent(f"deadline.{lv}", "没有交办层级或交办日期，不计算期限",
                     "no issuing level or issue date: no deadline")
        return
    due = due_date(level, issued)
    zh, en = LEVEL_NOTE[level]
    if design:
        assert design[2] == due, (s.label, design, due)
        zh, en = f"{zh}（{design[3]}）", f"{en} ({design[4]})"
    s.fires(f"deadline.{level}", f"{issued}交办；{zh}", f"issued {issued}; {en}", due=due)
