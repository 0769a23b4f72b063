r"""The county itself: townships, corridors, town, villages, hills and the base land use.

Local coordinates (metres): x 0..8000 east, y 0..6000 north. Sketch (not to scale):

    6000 +--------------------------------------------------------------+
         | 西山乡 hills / forest |      北河乡        |     东湖镇 (north)   |
    5200 |======================== 示兴高速公路 (expressway) ==============|
         |  red line NW          |                    |                     |
    4700 |~~~~~~~~~~~~~~~~~~~~~~~~~~~ 示河 ~~~~~~~\                        |
         |                       |                   \~~~~~~~~~~~~~~~~~~~~|4400
    3600 |---- 县道X101 ----------| 城关镇 town (czkfbj |---- 县道X101 ------|
         | 南岗镇 (north part)    |   with a PF hole)  |  东湖镇 (PF land)   |
    2000 |                       |                    |                     |
    1800 |======================== 示兴铁路 (railway) ======================|
         | FIELD_S: designed cases (南岗镇)             |                     |
       0 +--------------------------------------------------------------+
         0     省道899线 at x=2600                    5800  国道999线 x=6200  8000
"""

from __future__ import annotations

import shapely
from shapely.geometry import Polygon

from .world import CELL, FIELD_S, HEIGHT, WIDTH, World, polygons, rect

TOWNSHIPS = {
    "349901001": "城关镇",
    "349901002": "东湖镇",
    "349901003": "西山乡",
    "349901004": "南岗镇",
    "349901005": "北河乡",
}

TOWN = rect(3400, 2400, 2000, 1800)  # built-up area of the county seat
TOWN_BOUNDARY = rect(3300, 2300, 2200, 2000)  # outline of the development boundary
TOWN_HOLE = rect(4600, 3400, 200, 200)  # permanent farmland left as a hole ("天窗")
HILLS = rect(0, 3400, 2400, 2600)

RIVER = Polygon([
    (0, 4700), (5000, 4700), (5300, 4400), (8000, 4400),
    (8000, 4460), (5300, 4460), (5000, 4760), (0, 4760),
])

# (name, x, y, w, h) of the village built-up areas (0702), all outside FIELD_S
VILLAGES = [
    ("张庄村", 6500, 700, 200, 150), ("李湾村", 7450, 1300, 200, 200),
    ("王圩村", 6450, 2900, 250, 150), ("陈岗村", 7500, 3900, 200, 150),
    ("刘郢村", 6500, 5500, 200, 150), ("杨店村", 3300, 5400, 250, 150),
    ("赵河村", 4700, 5500, 200, 150), ("孙集村", 5400, 4800, 200, 150),
    ("周塘村", 1500, 4100, 200, 150), ("吴楼村", 2000, 5600, 200, 150),
    ("郑岗村", 500, 2400, 200, 150), ("冯湾村", 1800, 2700, 200, 150),
    ("何庄村", 3000, 2000, 150, 150),
]

# regions of the county-wide fill layers (reserved areas are cut out later)
PF_REGIONS = shapely.union_all([
    rect(5800, 0, 2200, 4300),
    rect(3000, 2000, 2800, 2400).difference(TOWN_BOUNDARY),
    rect(0, 1830, 3000, 1370),
])
GENERAL_AG_REGIONS = shapely.union_all([rect(2400, 3200, 600, 2800), rect(3000, 4460, 5000, 1540)])


def township_of(cx: float, cy: float) -> str:
    """Township code of a cell centre (boundaries follow the 100 m grid)."""
    if cx >= 5800 and (cy < 3000 or cx >= 6000):
        return "349901002"
    if cx < 3000 and cy >= 3200:
        return "349901003"
    if cy < 2000 or cx < 3000:
        return "349901004"
    if cy >= (4700 if cx < 5000 else 4500):
        return "349901005"
    return "349901001"


def build_townships(w: World) -> None:
    cells: dict[str, list] = {code: [] for code in TOWNSHIPS}
    for c in range(WIDTH // CELL):
        for r in range(HEIGHT // CELL):
            code = township_of(c * CELL + CELL / 2, r * CELL + CELL / 2)
            cells[code].append(rect(c * CELL, r * CELL, CELL, CELL))
    for code, name in TOWNSHIPS.items():
        geom = shapely.union_all(cells[code])
        w.townships.append((code, name, geom))
        w.add("xzq", geom, XZQDM=code, XZQMC=name)


# --- corridors --------------------------------------------------------------------------------
def build_corridors(w: World) -> dict[str, object]:
    """Roads, railway, river and canals: jtxl polygons plus their land-use paints."""
    c = {}
    c["river"] = w.corridor(RIVER, "河流", 60, "示河", planned=20.0)
    c["canal_e"] = w.corridor(rect(0, 600, 5800, 6), "沟渠", 6, "东干渠", planned=4.0)
    c["canal_w"] = w.corridor(rect(800, 1830, 6, 2870), "沟渠", 6, "西支渠", planned=4.0)
    c["village_1"] = w.corridor(rect(6800, 2000, 5, 1600), "村道", 5, "村道C301")
    c["village_2"] = w.corridor(rect(4400, 4760, 5, 440), "村道", 5, "村道C302")
    c["township_1"] = w.corridor(rect(1200, 0, 8, 4700), "乡道", 8, "乡道Y201")
    c["township_2"] = w.corridor(rect(7200, 0, 8, 5200), "乡道", 8, "乡道Y202")
    c["county_w"] = w.corridor(rect(0, 3600, 3300, 10), "县道", 10, "县道X101")
    c["county_e"] = w.corridor(rect(5500, 3600, 2500, 10), "县道", 10, "县道X101")
    c["provincial"] = w.corridor(rect(2600, 0, 20, 6000), "省道", 20, "省道899线")
    c["national"] = w.corridor(rect(6200, 0, 30, 6000), "国道", 30, "国道999线")
    c["railway"] = w.corridor(rect(0, 1800, 8000, 30), "铁路", 30, "示兴铁路")
    c["expressway"] = w.corridor(rect(0, 5200, 8000, 40), "高速公路", 40, "示兴高速公路")
    landuse = {
        "河流": "1101", "沟渠": "1107", "村道": "1006", "乡道": "1003", "县道": "1003",
        "省道": "1003", "国道": "1003", "铁路": "1001", "高速公路": "1003",
    }
    for f in c.values():  # painted in this order: bridges and crossings belong to the road
        for piece in _tiles(f.geom, 1000):
            w.paint(piece, landuse[f.attrs["DLDJ"]])
    return c


def _tiles(geom, size: int) -> list:
    minx, miny, maxx, maxy = geom.bounds
    out = []
    for x in range(int(minx // size) * size, int(maxx) + 1, size):
        for y in range(int(miny // size) * size, int(maxy) + 1, size):
            out += polygons(geom.intersection(rect(x, y, size, size)))
    return [p for p in out if p.area > 0]


def corridor_union(w: World):
    return shapely.union_all([f.geom for f in w.features["jtxl"]])


# --- town -------------------------------------------------------------------------------------
def build_town(w: World) -> None:
    w.zone("czkfbj", TOWN_BOUNDARY.difference(TOWN_HOLE), MC="城镇开发边界")
    rng = w.rng
    for x in range(3400, 5400, 200):
        for y in range(2400, 4200, 200):
            if x >= 4800:
                cls = rng.choice(["0601", "0601", "0601", "0508", "1201"])
            elif 4200 <= x < 4600 and 3000 <= y < 3800:
                cls = rng.choice(["05H1", "05H1", "08H1", "0810A"])
            else:
                cls = rng.choice(["0701", "0701", "0701", "08H2", "0809", "1201", "0810"])
            w.paint(rect(x, y, 200, 200), str(cls))
    for x in (3800, 4200, 5000):
        w.paint(rect(x, 2400, 20, 1800), "1004")
    for y in (2800, 3200, 4000):
        w.paint(rect(3400, y, 2000, 20), "1004")
    w.paint(rect(3300, 3600, 2200, 20), "1004")  # the county road through town
    w.paint(rect(5200, 2400, 120, 80), "1005")  # bus station
    ring = TOWN_BOUNDARY.difference(TOWN)
    for k, piece in enumerate(_tiles(ring, 400)):
        w.paint(piece, "1201" if k % 3 == 0 else "0103", None if k % 3 == 0 else "LS")
    w.paint(TOWN_HOLE, "0101", "LS")
    w.pf(TOWN_HOLE, village="城关社区")


# --- villages ---------------------------------------------------------------------------------
def build_villages(w: World) -> None:
    obstacles = corridor_union(w).buffer(30)
    for name, x, y, vw, vh in VILLAGES:
        core = rect(x, y, vw, vh)
        assert not core.intersects(obstacles), name
        assert not core.intersects(FIELD_S) and not core.intersects(TOWN_BOUNDARY), name
        w.paint(core, "0702")
        w.zone("czjskzq", core.buffer(50, join_style="mitre"), CZMC=name)
        _houses(w, x, y, vw, vh)


def _houses(w: World, x0: float, y0: float, vw: float, vh: float) -> None:
    rng = w.rng
    for x in range(int(x0) + 6, int(x0 + vw) - 20, 30):
        for y in range(int(y0) + 6, int(y0 + vh) - 18, 25):
            if rng.random() < 0.2:
                continue
            w.building(rect(x, y, 12, 10), "主房")
            if rng.random() < 0.7:
                w.building(rect(x + 14, y + 2, 6, 5), "附房")


# --- hills ------------------------------------------------------------------------------------
def build_hills(w: World) -> None:
    w.paint(rect(900, 3800, 200, 150), "0602")  # limestone quarry
    w.paint(rect(1100, 4300, 60, 40), "1207")
    w.redline(rect(0, 5300, 1000, 700), "西山水源涵养生态保护红线")
    w.redline(rect(0, 4700, 1500, 60), "示河湿地生态保护红线")
    w.add("dzzh", _chamfer(rect(0, 5000, 1200, 1000), 100), BSM="00000001",
          ZHLX="滑坡", YFCD="高易发区")
    w.add("dzzh", rect(1200, 4200, 1200, 1400), BSM="00000002", ZHLX="崩塌", YFCD="中易发区")
    w.add("kcyz", rect(700, 3600, 700, 500), BSM="00000001", KZMC="石灰岩",
          KQMC="西山石灰岩矿区")
    w.add("kcyz", rect(6600, 200, 1200, 900), BSM="00000002", KZMC="煤", KQMC="东湖煤田（深部）")


def _chamfer(r, c: float) -> Polygon:
    """Rectangle with 45-degree corners cut by c metres (vertices stay on the integer grid)."""
    minx, miny, maxx, maxy = r.bounds
    return Polygon([
        (minx + c, miny), (maxx - c, miny), (maxx, miny + c), (maxx, maxy - c),
        (maxx - c, maxy), (minx + c, maxy), (minx, maxy - c), (minx, miny + c),
    ])


# --- base land use ----------------------------------------------------------------------------
FOREST_MIX = ["0301"] * 6 + ["0305", "0307", "0404", "0202", "0201", "0101", "1206", "0301K"]
NORTH_MIX = ["0103"] * 14 + ["0102"] * 4 + ["0404", "1206"]
SOUTH_MIX = ["0101"] * 14 + ["0102"] * 3 + ["0103"] * 2 + ["0201"]


def base_parcels(w: World) -> list[tuple]:
    """200 m x 100 m base parcels with a class chosen by region (paints refine them later)."""
    rng = w.rng
    out = []
    for x in range(0, WIDTH, 2 * CELL):
        for y in range(0, HEIGHT, CELL):
            cx, cy = x + CELL, y + CELL / 2
            if FIELD_S.contains(rect(x, y, 2 * CELL, CELL)):
                cls = "0101" if (y // 300) % 2 == 0 else "0103"
            elif HILLS.contains(rect(x, y, 2 * CELL, CELL)):
                cls = str(rng.choice(FOREST_MIX))
            elif cy > (4760 if cx < 5000 else 4460):
                cls = str(rng.choice(NORTH_MIX))
            else:
                cls = str(rng.choice(SOUTH_MIX))
            out.append((rect(x, y, 2 * CELL, CELL), cls, "LS" if FIELD_S.contains(
                rect(x, y, 2 * CELL, CELL)) else None))
    return out


def scatter(w: World) -> None:
    """Ponds, old rural roads, adjustable (K) land and greenhouses outside the reserved areas."""
    rng = w.rng
    blocked = shapely.union_all(
        [corridor_union(w).buffer(20), FIELD_S.buffer(20), TOWN_BOUNDARY.buffer(30), HILLS]
        + [f.geom.buffer(20) for f in w.features["czjskzq"]]
        + [f.geom.buffer(20) for f in w.features["pz"]]
        + [g.buffer(20) for g in w.reserved]
    )
    # previous-period rural roads (4 m) along parcel edges, kept in nclu_qq too
    for y, x0, x1 in [(300, 6300, 7100), (2500, 7300, 7900), (3900, 6300, 7100),
                      (5000, 3100, 4300), (5800, 5300, 6100), (2300, 100, 1100),
                      (2900, 2100, 2500), (5600, 6300, 7100)]:
        road = rect(x0, y - 2, x1 - x0, 4)
        if road.intersects(blocked):
            continue
        w.paint(road, "1006")
        w.old_road(road, 4)
        blocked = blocked.union(road.buffer(20))
    kinds = ["1104"] * 24 + ["1104K"] * 4 + ["0201K"] * 4 + ["1202"] * 5 + ["1104A"] * 6
    placed = 0
    while placed < len(kinds):
        x = int(rng.integers(0, WIDTH // 10 - 10)) * 10
        y = int(rng.integers(0, HEIGHT // 10 - 10)) * 10
        cls = kinds[placed]
        size = (40, 30) if cls == "1202" else (60, 40)
        geom = _chamfer(rect(x, y, *size), 0 if cls in ("1202", "0201K") else 8)
        if geom.buffer(15).intersects(blocked) or not rect(0, 0, WIDTH, HEIGHT).contains(geom):
            continue
        w.paint(geom, cls)
        blocked = blocked.union(geom.buffer(20))
        placed += 1
