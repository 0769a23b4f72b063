"""How the dask engine scales with workers, against the local engine, on one machine.

    python benchmarks/dask_scaling.py --size large          # 100,000 patches × 200,000 parcels
    python benchmarks/dask_scaling.py --size medium --chunk-size 5000

On the synthetic county of ``benchmarks/synth.py`` (cached in ``benchmarks/.cache/``), the
facts stage only (``compute_facts`` per chunk; ``crs="EPSG:4527"``, ``tolerance_m=0.1``,
``params={}``), every configuration in its own subprocess, one after the other:

- the local engine (:func:`landcheck.engine.facts_in_chunks`) on 1 and on 2 threads;
- the dask engine (:func:`landcheck.backends.dask.facts_on_dask`, spatial tiles of
  ``--chunk-size`` patches) on a ``distributed.LocalCluster`` of worker processes: 1 worker
  × 1 thread, 2 workers × 1 thread, 1 worker × 2 threads.

For dask the cluster start (processes, imports, a warm-up call on every worker) is timed
apart from the facts call, which includes writing the layers as GeoParquet. Peak RSS is
the largest process's (client or worker) and the sum over processes. Every configuration's
facts and cover/remainder geometries are hashed and compared with the local engine on one
thread. The Markdown table goes to ``benchmarks/results/dask-scaling.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402
from run import _cpu_busy_s  # noqa: E402

CRS = synth.CRS
TOLERANCE_M = 0.1
WARMUP_PATCHES = 300
DEFAULT_CHUNK = 12_500  # 8 tiles of the large county: whole rounds for 1 and 2 workers

#: name → (label, engine, workers, threads per worker)
CONFIGS = {
    "local-1t": ("local engine, 1 thread", "local", 1, 1),
    "local-2t": ("local engine, 2 threads", "local", 1, 2),
    "dask-1w": ("dask LocalCluster, 1 worker process × 1 thread", "dask", 1, 1),
    "dask-2w": ("dask LocalCluster, 2 worker processes × 1 thread", "dask", 2, 1),
    "dask-1w2t": ("dask LocalCluster, 1 worker process × 2 threads", "dask", 1, 2),
}


# ====================================================================== one configuration


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_s() -> float:
    return time.process_time()


def _warm_worker() -> dict:
    """Import what a task imports and initialise the area code (run on every worker)."""
    import shapely

    from landcheck.area import official_area
    from landcheck.backends import dask as _  # noqa: F401
    from landcheck.overlay import compute_facts  # noqa: F401

    official_area([shapely.box(39_530_000, 3_500_000, 39_530_100, 3_500_100)], crs=CRS)
    return {"pid": os.getpid()}


def _worker_stats() -> dict:
    return {"rss_mb": _peak_rss_mb(), "cpu_s": _cpu_s()}


def _digest(result) -> str:
    """Hash of the facts (numbers bit for bit, lists and text by value) and geometries."""
    import numpy as np
    import pandas as pd
    import shapely

    h = hashlib.sha256()
    facts = result.facts
    for col in facts.columns:
        h.update(col.encode())
        s = facts[col]
        if s.dtype.kind in "biufcmM":
            h.update(np.ascontiguousarray(s.to_numpy()).tobytes())
        else:
            for v in s.tolist():
                text = (
                    repr(v) if isinstance(v, list | tuple) else ("<NA>" if pd.isna(v) else str(v))
                )
                h.update(text.encode() + b"\x1f")
    for geoms in (result.cover, result.remainder):
        for wkb in shapely.to_wkb(geoms):
            h.update(b"-" if wkb is None else wkb)
    return h.hexdigest()[:16]


def run_one(name: str, data: Path, chunk_size: int, out: Path) -> None:
    label, engine, workers, threads = CONFIGS[name]
    layers = synth.load(data)
    patches = layers["patches"]
    refs = {r: layers[r] for r in synth.LAYERS}
    res = {"name": name, "label": label, "workers": workers, "threads": threads}
    if engine == "local":
        from landcheck.engine import DEFAULT_CHUNK as LOCAL_CHUNK
        from landcheck.engine import facts_in_chunks

        def run(p):
            return facts_in_chunks(
                p, refs, crs=CRS, tolerance_m=TOLERANCE_M, params={}, threads=threads
            )

        run(patches.iloc[:WARMUP_PATCHES])
        c0, t0 = _cpu_s(), time.perf_counter()
        result = run(patches)
        res["facts_s"] = time.perf_counter() - t0
        res["cpu_s"] = _cpu_s() - c0
        res["startup_s"] = 0.0
        res["rss_max_mb"] = res["rss_sum_mb"] = _peak_rss_mb()
        n = len(patches)
        n_chunks = max(1, -(-n // LOCAL_CHUNK), threads if n >= 2 * threads else 1)
        if n_chunks > 1 and threads > 1:
            n_chunks = -(-n_chunks // threads) * threads
        res["tasks"] = n_chunks
        res["chunk"] = -(-n // n_chunks)
    else:
        from distributed import Client, LocalCluster

        from landcheck.backends.dask import facts_on_dask

        t0 = time.perf_counter()
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=threads,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
        client.run(_warm_worker)
        res["startup_s"] = time.perf_counter() - t0
        before = client.run(_worker_stats)
        marks = {}

        def progress(msg):
            if "layers written" in msg:
                marks["written"] = time.perf_counter()

        c0, t0 = _cpu_s(), time.perf_counter()
        result = facts_on_dask(
            patches,
            refs,
            crs=CRS,
            tolerance_m=TOLERANCE_M,
            params={},
            scheduler=cluster.scheduler_address,
            chunk_size=chunk_size,
            progress=progress,
        )
        res["facts_s"] = time.perf_counter() - t0
        res["write_s"] = marks["written"] - t0
        after = client.run(_worker_stats)
        worker_cpu = sum(after[w]["cpu_s"] - before[w]["cpu_s"] for w in after)
        res["cpu_s"] = _cpu_s() - c0 + worker_cpu
        rss = [_peak_rss_mb()] + [s["rss_mb"] for s in after.values()]
        res["rss_max_mb"], res["rss_sum_mb"] = max(rss), sum(rss)
        res["tasks"] = -(-len(patches) // chunk_size)
        res["chunk"] = chunk_size
        client.close()
        cluster.close()
    res["digest"] = _digest(result)
    out.write_text(json.dumps(res))


# ====================================================================== parent


def machine_info() -> dict:
    """The overlay benchmark's machine facts, plus the version of distributed."""
    import distributed
    from run import machine_info as base

    info = base()
    info["versions"]["distributed"] = distributed.__version__
    return info


def _own_cpu_s() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def render(cmd, label, meta, info, load_before, load_after, results, wall, other_cores) -> str:
    ref = results["local-1t"]
    base = ref["facts_s"]
    lines = [
        f"# dask engine scaling: {label} ({meta['patches']:,} patches × "
        f"{meta['parcels']:,} parcels, seed {meta['seed']})",
        "",
        f"Command: `python benchmarks/dask_scaling.py {' '.join(cmd)}`",
        "",
        f"- Machine: {info['cpu']}, nproc {info['nproc']}, {info['ram_gib']} GiB RAM, "
        f"Linux {info['kernel']}",
        f"- Load average (1/5/15 min) before: {load_before}, after: {load_after}; CPU used by "
        f"other work during the run: {other_cores:.2f} cores on average",
        f"- landcheck at commit {info['commit']}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
        f'- Facts stage only (`crs="{CRS}"`, `tolerance_m={TOLERANCE_M}`, `params={{}}`), '
        f"layers {', '.join(synth.LAYERS)}; each configuration once, in its own subprocess; "
        f"wall time of the whole run {wall:.0f} s",
        "",
        "| configuration | tasks × patches | start-up (s) | facts (s) | of which writing "
        "layers (s) | speed-up vs local 1 thread | CPU (s) | peak RSS, largest process "
        "(MB) | peak RSS, all processes (MB) | other work (cores) | same facts |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results.values():
        same = "yes" if r["digest"] == ref["digest"] else f"**no** ({r['digest']})"
        write = f"{r['write_s']:.1f}" if "write_s" in r else ""
        start = f"{r['startup_s']:.1f}" if r["startup_s"] else ""
        lines.append(
            f"| {r['label']} | {r['tasks']} × {r['chunk']:,} | {start} | {r['facts_s']:.1f} | "
            f"{write} | {base / r['facts_s']:.2f}× | {r['cpu_s']:.1f} | "
            f"{r['rss_max_mb']:.0f} | {r['rss_sum_mb']:.0f} | {r['other_cores']:.2f} | {same} |"
        )
    lines += [
        "",
        "CPU: all processes of the configuration (client, scheduler, workers). Other work: "
        "busy CPU of the machine not used by this run while the configuration ran (another "
        "job competes for the same cores; on 2 cores, 1 core of other work halves what two "
        "workers can get).",
        "",
        *_reading(results),
        "",
    ]
    return "\n".join(lines)


def _reading(results) -> list[str]:
    """Where dask starts to pay, from the figures of this run."""
    out = ["## Reading", ""]
    busy = {n: r.get("other_cores", 0.0) for n, r in results.items()}
    noisy = [n for n, c in busy.items() if c > 0.2]
    if noisy:
        out.append(
            f"- **Other work competed for the cores** during {', '.join(noisy)} (up to "
            f"{max(busy.values()):.2f} cores of {os.cpu_count()}): those timings are inflated, "
            f"most for the configurations that use two cores; compare with care."
        )
    need = {"local-1t", "local-2t", "dask-1w", "dask-2w"}
    if not need <= set(results):
        return [*out, "(not all configurations ran)"]
    l1, l2 = results["local-1t"]["facts_s"], results["local-2t"]["facts_s"]
    d1, d2 = results["dask-1w"], results["dask-2w"]
    write = (d1["write_s"] + d2["write_s"]) / 2
    per_worker = d1["facts_s"] - d1["write_s"]  # one worker's compute, transfers included
    scale = per_worker / max(d2["facts_s"] - d2["write_s"], 1e-9)
    out.append(
        f"- Overhead of the dask engine on one worker: {d1['facts_s']:.1f} s against "
        f"{l1:.1f} s for the local engine on one thread ({d1['facts_s'] / l1 - 1:+.0%}); "
        f"writing the layers (client side, once per run) takes {write:.1f} s of it, the "
        f"cluster start {d1['startup_s']:.1f}–{d2['startup_s']:.1f} s more (paid once per "
        f"cluster, not per run, on a cluster that stays up)."
    )
    out.append(
        f"- Two worker processes against one: {scale:.2f}× on the tasks (2 cores); the local "
        f"engine gets {l1 / l2:.2f}× from 2 threads."
    )
    if per_worker > 0 and l2 > write:
        w_even = per_worker / (l2 - write)
        out.append(
            f"- Break-even against the local engine on this 2-core machine ({l2:.1f} s): with "
            f"ideal scaling, W single-thread workers take ≈ {write:.1f} + {per_worker:.1f}/W s, "
            f"so dask starts to pay from W ≈ {w_even:.1f} workers (cores), i.e. only on a "
            f"cluster of several machines; on one machine the local engine is faster."
        )
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(synth.SIZES), default="medium")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--chunk-size", type=int, default=DEFAULT_CHUNK, help="patches per dask task (tiles)"
    )
    ap.add_argument("--only", help="comma-separated configurations: " + ", ".join(CONFIGS))
    ap.add_argument("--no-write", action="store_true", help="do not write benchmarks/results/")
    ap.add_argument("--run", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    raw = list(argv if argv is not None else sys.argv[1:])
    if args.run:
        run_one(args.run, Path(args.data), args.chunk_size, Path(args.out))
        return

    names = args.only.split(",") if args.only else list(CONFIGS)
    if "local-1t" not in names:
        names.insert(0, "local-1t")  # the reference
    n, m = synth.SIZES[args.size]
    data = synth.ensure(n, m, args.seed)
    meta = json.loads((data / "meta.json").read_text())
    info = machine_info()
    load_before = tuple(round(x, 2) for x in os.getloadavg())
    busy0, own0, t_start = _cpu_busy_s(), _own_cpu_s(), time.perf_counter()
    results = {}
    with tempfile.TemporaryDirectory(prefix="landcheck-dask-scaling-") as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.json"
            t0, busy, own = time.perf_counter(), _cpu_busy_s(), _own_cpu_s()
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--run",
                    name,
                    "--data",
                    str(data),
                    "--chunk-size",
                    str(args.chunk_size),
                    "--out",
                    str(out),
                ],
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                raise SystemExit(f"{name} failed (exit {proc.returncode})")
            results[name] = r = json.loads(out.read_text())
            took = time.perf_counter() - t0
            r["other_cores"] = max(0.0, (_cpu_busy_s() - busy) - (_own_cpu_s() - own)) / took
            print(
                f"  {name:10s} facts {r['facts_s']:.1f} s, start-up {r['startup_s']:.1f} s "
                f"({took:.0f} s with loading; other work {r['other_cores']:.2f} cores)",
                file=sys.stderr,
            )
            noisy = [x for x in proc.stderr.splitlines() if "large graph" in x.lower()]
            if noisy:
                print(f"  {name}: {noisy[0]}", file=sys.stderr)
    wall = time.perf_counter() - t_start
    load_after = tuple(round(x, 2) for x in os.getloadavg())
    other = max(0.0, (_cpu_busy_s() - busy0) - (_own_cpu_s() - own0)) / wall
    text = render(
        raw or ["--size", args.size],
        args.size,
        meta,
        info,
        load_before,
        load_after,
        results,
        wall,
        other,
    )
    print(text)
    if not args.no_write:
        path = HERE / "results" / "dask-scaling.md"
        path.write_text(text)
        print(f"written {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
