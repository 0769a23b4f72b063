"""Official area methods side by side: survey3, survey2, geodesic and planar, and their cost.

Prints Markdown tables (the figures of ``docs/area.md``):

1. differences between the methods per polygon set — the demo county's layers, the real
   Xinwu parcels (EULUC-China 2.0, projected to CGCS2000 3° zone 40 when the shared real
   data are present) and irregular star polygons with 100 m – 2 km sloping edges;
2. the time of ``official_area`` with each method on the same polygons (ratio to survey2:
   what densification and rounding cost).

    python benchmarks/area_methods.py            # ~30 s
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import shapely

import landcheck
from landcheck.area import geodesic_area, official_area, planar_area
from landcheck.testing import SAMPLES

REPO = Path(__file__).resolve().parents[1]
XINWU = REPO.parent / "shared" / "realdata" / "china_wuxi_xinwu_euluc" / "xinwu_euluc_landuse.gpkg"


def demo_county():
    """Every polygon layer of the demo county, in EPSG:4527."""
    layers = landcheck.LayerSet.from_config(SAMPLES / "county.toml")
    geoms = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for role in ["patches", *layers.layers]:
            try:
                gdf = layers.read(role)
            except Exception as exc:  # a layer the sample lacks the software to read
                print(f"<!-- skipped {role}: {exc} -->")
                continue
            gdf = gdf.to_crs("EPSG:4527")
            g = gdf.geometry.to_numpy()
            keep = np.isin(shapely.get_type_id(g), (3, 6)) & shapely.is_valid(g)
            geoms.append(g[keep])
    return np.concatenate(geoms), "EPSG:4527"


def xinwu():
    """The Xinwu EULUC parcels in CGCS2000 3° zone 40 (EPSG:4528, central meridian 120°E)."""
    if not XINWU.exists():
        return None, None
    gdf = landcheck.read_layer(XINWU, layer="euluc_land_use").to_crs("EPSG:4528")
    return gdf.geometry.to_numpy(), "EPSG:4528"


def stars(n=960, seed=7):
    """Irregular stars, 5–9 points, 100 m – 2 km edges, 20–50°N, up to 1.5° from the CM of
    zone 39 (117°E), random decimals."""
    import pyproj

    rng = np.random.default_rng(seed)
    fwd = pyproj.Transformer.from_crs("EPSG:4490", "EPSG:4527", always_xy=True)
    out = []
    for _ in range(n):
        lon, lat = 117.0 + rng.uniform(-1.5, 1.5), rng.uniform(20, 50)
        cx, cy = fwd.transform(lon, lat)
        k = int(rng.integers(5, 10))
        angles = np.sort(rng.uniform(0, 2 * np.pi, 2 * k))
        radii = np.where(np.arange(2 * k) % 2 == 0, rng.uniform(600, 1500, 2 * k),
                         rng.uniform(100, 500, 2 * k))
        ring = np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)])
        poly = shapely.Polygon(ring)
        if poly.is_valid:
            out.append(poly)
    return np.array(out, dtype=object), "EPSG:4527"


def compare(name, geoms, crs) -> str:
    s3 = official_area(geoms, crs=crs)
    s2 = official_area(geoms, crs=crs, method="survey2")
    geo = geodesic_area(geoms, crs=crs)
    plane = planar_area(geoms, crs=crs)

    def cell(a, b):
        d = np.abs(a - b)
        rel = np.max(d / np.maximum(b, 1e-9))
        return (f"{d.max():.4g} m² ({rel:.2g}) · {int((d > 0.01).sum())} · "
                f"{int((d > 0.1).sum())}")

    has = s3 > 0
    return (f"| {name} | {len(geoms):,} | {cell(s3, s2)} | {cell(s3, geo)} | {cell(s2, geo)} "
            f"| {np.max(np.abs(plane[has] / s3[has] - 1)):.2e} |")


def timing(name, geoms, crs, repeat=3) -> str:
    def best(method):
        official_area(geoms[:10], crs=crs, method=method)  # compile and warm
        t = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            official_area(geoms, crs=crs, method=method)
            t.append(time.perf_counter() - t0)
        return min(t)

    s2, s3 = best("survey2"), best("survey3")
    points = int(shapely.get_num_coordinates(geoms).sum())
    return f"| {name} | {len(geoms):,} | {points:,} | {s2:.3f} s | {s3:.3f} s | {s3 / s2:.2f}× |"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sets = [("demo county, all polygon layers", *demo_county())]
    xw = xinwu()
    if xw[0] is not None:
        sets.append(("Xinwu EULUC parcels, EPSG:4528", *xw))
    sets.append(("stars, 100 m – 2 km edges, 20–50°N", *stars()))
    print("| polygons | features | survey3 − survey2: max (rel) · > 0.01 m² · > 0.1 m² "
          "| survey3 − geodesic | survey2 − geodesic | planar / survey3 − 1, max |")
    print("| --- | ---: | --- | --- | --- | ---: |")
    for name, geoms, crs in sets:
        print(compare(name, geoms, crs))
    print()
    many = np.concatenate([sets[0][1]] * 50)
    print("| polygons | features | points | survey2 | survey3 | survey3 / survey2 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, geoms, crs in [*sets, ("demo county × 50", many, "EPSG:4527")]:
        print(timing(name, geoms, crs, args.repeat))


if __name__ == "__main__":
    main()
