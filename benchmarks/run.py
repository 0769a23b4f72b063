"""Overlay benchmark: landcheck against the GEOS limit and other engines, side by side.

    python benchmarks/run.py --size small          # 5,000 patches × 10,000 parcels (~1–2 min)
    python benchmarks/run.py --size medium         # 20,000 × 40,000
    python benchmarks/run.py --size large          # 100,000 × 200,000
    python benchmarks/run.py --patches 50000 --parcels 80000 --repeat 2

Every approach runs in its own subprocess (so its peak RSS is its own), on the same
synthetic county (``benchmarks/synth.py``, cached as GeoParquet in ``benchmarks/.cache/``),
and returns the per-patch intersection area of every reference layer; the parent checks
that all approaches agree and prints a Markdown table, also written to
``benchmarks/results/<size>.md``. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

CRS = synth.CRS
LAYERS = synth.LAYERS
UNION_LAYERS = ("permanent_farmland", "town_boundary", "village_zone", "approvals")
REPEATS = {"small": 5, "medium": 3, "large": 1}
RTOL, ATOL = 1e-9, 1e-6  # relative, and an absolute floor in m² for near-zero areas
WARMUP_PATCHES = 300
REFERENCE_DATE = "2023-12-31"

#: name → (label, threads, what its areas are compared with)
APPROACHES = {
    "geos-1t": ("GEOS limit: intersection + area of the exact pairs", 1, "planar pairs"),
    "geos-2t": ("GEOS limit, pairs split in 2 chunks on 2 threads", 2, "planar pairs"),
    "geos-official": ("GEOS pairs + landcheck official_area per piece", 1, "official pairs"),
    "landcheck-facts": ("landcheck `compute_facts`", 1, "official union"),
    "landcheck-facts-2t": ("landcheck facts on the local engine (`facts_in_chunks`)", 2,
                           "official union"),
    "landcheck-screen-1t": ("landcheck `screen(threads=1)` (facts + rules + verdicts)", 1,
                            "official union"),
    "landcheck-screen": ("landcheck `screen` (facts + rules + verdicts), default threads", 0,
                         "official union"),
    "landcheck-gpkg": ("landcheck `ScreenResult.to_gpkg` (write only)", 1, None),
    "gpd-overlay": ("`geopandas.overlay(how='intersection')` + groupby", 1, "planar pairs"),
    "gpd-sjoin": ("`geopandas.sjoin` + `shapely.intersection` + groupby", 1, "planar pairs"),
    "duckdb-1t": ("DuckDB spatial, SQL join + ST_Intersection", 1, "planar pairs"),
    "duckdb-2t": ("DuckDB spatial, SQL join + ST_Intersection", 2, "planar pairs"),
    "sedonadb-1t": ("SedonaDB, SQL join + ST_Intersection", 1, "planar pairs"),
    "sedonadb-2t": ("SedonaDB, SQL join + ST_Intersection", 2, "planar pairs"),
}
DEFAULT_ORDER = [a for a in APPROACHES if a != "landcheck-gpkg"]  # gpkg runs with screen


class Skip(Exception):
    """An optional engine is not available."""


# ====================================================================== worker side


def _rss_now_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


_CPU: list[float] = []  # process CPU seconds (all threads) of every timed repeat


def _best_of(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        out = None  # drop the previous result first: peak RSS is one result's, not two
        gc.collect()
        c0 = time.process_time()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        _CPU.append(time.process_time() - c0)
    return times, out


def _arrays(layers):
    import numpy as np

    return {r: np.asarray(g.geometry.values, dtype=object) for r, g in layers.items()}


def _pairs(geoms):
    import shapely

    pairs, seconds = {}, {}
    for role in LAYERS:
        t0 = time.perf_counter()
        tree = shapely.STRtree(geoms[role])
        pi, ri = tree.query(geoms["patches"], predicate="intersects")
        seconds[role] = time.perf_counter() - t0
        pairs[role] = (pi, ri)
    return pairs, seconds


def _per_patch(values, pi, n):
    import numpy as np

    return np.bincount(pi, weights=values, minlength=n) if len(pi) else np.zeros(n)


def _union_by(pieces, pi, n):
    """Union of each patch's pieces (independent of landcheck's own implementation)."""
    import numpy as np
    import shapely

    out = np.full(n, None, dtype=object)
    order = np.argsort(pi, kind="stable")
    spi, sp = pi[order], pieces[order]
    starts = np.flatnonzero(np.r_[True, spi[1:] != spi[:-1]]) if len(spi) else []
    ends = np.r_[starts[1:], len(spi)] if len(spi) else []
    for s, e in zip(starts, ends, strict=True):
        out[spi[s]] = sp[s] if e - s == 1 else shapely.union_all(sp[s:e])
    return out


def work_geos(layers, repeat, threads=1, official=False):
    import numpy as np
    import shapely

    geoms = _arrays(layers)
    n = len(geoms["patches"])
    pairs, query_s = _pairs(geoms)
    a = {r: geoms["patches"][pi] for r, (pi, _) in pairs.items()}
    b = {r: geoms[r][ri] for r, (_, ri) in pairs.items()}
    extra = {"pairs": {r: len(pi) for r, (pi, _) in pairs.items()},
             "strtree_s": query_s}
    if official:
        from landcheck.area import official_area

        def measure(x, y):
            return official_area(shapely.intersection(x, y), crs=CRS)
    else:
        def measure(x, y):
            return shapely.area(shapely.intersection(x, y))

    if threads == 1:
        def run():
            per_layer_s, areas = {}, {}
            for r in LAYERS:
                t0 = time.perf_counter()
                areas[r] = measure(a[r], b[r])
                per_layer_s[r] = time.perf_counter() - t0
            return areas, per_layer_s
    else:
        pool = ThreadPoolExecutor(threads)
        chunks = {}
        for r in LAYERS:
            edges = np.linspace(0, len(a[r]), threads + 1).astype(int)
            chunks[r] = [(a[r][s:e], b[r][s:e]) for s, e in itertools.pairwise(edges)]

        def run():
            per_layer_s, areas = {}, {}
            for r in LAYERS:
                t0 = time.perf_counter()
                futs = [pool.submit(measure, x, y) for x, y in chunks[r]]
                areas[r] = np.concatenate([f.result() for f in futs])
                per_layer_s[r] = time.perf_counter() - t0
            return areas, per_layer_s

    times, (areas, per_layer_s) = _best_of(run, repeat)
    extra["per_layer_s"] = per_layer_s  # of the last repeat
    result = {r: _per_patch(areas[r], pairs[r][0], n) for r in LAYERS}
    extra["peak_rss_mb"] = _peak_rss_mb()  # before the untimed reference below
    if threads == 1 and not official:
        extra["reference"] = _reference(layers, pairs, a, b, n)
    return times, result, extra


def _reference(layers, pairs, a, b, n):
    """Untimed: per-patch areas under every definition the approaches use."""
    import numpy as np
    import shapely

    from landcheck.area import official_area

    ref = {}
    for r in LAYERS:
        pi, ri = pairs[r]
        pieces = shapely.intersection(a[r], b[r])
        ref[f"planar pairs/{r}"] = _per_patch(shapely.area(pieces), pi, n)
        ref[f"official pairs/{r}"] = _per_patch(official_area(pieces, crs=CRS), pi, n)
        if r in UNION_LAYERS:
            union = _union_by(pieces, pi, n)
            ref[f"planar union/{r}"] = np.nan_to_num(shapely.area(union))
            ref[f"official union/{r}"] = official_area(union, crs=CRS)
        if r == "approvals":  # the legal cover: approvals dated no later than the after-date
            date = layers["approvals"]["date"].to_numpy()
            after = layers["patches"]["after"].to_numpy()
            ok = date[ri] <= after[pi]
            cover = _union_by(pieces[ok], pi[ok], n)
            ref["planar cover/approvals"] = np.nan_to_num(shapely.area(cover))
        else:  # a coverage: pieces never overlap, the union is the sum
            ref[f"planar union/{r}"] = ref[f"planar pairs/{r}"]
            ref[f"official union/{r}"] = ref[f"official pairs/{r}"]
    return ref


def _landcheck_areas(facts):
    import numpy as np

    from landcheck.vocab import LANDUSE_GROUPS

    lu = np.zeros(len(facts))
    for g in LANDUSE_GROUPS:
        lu += facts[f"lu_{g}_m2"].fillna(0).to_numpy()
    return {
        "landuse": lu,
        "permanent_farmland": facts["permanent_farmland_m2"].fillna(0).to_numpy(),
        "town_boundary": facts["town_boundary_m2"].fillna(0).to_numpy(),
        "village_zone": facts["village_zone_m2"].fillna(0).to_numpy(),
        # every approval is dated: on or before the after-date (cover) or after it (late);
        # approved_late_m2 is the late union minus the cover, so the sum is the union of all
        "approvals": (facts["approved_m2"].fillna(0) + facts["approved_late_m2"].fillna(0))
        .to_numpy(),
    }


def work_landcheck_facts(layers, repeat):
    import numpy as np
    import shapely

    from landcheck.overlay import compute_facts

    patches = layers["patches"]
    refs = {r: layers[r] for r in LAYERS}
    compute_facts(patches.iloc[:WARMUP_PATCHES], refs, crs=CRS, tolerance_m=0.1)  # warm-up
    times, res = _best_of(
        lambda: compute_facts(patches, refs, crs=CRS, tolerance_m=0.1), repeat
    )
    areas = _landcheck_areas(res.facts)
    areas["cover"] = np.nan_to_num(shapely.area(res.cover))  # planar, on landcheck's geometry
    return times, areas, {}


def _engine_threads():
    try:
        from landcheck.engine import default_threads
    except ImportError:  # a landcheck without the threaded local engine
        return None
    return default_threads()


def work_landcheck_facts_engine(layers, repeat, threads):
    import numpy as np
    import shapely

    try:
        from landcheck.engine import facts_in_chunks
    except ImportError as exc:
        raise Skip("this landcheck has no local engine (landcheck.engine)") from exc
    patches = layers["patches"]
    refs = {r: layers[r] for r in LAYERS}

    def run(p):
        return facts_in_chunks(p, refs, crs=CRS, tolerance_m=0.1, params={}, threads=threads)

    run(patches.iloc[:WARMUP_PATCHES])
    times, res = _best_of(lambda: run(patches), repeat)
    areas = _landcheck_areas(res.facts)
    areas["cover"] = np.nan_to_num(shapely.area(res.cover))
    from landcheck.engine import DEFAULT_CHUNK

    return times, areas, {"note": f"chunks of at most {DEFAULT_CHUNK:,} patches, "
                                  f"at least one per thread"}


def work_landcheck_screen(layers, repeat, outdir, threads=None, write=True):
    import inspect

    import landcheck

    patches = layers["patches"]
    refs = {r: layers[r] for r in LAYERS}
    kwargs = {}
    if "threads" in inspect.signature(landcheck.screen).parameters:
        kwargs["threads"] = threads
    elif threads not in (None, 1):
        raise Skip("this landcheck's screen has no threads parameter")
    used = threads or _engine_threads() or 1

    def run(p):
        return landcheck.screen(p, refs, rules="city2023", reference_date=REFERENCE_DATE,
                                **kwargs)

    run(patches.iloc[:WARMUP_PATCHES])
    times, result = _best_of(lambda: run(patches), repeat)
    peak = _peak_rss_mb()  # before writing
    counts = result.verdicts["verdict"].value_counts().to_dict()
    extra = {
        "threads": used,
        "peak_rss_mb": peak,
        "verdicts": {str(k): int(v) for k, v in counts.items()},
        "fragments": len(result.fragments),
    }
    if write:
        path = Path(outdir) / "verdicts.gpkg"
        extra["gpkg_times"], _ = _best_of(lambda: result.to_gpkg(path, overwrite=True), repeat)
        extra["gpkg_mb"] = round(path.stat().st_size / 2**20, 1)
    return times, _landcheck_areas(result.facts), extra


def work_gpd_overlay(layers, repeat):
    import geopandas as gpd
    import numpy as np

    patches = layers["patches"][["pid", "geometry"]]
    n = len(patches)
    refs = {r: layers[r][["geometry"]] for r in LAYERS}

    def run():
        out = {}
        for r in LAYERS:
            res = gpd.overlay(patches, refs[r], how="intersection", keep_geom_type=True)
            out[r] = np.bincount(res["pid"].to_numpy(), weights=res.geometry.area.to_numpy(),
                                 minlength=n)
        return out

    times, out = _best_of(run, repeat)
    return times, out, {}


def work_gpd_sjoin(layers, repeat):
    import geopandas as gpd
    import numpy as np
    import shapely

    patches = layers["patches"][["pid", "geometry"]]
    n = len(patches)
    refs = {r: layers[r][["geometry"]] for r in LAYERS}
    pg = patches.geometry.values

    def run():
        out = {}
        for r in LAYERS:
            j = gpd.sjoin(patches, refs[r], how="inner", predicate="intersects")
            left = j.index.to_numpy()
            right = j["index_right"].to_numpy()
            inter = shapely.intersection(pg[left], refs[r].geometry.values[right])
            area = (
                gpd.GeoSeries(inter).area.groupby(j["pid"].to_numpy()).sum()
            )
            arr = np.zeros(n)
            arr[area.index.to_numpy()] = area.to_numpy()
            out[r] = arr
        return out

    times, out = _best_of(run, repeat)
    return times, out, {}


def _duckdb(threads):
    try:
        import duckdb
    except ImportError as exc:
        raise Skip("duckdb is not installed (pip install duckdb)") from exc
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    try:
        con.execute("LOAD spatial")
        how = "LOAD spatial"
    except Exception:
        try:  # the extension shipped as a PyPI package (duckdb-extension-spatial)
            import duckdb_extension_spatial as ext

            path = next(Path(ext.__file__).parent.glob(
                f"extensions/v{duckdb.__version__}/*/spatial.duckdb_extension"
            ), None) or next(Path(ext.__file__).parent.glob(
                f"extensions/v{duckdb.__version__}/spatial.duckdb_extension"
            ))
            con.execute(f"LOAD '{path}'")  # signature checked: unsigned loading stays off
            how = "duckdb-extension-spatial package"
        except Exception as exc:
            raise Skip(
                "DuckDB's spatial extension is not installed and cannot be downloaded here "
                "(pip install duckdb-extension-spatial ships it)"
            ) from exc
    return con, f"duckdb {duckdb.__version__}, spatial via {how}"


def work_duckdb(layers, repeat, data, threads):
    import numpy as np

    con, note = _duckdb(threads)
    n = len(layers["patches"])
    con.execute(f"CREATE TABLE patches AS SELECT pid, geometry AS geom "
                f"FROM read_parquet('{data / 'patches.parquet'}')")
    for r in LAYERS:
        con.execute(f"CREATE TABLE {r} AS SELECT geometry AS geom "
                    f"FROM read_parquet('{data / (r + '.parquet')}')")
    kind = con.execute("SELECT typeof(geom) FROM patches LIMIT 1").fetchone()[0]
    if not kind.upper().startswith("GEOMETRY"):
        raise Skip(f"DuckDB read the GeoParquet geometry as {kind}, not GEOMETRY")

    def query(r, where=""):
        return (f"SELECT p.pid, SUM(ST_Area(ST_Intersection(p.geom, l.geom))) AS a "
                f"FROM patches p JOIN {r} l ON ST_Intersects(p.geom, l.geom) {where} "
                f"GROUP BY p.pid")

    for r in LAYERS:  # warm-up
        con.execute(query(r, f"WHERE p.pid < {WARMUP_PATCHES}")).fetchall()

    def run():
        out = {}
        for r in LAYERS:
            res = con.execute(query(r)).fetchnumpy()
            arr = np.zeros(n)
            arr[np.asarray(res["pid"], dtype=np.int64)] = np.asarray(res["a"], dtype=float)
            out[r] = arr
        return out

    times, out = _best_of(run, repeat)
    return times, out, {"note": note}


def work_sedonadb(layers, repeat, data, threads):
    import numpy as np

    try:
        import sedonadb
    except ImportError as exc:
        raise Skip("sedonadb is not installed (pip install sedonadb)") from exc
    con = sedonadb.connect()
    con.sql(f"SET datafusion.execution.target_partitions = {threads}").execute()
    n = len(layers["patches"])
    con.read_parquet(data / "patches.parquet").select("pid", "geometry").to_memtable() \
        .to_view("patches")
    for r in LAYERS:
        con.read_parquet(data / f"{r}.parquet").select("geometry").to_memtable().to_view(r)

    def query(r, where=""):
        return (f"SELECT p.pid, SUM(ST_Area(ST_Intersection(p.geometry, l.geometry))) AS a "
                f"FROM patches p JOIN {r} l ON ST_Intersects(p.geometry, l.geometry) {where} "
                f"GROUP BY p.pid")

    for r in LAYERS:
        con.sql(query(r, f"WHERE p.pid < {WARMUP_PATCHES}")).to_pandas()

    def run():
        out = {}
        for r in LAYERS:
            res = con.sql(query(r)).to_pandas()
            arr = np.zeros(n)
            arr[res["pid"].to_numpy(dtype=np.int64)] = res["a"].to_numpy(dtype=float)
            out[r] = arr
        return out

    times, out = _best_of(run, repeat)
    return times, out, {"note": f"sedonadb {sedonadb.__version__}"}


def worker(name: str, data: Path, repeat: int, outdir: Path) -> None:
    import numpy as np

    layers = synth.load(data)
    gc.collect()
    loaded = _rss_now_mb()
    status = {"name": name, "loaded_rss_mb": loaded}
    try:
        if name == "geos-1t":
            times, areas, extra = work_geos(layers, repeat, 1)
        elif name == "geos-2t":
            times, areas, extra = work_geos(layers, repeat, 2)
        elif name == "geos-official":
            times, areas, extra = work_geos(layers, repeat, 1, official=True)
        elif name == "landcheck-facts":
            times, areas, extra = work_landcheck_facts(layers, repeat)
        elif name == "landcheck-facts-2t":
            times, areas, extra = work_landcheck_facts_engine(layers, repeat, 2)
        elif name == "landcheck-screen-1t":
            times, areas, extra = work_landcheck_screen(layers, repeat, outdir, threads=1,
                                                        write=False)
        elif name == "landcheck-screen":
            times, areas, extra = work_landcheck_screen(layers, repeat, outdir)
        elif name == "gpd-overlay":
            times, areas, extra = work_gpd_overlay(layers, repeat)
        elif name == "gpd-sjoin":
            times, areas, extra = work_gpd_sjoin(layers, repeat)
        elif name.startswith("duckdb"):
            times, areas, extra = work_duckdb(layers, repeat, data, int(name[-2]))
        elif name.startswith("sedonadb"):
            times, areas, extra = work_sedonadb(layers, repeat, data, int(name[-2]))
        else:
            raise SystemExit(f"unknown approach {name}")
    except Skip as exc:
        status["skipped"] = str(exc)
        (outdir / f"{name}.json").write_text(json.dumps(status))
        return
    reference = extra.pop("reference", None)
    if reference is not None:
        np.savez(outdir / "reference.npz", **reference)
    np.savez(outdir / f"{name}.npz", **areas)
    status.update(times=times, cpu=_CPU[: len(times)], peak_rss_mb=_peak_rss_mb())
    status.update(extra)  # an approach may have taken its peak earlier (before untimed work)
    (outdir / f"{name}.json").write_text(json.dumps(status))


# ====================================================================== parent side


def _cpu_busy_s() -> float:
    """Busy CPU seconds of the whole machine so far (all cores, from /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    """CPU seconds of this process and its finished children (the approach subprocesses)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def machine_info() -> dict:
    import geopandas
    import numpy
    import pandas
    import pyarrow
    import pyogrio
    import pyproj
    import shapely

    import landcheck

    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    git = subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "-C", str(HERE.parent), "status", "--porcelain",
                            "--untracked-files=no", "--", "landcheck"],
                           capture_output=True, text=True).stdout.strip()
    versions = {
        "python": platform.python_version(),
        "landcheck": landcheck.__version__,
        "shapely": shapely.__version__,
        "GEOS": shapely.geos_version_string,
        "geopandas": geopandas.__version__,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "pyproj": pyproj.__version__,
        "PROJ": pyproj.proj_version_str,
        "pyogrio": pyogrio.__version__,
        "GDAL": pyogrio.__gdal_version_string__,
        "pyarrow": pyarrow.__version__,
    }
    for mod in ("duckdb", "sedonadb"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = "not installed"
    return {"cpu": cpu, "nproc": nproc, "ram_gib": round(mem_kb / 2**20, 1),
            "kernel": platform.release(), "versions": versions,
            "commit": git + (" with local changes to landcheck/" if dirty else "")}


#: Official areas of differently noded but planar-identical geometries differ (the official
#: method rounds every vertex and densifies every edge on its own, so a vertex inserted on an
#: edge moves the area by ~1e-3 m²): landcheck's union of overlapping approvals is noded
#: differently from the reference union, so it is compared to landcheck.area.SAME_AREA_M2.
NODING_ATOL = 0.01


def _compare(got, want, rtol=RTOL, atol=None):
    import numpy as np

    diff = np.abs(got - want)
    scale = np.maximum(np.abs(got), np.abs(want))
    bad = diff > rtol * scale + (ATOL if atol is None else atol)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(scale > ATOL, diff / scale, 0.0)
    label = None if atol is None else f"tol {atol:g} m²"
    return int(bad.sum()), float(rel.max()) if len(rel) else 0.0, label


def check_areas(results, outdir):
    """Per approach and layer: (patches outside the tolerance, max rel diff, tolerance)."""
    import numpy as np

    ref_path = outdir / "reference.npz"
    if not ref_path.exists():
        return {}
    ref = dict(np.load(ref_path))
    checks = {}
    for name in results:
        basis = APPROACHES[name][2]
        path = outdir / f"{name}.npz"
        if basis is None or not path.exists():
            continue
        got = dict(np.load(path))
        cols = {}
        for r in LAYERS:
            loose = basis == "official union" and r == "approvals"
            cols[r] = _compare(got[r], ref[f"{basis}/{r}"], atol=NODING_ATOL if loose else None)
        if "cover" in got:
            cols["approvals cover (planar)"] = _compare(got["cover"],
                                                        ref["planar cover/approvals"])
        checks[name] = {"basis": basis, "layers": cols}
    # what a naive pair sum does on overlapping approvals
    pairs = ref["planar pairs/approvals"]
    union = ref["planar union/approvals"]
    over = pairs - union
    checks["_approvals_overlap"] = {
        "patches_overcounted": int((over > RTOL * union + ATOL).sum()),
        "patches_on_approvals": int((union > 0).sum()),
        "overcount_m2": float(over.sum()),
        "union_m2": float(union.sum()),
    }
    return checks


def _fmt_s(s):
    return f"{s:.3f}" if s < 10 else f"{s:.1f}"


def _fmt_rate(x):
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.0f} k"


def render(args, size_label, meta, info, load_before, load_after, results, checks, wall,
           other_cores):
    pairs = results["geos-1t"]["pairs"] if "geos-1t" in results else None
    total_pairs = sum(pairs.values()) if pairs else None
    base = min(results["geos-1t"]["times"]) if "geos-1t" in results else None
    lines = []
    p, m = meta["patches"], meta["parcels"]
    lines.append(f"# Overlay benchmark: {size_label} ({p:,} patches × {m:,} parcels, seed "
                 f"{meta['seed']})")
    lines.append("")
    lines.append(f"Command: `python benchmarks/run.py {' '.join(args)}`".rstrip())
    lines.append("")
    v = info["versions"]
    lines.append(f"- Machine: {info['cpu']}, nproc {info['nproc']}, {info['ram_gib']} GiB RAM, "
                 f"Linux {info['kernel']}")
    shared = other_cores > 0.1
    lines.append(f"- Load average (1/5/15 min) before: {load_before}, after: {load_after}; "
                 f"CPU used by other work during the run: {other_cores:.2f} cores on average"
                 + (" — **shared machine: other work was running, timings are noisier**"
                    if shared else " (machine otherwise idle)"))
    lines.append(f"- landcheck at commit {info['commit']}")
    lines.append("- Versions: " + ", ".join(f"{k} {v[k]}" for k in v))
    lines.append(f"- Timings: best of the repeats listed per row (`N`); each approach in its own "
                 f"subprocess; wall time of the whole run {wall:.0f} s")
    if total_pairs:
        lines.append(f"- Intersecting patch–feature pairs (all layers): {total_pairs:,}")
    lines.append("")
    lines.append("| approach | threads | N | best (s) | × GEOS 1-thread | pairs/s | CPU (s) | "
                 "peak RSS (MB) | + over data (MB) | same areas |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    notes = []
    for name, res in results.items():
        label, threads, _ = APPROACHES[name]
        threads = res.get("threads", threads) or "–"
        if "skipped" in res:
            lines.append(f"| {label} | {threads} | – | skipped | | | | | | |")
            notes.append(f"{name}: skipped — {res['skipped']}")
            continue
        best = min(res["times"])
        ratio = f"{best / base:.2f}×" if base else ""
        rate = _fmt_rate(total_pairs / best) if total_pairs else ""
        chk = checks.get(name)
        if chk is None:
            same = "–"
        else:
            bad = sum(b for b, _, _ in chk["layers"].values())
            same = "yes" if bad == 0 else f"**NO: {bad} patch-layers differ**"
        cpu = _fmt_s(min(res["cpu"])) if res.get("cpu") else ""
        lines.append(
            f"| {label} | {threads} | {len(res['times'])} | {_fmt_s(best)} | {ratio} | {rate} | "
            f"{cpu} | {res['peak_rss_mb']:.0f} | {res['peak_rss_mb'] - res['loaded_rss_mb']:.0f} | "
            f"{same} |"
        )
        if "gpkg_times" in res:
            g = min(res["gpkg_times"])
            lines.append(
                f"| {APPROACHES['landcheck-gpkg'][0]} | 1 | {len(res['gpkg_times'])} | "
                f"{_fmt_s(g)} | {g / base:.2f}× | | | (in screen's) | | {res['gpkg_mb']} MB file |"
            )
            lines.append(
                f"| landcheck `screen` + `to_gpkg` | {threads} | | {_fmt_s(best + g)} | "
                f"{(best + g) / base:.2f}× | {_fmt_rate(total_pairs / (best + g))} | | | | |"
            )
        if res.get("note"):
            notes.append(f"{name}: {res['note']}")
    if "geos-1t" in results:
        r = results["geos-1t"]
        q = sum(r["strtree_s"].values())
        lines.append(f"| STRtree build + query (pair finding; not in the GEOS limit) | 1 | 1 | "
                     f"{_fmt_s(q)} | {q / base:.2f}× | | | | | |")
    lines.append("")
    if pairs:
        lines.append("Per layer (GEOS limit, 1 thread, last repeat):")
        lines.append("")
        lines.append("| layer | features | vertices (median / max) | pairs | GEOS 1-thread (s) | "
                     "STRtree (s) |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
        for role in LAYERS:
            d = meta["layers"][role]
            lines.append(
                f"| {role} | {d['features']:,} | {d['vertices_median']:.0f} / "
                f"{d['vertices_max']:,} | {pairs[role]:,} | "
                f"{_fmt_s(results['geos-1t']['per_layer_s'][role])} | "
                f"{_fmt_s(results['geos-1t']['strtree_s'][role])} |"
            )
        d = meta["layers"]["patches"]
        lines.append(f"| patches | {d['features']:,} | {d['vertices_median']:.0f} / "
                     f"{d['vertices_max']:,} | | | |")
        lines.append("")
    ov = checks.get("_approvals_overlap")
    if ov:
        lines.append(
            f"Approvals overlap: on {ov['patches_overcounted']:,} of the "
            f"{ov['patches_on_approvals']:,} patches that touch approvals, approvals overlap "
            f"inside the patch; a naive pair sum counts {ov['overcount_m2']:,.0f} m² more than "
            f"once "
            f"({100 * ov['overcount_m2'] / max(ov['union_m2'], 1):.1f} % over the union "
            f"{ov['union_m2']:,.0f} m²). landcheck reports the union; the planar approaches are "
            f"checked against the pair sum they compute."
        )
        lines.append("")
    if checks:
        cols = [*LAYERS, "approvals cover (planar)"]
        lines.append("Area check, per patch and layer: patches outside the tolerance "
                     "(rel 1e-9 + 1e-6 m² unless marked) / largest relative difference:")
        lines.append("")
        lines.append("| approach | compared with | " + " | ".join(cols) + " |")
        lines.append("| --- | --- |" + " --- |" * len(cols))
        for name, chk in checks.items():
            if name.startswith("_"):
                continue
            cells = []
            for c in cols:
                if c not in chk["layers"]:
                    cells.append("")
                    continue
                b, w, tol = chk["layers"][c]
                cells.append(f"{b} / {w:.0e}" + (f" ({tol})" if tol else ""))
            lines.append(f"| {name} | {chk['basis']} | {' | '.join(cells)} |")
        lines.append("")
    if "landcheck-screen" in results and "verdicts" in results["landcheck-screen"]:
        v = results["landcheck-screen"]["verdicts"]
        lines.append("Verdicts: " + ", ".join(f"{k} {n:,}" for k, n in sorted(v.items()))
                     + f"; {results['landcheck-screen']['fragments']:,} fragments.")
        lines.append("")
    for n in notes:
        lines.append(f"- {n}")
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="overlay benchmark: landcheck vs the GEOS limit")
    ap.add_argument("--size", choices=sorted(synth.SIZES), default=None)
    ap.add_argument("--patches", type=int)
    ap.add_argument("--parcels", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, help="best of N (default: small 5, medium 3, large 1)")
    ap.add_argument("--only", help="comma-separated approaches (default: all): "
                                   + ", ".join(DEFAULT_ORDER))
    ap.add_argument("--no-write", action="store_true", help="do not write benchmarks/results/")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    raw_args = list(argv if argv is not None else sys.argv[1:])

    if args.worker:
        worker(args.worker, Path(args.data), args.repeat, Path(args.out))
        return

    size = args.size or ("small" if not (args.patches or args.parcels) else None)
    n, m = synth.SIZES[size] if size else synth.SIZES["small"]
    n, m = args.patches or n, args.parcels or m
    label = size if size and (n, m) == synth.SIZES[size] else f"n{n}_m{m}"
    repeat = args.repeat or REPEATS.get(size, 3)
    names = args.only.split(",") if args.only else list(DEFAULT_ORDER)
    unknown = set(names) - set(APPROACHES)
    if unknown:
        raise SystemExit(f"unknown approaches {sorted(unknown)}; choose from {DEFAULT_ORDER}")
    if "geos-1t" not in names:
        names.insert(0, "geos-1t")  # the reference for ratios and areas

    data = synth.ensure(n, m, args.seed)
    t_start = time.perf_counter()
    busy0, own0 = _cpu_busy_s(), _own_cpu_s()
    meta = json.loads((data / "meta.json").read_text())
    info = machine_info()
    load_before = tuple(round(x, 2) for x in os.getloadavg())
    print(f"{label}: {n:,} patches × {m:,} parcels, best of {repeat}, load {load_before}",
          file=sys.stderr)
    results = {}
    with tempfile.TemporaryDirectory(prefix="landcheck-bench-") as tmp:
        outdir = Path(tmp)
        for name in names:
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, __file__, "--worker", name, "--data", str(data),
                 "--repeat", str(repeat), "--out", str(outdir)],
                capture_output=True, text=True,
            )
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                raise SystemExit(f"{name} failed (exit {proc.returncode})")
            res = json.loads((outdir / f"{name}.json").read_text())
            results[name] = res
            shown = "skipped" if "skipped" in res else f"best {min(res['times']):.3f} s"
            print(f"  {name:18s} {shown}  ({time.perf_counter() - t0:.0f} s with loading)",
                  file=sys.stderr)
        checks = check_areas(results, outdir)
    load_after = tuple(round(x, 2) for x in os.getloadavg())
    wall = time.perf_counter() - t_start
    other_cores = max(0.0, (_cpu_busy_s() - busy0) - (_own_cpu_s() - own0)) / wall
    shown_args = raw_args or ["--size", "small"]
    text = render(shown_args, label, meta, info, load_before, load_after, results, checks,
                  wall, other_cores)
    print(text)
    if not args.no_write:
        out = HERE / "results" / f"{label}.md"
        out.parent.mkdir(exist_ok=True)
        out.write_text(text)
        print(f"written {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
