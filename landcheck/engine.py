"""The local engine: facts in spatially contiguous chunks, on threads.

Patch facts do not depend on other patches (a property test checks that verdicts are the
same however the patches are chunked), so :func:`facts_in_chunks` sorts the patches along a
Hilbert curve, cuts them into chunks of at most ``chunk_size``, computes each chunk's facts
with :func:`landcheck.overlay.compute_facts` on a pool of ``threads`` threads (GEOS releases
the GIL, so threads use every core; nothing prepared is shared between threads), and puts
the rows back in the patches' order.

Notes
-----
Memory grows with the chunk, not with the number of patches, for the overlay's
intermediate arrays (pairs, pieces, unions); the patches and reference layers themselves
are held once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from landcheck.area import DEFAULT_AREA_METHOD
from landcheck.facts import OverlayResult, compute_facts

__all__ = ["CHUNK_MARGIN_M", "DEFAULT_CHUNK", "ENGINES", "Engine", "LayerIndex", "chunk_margin",
           "default_threads", "facts_in_chunks"]

DEFAULT_CHUNK = 20_000
#: A chunk gets the reference features within this distance of its patches' bounding box.
#: Fact providers look around a patch (corridors search ``corridor_search_m``, 10 m in
#: city2023); a margin far above any such distance keeps chunked facts identical. A pack
#: whose ``*_search_m`` parameter is larger widens it (:func:`chunk_margin`).
CHUNK_MARGIN_M = 1_000.0


def chunk_margin(params) -> float:
    """The margin for these family parameters: :data:`CHUNK_MARGIN_M`, or more when a
    ``*_search_m`` parameter (a distance a fact provider searches) asks for it."""
    searches = [float(v) for fam in (params or {}).values() if isinstance(fam, dict)
                for k, v in fam.items()
                if k.endswith("_search_m") and isinstance(v, int | float)]
    return max([CHUNK_MARGIN_M] + [2.0 * v for v in searches])


class LayerIndex:
    """Reference layers with one STRtree each, built once, to cut per-chunk subsets.

    :meth:`around` returns, per role, the features whose bounding box comes within
    ``margin`` of a box: the only ones a chunk of patches inside that box can touch. The
    subsets keep the layers' row order and index labels, so facts (ids hit and their
    order, areas) are the same as against the whole layers, and each chunk builds its
    trees over a few thousand features instead of the whole province.
    """

    def __init__(self, layers, *, margin: float = CHUNK_MARGIN_M):
        self.layers = dict(layers)
        self.margin = float(margin)
        self.trees = {}
        for role, gdf in self.layers.items():
            if getattr(gdf, "geometry", None) is None or not len(gdf):
                continue
            tree = shapely.STRtree(np.asarray(gdf.geometry.values, dtype=object))
            tree.query(np.array([shapely.box(0, 0, 0, 0)]))  # GEOS builds on first query: now
            self.trees[role] = tree

    def around(self, bounds) -> dict:
        """Per role, the features near ``bounds`` (minx, miny, maxx, maxy)."""
        bounds = np.asarray(bounds, dtype=float)
        if not np.isfinite(bounds).all():
            return dict(self.layers)
        m = self.margin
        box = shapely.box(bounds[0] - m, bounds[1] - m, bounds[2] + m, bounds[3] + m)
        out = {}
        for role, gdf in self.layers.items():
            tree = self.trees.get(role)
            out[role] = gdf if tree is None else gdf.iloc[np.sort(tree.query(box))]
        return out


def _bounds_of(patches) -> np.ndarray:
    geoms = np.asarray(patches.geometry.values, dtype=object)
    b = shapely.bounds(geoms)
    ok = np.isfinite(b).all(axis=1)
    if not ok.any():
        return np.array([np.nan] * 4)
    b = b[ok]
    return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()])


def default_threads() -> int:
    """Threads to use by default: the cores this process may run on, at most 8."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    return max(1, min(n, 8))


def facts_in_chunks(patches, layers, *, crs, tolerance_m, params, threads: int | None = None,
                    chunk_size: int | None = None,
                    progress: Callable[[str], None] | None = None,
                    roles=None, area_method=DEFAULT_AREA_METHOD) -> OverlayResult:
    """:func:`~landcheck.overlay.compute_facts` over spatial chunks on ``threads`` threads
    (``roles``: the layer set's :class:`~landcheck.roles.RoleSet`, default the built-in;
    ``area_method``: the official area method, :data:`landcheck.area.AREA_METHODS`)."""
    threads = default_threads() if threads is None else int(threads)
    chunk_size = DEFAULT_CHUNK if chunk_size is None else int(chunk_size)
    if threads < 1 or chunk_size < 1:
        raise ValueError(f"threads and chunk_size must be ≥ 1, got {threads}, {chunk_size}")
    n = len(patches)
    n_chunks = max(1, -(-n // chunk_size), threads if n >= 2 * threads else 1)
    if n_chunks > 1 and threads > 1:
        n_chunks = -(-n_chunks // threads) * threads  # whole rounds: no thread idles at the end
    if n_chunks == 1:
        whole = layers.layers if isinstance(layers, LayerIndex) else layers
        return compute_facts(patches, whole, crs=crs, tolerance_m=tolerance_m, params=params,
                             roles=roles, area_method=area_method)
    order = spatial_order(patches)
    chunks = [np.sort(c) for c in np.array_split(order, n_chunks)]
    say = progress or (lambda msg: None)
    done = [0]
    index = (layers if isinstance(layers, LayerIndex)
             else LayerIndex(layers, margin=chunk_margin(params)))

    def one(rows):
        part = patches.iloc[rows].reset_index(drop=True)
        near = index.around(_bounds_of(part))
        result = compute_facts(part, near, crs=crs, tolerance_m=tolerance_m, params=params,
                               roles=roles, area_method=area_method)
        done[0] += 1
        say(f"overlay: chunk {done[0]}/{len(chunks)} ({len(rows)} patches)")
        return result

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(one, chunks))
    return merge_results(results, chunks, n)


def spatial_order(patches) -> np.ndarray:
    """Patch rows sorted along a Hilbert curve (geopandas ``hilbert_distance``); empty last."""
    geoms = patches.geometry
    ok = (~(geoms.isna() | geoms.is_empty)).to_numpy()
    key = np.full(len(geoms), np.iinfo(np.int64).max, dtype=np.int64)
    if ok.any():
        key[ok] = geoms[ok].hilbert_distance().to_numpy()
    return np.argsort(key, kind="stable")


def merge_results(results, chunks, n) -> OverlayResult:
    rows = np.concatenate(chunks)
    facts = pd.concat([r.facts for r in results], ignore_index=True)
    back = np.empty(n, dtype=np.int64)
    back[rows] = np.arange(n)
    facts = facts.iloc[back].reset_index(drop=True)
    cover = np.concatenate([r.cover for r in results])[back]
    remainder = np.concatenate([r.remainder for r in results])[back]
    names = set().union(*(r.parts for r in results))
    parts = {}
    for name in names:
        arrays = [r.parts.get(name, np.full(len(r.facts), None, dtype=object)) for r in results]
        parts[name] = np.concatenate([np.asarray(a, dtype=object) for a in arrays])[back]
    uncovered = np.concatenate([
        r.uncovered if r.uncovered is not None else np.full(len(r.facts), None, dtype=object)
        for r in results])[back]
    pieces = [r.cover_pieces.assign(row=rows_k[r.cover_pieces["row"].to_numpy()])
              for r, rows_k in zip(results, chunks, strict=True) if r.cover_pieces is not None]
    pieces = pd.concat(pieces, ignore_index=True) if pieces else None
    return OverlayResult(facts=facts, cover=cover, remainder=remainder,
                         schema=results[0].schema, parts=parts, uncovered=uncovered,
                         area_method=results[0].area_method, cover_pieces=pieces)


@dataclass(frozen=True)
class Engine:
    """A facts engine: ``run(patches, layers, *, crs, tolerance_m, params, chunk_size,
    progress, roles, area_method, **options)`` returns the
    :class:`~landcheck.facts.OverlayResult` of all patches, identical whatever the engine;
    ``options`` are the keyword options only this engine takes (with the value meaning "not
    given")."""

    name: str
    run: Callable[..., OverlayResult]
    options: Mapping[str, object]


def _run_dask(patches, layers, **kw) -> OverlayResult:
    from landcheck.backends.dask import facts_on_dask

    return facts_on_dask(patches, layers, **kw)


#: The engines :func:`landcheck.screen` can run on, by name.
ENGINES: dict[str, Engine] = {
    "local": Engine("local", facts_in_chunks, {"threads": None}),
    "dask": Engine("dask", _run_dask,
                   {"scheduler": None, "shared_dir": None, "partition": "tiles"}),
}
