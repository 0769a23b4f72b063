"""The command line: version, inspect on files and configs, errors without tracebacks."""

from __future__ import annotations

import json
import textwrap

import geopandas as gpd
import pytest
from click.testing import CliRunner
from shapely.geometry import Polygon, box

from landcheck import __version__
from landcheck.cli.main import cli

X0, Y0 = 39_500_000.0, 3_520_000.0


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def files(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"BSM": ["1", "2", "2"], "DLBM": ["0101", "0102", "0201K"]},
        geometry=[box(X0, Y0, X0 + 10, Y0 + 10), box(X0 + 10, Y0, X0 + 20, Y0 + 10),
                  Polygon([(X0, Y0), (X0 + 2, Y0 + 2), (X0 + 2, Y0), (X0, Y0 + 2)])],
        crs="EPSG:4527",
    )
    gdf.to_file(tmp_path / "dltb.gpkg", layer="DLTB")
    noprj = gdf.iloc[:2].copy()
    noprj.geometry = noprj.geometry.translate(-39_000_000)  # unprefixed eastings ~500000
    noprj.to_file(tmp_path / "noprj.shp")
    (tmp_path / "noprj.prj").unlink()
    return tmp_path


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_inspect_file_reports_counts(runner, files):
    result = runner.invoke(cli, ["inspect", str(files / "dltb.gpkg"), "--id-field", "BSM"])
    assert result.exit_code == 0, result.output
    assert "features   3" in result.output
    assert "EPSG:4527" in result.output
    assert "invalid    1" in result.output
    assert "duplicates: '2'" in result.output


def test_inspect_json(runner, files):
    result = runner.invoke(cli, ["inspect", str(files / "dltb.gpkg"), "--json"])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.output)
    assert report["features"] == 3 and report["invalid"] == 1 and report["crs"] == "EPSG:4527"


def test_inspect_ambiguous_zone_is_an_error_with_a_hint(runner, files):
    result = runner.invoke(cli, ["inspect", str(files / "noprj.shp")])
    assert result.exit_code == 1
    assert "noprj.shp" in result.output
    assert "pass --zone 39 or --central-meridian 117" in result.output
    assert "Traceback" not in result.output


def test_inspect_with_zone_hint(runner, files):
    result = runner.invoke(cli, ["inspect", str(files / "noprj.shp"), "--zone", "39"])
    assert result.exit_code == 0, result.output
    assert "EPSG:4548" in result.output


def test_inspect_config_problems_exit_1(runner, files):
    cfg = files / "bad.toml"
    cfg.write_text(textwrap.dedent("""
        [layers.landuse]
        path = "dltb.gpkg"
        fields = { class = "DLBMX" }
        [layers.farmland]
        path = "nope.shp"
    """), encoding="utf-8")
    result = runner.invoke(cli, ["inspect", str(cfg)])
    assert result.exit_code == 1
    assert "2 problems" in result.output
    assert "'DLBMX' not in dltb.gpkg" in result.output
    assert "layers.farmland: unknown role" in result.output


def test_usage_error_exit_2(runner):
    result = runner.invoke(cli, ["inspect"])
    assert result.exit_code == 2


def test_rules_lists_the_pack(runner):
    result = runner.invoke(cli, ["rules"])
    assert result.exit_code == 0, result.output
    assert "city2023" in result.output and "legality.unapproved_construction" in result.output


def test_rules_bad_override(runner):
    result = runner.invoke(cli, ["rules", "--set", "legality.nope=1"])
    assert result.exit_code == 1
    assert "parameters that exist" in result.output
