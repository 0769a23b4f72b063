"""Deterministic synthetic county for the overlay benchmarks.

A county in CGCS2000 3° Gauss–Krüger zone 39 (EPSG:4527, prefixed eastings ~39,530,000,
northings ~3,500,000, about 30 km east of the central meridian so planar and official areas
differ by ~2e-5), with the layers a screening round overlays:

``landuse``
    A valid coverage of the county (no gaps, no overlaps): a grid with uneven column widths
    and row heights (~100 m on average, so ``M`` parcels cover ``M`` hectares), every grid
    vertex jittered and shared by its four cells, and every grid edge bent through 0–9
    jittered intermediate vertices that both neighbouring cells share (≈ 22 vertices per
    parcel). Canonical columns ``id``, ``class`` (text codes such as ``"0101"``) and
    ``planting`` (farmland only).
``permanent_farmland``
    Fewer, larger star-shaped polygons (40–1,300 vertices, log-uniform), a quarter of them
    with a hole; they do not overlap each other.
``town_boundary``
    A few big multipolygons (2–4 parts, the main part 1,500–4,000 vertices, with 1–3 holes).
``village_zone``
    Small zones (12–120 vertices), not overlapping each other.
``approvals``
    Rotated rectangles and blobs (median ~6,000 m²), 60 % placed on a patch, a quarter of
    them amended copies of an earlier approval (shifted, rescaled), so approvals OVERLAP each
    other: a patch's approved area is the area of a union. Columns ``id``, ``date``, ``kind``.
``patches``
    Small change patches (median ~1,500 m², log-normal) scattered over the county, rotated
    rectangles and blobs. Columns ``pid`` (row number), ``id``, ``type``, ``before``,
    ``after``.

Everything is drawn from one ``numpy`` generator seeded by ``--seed``: the same arguments
give the same files. Layers are written as GeoParquet into
``benchmarks/.cache/n<N>_m<M>_s<seed>/`` with a ``meta.json`` (counts, vertices, bounds).

Run ``python benchmarks/synth.py --patches 5000 --parcels 10000`` (or ``--size small``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

CRS = "EPSG:4527"
CENTER = (39_530_000.0, 3_500_000.0)
CACHE = Path(__file__).resolve().parent / ".cache"
GENERATOR_VERSION = 1
SIZES = {
    "small": (5_000, 10_000),
    "medium": (20_000, 40_000),
    "large": (100_000, 200_000),
}
LAYERS = ("landuse", "permanent_farmland", "town_boundary", "village_zone", "approvals")

#: Land-use codes and weights (groups: farmland, garden, forest, grass, construction …).
LANDUSE_CODES = {
    "0101": 10, "0102": 8, "0103": 22, "0201": 4, "0201K": 1, "0204": 1, "0301": 10,
    "0305": 2, "0307": 2, "0404": 5, "05H1": 1, "0601": 2, "0702": 10, "1003": 1, "1006": 4,
    "1101": 3, "1104": 4, "1107": 2, "1202": 2, "1206": 3,
}
PLANTING = {"LS": 70, "FLS": 15, "LYFL": 5, "XG": 5, "WG": 5}
PATCH_TYPES = {
    "20": 50, "YH": 15, "DT": 8, "ND": 5, "GF": 3, "KT": 5, "01": 4, "02": 3, "03": 3,
    "SM": 2, "TD": 2,
}
APPROVAL_KINDS = {"conversion": 50, "expropriation": 30, "supply": 20}


def _choice(rng, table: dict, n: int) -> np.ndarray:
    keys = np.array(list(table), dtype=object)
    w = np.array(list(table.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=w / w.sum())]


# ---------------------------------------------------------------- shapes


def _star_rings(rng, cx, cy, radius, nverts, *, amp=0.15, harmonics=6, noise=0.01):
    """Closed star-shaped rings around (cx, cy): r(θ) = R(1 + Σ a_k sin(kθ + φ_k))(1 + ε).

    θ increases strictly and r > 0, so every ring is simple. Returns (coords, ring_index).
    The radius never goes below R·(1 − amp·Σ_{k≥2} 1/k) nor above R·(1 + amp·Σ 1/k)·(1+noise).
    """
    m = len(cx)
    nverts = np.asarray(nverts, dtype=np.int64)
    ring = np.repeat(np.arange(m), nverts)
    start = np.cumsum(nverts) - nverts
    j = np.arange(nverts.sum()) - start[ring]
    theta = 2 * np.pi * (j + rng.uniform(-0.3, 0.3, len(j))) / nverts[ring]
    r = np.ones(len(j))
    for k in range(2, harmonics + 1):
        a = rng.uniform(0, amp / k, m)
        phase = rng.uniform(0, 2 * np.pi, m)
        r += a[ring] * np.sin(k * theta + phase[ring])
    r *= 1 + rng.uniform(-noise, noise, len(j))
    r *= np.asarray(radius)[ring]
    x = np.asarray(cx)[ring] + r * np.cos(theta)
    y = np.asarray(cy)[ring] + r * np.sin(theta)
    # close each ring: its first vertex again after its last
    ring_c = np.repeat(np.arange(m), nverts + 1)
    start_c = np.cumsum(nverts + 1) - (nverts + 1)
    local = np.arange(len(ring_c)) - start_c[ring_c]
    local[local == nverts[ring_c]] = 0
    idx = start[ring_c] + local
    return np.column_stack([x[idx], y[idx]]), ring_c


def _rings_to_linearrings(coords, ring_index):
    return shapely.linearrings(coords, indices=ring_index)


def _rect_polygons(rng, cx, cy, area, aspect):
    """Rotated rectangles of the given areas and aspect ratios."""
    w = np.sqrt(area * aspect)
    h = area / w
    ang = rng.uniform(0, np.pi, len(cx))
    c, s = np.cos(ang), np.sin(ang)
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    dx = corners[None, :, 0] * w[:, None]
    dy = corners[None, :, 1] * h[:, None]
    x = cx[:, None] + dx * c[:, None] - dy * s[:, None]
    y = cy[:, None] + dx * s[:, None] + dy * c[:, None]
    return shapely.polygons(np.stack([x, y], axis=-1))


def _blob_polygons(rng, cx, cy, area, nverts, amp=0.25):
    """Star-shaped blobs of roughly the given areas."""
    radius = np.sqrt(area / np.pi)
    coords, idx = _star_rings(rng, cx, cy, radius, nverts, amp=amp, harmonics=4, noise=0.03)
    return shapely.polygons(_rings_to_linearrings(coords, idx))


# ---------------------------------------------------------------- land use


def _landuse(rng, m: int):
    nx = max(2, math.ceil(math.sqrt(m)))
    ny = max(2, math.ceil(m / nx))
    widths = 100.0 * np.exp(rng.normal(0, 0.3, nx))
    heights = 100.0 * np.exp(rng.normal(0, 0.3, ny))
    xs = np.concatenate([[0.0], np.cumsum(widths)])
    ys = np.concatenate([[0.0], np.cumsum(heights)])
    side_x, side_y = xs[-1], ys[-1]
    x0, y0 = CENTER[0] - side_x / 2, CENTER[1] - side_y / 2
    # vertex grid (nx+1, ny+1), jittered by ≤ 15 % of the smaller neighbouring spacing
    wpad = np.concatenate([[widths[0]], widths, [widths[-1]]])
    hpad = np.concatenate([[heights[0]], heights, [heights[-1]]])
    jx = 0.15 * np.minimum(wpad[:-1], wpad[1:])  # per column of vertices
    jy = 0.15 * np.minimum(hpad[:-1], hpad[1:])
    X = x0 + xs[:, None] + rng.uniform(-1, 1, (nx + 1, ny + 1)) * jx[:, None]
    Y = y0 + ys[None, :] + rng.uniform(-1, 1, (nx + 1, ny + 1)) * jy[None, :]
    X[0, :], X[-1, :] = x0, x0 + side_x  # straight county border
    Y[:, 0], Y[:, -1] = y0, y0 + side_y

    def edge_points(ax, ay, bx, by, border):
        """Intermediate vertices of edges a→b (flattened), ragged: (pts, offsets)."""
        k = rng.integers(0, 10, ax.size)
        e = np.repeat(np.arange(ax.size), k)
        t = rng.uniform(0.12, 0.88, k.sum())
        order = np.lexsort((t, e))  # sorted along each edge
        t = t[order]
        dx, dy = (bx - ax).ravel(), (by - ay).ravel()
        off = rng.uniform(-0.025, 0.025, k.sum()) * ~border.ravel()[e]
        px = ax.ravel()[e] + t * dx[e] - off * dy[e]
        py = ay.ravel()[e] + t * dy[e] + off * dx[e]
        offsets = np.concatenate([[0], np.cumsum(k)])
        return np.column_stack([px, py]), offsets

    hb = np.zeros((nx, ny + 1), dtype=bool)
    hb[:, 0] = hb[:, -1] = True
    vb = np.zeros((nx + 1, ny), dtype=bool)
    vb[0, :] = vb[-1, :] = True
    hpts, hoff = edge_points(X[:-1, :], Y[:-1, :], X[1:, :], Y[1:, :], hb)
    vpts, voff = edge_points(X[:, :-1], Y[:, :-1], X[:, 1:], Y[:, 1:], vb)

    def h(i, j):
        k = i * (ny + 1) + j
        return hpts[hoff[k]:hoff[k + 1]]

    def v(i, j):
        k = i * ny + j
        return vpts[voff[k]:voff[k + 1]]

    rings, counts = [], []
    for i in range(nx):
        for j in range(ny):
            ring = np.concatenate(
                [
                    [[X[i, j], Y[i, j]]],
                    h(i, j),
                    [[X[i + 1, j], Y[i + 1, j]]],
                    v(i + 1, j),
                    [[X[i + 1, j + 1], Y[i + 1, j + 1]]],
                    h(i, j + 1)[::-1],
                    [[X[i, j + 1], Y[i, j + 1]]],
                    v(i, j)[::-1],
                    [[X[i, j], Y[i, j]]],
                ]
            )
            rings.append(ring)
            counts.append(len(ring))
    coords = np.concatenate(rings)
    geoms = shapely.polygons(
        shapely.linearrings(coords, indices=np.repeat(np.arange(len(counts)), counts))
    )
    n = len(geoms)
    codes = _choice(rng, LANDUSE_CODES, n)
    farm = np.isin(codes, ["0101", "0102", "0103"])
    planting = np.where(farm, _choice(rng, PLANTING, n), None)
    gdf = gpd.GeoDataFrame(
        {
            "id": [f"DLTB{k:07d}" for k in range(n)],
            "class": pd.array(codes, dtype="string"),
            "planting": pd.array(planting, dtype="string"),
        },
        geometry=geoms,
        crs=CRS,
    )
    county = shapely.box(x0, y0, x0 + side_x, y0 + side_y)
    return gdf, county


# ---------------------------------------------------------------- zones


def _grid_centres(rng, county, count, occupancy):
    """Centres of a coarse grid of about count/occupancy cells; a random share is kept."""
    x0, y0, x1, y1 = county.bounds
    cells = max(1, round(count / occupancy))
    g = max(1, math.ceil(math.sqrt(cells * (x1 - x0) / (y1 - y0))))
    gy = max(1, math.ceil(cells / g))
    sx, sy = (x1 - x0) / g, (y1 - y0) / gy
    cx, cy = np.meshgrid(x0 + sx * (np.arange(g) + 0.5), y0 + sy * (np.arange(gy) + 0.5))
    cx, cy = cx.ravel(), cy.ravel()
    keep = rng.permutation(len(cx))[: min(count, len(cx))]
    keep.sort()
    return cx[keep], cy[keep], min(sx, sy)


def _star_polygons_with_holes(rng, cx, cy, radius, nverts, hole_specs):
    """Star polygons; hole_specs(k) → list of (dx, dy, r, n) holes for polygon k."""
    shell_coords, shell_idx = _star_rings(rng, cx, cy, radius, nverts)
    shells = _rings_to_linearrings(shell_coords, shell_idx)
    out = []
    for k, shell in enumerate(shells):
        holes = hole_specs(k)
        if holes:
            hx = np.array([cx[k] + dx for dx, _, _, _ in holes])
            hy = np.array([cy[k] + dy for _, dy, _, _ in holes])
            hr = np.array([r for _, _, r, _ in holes])
            hn = np.array([n for _, _, _, n in holes])
            hc, hi = _star_rings(rng, hx, hy, hr, hn, amp=0.1, harmonics=3)
            out.append(shapely.Polygon(shell, list(_rings_to_linearrings(hc, hi))))
        else:
            out.append(shapely.Polygon(shell))
    return np.array(out, dtype=object)


def _permanent_farmland(rng, county, m):
    count = max(10, m // 150)
    cx, cy, cell = _grid_centres(rng, county, count, 0.8)
    k = len(cx)
    cx = cx + rng.uniform(-0.05, 0.05, k) * cell
    cy = cy + rng.uniform(-0.05, 0.05, k) * cell
    radius = rng.uniform(0.25, 0.36, k) * cell  # max extent ≤ 0.36·1.46·1.01 + 0.05 < 0.5
    nverts = np.exp(rng.uniform(math.log(40), math.log(1300), k)).astype(int)
    has_hole = rng.random(k) < 0.25

    def holes(i):
        if not has_hole[i]:
            return []
        return [(0.1 * radius[i], -0.05 * radius[i], 0.2 * radius[i], int(rng.integers(12, 60)))]

    geoms = _star_polygons_with_holes(rng, cx, cy, radius, nverts, holes)
    return gpd.GeoDataFrame(
        {"id": [f"YJJBNT{i:06d}" for i in range(k)]}, geometry=geoms, crs=CRS
    )


def _town_boundary(rng, county):
    x0, y0, x1, y1 = county.bounds
    area_km2 = (x1 - x0) * (y1 - y0) / 1e6
    count = int(np.clip(round(area_km2 / 400) + 2, 2, 8))
    cx, cy, cell = _grid_centres(rng, county, count, 1.0)
    geoms = []
    for i in range(len(cx)):
        r_main = rng.uniform(0.16, 0.2) * cell
        n_main = int(rng.integers(1500, 4000))
        nholes = int(rng.integers(1, 4))
        angles = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(nholes) / nholes
        main = _star_polygons_with_holes(
            rng,
            np.array([cx[i]]),
            np.array([cy[i]]),
            np.array([r_main]),
            np.array([n_main]),
            lambda _k, r=r_main, angles=angles: [
                (0.45 * r * math.cos(a), 0.45 * r * math.sin(a), 0.12 * r,
                 int(rng.integers(40, 200)))
                for a in angles
            ],
        )[0]
        nsat = int(rng.integers(1, 4))
        sat_ang = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(nsat) / nsat
        dist = 0.38 * cell
        sx = cx[i] + dist * np.cos(sat_ang)
        sy = cy[i] + dist * np.sin(sat_ang)
        sr = rng.uniform(0.04, 0.07, nsat) * cell
        sn = rng.integers(200, 800, nsat)
        sc, si = _star_rings(rng, sx, sy, sr, sn)
        sats = shapely.polygons(_rings_to_linearrings(sc, si))
        geoms.append(shapely.MultiPolygon([main, *sats]))
    return gpd.GeoDataFrame(
        {"id": [f"CZKFBJ{i:03d}" for i in range(len(geoms))]},
        geometry=np.array(geoms, dtype=object),
        crs=CRS,
    )


def _village_zone(rng, county, m):
    count = max(10, m // 100)
    cx, cy, cell = _grid_centres(rng, county, count, 0.7)
    k = len(cx)
    cx = cx + rng.uniform(-0.2, 0.2, k) * cell
    cy = cy + rng.uniform(-0.2, 0.2, k) * cell
    radius = rng.uniform(0.1, 0.2, k) * cell
    nverts = rng.integers(12, 121, k)
    coords, idx = _star_rings(rng, cx, cy, radius, nverts, amp=0.2, harmonics=5)
    geoms = shapely.polygons(_rings_to_linearrings(coords, idx))
    return gpd.GeoDataFrame({"id": [f"CZJSKZQ{i:05d}" for i in range(k)]}, geometry=geoms,
                            crs=CRS)


# ---------------------------------------------------------------- patches, approvals


def _shapes(rng, cx, cy, area, rect_share):
    n = len(cx)
    is_rect = rng.random(n) < rect_share
    geoms = np.empty(n, dtype=object)
    if is_rect.any():
        geoms[is_rect] = _rect_polygons(
            rng, cx[is_rect], cy[is_rect], area[is_rect], rng.uniform(1, 4, is_rect.sum())
        )
    if (~is_rect).any():
        geoms[~is_rect] = _blob_polygons(
            rng, cx[~is_rect], cy[~is_rect], area[~is_rect], rng.integers(6, 31, (~is_rect).sum())
        )
    return geoms


def _patches(rng, county, n):
    x0, y0, x1, y1 = county.bounds
    inset = min(200.0, (x1 - x0) / 10)
    cx = rng.uniform(x0 + inset, x1 - inset, n)
    cy = rng.uniform(y0 + inset, y1 - inset, n)
    area = np.clip(np.exp(rng.normal(math.log(1500), 0.8, n)), 150, 60_000)
    geoms = _shapes(rng, cx, cy, area, 0.6)
    after = pd.Timestamp("2023-07-01") + pd.to_timedelta(rng.integers(0, 92, n), unit="D")
    before = after - pd.to_timedelta(rng.integers(90, 121, n), unit="D")
    return gpd.GeoDataFrame(
        {
            "pid": np.arange(n, dtype=np.int64),
            "id": [f"WP{k:07d}" for k in range(n)],
            "type": pd.array(_choice(rng, PATCH_TYPES, n), dtype="string"),
            "before": before.values.astype("datetime64[ns]"),
            "after": after.values.astype("datetime64[ns]"),
        },
        geometry=geoms,
        crs=CRS,
    )


def _approvals(rng, county, patches, n_patches):
    count = max(10, int(0.3 * n_patches))
    x0, y0, x1, y1 = county.bounds
    base = round(count * 0.75)
    on_patch = rng.random(base) < 0.6
    cx = rng.uniform(x0, x1, base)
    cy = rng.uniform(y0, y1, base)
    pick = rng.integers(0, len(patches), on_patch.sum())
    cent = shapely.centroid(np.asarray(patches.geometry.values, dtype=object)[pick])
    size = np.sqrt(shapely.area(np.asarray(patches.geometry.values, dtype=object)[pick]))
    cx[on_patch] = shapely.get_x(cent) + rng.uniform(-0.5, 0.5, len(pick)) * size
    cy[on_patch] = shapely.get_y(cent) + rng.uniform(-0.5, 0.5, len(pick)) * size
    area = np.clip(np.exp(rng.normal(math.log(6000), 0.8, base)), 300, 200_000)
    # amended copies: shifted by up to 40 % of their size and rescaled → overlaps
    k = count - base
    src = rng.integers(0, base, k)
    s = np.sqrt(area[src])
    cx = np.concatenate([cx, cx[src] + rng.uniform(-0.4, 0.4, k) * s])
    cy = np.concatenate([cy, cy[src] + rng.uniform(-0.4, 0.4, k) * s])
    area = np.concatenate([area, area[src] * rng.uniform(0.6, 1.2, k)])
    geoms = _shapes(rng, cx, cy, area, 0.7)
    geoms = shapely.intersection(geoms, county)  # stay inside the county
    date = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3377, count), unit="D")
    return gpd.GeoDataFrame(
        {
            "id": [f"PZ{d.year}-{i:06d}" for i, d in enumerate(date)],
            "date": date.values.astype("datetime64[ns]"),
            "kind": pd.array(_choice(rng, APPROVAL_KINDS, count), dtype="string"),
        },
        geometry=geoms,
        crs=CRS,
    )


# ---------------------------------------------------------------- driver


def folder(n_patches: int, n_parcels: int, seed: int) -> Path:
    return CACHE / f"n{n_patches}_m{n_parcels}_s{seed}"


def generate(n_patches: int, n_parcels: int, seed: int = 0) -> dict[str, gpd.GeoDataFrame]:
    """All layers of the synthetic county (role → GeoDataFrame), deterministic in the seed."""
    rng = np.random.default_rng([seed, n_patches, n_parcels])
    landuse, county = _landuse(rng, n_parcels)
    layers = {
        "landuse": landuse,
        "permanent_farmland": _permanent_farmland(rng, county, n_parcels),
        "town_boundary": _town_boundary(rng, county),
        "village_zone": _village_zone(rng, county, n_parcels),
    }
    patches = _patches(rng, county, n_patches)
    layers["approvals"] = _approvals(rng, county, patches, n_patches)
    layers["patches"] = patches
    return layers


def check(layers, county_area: float | None = None) -> None:
    """Every geometry valid; land use a valid coverage without gaps; zones without overlaps."""
    for role, gdf in layers.items():
        g = np.asarray(gdf.geometry.values, dtype=object)
        bad = ~shapely.is_valid(g)
        if bad.any():
            raise AssertionError(f"{role}: {bad.sum()} invalid geometries, e.g. "
                                 f"{shapely.is_valid_reason(g[bad][:3])}")
    lu = np.asarray(layers["landuse"].geometry.values, dtype=object)
    if not shapely.coverage_is_valid(lu):
        raise AssertionError("landuse is not a valid coverage")
    if county_area is not None:
        total = shapely.area(lu).sum()
        if abs(total - county_area) > 1e-9 * county_area:
            raise AssertionError(f"landuse leaves gaps: {total} vs county {county_area}")
    for role in ("permanent_farmland", "town_boundary", "village_zone"):
        g = np.asarray(layers[role].geometry.values, dtype=object)
        left, _ = shapely.STRtree(g).query(g, predicate="overlaps")
        if len(left):
            raise AssertionError(f"{role}: {len(left) // 2} overlapping pairs")


def describe(layers) -> dict:
    out = {}
    for role, gdf in layers.items():
        g = np.asarray(gdf.geometry.values, dtype=object)
        nv = shapely.get_num_coordinates(g)
        a = shapely.area(g)
        out[role] = {
            "features": len(g),
            "vertices_total": int(nv.sum()),
            "vertices_median": float(np.median(nv)),
            "vertices_max": int(nv.max()),
            "area_median_m2": float(np.median(a)),
            "area_total_km2": float(a.sum() / 1e6),
        }
    return out


def ensure(n_patches: int, n_parcels: int, seed: int = 0, *, force: bool = False,
           verbose: bool = True) -> Path:
    """Generate (once) and return the cache folder of this size and seed."""
    out = folder(n_patches, n_parcels, seed)
    meta_path = out / "meta.json"
    if meta_path.exists() and not force:
        meta = json.loads(meta_path.read_text())
        if meta.get("generator_version") == GENERATOR_VERSION:
            return out
    t0 = time.perf_counter()
    layers = generate(n_patches, n_parcels, seed)
    bounds = layers["landuse"].total_bounds
    check(layers, (bounds[2] - bounds[0]) * (bounds[3] - bounds[1]))
    out.mkdir(parents=True, exist_ok=True)
    for role, gdf in layers.items():
        gdf.to_parquet(out / f"{role}.parquet", index=False)
    meta = {
        "generator_version": GENERATOR_VERSION,
        "patches": n_patches,
        "parcels": n_parcels,
        "seed": seed,
        "crs": CRS,
        "bounds": [float(b) for b in bounds],
        "layers": describe(layers),
        "generated_s": round(time.perf_counter() - t0, 1),
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    if verbose:
        print(f"generated {out} in {meta['generated_s']} s", file=sys.stderr)
    return out


def load(path: Path) -> dict[str, gpd.GeoDataFrame]:
    return {p.stem: gpd.read_parquet(p) for p in sorted(Path(path).glob("*.parquet"))}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), help="preset sizes (patches × parcels)")
    ap.add_argument("--patches", type=int)
    ap.add_argument("--parcels", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = ap.parse_args(argv)
    n, m = SIZES[args.size or "small"]
    n = args.patches or n
    m = args.parcels or m
    out = ensure(n, m, args.seed, force=args.force)
    meta = json.loads((out / "meta.json").read_text())
    print(out)
    for role, d in meta["layers"].items():
        print(f"  {role:20s} {d['features']:>8d} features  {d['vertices_total']:>10d} vertices "
              f"(median {d['vertices_median']:.0f}, max {d['vertices_max']})  "
              f"median {d['area_median_m2']:.0f} m²  total {d['area_total_km2']:.1f} km²")


if __name__ == "__main__":
    main()
