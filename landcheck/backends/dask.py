"""The distributed engine: the same per-chunk facts function on a dask ``distributed`` cluster.

The client cuts the patches into chunks — spatial tiles (the Hilbert-ordered chunks of the
local engine) or admin units (one or more chunks per township) — and writes every reference
layer once as GeoParquet into a folder all workers can read (``shared_dir``; on one machine a
temporary folder). The layer files are sorted along a Hilbert curve, carry a bounding-box
column (GeoParquet 1.1 *covering*) and are cut into row groups of :data:`ROW_GROUP_SIZE`
rows, so that a reader asking for a rectangle only decodes the row groups near it.

Each task gets its chunk of patches (small) and the paths of the layers, reads from every
layer only the features whose bounding box meets the bounding box of its patches (a feature
outside it cannot intersect any of them), runs :func:`landcheck.overlay.compute_facts` and
returns the facts; the client puts the rows back in the patches' order. Nothing is cached on
a worker: a task holds its own extent of each layer while it runs, then lets it go.

Results are identical to the local engine, to the bit: a task sees the features of its extent
in the layer's original row order, with the original index and column dtypes, and the overlay
orders pairs by (patch, feature row), so a subset of a layer gives the same pairs in the same
order as the whole layer. Rows with a null or empty geometry are never read (their bounding
box is null); they cannot intersect a patch. The roles in :data:`SEARCH_ROLES` are read with
the box widened by the local engine's margin (:func:`landcheck.engine.chunk_margin`): their
facts look a search distance beyond a patch.

See ``docs/dask.md`` for running on a cluster of several machines.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from landcheck.area import DEFAULT_AREA_METHOD
from landcheck.errors import InputError
from landcheck.facts import compute_facts

__all__ = ["PARTITIONS", "ROW_GROUP_SIZE", "SEARCH_ROLES", "facts_on_dask"]

#: Ways to cut the patches into tasks (``partition=``).
PARTITIONS = ("tiles", "township")
#: Rows per Parquet row group of the layer files (the unit a bounding-box read decodes).
ROW_GROUP_SIZE = 10_000
#: Roles read with a widened box. ``corridors``: belts are matched to corridors within a
#: search distance of the patch, so the patches' bounding box is not enough.
SEARCH_ROLES = frozenset({"corridors"})

_ROW = "__landcheck_row"  # original row number of a layer feature, in the layer files
_BBOX = "bbox"  # the covering column GeoPandas writes; a layer column of that name is renamed
_BBOX_RENAMED = "__landcheck_bbox"
INSTALL_HINT = "pip install 'landcheck[dask]'"


def _distributed():
    """``(Client, LocalCluster)``, imported on first use (``distributed`` is optional)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # optional dependency
        raise InputError(
            f"the dask engine needs the `distributed` package: {INSTALL_HINT}"
        ) from None
    return Client, LocalCluster


def _client(scheduler):
    Client, LocalCluster = _distributed()
    if scheduler is None or str(scheduler).startswith("local"):
        text = str(scheduler or "local")
        workers = int(text.split(":", 1)[1]) if ":" in text else 2
        processes = not text.startswith("local-threads")
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
        )
        return Client(cluster), cluster
    return Client(str(scheduler)), None


def facts_on_dask(
    patches,
    layers,
    *,
    crs,
    tolerance_m,
    params,
    scheduler=None,
    chunk_size=None,
    shared_dir=None,
    partition="tiles",
    progress=None,
    roles=None,
    area_method=DEFAULT_AREA_METHOD,
):
    """Facts of all patches, computed chunk by chunk on a dask cluster.

    Parameters
    ----------
    patches : GeoDataFrame
        Canonical patches in ``crs``.
    layers : dict of role → GeoDataFrame
        Reference layers in ``crs``; written once to ``shared_dir`` as GeoParquet.
    crs, tolerance_m, params, roles, area_method
        As for :func:`landcheck.overlay.compute_facts` (the role set and the area method
        travel to the workers with each task).
    scheduler : str, optional
        ``None`` or ``"local:N"`` (a local cluster of N worker processes, default 2),
        ``"local-threads:N"`` (in-process workers, for tests) or a scheduler address such as
        ``"tcp://10.0.0.5:8786"``.
    chunk_size : int, optional
        Patches per task at most (default :data:`landcheck.engine.DEFAULT_CHUNK`).
    shared_dir : path, optional
        Folder for the layer files, readable by every worker at the same path (default: a
        temporary folder, which only works when the workers run on this machine).
    partition : {"tiles", "township"}
        ``"tiles"``: spatially contiguous chunks of ``chunk_size`` patches along a Hilbert
        curve. ``"township"``: one task per value of the patches' ``township`` column (a
        township with more than ``chunk_size`` patches is cut into Hilbert chunks; patches
        without a township go to spatial tiles).
    progress : callable, optional
        Called with a short message as tasks finish.

    Returns
    -------
    OverlayResult
        Identical to :func:`landcheck.engine.facts_in_chunks`.
    """
    from landcheck.engine import DEFAULT_CHUNK, chunk_margin, merge_results

    if partition not in PARTITIONS:
        raise ValueError(
            f"partition must be one of {', '.join(map(repr, PARTITIONS))}, got {partition!r}"
        )
    chunk_size = DEFAULT_CHUNK if chunk_size is None else int(chunk_size)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be ≥ 1, got {chunk_size}")
    _distributed()  # fail with the install hint before anything is written
    say = progress or (lambda msg: None)
    chunks = _partition(patches, chunk_size, partition)
    geoms = patches.geometry.to_numpy()
    boxes = [_bounds(geoms[rows]) for rows in chunks]
    with _layer_folder(shared_dir) as folder:
        margin = chunk_margin(params)
        files = {role: _write(g, folder / f"{role}.parquet", role, margin)
                 for role, g in layers.items()}
        say(f"overlay (dask): {len(files)} layers written to {folder}")
        client, cluster = _client(scheduler)
        try:
            futures = [
                client.submit(
                    _chunk_facts,
                    _ship(patches, rows),
                    files,
                    box,
                    str(crs),
                    tolerance_m,
                    params,
                    roles,
                    area_method,
                    pure=False,
                )
                for rows, box in zip(chunks, boxes, strict=True)
            ]
            say(f"overlay (dask): {len(futures)} tasks ({partition}) sent")
            results = _gather(futures, chunks, say)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return merge_results(results, chunks, len(patches))


def _gather(futures, chunks, say) -> list:
    """Results in chunk order; the first failed task raises here (the others are cancelled)."""
    from distributed import as_completed

    index = {f.key: i for i, f in enumerate(futures)}
    results = [None] * len(futures)
    done = 0
    for fut in as_completed(futures):
        i = index[fut.key]
        try:
            results[i] = fut.result()
        except BaseException:
            for other in futures:
                other.cancel()
            raise
        done += 1
        say(f"overlay (dask): chunk {done}/{len(futures)} ({len(chunks[i])} patches)")
    return results


def _ship(patches, rows):
    """The chunk's patch rows, as a frame of their own (this is what a task receives)."""
    part = patches.iloc[rows].reset_index(drop=True)
    part.attrs = {}  # provenance of the source file: not needed by the overlay
    return part


# ------------------------------------------------------------------ partitions


def _partition(patches, chunk_size: int, partition: str) -> list[np.ndarray]:
    """Row numbers of the patches of each task (each sorted); together all rows once."""
    n = len(patches)
    if partition == "tiles":
        chunks = _tiles(patches, np.arange(n), chunk_size)
    else:
        if "township" not in patches.columns:
            raise InputError(
                "partition='township' needs a `township` column in the patches "
                "(map the admin-code field to `township`), or use partition='tiles'"
            )
        codes = patches["township"].astype("string")
        known = codes.notna().to_numpy()
        values = codes.to_numpy(dtype=object, na_value=None)
        chunks = []
        if known.any():
            rows = np.flatnonzero(known)
            units, which = np.unique(values[rows].astype(str), return_inverse=True)
            for u in range(len(units)):
                chunks.extend(_tiles(patches, rows[which == u], chunk_size))
        chunks.extend(_tiles(patches, np.flatnonzero(~known), chunk_size))
    return chunks or [np.arange(0)]


def _tiles(patches, rows: np.ndarray, chunk_size: int) -> list[np.ndarray]:
    """``rows`` along a Hilbert curve, cut into chunks of at most ``chunk_size``."""
    from landcheck.engine import spatial_order

    if len(rows) == 0:
        return []
    order = rows[spatial_order(patches.iloc[rows])]
    n_chunks = -(-len(rows) // chunk_size)
    return [np.sort(c) for c in np.array_split(order, n_chunks)]


def _bounds(geoms) -> tuple[float, float, float, float] | None:
    """Bounding box of the non-empty geometries, or None when there is none."""
    b = shapely.bounds(np.asarray(geoms, dtype=object))
    if len(b) == 0 or np.isnan(b).all():
        return None
    with np.errstate(invalid="ignore"):
        return (
            float(np.nanmin(b[:, 0])),
            float(np.nanmin(b[:, 1])),
            float(np.nanmax(b[:, 2])),
            float(np.nanmax(b[:, 3])),
        )


# ------------------------------------------------------------------ layer files


@dataclass(frozen=True)
class LayerFile:
    """What a task needs to read one layer back exactly as the client had it."""

    path: str
    columns: tuple[str, ...]
    dtypes: dict
    margin: float = 0.0  # widen the task's box by this (m); infinite: the whole layer


@contextlib.contextmanager
def _layer_folder(shared_dir):
    if shared_dir is not None:
        folder = Path(shared_dir)
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="landcheck-layers-") as tmp:
        yield Path(tmp)


def _write(gdf, path: Path, role: str = "", margin: float = 0.0) -> LayerFile:
    """Write a layer sorted along a Hilbert curve, with a covering bbox column.

    The original row number is kept in a column and the index is written, so a task can
    restore the layer's row order, index and dtypes for the features it reads.
    """
    from landcheck.engine import spatial_order

    geometry = gdf.geometry.name
    dtypes = {c: gdf[c].dtype for c in gdf.columns if c != geometry}
    frame = gdf.copy(deep=False)
    frame.attrs = {}  # provenance objects are not JSON; GeoParquet would store attrs as JSON
    if _BBOX in frame.columns:
        frame = frame.rename(columns={_BBOX: _BBOX_RENAMED})
    frame[_ROW] = np.arange(len(frame), dtype=np.int64)
    frame = frame.iloc[spatial_order(frame)]
    frame.to_parquet(path, index=True, write_covering_bbox=True, row_group_size=ROW_GROUP_SIZE)
    return LayerFile(
        path=str(path),
        columns=tuple(gdf.columns),
        dtypes=dtypes,
        margin=margin if role in SEARCH_ROLES else 0.0,
    )


def _read(layer: LayerFile, box):
    """The layer's features whose bounding box meets ``box`` widened by the layer's margin
    (all with an infinite margin), in the layer's original row order, index and dtypes.
    ``box`` None: no feature (only columns)."""
    import geopandas as gpd

    m = layer.margin
    if not np.isfinite(m):
        frame = gpd.read_parquet(layer.path)
    elif box is None:
        frame = gpd.read_parquet(layer.path, filters=[(_ROW, "<", 0)])
    else:
        frame = gpd.read_parquet(layer.path,
                                 bbox=(box[0] - m, box[1] - m, box[2] + m, box[3] + m))
    frame = frame.iloc[np.argsort(frame[_ROW].to_numpy(), kind="stable")]
    frame = frame.drop(columns=_ROW)
    if _BBOX_RENAMED in frame.columns:
        frame = frame.rename(columns={_BBOX_RENAMED: _BBOX})
    for col, dtype in layer.dtypes.items():
        if frame[col].dtype != dtype:
            frame[col] = frame[col].astype(dtype)
    return frame[list(layer.columns)]


def _chunk_facts(chunk, files, box, crs, tolerance_m, params, roles=None,
                 area_method=DEFAULT_AREA_METHOD):
    """Runs on a worker: read the chunk's extent of every layer, compute the chunk's facts."""
    layers = {role: _read(layer, box) for role, layer in files.items()}
    return compute_facts(chunk, layers, crs=crs, tolerance_m=tolerance_m, params=params,
                         roles=roles, area_method=area_method)
