"""Which format a path is, where GDAL should open it, and which layers it holds.

Formats are recognised by name, never by sniffing contents:

=====================  ==========  ==========================================
name                   kind        opened with
=====================  ==========  ==========================================
``*.shp``              shp         ESRI Shapefile (needs ``.shx`` and ``.dbf``)
``*.gpkg``             gpkg        GPKG
``*.gdb`` (directory)  gdb         OpenFileGDB
``*.gdb.zip``/``.zip`` gdbzip      OpenFileGDB on ``/vsizip/<zip>/<inner .gdb>``
``*.geojson/.json``    geojson     GeoJSON
``*.parquet/.geoparquet`` parquet  :func:`geopandas.read_parquet`
``*.kml`` / ``*.kmz``  kml / kmz   LIBKML (or KML)
``*.dxf``              dxf         DXF
``*.fgb``              fgb         FlatGeobuf
=====================  ==========  ==========================================

Zip-based sources (``.gdb.zip``/``.zip`` and ``.kmz``) are checked before GDAL opens them:
the members' declared uncompressed sizes must add up to at most
:data:`MAX_EXPANDED_BYTES` (4 GiB), and no member over :data:`RATIO_MIN_BYTES` (64 MiB)
may expand more than :data:`MAX_RATIO` (100) times its compressed size; otherwise
:class:`~landcheck.errors.LayerReadError` says so (a zip bomb would be read whole into
memory). Unzip such an archive yourself and pass the folder (``.gdb``) or file.
"""

from __future__ import annotations

import difflib
import errno
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pyogrio

from landcheck.errors import LayerReadError

__all__ = ["MAX_EXPANDED_BYTES", "MAX_RATIO", "RATIO_MIN_BYTES", "READ_SUFFIXES", "Source",
           "check_zip_expansion", "dxf_encoding", "list_source_layers", "open_source",
           "resolve_layer"]

READ_SUFFIXES = {
    ".shp": "shp", ".gpkg": "gpkg", ".gdb": "gdb", ".geojson": "geojson", ".json": "geojson",
    ".parquet": "parquet", ".geoparquet": "parquet", ".kml": "kml", ".kmz": "kmz",
    ".dxf": "dxf", ".fgb": "fgb", ".zip": "gdbzip",
}
MULTI_LAYER = {"gpkg", "gdb", "gdbzip", "kml", "kmz"}
_CJK_CODEPAGES = {"CP936", "CP950", "CP932", "CP949", "UTF-8"}
ZIP_KINDS = {"gdbzip", "kmz"}
#: Largest total of a zip's declared uncompressed member sizes that is read (bytes).
MAX_EXPANDED_BYTES = 4 * 1024**3
#: Largest uncompressed/compressed size ratio of a member bigger than RATIO_MIN_BYTES.
MAX_RATIO = 100
#: Members up to this uncompressed size are not checked for their ratio (bytes).
RATIO_MIN_BYTES = 64 * 1024**2


@dataclass(frozen=True)
class Source:
    """A readable source: the file or directory, its kind, and the path GDAL opens."""

    path: Path
    given: str
    kind: str
    gdal_path: str

    @property
    def multi_layer(self) -> bool:
        return self.kind in MULTI_LAYER

    def where(self, layer: str | None = None) -> str:
        """How messages name the source: the path as given, plus the layer if any."""
        return self.given + (f" layer {layer!r}" if layer and self.multi_layer else "")


def open_source(path) -> Source:
    """Check that ``path`` exists and is a format landcheck reads; raise LayerReadError if not.

    A broken symbolic link or a loop of them, and a zip-based source that expands beyond
    the limits of :func:`check_zip_expansion`, raise LayerReadError naming the path.
    """
    given = os.fspath(path)
    p = Path(given).expanduser().absolute()
    if not p.exists():
        _check_link(p, given)
        raise LayerReadError(f"{given}: file not found{_suggest_siblings(p)}")
    kind = _kind_of(p, given)
    if kind == "shp":
        _check_shapefile_parts(p, given)
    if kind in ZIP_KINDS:
        check_zip_expansion(p, given)
    gdal_path = _gdb_in_zip(p, given) if kind == "gdbzip" else str(p)
    return Source(p, given, kind, gdal_path)


def _check_link(p: Path, given: str) -> None:
    """Raise LayerReadError when ``p`` is a symbolic link that leads nowhere or in a loop."""
    if not p.is_symlink():
        return
    try:
        os.stat(p)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LayerReadError(f"{given}: is a loop of symbolic links ({exc.strerror}); "
                                 f"point the link at the real file") from None
    raise LayerReadError(f"{given}: is a symbolic link to {os.readlink(p)!r}, which does not "
                         f"exist; point the link at the real file")


def check_zip_expansion(p: Path, given: str | None = None) -> None:
    """Raise LayerReadError when a zip would expand beyond the reading limits.

    The limits are :data:`MAX_EXPANDED_BYTES` for the sum of the members' declared
    uncompressed sizes, and :data:`MAX_RATIO` for the expansion of any member bigger
    than :data:`RATIO_MIN_BYTES` (read at call time, so they can be changed). Only the
    zip's central directory is read; GDAL reads the members afterwards.
    """
    given = os.fspath(p) if given is None else given
    try:
        with zipfile.ZipFile(p) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise LayerReadError(f"{given}: not a readable zip file ({exc})") from None
    total = sum(i.file_size for i in infos)
    size = {i.filename: i.file_size for i in infos}
    ratio = {i.filename: i.file_size / max(i.compress_size, 1) for i in infos
             if i.file_size > RATIO_MIN_BYTES}
    worst = max(ratio, key=ratio.get, default=None)
    if total > MAX_EXPANDED_BYTES:
        why = (f"expands to {_size(total)} when unzipped, over the limit of "
               f"{_size(MAX_EXPANDED_BYTES)} (landcheck.io.formats.MAX_EXPANDED_BYTES)")
    elif worst is not None and ratio[worst] > MAX_RATIO:
        why = (f"member {worst!r} expands {ratio[worst]:.0f} times, to "
               f"{_size(size[worst])}, over the limit of {MAX_RATIO} times for "
               f"members over {_size(RATIO_MIN_BYTES)} (landcheck.io.formats.MAX_RATIO); the "
               f"zip expands to {_size(total)} in all")
    else:
        return
    raise LayerReadError(f"{given}: {why}; GDAL would hold it in memory while reading. Unzip "
                         f"it yourself and pass the folder (.gdb) or the file (.kml) inside")


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _kind_of(p: Path, given: str) -> str:
    if p.is_dir():
        if p.suffix.lower() == ".gdb" or any(p.glob("*.gdbtable")):
            return "gdb"
        readable = sorted(q.name for q in p.iterdir() if q.suffix.lower() in READ_SUFFIXES)
        hint = f"; readable files there: {', '.join(readable[:20])}" if readable else ""
        raise LayerReadError(f"{given}: is a directory, not a FileGDB (.gdb); give the path of "
                             f"a file inside it{hint}")
    suffix = p.suffix.lower()
    if suffix not in READ_SUFFIXES or suffix == ".gdb":
        known = ", ".join(s for s in READ_SUFFIXES if s != ".zip") + ", .gdb.zip"
        raise LayerReadError(f"{given}: unknown format {p.suffix!r}; landcheck reads {known}")
    return READ_SUFFIXES[suffix]


def _suggest_siblings(p: Path) -> str:
    parent = p.parent
    if not parent.is_dir():
        return f" (directory {str(parent)!r} does not exist either)"
    names = sorted(os.listdir(parent))
    same_stem = [n for n in names if Path(n).stem.lower() == p.stem.lower()]
    close = difflib.get_close_matches(p.name, names, n=5, cutoff=0.6)
    found = list(dict.fromkeys(same_stem + close))
    if not found:
        return f"; {str(parent)!r} holds {len(names)} entries, none with a similar name"
    return f"; did you mean: {', '.join(found)}?"


def _sidecar(p: Path, ext: str) -> Path | None:
    for candidate in (p.with_suffix(ext), p.with_suffix(ext.upper())):
        if candidate.exists():
            return candidate
    return None


def _check_shapefile_parts(p: Path, given: str) -> None:
    missing = [ext for ext in (".shx", ".dbf") if _sidecar(p, ext) is None]
    if not missing:
        return
    names = " and ".join(p.with_suffix(ext).name for ext in missing)
    raise LayerReadError(
        f"{given}: {names} missing; a shapefile is a .shp, .shx and .dbf with the same name "
        f"side by side. Copy the missing file(s) next to {p.name} (a lost .shx can be rebuilt "
        f"with: ogrinfo --config SHAPE_RESTORE_SHX YES {p.name}).")


def _gdb_in_zip(p: Path, given: str) -> str:
    """``/vsizip/`` path of the single FileGDB inside a zip (at its root or in a folder)."""
    try:
        with zipfile.ZipFile(p) as z:
            members = z.namelist()
    except zipfile.BadZipFile as exc:
        raise LayerReadError(f"{given}: not a readable zip file ({exc})") from None
    dirs = sorted({str(PurePosixPath(m).parent) for m in members if m.endswith(".gdbtable")})
    if not dirs:
        raise LayerReadError(f"{given}: no FileGDB (.gdbtable files) inside the zip; landcheck "
                             f"reads zipped FileGDBs only; unzip other formats first")
    if len(dirs) > 1:
        raise LayerReadError(f"{given}: holds {len(dirs)} FileGDBs ({', '.join(dirs)}); "
                             f"unzip it and read one of them")
    inner = "" if dirs[0] == "." else f"/{dirs[0]}"
    return f"/vsizip/{p.as_posix()}{inner}"


def list_source_layers(source: Source) -> list[tuple[str, str | None]]:
    """(name, geometry type or None for attribute tables) of each layer in ``source``."""
    if source.kind == "parquet":
        return [(source.path.stem, _parquet_geometry_type(source))]
    try:
        raw = pyogrio.list_layers(source.gdal_path)
    except Exception as exc:  # pyogrio raises DataSourceError and plain OSErrors
        raise LayerReadError(_unopenable(source, exc)) from None
    return [(str(name), None if gtype is None else str(gtype)) for name, gtype in raw]


def _unopenable(source: Source, exc: Exception) -> str:
    """Why ``source`` cannot be opened, in terms of the file: an empty file says so; GDAL's
    own advice (a driver prefix) is left out, landcheck chooses the driver by suffix."""
    path = source.path
    if path.is_file() and path.stat().st_size == 0:
        return (f"{source.given}: the file is empty (0 bytes), not a {source.kind}; it was "
                f"probably cut off while copying or exporting: copy or export it again")
    detail = str(exc).split("; It might help to specify the correct driver", 1)[0].strip()
    return (f"{source.given}: cannot be opened as {source.kind} ({detail}); check that the "
            f"file is complete and of the format its suffix says")


def _parquet_geometry_type(source: Source) -> str | None:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(source.path).metadata or {}
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSErrors
        raise LayerReadError(f"{source.given}: not a readable Parquet file ({exc})") from None
    if b"geo" not in meta:
        raise LayerReadError(f"{source.given}: a Parquet file without GeoParquet metadata; "
                             f"write it with GeoDataFrame.to_parquet or give the geometry")
    geo = json.loads(meta[b"geo"])
    column = geo.get("columns", {}).get(geo.get("primary_column", "geometry"), {})
    types = column.get("geometry_types") or []
    return types[0] if len(types) == 1 else ("Unknown" if not types else "/".join(types))


def resolve_layer(source: Source, layer: str | None,
                  layers: list[tuple[str, str | None]]) -> str | None:
    """The layer to read: ``layer`` checked against what exists, or the only spatial one."""
    names = [name for name, _ in layers]
    if layer is not None:
        if layer in names:
            return layer
        raise LayerReadError(f"{source.given}: no layer {layer!r}{_close(layer, names)}; "
                             f"layers there: {_describe(layers)}")
    spatial = [name for name, gtype in layers if gtype is not None]
    candidates = spatial or names
    if not candidates:
        raise LayerReadError(f"{source.given}: holds no layers")
    if len(candidates) > 1:
        raise LayerReadError(f"{source.given}: holds {len(candidates)} layers; pass layer= "
                             f"with one of: {_describe(layers)}")
    return candidates[0]


def _close(name: str, names: list[str]) -> str:
    lowered = {n.lower(): n for n in names}
    found = [lowered[name.lower()]] if name.lower() in lowered else []
    found += difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    found = list(dict.fromkeys(found))
    return f" (did you mean {', '.join(repr(n) for n in found)}?)" if found else ""


def _describe(layers: list[tuple[str, str | None]]) -> str:
    return ", ".join(f"{name!r} ({gtype or 'table, no geometry'})" for name, gtype in layers)


def dxf_encoding(path: Path) -> tuple[str, str, str | None]:
    """(encoding, note, warning or None) of a DXF, as GDAL's DXF driver decides it.

    UTF-8 from AutoCAD 2007 (AC1021) on, else the header's ``$DWGCODEPAGE``
    (ANSI_1252 when absent). When that code page is not a CJK one but the text
    bytes are strictly valid GB18030 or UTF-8 (a drawing saved by software with
    another locale), the warning says so and suggests ``encoding=``.
    """
    version, codepage = _dxf_header_values(path, ("$ACADVER", "$DWGCODEPAGE"))
    if version and version.upper() >= "AC1021":
        return "UTF-8", f"DXF {version}: text is UTF-8", None
    if not codepage:
        encoding, note = "CP1252", "DXF header has no $DWGCODEPAGE; GDAL assumes ANSI_1252"
    else:
        number = codepage.upper().removeprefix("ANSI_").removeprefix("DOS")
        encoding = f"CP{number}" if number.isdigit() else codepage
        note = f"DXF header $DWGCODEPAGE={codepage}; GDAL decoded it as {encoding}"
    return encoding, note, _dxf_mismatch(path, encoding)


def _dxf_mismatch(path: Path, encoding: str) -> str | None:
    if encoding.upper() in _CJK_CODEPAGES:
        return None
    with open(path, "rb") as f:
        text = b"\n".join(re.findall(rb"[^\x00-\x7f]+", f.read(16 * 1024 * 1024)))
    if not text:
        return None
    for candidate in ("UTF-8", "GB18030"):
        try:
            text.decode(candidate)
        except UnicodeDecodeError:
            continue
        return (f"the header says code page {encoding}, but the text bytes are valid "
                f"{candidate}; if names look garbled, pass encoding='{candidate}'")
    return None


def _dxf_header_values(path: Path, keys: tuple[str, ...]) -> list[str | None]:
    """Values of header variables, read from the first 256 KiB (the HEADER section)."""
    with open(path, "rb") as f:
        lines = f.read(256 * 1024).decode("latin-1").splitlines()
    lines = [line.strip() for line in lines]
    found: dict[str, str] = {}
    for i, line in enumerate(lines[:-2]):
        if line in keys and line not in found:
            found[line] = lines[i + 2]
        if line == "ENTITIES":
            break
    return [found.get(key) for key in keys]
