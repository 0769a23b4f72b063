"""Province-scale screening with flat memory: :func:`screen_to_gpkg`.

:func:`landcheck.screen` holds every patch, fact and verdict in memory: right for a county,
and for notebooks. A province (a million patches) goes through :func:`screen_to_gpkg`
instead, which gives the same verdicts but never holds more than one chunk of patches:

1. the rule pack is checked and the reference layers are read once (they are needed whole);
2. the patch file's feature keys and bounding boxes are read without attributes or
   geometries (:func:`landcheck.io.read.layer_extent`: 32 bytes a patch) and the patch ids
   are checked for blanks and duplicates across the whole file;
3. the patches are ordered along a Hilbert curve of their box centres and cut into chunks
   of ``chunk_size``; each chunk is read by feature id (GeoPackage, shapefile, FileGDB,
   FlatGeobuf, GeoJSON; GeoParquet by row number, reading only the row groups that hold
   them; KML, KMZ and DXF, converted as a whole, are refused);
4. each chunk is transformed into the working CRS, measured against the features of the
   reference layers near it (:class:`landcheck.engine.LayerIndex`) on ``threads`` threads,
   judged, and its verdicts and fragments are appended to a GeoPackage being written beside
   the target;
5. the GeoPackage gets its ``metadata`` layer and is renamed into place. A failure or an
   interrupt at any point leaves no output (and an existing target untouched); run again.

Peak memory is the reference layers plus one chunk; time grows linearly with the patches.
The output has the layers :meth:`landcheck.ScreenResult.to_gpkg` writes (``verdicts``,
``fragments``, ``metadata``), with rows in chunk order (spatial), not file order. With
``xlsx=`` the ledger's summary sheet is written too (by verdict, rule and township, summed
over the chunks); the per-township patch sheets are not (a sheet holds at most 1,048,576
rows): the GeoPackage holds every patch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely

from landcheck.dates import later_than, warn_later
from landcheck.engine import LayerIndex, chunk_margin, default_threads, facts_in_chunks
from landcheck.errors import InputError, WriteError
from landcheck.io.read import layer_extent, read_field
from landcheck.provenance import ATTRS_KEY, source_info

__all__ = ["DEFAULT_STREAM_CHUNK", "StreamSummary", "screen_to_gpkg"]

#: Patches per streamed chunk: ~0.3–0.5 GB of working memory at the city2023 pack.
DEFAULT_STREAM_CHUNK = 50_000


@dataclasses.dataclass
class StreamSummary:
    """What :func:`screen_to_gpkg` wrote: counts and areas by verdict, timings."""

    path: Path
    patches: int
    chunks: int
    counts: dict[str, int]
    areas_m2: dict[str, float]
    seconds: float
    provenance: dict[str, Any]

    def __repr__(self) -> str:
        parts = ", ".join(f"{v} {self.counts.get(v, 0)}"
                          for v in ("illegal", "needs_review", "legal", "other"))
        return (f"<StreamSummary {self.patches} patches in {self.chunks} chunks "
                f"({self.seconds:.1f} s): {parts}; {self.path}>")


def screen_to_gpkg(
    patches,
    layers,
    output,
    rules="city2023",
    *,
    overrides: Mapping[str, Any] | None = None,
    families=None,
    working_crs=None,
    tolerance_m: float | None = None,
    area_method=None,
    reference_date=None,
    threads: int | None = None,
    chunk_size: int | None = None,
    xlsx=None,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
    missing_layers: str = "warn",
) -> StreamSummary:
    """Screen a patch file chunk by chunk into a GeoPackage (flat memory).

    Parameters are those of :func:`landcheck.screen`, except:

    patches : path, LayerSpec or None
        The patch file (read with the layer set's ``[patches]`` options and field mapping),
        a spec from :meth:`LayerSet.patch_spec`, or ``None`` for the file the layer set
        names. A GeoDataFrame is refused: it is already in memory, use
        :func:`landcheck.screen`.
    layers : LayerSet or path to a TOML layer config
    output : path
        The ``.gpkg`` to write (layers ``verdicts``, ``fragments``, ``metadata``).
    chunk_size : int, optional
        Patches per chunk (default 50,000); memory grows with it, not with the file.
    xlsx : path, optional
        Also write the ledger's summary sheet (by verdict, by rule, by township, in m² and
        亩), summed chunk by chunk. A province has too many patches for the per-township
        patch sheets of :meth:`landcheck.ScreenResult.to_xlsx`; the GeoPackage holds them.
    overwrite : bool
        Replace existing outputs.
    """
    from landcheck.chain import (
        absent_layers,
        area_method_of,
        area_provenance,
        as_date,
        as_layerset,
        family_params,
        helmert_of,
        judge,
        provenance,
        roles_of,
        to_working,
        tolerance_of,
    )
    from landcheck.collector import cyclic_gc_paused
    from landcheck.extents import box_in, check_extents
    from landcheck.report.styles import add_result_styles
    from landcheck.screen import load_rules

    t0 = time.perf_counter()
    say = progress or (lambda msg: None)
    threads = default_threads() if threads is None else int(threads)
    chunk_size = DEFAULT_STREAM_CHUNK if chunk_size is None else int(chunk_size)
    if threads < 1 or chunk_size < 1:
        raise ValueError(f"threads and chunk_size must be ≥ 1, got {threads}, {chunk_size}")
    from landcheck.report import WRITERS

    target = _check_target(output, overwrite, WRITERS["gpkg"], "streamed output is a GeoPackage")
    xlsx_target = (_check_target(xlsx, overwrite, WRITERS["xlsx"],
                                 "the ledger is an Excel workbook")
                   if xlsx is not None else None)
    layerset = as_layerset(layers)
    if isinstance(layerset, Mapping):
        raise TypeError("screen_to_gpkg reads the patches from their file: give a LayerSet or "
                        "a TOML layer config, not a dict of frames (use landcheck.screen)")
    roles = roles_of(layerset)
    full = load_rules(rules, overrides=overrides, families=families, roles=roles)
    pack = full.for_subject("patches")
    absent = absent_layers(pack, layerset, roles, missing_layers)
    from landcheck.layers import LayerSpec

    if isinstance(patches, LayerSpec):
        spec = patches
    elif patches is None or isinstance(patches, str | os.PathLike):
        spec = layerset.patch_spec(patches)
    else:
        raise TypeError(f"patches must be a path (or None for the layer set's patch file), "
                        f"not {type(patches).__name__}; frames in memory go to landcheck.screen")
    from landcheck.io.write import refuse_inputs_as_outputs, run_inputs

    refuse_inputs_as_outputs({"output": target, "xlsx": xlsx_target}, run_inputs(spec, layerset))
    keys, bounds, order = _patch_order(spec, say)
    ref = {}
    for role in layerset.roles:
        say(f"reading {role} {layerset.spec(role).path}")
        ref[role] = layerset.read(role)
    chunks = [np.sort(c) for c in np.array_split(order, max(1, -(-len(order) // chunk_size)))]
    first = _read_chunk(spec, keys, chunks[0])
    patch_info = source_info(first)
    notes = list(patch_info.notes) if patch_info is not None else []
    crs_decision = _decide_crs(first, ref, layerset, working_crs, bounds)
    ref = {role: to_working(g, crs_decision.crs, role, helmert_of(layerset, role))
           for role, g in ref.items()}
    if first.crs is not None:  # the whole patch file's box, as landcheck.screen checks it
        check_extents(box_in(_total(bounds, first), first.crs, crs_decision.crs), ref,
                      crs_decision.crs, what=str(spec.path), stacklevel=3)
    del bounds
    tol = tolerance_of(pack, tolerance_m)
    method, method_from = area_method_of(area_method, layerset, full)
    params = family_params(full)
    index = LayerIndex(ref, margin=chunk_margin(params))
    ref_date = as_date(reference_date)
    run = {"reference_date": pd.Timestamp(ref_date), "year": ref_date.year}
    counts: dict[str, int] = {}
    areas: dict[str, float] = {}
    late: list = []  # patches whose after-date is later than the reference date
    sums = _Sums(pack, roles) if xlsx_target is not None else None
    done = 0
    say(f"streaming {len(keys)} patches in {len(chunks)} chunks of ≤ {chunk_size} "
        f"({threads} threads, {crs_decision.label()})")
    t_chunks = time.perf_counter()
    from landcheck.io.write import output_set

    with output_set(), _staged(target, overwrite) as tmp:  # GeoPackage and ledger together
        for i, rows in enumerate(chunks):
            tc = time.perf_counter()
            if i == 0:
                gdf, first = first, None
            else:
                gdf = _read_chunk(spec, keys, rows)
                info = source_info(gdf)
                notes += [n for n in (info.notes if info is not None else ()) if n not in notes]
            gdf = to_working(gdf, crs_decision.crs, "patches", spec.helmert)
            late += later_than(gdf, ref_date)
            with cyclic_gc_paused():  # as in landcheck.screen
                overlay = facts_in_chunks(gdf, index, crs=crs_decision.crs, tolerance_m=tol,
                                          params=params, threads=threads,
                                          chunk_size=max(1, -(-len(gdf) // threads)),
                                          roles=roles, area_method=method)
                _, verdicts, fragments = judge(gdf, overlay, pack, run, ref.get("townships"),
                                               roles, absent)
            _append(tmp, "verdicts", verdicts)
            _append(tmp, "fragments", fragments)
            for v, n in verdicts["verdict"].value_counts().items():
                counts[str(v)] = counts.get(str(v), 0) + int(n)
            for col in ("legal_m2", "illegal_m2", "review_m2", "other_m2"):
                areas[col] = areas.get(col, 0.0) + float(verdicts[col].sum())
            if sums is not None:
                sums.add(verdicts)
            done += len(gdf)
            say(f"chunk {i + 1}/{len(chunks)}: {len(gdf)} patches in "
                f"{time.perf_counter() - tc:.1f} s ({done}/{len(keys)}, "
                f"{time.perf_counter() - t0:.0f} s so far{_eta(t_chunks, done, len(keys))})")
        warn_later(late, ref_date, where=str(spec.path))
        stub = _empty_frame()
        if patch_info is not None:
            stub.attrs[ATTRS_KEY] = dataclasses.replace(patch_info, n_features=len(keys),
                                                        notes=tuple(notes))
        prov = provenance(stub, ref, pack, crs_decision, tol, ref_date, t0,
                          area_provenance(method, method_from))
        prov["streamed"] = {"chunks": len(chunks), "chunk_size": chunk_size,
                            "patches": len(keys)}
        _append(tmp, "metadata", _metadata(prov))
        add_result_styles(tmp)  # QGIS styles (layer_styles) inside the file before it moves
        if sums is not None:
            sums.write(xlsx_target, prov, overwrite)
    if sums is not None:
        say(f"wrote {xlsx_target}")
    seconds = time.perf_counter() - t0
    say(f"done: {len(keys)} patches in {seconds:.1f} s → {target}")
    return StreamSummary(path=target, patches=len(keys), chunks=len(chunks), counts=counts,
                         areas_m2=areas, seconds=seconds, provenance=prov)


# ------------------------------------------------------------------ steps


@contextlib.contextmanager
def _staged(target: Path, overwrite: bool = True):
    """A path for the GeoPackage in a hidden folder beside ``target``; renamed into place
    when the block ends normally, removed with its folder on any error or interrupt."""
    from landcheck.io.write import (
        defer_publish,
        disk_full,
        disk_full_error,
        make_staging_dir,
        publish,
    )

    tmpdir = make_staging_dir(target)  # stale staging of a killed run is removed first
    deferred = False
    try:
        staged = tmpdir / target.name
        try:
            yield staged
        except OSError as exc:
            if disk_full(exc):
                raise disk_full_error(target, exc) from exc
            raise
        if not staged.exists():
            raise WriteError(f"{target}: nothing was written")
        deferred = defer_publish(staged, target, "GPKG", tmpdir, overwrite)
        if not deferred:  # fails if target appeared, unless overwrite
            publish(staged, target, overwrite=overwrite)
    finally:
        if not deferred:
            shutil.rmtree(tmpdir, ignore_errors=True)


def _eta(t_start: float, done: int, total: int) -> str:
    """", about N min left" from the pace so far (patches per second)."""
    if not done or done >= total:
        return ""
    left = (time.perf_counter() - t_start) / done * (total - done)
    return f", about {left / 60:.0f} min left" if left >= 90 else f", about {left:.0f} s left"


class _Sums:
    """The ledger's summary tables, summed chunk by chunk (counts and m² are additive)."""

    def __init__(self, pack, roles):
        self.pack = pack
        self.roles = roles
        self.by_verdict = None
        self.by_rule = None
        self.by_township = []

    def add(self, verdicts) -> None:
        from landcheck.report.tables import rule_sums, township_sums, verdict_sums

        v, r = verdict_sums(verdicts, self.roles), rule_sums(verdicts, self.pack)
        self.by_verdict = v if self.by_verdict is None else self.by_verdict + v
        self.by_rule = r if self.by_rule is None else self.by_rule + r
        self.by_township.append(township_sums(verdicts, self.roles))

    def write(self, path, provenance, overwrite) -> None:
        from landcheck.report import WRITERS
        from landcheck.report.tables import (
            finish_rule_summary,
            finish_township_summary,
            finish_verdict_summary,
        )

        WRITERS["xlsx"].write_streamed(
            path, pack=self.pack, provenance=provenance,
            by_verdict=finish_verdict_summary(self.by_verdict),
            by_rule=finish_rule_summary(self.by_rule, self.pack),
            by_township=finish_township_summary(pd.concat(self.by_township)),
            overwrite=overwrite, roles=self.roles)


def _check_target(path, overwrite, writer, what) -> Path:
    """An output path checked before any work: its suffix, not there (or ``overwrite``), and
    its folder exists."""
    from landcheck.errors import OutputExistsError

    suffix = writer.suffix
    target = Path(os.fspath(path)).expanduser().absolute()
    if target.suffix.lower() != suffix:
        raise InputError(f"{target}: {what}; name it *{suffix}")
    if target.exists() and not overwrite:
        raise OutputExistsError(f"{target} exists; pass overwrite=True (CLI: --overwrite) "
                                f"to replace it")
    if not target.parent.is_dir():
        raise WriteError(f"{target}: folder {target.parent} does not exist; create it")
    return target


#: Patch sources that can be read by feature id or row number.
STREAMABLE_KINDS = ("gpkg", "shp", "gdb", "gdbzip", "fgb", "geojson", "parquet")


def _patch_order(spec, say):
    """Keys of every patch in Hilbert order of their box centres; ids checked file-wide."""
    from landcheck.io.formats import open_source
    from landcheck.io.read import check_ids

    kind = open_source(spec.path).kind
    if kind not in STREAMABLE_KINDS:
        raise InputError(f"{spec.path}: a {kind.upper()} patch file cannot be streamed (its "
                         f"features are converted as a whole); convert it to a GeoPackage, or "
                         f"screen it without --stream")
    say(f"indexing patches {spec.path}")
    keys, bounds = layer_extent(spec.path, layer=spec.layer)
    id_field = spec.fields.get("id")
    if id_field is not None:
        ids = read_field(spec.path, id_field, layer=spec.layer, encoding=spec.encoding)
        where = f"{spec.path}" + (f" (layer {spec.layer})" if spec.layer else "")
        check_ids(pd.DataFrame({id_field: ids}), id_field, where)
    return keys, bounds, _hilbert_order(bounds)


def _hilbert_order(bounds) -> np.ndarray:
    """Rows sorted along a Hilbert curve of the box centres; rows without a box last."""
    import geopandas as gpd

    ok = np.isfinite(bounds).all(axis=1)
    key = np.full(len(bounds), np.iinfo(np.int64).max, dtype=np.int64)
    if ok.any():
        centres = shapely.points((bounds[ok, 0] + bounds[ok, 2]) / 2,
                                 (bounds[ok, 1] + bounds[ok, 3]) / 2)
        key[ok] = gpd.GeoSeries(centres).hilbert_distance().to_numpy()
    return np.argsort(key, kind="stable")


def _read_chunk(spec, keys, rows):
    return spec.read(rows=keys[rows])


def _decide_crs(first, ref, layerset, working_crs, bounds):
    from landcheck.crs import choose_working_crs

    declared = working_crs if working_crs is not None else layerset.crs
    items = [(first.crs, _total(bounds, first))]
    items += [(g.crs, tuple(g.total_bounds)) for g in ref.values() if len(g)]
    return choose_working_crs(items, declared=declared)


def _total(bounds, first) -> tuple[float, float, float, float]:
    """The box of the patches' boxes (``bounds``, one row per patch), else of ``first``."""
    ok = np.isfinite(bounds).all(axis=1)
    return ((bounds[ok, 0].min(), bounds[ok, 1].min(), bounds[ok, 2].max(), bounds[ok, 3].max())
            if ok.any() else tuple(first.total_bounds))


def _append(path: Path, name: str, frame) -> None:
    """Append a frame to a layer of the GeoPackage being written (created on first use)."""
    from landcheck.io.write import USE_ARROW, dates_as_datetimes
    from landcheck.report.gpkg import flatten_lists

    frame = flatten_lists(frame) if hasattr(frame, "geometry") else frame
    frame = dates_as_datetimes(_stable_types(frame))
    frame.attrs = {}
    exists = path.exists() and name in {n for n, _ in pyogrio.list_layers(path)}
    try:
        # multi-part types always: the layer's type is fixed by the first chunk, and a
        # whole-file write promotes mixed Polygon/MultiPolygon layers the same way
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", append=exists,
                                use_arrow=USE_ARROW,
                                promote_to_multi=True if hasattr(frame, "geometry") else None)
    except Exception as exc:
        raise WriteError(f"{path}: could not append to layer {name!r} "
                         f"({type(exc).__name__}: {exc})") from exc


def _stable_types(frame):
    """Object columns as text, so a chunk where a column is all null keeps the text type the
    first chunk gave the GeoPackage field."""
    out = frame.copy()
    geom = out.geometry.name if hasattr(out, "geometry") else None
    for col in out.columns:
        if col != geom and out[col].dtype == object:
            out[col] = out[col].astype("string")
    return out


def _metadata(prov) -> pd.DataFrame:
    import json

    rows = [(k, json.dumps(v, ensure_ascii=False, default=str)) for k, v in prov.items()]
    return pd.DataFrame(rows, columns=["key", "value"])


def _empty_frame():
    import geopandas as gpd

    return gpd.GeoDataFrame(geometry=[])
