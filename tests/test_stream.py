"""Streamed screening (screen_to_gpkg, ``landcheck screen --stream``) and the chunked reader
beneath it: same verdicts as the in-memory run, for every chunk size and patch format;
nothing half-written; ids checked file-wide."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from landcheck.cli.main import cli
from landcheck.errors import DuplicateIdError, LayerReadError, OutputExistsError
from landcheck.io import read_layer
from landcheck.io.read import layer_extent, read_field
from landcheck.layers import LayerSet
from landcheck.screen import screen
from landcheck.stream import screen_to_gpkg
from landcheck.testing import AS_OF, SAMPLES

CONFIG = SAMPLES / "county.toml"


@pytest.fixture(scope="module")
def in_memory(tmp_path_factory):
    """The in-memory run of the demo county, written and read back like the streamed one."""
    out = tmp_path_factory.mktemp("mem") / "mem.gpkg"
    screen(None, CONFIG, reference_date=AS_OF).to_gpkg(out)
    return {layer: _sorted(pyogrio.read_dataframe(out, layer=layer), layer)
            for layer in ("verdicts", "fragments")}


def _sorted(frame, layer):
    """Rows in id order; an empty geometry as null (a shapefile copy of the patches cannot
    hold the county's empty patch other than as null)."""
    key = ["parent_id", "part", "child_id"] if layer == "fragments" else ["id"]
    frame = frame.sort_values(key, kind="stable").reset_index(drop=True)
    empty = frame.geometry.notna() & frame.geometry.is_empty
    return frame.set_geometry(frame.geometry.where(~empty, None))


def _patch_copy(tmp_path, suffix) -> Path:
    """The county's patch layer (raw fields, Chinese text) copied into another format; the
    shapefile ``.gbk.shp`` in GBK with a ``.cpg``, ``.shp`` in UTF-8."""
    raw = pyogrio.read_dataframe(SAMPLES / "county" / "patches.gpkg", layer="patches_2023q3")
    if suffix == ".gbk.shp":
        path = tmp_path / "patches_gbk.shp"
        pyogrio.write_dataframe(raw, path, encoding="GBK")
        path.with_suffix(".cpg").write_text("GBK", encoding="ascii")
        return path
    path = tmp_path / f"patches{suffix}"
    if suffix == ".parquet":
        raw.to_parquet(path, row_group_size=50)  # several row groups: rows read by group
    elif suffix == ".fgb":  # a FlatGeobuf with null geometries cannot have a spatial index
        pyogrio.write_dataframe(raw, path, layer_options={"SPATIAL_INDEX": "NO"})
    else:
        pyogrio.write_dataframe(raw, path, encoding="UTF-8" if suffix == ".shp" else None)
    return path


@pytest.mark.parametrize("chunk_size", [7, 40, 1_000])
def test_streamed_output_equals_the_in_memory_run(tmp_path, in_memory, chunk_size):
    out = tmp_path / "s.gpkg"
    summary = screen_to_gpkg(None, CONFIG, out, reference_date=AS_OF, chunk_size=chunk_size,
                             threads=2)
    assert summary.patches == 309 and summary.chunks == -(-309 // chunk_size)
    assert summary.counts == {"illegal": 97, "needs_review": 23, "legal": 59, "other": 130}
    for layer, expected in in_memory.items():
        got = _sorted(pyogrio.read_dataframe(out, layer=layer), layer)
        pd.testing.assert_frame_equal(got, expected)
    meta = pyogrio.read_dataframe(out, layer="metadata").set_index("key")["value"]
    assert '"patches": 309' in meta["streamed"]
    assert '"n_features": 309' in meta["inputs"]
    assert not list(tmp_path.glob(".*"))  # no staging folder left


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".gbk.shp", ".parquet", ".fgb"])
def test_every_patch_format_streams_to_the_same_verdicts(tmp_path, in_memory, suffix):
    layerset = LayerSet.from_config(CONFIG)
    spec = layerset.patch_spec(_patch_copy(tmp_path, suffix))
    out = tmp_path / "s.gpkg"
    screen_to_gpkg(spec, layerset, out, reference_date=AS_OF, chunk_size=64)
    got = _sorted(pyogrio.read_dataframe(out, layer="verdicts"), "verdicts")
    expected = in_memory["verdicts"]
    # a shapefile stores rings clockwise: same polygons, other vertex order, so areas may
    # differ in the last bits
    assert got.geometry.geom_equals(expected.geometry).sum() == expected.geometry.notna().sum()
    # the patch file's own fields lead, typed as each format stores them (a shapefile or
    # FlatGeobuf copy may hold a date as text): same names, same values as text
    own = list(expected.columns[:expected.columns.get_loc("id")])
    assert list(got.columns[:len(own)]) == own

    for c in own:
        want = expected[c]
        if pd.api.types.is_datetime64_any_dtype(want.dtype):
            pd.testing.assert_series_equal(pd.to_datetime(got[c]).dt.date, want.dt.date)
        elif pd.api.types.is_float_dtype(want.dtype):
            np.testing.assert_allclose(got[c].astype(float), want, rtol=1e-12)
        else:
            assert got[c].astype("string").tolist() == want.astype("string").tolist(), c
    pd.testing.assert_frame_equal(pd.DataFrame(got.drop(columns=["geometry", *own])),
                                  pd.DataFrame(expected.drop(columns=["geometry", *own])),
                                  check_exact=False, rtol=1e-9)


def test_a_failure_midway_leaves_no_output_and_keeps_the_old_one(tmp_path, monkeypatch):
    import landcheck.stream as stream

    out = tmp_path / "s.gpkg"
    out.write_bytes(b"previous run")
    calls = {"n": 0}
    real = stream._append

    def failing(path, name, frame):
        calls["n"] += 1
        if calls["n"] == 5:  # third chunk's verdicts
            raise RuntimeError("disk unplugged")
        real(path, name, frame)

    monkeypatch.setattr(stream, "_append", failing)
    with pytest.raises(RuntimeError, match="disk unplugged"):
        screen_to_gpkg(None, CONFIG, out, reference_date=AS_OF, chunk_size=40, overwrite=True)
    assert out.read_bytes() == b"previous run"
    assert [p.name for p in tmp_path.iterdir()] == ["s.gpkg"]


def test_existing_output_is_refused_before_any_work(tmp_path):
    out = tmp_path / "s.gpkg"
    out.write_bytes(b"x")
    with pytest.raises(OutputExistsError, match="overwrite"):
        screen_to_gpkg(None, CONFIG, out, reference_date=AS_OF)


def test_duplicate_ids_anywhere_in_the_file_are_refused_first(tmp_path):
    raw = pyogrio.read_dataframe(SAMPLES / "county" / "patches.gpkg", layer="patches_2023q3")
    raw.loc[301, "JCBH"] = raw.loc[0, "JCBH"]  # first and last rows: different chunks
    path = tmp_path / "dup.gpkg"
    pyogrio.write_dataframe(raw, path)
    layerset = LayerSet.from_config(CONFIG)
    with pytest.raises(DuplicateIdError, match=raw.loc[0, "JCBH"]):
        screen_to_gpkg(layerset.patch_spec(path), layerset, tmp_path / "o.gpkg", chunk_size=40)
    assert not (tmp_path / "o.gpkg").exists()


def test_cli_stream(tmp_path):
    out = tmp_path / "s.gpkg"
    res = CliRunner().invoke(cli, ["screen", "--layers", str(CONFIG), "--as-of", AS_OF,
                                   "--stream", "--chunk-size", "100", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "309 features: illegal 97, needs_review 23, legal 59, other 130 (4 chunks" in res.output
    assert "chunk 4/4" in res.output


def test_streamed_summary_ledger_equals_the_in_memory_ledgers_summary(tmp_path):
    """Counts and areas summed over chunks give the in-memory ledger's summary sheet, cell
    for cell; the streamed workbook has no per-township patch sheets."""
    import openpyxl

    mem = tmp_path / "m.xlsx"
    screen(None, CONFIG, reference_date=AS_OF).to_xlsx(mem)
    out, xlsx = tmp_path / "s.gpkg", tmp_path / "s.xlsx"
    res = CliRunner().invoke(cli, ["screen", "--layers", str(CONFIG), "--as-of", AS_OF,
                                   "--stream", "--chunk-size", "40", "-o", str(out),
                                   "--xlsx", str(xlsx)])
    assert res.exit_code == 0, res.output

    def cells(path):
        book = openpyxl.load_workbook(path, read_only=True)
        return book.sheetnames, [list(r) for r in book["汇总 Summary"].iter_rows(values_only=True)]

    names_mem, rows_mem = cells(mem)
    names_s, rows_s = cells(xlsx)
    assert names_s == ["汇总 Summary"] and len(names_mem) > 1
    assert len(rows_s) == len(rows_mem)
    for row_s, row_mem in zip(rows_s, rows_mem, strict=True):
        if row_s and row_s[0] == "运行编号 (run id)":  # each run has its own
            assert row_mem[0] == row_s[0] and len(row_s[1]) == len(row_mem[1]) == 32
            assert row_s[1] != row_mem[1]
            continue
        for a, b in zip(row_s, row_mem, strict=True):
            if isinstance(a, float) and isinstance(b, float):
                assert a == pytest.approx(b, rel=1e-12, abs=1e-9)  # sums in another order
            else:
                assert a == b


# ------------------------------------------------------------------ the chunked reader


X0, Y0 = 39_500_000.0, 3_520_000.0


def _frame(n, null_at=()):
    geoms = [shapely.box(X0 + i, Y0, X0 + i + 1, Y0 + 1) for i in range(n)]
    for i in null_at:
        geoms[i] = None
    return gpd.GeoDataFrame({"id": [f"F{i}" for i in range(n)], "v": np.arange(n)},
                            geometry=geoms, crs="EPSG:4527")


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".parquet", ".fgb"])
def test_layer_extent_lists_every_feature_and_rows_come_back_in_order(tmp_path, suffix):
    gdf = _frame(7, null_at=(2,))
    path = tmp_path / f"f{suffix}"
    if suffix == ".parquet":
        gdf.to_parquet(path, row_group_size=3)
    elif suffix == ".fgb":
        pyogrio.write_dataframe(gdf, path, layer_options={"SPATIAL_INDEX": "NO"})
    else:
        pyogrio.write_dataframe(gdf, path)
    keys, bounds = layer_extent(path)
    assert len(keys) == 7 and bounds.shape == (7, 4)
    assert np.isnan(bounds[2]).all()
    np.testing.assert_allclose(bounds[5], [X0 + 5, Y0, X0 + 6, Y0 + 1])
    pick = keys[[6, 0, 2, 3]]
    part = read_layer(path, rows=pick, on_invalid="warn")
    assert part["id"].tolist() == ["F6", "F0", "F2", "F3"]
    assert part.geometry.isna().tolist() == [False, False, True, False]
    assert read_field(path, "id").tolist() == [f"F{i}" for i in range(7)]


def test_missing_feature_id_is_an_error(tmp_path):
    path = tmp_path / "f.gpkg"
    pyogrio.write_dataframe(_frame(3), path)
    with pytest.raises(LayerReadError, match="not found"):
        read_layer(path, rows=[1, 99])


@pytest.mark.parametrize("stream", [False, True])
def test_patch_layer_option_picks_the_layer(tmp_path, stream):
    """A round delivered as one layer of a multi-layer GeoPackage: --patch-layer names it,
    in memory and streamed."""
    raw = pyogrio.read_dataframe(SAMPLES / "county" / "patches.gpkg", layer="patches_2023q3")
    path = tmp_path / "rounds.gpkg"
    pyogrio.write_dataframe(raw.iloc[:10], path, layer="round2")
    pyogrio.write_dataframe(raw, path, layer="round3")
    out = tmp_path / "o.gpkg"
    args = ["screen", str(path), "--layers", str(CONFIG), "--as-of", AS_OF,
            "--patch-layer", "round3", "-o", str(out)] + (["--stream"] if stream else [])
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert len(pyogrio.read_dataframe(out, layer="verdicts", read_geometry=False)) == 309


def test_formats_that_cannot_be_read_by_id_are_refused(tmp_path):
    from landcheck.errors import InputError

    path = tmp_path / "round.kml"
    gdf = _frame(2).to_crs("EPSG:4326")
    pyogrio.write_dataframe(gdf, path, driver="KML")
    from landcheck.layers import LayerSpec

    spec = LayerSpec(role="patches", path=path, fields={"id": "id"})
    with pytest.raises(InputError, match=r"cannot be streamed.*GeoPackage"):
        screen_to_gpkg(spec, LayerSet.from_config(CONFIG), tmp_path / "o.gpkg")


def test_chunk_margin_covers_the_largest_search_distance():
    from landcheck.engine import CHUNK_MARGIN_M, chunk_margin

    assert chunk_margin({}) == CHUNK_MARGIN_M
    assert chunk_margin({"corridors": {"corridor_search_m": 10.0}}) == CHUNK_MARGIN_M
    assert chunk_margin({"corridors": {"corridor_search_m": 800}, "roads": {"x": 5}}) == 1600.0
