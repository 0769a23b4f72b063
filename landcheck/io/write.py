"""write_layer / write_layers: atomic writes of GeoPackage, GeoParquet, FileGDB, GeoJSON,
FlatGeobuf and GBK shapefiles.

Atomicity
---------
Everything is first written into a hidden temporary directory created next to the
target (same filesystem), then moved into place:

* single files (``.gpkg``, ``.parquet``, ``.geojson``, ``.fgb``): one ``os.replace``,
  atomic on POSIX and Windows;
* a FileGDB directory: the old directory is renamed aside, the new one renamed in,
  the old one deleted; if the second rename fails the old one is renamed back.
  There is a moment between the two renames where the target path is absent;
* a shapefile (``.shp .shx .dbf .prj .cpg``): the old parts (and index files such as
  ``.qix``/``.sbn``) are moved aside, then the new parts moved in one by one; on any
  failure the new parts are removed and the old ones moved back. Each rename is
  atomic, the set is not: a crash (power loss) between renames can leave a mix,
  a Python exception cannot.

On any failure the temporary directory is removed and a :class:`WriteError` naming
the target is raised; the target is untouched.

Publishing: the staged file is flushed (``fsync``) before it moves, and its folder after.
Without ``overwrite`` a single file is published with ``os.link`` (fails if the target
exists) and a FileGDB with ``os.mkdir`` of the target then ``os.rename`` into it, so a
target that appeared during the write is kept and :class:`OutputExistsError` raised; with
``overwrite``, ``os.replace``. Without ``overwrite`` the parts of a shapefile are linked
into place one by one, the ``.shp`` first; a part that appeared meanwhile is kept and the
parts already linked are removed again. Staging folders are named
``.<target name>.<pid>.<random>.tmp``; those whose process is gone are removed (INFO log)
by the next write to the same target. A full disk (``ENOSPC``, SQLite's "database or disk
is full") is a :class:`WriteError` saying so.

Output sets: inside :func:`output_set` every write is staged and the whole set published
when the block ends (e.g. a run's GeoPackage and its ledger), or none of it.
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import dataclasses
import datetime
import errno
import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pyogrio

from landcheck.errors import (
    CRSError,
    EncodingError,
    InputError,
    LandcheckError,
    OutputExistsError,
    WriteError,
)

__all__ = ["WRITE_DRIVERS", "output_set", "refuse_inputs_as_outputs", "write_layer",
           "write_layers"]

_log = logging.getLogger(__name__)
USE_ARROW = importlib.util.find_spec("pyarrow") is not None
WRITE_DRIVERS = {
    ".gpkg": "GPKG", ".parquet": "GeoParquet", ".geoparquet": "GeoParquet",
    ".gdb": "OpenFileGDB", ".geojson": "GeoJSON", ".json": "GeoJSON",
    ".shp": "ESRI Shapefile", ".fgb": "FlatGeobuf",
}
MULTI_LAYER_DRIVERS = {"GPKG", "OpenFileGDB"}
SHAPEFILE_ENCODING = "GBK"
_SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".fbn",
                    ".fbx", ".ain", ".aih", ".atx", ".ixs", ".mxs"}
_INT32 = np.iinfo(np.int32)
_DBF_MAX_BYTES = 254


def write_layer(gdf, path, /, *, layer=None, driver=None, overwrite=False, rename=None,
                encoding=None) -> Path:
    """Write one GeoDataFrame atomically; return the target path.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Must have a CRS. Text columns stay text (codes such as ``"0101"``).
    path : str or path-like
        ``.gpkg``, ``.parquet``/``.geoparquet``, ``.gdb`` (directory), ``.geojson``/``.json``,
        ``.shp`` or ``.fgb``; the format follows the suffix unless ``driver`` is given.
    layer : str, optional
        Layer name in a GeoPackage or FileGDB (default: the file's stem). The whole
        file is replaced; use :func:`write_layers` for several layers.
    driver : str, optional
        ``"GPKG"``, ``"GeoParquet"``, ``"OpenFileGDB"``, ``"GeoJSON"``,
        ``"ESRI Shapefile"`` or ``"FlatGeobuf"``.
    overwrite : bool
        Replace an existing target; without it an existing target is an error.
    rename : dict, optional
        ``{old: new}`` field names, applied before writing. Shapefile field names must
        be ASCII and at most 10 characters, so Chinese or long names need one.
    encoding : str, optional
        Shapefile text encoding (default ``"GBK"``, written to the ``.cpg``). Other
        formats are UTF-8.

    Raises
    ------
    OutputExistsError, InputError, CRSError, EncodingError, WriteError

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from landcheck import read_layer, write_layer
    >>> from landcheck.testing import SAMPLES
    >>> farmland = read_layer(SAMPLES / "county/yjjbnt.shp", crs="EPSG:4527")
    >>> out = Path(tempfile.mkdtemp()) / "yjjbnt.gpkg"
    >>> write_layer(farmland, out).name
    'yjjbnt.gpkg'
    >>> write_layer(farmland, out)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    landcheck.errors.OutputExistsError: ...
    >>> len(read_layer(out))
    164
    """
    target = Path(os.fspath(path)).expanduser().absolute()
    driver = _driver_for(target, driver)
    frame = _prepare(gdf, target, driver, rename, encoding)
    layer = _layer_name(target, driver, layer)
    _check_target(target, driver, overwrite)
    with _staged(target, driver, overwrite) as staged:
        _write_frame(frame, staged, driver, layer, encoding)
    return target


def write_layers(layers, path, /, *, overwrite=False, finish=None) -> Path:
    """Write several layers into one GeoPackage atomically; return the target path.

    ``layers`` maps layer names to GeoDataFrames (spatial layers, CRS required) or
    plain DataFrames (attribute tables without geometry), written in order.
    ``finish``, if given, is called with the path of the staged GeoPackage once every
    layer is in it and before it is moved into place (e.g. to add tables with
    :mod:`sqlite3`); an exception there leaves the target untouched, like any failure.
    """
    target = Path(os.fspath(path)).expanduser().absolute()
    if _driver_for(target, None) != "GPKG":
        raise InputError(f"{target}: write_layers writes GeoPackages only; use a .gpkg path")
    if finish is not None and not callable(finish):
        raise TypeError(f"finish must be a callable taking the staged path, not "
                        f"{type(finish).__name__}")
    frames = _prepare_many(layers, target)
    _check_target(target, "GPKG", overwrite)
    with _staged(target, "GPKG", overwrite) as staged:
        for name, frame in frames.items():
            _write_frame(frame, staged, "GPKG", name, None)
        if finish is not None:
            finish(staged)
    return target


def _driver_for(target: Path, driver: str | None) -> str:
    known = sorted(set(WRITE_DRIVERS.values()))
    if driver is not None:
        if driver not in known:
            raise InputError(f"{target}: cannot write driver {driver!r}; use one of "
                             f"{', '.join(known)}")
        needed = {"ESRI Shapefile": ".shp", "OpenFileGDB": ".gdb"}.get(driver)
        if needed and target.suffix.lower() != needed:
            raise InputError(f"{target}: a {driver} output must be named *{needed}")
        return driver
    found = WRITE_DRIVERS.get(target.suffix.lower())
    if found is None:
        raise InputError(f"{target}: unknown output format {target.suffix!r}; use one of "
                         f"{', '.join(WRITE_DRIVERS)} (or pass driver=)")
    return found


def _prepare(gdf, target: Path, driver: str, rename, encoding) -> geopandas.GeoDataFrame:
    if not isinstance(gdf, geopandas.GeoDataFrame):
        raise InputError(f"{target}: write_layer needs a GeoDataFrame, got "
                         f"{type(gdf).__name__}; attribute tables go into a GeoPackage with "
                         f"write_layers")
    _require_crs(gdf, target)
    frame = _renamed(gdf, rename, target)
    if driver == "ESRI Shapefile":
        _check_shapefile_names(frame, target)
        _check_encodable(frame, _codec(encoding or SHAPEFILE_ENCODING, target), target)
    elif encoding is not None and encoding.replace("-", "").lower() != "utf8":
        raise InputError(f"{target}: encoding={encoding!r} applies to shapefiles only; "
                         f"{driver} text is UTF-8")
    if driver == "OpenFileGDB":
        frame = dates_as_datetimes(_narrow_integers(frame))
    return frame


def _codec(encoding: str, target: Path) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"{target}: unknown encoding {encoding!r}; shapefiles are written "
                         f"as 'GBK' by default, or e.g. 'UTF-8'") from None
    return encoding


def _require_crs(gdf, target: Path, name: str | None = None) -> None:
    if gdf.crs is None:
        which = f"layer {name!r}" if name else "the frame"
        raise CRSError(f"{target}: {which} has no CRS; set it first with "
                       f"gdf.set_crs(...) (e.g. 'EPSG:4527') so the output says where it is")


def _renamed(gdf, rename, target: Path):
    if not rename:
        return gdf
    unknown = [k for k in rename if k not in gdf.columns]
    if unknown:
        fields = ", ".join(map(str, gdf.columns))
        raise InputError(f"{target}: rename= names field(s) not in the frame: "
                         f"{', '.join(map(repr, unknown))}; fields: {fields}")
    return gdf.rename(columns=dict(rename))


def _check_shapefile_names(frame, target: Path) -> None:
    fields = [str(c) for c in frame.columns if c != frame.geometry.name]
    bad = [c for c in fields if not c.isascii() or len(c) > 10]
    if bad:
        example = ", ".join(f"{c!r}: 'FIELD{i + 1}'" for i, c in enumerate(bad[:3]))
        raise InputError(f"{target}: shapefile field names must be ASCII and at most 10 "
                         f"characters; these are not: {', '.join(map(repr, bad))}. Pass "
                         f"rename={{{example}}} with ASCII names, or write a GeoPackage.")
    seen: dict[str, str] = {}
    for c in fields:
        if c.upper() in seen:
            raise InputError(f"{target}: field names {seen[c.upper()]!r} and {c!r} collide in a "
                             f"shapefile (names are case-insensitive); rename one of them")
        seen[c.upper()] = c


def _check_encodable(frame, encoding: str, target: Path) -> None:
    """Every text value must encode in ``encoding`` and fit a DBF field (254 bytes).

    One C-level encode of all values of a column joined by NUL, not a loop over rows.
    """
    for column in frame.columns:
        series = frame[column]
        if column == frame.geometry.name or not pd.api.types.is_string_dtype(series):
            continue
        present = np.flatnonzero(series.notna().to_numpy())
        values = series.iloc[present]
        if not all(isinstance(v, str) for v in values.head(1)):
            continue
        joined = "\0".join(values.astype(str))
        where = f"{target}: field {column!r}, feature at row"
        try:
            encoded = joined.encode(encoding)
        except UnicodeEncodeError as exc:
            row = int(present[joined.count("\0", 0, exc.start)])
            raise EncodingError(
                f"{where} {row} (0-based): {joined[exc.start:exc.end]!r} cannot be written in "
                f"{encoding}; replace the character, or write a GeoPackage (UTF-8)") from None
        sizes = np.fromiter(map(len, encoded.split(b"\0")), dtype=np.int64, count=len(values))
        if len(sizes) and sizes.max() > _DBF_MAX_BYTES:
            k = int(sizes.argmax())
            raise InputError(f"{where} {int(present[k])} (0-based): the value is {sizes[k]} "
                             f"bytes in {encoding}, a shapefile field holds at most "
                             f"{_DBF_MAX_BYTES}; shorten it or write a GeoPackage")


def _narrow_integers(frame):
    """int64 columns that fit become int32 (a FileGDB without ArcGIS Pro 3.2 types has no int64)."""
    out = frame
    for column in frame.columns:
        series = frame[column]
        if series.dtype in (np.int64, pd.Int64Dtype()) and len(series.dropna()):
            low, high = series.min(), series.max()
            if _INT32.min <= low and high <= _INT32.max:
                out = out.copy() if out is frame else out
                out[column] = series.astype("int32" if series.dtype == np.int64 else "Int32")
    return out


def dates_as_datetimes(frame):
    """Date columns (Python dates, as Arrow reads date32) become datetimes: a FileGDB stores
    dates as DateTime (GDAL would warn), and every write path then stores them alike.
    ``frame`` may be a plain DataFrame."""
    out = frame
    geom = frame.geometry.name if hasattr(frame, "geometry") else None
    for column in frame.columns:
        series = frame[column]
        if series.dtype != object or column == geom:
            continue
        first = series.dropna().head(1).tolist()
        if first and isinstance(first[0], datetime.date) and not isinstance(first[0],
                                                                             datetime.datetime):
            out = out.copy() if out is frame else out
            out[column] = pd.to_datetime(series).astype("datetime64[ms]")
    return out


def _prepare_many(layers, target: Path) -> dict[str, pd.DataFrame]:
    if not isinstance(layers, dict) or not layers:
        raise InputError(f"{target}: write_layers needs a non-empty dict of name → frame")
    seen: dict[str, str] = {}
    for name, frame in layers.items():
        if not isinstance(name, str) or not name:
            raise InputError(f"{target}: layer names must be non-empty strings, got {name!r}")
        if name.lower() in seen:
            raise InputError(f"{target}: layer names {seen[name.lower()]!r} and {name!r} "
                             f"collide (GeoPackage names are case-insensitive)")
        seen[name.lower()] = name
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"{target}: layer {name!r} is a {type(frame).__name__}, "
                             f"not a (Geo)DataFrame")
        if isinstance(frame, geopandas.GeoDataFrame):
            _require_crs(frame, target, name)
    return dict(layers)


def _layer_name(target: Path, driver: str, layer: str | None) -> str | None:
    if driver in MULTI_LAYER_DRIVERS:
        return layer or target.name.split(".")[0]
    if layer is not None:
        raise InputError(f"{target}: layer= applies to GeoPackage and FileGDB outputs only; "
                         f"{driver} holds one layer named after the file")
    return None


def _check_target(target: Path, driver: str, overwrite: bool) -> None:
    if not target.parent.is_dir():
        raise WriteError(f"{target}: directory {str(target.parent)!r} does not exist; create it")
    exists = (bool(_shapefile_parts(target)) if driver == "ESRI Shapefile"
              else target.exists() or target.is_symlink())
    if exists and not overwrite:
        raise OutputExistsError(f"{target} exists; pass overwrite=True (CLI: --overwrite) "
                                f"to replace it")
    want_dir = driver == "OpenFileGDB"
    if target.exists() and target.is_dir() != want_dir:
        kind = "a directory" if target.is_dir() else "a file"
        raise WriteError(f"{target}: exists and is {kind}; {driver} output must be "
                         f"{'a directory' if want_dir else 'a file'}. Remove it or pick "
                         f"another name")


def _shapefile_parts(target: Path) -> list[Path]:
    stem = target.name[: -len(target.suffix)]
    parts = []
    for entry in target.parent.iterdir():
        name = entry.name
        if name == f"{stem}.shp.xml" or (entry.stem == stem and
                                         entry.suffix.lower() in _SHAPEFILE_PARTS):
            parts.append(entry)
    return parts


class _RestoreFailed(Exception):
    """The previous version was moved aside and could not be moved back."""

    def __init__(self, kept: Path, cause: BaseException):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.kept = kept


@contextlib.contextmanager
def _staged(target: Path, driver: str, overwrite: bool = True):
    """Yield a path in a temporary directory next to ``target``; move it into place after.

    Without ``overwrite`` the move fails with :class:`OutputExistsError` when ``target``
    appeared meanwhile."""
    tmpdir = make_staging_dir(target)
    keep_tmpdir = False
    try:
        staged = tmpdir / "new" / target.name
        staged.parent.mkdir()
        yield staged
        keep_tmpdir = defer_publish(staged, target, driver, tmpdir, overwrite)
        if not keep_tmpdir:
            _swap_in(staged, target, driver, tmpdir / "old", overwrite)
    except LandcheckError:
        raise
    except _RestoreFailed as exc:
        keep_tmpdir = True
        shutil.rmtree(tmpdir / "new", ignore_errors=True)
        raise WriteError(f"{target}: could not be written, and the previous version could not "
                         f"be put back ({exc}); it is kept in {exc.kept}: move it back by "
                         f"hand") from exc
    except Exception as exc:
        if disk_full(exc):
            raise disk_full_error(target, exc) from exc
        raise WriteError(f"{target}: could not be written ({type(exc).__name__}: {exc}); "
                         f"the target was left as it was") from exc
    finally:
        if not keep_tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)


def _swap_in(staged: Path, target: Path, driver: str, aside: Path, overwrite: bool) -> None:
    if driver == "ESRI Shapefile":
        fsync_path(staged.parent)
        if not overwrite:
            _claim_shapefile(staged, target)
        else:
            _swap_shapefile(staged, target, aside)
    elif driver == "OpenFileGDB" and overwrite:
        fsync_path(staged)
        _swap_directory(staged, target, aside)
    else:
        publish(staged, target, overwrite=overwrite)


def _swap_directory(staged: Path, target: Path, aside: Path) -> None:
    if not target.exists():
        os.rename(staged, target)
        return
    os.rename(target, aside)
    try:
        os.rename(staged, target)
    except Exception as exc:
        try:
            os.rename(aside, target)
        except Exception:
            raise _RestoreFailed(aside, exc) from exc
        raise


def _swap_shapefile(staged: Path, target: Path, aside: Path) -> None:
    aside.mkdir()
    moved_old, moved_new = [], []
    try:
        for part in _shapefile_parts(target):
            os.replace(part, aside / part.name)
            moved_old.append(part)
        for part in sorted(staged.parent.iterdir()):
            os.replace(part, target.parent / part.name)
            moved_new.append(target.parent / part.name)
    except Exception as exc:
        _restore_shapefile(moved_new, moved_old, aside, exc)
        raise


def _claim_shapefile(staged: Path, target: Path) -> None:
    """Publish the staged parts without replacing anything: the ``.shp`` first, each part
    with :func:`publish` (``os.link``), so a shapefile that appeared meanwhile is kept and
    the parts published so far are removed again."""
    if _shapefile_parts(target):
        raise _exists(target)
    parts = sorted(staged.parent.iterdir(), key=lambda q: (q.suffix.lower() != ".shp", q.name))
    done: list[Path] = []
    try:
        for part in parts:
            dest = target.parent / part.name
            publish(part, dest, overwrite=False)
            done.append(dest)
    except BaseException:
        for dest in done:
            dest.unlink(missing_ok=True)
        raise


def _restore_shapefile(moved_new: list[Path], moved_old: list[Path], aside: Path,
                       cause: Exception) -> None:
    try:
        for part in moved_new:
            part.unlink(missing_ok=True)
        for part in moved_old:
            os.replace(aside / part.name, part)
    except Exception:
        raise _RestoreFailed(aside, cause) from cause


def _write_frame(frame, staged: Path, driver: str, layer: str | None, encoding) -> None:
    if driver == "GeoParquet":
        frame = frame.copy()
        frame.attrs = {}  # provenance objects are not JSON; GeoParquet would store attrs as JSON
        frame.to_parquet(staged)
        return
    options: dict[str, object] = {}
    if driver == "ESRI Shapefile":
        options["encoding"] = encoding or SHAPEFILE_ENCODING
    if driver == "FlatGeobuf":
        options["layer_options"] = {"SPATIAL_INDEX": "NO"}  # keep the row order
    pyogrio.write_dataframe(frame, staged, layer=layer, driver=driver, use_arrow=USE_ARROW,
                            **options)
    if driver == "ESRI Shapefile":
        staged.with_suffix(".cpg").write_text(str(options["encoding"]), encoding="ascii")


# --- output safety: outputs versus inputs, staging names, publishing, disk full -------------

def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _inside(path: Path, folder: Path) -> bool:
    return folder.is_dir() and path.resolve().is_relative_to(folder.resolve())


def refuse_inputs_as_outputs(outputs, inputs) -> None:
    """Fail before any work when an output is an input or two outputs are one file.

    ``outputs`` maps an option name (``"-o"``, ``"--xlsx"``) to a path, ``inputs`` a
    description (``"the patch file"``, ``"layer farmland"``) to a path; ``None`` paths are
    skipped. Paths compare resolved (:func:`os.path.samefile` where both exist); an
    output inside an input directory (a FileGDB) counts as that input.

    Raises
    ------
    InputError
        naming both paths and the option.

    Examples
    --------
    >>> refuse_inputs_as_outputs({"-o": "a.gpkg", "--xlsx": "a.gpkg"}, {})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    landcheck.errors.InputError: -o and --xlsx are the same file (a.gpkg); give each ...
    """
    outs = [(opt, Path(os.fspath(p)).expanduser().absolute())
            for opt, p in outputs.items() if p is not None]
    for i, (opt, out) in enumerate(outs):
        for opt2, out2 in outs[i + 1:]:
            if _same_file(out, out2):
                raise InputError(f"{opt} and {opt2} are the same file ({os.fspath(outputs[opt])});"
                                 f" give each one its own path")
        for what, src in inputs.items():
            if src is None:
                continue
            src = Path(os.fspath(src)).expanduser().absolute()
            if _same_file(out, src) or _inside(out, src):
                raise InputError(f"{opt} {out} is {what} ({src}), an input of this run; "
                                 f"write the output to another path")


def run_inputs(patch_spec, layerset) -> dict[str, Path]:
    """The input files of a run, for :func:`refuse_inputs_as_outputs`: the patch file
    (``patch_spec.path``, if any) and each reference layer's file (``layerset.roles``)."""
    inputs: dict[str, Path] = {}
    if patch_spec is not None and getattr(patch_spec, "path", None) is not None:
        inputs["the patch file"] = patch_spec.path
    for role in getattr(layerset, "roles", ()):
        path = getattr(layerset.spec(role), "path", None)
        if path is not None:
            inputs[f"the file of layer {role!r}"] = path
    return inputs


def _staging_prefix(target: Path) -> str:
    """Hidden staging names beside ``target``: ``.<name>.<pid>.<random>.tmp``."""
    return f".{target.name}.{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_staging(target: Path) -> list[Path]:
    """Remove staging files/folders of ``target`` left by a run whose process is gone.

    Staging names are ``.<target name>.<pid>.<random>.tmp``; one whose pid is not a live
    process (or is this process's but not in use: never, a live run keeps its own) is
    removed with an INFO log line. Returns the removed paths.
    """
    removed = []
    head = f".{target.name}."
    if not target.parent.is_dir():
        return removed
    for entry in target.parent.iterdir():
        name = entry.name
        if not (name.startswith(head) and name.endswith(".tmp")):
            continue
        pid = name[len(head):].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        _log.info("removed %s, staging left by an interrupted run (process %s) writing %s",
                  entry, pid, target)
        removed.append(entry)
    return removed


def make_staging_dir(target: Path) -> Path:
    """A fresh hidden staging folder beside ``target``, after removing stale ones."""
    remove_stale_staging(target)
    return Path(tempfile.mkdtemp(prefix=_staging_prefix(target), suffix=".tmp",
                                 dir=target.parent))


def fsync_path(path: Path) -> None:
    """Flush a file (or every file of a folder, and the folder) to disk."""
    if path.is_dir():
        for entry in path.rglob("*"):
            if entry.is_file():
                fsync_path(entry)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories
    finally:
        os.close(fd)


def publish(staged: Path, target: Path, *, overwrite: bool) -> None:
    """Move ``staged`` to ``target``: flushed first, then ``os.replace`` with ``overwrite``,
    else a primitive that fails when ``target`` exists (``os.link`` for files, ``os.mkdir``
    of the target followed by ``os.rename`` into it for folders), so a run that lost a race
    gets :class:`OutputExistsError` and the winner's file stays."""
    fsync_path(staged)
    if overwrite:
        os.replace(staged, target)
    elif staged.is_dir():
        try:
            os.mkdir(target)  # fails if anything is there; rename onto an empty folder works
        except FileExistsError:
            raise _exists(target) from None
        try:
            os.rename(staged, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.rmdir(target)
            raise
    else:
        try:
            os.link(staged, target)
        except FileExistsError:
            raise _exists(target) from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EMLINK):
                raise
            # no hard links here: claim the name exclusively, then replace the placeholder
            try:
                os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                raise _exists(target) from None
            os.replace(staged, target)
        else:
            staged.unlink()
    fsync_path(target.parent)


def _exists(target: Path) -> OutputExistsError:
    return OutputExistsError(f"{target} appeared while this run was writing it (another run?); "
                             f"it was left as it is. Pass overwrite=True (CLI: --overwrite) "
                             f"to replace it")


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it wraps) says the disk is full."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "disk is full" in str(exc) or "No space left" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def disk_full_error(target: Path, exc: BaseException) -> WriteError:
    """A :class:`WriteError` for a full disk, naming ``target`` and the free space."""
    try:
        free = shutil.disk_usage(target.parent).free
        room = f"{free / 2**20:.1f} MiB free"
    except OSError:
        room = "free space unknown"
    return WriteError(f"{target}: the disk is full ({room} in {target.parent}); free some "
                      f"space or write to another disk. The target was left as it was")


# --- output sets: several outputs of one run published together -----------------------------

_PENDING: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "landcheck_output_set", default=None)


@dataclasses.dataclass
class _Pending:
    staged: Path
    target: Path
    driver: str
    tmpdir: Path
    overwrite: bool


def defer_publish(staged: Path, target: Path, driver: str, tmpdir: Path,
                  overwrite: bool) -> bool:
    """Inside :func:`output_set`, register a staged output for publication when the set
    ends and return ``True`` (the caller keeps ``tmpdir``); elsewhere return ``False``."""
    pending = _PENDING.get()
    if pending is None:
        return False
    if any(_same_file(p.target, target) for p in pending):
        raise InputError(f"{target} is written twice in one output set; give each output "
                         "its own path")
    pending.append(_Pending(staged, target, driver, tmpdir, overwrite))
    return True


@contextlib.contextmanager
def output_set():
    """Publish the outputs written inside the block together, when it ends without error.

    Every atomic write inside (:func:`write_layer`, :func:`write_layers`,
    :func:`~landcheck.io.atomic.atomic_file`, the streamed GeoPackage) is staged as usual
    but not moved into place; when the block ends, all of them are published one after the
    other, and when one fails the ones already published are taken back and the previous
    versions restored, so the targets hold either all new outputs or all previous ones. An
    error or interrupt inside the block publishes nothing and removes the staging.

    Each rename is atomic, the set of renames is not: a process killed between two of
    them leaves some new outputs beside previous ones. Outputs that belong together carry
    one run id (``provenance["run_id"]``) so such a mix is visible.
    """
    if _PENDING.get() is not None:
        yield  # nested: the outer set publishes
        return
    pending: list[_Pending] = []
    token = _PENDING.set(pending)
    try:
        yield
    except BaseException:
        for p in pending:
            shutil.rmtree(p.tmpdir, ignore_errors=True)
        raise
    finally:
        _PENDING.reset(token)
    _publish_all(pending)


def _publish_all(pending: list[_Pending]) -> None:
    done: list[tuple[_Pending, Path | None]] = []
    keep: set[Path] = set()
    current = None
    try:
        for p in pending:
            current = p
            if p.overwrite and _needs_backup(p):
                backup = p.tmpdir / "backup" / p.target.name
                backup.parent.mkdir()
                _hard_copy(p.target, backup)
            else:
                backup = None
            _swap_in(p.staged, p.target, p.driver, p.tmpdir / "old", p.overwrite)
            done.append((p, backup))
    except BaseException as exc:
        for p, backup in reversed(done):
            try:
                _take_back(p, backup)
            except Exception:
                keep.add(p.tmpdir)
                _log.error("%s: the previous version could not be put back; it is kept in %s",
                           p.target, p.tmpdir)
        if isinstance(exc, LandcheckError) or not isinstance(exc, Exception):
            raise
        target = current.target if current is not None else Path(".")
        if isinstance(exc, _RestoreFailed):
            keep.add(exc.kept.parent)
            raise WriteError(f"{target}: could not be written, and the previous version could "
                             f"not be put back ({exc}); it is kept in {exc.kept}") from exc
        if disk_full(exc):
            raise disk_full_error(target, exc) from exc
        raise WriteError(f"{target}: could not be written ({type(exc).__name__}: {exc}); "
                         "no output of this run was published, the previous ones are as "
                         "they were") from exc
    finally:
        for p in pending:
            if p.tmpdir not in keep:
                shutil.rmtree(p.tmpdir, ignore_errors=True)


def _needs_backup(p: _Pending) -> bool:
    """Single files replaced in place need a copy to take back; shapefiles and folders are
    moved aside by :func:`_swap_in` itself."""
    return p.driver != "ESRI Shapefile" and p.target.is_file()


def _hard_copy(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def _take_back(p: _Pending, backup: Path | None) -> None:
    """Undo one publication of :func:`_publish_all`: the previous version back, or no
    file where there was none."""
    aside = p.tmpdir / "old"
    if p.driver == "ESRI Shapefile":
        for part in _shapefile_parts(p.target):
            part.unlink()
        if aside.is_dir():
            for part in aside.iterdir():
                os.replace(part, p.target.parent / part.name)
    elif p.target.is_dir():
        shutil.rmtree(p.target)
        if aside.exists():
            os.rename(aside, p.target)
    elif backup is not None:
        os.replace(backup, p.target)
    else:
        p.target.unlink(missing_ok=True)
    fsync_path(p.target.parent)
