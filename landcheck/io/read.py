"""read_layer: one layer from a file, decoded, with its CRS decided and geometry checked."""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import importlib.util
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely

from landcheck.errors import (
    CRSWarning,
    DuplicateIdError,
    EncodingError,
    InputError,
    LayerReadError,
    format_ids,
)
from landcheck.errors import EncodingGuessWarning as _GuessWarning
from landcheck.io.encoding import dbf_header, dbf_path, detect_shapefile_encoding
from landcheck.io.findings import FeatureLabels, Findings
from landcheck.io.formats import (
    Source,
    dxf_encoding,
    list_source_layers,
    open_source,
    resolve_layer,
)
from landcheck.io.geometry import (
    ARC_STEP_DEGREES,
    apply_geometry_policy,
    check_arc_step,
    check_on_invalid,
    drop_z,
    dxf_polygons,
    note_linearised,
)
from landcheck.provenance import ATTRS_KEY, SourceInfo, file_sha256

__all__ = ["layer_extent", "list_layers", "read_field", "read_layer"]

USE_ARROW = importlib.util.find_spec("pyarrow") is not None
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_RECODE_FAILED = "couldn't be converted correctly"
_BEYOND_SAMPLE = ("pass the right encoding=, e.g. 'GB18030' or 'UTF-8'; the sampled records "
                  "decoded, so the bad text is further into the file")


@dataclass(frozen=True)
class _Text:
    """How text is decoded: what is recorded, and what GDAL is told."""

    encoding: str | None
    how: str
    gdal_encoding: str | None = None
    field_names: tuple[str, ...] | None = None  # set when names are decoded here, not by GDAL
    raw_names: tuple[bytes, ...] = ()

    def latin1_names(self) -> dict[str, str]:
        """Decoded field name → the name GDAL reports when reading as latin-1."""
        names = self.field_names or ()
        return {n: r.decode("latin1") for n, r in zip(names, self.raw_names, strict=True)}


def list_layers(path) -> list[tuple[str, str]]:
    """Layers of a file as ``(name, geometry type)``; attribute tables show ``"None"``.

    Single-layer formats (shapefile, GeoJSON, GeoParquet, FlatGeobuf) list one layer.
    """
    source = open_source(path)
    return [(name, gtype or "None") for name, gtype in list_source_layers(source)]


def read_layer(path, /, *, layer=None, encoding=None, crs=None, zone=None, central_meridian=None,
               zone_width=3, on_invalid="raise", id_field=None,
               columns=None, rows=None, arc_step=ARC_STEP_DEGREES) -> geopandas.GeoDataFrame:
    """Read one layer, decode its text, decide its CRS and apply the geometry policy.

    Parameters
    ----------
    path : str or path-like
        ``.shp``, ``.gpkg``, ``.gdb`` (directory), ``.gdb.zip``, ``.geojson``/``.json``,
        ``.parquet``/``.geoparquet``, ``.kml``, ``.kmz``, ``.dxf`` or ``.fgb``.
    layer : str, optional
        Layer inside a multi-layer source; required when there is more than one.
    encoding : str, optional
        Text encoding of a shapefile (overrides ``.cpg`` and sniffing, but must decode
        the bytes) or of a DXF (overrides ``$DWGCODEPAGE``). Other formats are UTF-8.
    crs, zone, central_meridian, zone_width
        Passed to :func:`landcheck.crs.resolve_crs`: a declared CRS, or a CGCS2000
        Gauss-Kruger zone (3- or 6-degree, ``zone_width``) / central meridian hint for
        files without a usable CRS.
    on_invalid : {"raise", "warn", "fix"}
        What to do with invalid geometries (see :mod:`landcheck.io.geometry`).
    id_field : str, optional
        Field whose values name features in messages; must exist, be non-null and unique.
    columns : list of str, optional
        Attribute fields to read (``id_field`` is added when missing).
    rows : sequence of int, optional
        Read only these features, in this order: the keys :func:`layer_extent` returns
        (OGR feature ids; row numbers for GeoParquet). Ids are then checked within these
        features only. Default: all features.
    arc_step : float
        Curved geometries (arcs in FileGDB and GeoPackage layers) are linearised with chords
        that span at most this many degrees of arc (default :data:`ARC_STEP_DEGREES`, 1°:
        a full circle's area comes out at most 0.0051 % small); each such layer gets a
        :class:`~landcheck.errors.GeometryWarning` with the count and the area consequence.

    Returns
    -------
    geopandas.GeoDataFrame
        Fields as stored (codes stay text), a ``RangeIndex``, the decided CRS set
        (never transformed), and ``attrs["landcheck_source"]``, a
        :class:`~landcheck.provenance.SourceInfo`.

    Notes
    -----
    A DXF yields the closed polylines (as polygons) and hatches; other entities are
    dropped with a warning. Null/empty geometries are kept and reported. A read that returns
    another number of features than the layer declares, or a shapefile whose ``.dbf`` is
    shorter than its header says, raises :class:`~landcheck.errors.LayerReadError`.

    Examples
    --------
    The demo county's permanent farmland: a shapefile without a ``.prj`` (its CRS given here);
    the bureau's own field names are kept:

    >>> from landcheck import read_layer
    >>> from landcheck.testing import SAMPLES
    >>> farmland = read_layer(SAMPLES / "county/yjjbnt.shp", crs="EPSG:4527")
    >>> len(farmland), list(farmland.columns)
    (164, ['BSM', 'ZLDWMC', 'JBNTMJ', 'geometry'])
    """
    check_on_invalid(on_invalid)
    arc_step = check_arc_step(arc_step)
    findings = Findings()
    try:  # warnings noticed before an error are still emitted
        source = open_source(path)
        layer = resolve_layer(source, layer, list_source_layers(source))
        where = source.where(layer)
        text = _decide_text(source, encoding, findings)
        columns = _check_columns(source, layer, text, columns, id_field, where)
        gdf, driver = _read_frame(source, layer, text, columns, where, rows,
                                  curves=(arc_step, findings))
        gdf = _normalise_geometry(gdf, source, where, findings)
        labels = check_ids(gdf, id_field, where)
        decision = _decide_crs(gdf, source, layer, crs, (zone, zone_width, central_meridian),
                               findings)
        gdf = gdf.set_crs(decision.crs, allow_override=True)
        geoms = apply_geometry_policy(np.asarray(gdf.geometry.array), on_invalid, labels,
                                      where, findings)
        gdf = _replace_geometry(gdf, geoms)
        gdf.attrs[ATTRS_KEY] = _source_info(source, layer, driver, text, decision, gdf, findings)
        return gdf
    finally:
        findings.emit(stacklevel=3)


def layer_fields(path, /, *, layer=None, encoding=None) -> list[str]:
    """Field names of one layer, from metadata only (no geometry is read).

    Resolves the source and the layer exactly as :func:`read_layer` does (``.gdb.zip``,
    single spatial layer, shapefile encodings); raises :class:`LayerReadError` naming what
    exists when the file or layer is missing. Encoding guesses are not warned about here.
    """
    source = open_source(path)
    layer = resolve_layer(source, layer, list_source_layers(source))
    text = _decide_text(source, encoding, Findings())
    return _available_fields(source, layer, text)


def _decide_text(source: Source, encoding: str | None, findings: Findings) -> _Text:
    if source.kind == "shp":
        decision = detect_shapefile_encoding(source.path, encoding)
        if decision.warning:
            findings.warn(_GuessWarning, decision.warning, decision.note)
        else:
            findings.note(decision.note)
        if decision.truncated_names:  # GDAL fails on such names: decode them here
            return _Text(decision.encoding, decision.how, "latin1", decision.field_names,
                         decision.raw_names)
        return _Text(decision.encoding, decision.how, decision.encoding)
    if source.kind == "dxf":
        if encoding is not None:
            _check_codec(source, encoding)
            findings.note(f"DXF text decoded as {encoding} (encoding= argument)")
            return _Text(encoding, "argument", None)
        detected, note, warning = dxf_encoding(source.path)
        if warning:
            findings.warn(_GuessWarning, f"{source.given}: {warning}", note)
        else:
            findings.note(note)
        return _Text(detected, "format", None)
    if encoding is not None and _check_codec(source, encoding) != "utf-8":
        raise InputError(f"{source.given}: encoding={encoding!r} cannot apply; {source.kind} "
                         f"text is UTF-8 by specification (encoding= is for shapefiles and DXF)")
    return _Text("UTF-8", "format", None)


def _check_codec(source: Source, encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"{source.given}: unknown encoding {encoding!r}; use a name such as "
                         f"'GBK', 'GB18030' or 'UTF-8'") from None


def _available_fields(source: Source, layer: str | None, text: _Text) -> list[str]:
    if source.kind == "parquet":
        names, geometry = _parquet_schema(source)
        return [name for name in names if name != geometry]
    if text.field_names is not None:
        return list(text.field_names)
    info = pyogrio.read_info(source.gdal_path, layer=layer, encoding=text.gdal_encoding)
    return [str(name) for name in info["fields"]]


def _parquet_schema(source: Source) -> tuple[list[str], str]:
    import pyarrow.parquet as pq

    schema = pq.read_schema(source.path)
    geo = json.loads((schema.metadata or {}).get(b"geo", b"{}"))
    return list(schema.names), geo.get("primary_column", "geometry")


def _check_columns(source, layer, text, columns, id_field, where) -> list[str] | None:
    if columns is None and id_field is None:
        return None
    fields = _available_fields(source, layer, text)
    wanted = [] if columns is None else (
        [columns] if isinstance(columns, str) else [str(c) for c in columns])
    if id_field is not None and id_field not in wanted:
        wanted.append(id_field)
    unknown = [c for c in wanted if c not in fields]
    if unknown:
        what = "id field" if unknown == [id_field] else "field(s)"
        raise InputError(f"{where}: no {what} {', '.join(repr(c) for c in unknown)}; "
                         f"fields there: {', '.join(fields) or '(none)'}")
    return wanted if columns is not None else None


def _read_frame(source, layer, text, columns, where, rows=None,
                curves=(ARC_STEP_DEGREES, None)) -> tuple[geopandas.GeoDataFrame, str]:
    if source.kind == "parquet":
        return _read_parquet(source, columns, rows), "GeoParquet"
    if text.field_names is not None and columns is not None:
        columns = [text.latin1_names()[n] for n in columns]
    _check_dbf_size(source, where)
    arc_step, findings = curves
    with (_gdal_errors(where), _dxf_encoding_override(source, text),
          _recode_errors(where, text), _arc_step_option(arc_step)):
        info = pyogrio.read_info(source.gdal_path, layer=layer, encoding=text.gdal_encoding)
        driver = str(info["driver"])
        read = _CurveRead(source, str(info["layer_name"]), where, arc_step, findings)
        if rows is None:
            gdf = read(encoding=text.gdal_encoding, columns=columns, use_arrow=USE_ARROW)
            check_row_count(len(gdf), int(info["features"]), where)
        else:
            gdf = _read_fids(read, text, columns, rows, where)
    if not isinstance(gdf, geopandas.GeoDataFrame):
        raise LayerReadError(f"{where}: has no geometry (an attribute table); read it with "
                             f"pyogrio.read_dataframe(..., read_geometry=False)")
    if text.field_names is not None:
        gdf = _transcode_latin1(gdf, text, where)
    _check_arrow_utf8(gdf, where, text)
    return gdf, driver


def check_row_count(got: int, expected: int, where: str) -> None:
    """Raise LayerReadError when a read returned another number of features than the layer holds.

    ``expected`` is the feature count the driver reports (``-1``: unknown, nothing is checked).
    A shapefile whose ``.dbf`` is cut inside a record reads short without any GDAL error.
    """
    if expected >= 0 and got != expected:
        raise LayerReadError(
            f"{where}: read {got} feature(s), but the layer says it holds {expected}; the file "
            f"is truncated or damaged (for a shapefile: the .dbf and the .shp disagree). "
            f"Restore or re-export the file and run again")


def _check_dbf_size(source: Source, where: str) -> None:
    """Raise LayerReadError when a shapefile's ``.dbf`` is shorter than its header promises.

    GDAL reads the features of a cut ``.dbf`` by id with empty attributes, and a full read
    stops early without an error: the header (record count, header and record length) is
    checked against the file's size before any read.
    """
    if source.kind != "shp":
        return
    dbf = dbf_path(source.path)
    if not dbf.is_file():
        return
    with open(dbf, "rb") as f:
        head = f.read(12)
    if len(head) < 12:
        raise LayerReadError(f"{where}: {dbf.name} is {len(head)} bytes, too short for a dBASE "
                             f"header; restore or re-export the shapefile")
    records, header, record = dbf_header(head)
    size = dbf.stat().st_size
    if size < header + records * record:
        whole = max(0, (size - header) // record) if record else 0
        raise LayerReadError(
            f"{where}: {dbf.name} is cut short: its header says {records} record(s) of "
            f"{record} bytes, the file holds {whole} whole one(s) ({size} bytes, "
            f"{header + records * record} expected). Restore or re-export the shapefile "
            f"and run again")


_ARROW_FID_KINDS = {"gpkg", "shp", "gdb", "gdbzip"}


@dataclass(frozen=True)
class _CurveRead:
    """``pyogrio.read_dataframe`` on one layer, falling back from Arrow for curved geometry.

    Shapely holds no curves, so an Arrow read of a layer with arcs fails; GDAL linearises
    them on the non-Arrow path (with ``OGR_ARC_STEPSIZE``, set by :func:`_arc_step_option`).
    The fallback counts the curved features by type and notes them
    (:func:`~landcheck.io.geometry.note_linearised`).
    """

    source: Source
    layer: str
    where: str
    arc_step: float
    findings: Findings | None

    def __call__(self, *, use_arrow: bool, fids=None, **kwargs) -> geopandas.GeoDataFrame:
        path = self.source.gdal_path
        if use_arrow:
            try:
                return pyogrio.read_dataframe(path, layer=self.layer, use_arrow=True,
                                              fids=fids, **kwargs)
            except NotImplementedError as exc:  # shapely: "Nonlinear geometry types ..."
                if "onlinear" not in str(exc):
                    raise
            if self.findings is not None:
                note_linearised(self.curved(fids), self.arc_step, self.where, self.findings)
        return pyogrio.read_dataframe(path, layer=self.layer, use_arrow=False, fids=fids,
                                      **kwargs)

    def curved(self, fids=None) -> dict[str, int]:
        """Number of features of each curved OGR geometry type (among ``fids`` if given)."""
        name = self.layer.replace('"', '""')
        where = "" if fids is None else (
            " WHERE FID IN (" + ",".join(str(int(f)) for f in fids) + ")")
        types = pyogrio.read_dataframe(
            self.source.gdal_path, sql=f'SELECT OGR_GEOMETRY FROM "{name}"{where}',
            sql_dialect="OGRSQL", read_geometry=False)["OGR_GEOMETRY"]
        counts = types[types.isin(_CURVED_TYPES)].value_counts()
        return {str(k): int(v) for k, v in counts.items()}


_CURVED_TYPES = ("CIRCULARSTRING", "COMPOUNDCURVE", "CURVEPOLYGON", "MULTICURVE",
                 "MULTISURFACE", "CURVE", "SURFACE")


@contextlib.contextmanager
def _arc_step_option(arc_step: float):
    """Set GDAL's process-wide OGR_ARC_STEPSIZE (degrees per chord of a linearised arc)."""
    previous = pyogrio.get_gdal_config_option("OGR_ARC_STEPSIZE")
    pyogrio.set_gdal_config_options({"OGR_ARC_STEPSIZE": repr(arc_step)})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_ARC_STEPSIZE": previous})


def _read_fids(read: _CurveRead, text, columns, rows, where) -> geopandas.GeoDataFrame:
    """Features by OGR id, in the order asked (GDAL returns them in id order)."""
    wanted = np.asarray(rows, dtype=np.int64)
    fids = np.unique(wanted)
    # Arrow reads by id only where they are known to work: GDAL 3.12's FlatGeobuf returns
    # corrupt geometries (or crashes) for Arrow reads by id when some geometries are null
    arrow = USE_ARROW and read.source.kind in _ARROW_FID_KINDS
    gdf = read(encoding=text.gdal_encoding, columns=columns, use_arrow=arrow, fids=fids,
               fid_as_index=True)
    got = gdf.index.to_numpy(dtype=np.int64)
    if len(got) != len(fids) or not np.array_equal(np.sort(got), fids):
        missing = np.setdiff1d(fids, got)
        raise LayerReadError(f"{where}: feature id(s) {format_ids(missing.tolist())} not found; "
                             f"the file changed while it was being read? Run again")
    pos = pd.Series(np.arange(len(got)), index=got)
    return gdf.iloc[pos.loc[wanted].to_numpy()].reset_index(drop=True)


def _read_parquet(source: Source, columns, rows=None) -> geopandas.GeoDataFrame:
    if columns is not None:
        columns = [*columns, _parquet_schema(source)[1]]
    if rows is not None:
        return _read_parquet_rows(source, columns, rows)
    gdf = geopandas.read_parquet(source.path, columns=columns)
    import pyarrow.parquet as pq

    check_row_count(len(gdf), pq.ParquetFile(source.path).metadata.num_rows, source.given)
    if isinstance(gdf.index, pd.RangeIndex) and gdf.index.start == 0 and gdf.index.step == 1:
        return gdf
    return gdf.reset_index(drop=gdf.index.name is None)


def _read_parquet_rows(source: Source, columns, rows) -> geopandas.GeoDataFrame:
    """Rows of a GeoParquet file by number, reading only the row groups that hold them."""
    import pyarrow.parquet as pq
    import pyproj

    wanted = np.asarray(rows, dtype=np.int64)
    pf = pq.ParquetFile(source.path)
    sizes = np.array([pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)],
                     dtype=np.int64)
    starts = np.r_[0, np.cumsum(sizes)]
    if len(wanted) and (wanted.min() < 0 or wanted.max() >= starts[-1]):
        raise LayerReadError(f"{source.given}: row numbers outside 0..{starts[-1] - 1}")
    group_of = np.searchsorted(starts, wanted, side="right") - 1
    groups = np.unique(group_of)
    table = pf.read_row_groups(groups.tolist(), columns=columns)
    offset = np.r_[0, np.cumsum(sizes[groups])]  # where each group read starts in `table`
    table = table.take(offset[np.searchsorted(groups, group_of)] + wanted - starts[group_of])
    geo = json.loads((pf.schema_arrow.metadata or {}).get(b"geo", b"{}"))
    name = geo.get("primary_column", "geometry")
    frame = table.to_pandas()
    geoms = shapely.from_wkb(frame.pop(name).to_numpy())
    crs_json = geo.get("columns", {}).get(name, {}).get("crs", "OGC:CRS84")
    crs = pyproj.CRS.from_json_dict(crs_json) if isinstance(crs_json, dict) else crs_json
    return geopandas.GeoDataFrame(frame, geometry=geoms, crs=crs).reset_index(drop=True)


def read_field(path, field: str, /, *, layer=None, encoding=None) -> pd.Series:
    """One attribute field of every feature, in file order, without reading geometries.

    The source, layer and text encoding are resolved as :func:`read_layer` does; a missing
    field raises :class:`InputError` naming the fields there.
    """
    source = open_source(path)
    layer = resolve_layer(source, layer, list_source_layers(source))
    where = source.where(layer)
    findings = Findings()
    text = _decide_text(source, encoding, findings)
    _check_columns(source, layer, text, [field], None, where)
    if source.kind == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(source.path, columns=[field]).column(0).to_pandas()
    name = text.latin1_names()[field] if text.field_names is not None else field
    _check_dbf_size(source, where)
    with _gdal_errors(where), _recode_errors(where, text):
        frame = pyogrio.read_dataframe(source.gdal_path, layer=layer, read_geometry=False,
                                       encoding=text.gdal_encoding, columns=[name])
        info = pyogrio.read_info(source.gdal_path, layer=layer, encoding=text.gdal_encoding)
        check_row_count(len(frame), int(info["features"]), where)
    if text.field_names is not None:
        return _transcode_latin1(frame, text, where)[field]
    return frame[name].rename(field)


def layer_extent(path, /, *, layer=None) -> tuple[np.ndarray, np.ndarray]:
    """Keys and bounding boxes of every feature, without reading attributes or geometries.

    Returns ``(keys, bounds)``: the keys :func:`read_layer` takes as ``rows`` (OGR feature
    ids; row numbers for GeoParquet) and an ``(n, 4)`` array of ``minx, miny, maxx, maxy``
    (NaN for a null or empty geometry), in file order. Every feature is listed, with or
    without geometry.
    """
    source = open_source(path)
    layer = resolve_layer(source, layer, list_source_layers(source))
    where = source.where(layer)
    if source.kind == "parquet":
        return _parquet_extent(source)
    with _gdal_errors(where):
        fids, bounds = pyogrio.read_bounds(source.gdal_path, layer=layer)
        count = int(pyogrio.read_info(source.gdal_path, layer=layer)["features"])
    bounds = np.asarray(bounds, dtype=float).T.copy()
    if len(fids) != count:  # a driver that leaves out features without geometry
        with _gdal_errors(where):
            every = pyogrio.read_dataframe(source.gdal_path, layer=layer, read_geometry=False,
                                           columns=[], fid_as_index=True).index.to_numpy()
        full = np.full((len(every), 4), np.nan)
        pos = pd.Series(np.arange(len(every)), index=every)
        full[pos.loc[fids].to_numpy()] = bounds
        fids, bounds = every, full
    # GeoPackage stores an empty geometry with a (0, 0, 0, 0) envelope
    bounds[(bounds == 0).all(axis=1)] = np.nan
    return np.asarray(fids, dtype=np.int64), bounds


def _parquet_extent(source: Source) -> tuple[np.ndarray, np.ndarray]:
    import pyarrow.parquet as pq

    geometry = _parquet_schema(source)[1]
    pf = pq.ParquetFile(source.path)
    parts = []
    for batch in pf.iter_batches(columns=[geometry], batch_size=65_536):
        geoms = shapely.from_wkb(batch.column(0).to_numpy(zero_copy_only=False))
        b = shapely.bounds(geoms)
        parts.append(b)
    bounds = np.vstack(parts) if parts else np.empty((0, 4))
    return np.arange(len(bounds), dtype=np.int64), bounds


@contextlib.contextmanager
def _gdal_errors(where: str):
    """GDAL's own read errors (corrupt file, unsupported content) become LayerReadError."""
    try:
        yield
    except pyogrio.errors.DataSourceError as exc:
        raise LayerReadError(f"{where}: cannot be read ({exc})") from None
    except (pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
            pyogrio.errors.FeatureError, pyogrio.errors.GeometryError,
            pyogrio.errors.CRSError) as exc:
        raise LayerReadError(f"{where}: cannot be read ({type(exc).__name__}: {exc})") from None


@contextlib.contextmanager
def _dxf_encoding_override(source: Source, text: _Text):
    """Set GDAL's process-wide DXF_ENCODING while a DXF read with encoding= runs."""
    if source.kind != "dxf" or text.how != "argument":
        yield
        return
    previous = pyogrio.get_gdal_config_option("DXF_ENCODING")
    pyogrio.set_gdal_config_options({"DXF_ENCODING": text.encoding})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"DXF_ENCODING": previous})


@contextlib.contextmanager
def _recode_errors(where: str, text: _Text):
    """Turn GDAL's recoding complaints and UTF-8 decode errors into EncodingError."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        except UnicodeDecodeError as exc:
            raise EncodingError(f"{where}: text is not valid {text.encoding} ({exc}); "
                                f"{_BEYOND_SAMPLE}") from None
    for w in caught:
        if _RECODE_FAILED in str(w.message):
            raise EncodingError(f"{where}: some text could not be decoded as {text.encoding} "
                                f"(GDAL: {w.message}); {_BEYOND_SAMPLE}")
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _check_arrow_utf8(gdf, where: str, text: _Text) -> None:
    """Arrow string columns must be valid UTF-8: GDAL passes 'UTF-8' bytes through unchecked."""
    for column in gdf.columns:
        array = gdf[column].array
        if not (pd.api.types.is_string_dtype(gdf[column]) and hasattr(array, "__arrow_array__")):
            continue
        offset = 0
        for chunk in array.__arrow_array__().chunks:
            try:
                chunk.validate(full=True)
            except Exception as exc:  # pyarrow.ArrowInvalid
                found = re.search(r"string index (\d+)", str(exc))
                row = f", row {offset + int(found.group(1))} (0-based)" if found else ""
                raise EncodingError(f"{where}: field {column!r}{row} is not valid "
                                    f"{text.encoding}; {_BEYOND_SAMPLE}") from None
            offset += len(chunk)


def _transcode_latin1(gdf, text: _Text, where: str):
    """Re-decode a frame read as latin-1 (lossless bytes) with the decided encoding."""
    by_latin = {raw: name for name, raw in text.latin1_names().items()}
    geometry = gdf.geometry.name if isinstance(gdf, geopandas.GeoDataFrame) else None
    for column in gdf.columns:
        if column != geometry and pd.api.types.is_string_dtype(gdf[column]):
            values = gdf[column]
            try:
                gdf[column] = values.str.encode("latin1").str.decode(text.encoding)
            except UnicodeDecodeError as exc:
                raise EncodingError(f"{where}: field {by_latin.get(column, column)!r} is not "
                                    f"valid {text.encoding} ({exc}); pass encoding=") from None
    return gdf.rename(columns={c: by_latin[c] for c in gdf.columns if c in by_latin})


def _normalise_geometry(gdf, source: Source, where: str, findings: Findings):
    geoms = np.asarray(gdf.geometry.array)
    if source.kind == "dxf":
        handles = gdf["EntityHandle"].to_numpy(dtype=object) if "EntityHandle" in gdf else None
        geoms, keep = dxf_polygons(geoms, handles, where, findings)
        if not keep.any():
            raise LayerReadError(f"{where}: no closed polylines or hatches; landcheck reads "
                                 f"DXF parcels as closed polylines (polygons)")
        gdf = _replace_geometry(gdf, geoms)[keep].reset_index(drop=True)
        geoms = np.asarray(gdf.geometry.array)
    return _replace_geometry(gdf, drop_z(geoms, where, findings))


def _replace_geometry(gdf, geoms: np.ndarray):
    """Put ``geoms`` in the active geometry column (the frame is ours: no copy)."""
    gdf[gdf.geometry.name] = geopandas.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)
    return gdf


def check_ids(gdf, id_field: str | None, where: str) -> FeatureLabels:
    if id_field is None:
        return FeatureLabels.of(gdf, None)
    ids = gdf[id_field]
    blank = ids.isna().to_numpy().copy()
    if pd.api.types.is_string_dtype(ids) or ids.dtype == object:
        blank |= ids.astype(str).str.strip().eq("").to_numpy()
    if blank.any():
        rows = np.flatnonzero(blank).tolist()
        raise InputError(f"{where}: {len(rows)} feature(s) have no {id_field!r} value, at rows "
                         f"(0-based) {format_ids(rows)}; fill them in the source or choose another "
                         f"id field")
    counts = ids.value_counts()
    dup = counts[counts > 1]
    if len(dup):
        listed = ", ".join(f"{k!r} ×{v}" for k, v in list(dup.items())[:10])
        more = f" … (+{len(dup) - 10} more)" if len(dup) > 10 else ""
        raise DuplicateIdError(f"{where}: id field {id_field!r} has {len(dup)} duplicated "
                               f"id(s): {listed}{more}. Ids must be unique: fix the source or "
                               f"choose another id field.")
    return FeatureLabels.of(gdf, id_field)


def _decide_crs(gdf, source: Source, layer, crs, hint, findings: Findings):
    """Call :func:`landcheck.crs.resolve_crs`; its CRSWarnings also go into the notes."""
    from landcheck.crs import resolve_crs

    zone, zone_width, central_meridian = hint
    label = source.given + (f":{layer}" if source.multi_layer and layer else "")
    bounds = tuple(float(v) for v in gdf.total_bounds)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decision = resolve_crs(gdf.crs, bounds, declared=crs, zone=zone, zone_width=zone_width,
                               central_meridian=central_meridian, source=label)
    for w in caught:
        if issubclass(w.category, CRSWarning):
            findings.warn(w.category, str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return decision


def _crs_text(crs) -> str:
    authority = crs.to_authority()
    return f"{authority[0]}:{authority[1]}" if authority else crs.to_wkt()


#: Digests by file identity (path, sizes, modification times): a file read in chunks is
#: hashed once, and a changed file is hashed again.
_SHA256_CACHE: dict[tuple, str] = {}


def _sha256(source: Source) -> str:
    """SHA-256 of the file; for a shapefile, of its parts in a fixed order, names included."""
    path = Path(source.path)
    files = sorted(q for q in path.parent.iterdir() if q.stem == path.stem) if (
        source.kind == "shp") else (
        sorted(q for q in path.rglob("*") if q.is_file()) if path.is_dir() else [path])
    key = (source.kind, str(path),
           tuple((str(q), q.stat().st_size, q.stat().st_mtime_ns) for q in files))
    if key not in _SHA256_CACHE:
        if len(_SHA256_CACHE) > 256:
            _SHA256_CACHE.clear()
        _SHA256_CACHE[key] = _sha256_uncached(source)
    return _SHA256_CACHE[key]


def _sha256_uncached(source: Source) -> str:
    if source.kind != "shp":
        return file_sha256(source.path)
    h = hashlib.sha256()
    for ext in _SHAPEFILE_PARTS:
        part = next((p for p in (source.path.with_suffix(ext), source.path.with_suffix(
            ext.upper())) if p.exists()), None)
        if part is not None:
            h.update(part.name.encode() + b"\0")
            h.update(Path(part).read_bytes())
    return h.hexdigest()


def _source_info(source, layer, driver, text, decision, gdf, findings) -> SourceInfo:
    return SourceInfo(
        path=str(source.path), layer=layer if source.multi_layer else None, driver=driver,
        sha256=_sha256(source), encoding=text.encoding, encoding_how=text.how,
        crs=_crs_text(decision.crs), crs_how=decision.how, crs_detail=decision.detail,
        n_features=len(gdf), notes=tuple(findings.notes))
