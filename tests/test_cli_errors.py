"""CLI errors a user can act on: CLI option names in messages, exit codes (2 usage, 1 failure),
no traceback without -vv, rule-parameter checks, [patches] without a path, a loud --as-of
default."""

from __future__ import annotations

import datetime as dt
import sqlite3
import textwrap
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

import landcheck.rules
from landcheck.cli.helpers import cli_text
from landcheck.cli.main import cli

X0, Y0 = 39_500_000.0, 3_520_000.0
AS_OF = ["--as-of", "2023-09-30"]


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def county(tmp_path):
    """Two 10 m × 10 m patches (GBK shapefile, Chinese field names), one 5 m × 10 m permanent
    farmland parcel over the first, a two-layer GeoPackage of the same patches, and a config
    whose [patches] table maps fields but names no file."""
    patches = gpd.GeoDataFrame(
        {"图斑编号": ["甲1", "乙2"], "变化类型": ["新增", "新增"]},
        geometry=[box(X0, Y0, X0 + 10, Y0 + 10), box(X0 + 20, Y0, X0 + 30, Y0 + 10)],
        crs="EPSG:4527",
    )
    patches.to_file(tmp_path / "图斑.shp", encoding="GBK")
    patches.to_file(tmp_path / "two.gpkg", layer="甲")
    patches.to_file(tmp_path / "two.gpkg", layer="乙")
    farmland = gpd.GeoDataFrame({"标识码": ["农1"]}, geometry=[box(X0, Y0, X0 + 5, Y0 + 10)],
                                crs="EPSG:4527")
    farmland.to_file(tmp_path / "yjjbnt.shp", encoding="GBK")
    (tmp_path / "county.toml").write_text(textwrap.dedent("""\
        [patches]
        fields = { id = "图斑编号", note = "备注" }

        [layers.permanent_farmland]
        path = "yjjbnt.shp"
        fields = { id = "标识码" }
        """), encoding="utf-8")
    return tmp_path


def _clean(result):
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# -- 1. the CLI speaks CLI ---------------------------------------------------------------------

def test_messages_name_cli_options_not_python_keywords(runner, county):
    inspected = runner.invoke(cli, ["inspect", str(county / "two.gpkg")])
    assert inspected.exit_code == 1
    assert "pass --layer with one of: '甲' (Polygon), '乙' (Polygon)" in inspected.output
    assert "layer=" not in inspected.output
    screened = runner.invoke(cli, ["screen", str(county / "two.gpkg"), "--layers",
                                   str(county / "county.toml"), "-o", str(county / "o.gpkg"),
                                   *AS_OF])
    assert screened.exit_code == 1
    assert ("two.gpkg has 2 layers; pass --patch-layer (for PATCHES) or set `layer` in "
            "[patches] to one of: 甲, 乙") in screened.output
    _clean(inspected), _clean(screened)


def test_zone_advice_follows_the_subcommand():
    api = ("yjjbnt.shp: the file has no CRS and its eastings (500000..500010) have no zone "
           "prefix; the zone cannot be known from coordinates: pass the zone, e.g. zone=39 or "
           "central_meridian=117 (config key `zone` / `central_meridian`), or add a .prj.")
    assert cli_text(api, "inspect").endswith(
        "from coordinates: pass --zone 39 or --central-meridian 117, or add a .prj.")
    assert cli_text(api, "screen").endswith(
        "from coordinates: set `zone = 39` or `central_meridian = 117` in the layer's config "
        "table, or add a .prj.")
    assert "coordinates: pass --crs (e.g. EPSG:4527) for PROJECT or set `zone = 39`" in cli_text(
        api, "site")
    assert cli_text("out.shp: write_layers writes GeoPackages only; use a .gpkg path", "screen") \
        == "out.shp: -o/--output must be a GeoPackage; name it *.gpkg"


# -- 2. exit codes, -q/-v after the subcommand ---------------------------------------------------

def test_unknown_subject_is_a_usage_error(runner, county):
    result = runner.invoke(cli, ["check", "projcts", "--layers", str(county / "county.toml"),
                                 "-o", str(county / "o.gpkg"), *AS_OF])
    assert result.exit_code == 2
    assert "unknown subject 'projcts'; use one of: development_plans, projects" in result.output
    assert not (county / "o.gpkg").exists()
    _clean(result)


def test_impossible_as_of_date_is_a_usage_error_naming_option_and_value(runner, county):
    result = runner.invoke(cli, ["screen", "--layers", str(county / "county.toml"),
                                 "-o", str(county / "o.gpkg"), "--as-of", "2023-02-30"])
    assert result.exit_code == 2
    assert "Invalid value for '--as-of': '2023-02-30' is not a date" in result.output
    _clean(result)


def test_bad_output_suffix_is_a_usage_error_before_any_work(runner, county):
    result = runner.invoke(cli, ["screen", str(county / "图斑.shp"), "--layers",
                                 str(county / "county.toml"), "-o", str(county / "o.shp"),
                                 *AS_OF])
    assert result.exit_code == 2
    assert "o.shp is not a GeoPackage; name it *.gpkg" in result.output
    assert "reading patches" not in result.output
    _clean(result)


def test_quiet_and_verbose_accepted_after_the_subcommand(runner):
    quiet = runner.invoke(cli, ["rules", "city2023", "-q"])
    assert quiet.exit_code == 0, quiet.output
    verbose = runner.invoke(cli, ["rules", "no_such_pack", "-vv"])
    assert verbose.exit_code == 1
    assert verbose.exception is not None and not isinstance(verbose.exception, SystemExit)
    plain = runner.invoke(cli, ["rules", "no_such_pack"])
    assert plain.exit_code == 1 and "landcheck: error:" in plain.output
    _clean(plain)


# -- 3. pack parameter checks ------------------------------------------------------------------

@pytest.mark.parametrize("setting, shown", [
    ("legality.sliver_m2=-1", "parameter 'sliver_m2' = -1 must not be negative (its name ends "
                              "in _m2)"),
    ("legality.sliver_m2=1" + "0" * 400, "parameter 'sliver_m2' = 1000…000 (401 digits) is not "
                                         "a finite number within float range"),
    ("legality.sliver_m2=inf", "parameter 'sliver_m2' = inf is not a finite number"),
])
def test_set_refuses_negative_and_out_of_range_numbers(runner, setting, shown):
    result = runner.invoke(cli, ["rules", "city2023", "--set", setting])
    assert result.exit_code == 1
    assert f"--set {setting.split('=')[0]}: {shown}" in result.output
    _clean(result)


def test_pack_parameter_of_400_digits_is_a_rule_error(runner, tmp_path):
    text = (Path(landcheck.rules.__file__).parent / "packs" / "city2023.toml").read_text(
        encoding="utf-8")
    assert "sliver_m2 = 1.0" in text
    pack = tmp_path / "big.toml"
    pack.write_text(text.replace("sliver_m2 = 1.0", "sliver_m2 = 1" + "0" * 400, 1),
                    encoding="utf-8")
    result = runner.invoke(cli, ["rules", str(pack)])
    assert result.exit_code == 1
    assert "parameter 'sliver_m2' = 1000…000 (401 digits) is not a finite number" in result.output
    _clean(result)


# -- 4. [patches] without a path; optional mapped fields absent from the file -------------------

def test_patches_table_without_path_reads_patches_given_on_the_command_line(runner, county):
    out = county / "o.gpkg"
    result = runner.invoke(cli, ["screen", str(county / "图斑.shp"), "--layers",
                                 str(county / "county.toml"), "-o", str(out), *AS_OF])
    assert result.exit_code == 0, result.output
    assert ("warning: patches.fields.note: optional field '备注' not in 图斑.shp; the layer is "
            "read without `note`") in result.output
    assert "2 features:" in result.output
    ids = gpd.read_file(out, layer="verdicts")["id"].tolist()
    assert sorted(ids) == ["乙2", "甲1"]
    without = runner.invoke(cli, ["screen", "--layers", str(county / "county.toml"),
                                  "-o", str(county / "p.gpkg"), *AS_OF])
    assert without.exit_code == 1
    assert "[patches] has no `path`; give PATCHES on the command line" in without.output
    _clean(result), _clean(without)


def test_required_mapped_field_absent_stays_an_error(runner, county):
    cfg = county / "county.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('id = "图斑编号"', 'id = "编号"'),
                   encoding="utf-8")
    result = runner.invoke(cli, ["screen", str(county / "图斑.shp"), "--layers", str(cfg),
                                 "-o", str(county / "o.gpkg"), *AS_OF])
    assert result.exit_code == 1
    assert "patches.fields.id: field '编号' not in 图斑.shp" in result.output
    _clean(result)


# -- 5. --as-of defaults loudly ----------------------------------------------------------------

def test_missing_as_of_warns_and_is_recorded_in_the_provenance(runner, county):
    out = county / "o.gpkg"
    result = runner.invoke(cli, ["screen", str(county / "图斑.shp"), "--layers",
                                 str(county / "county.toml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    today = dt.date.today().isoformat()
    assert (f"landcheck: warning: --as-of not given: using today's date {today} for deadlines "
            "and terms") in result.output
    with sqlite3.connect(out) as con:
        blob = " ".join(str(v) for row in con.execute("SELECT * FROM metadata") for v in row)
    assert "reference_date_how" in blob and "default: today's date" in blob
    given = runner.invoke(cli, ["screen", str(county / "图斑.shp"), "--layers",
                                str(county / "county.toml"), "-o", str(county / "g.gpkg"),
                                *AS_OF])
    assert "--as-of not given" not in given.output
    _clean(result)


def test_unexpected_failure_is_one_line_without_traceback(runner, monkeypatch):
    import importlib

    screen_module = importlib.import_module("landcheck.screen")

    def broken(*args, **kwargs):
        raise NotImplementedError("CurvePolygon")

    monkeypatch.setattr(screen_module, "load_rules", broken)
    result = runner.invoke(cli, ["rules", "city2023"])
    assert result.exit_code == 1
    assert ("landcheck: error: NotImplementedError: CurvePolygon (an unexpected failure; rerun "
            "with -vv for the traceback and report it)") in result.output
    _clean(result)
    assert isinstance(runner.invoke(cli, ["-vv", "rules", "city2023"]).exception,
                      NotImplementedError)
