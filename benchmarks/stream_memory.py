"""Flat memory at province scale: ``screen_to_gpkg`` on growing synthetic counties.

For each size (patches × parcels) the synthetic county of ``synth.py`` is generated once
(cached), its patches are copied into a GeoPackage (the streamed reader takes features by
id; a national patch delivery is a shapefile/GDB/GeoPackage), and a layer set TOML is
written beside them. Two subprocesses then run per size:

``layers``
    reads the layer set's reference layers and builds their STRtrees (what any streamed run
    holds for its whole length): the memory floor;
``stream``
    ``landcheck.stream.screen_to_gpkg`` with the city2023 pack, writing a GeoPackage.

Each reports its wall time and peak RSS (``ru_maxrss``); the table shows the streamed run's
peak above the floor, which should depend on the chunk size, not on the number of patches,
and seconds per 1,000 patches, which should stay flat (linear time).

Run: ``python benchmarks/stream_memory.py`` (100k/300k/1M patches, chunks of 50,000; the
1M × 2M county takes ~2 min to generate the first time), or e.g.
``--sizes 20000x40000,100000x200000 --chunk-size 20000``. The table goes to stdout and to
``results/stream.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

DEFAULT_SIZES = "100000x200000,300000x600000,1000000x2000000"
LAYER_TOML = """\
name = "synthetic county {n} × {m}"
crs = "EPSG:4527"

[patches]
path = "patches.gpkg"
fields = {{ id = "id", type = "type", before = "before", after = "after" }}

[layers.landuse]
path = "landuse.parquet"
fields = {{ id = "id", class = "class", planting = "planting" }}

[layers.permanent_farmland]
path = "permanent_farmland.parquet"
fields = {{ id = "id" }}

[layers.town_boundary]
path = "town_boundary.parquet"
fields = {{ id = "id" }}

[layers.village_zone]
path = "village_zone.parquet"
fields = {{ id = "id" }}

[layers.approvals]
path = "approvals.parquet"
fields = {{ id = "id", date = "date", kind = "kind" }}
"""


def prepare(n: int, m: int) -> Path:
    """The county's cache folder, with patches.gpkg and layers.toml."""
    import pyogrio

    folder = synth.ensure(n, m)
    gpkg = folder / "patches.gpkg"
    if not gpkg.exists():
        import geopandas as gpd

        t0 = time.perf_counter()
        patches = gpd.read_parquet(folder / "patches.parquet")
        tmp = folder / "patches.tmp.gpkg"
        pyogrio.write_dataframe(patches, tmp, layer="patches")
        tmp.rename(gpkg)
        print(f"wrote {gpkg} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    (folder / "layers.toml").write_text(LAYER_TOML.format(n=n, m=m), encoding="utf-8")
    return folder


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    """Current resident set size (not the peak)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(mode: str, folder: Path, chunk_size: int, threads: int) -> dict:
    import warnings

    from landcheck.engine import LayerIndex
    from landcheck.layers import LayerSet

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    layerset = LayerSet.from_config(folder / "layers.toml")
    if mode == "layers":
        layers = {role: layerset.read(role) for role in layerset.roles}
        LayerIndex(layers)
        return {"seconds": time.perf_counter() - t0, "peak_mb": _peak_mb()}
    from landcheck.stream import screen_to_gpkg

    chunk_times: list[float] = []
    chunk_rss: list[float] = []
    last = [time.perf_counter()]
    start_rss = [0.0]

    def progress(msg: str) -> None:
        if msg.startswith("chunk "):
            now = time.perf_counter()
            chunk_times.append(now - last[0])
            chunk_rss.append(_rss_mb())
            last[0] = now
        elif msg.startswith("streaming"):  # layers read, trees built: the chunks start
            last[0] = time.perf_counter()
            start_rss[0] = _rss_mb()

    out = folder / "stream_out.gpkg"
    summary = screen_to_gpkg(None, layerset, out, reference_date="2023-12-31",
                             chunk_size=chunk_size, threads=threads, overwrite=True,
                             progress=progress)
    size_mb = out.stat().st_size / 2**20
    out.unlink()
    return {"seconds": time.perf_counter() - t0, "peak_mb": _peak_mb(),
            "chunks": summary.chunks, "counts": summary.counts, "chunk_s": chunk_times,
            "out_mb": size_mb, "rss_start_mb": start_rss[0],
            "rss_chunks_mb": max(chunk_rss) if chunk_rss else float("nan")}


def _run(mode, folder, chunk_size, threads) -> dict:
    cmd = [sys.executable, __file__, "--worker", mode, "--folder", str(folder),
           "--chunk-size", str(chunk_size), "--threads", str(threads)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{mode} worker failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _one(n, m, folder, chunk_size, threads, floor) -> dict:
    run = _run("stream", folder, chunk_size, threads)
    chunk_s = sorted(run["chunk_s"])
    print(f"{n} × {m}, chunks of {chunk_size}: {run['seconds']:.0f} s, "
          f"peak {run['peak_mb']:.0f} MB (layers alone {floor['peak_mb']:.0f} MB)",
          file=sys.stderr)
    return {"patches": n, "parcels": m, "chunk_size": chunk_size, "chunks": run["chunks"],
            "seconds": run["seconds"], "per_1k": run["seconds"] / n * 1000,
            "floor_mb": floor["peak_mb"], "peak_mb": run["peak_mb"],
            "rss_start": run["rss_start_mb"], "rss_chunks": run["rss_chunks_mb"],
            "chunk_median": chunk_s[len(chunk_s) // 2] if chunk_s else float("nan"),
            "chunk_max": chunk_s[-1] if chunk_s else float("nan"),
            "out_mb": run["out_mb"], "counts": run["counts"]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=DEFAULT_SIZES,
                    help="comma-separated PATCHESxPARCELS (default %(default)s)")
    ap.add_argument("--chunk-size", default="50000",
                    help="patches per chunk; a comma-separated list runs each (default 50000)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-write", action="store_true", help="do not write results/stream.md")
    ap.add_argument("--worker", choices=["layers", "stream"], help=argparse.SUPPRESS)
    ap.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.folder, int(args.chunk_size), args.threads)))
        return
    chunk_sizes = [int(c) for c in str(args.chunk_size).split(",")]

    from run import machine_info

    t_all = time.perf_counter()
    load_before = os.getloadavg()
    rows = []
    for item in args.sizes.split(","):
        n, m = (int(x) for x in item.lower().split("x"))
        folder = prepare(n, m)
        floor = _run("layers", folder, chunk_sizes[0], args.threads)
        for chunk_size in chunk_sizes:
            rows.append(_one(n, m, folder, chunk_size, args.threads, floor))
    info = machine_info()

    cmd = "python benchmarks/stream_memory.py" + (
        "" if args.sizes == DEFAULT_SIZES else f" --sizes {args.sizes}") + (
        "" if str(args.chunk_size) == "50000" else f" --chunk-size {args.chunk_size}") + (
        "" if args.threads == 2 else f" --threads {args.threads}")
    lines = [
        "# Streamed screening: memory and time against county size",
        "",
        f"Command: `{cmd}`",
        "",
        f"- Machine: {info['cpu']}, nproc {info['nproc']}, {info['ram_gib']} GiB RAM",
        f"- landcheck at commit {info['commit']}; {args.threads} threads, rule pack city2023",
        f"- Load average before: {load_before}, after: {os.getloadavg()}; whole run "
        f"{time.perf_counter() - t_all:.0f} s",
        "",
        "| patches | parcels | chunk size | chunks | screen_to_gpkg (s) | s per 1,000 patches "
        "| chunk s (median / max) | peak RSS (MB) | layers alone, peak (MB) | RSS before the "
        "chunks (MB) | RSS after each chunk, max (MB) | chunks − before (MB) | output (MB) |",
        "|" + " ---: |" * 13,
    ]
    for r in rows:
        lines.append(
            f"| {r['patches']:,} | {r['parcels']:,} | {r['chunk_size']:,} | {r['chunks']} | "
            f"{r['seconds']:.0f} | {r['per_1k']:.2f} | "
            f"{r['chunk_median']:.1f} / {r['chunk_max']:.1f} | {r['peak_mb']:,.0f} | "
            f"{r['floor_mb']:,.0f} | {r['rss_start']:,.0f} | {r['rss_chunks']:,.0f} | "
            f"{r['rss_chunks'] - r['rss_start']:,.0f} | {r['out_mb']:,.0f} |")
    lines += ["", "Verdict counts: " + "; ".join(
        f"{r['patches']:,}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(r["counts"].items()))
        for r in rows if r["chunk_size"] == chunk_sizes[0])]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        (HERE / "results" / "stream.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
