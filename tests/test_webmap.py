"""The offline map (landcheck.report.webmap, ``landcheck report map``): the data it embeds,
its legend and popups, its refusals, and the page as headless Chromium renders it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import Polygon, box

from landcheck.cli.main import cli
from landcheck.errors import InputError, OutputExistsError
from landcheck.report import webmap
from landcheck.report.styles import layer_categories
from landcheck.report.webmap import write_map
from landcheck.testing import SAMPLES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on PATH: install it with "
           "`apt-get install -y --no-install-recommends chromium` (.ci/run does, as root)")


@pytest.fixture(scope="module")
def demo_gpkg(demo_result, tmp_path_factory):
    path = tmp_path_factory.mktemp("webmap") / "demo.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        demo_result.to_gpkg(path)
    return path


@pytest.fixture(scope="module")
def demo_map(demo_gpkg):
    html = demo_gpkg.parent / "round.html"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the demo layers' vocabulary warnings
        summary = write_map(demo_gpkg, html, layers=SAMPLES / "county.toml",
                            cards_dir=demo_gpkg.parent / "cards")
    return summary


@pytest.fixture(scope="module")
def verdicts(demo_gpkg):
    return gpd.read_file(demo_gpkg, layer="verdicts")


def embedded(path) -> dict:
    text = path.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="lc-data">(.*?)</script>', text, re.S)
    return json.loads(m[1])


def decode(g) -> list[list[list[list[tuple[float, float]]]]]:
    """The page's decoder in Python: per feature, polygons, rings, (lon, lat) points."""
    def count(a, i):
        return a if isinstance(a, int) else a[i]

    c, x, y, k, ri, pi, out = g["c"], 0, 0, 0, 0, 0, []
    for i in range(g["n"]):
        polys = []
        for _ in range(count(g["f"], i)):
            rings = []
            for _ in range(count(g["p"], pi)):
                ring = []
                for _ in range(count(g["r"], ri)):
                    x, y, k = x + c[k], y + c[k + 1], k + 2
                    ring.append((x / 1e6, y / 1e6))
                rings.append(ring)
                ri += 1
            polys.append(rings)
            pi += 1
        out.append(polys)
    return out


def non_empty(frame) -> int:
    return int((~(frame.geometry.isna() | frame.geometry.is_empty)).sum())


# --- the data, without a browser ------------------------------------------------------

def test_encode_hand_checked_squares():
    square = box(117.0, 31.0, 117.00001, 31.00001)  # counter-clockwise from (xmax, ymin)
    g = webmap._encode([square, Polygon()])
    assert g == {"n": 2, "f": [1, 0], "p": 1, "r": 4,
                 "c": [117_000_010, 31_000_000, 0, 10, -10, 0, 0, -10]}
    holed = shapely.MultiPolygon([square.buffer(0.0001, join_style="mitre").difference(square),
                                  box(118, 32, 118.5, 32.5)])
    g = webmap._encode([holed, None, square])
    assert (g["n"], g["f"], g["p"], g["r"]) == (3, [2, 0, 1], [2, 1, 1], 4)
    assert decode(g)[0][1][0] == [(118.5, 32.0), (118.5, 32.5), (118.0, 32.5), (118.0, 32.0)]


def test_map_embeds_every_patch_in_order(demo_map, verdicts):
    data = embedded(demo_map.path)
    patches = data["layers"][0]
    assert patches["kind"] == "patches"
    assert patches["geom"]["n"] == len(verdicts) == demo_map.patches == 309
    assert patches["props"]["id"] == verdicts["id"].tolist()
    drawn = sum(1 for polys in decode(patches["geom"]) if polys)
    assert drawn == non_empty(verdicts) == demo_map.drawn  # 308: one demo patch is empty


def test_coordinates_are_the_patches_in_4326_to_6_decimals(demo_map, verdicts):
    shown = decode(embedded(demo_map.path)["layers"][0]["geom"])
    wgs = verdicts.to_crs(4326).geometry
    for i in (0, 100, 308):
        if wgs.iloc[i].is_empty:
            assert shown[i] == []
            continue
        pts = np.array([p for poly in shown[i] for ring in poly for p in ring])
        assert np.allclose(pts.min(axis=0), wgs.iloc[i].bounds[:2], atol=1e-6)
        assert np.allclose(pts.max(axis=0), wgs.iloc[i].bounds[2:], atol=1e-6)


def test_popup_fields_are_chinese_and_complete(demo_map, verdicts):
    text = demo_map.path.read_text(encoding="utf-8")
    for label in ("图斑编号", "核查结论", "官方类别", "细类", "理由", "面积", "亩", "乡镇",
                  "整改期限", "核查卡"):
        assert label in text
    patches = embedded(demo_map.path)["layers"][0]
    dicts, props = patches["dicts"], patches["props"]
    row = verdicts.iloc[0]
    assert dicts["verdict_zh"][props["verdict_zh"][0]] == row["verdict_zh"] == "违法"
    assert dicts["official_class"][props["official_class"][0]] == row["official_class"]
    assert dicts["official_subclass"][props["official_subclass"][0]] == row["official_subclass"]
    assert dicts["township_name"][props["township_name"][0]] == row["township_name"]
    assert dicts["due_date"][props["due_date"][0]] == row["due_date"].strftime("%Y-%m-%d")
    assert props["area_m2"][0] == round(row["area_m2"], 2)
    rs = patches["reasons"]
    start = np.concatenate([[0], np.cumsum(rs["n"])])
    for i in (0, 5, 200):
        lines = [rs["text"][k] for k in rs["idx"][start[i]:start[i + 1]]]
        assert lines == [s for s in verdicts["reasons_zh"].iloc[i].split("；") if s.strip()]
    assert embedded(demo_map.path)["cards"] == "cards/"


def test_legend_is_the_qgis_style_of_the_verdicts(demo_map, demo_gpkg, verdicts):
    import sqlite3

    legend = embedded(demo_map.path)["legend"]
    with sqlite3.connect(demo_gpkg) as con:
        cats = layer_categories(con, "verdicts", "official_class")
    assert [e["label"] for e in legend["entries"]] == [c.label for c in cats]
    assert legend["entries"][0]["label"] == "非农违法 illegal_nonag"
    assert legend["entries"][0]["fill"] == "#e31a1c"  # styles.CATEGORIES: (227, 26, 28)
    assert sum(e["n"] for e in legend["entries"]) == len(verdicts)
    counts = verdicts["official_class"].value_counts()
    assert {e["label"].split()[0]: e["n"] for e in legend["entries"] if e["n"]} == \
        counts.to_dict()


def test_overlays_are_fragments_and_clipped_reference_layers(demo_map, demo_gpkg):
    layers = embedded(demo_map.path)["layers"]
    names = [layer["name"] for layer in layers]
    assert names == ["图斑 patches", "子地块 fragments", "城镇开发边界 town_boundary",
                     "永久基本农田 permanent_farmland", "生态保护红线 eco_redline",
                     "农转用/征收/供地批准 approvals"]
    fragments = gpd.read_file(demo_gpkg, layer="fragments")
    assert layers[1]["geom"]["n"] == len(fragments) == demo_map.overlays["子地块 fragments"]
    bounds = embedded(demo_map.path)["bounds"]
    for layer in layers[2:]:
        pts = np.array([p for f in decode(layer["geom"]) for poly in f for r in poly for p in r])
        assert len(pts) > 0
        assert (pts[:, 0] > bounds[0] - 0.05).all() and (pts[:, 0] < bounds[2] + 0.05).all()


def test_page_references_nothing_online(demo_map):
    text = demo_map.path.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    leaflet = (webmap.resources.files("landcheck.data") / "vendor" / "leaflet" /
               "leaflet.js").read_text(encoding="utf-8").split("\n//# sourceMappingURL")[0]
    assert leaflet in text
    own = text.replace(leaflet, "")
    for ref in ('src="http', "src='http", 'href="http', "href='http", "url(http", "@import"):
        assert ref not in own.lower()
    assert "url(http" not in text and 'src="http' not in text
    # inside Leaflet: the SVG namespace, and the attribution prefix, which is not shown
    # (attributionControl: false)
    assert re.findall(r"https?://[^\"' ]+", leaflet) == ["http://www.w3.org/2000/svg",
                                                        "https://leafletjs.com"]
    assert "attributionControl: false" in text
    assert "BSD 2-Clause License (Leaflet)" in text
    assert "sourceMappingURL" not in text


def test_refuses_an_existing_file_and_the_input(demo_map, demo_gpkg, tmp_path):
    before = demo_map.path.read_bytes()
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        write_map(demo_gpkg, demo_map.path)
    assert demo_map.path.read_bytes() == before
    with pytest.raises(InputError, match="is the GeoPackage"):
        write_map(demo_gpkg, demo_gpkg, overwrite=True)
    again = write_map(demo_gpkg, tmp_path / "m.html")
    assert write_map(demo_gpkg, again.path, overwrite=True).patches == 309
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.html"]  # no staging left


def test_cli_report_map(demo_gpkg, tmp_path):
    runner = CliRunner()
    out = tmp_path / "round.html"
    result = runner.invoke(cli, ["report", "map", str(demo_gpkg), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "309 patches, 308 drawn" in result.output
    result = runner.invoke(cli, ["report", "map", str(demo_gpkg), "-o", str(out)])
    assert result.exit_code == 2 and "--overwrite" in result.output
    bad = tmp_path / "bad.gpkg"
    bad.write_text("not a GeoPackage")
    result = runner.invoke(cli, ["report", "map", str(bad), "-o", str(tmp_path / "b.html")])
    assert result.exit_code == 1 and "bad.gpkg: not a readable GeoPackage" in result.output
    result = runner.invoke(cli, ["report", "map", str(demo_gpkg), "-o", str(demo_gpkg)])
    assert result.exit_code == 2 and "not an HTML file" in result.output


# --- the page in a browser --------------------------------------------------------------

def chromium(url: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium with every network request failing (proxy and DNS)."""
    return subprocess.run(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-proxy-server",
         "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,900",
         "--virtual-time-budget=5000", *args, url],
        capture_output=True, text=True, timeout=120, check=False)


@needs_chromium
def test_chromium_draws_every_patch(demo_map, verdicts, tmp_path):
    """The count the page writes once drawn: ``data-patches`` the features it holds (rows
    of ``verdicts``: 309), ``data-drawn`` the polygons it drew (non-empty geometry: 308)."""
    run = chromium(demo_map.path.as_uri(), tmp_path, "--dump-dom")
    m = re.search(r'<div id="lc-count"[^>]*>', run.stdout)
    assert m, run.stderr[-2000:]
    attrs = dict(re.findall(r'data-([a-z]+)="([^"]*)"', m[0]))
    assert int(attrs["patches"]) == len(verdicts) == 309
    assert int(attrs["drawn"]) == non_empty(verdicts) == 308
    assert attrs["external"] == "0"  # no element with an http(s) src or href
    assert attrs["layers"].split("|")[:2] == ["图斑 patches", "子地块 fragments"]
    assert int(attrs["legend"]) == 8


@needs_chromium
def test_chromium_screenshot_is_not_blank(demo_map, tmp_path):
    from PIL import Image

    png = tmp_path / "map.png"
    run = chromium(demo_map.path.as_uri(), tmp_path, f"--screenshot={png}")
    assert png.is_file(), run.stderr[-2000:]
    pixels = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)
    assert pixels.shape[0] == 1200 * 900
    colours = np.unique(pixels, axis=0)
    assert len(colours) > 20  # background, legend, and the category fills
    red = np.all(np.abs(pixels.astype(int) - (227, 26, 28)) < 60, axis=1)
    assert red.sum() > 50  # illegal_nonag patches are drawn in their QGIS colour


@needs_chromium
def test_chromium_opens_the_popup_of_the_patch_in_the_address(demo_map, verdicts, tmp_path):
    row = verdicts.iloc[0]
    run = chromium(demo_map.path.as_uri() + f"#id={row['id']}", tmp_path, "--dump-dom")
    popup = re.search(r'<div class="leaflet-popup-content"[^>]*>(.*?)</table>', run.stdout, re.S)
    assert popup, run.stderr[-2000:]
    text = popup[1]
    for part in (row["id"], "违法", "非农违法", "illegal_nonag", row["official_subclass"],
                 "城关镇", "349901001", "2023-11-20", "2329.00 平方米 m² / 3.49 亩",
                 f'href="cards/{row["id"]}.pdf"'):
        assert part in text, part
    for reason in row["reasons_zh"].split("；"):
        assert f"<li>{reason}</li>" in text
