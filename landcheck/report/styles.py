"""QGIS styles stored in a screening GeoPackage, so its layers open coloured by category.

Every polygon layer of a result GeoPackage (``verdicts``, ``fragments``) gets a default style
in the GeoPackage's ``layer_styles`` table: a categorised renderer on ``official_class``
where the layer has that column, else on ``verdict``, one filled, outlined symbol per
category of :data:`CATEGORIES`, legend labels in Chinese with the English code beside
("非农违法 illegal_nonag"), and a :data:`FALLBACK` symbol ("未列出的值 unlisted value") that
shows any other value, NULL included. QGIS applies it when the layer is opened.

The rule pack names the official classes (``[official] classes``: code → Chinese name), so
the legend of ``official_class`` is read from the layer (:func:`layer_categories`): each
class of :data:`CATEGORIES` matches the Chinese name the layer gives its code
(``official_class_code``), the table's name where the layer has no feature of it; a class
code the table does not list gets its own entry, coloured as the verdict most of its
features have. Any other value shows with the fallback symbol and is a
:class:`~landcheck.errors.DataWarning` (:func:`add_result_styles`).

The ``layer_styles`` table
--------------------------
Its layout is the one QGIS creates when a style is saved into a GeoPackage
(``QgsOgrProviderMetadata::saveStyle`` in QGIS ``src/providers/ogr/qgsogrprovidermetadata.cpp``,
"the same schema as in the SpatiaLite and postgres providers"): a GDAL layer without
geometry, FID ``id``, and the fields ``f_table_catalog``, ``f_table_schema``,
``f_table_name``, ``f_geometry_column`` (text, width 256), ``styleName`` (text, 30),
``styleQML``, ``styleSLD`` (text), ``useAsDefault`` (integer, boolean subtype),
``description`` (text), ``owner``, ``ui`` (text, 30), ``update_time`` (datetime, default
``CURRENT_TIMESTAMP``). The SQL below is what GDAL's GPKG driver makes of those fields. GDAL
(2.2 and later) registers a table without geometry in ``gpkg_contents`` with
``data_type = 'attributes'`` (https://gdal.org/drivers/vector/geopackage_aspatial.html), so
the table is registered the same way; it has no ``gpkg_ogr_contents`` row, and GDAL counts
its rows. QGIS loads the style whose ``f_table_schema`` is ``''``, ``f_table_name`` and
``f_geometry_column`` are the layer's, preferring ``useAsDefault``
(``QgsOgrProviderMetadata::loadStyle``); a style saved under an existing name for the same
layer replaces it, and a new default style clears the layer's previous default, as QGIS does.

The QML is a ``categorizedSymbol`` renderer with ``SimpleFill`` symbol layers whose
properties are written both as an ``<Option type="Map">`` and as ``<prop k v>`` elements,
as QGIS 3.22–3.24 write them (later versions read the former, earlier ones the latter), and
``layerGeometryType`` 2: ``QgsMapLayer::importNamedStyle`` does not apply it to a layer that
is not polygons. The QGIS
fallback category is the one whose value is empty (``QgsCategorizedSymbolRenderer::
originalSymbolForFeature`` looks up ``""`` when a value has no category). The SLD (1.1.0) has
one rule per category and an ``ElseFilter`` rule.

Examples
--------
>>> import sqlite3, tempfile
>>> from pathlib import Path
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> from landcheck.io import write_layers
>>> x, y = 39_500_000.0, 3_400_000.0
>>> verdicts = gpd.GeoDataFrame(
...     {"id": ["A1", "A2"], "verdict": ["illegal", "legal"]},
...     geometry=[box(x, y, x + 2, y + 2), box(x + 3, y, x + 5, y + 2)], crs="EPSG:4527")
>>> out = Path(tempfile.mkdtemp()) / "v.gpkg"
>>> _ = write_layers({"verdicts": verdicts}, out, finish=add_result_styles)
>>> con = sqlite3.connect(out)
>>> con.execute("SELECT f_table_name, f_geometry_column, styleName, useAsDefault "
...             "FROM layer_styles").fetchall()
[('verdicts', 'geom', 'landcheck verdict', 1)]
>>> con.close()
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from landcheck._version import __version__
from landcheck.errors import DataWarning, WriteError
from landcheck.report.tables import VERDICT_ZH

__all__ = [
    "CATEGORIES",
    "CODE_COLUMNS",
    "FALLBACK",
    "FILL_ALPHA",
    "Category",
    "LayerStyle",
    "add_result_styles",
    "category_qml",
    "category_sld",
    "layer_categories",
    "result_styles",
    "write_styles",
]


@dataclasses.dataclass(frozen=True)
class Category:
    """One legend entry: the column ``value`` it matches, its English ``code`` and Chinese
    name, and its fill colour (R, G, B, 0–255)."""

    value: str
    code: str
    name_zh: str
    rgb: tuple[int, int, int]

    @property
    def label(self) -> str:
        """The legend label: Chinese name, then the English code."""
        return f"{self.name_zh} {self.code}"

    @property
    def outline_rgb(self) -> tuple[int, ...]:
        """The outline colour: the fill colour at 60 % brightness."""
        return _darker(self.rgb)


#: The categories of each column a layer is coloured by, in legend order; a layer is
#: categorised on the first of these columns it has. ``official_class`` holds the Chinese
#: names (``official_class_code`` the codes); ``verdict`` holds the codes.
CATEGORIES: dict[str, tuple[Category, ...]] = {
    "official_class": (
        Category("非农违法", "illegal_nonag", "非农违法", (227, 26, 28)),        # red
        Category("非粮违法", "illegal_nongrain", "非粮违法", (230, 85, 13)),     # dark orange
        Category("存疑", "doubtful", "存疑", (255, 191, 0)),                    # amber: review
        Category("合法", "legal", "合法", (51, 160, 44)),                       # green
        Category("设施农用地", "facility_ag", "设施农用地", (128, 128, 0)),       # olive
        Category("农村道路", "rural_road", "农村道路", (140, 81, 10)),           # brown
        Category("其他", "other", "其他", (150, 150, 150)),                     # grey
        Category("伪变化", "false_change", "伪变化", (215, 215, 215)),           # light grey
    ),
    "verdict": tuple(
        Category(code, code, VERDICT_ZH[code], rgb)
        for code, rgb in (("illegal", (227, 26, 28)), ("needs_review", (255, 191, 0)),
                          ("legal", (51, 160, 44)), ("other", (150, 150, 150)))
    ),
}

#: The column holding the English code of each category column whose values are names.
CODE_COLUMNS = {"official_class": "official_class_code"}

#: The symbol of every value no category lists (and of NULL): magenta, unlike any category.
FALLBACK = Category("", "unlisted value", "未列出的值", (255, 0, 255))

#: Geometry types a fill style applies to (``GEOMETRY``: a result layer whose type GDAL left
#: generic, e.g. an empty one).
POLYGON_TYPES = frozenset({"POLYGON", "MULTIPOLYGON", "CURVEPOLYGON", "MULTISURFACE",
                           "SURFACE", "GEOMETRY"})

QGIS_VERSION = "3.22.0"  # the QML layout written (Option maps and prop elements)
#: Fill opacity of every category, of 255: the imagery under a patch stays visible.
FILL_ALPHA = 170
_OUTLINE_MM = "0.4"
_QML_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"

_CREATE_TABLE = """CREATE TABLE IF NOT EXISTS "layer_styles" (
 "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
 "f_table_catalog" TEXT(256),
 "f_table_schema" TEXT(256),
 "f_table_name" TEXT(256),
 "f_geometry_column" TEXT(256),
 "styleName" TEXT(30),
 "styleQML" TEXT,
 "styleSLD" TEXT,
 "useAsDefault" BOOLEAN,
 "description" TEXT,
 "owner" TEXT(30),
 "ui" TEXT(30),
 "update_time" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""
_REGISTER = """INSERT OR IGNORE INTO gpkg_contents
 (table_name, data_type, identifier, description, last_change, srs_id)
 VALUES ('layer_styles', 'attributes', 'layer_styles', '',
         strftime('%Y-%m-%dT%H:%M:%fZ','now'), 0)"""
_SAME_LAYER = "f_table_schema = '' AND f_table_name = ? AND f_geometry_column = ?"


@dataclasses.dataclass(frozen=True)
class LayerStyle:
    """One row of ``layer_styles``: the style of ``table``'s geometry column."""

    table: str
    geometry_column: str
    name: str
    qml: str
    sld: str
    description: str = ""
    default: bool = True


def category_qml(column: str, categories: Iterable[Category], *,
                 fallback: Category = FALLBACK) -> str:
    """A QGIS QML document: polygons categorised on ``column``, then ``fallback`` for any
    other value."""
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology")
    renderer = ET.SubElement(root, "renderer-v2", type="categorizedSymbol", attr=column,
                             symbollevels="0", enableorderby="0", forceraster="0",
                             referencescale="-1")
    cats = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for i, cat in enumerate([*categories, fallback]):
        ET.SubElement(cats, "category", value=cat.value, type="string", label=cat.label,
                      symbol=str(i), render="true")
        symbols.append(_fill_symbol(str(i), cat.rgb))
    ET.SubElement(renderer, "source-symbol").append(_fill_symbol("0", fallback.rgb))
    ET.SubElement(root, "layerGeometryType").text = "2"  # polygons
    ET.indent(root)
    return f"{_QML_DOCTYPE}\n{ET.tostring(root, encoding='unicode')}\n"


def _fill_symbol(name: str, rgb: tuple[int, int, int]) -> ET.Element:
    props = {
        "color": ",".join(map(str, (*rgb, FILL_ALPHA))),
        "joinstyle": "bevel",
        "offset": "0,0",
        "offset_unit": "MM",
        "outline_color": ",".join(map(str, (*_darker(rgb), 255))),
        "outline_style": "solid",
        "outline_width": _OUTLINE_MM,
        "outline_width_unit": "MM",
        "style": "solid",
    }
    symbol = ET.Element("symbol", type="fill", name=name, alpha="1", clip_to_extent="1",
                        force_rhr="0")
    layer = ET.SubElement(symbol, "layer", {"class": "SimpleFill", "enabled": "1",
                                            "locked": "0", "pass": "0"})
    options = ET.SubElement(layer, "Option", type="Map")
    for key, value in props.items():
        ET.SubElement(options, "Option", name=key, type="QString", value=value)
    for key, value in props.items():
        ET.SubElement(layer, "prop", k=key, v=value)
    return symbol


def _darker(rgb: tuple[int, int, int]) -> tuple[int, ...]:
    return tuple(round(c * 0.6) for c in rgb)


def _hex(rgb) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def category_sld(layer: str, column: str, categories: Iterable[Category], *,
                 fallback: Category = FALLBACK) -> str:
    """An SLD 1.1.0 document: one rule per category (``column`` equal to its value), then an
    ``ElseFilter`` rule with ``fallback``'s symbol."""
    root = ET.Element("StyledLayerDescriptor", {
        "xmlns": "http://www.opengis.net/sld", "xmlns:ogc": "http://www.opengis.net/ogc",
        "xmlns:se": "http://www.opengis.net/se", "version": "1.1.0"})
    named = ET.SubElement(root, "NamedLayer")
    ET.SubElement(named, "se:Name").text = layer
    user = ET.SubElement(named, "UserStyle")
    ET.SubElement(user, "se:Name").text = layer
    fts = ET.SubElement(user, "se:FeatureTypeStyle")
    for cat in [*categories, fallback]:
        rule = ET.SubElement(fts, "se:Rule")
        ET.SubElement(rule, "se:Name").text = cat.label
        ET.SubElement(ET.SubElement(rule, "se:Description"), "se:Title").text = cat.label
        if cat is fallback:
            ET.SubElement(rule, "se:ElseFilter")
        else:
            equal = ET.SubElement(ET.SubElement(rule, "ogc:Filter"), "ogc:PropertyIsEqualTo")
            ET.SubElement(equal, "ogc:PropertyName").text = column
            ET.SubElement(equal, "ogc:Literal").text = cat.value
        symbolizer = ET.SubElement(rule, "se:PolygonSymbolizer")
        fill = ET.SubElement(symbolizer, "se:Fill")
        _svg(fill, fill=_hex(cat.rgb), **{"fill-opacity": f"{FILL_ALPHA / 255:.2f}"})
        stroke = ET.SubElement(symbolizer, "se:Stroke")
        _svg(stroke, stroke=_hex(_darker(cat.rgb)), **{"stroke-width": "1.5",
                                                        "stroke-linejoin": "bevel"})
    ET.indent(root)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"{ET.tostring(root, encoding='unicode')}\n")


def _svg(parent: ET.Element, **params: str) -> None:
    for name, value in params.items():
        ET.SubElement(parent, "se:SvgParameter", name=name).text = value


def write_styles(path, styles: Iterable[LayerStyle]) -> None:
    """Store ``styles`` in the ``layer_styles`` table of the GeoPackage at ``path`` (created
    and registered as an attributes table when missing), in one transaction: on any error
    nothing of it is stored.

    Raises
    ------
    WriteError
        ``path`` is not a GeoPackage, or SQLite failed; nothing is stored then.
    """
    path = Path(path)
    if not path.is_file():
        raise WriteError(f"{path}: no GeoPackage there to store the QGIS styles in")
    try:
        with _transaction(path) as con:
            con.execute(_CREATE_TABLE)
            con.execute(_REGISTER)
            for s in styles:
                layer = (s.table, s.geometry_column)
                if s.default:
                    con.execute(f"UPDATE layer_styles SET useAsDefault = 0 WHERE {_SAME_LAYER}",
                                layer)
                con.execute(f"DELETE FROM layer_styles WHERE {_SAME_LAYER} AND styleName = ?",
                            (*layer, s.name))
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                    "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, "
                    "description, owner) VALUES ('', '', ?, ?, ?, ?, ?, ?, ?, '')",
                    (*layer, s.name, s.qml, s.sld, int(s.default), s.description))
    except sqlite3.Error as exc:
        raise WriteError(f"{path}: could not store the QGIS styles "
                         f"({type(exc).__name__}: {exc})") from exc


@contextlib.contextmanager
def _transaction(path: Path):
    """A connection inside one transaction: committed when the block ends normally, rolled
    back (table creation included) on any exception."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()


def result_styles(path) -> list[LayerStyle]:
    """The default style of each polygon layer of the GeoPackage at ``path`` that has a
    column of :data:`CATEGORIES` (the first such column), in the file's layer order."""
    with contextlib.closing(_connect(path)) as con:
        return [_style(table, geom, column, layer_categories(con, table, column))
                for table, geom, column in _styled_layers(con)]


def add_result_styles(path) -> dict[str, str]:
    """Give every polygon layer of the GeoPackage at ``path`` its default QGIS style
    (:func:`result_styles`, stored with :func:`write_styles`); return ``{layer: column}``.

    A value of a styled column that no legend entry matches is a :class:`DataWarning`
    naming the file, layer, field, each value and its count: those features show with the
    :data:`FALLBACK` symbol.
    """
    styles, styled = [], {}
    with contextlib.closing(_connect(path)) as con:
        for table, geom, column in _styled_layers(con):
            categories = layer_categories(con, table, column)
            _warn_unlisted(con, Path(path).name, table, column, categories)
            styles.append(_style(table, geom, column, categories))
            styled[table] = column
    write_styles(path, styles)
    return styled


def layer_categories(con: sqlite3.Connection, table: str, column: str) -> tuple[Category, ...]:
    """The legend of ``column`` in ``table`` (an open GeoPackage): the categories of
    :data:`CATEGORIES`, in order; for a column of names (:data:`CODE_COLUMNS`) each named as
    the layer names its code, then the layer's codes the table lacks, coloured by the verdict
    most of their features have."""
    table_cats = CATEGORIES[column]
    code_column = CODE_COLUMNS.get(column)
    names = _columns(con, table)
    if code_column is None or code_column not in names:
        return table_cats
    verdict = '"verdict"' if "verdict" in names else "NULL"
    rows = con.execute(
        f"SELECT {_quoted(code_column)}, {_quoted(column)}, {verdict}, COUNT(*) "
        f"FROM {_quoted(table)} WHERE {_quoted(code_column)} IS NOT NULL "
        f"AND {_quoted(column)} IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3"
    ).fetchall()
    seen: dict[tuple[str, str], str | None] = {}  # (code, name) → its most common verdict
    for code, name, v, _ in rows:
        seen.setdefault((str(code), str(name)), v)
    verdict_rgb = {c.value: c.rgb for c in CATEGORIES["verdict"]}
    out: list[Category] = []
    for cat in table_cats:
        found = [name for code, name in seen if code == cat.code] or [cat.name_zh]
        out += [dataclasses.replace(cat, value=name, name_zh=name) for name in found]
    known = {c.code for c in table_cats}
    out += [Category(name, code, name, verdict_rgb[v]) for (code, name), v in seen.items()
            if code not in known and v in verdict_rgb]
    unique = {c.value: c for c in reversed(out)}  # one entry per value, the first kept
    return tuple(c for c in out if unique[c.value] is c)


def _style(table: str, geometry_column: str, column: str,
           categories: tuple[Category, ...]) -> LayerStyle:
    return LayerStyle(
        table, geometry_column, f"landcheck {column}",
        category_qml(column, categories),
        category_sld(table, column, categories),
        f"landcheck {__version__}: {table} 按 {column} 分类着色 (coloured by {column})")


def _styled_layers(con: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(table, geometry column, category column) of each polygon layer with a category
    column, in the order of ``gpkg_contents``."""
    layers = con.execute(
        "SELECT g.table_name, g.column_name, upper(g.geometry_type_name) "
        "FROM gpkg_geometry_columns g JOIN gpkg_contents c USING (table_name) "
        "ORDER BY c.rowid").fetchall()
    out = []
    for table, geom, gtype in layers:
        names = _columns(con, table)
        column = next((c for c in CATEGORIES if c in names), None)
        if gtype in POLYGON_TYPES and column is not None:
            out.append((table, geom, column))
    return out


def _connect(path) -> sqlite3.Connection:
    path = Path(path)
    if not path.is_file():
        raise WriteError(f"{path}: no GeoPackage there to style")
    return sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(con: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in con.execute(f"PRAGMA table_info({_quoted(table)})")}


def _warn_unlisted(con: sqlite3.Connection, where: str, table: str, column: str,
                   categories: tuple[Category, ...]) -> None:
    listed = [c.value for c in categories]
    rows = con.execute(
        f"SELECT {_quoted(column)}, COUNT(*) FROM {_quoted(table)} "
        f"WHERE {_quoted(column)} IS NOT NULL AND {_quoted(column)} NOT IN "
        f"({', '.join('?' * len(listed))}) GROUP BY 1 ORDER BY 2 DESC, 1",
        listed).fetchall()
    if rows:
        values = ", ".join(f"{v!r} ({n})" for v, n in rows)
        warnings.warn(
            f"{where}: layer {table!r}, field {column!r}: {sum(n for _, n in rows)} feature(s) "
            f"with values the QGIS legend does not list: {values}; they show as "
            f"{FALLBACK.label!r}. Correct the values, or add the class to "
            f"landcheck.report.styles.CATEGORIES",
            DataWarning, stacklevel=3)
