"""Provenance records: where every layer came from and how it was interpreted.

:func:`landcheck.read_layer` attaches a :class:`SourceInfo` to the frame it
returns (``gdf.attrs["landcheck_source"]``); :func:`source_info` reads it back.
Results of later stages carry the ``SourceInfo`` of every input they used.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ATTRS_KEY = "landcheck_source"

__all__ = ["ATTRS_KEY", "SourceInfo", "file_sha256", "source_info"]


@dataclass(frozen=True)
class SourceInfo:
    """How one layer was read.

    Attributes
    ----------
    path : str
        The path as given (absolute).
    layer : str or None
        Layer name inside a multi-layer source (GeoPackage, FileGDB, KML ...).
    driver : str
        OGR driver name, or ``"GeoParquet"``.
    sha256 : str
        Hex digest of the file's bytes (for a directory such as ``.gdb``: of its
        files in name order, names included; for a shapefile: of all its parts,
        ``.shp .shx .dbf .prj .cpg``, names included).
    encoding : str or None
        Text encoding used to decode attributes (``None`` when the format fixes it).
    encoding_how : str
        ``"argument"``, ``"cpg"``, ``"sniffed"``, ``"format"`` (UTF-8 by spec).
    crs : str
        The CRS decided for the layer, as ``AUTHORITY:CODE`` when it has one, else WKT.
    crs_how : str
        ``"file"``, ``"argument"`` or ``"detected"``.
    crs_detail : str
        One sentence saying why, e.g. ``"zone-prefixed eastings 39xxxxxx → CGCS2000
        3-degree GK zone 39 (EPSG:4527)"``.
    n_features : int
        Features read.
    notes : tuple of str
        Everything that was changed or noticed on the way (repairs, dropped Z/M, ...),
        each with counts and ids.
    """

    path: str
    layer: str | None
    driver: str
    sha256: str
    encoding: str | None
    encoding_how: str
    crs: str
    crs_how: str
    crs_detail: str
    n_features: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d


def source_info(gdf) -> SourceInfo | None:
    """Return the :class:`SourceInfo` attached by ``read_layer``, or ``None``."""
    return gdf.attrs.get(ATTRS_KEY)


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file, or of a directory's files (sorted, relative names included)."""
    p = Path(path)
    h = hashlib.sha256()
    if p.is_dir():
        for child in sorted(q for q in p.rglob("*") if q.is_file()):
            h.update(str(child.relative_to(p)).encode())
            h.update(b"\0")
            _feed(h, child)
    else:
        _feed(h, p)
    return h.hexdigest()


def _feed(h, path: Path) -> None:
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
