"""QGIS styles stored in the result GeoPackage (``layer_styles``): one default style per polygon
layer, categorised on ``official_class`` (else ``verdict``) with Chinese + English legend
labels and a fallback; inside the file after the atomic write, nothing left by a failed one;
the streamed output likewise."""

from __future__ import annotations

import sqlite3
import warnings
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner
from shapely.geometry import box

import landcheck.report.styles as styles
from landcheck.cli.main import cli
from landcheck.errors import DataWarning, WriteError
from landcheck.io import write_layers
from landcheck.report.gpkg import write_result_gpkg
from landcheck.stream import screen_to_gpkg
from landcheck.testing import AS_OF, SAMPLES

X0, Y0 = 39_500_000.0, 3_400_000.0  # EPSG:4527
CRS = "EPSG:4527"
FALLBACK = ("", "未列出的值 unlisted value")
OFFICIAL_LEGEND = [
    ("非农违法", "非农违法 illegal_nonag"), ("非粮违法", "非粮违法 illegal_nongrain"),
    ("存疑", "存疑 doubtful"), ("合法", "合法 legal"), ("设施农用地", "设施农用地 facility_ag"),
    ("农村道路", "农村道路 rural_road"), ("其他", "其他 other"), ("伪变化", "伪变化 false_change"),
    FALLBACK,
]
VERDICT_LEGEND = [("illegal", "违法 illegal"), ("needs_review", "待核实 needs_review"),
                  ("legal", "合法 legal"), ("other", "其他 other"), FALLBACK]
STYLE_ROWS = ("SELECT f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
              "styleName, useAsDefault, owner FROM layer_styles ORDER BY id")


def _boxes(n):
    return [box(X0 + 3 * i, Y0, X0 + 3 * i + 2, Y0 + 2) for i in range(n)]


def _result(verdicts: dict, fragments: dict | None = None):
    """A result as the GeoPackage writer sees it: frames and provenance."""
    v = gpd.GeoDataFrame(verdicts, geometry=_boxes(len(verdicts["id"])), crs=CRS)
    f = gpd.GeoDataFrame(fragments or verdicts,
                         geometry=_boxes(len((fragments or verdicts)["id"])), crs=CRS)
    return SimpleNamespace(verdicts=v, fragments=f, provenance={"rules": "test"})


OFFICIAL = {"id": ["A1", "A2", "A3"], "verdict": ["illegal", "legal", "other"],
            "official_class": ["非农违法", "合法", "伪变化"],
            "official_class_code": ["illegal_nonag", "legal", "false_change"]}


def _rows(path):
    with sqlite3.connect(path) as con:
        return con.execute(STYLE_ROWS).fetchall()


def _qml(path, layer) -> ET.Element:
    with sqlite3.connect(path) as con:
        (qml,), = con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = ? "
                              "AND useAsDefault", (layer,)).fetchall()
    assert qml.startswith("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n")
    return ET.fromstring(qml)


def _legend(root: ET.Element) -> list[tuple[str, str]]:
    return [(c.get("value"), c.get("label")) for c in root.iter("category")]


def _colour(root: ET.Element, value: str) -> str:
    """The fill colour of the category matching ``value``, as QGIS reads it."""
    symbol = next(c.get("symbol") for c in root.iter("category") if c.get("value") == value)
    layer = next(s for s in root.find("renderer-v2/symbols") if s.get("name") == symbol)
    props = {o.get("name"): o.get("value") for o in layer.find("layer/Option")}
    legacy = {p.get("k"): p.get("v") for p in layer.iter("prop")}
    assert props == legacy  # Option map (QGIS ≥ 3.16) and prop elements (older) agree
    return props["color"]


def test_each_polygon_layer_gets_one_default_style_on_official_class(tmp_path):
    out = write_result_gpkg(_result(OFFICIAL), tmp_path / "v.gpkg")
    assert _rows(out) == [
        ("", "", "verdicts", "geom", "landcheck official_class", 1, ""),
        ("", "", "fragments", "geom", "landcheck official_class", 1, ""),
    ]  # none for the metadata table
    for layer in ("verdicts", "fragments"):
        root = _qml(out, layer)
        renderer = root.find("renderer-v2")
        assert renderer.get("type") == "categorizedSymbol"
        assert renderer.get("attr") == "official_class"
        assert _legend(root) == OFFICIAL_LEGEND
        assert len(renderer.find("symbols")) == len(OFFICIAL_LEGEND)
        assert root.find("layerGeometryType").text == "2"  # polygons
        assert _colour(root, "非农违法") == "227,26,28,170"  # red
        assert _colour(root, "存疑") == "255,191,0,170"  # amber
        assert _colour(root, "合法") == "51,160,44,170"  # green
        assert _colour(root, "") == "255,0,255,170"  # fallback magenta
    assert [p.name for p in tmp_path.iterdir()] == ["v.gpkg"]


def test_a_layer_without_official_class_is_styled_on_verdict(tmp_path):
    verdicts = {"id": ["A1", "A2"], "verdict": ["illegal", "needs_review"]}
    fragments = {"id": ["A1"], "part": [0], "verdict": ["illegal"]}
    out = write_result_gpkg(_result(verdicts, fragments), tmp_path / "v.gpkg")
    assert [r[2] for r in _rows(out)] == ["verdicts", "fragments"]
    for layer in ("verdicts", "fragments"):
        root = _qml(out, layer)
        assert root.find("renderer-v2").get("attr") == "verdict"
        assert _legend(root) == VERDICT_LEGEND


def test_qgis_finds_the_style_through_gdal_as_it_does_on_opening(tmp_path):
    out = write_result_gpkg(_result(OFFICIAL), tmp_path / "v.gpkg")
    # the attribute filter QgsOgrProviderMetadata::loadStyle sets on layer_styles
    query = ("f_table_schema='' AND f_table_name='fragments' AND f_geometry_column='geom' "
             "ORDER BY CASE WHEN useAsDefault THEN 1 ELSE 2 END,update_time DESC LIMIT 1")
    found = pyogrio.read_dataframe(out, layer="layer_styles", where=query)
    assert found["styleName"].tolist() == ["landcheck official_class"]
    assert found["useAsDefault"].tolist() == [True]
    assert ET.fromstring(found["styleQML"][0]).find("renderer-v2").get("attr") == "official_class"
    info = pyogrio.read_info(out, layer="layer_styles")
    assert info["features"] == 2 and info["fid_column"] == "id" and info["geometry_type"] is None
    assert dict(zip(info["fields"], info["dtypes"], strict=True)) == {
        "f_table_catalog": "object", "f_table_schema": "object", "f_table_name": "object",
        "f_geometry_column": "object", "styleName": "object", "styleQML": "object",
        "styleSLD": "object", "useAsDefault": "bool", "description": "object",
        "owner": "object", "ui": "object", "update_time": "datetime64[ms]"}
    with sqlite3.connect(out) as con:
        assert con.execute("SELECT data_type, identifier, srs_id FROM gpkg_contents WHERE "
                           "table_name = 'layer_styles'").fetchall() == [
            ("attributes", "layer_styles", 0)]


def test_sld_has_a_rule_per_category_and_an_else_rule(tmp_path):
    out = write_result_gpkg(_result(OFFICIAL), tmp_path / "v.gpkg")
    with sqlite3.connect(out) as con:
        (sld,), = con.execute("SELECT styleSLD FROM layer_styles "
                              "WHERE f_table_name = 'verdicts'").fetchall()
    ns = {"sld": "http://www.opengis.net/sld", "se": "http://www.opengis.net/se",
          "ogc": "http://www.opengis.net/ogc"}
    root = ET.fromstring(sld)
    assert root.get("version") == "1.1.0"
    rules = root.findall(".//se:Rule", ns)
    assert [r.findtext("se:Name", namespaces=ns) for r in rules] == [lb for _, lb in
                                                                     OFFICIAL_LEGEND]
    literals = [r.findtext(".//ogc:PropertyIsEqualTo/ogc:Literal", namespaces=ns)
                for r in rules]
    assert literals == [v for v, _ in OFFICIAL_LEGEND[:-1]] + [None]
    assert {r.findtext(".//ogc:PropertyName", namespaces=ns) for r in rules[:-1]} == {
        "official_class"}
    assert rules[-1].find("se:ElseFilter", ns) is not None
    fill = rules[0].find(".//se:Fill/se:SvgParameter[@name='fill']", ns)
    assert fill.text == "#e31a1c"


def test_the_packs_names_are_the_legends_and_its_other_classes_get_their_verdicts_colour(
        tmp_path):
    # a pack naming illegal_nonag 非农建设违法, and one without [official] (违法 = illegal)
    verdicts = {"id": ["A1", "A2", "A3"], "verdict": ["illegal", "illegal", "legal"],
                "official_class": ["非农建设违法", "违法", "合法"],
                "official_class_code": ["illegal_nonag", "illegal", "legal"]}
    out = write_result_gpkg(_result(verdicts), tmp_path / "v.gpkg")
    root = _qml(out, "verdicts")
    legend = _legend(root)
    assert legend[0] == ("非农建设违法", "非农建设违法 illegal_nonag")
    assert ("非农违法", "非农违法 illegal_nonag") not in legend
    assert legend[-2:] == [("违法", "违法 illegal"), FALLBACK]
    assert _colour(root, "非农建设违法") == "227,26,28,170"
    assert _colour(root, "违法") == "227,26,28,170"  # the colour of the verdict illegal


def test_a_value_no_legend_entry_matches_is_a_warning_and_shows_as_fallback(tmp_path):
    verdicts = {"id": ["A1", "A2", "A3", "A4"], "verdict": ["illegal"] * 4,
                "official_class": ["非农违法", "违建", "违建", None],
                "official_class_code": ["illegal_nonag", None, None, None]}
    with pytest.warns(DataWarning) as caught:
        out = write_result_gpkg(_result(verdicts), tmp_path / "v.gpkg")
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2  # verdicts and fragments; NULL is not reported
    assert messages[0].startswith(
        "v.gpkg: layer 'verdicts', field 'official_class': 2 feature(s) with values the QGIS "
        "legend does not list: '违建' (2); they show as '未列出的值 unlisted value'")
    assert ("违建", "违建 None") not in _legend(_qml(out, "verdicts"))
    assert _legend(_qml(out, "verdicts")) == OFFICIAL_LEGEND


def _failing_midway(monkeypatch):
    """write_styles fails on its second style, inside its transaction."""
    real = styles.write_styles

    def failing(path, layer_styles):
        def some():
            it = iter(layer_styles)
            yield next(it)
            raise sqlite3.OperationalError("disk I/O error")
        real(path, some())

    monkeypatch.setattr(styles, "write_styles", failing)


def test_a_failed_style_write_leaves_the_old_target_and_nothing_behind(tmp_path, monkeypatch):
    out = tmp_path / "v.gpkg"
    out.write_bytes(b"previous run")
    _failing_midway(monkeypatch)
    with pytest.raises(WriteError, match=r"could not store the QGIS styles .*disk I/O error"):
        write_result_gpkg(_result(OFFICIAL), out, overwrite=True)
    assert out.read_bytes() == b"previous run"
    assert [p.name for p in tmp_path.iterdir()] == ["v.gpkg"]


def test_write_styles_stores_all_or_nothing(tmp_path):
    path = write_layers({"verdicts": _result(OFFICIAL).verdicts}, tmp_path / "v.gpkg")
    style = styles.result_styles(path)[0]

    def some():
        yield style
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(WriteError, match="disk I/O error"):
        styles.write_styles(path, some())
    with sqlite3.connect(path) as con:  # the table's creation is rolled back too
        assert con.execute("SELECT name FROM sqlite_master WHERE name = 'layer_styles'"
                           ).fetchall() == []
        assert con.execute("SELECT COUNT(*) FROM gpkg_contents WHERE "
                           "table_name = 'layer_styles'").fetchone() == (0,)
    styles.write_styles(path, [style])
    styles.write_styles(path, [style])  # the same name again replaces it, as QGIS does
    assert _rows(path) == [("", "", "verdicts", "geom", "landcheck official_class", 1, "")]


def test_write_layers_finish_runs_on_the_staged_file_before_the_move(tmp_path):
    target = tmp_path / "v.gpkg"
    seen = []

    def finish(staged):
        seen.append((staged, staged.is_file(), target.exists()))

    assert write_layers({"verdicts": _result(OFFICIAL).verdicts}, target,
                        finish=finish) == target
    (staged, staged_there, target_there), = seen
    assert staged != target and staged.name == "v.gpkg" and staged_there and not target_there
    assert staged.parent.parent.parent == tmp_path and staged.parent.parent.name.startswith(".")

    def broken(staged):
        raise RuntimeError("no space left")

    with pytest.raises(WriteError, match="no space left"):
        write_layers({"verdicts": _result(OFFICIAL).verdicts}, target, overwrite=True,
                     finish=broken)
    assert [p.name for p in tmp_path.iterdir()] == ["v.gpkg"]
    with sqlite3.connect(target) as con:  # the first write, unchanged: no styles
        assert con.execute("SELECT name FROM sqlite_master WHERE name = 'layer_styles'"
                           ).fetchall() == []
    with pytest.raises(TypeError, match="finish must be a callable"):
        write_layers({"verdicts": _result(OFFICIAL).verdicts}, target, overwrite=True,
                     finish="styles")


def _expected_column(path, layer):
    fields = pyogrio.read_info(path, layer=layer)["fields"]
    return "official_class" if "official_class" in fields else "verdict"


def _check_demo_styles(path):
    """Both polygon layers styled; every value in the layer has its own legend entry."""
    assert [r[2] for r in _rows(path)] == ["verdicts", "fragments"]
    for layer in ("verdicts", "fragments"):
        root = _qml(path, layer)
        column = _expected_column(path, layer)
        assert root.find("renderer-v2").get("attr") == column
        values = set(pyogrio.read_dataframe(path, layer=layer, columns=[column],
                                            read_geometry=False)[column])
        legend = dict(_legend(root))
        assert values <= set(legend) - {""}, values - set(legend)
        assert legend[""] == FALLBACK[1]


def test_cli_screen_gpkg_opens_styled(tmp_path):
    out = tmp_path / "v.gpkg"
    result = CliRunner().invoke(cli, ["screen", "--layers", str(SAMPLES / "county.toml"),
                                      "-o", str(out), "--as-of", "2023-09-30"])
    assert result.exit_code == 0, result.output
    _check_demo_styles(out)
    assert [p.name for p in tmp_path.iterdir()] == ["v.gpkg"]


def test_streamed_output_has_the_same_styles_as_the_in_memory_one(tmp_path, demo_result):
    memory = demo_result.to_gpkg(tmp_path / "m.gpkg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        streamed = screen_to_gpkg(None, SAMPLES / "county.toml", tmp_path / "s.gpkg",
                                  reference_date=AS_OF, chunk_size=100).path
    _check_demo_styles(streamed)
    query = "SELECT f_table_name, styleName, styleQML, styleSLD FROM layer_styles ORDER BY id"
    with sqlite3.connect(memory) as a, sqlite3.connect(streamed) as b:
        assert a.execute(query).fetchall() == b.execute(query).fetchall()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.gpkg", "s.gpkg"]


def test_a_failed_style_write_in_the_stream_leaves_no_output(tmp_path, monkeypatch):
    out = tmp_path / "s.gpkg"
    out.write_bytes(b"previous run")
    _failing_midway(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(WriteError, match="could not store the QGIS styles"):
            screen_to_gpkg(None, SAMPLES / "county.toml", out, reference_date=AS_OF,
                           chunk_size=100, overwrite=True)
    assert out.read_bytes() == b"previous run"
    assert [p.name for p in tmp_path.iterdir()] == ["s.gpkg"]


def test_a_non_polygon_layer_gets_no_fill_style(tmp_path):
    points = gpd.GeoDataFrame({"id": ["P1"], "verdict": ["illegal"]},
                              geometry=gpd.points_from_xy([X0], [Y0]), crs=CRS)
    path = write_layers({"points": points, "verdicts": _result(OFFICIAL).verdicts},
                        tmp_path / "v.gpkg", finish=styles.add_result_styles)
    assert [r[2] for r in _rows(path)] == ["verdicts"]
    assert styles.add_result_styles(path) == {"verdicts": "official_class"}
