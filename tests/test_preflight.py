"""`inspect` as pre-flight QA: every field with type and samples, and the problems a run
would hit (missing layers, unusable values, wrong geometry types, layers off the map)."""

from __future__ import annotations

import json
import textwrap

import geopandas as gpd
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString, box

from landcheck.cli.main import cli
from landcheck.inspection import inspect_layerset, preflight
from landcheck.layers import LayerSet
from landcheck.testing import AS_OF, SAMPLES

CRS = "EPSG:4527"
X0, Y0 = 39_500_000.0, 3_520_000.0


def squares(n, dx=0.0, **fields):
    return gpd.GeoDataFrame(fields, geometry=[box(X0 + dx + 20 * i, Y0, X0 + dx + 20 * i + 10,
                                                  Y0 + 10) for i in range(n)], crs=CRS)


def county(tmp_path, *, farmland=None, approvals_dx=0.0, with_farmland=True):
    """A two-patch county: 图斑.gpkg (监测编号, 图斑类型, 后时相) and the layers given."""
    squares(2, 监测编号=["图斑甲", "图斑乙"], 图斑类型=["20", "20"],
            后时相=["2023-06-30", "2023-06-30"]).to_file(tmp_path / "图斑.gpkg")
    squares(1, approvals_dx, 批准文号=["浙土字〔2023〕15号"],
            批准日期=["2023-01-10"]).to_file(tmp_path / "批文.gpkg")
    table = """
        [patches]
        path = "图斑.gpkg"
        fields = { id = "监测编号", type = "图斑类型", after = "后时相" }
        [layers.approvals]
        path = "批文.gpkg"
        fields = { id = "批准文号", date = "批准日期" }
    """
    if with_farmland:
        (farmland if farmland is not None else squares(2, 永农编号=["F1", "F2"])).to_file(
            tmp_path / "永农.gpkg")
        table += """
        [layers.permanent_farmland]
        path = "永农.gpkg"
        fields = { id = "永农编号" }
        """
    cfg = tmp_path / "county.toml"
    cfg.write_text(textwrap.dedent(table), encoding="utf-8")
    return cfg


def errors(problems):
    return [p for p in problems if p.level == "error"]


def test_the_demo_county_has_warnings_and_no_errors():
    problems = preflight(LayerSet.from_config(SAMPLES / "county.toml"))
    assert errors(problems) == []
    text = "\n".join(p.line() for p in problems)
    assert "'99' × 1" in text and "[patches]" in text  # the demo's unknown patch type
    assert "其他设施" in text  # and its unknown facility kind


def test_fields_are_listed_with_type_samples_and_mapping(tmp_path):
    reports = {r.role: r for r in inspect_layerset(LayerSet.from_config(county(tmp_path)))}
    fields = {f.name: f for f in reports["approvals"].fields}
    assert list(fields) == ["批准文号", "批准日期"]
    assert fields["批准文号"].samples == ["浙土字〔2023〕15号"]
    assert fields["批准文号"].mapped_to == "id" and fields["批准日期"].mapped_to == "date"
    assert fields["批准文号"].non_null == 1
    patch_fields = {f.name: f for f in reports["patches"].fields}
    assert patch_fields["图斑类型"].samples == ["20"]  # distinct values, most frequent first


def test_a_layer_the_rules_read_that_the_config_lacks_is_named(tmp_path):
    problems = preflight(LayerSet.from_config(county(tmp_path, with_farmland=False)))
    missing = [p for p in problems if p.where == "rules"]
    assert any("永久基本农田 (permanent_farmland)" in p.message and p.level == "warning"
               for p in missing)
    assert errors(problems) == []


def test_lines_as_farmland_stop_the_run_and_the_other_layers_are_still_read(tmp_path):
    lines = gpd.GeoDataFrame({"永农编号": ["F1"]},
                             geometry=[LineString([(X0, Y0), (X0 + 10, Y0)])], crs=CRS)
    problems = preflight(LayerSet.from_config(county(tmp_path, farmland=lines)))
    [stop] = errors(problems)
    assert stop.where == "permanent_farmland"
    assert "must hold polygons" in stop.message and "'F1'" in stop.message


def test_a_layer_away_from_the_patches_is_a_warning_naming_it(tmp_path):
    problems = preflight(LayerSet.from_config(county(tmp_path, approvals_dx=100_000)))
    [apart] = [p for p in problems if p.where == "crs"]
    assert apart.level == "warning"
    assert "approvals" in apart.message and "批文.gpkg" in apart.message
    assert "does not meet" in apart.message


def test_dates_that_are_not_dates_are_listed(tmp_path):
    cfg = county(tmp_path)
    squares(1, 批准文号=["浙土字〔2023〕15号"], 批准日期=["待定"]).to_file(tmp_path / "批文.gpkg")
    problems = preflight(LayerSet.from_config(cfg))
    assert any("批准日期" in p.message and "'待定'" in p.message for p in problems)


def test_an_unknown_rule_pack_is_an_error_and_the_layers_are_still_checked(tmp_path):
    problems = preflight(LayerSet.from_config(county(tmp_path)), rules="no-such-pack")
    assert [p.where for p in errors(problems)] == ["rules"]


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_cli_inspect_ends_with_the_problems(tmp_path, as_json):
    cfg = county(tmp_path, approvals_dx=100_000)
    res = CliRunner().invoke(cli, ["inspect", str(cfg), *(["--json"] if as_json else [])])
    assert res.exit_code == 0, res.output
    if as_json:
        out = json.loads(res.stdout)
        assert {r["role"] for r in out["layers"]} == {"patches", "approvals", "permanent_farmland"}
        assert [p["where"] for p in out["problems"] if p["where"] != "rules"] == ["crs"]
        assert all(p["level"] == "warning" for p in out["problems"])
    else:
        tail = res.output.split("problems a run with --rules city2023 would hit:")[1]
        assert tail.startswith(" 0 error(s), 8 warning(s)")  # 7 missing layers, 1 extent
        assert "warning: [crs] layer approvals" in tail
        assert "warning: [rules] rule pack city2023: the layer set has no 地类图斑" in tail


def test_cli_inspect_exits_1_when_a_run_would_stop(tmp_path):
    lines = gpd.GeoDataFrame({"永农编号": ["F1"]},
                             geometry=[LineString([(X0, Y0), (X0 + 10, Y0)])], crs=CRS)
    res = CliRunner().invoke(cli, ["inspect", str(county(tmp_path, farmland=lines)),
                                   "--rules", "city2023"])
    assert res.exit_code == 1, res.output
    assert "1 error(s)" in res.output
    assert "landcheck: error: a run would stop:" in res.output
    assert "Traceback" not in res.output


def test_screen_meets_what_preflight_said(tmp_path):
    """What preflight calls an error is where screen stops."""
    lines = gpd.GeoDataFrame({"永农编号": ["F1"]},
                             geometry=[LineString([(X0, Y0), (X0 + 10, Y0)])], crs=CRS)
    cfg = county(tmp_path, farmland=lines)
    [stop] = errors(preflight(LayerSet.from_config(cfg)))
    res = CliRunner().invoke(cli, ["screen", "--layers", str(cfg), "--as-of", AS_OF,
                                   "-o", str(tmp_path / "out.gpkg")])
    assert res.exit_code == 1
    assert "must hold polygons" in res.output and "must hold polygons" in stop.message
