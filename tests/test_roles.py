"""Roles: one declaration drives the lists, and a config adds a zone role of its own.

The custom-role case is checkable on paper: a 100 m × 100 m patch, its top half approved
before the after-date, the flood zone over its left half. The remainder is the bottom half
(5,000 m²) and its share in the flood zone the bottom-left quarter (2,500 m²); the patch's
area in the flood zone is the left half (5,000 m²). (Official areas are ellipsoidal; near
the zone's central meridian they match the plane areas to ~1e-5.)
"""

from __future__ import annotations

import textwrap

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

import landcheck
from landcheck.chain import VERDICT_FACTS
from landcheck.errors import ConfigError, RuleError
from landcheck.facts import fact_docs, fact_schema
from landcheck.layers import ROLES, LayerSet
from landcheck.report.ledger import LEDGER_COLUMNS, ledger_columns
from landcheck.roles import BUILTIN
from landcheck.site import SITE_ROLES
from landcheck.verdicts import verdict_docs

CRS = "EPSG:4527"  # CGCS2000 3° zone 39, central meridian 117° E
X0, Y0 = 39_500_000.0, 4_400_000.0  # on the central meridian

PACK = """
name = "flood"
version = "1.0"
valid_from = 2024-01-01
title_zh = "洪涝风险区"
title_en = "Flood zone"

[[rules]]
id = "flood.remainder"
family = "flood"
verdict = "illegal"
area = "remainder_m2"
reason_zh = "未批先建部分位于洪涝风险区（{remainder_flood_zone_m2} 平方米）"
reason_en = "unapproved part in the flood zone ({remainder_flood_zone_m2} m²)"
when = "remainder_flood_zone_m2 > 0"
"""


def _frame(rows, **cols):
    return gpd.GeoDataFrame(cols, geometry=rows, crs=CRS)


@pytest.fixture
def county(tmp_path):
    _frame([box(X0, Y0, X0 + 100, Y0 + 100)], 监测编号=["P1"], 图斑类型=["JS"],
           后时相=["2024-06-01"]).to_file(tmp_path / "patches.gpkg")
    _frame([box(X0 - 10, Y0 + 50, X0 + 110, Y0 + 110)], 批准文号=["国土批〔2024〕1号"],
           批准日期=["2024-03-01"]).to_file(tmp_path / "approvals.gpkg")
    _frame([box(X0 - 10, Y0 - 10, X0 + 50, Y0 + 110)], 编号=["HL-01"], 名称=["一号蓄滞区"]
           ).to_file(tmp_path / "flood.gpkg")
    (tmp_path / "pack.toml").write_text(PACK, encoding="utf-8")
    config = tmp_path / "county.toml"
    config.write_text(textwrap.dedent("""
        crs = "EPSG:4527"

        [patches]
        path = "patches.gpkg"
        fields = { id = "监测编号", type = "图斑类型", after = "后时相" }

        [layers.approvals]
        path = "approvals.gpkg"
        fields = { id = "批准文号", date = "批准日期" }

        [layers.flood_zone]
        kind = "zone"
        label_zh = "洪涝风险区"
        label_en = "flood zone"
        remainder_share = true
        path = "flood.gpkg"
        fields = { id = "编号", name = "名称" }
    """), encoding="utf-8")
    return tmp_path


def test_builtin_lists_are_derived_from_the_declaration():
    assert list(ROLES) == list(BUILTIN)
    assert all(ROLES[n].fields == r.fields and ROLES[n].name_zh == r.label_zh
               for n, r in BUILTIN.items())
    assert [s.key for s in BUILTIN.shares] == ["pf", "farmland", "redline"]
    assert [c for c, _ in LEDGER_COLUMNS if c.startswith("illegal_") and c != "illegal_m2"] \
        == [s.illegal for s in BUILTIN.shares]
    assert [r for r, _, _ in SITE_ROLES if r not in ("landuse_group", "landuse")] \
        == [r.name for r in BUILTIN.site_roles if r.name != "landuse"]
    assert set(BUILTIN.verdict_facts) <= set(VERDICT_FACTS)
    schema = fact_schema()
    for role in BUILTIN.zone_roles:
        assert {f"{role}_m2", f"{role}_frac", f"{role}_n", f"{role}_ids"} <= set(schema)
    assert all(s.remainder in schema for s in BUILTIN.shares)


def test_custom_zone_role_end_to_end(county):
    layers = LayerSet.from_config(county / "county.toml")
    roles = layers.role_set
    assert [r.name for r in roles.custom] == ["flood_zone"]
    schema, docs = fact_schema(roles), fact_docs(roles)
    builtin = list(fact_schema())
    assert list(schema)[: len(builtin)] == builtin  # custom facts come after the built-in
    for col in ("flood_zone_m2", "flood_zone_frac", "flood_zone_n", "flood_zone_ids",
                "remainder_flood_zone_m2"):
        assert col in schema and docs[col]

    result = landcheck.screen(None, layers, rules=county / "pack.toml",
                              reference_date="2024-12-01")
    facts = result.facts.iloc[0]
    area = facts["area_m2"]
    assert area == pytest.approx(10_000, rel=1e-4)
    assert facts["flood_zone_m2"] == pytest.approx(area / 2, rel=1e-6)
    assert facts["flood_zone_frac"] == pytest.approx(0.5, rel=1e-6)
    assert facts["flood_zone_n"] == 1 and facts["flood_zone_ids"] == ["HL-01"]
    assert facts["remainder_m2"] == pytest.approx(area / 2, rel=1e-6)
    assert facts["remainder_flood_zone_m2"] == pytest.approx(area / 4, rel=1e-6)
    assert list(result.facts.columns)[: len(builtin)] == builtin

    v = result.verdicts.iloc[0]
    assert v["verdict"] == "illegal" and v["rules"] == ["flood.remainder"]
    assert v["illegal_m2"] == pytest.approx(area / 2, rel=1e-6)
    assert v["illegal_flood_zone_m2"] == pytest.approx(area / 4, rel=1e-6)
    assert v["flood_zone_m2"] == pytest.approx(area / 2, rel=1e-6)
    assert "洪涝风险区" in v["reasons_zh"]
    documented = {**fact_docs(roles), **verdict_docs(roles)}
    own = set(result.verdicts.columns[:result.verdicts.columns.get_loc("id")])  # the file's
    assert own == {"监测编号", "图斑类型", "后时相"}
    assert [c for c in result.verdicts.columns
            if c != "geometry" and c not in own and not documented.get(c)] == []
    assert result.summary()["illegal_flood_zone_m2"].iloc[-1] == pytest.approx(area / 4)

    out = result.to_xlsx(county / "ledger.xlsx")
    header = "违法占洪涝风险区/亩 (illegal in the flood zone, mu)"
    assert (header in dict(ledger_columns(roles)).values())
    sheets = pd.read_excel(out, sheet_name=None, header=None)
    patch_sheet = next(df for name, df in sheets.items() if name[:1].isdigit() or
                       name.startswith("(")).iloc[3:].reset_index(drop=True)
    patch_sheet.columns = patch_sheet.iloc[0]
    expected = round(area / 4 * 3 / 2000, 2)
    assert patch_sheet["违法占洪涝风险区/亩"].iloc[1] == pytest.approx(expected)
    summary = sheets["汇总 Summary"].astype(str).to_numpy().ravel().tolist()
    assert "违法占洪涝风险区/亩 (illegal_flood_zone, mu)" in summary

    site = landcheck.site_query(
        gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 20, Y0 + 100)], crs=CRS), layers)
    row = site.table[site.table["role"] == "flood_zone"].iloc[0]
    assert row["role_name"] == "洪涝风险区" and row["ids"] == ["HL-01"]
    assert row["area_m2"] == pytest.approx(site.site_area_m2, rel=1e-9)
    assert "洪涝风险区 flood zone" in site.summary_text()


def test_rules_cli_checks_a_pack_against_the_layer_roles(county):
    from landcheck.cli.main import cli as main

    runner = CliRunner()
    bare = runner.invoke(main, ["rules", str(county / "pack.toml")])
    assert bare.exit_code != 0 and "remainder_flood_zone_m2" in bare.output
    ok = runner.invoke(main, ["rules", str(county / "pack.toml"),
                              "--layers", str(county / "county.toml")])
    assert ok.exit_code == 0, ok.output
    assert "flood.remainder" in ok.output
    with pytest.raises(RuleError, match="remainder_flood_zone_m2"):
        landcheck.load_rules(county / "pack.toml")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"kind": "cover", "label_zh": "洪区"}, r"layers\.flood_zone\.kind: unknown kind 'cover'"),
        ({"kind": "zone"}, r"layers\.flood_zone\.label_zh: must be text"),
        ({"kind": "zone", "label_zh": "洪区", "remainder_share": "yes"},
         r"layers\.flood_zone\.remainder_share: must be true or false"),
        ({"label_zh": "洪区"}, r"layers\.flood_zone: unknown role"),
    ],
)
def test_custom_role_config_errors_name_the_key(county, table, message):
    data = {"layers": {"flood_zone": {"path": str(county / "flood.gpkg"), **table}}}
    with pytest.raises(ConfigError, match=message):
        LayerSet.from_dict(data)


@pytest.mark.parametrize("name", ["permanent_farmland", "approved", "remainder", "cover"])
def test_custom_role_may_not_clash_with_builtin_names(county, name):
    data = {"layers": {name: {"path": str(county / "flood.gpkg"), "kind": "zone",
                              "label_zh": "区", "remainder_share": True}}}
    with pytest.raises(ConfigError, match=rf"layers\.{name}"):
        LayerSet.from_dict(data)


def test_label_keys_belong_to_custom_roles(county):
    data = {"layers": {"eco_redline": {"path": str(county / "flood.gpkg"), "label_zh": "红线"}}}
    with pytest.raises(ConfigError, match=r"layers\.eco_redline: unknown key 'label_zh' "
                                          r"\(label_zh declares a custom role"):
        LayerSet.from_dict(data)


def test_role_set_pickles_with_its_custom_roles(county):
    import pickle

    roles = LayerSet.from_config(county / "county.toml").role_set
    again = pickle.loads(pickle.dumps(roles))
    assert again == roles and again["flood_zone"].label_zh == "洪涝风险区"


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_custom_role_facts_are_the_same_on_every_engine(county, engine):
    pytest.importorskip("distributed") if engine == "dask" else None
    layers = LayerSet.from_config(county / "county.toml")
    options = {"scheduler": "local-threads:1"} if engine == "dask" else {"threads": 2}
    result = landcheck.screen(None, layers, rules=county / "pack.toml", engine=engine,
                              reference_date="2024-12-01", chunk_size=1, **options)
    base = landcheck.screen(None, layers, rules=county / "pack.toml",
                            reference_date="2024-12-01")
    pd.testing.assert_frame_equal(result.facts, base.facts)
    assert result.facts["remainder_flood_zone_m2"].notna().all()


def test_custom_role_in_a_streamed_run(county):
    import pyogrio

    from landcheck.stream import screen_to_gpkg

    layers = LayerSet.from_config(county / "county.toml")
    screen_to_gpkg(None, layers, county / "out.gpkg", county / "pack.toml",
                   xlsx=county / "sum.xlsx", reference_date="2024-12-01")
    verdicts = pyogrio.read_dataframe(county / "out.gpkg", layer="verdicts")
    assert verdicts["illegal_flood_zone_m2"].iloc[0] == pytest.approx(2_500, rel=1e-4)
    summary = pd.read_excel(county / "sum.xlsx", header=None).astype(str).to_numpy().ravel()
    assert "违法占洪涝风险区/亩 (illegal_flood_zone, mu)" in summary.tolist()
