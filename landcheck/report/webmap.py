"""An offline interactive map of a screening GeoPackage: one self-contained HTML file.

:func:`write_map` draws the ``verdicts`` layer of a GeoPackage written by
``landcheck screen`` (:meth:`landcheck.ScreenResult.to_gpkg`) with Leaflet, coloured by
official class as the GeoPackage's QGIS style colours it (:mod:`landcheck.report.styles`),
with a legend in Chinese with codes, a popup per patch, a scale bar, and toggleable
overlays: the child plots of the ``fragments`` layer and, when a layer config is given, its
permanent farmland, ecological red line, town development boundary and approvals, clipped to
the patches' extent.

The file loads nothing: Leaflet (``landcheck/data/vendor/leaflet``, BSD-2-Clause, its licence
in an HTML comment) and the data are inlined, a Content-Security-Policy forbids every fetch,
and there is no base map. The only links are the relative ones to the verification cards
(``cards_dir``).

Notes
-----
Coordinates are reprojected to EPSG:4326; geographic CGCS2000 coordinates are drawn as
WGS 84, from which they differ by decimetres at most, and the footer says so. They are
rounded to 6 decimals (integer micro-degrees, about 0.1 m) and stored as x/y deltas from
the previous point, rings without their closing point; per-feature values are stored as
columns, repeated text (verdict, class, township, each reason) once in a dictionary with
integer indices per feature. Popups are built in the browser when a patch is clicked.
Patches are drawn unsimplified; reference layers are simplified to 0.5 m
(:data:`SIMPLIFY_M`). Drawing uses one canvas per layer (``preferCanvas``).

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> import geopandas as gpd
>>> from landcheck.io import write_layers
>>> from landcheck.testing import layer, rect
>>> d = Path(tempfile.mkdtemp())
>>> v = layer(["A1", "A2"], [rect(0, 0, 20, 20), rect(30, 0, 50, 20)],
...           verdict=["illegal", "legal"], verdict_zh=["违法", "合法"], area_m2=[400.0, 400.0])
>>> _ = write_layers({"verdicts": v}, d / "r.gpkg")
>>> m = write_map(d / "r.gpkg", d / "r.html")
>>> m.patches, m.drawn, m.path.name
(2, 2, 'r.html')
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import html
import json
import os
import re
import sqlite3
import urllib.parse
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

from landcheck._version import __version__
from landcheck.errors import InputError
from landcheck.report.styles import (
    CATEGORIES,
    FALLBACK,
    FILL_ALPHA,
    Category,
    layer_categories,
)

__all__ = ["REFERENCE_ROLES", "SIMPLIFY_M", "MapSummary", "write_map"]

#: The layer-config roles drawn as reference overlays, in drawing order (lowest first), with
#: their outline and fill colours and fill opacity. No QGIS style of landcheck covers them;
#: the colours follow the usual 三区三线 map colours (farmland yellow, red line green, town
#: boundary purple) and approvals blue.
REFERENCE_ROLES: dict[str, dict] = {
    "town_boundary": {"outline": "#7b3294", "fill": "#c2a5cf", "fill_opacity": 0.15,
                      "dash": "6 4"},
    "permanent_farmland": {"outline": "#b8a000", "fill": "#fff176", "fill_opacity": 0.35},
    "eco_redline": {"outline": "#1b7837", "fill": "#a6dba0", "fill_opacity": 0.3},
    "approvals": {"outline": "#2166ac", "fill": "#92c5de", "fill_opacity": 0.2},
}

#: Simplification tolerance of the reference layers, metres (in the patches' CRS).
SIMPLIFY_M = 0.5
#: Margin around the patches' bounding box within which reference layers are kept: this
#: share of the box's longer side, at least :data:`MIN_MARGIN_M` metres.
MARGIN_SHARE, MIN_MARGIN_M = 0.05, 200.0

_PATCH_FIELDS = ("id", "verdict_zh", "official_class", "official_class_code",
                 "official_subclass", "township", "township_name", "area_m2", "due_date")
_FRAGMENT_FIELDS = (("child_id", "子地块 plot"), ("parent_id", "所属图斑 patch"),
                    ("verdict_zh", "核查结论 verdict"), ("official_class", "官方类别 class"),
                    ("area_m2", "面积 area"))
_REFERENCE_FIELDS = (("id", "编号 id"), ("name", "名称 name"), ("kind", "类型 kind"),
                     ("date", "日期 date"))
_DICT_FIELDS = {"verdict_zh", "official_class", "official_class_code", "official_subclass",
                "township", "township_name", "due_date", "parent_id", "kind", "date"}
_REASON_SEP = "；"


@dataclasses.dataclass(frozen=True)
class MapSummary:
    """What :func:`write_map` wrote: the file, its size in bytes, the number of patches
    (rows of ``verdicts``) and of those drawn (non-empty geometry), the features of each
    overlay by name."""

    path: Path
    bytes: int
    patches: int
    drawn: int
    overlays: dict[str, int]


def write_map(gpkg_path, html_path, *, overwrite: bool = False, layers=None,
              cards_dir=None) -> MapSummary:
    """Write an offline interactive map of a screening GeoPackage to ``html_path``.

    Parameters
    ----------
    gpkg_path
        A GeoPackage written by ``landcheck screen``: layer ``verdicts`` (required),
        ``fragments`` and ``metadata`` (used where present).
    html_path
        The HTML file to write, atomically (:func:`landcheck.io.atomic.atomic_file`).
    overwrite
        Replace an existing ``html_path``; without it an existing file is refused.
    layers
        A :class:`~landcheck.LayerSet` or the path of its TOML config: its layers of
        :data:`REFERENCE_ROLES` are drawn as overlays, clipped to the patches' bounding box
        plus a margin and simplified to :data:`SIMPLIFY_M`.
    cards_dir
        Folder of the verification cards: each popup links to ``<cards_dir>/<id>.pdf``,
        relative to ``html_path``'s folder (the card need not exist yet).

    Raises
    ------
    InputError
        ``gpkg_path`` is missing, has no ``verdicts`` layer or no CRS, or ``html_path`` is
        the GeoPackage or a file of a reference layer.
    OutputExistsError
        ``html_path`` exists and ``overwrite`` is false.
    WriteError
        The file could not be written; nothing was changed.
    """
    from landcheck.io.atomic import atomic_file

    gpkg, target, layerset = _check_options(gpkg_path, html_path, overwrite, layers)
    patches = _read(gpkg, "verdicts", [*_PATCH_FIELDS, "reasons_zh"])
    if patches.crs is None:
        raise InputError(f"{gpkg}: layer 'verdicts' has no CRS; write it with landcheck screen")
    categories, column = _categories(gpkg, "verdicts", patches)
    cats = _category_index(patches, categories, column)
    map_layers = [_patch_layer(patches, categories, cats)]
    overlays = {}
    if "fragments" in _layer_names(gpkg):
        fragments = _read(gpkg, "fragments", [f for f, _ in _FRAGMENT_FIELDS])
        fcats, fcolumn = _categories(gpkg, "fragments", fragments)
        map_layers.append(_fragment_layer(fragments, fcats, fcolumn))
    if layerset is not None:
        map_layers += _reference_layers(layerset, patches)
    for layer in map_layers[1:]:
        overlays[layer["name"]] = layer["geom"]["n"]
    data = {
        "layers": map_layers,
        "legend": _legend(categories, column, cats),
        "bounds": _bounds(patches),
        "cards": _cards_prefix(cards_dir, target),
    }
    text = _page(data, gpkg, patches.crs, _metadata(gpkg))
    with atomic_file(target, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    drawn = int((~(patches.geometry.isna() | patches.geometry.is_empty)).sum())
    return MapSummary(target, target.stat().st_size, len(patches), drawn, overlays)


def _check_options(gpkg_path, html_path, overwrite, layers):
    from landcheck.errors import OutputExistsError
    from landcheck.io.write import refuse_inputs_as_outputs, run_inputs
    from landcheck.layers import LayerSet

    gpkg = Path(os.fspath(gpkg_path)).expanduser().absolute()
    target = Path(os.fspath(html_path)).expanduser().absolute()
    if not gpkg.is_file():
        raise InputError(f"{gpkg}: no such GeoPackage; write one with `landcheck screen -o`")
    layerset = layers
    if layers is not None and not isinstance(layers, LayerSet):
        layerset = LayerSet.from_config(layers)
    inputs = {"the GeoPackage": gpkg, **run_inputs(None, layerset)}
    refuse_inputs_as_outputs({"html_path": target}, inputs)
    if target.exists() and not overwrite:
        raise OutputExistsError(f"{target} exists; pass overwrite=True (CLI: --overwrite) "
                                "to replace it")
    return gpkg, target, layerset


def _layer_names(gpkg: Path) -> list[str]:
    try:
        return [str(name) for name, _ in pyogrio.list_layers(gpkg)]
    except pyogrio.errors.DataSourceError as exc:
        why = str(exc).replace(str(gpkg), "").strip("' ").split("; It might help")[0].rstrip(".")
        raise InputError(f"{gpkg}: not a readable GeoPackage ({why}); give the GeoPackage "
                         "written by landcheck screen") from None


def _read(gpkg: Path, layer: str, fields):
    names = _layer_names(gpkg)
    if layer not in names:
        raise InputError(f"{gpkg}: no layer {layer!r} (layers: {', '.join(names) or 'none'}); "
                         "give a GeoPackage written by landcheck screen")
    have = set(pyogrio.read_info(gpkg, layer=layer)["fields"])
    wanted = [f for f in dict.fromkeys([*fields, *CATEGORIES, "verdict"]) if f in have]
    return pyogrio.read_dataframe(gpkg, layer=layer, columns=wanted)


def _categories(gpkg: Path, table: str, frame) -> tuple[tuple[Category, ...], str | None]:
    """The legend of ``table`` as its QGIS style has it: categories of ``official_class``
    where the layer has that column, else of ``verdict``."""
    column = next((c for c in CATEGORIES if c in frame.columns), None)
    if column is None:
        return (), None
    uri = f"{gpkg.as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as con:
        return layer_categories(con, table, column), column


def _category_index(frame, categories, column) -> np.ndarray:
    """Per feature, its category's position in ``categories``; ``len(categories)`` (the
    fallback symbol) for any other value."""
    if column is None:
        return np.zeros(len(frame), dtype=np.int64)
    lookup = {c.value: i for i, c in enumerate(categories)}
    values = frame[column].astype(object).where(frame[column].notna(), None)
    return values.map(lambda v: lookup.get(v, len(categories))).to_numpy(dtype=np.int64)


def _styles(categories, *, weight=1.5, dash=None) -> list[dict]:
    return [{"fill": _hex(c.rgb), "outline": _hex(c.outline_rgb), "weight": weight,
             "fill_opacity": round(FILL_ALPHA / 255, 3), "dash": dash}
            for c in [*categories, FALLBACK]]


def _hex(rgb) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in rgb)


def _patch_layer(patches, categories, cats: np.ndarray) -> dict:
    props, dicts = _columns(patches, [f for f in _PATCH_FIELDS if f in patches.columns])
    out = {"kind": "patches", "name": "图斑 patches", "visible": True,
           "geom": _encode(patches.to_crs(4326).geometry.values), "cats": _compact(cats),
           "styles": _styles(categories), "props": props, "dicts": dicts}
    if "reasons_zh" in patches.columns:
        out["reasons"] = _reasons(patches["reasons_zh"])
    return out


def _fragment_layer(fragments, categories, column) -> dict:
    fields = [(f, label) for f, label in _FRAGMENT_FIELDS if f in fragments.columns]
    props, dicts = _columns(fragments, [f for f, _ in fields])
    return {"kind": "fragments", "name": "子地块 fragments", "visible": False,
            "geom": _encode(fragments.to_crs(4326).geometry.values),
            "cats": _compact(_category_index(fragments, categories, column)),
            "styles": _styles(categories, weight=1, dash="4 3"), "props": props,
            "dicts": dicts, "fields": fields}


def _reference_layers(layerset, patches) -> list[dict]:
    """The layers of :data:`REFERENCE_ROLES` the layer set has, clipped to the patches'
    box plus the margin (in the patches' CRS) and simplified."""
    from landcheck.roles import BUILTIN

    box = _clip_box(patches)
    out = []
    for role, style in REFERENCE_ROLES.items():
        if role not in layerset or box is None:
            continue
        frame = layerset.read(role)
        if frame.crs is not None and not frame.crs.equals(patches.crs):
            frame = frame.to_crs(patches.crs)
        keep = np.sort(frame.sindex.query(shapely.box(*box), predicate="intersects"))
        frame = frame.iloc[keep]
        geoms = shapely.simplify(shapely.clip_by_rect(frame.geometry.values, *box),
                                 SIMPLIFY_M, preserve_topology=True)
        frame = frame.set_geometry(geoms)
        frame = frame[~frame.geometry.is_empty]
        fields = [(f, label) for f, label in _REFERENCE_FIELDS if f in frame.columns]
        props, dicts = _columns(frame, [f for f, _ in fields])
        name = f"{BUILTIN[role].label_zh} {role}"
        out.append({"kind": "reference", "name": name, "visible": True,
                    "geom": _encode(frame.to_crs(4326).geometry.values), "cats": 0,
                    "styles": [{"weight": 1, "dash": None, **style}], "props": props,
                    "dicts": dicts, "fields": fields})
    return out


def _clip_box(patches):
    geoms = patches.geometry[~(patches.geometry.isna() | patches.geometry.is_empty)]
    if geoms.empty:
        return None
    x0, y0, x1, y1 = geoms.total_bounds
    margin = max(MIN_MARGIN_M, MARGIN_SHARE * max(x1 - x0, y1 - y0))
    return x0 - margin, y0 - margin, x1 + margin, y1 + margin


def _bounds(patches):
    geoms = patches.geometry[~(patches.geometry.isna() | patches.geometry.is_empty)]
    if geoms.empty:
        return None
    return [round(float(v), 6) for v in geoms.to_crs(4326).total_bounds]


def _columns(frame, fields) -> tuple[dict, dict]:
    """Per-feature columns as JSON lists: text of :data:`_DICT_FIELDS` as indices into a
    dictionary of its distinct values (null: missing), dates as ``YYYY-MM-DD``, areas
    rounded to 0.01 m²."""
    props, dicts = {}, {}
    for field in fields:
        s = frame[field]
        if pd.api.types.is_datetime64_any_dtype(s):
            s = s.dt.strftime("%Y-%m-%d")
        if field.endswith("_m2"):
            values = s.astype(float).round(2)
            props[field] = [None if np.isnan(v) else v for v in values.tolist()]
        elif field in _DICT_FIELDS:
            codes, uniques = pd.factorize(s.astype(object).where(s.notna(), None))
            props[field] = [None if c < 0 else c for c in codes.tolist()]
            dicts[field] = [str(u) for u in uniques]
        else:
            props[field] = [None if v is None else str(v)
                            for v in s.astype(object).where(s.notna(), None).tolist()]
    return props, dicts


def _reasons(reasons) -> dict:
    """Each patch's reasons (``reasons_zh`` split at "；"): their count per patch, then
    indices into a dictionary of the distinct reasons, patch after patch."""
    parts = reasons.fillna("").astype(str).str.split(_REASON_SEP).explode()
    parts = parts[parts.str.strip() != ""]
    codes, uniques = pd.factorize(parts)
    counts = parts.groupby(level=0).size().reindex(range(len(reasons)), fill_value=0)
    return {"n": counts.tolist(), "idx": codes.tolist(), "text": [str(u) for u in uniques]}


def _encode(geoms) -> dict:
    """Polygons as the compact arrays the page decodes: ``n`` features; ``f`` polygons per
    feature, ``p`` rings per polygon, ``r`` points per ring (without the closing point), each
    one number where all are equal; ``c`` integer micro-degree x/y deltas."""
    geoms = _polygonal(np.asarray(geoms, dtype=object))
    n = len(geoms)
    if n == 0:
        return {"n": 0, "f": 0, "p": 0, "r": 0, "c": []}
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    if kind == shapely.GeometryType.POLYGON:
        (ring_off, poly_off), geom_off = offsets, np.arange(n + 1)
    else:
        ring_off, poly_off, geom_off = offsets
    rings = np.diff(poly_off)  # per polygon; 0: an empty polygon, left out
    feature = np.repeat(np.arange(n), np.diff(geom_off))
    f, p = np.bincount(feature[rings > 0], minlength=n), rings[rings > 0]
    keep = np.ones(len(coords), dtype=bool)
    keep[ring_off[1:][np.diff(ring_off) > 0] - 1] = False  # each ring's closing point
    q = np.rint(coords[keep, :2] * 1e6).astype(np.int64)
    deltas = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    r = np.maximum(np.diff(ring_off) - 1, 0)
    return {"n": n, "f": _compact(f), "p": _compact(p), "r": _compact(r),
            "c": deltas.ravel().tolist()}


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Polygons and multipolygons as they are; a collection as the multipolygon of its
    polygons; anything else (missing, lines, points) as an empty polygon."""
    types = shapely.get_type_id(geoms)
    out = geoms.copy()
    for i in np.flatnonzero(~np.isin(types, (3, 6))):
        parts = shapely.get_parts(geoms[i]) if geoms[i] is not None else np.array([])
        polys = [g for g in parts if shapely.get_type_id(g) in (3, 6)]
        out[i] = (shapely.multipolygons(shapely.get_parts(np.array(polys, dtype=object)))
                  if polys else shapely.Polygon())
    return out


def _compact(values):
    values = np.asarray(values)
    if len(values) and (values == values[0]).all():
        return int(values[0])
    return values.tolist()


def _legend(categories, column, cats: np.ndarray) -> dict:
    """The patches' legend: every category of the layer's style with its patch count, the
    fallback entry only where patches have an unlisted value."""
    counts = np.bincount(cats, minlength=len(categories) + 1)
    entries = []
    for i, cat in enumerate([*categories, FALLBACK]):
        if cat is FALLBACK and counts[i] == 0:
            continue
        entries.append({"label": cat.label, "code": cat.code, "fill": _hex(cat.rgb),
                        "outline": _hex(cat.outline_rgb), "n": int(counts[i])})
    title = {"official_class": "官方类别 official class", "verdict": "核查结论 verdict"}
    return {"title": f"图例 {title.get(column, 'legend')}", "entries": entries}


def _metadata(gpkg: Path) -> dict:
    if "metadata" not in _layer_names(gpkg):
        return {}
    frame = pyogrio.read_dataframe(gpkg, layer="metadata", read_geometry=False)
    out = {}
    for key, value in zip(frame.get("key", []), frame.get("value", []), strict=True):
        with contextlib.suppress(TypeError, ValueError):
            out[str(key)] = json.loads(value)
    return out


def _cards_prefix(cards_dir, target: Path) -> str | None:
    if cards_dir is None:
        return None
    folder = Path(os.fspath(cards_dir)).expanduser().absolute()
    try:
        rel = Path(os.path.relpath(folder, target.parent)).as_posix()
    except ValueError:  # another drive
        return folder.as_uri() + "/"
    return "/".join(urllib.parse.quote(part) for part in rel.split("/")) + "/"


def _page(data: dict, gpkg: Path, crs, meta: dict) -> str:
    vendor = resources.files("landcheck.data") / "vendor" / "leaflet"
    css = _strip_map(vendor.joinpath("leaflet.css").read_text(encoding="utf-8"))
    for name in ("layers.png", "layers-2x.png"):
        uri = "data:image/png;base64," + base64.b64encode(
            vendor.joinpath(name).read_bytes()).decode("ascii")
        css = css.replace(f"url(images/{name})", f"url({uri})")
    css = css.replace("url(images/marker-icon.png)", "none")  # no markers are drawn
    parts = {
        "TITLE": html.escape(f"卫片图斑核查地图 {gpkg.name}"),
        "LEAFLET_LICENSE": vendor.joinpath("LICENSE").read_text(encoding="utf-8")
                                 .replace("--", "- -"),
        "LEAFLET_CSS": css,
        "LEAFLET_JS": _strip_map(vendor.joinpath("leaflet.js").read_text(encoding="utf-8")),
        "FOOTER": _footer(gpkg, crs, meta),
        "DATA": json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
                    .replace("<", "\\u003c"),
    }
    template = (resources.files("landcheck.data") / "webmap.html").read_text(encoding="utf-8")
    return re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: parts[m[1]], template)


def _strip_map(text: str) -> str:
    return re.sub(r"\s*(//# sourceMappingURL=\S+|/\*# sourceMappingURL=\S+ \*/)\s*$", "\n",
                  text)


def _footer(gpkg: Path, crs, meta: dict) -> str:
    source = crs.to_string() if crs is not None else "?"
    facts = [f"数据 source: {gpkg.name}"]
    if meta.get("reference_date"):
        facts.append(f"核查基准日 as of {meta['reference_date']}")
    if meta.get("run_id"):
        facts.append(f"run {meta['run_id']}")
    facts.append(f"landcheck {meta.get('landcheck', __version__)}")
    return html.escape(
        f"坐标由 {source} 转换为 EPSG:4326 显示，CGCS2000 地理坐标按 WGS 84 绘制"
        "（相差不超过分米级）；无底图（离线）。"
        f"Coordinates reprojected from {source} to EPSG:4326; CGCS2000 geographic"
        " coordinates are drawn as WGS 84 (they differ by decimetres at most). "
        "No base map (offline). · " + " · ".join(facts))
