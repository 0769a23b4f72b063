"""Where the time goes inside ``landcheck.overlay.compute_facts`` (cProfile).

    python benchmarks/profile_facts.py --size medium [--top 10]
    python benchmarks/profile_facts.py --size medium --screen   # all of screen(threads=1)

Profiles one call on the synthetic county (after a warm-up call on a few patches), prints
the top functions by own time and the landcheck functions by cumulative time, then times
one more call with the vectorised shapely operations wrapped, to attribute each GEOS call
to the landcheck function and line that made it (cProfile only sees shapely's decorator).
Everything is written to ``benchmarks/results/profile-<size>.txt``. cProfile adds overhead
to Python-level calls; the GEOS work is inside single ufunc calls, so it is attributed
correctly.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402


def _name(func) -> str:
    path, line, name = func
    if path == "~":
        return name  # built-in / C function, e.g. <built-in method shapely.lib.intersection>
    p = Path(path)
    parts = p.parts
    short = "/".join(parts[parts.index("landcheck"):]) if "landcheck" in parts else (
        "/".join(parts[-2:]))
    return f"{short}:{line}({name})"


WRAPPED = ("intersection", "difference", "union", "union_all", "contains_properly", "buffer",
           "area", "length", "is_valid", "STRtree")


def _caller() -> str:
    frame = sys._getframe(2)  # the caller of the wrapped function
    return f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno}({frame.f_code.co_name})"


def _by_caller(target, patches, layers):
    """Time every call of the wrapped shapely functions, keyed by (operation, caller line)."""
    import shapely

    acc = collections.defaultdict(lambda: [0.0, 0, 0])
    saved = {name: getattr(shapely, name) for name in WRAPPED}

    def wrap(name, fn):
        def timed(*a, **k):
            where = _caller()
            t0 = time.perf_counter()
            res = fn(*a, **k)
            v = acc[(name, where)]
            v[0] += time.perf_counter() - t0
            v[1] += 1
            try:
                v[2] += len(a[0])
            except TypeError:
                v[2] += 1
            return res
        return timed

    class TimedTree(saved["STRtree"]):
        def query(self, geometry, predicate=None, distance=None):
            where = _caller()
            t0 = time.perf_counter()
            res = super().query(geometry, predicate=predicate, distance=distance)
            v = acc[("STRtree.query", where)]
            v[0] += time.perf_counter() - t0
            v[1] += 1
            v[2] += len(geometry) if hasattr(geometry, "__len__") else 1
            return res

    try:
        for name in WRAPPED:
            setattr(shapely, name, TimedTree if name == "STRtree" else wrap(name, saved[name]))
        t0 = time.perf_counter()
        target(patches, layers, crs=synth.CRS, tolerance_m=0.1)
        total = time.perf_counter() - t0
    finally:
        for name, fn in saved.items():
            setattr(shapely, name, fn)
    return acc, total


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(synth.SIZES), default="medium")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--screen", action="store_true",
                    help="profile landcheck.screen(threads=1) instead of compute_facts")
    args = ap.parse_args(argv)
    n, m = synth.SIZES[args.size]
    layers = synth.load(synth.ensure(n, m, args.seed))
    patches = layers.pop("patches")

    if args.screen:
        import landcheck

        what = "screen(threads=1)"

        def target(p, layers, crs, tolerance_m):
            return landcheck.screen(p, layers, rules="city2023", reference_date="2023-12-31",
                                    tolerance_m=tolerance_m, threads=1)
    else:
        from landcheck.overlay import compute_facts as target

        what = "compute_facts"

    target(patches.iloc[:300], layers, crs=synth.CRS, tolerance_m=0.1)  # warm-up
    t0 = time.perf_counter()
    target(patches, layers, crs=synth.CRS, tolerance_m=0.1)
    plain = time.perf_counter() - t0
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.runcall(target, patches, layers, crs=synth.CRS, tolerance_m=0.1)
    profiled = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    rows = stats.stats  # func → (primitive calls, calls, tottime, cumtime, callers)

    out = io.StringIO()
    load = tuple(round(x, 2) for x in os.getloadavg())
    out.write(f"{what} on {args.size} ({n:,} patches × {m:,} parcels): "
              f"{plain:.2f} s without the profiler, {profiled:.2f} s with it; "
              f"load average after {load}\n\n")
    out.write(f"Top {args.top} by own time (tottime):\n\n")
    out.write(f"{'own s':>8} {'share':>6} {'cum s':>8} {'calls':>8}  function\n")
    total = sum(r[2] for r in rows.values())
    for func, (_, calls, tt, ct, _) in sorted(rows.items(), key=lambda kv: -kv[1][2])[
        : args.top
    ]:
        out.write(f"{tt:8.3f} {100 * tt / total:5.1f}% {ct:8.3f} {calls:8d}  {_name(func)}\n")
    out.write("\nlandcheck functions by cumulative time:\n\n")
    out.write(f"{'cum s':>8} {'own s':>8} {'calls':>8}  function\n")
    mine = [(f, r) for f, r in rows.items() if "landcheck" in f[0] and "benchmarks" not in f[0]]
    for func, (_, calls, tt, ct, _) in sorted(mine, key=lambda kv: -kv[1][3])[:25]:
        out.write(f"{ct:8.3f} {tt:8.3f} {calls:8d}  {_name(func)}\n")
    out.write("\nGEOS/shapely calls by the landcheck line that made them (one more run):\n\n")
    out.write(f"{'s':>8} {'calls':>6} {'geometries':>11}  operation  caller\n")
    by_call, wrapped_s = _by_caller(target, patches, layers)
    shown = 0.0
    for (op, where), (t, calls, count) in sorted(by_call.items(), key=lambda kv: -kv[1][0])[:20]:
        out.write(f"{t:8.3f} {calls:6d} {count:11d}  {op:10s} {where}\n")
        shown += t
    out.write(f"{shown:8.3f} in these calls, of {wrapped_s:.2f} s for the whole call\n")
    text = out.getvalue()
    print(text)
    dest = HERE / "results" / f"profile-{'screen-' if args.screen else ''}{args.size}.txt"
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(text)
    print(f"written {dest}", file=sys.stderr)


if __name__ == "__main__":
    main()
