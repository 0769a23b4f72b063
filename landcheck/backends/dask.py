"""The distributed engine: the same per-chunk facts function on a dask ``distributed`` cluster.

The client cuts the patches into spatially contiguous chunks (the same Hilbert order as the
local engine) and sends each worker its chunk of patches and the *paths* of the reference
layers, written once as GeoParquet into a folder every worker can read (``shared_dir``; on
one machine a temporary folder). Each worker reads the layers itself — once per worker
process, cached — and runs :func:`landcheck.overlay.compute_facts` on its chunk; the client
puts the rows back in the patches' order. Results are identical to the local engine (a test
checks it on the demo county).

Notes
-----
On one machine with 2 cores the local threaded engine is faster (process start-up and
serialisation cost more than they save); use this engine for many machines or for data that
does not fit one machine. Give each task a lot of work (``chunk_size`` in the tens of
thousands of patches): per-task overhead is tens of milliseconds.

To run on a real cluster: start a scheduler (``dask scheduler``) and workers on each machine
(``dask worker tcp://SCHEDULER:8786``) with landcheck installed and the same version, put the
reference layers' GeoParquet folder on storage all workers mount at the same path, and call
``screen(..., engine="dask", scheduler="tcp://SCHEDULER:8786", shared_dir="/mnt/shared/run1")``
or ``landcheck screen --engine dask --scheduler tcp://SCHEDULER:8786 --shared-dir ...``.
"""

from __future__ import annotations

import contextlib
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from landcheck.errors import InputError
from landcheck.overlay import compute_facts

__all__ = ["facts_on_dask"]


def _client(scheduler):
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # optional dependency
        raise InputError("the dask engine needs the `distributed` package: "
                         "pip install 'landcheck[dask]'") from None
    if scheduler is None or str(scheduler).startswith("local"):
        text = str(scheduler or "local")
        workers = int(text.split(":", 1)[1]) if ":" in text else 2
        processes = not text.startswith("local-threads")
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes,
                               dashboard_address=None)
        return Client(cluster), cluster
    return Client(str(scheduler)), None


def facts_on_dask(patches, layers, *, crs, tolerance_m, params, scheduler=None,
                  chunk_size=None, shared_dir=None, progress=None):
    """Facts of all patches, computed chunk by chunk on a dask cluster.

    ``scheduler``: ``None`` or ``"local:N"`` (a local cluster of N worker processes),
    ``"local-threads:N"`` (in-process workers, for tests), or a scheduler address.
    """
    from landcheck.engine import DEFAULT_CHUNK, _merge, _spatial_order

    chunk_size = DEFAULT_CHUNK if chunk_size is None else int(chunk_size)
    say = progress or (lambda msg: None)
    order = _spatial_order(patches)
    n_chunks = max(1, -(-len(patches) // chunk_size))
    chunks = [np.sort(c) for c in np.array_split(order, n_chunks)]
    with _layer_folder(shared_dir) as folder:
        paths = {role: str(_write(g, folder / f"{role}.parquet")) for role, g in layers.items()}
        client, cluster = _client(scheduler)
        try:
            futures = [client.submit(_chunk_facts, patches.iloc[rows].reset_index(drop=True),
                                     paths, str(crs), tolerance_m, params, pure=False)
                       for rows in chunks]
            results = []
            for i, fut in enumerate(futures, start=1):
                results.append(fut.result())
                say(f"overlay (dask): chunk {i}/{len(futures)}")
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return _merge(results, chunks, len(patches))


@contextlib.contextmanager
def _layer_folder(shared_dir):
    if shared_dir is not None:
        folder = Path(shared_dir)
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="landcheck-layers-") as tmp:
        yield Path(tmp)


def _write(gdf, path: Path) -> Path:
    frame = gdf.copy()
    frame.attrs = {}
    for col in frame.columns:  # text codes stay text; pandas string dtype → plain object
        if str(frame[col].dtype) == "string":
            frame[col] = frame[col].astype(object)
    frame.to_parquet(path)
    return path


@lru_cache(maxsize=64)
def _read(path: str):
    import geopandas as gpd

    return gpd.read_parquet(path)


def _chunk_facts(chunk, paths, crs, tolerance_m, params):
    """Runs on a worker: read (cached) layers by path, compute the chunk's facts."""
    layers = {role: _read(path) for role, path in paths.items()}
    return compute_facts(chunk, layers, crs=crs, tolerance_m=tolerance_m, params=params)
