"""Size and write time of the offline map (``landcheck report map``) for many patches.

The verdicts layer is synthetic: ``--patches`` squares (20–60 m sides, numpy-drawn, seeded)
on a grid of cells in EPSG:4527, each carrying the attributes of a demo-county verdict row
in turn (so ``official_class``, reasons, townships and dates are realistic; the 309 rows'
texts repeat). ``--unique-reasons`` appends the patch id to each reason, so that no reason
text repeats (the map then stores every patch's reasons in full). The GeoPackage is written
first (not timed), then :func:`landcheck.report.webmap.write_map` is timed, best of
``--repeat``.

    python benchmarks/webmap_100k.py                      # 100,000 patches
    python benchmarks/webmap_100k.py --unique-reasons
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

import landcheck
from landcheck.io import write_layers
from landcheck.report.styles import add_result_styles
from landcheck.report.webmap import write_map
from landcheck.testing import AS_OF, SAMPLES

_COLUMNS = ["verdict", "verdict_zh", "official_class", "official_class_code",
            "official_subclass", "official_subclass_code", "township", "township_name",
            "due_date", "reasons_zh", "area_m2"]


def synthetic_verdicts(n: int, *, seed: int = 0, unique_reasons: bool = False):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        demo = landcheck.screen(None, SAMPLES / "county.toml", reference_date=AS_OF).verdicts
    rng = np.random.default_rng(seed)
    side = rng.uniform(20, 60, n)
    cols = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    x0 = 39_500_000.0 + (i % cols) * 80.0 + rng.uniform(0, 80 - side)
    y0 = 3_500_000.0 + (i // cols) * 80.0 + rng.uniform(0, 80 - side)
    geoms = shapely.box(x0, y0, x0 + side, y0 + side)
    attrs = demo[_COLUMNS].iloc[i % len(demo)].reset_index(drop=True)
    attrs["id"] = [f"S{k:07d}" for k in i]
    attrs["area_m2"] = side * side
    if unique_reasons:
        attrs["reasons_zh"] = attrs["reasons_zh"].str.replace(
            "；", "", regex=False) + "（" + attrs["id"] + "）"
    return gpd.GeoDataFrame(attrs, geometry=geoms, crs="EPSG:4527")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patches", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--unique-reasons", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        gpkg = Path(tmp) / "synthetic.gpkg"
        write_layers({"verdicts": synthetic_verdicts(args.patches,
                                                     unique_reasons=args.unique_reasons)},
                     gpkg, finish=add_result_styles)
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            summary = write_map(gpkg, Path(tmp) / "map.html", overwrite=True)
            times.append(time.perf_counter() - t)
        print(f"{args.patches} patches{' (unique reasons)' if args.unique_reasons else ''}: "
              f"{summary.bytes / 1e6:.1f} MB, write_map best of {args.repeat} "
              f"{min(times):.2f} s (all: {', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
