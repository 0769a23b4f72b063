"""The dask engine runs the same per-chunk function and gives the local engine's results."""

from __future__ import annotations

import functools
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from landcheck.backends import dask as dask_engine
from landcheck.errors import InputError
from landcheck.screen import screen
from landcheck.testing import AS_OF, SAMPLES

COLS = ["id", "verdict", "rules", "legal_m2", "illegal_m2", "review_m2", "other_m2", "due_date"]

NO_DASK = "the dask engine needs the dask extra: pip install -e '.[dask]'"


def _screen(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return screen(None, SAMPLES / "county.toml", reference_date=AS_OF, **kw)


@pytest.fixture(scope="module")
def local():
    return _screen()


@pytest.fixture(scope="module")
def demo_inputs():
    """Canonical patches and reference layers of the demo county, in the working CRS."""
    from landcheck.layers import LayerSet

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layerset = LayerSet.from_config(SAMPLES / "county.toml")
        patches = layerset.patch_spec(None).read()
        layers = {role: layerset.read(role) for role in layerset.roles}
    return patches, layers


def test_dask_verdicts_identical_to_local(tmp_path, local):
    pytest.importorskip("distributed", reason=NO_DASK)
    remote = _screen(engine="dask", scheduler="local-threads:2", chunk_size=80, shared_dir=tmp_path)
    pd.testing.assert_frame_equal(
        pd.DataFrame(local.verdicts[COLS]), pd.DataFrame(remote.verdicts[COLS])
    )
    pd.testing.assert_frame_equal(
        local.fragments.drop(columns="geometry"), remote.fragments.drop(columns="geometry")
    )
    # the workers read the reference layers from the shared folder
    assert (tmp_path / "landuse.parquet").exists()


@pytest.mark.parametrize("partition", ["tiles", "township"])
def test_dask_facts_identical_to_local(tmp_path, monkeypatch, local, partition):
    """Every fact column to the bit, ids lists in the same order, the same fragments; with
    small chunks (several tasks per township) so the bounding-box reads really filter."""
    pytest.importorskip("distributed", reason=NO_DASK)
    reads = []
    read = dask_engine._read

    def counting_read(layer, box):
        frame = read(layer, box)
        reads.append((Path(layer.path).stem, len(frame)))
        return frame

    # in-process workers ("local-threads") run the module's functions, patched here
    monkeypatch.setattr(dask_engine, "_read", counting_read)
    monkeypatch.setattr(
        dask_engine,
        "facts_on_dask",
        functools.partial(dask_engine.facts_on_dask, partition=partition),
    )
    remote = _screen(engine="dask", scheduler="local-threads:2", chunk_size=40, shared_dir=tmp_path)
    _assert_facts_equal(local.facts, remote.facts)
    pd.testing.assert_frame_equal(
        pd.DataFrame(local.verdicts.drop(columns="geometry")),
        pd.DataFrame(remote.verdicts.drop(columns="geometry")),
        check_exact=True,
    )
    pd.testing.assert_frame_equal(
        local.fragments.drop(columns="geometry"),
        remote.fragments.drop(columns="geometry"),
        check_exact=True,
    )
    assert list(shapely.to_wkb(local.fragments.geometry.to_numpy())) == list(
        shapely.to_wkb(remote.fragments.geometry.to_numpy())
    )
    landuse = [n for role, n in reads if role == "landuse"]
    n_landuse = len(gpd.read_parquet(tmp_path / "landuse.parquet"))
    assert len(landuse) >= 309 // 40  # one read per task
    assert max(landuse) < n_landuse  # every task read a part of the layer only


def _assert_facts_equal(left, right):
    """Exactly equal facts: values, order, dtypes (text facts keep one dtype however the
    patches are chunked, even in a chunk where they are all null)."""
    pd.testing.assert_frame_equal(left, right, check_exact=True)


def test_bbox_read_is_the_chunks_extent_exactly(tmp_path, demo_inputs):
    """A task reads the features whose bounding box meets its patches' bounding box: fewer
    rows than the layer, in the layer's row order, with its index, dtypes and geometries."""
    from landcheck.engine import spatial_order

    patches, layers = demo_inputs
    rows = np.sort(spatial_order(patches)[:40])
    box = dask_engine._bounds(patches.geometry.to_numpy()[rows])
    for role in ("landuse", "buildings", "permanent_farmland"):
        layer = layers[role]
        file = dask_engine._write(layer, tmp_path / f"{role}.parquet", role)
        got = dask_engine._read(file, box)
        b = layer.bounds
        meets = ~((b.minx > box[2]) | (b.miny > box[3]) | (b.maxx < box[0]) | (b.maxy < box[1]))
        want = layer[meets.to_numpy()]
        assert len(got) < len(layer)
        assert len(got) > 0 or role != "landuse"  # the land use covers the county
        assert_geodataframe_equal(got, want, check_index_type=False)
        assert list(got.index) == list(want.index)
        # no patch of the chunk meets a feature that was not read
        _, ri = shapely.STRtree(layer.geometry.to_numpy()).query(
            patches.geometry.to_numpy()[rows], predicate="intersects"
        )
        assert set(ri) <= set(np.flatnonzero(meets.to_numpy()))


def test_layer_file_round_trip_keeps_dtypes_and_skips_empty_geometries(tmp_path):
    """pandas "string" and "str" text, dates, a column named ``bbox`` and a non-range index
    come back as they were; rows with a null or empty geometry are not read (they cannot
    meet a patch); the whole-layer read gives everything back."""
    n = 6
    layer = gpd.GeoDataFrame(
        {
            "id": pd.array(["a", None, "c", "d", "e", "f"], dtype="string"),
            "name": pd.Series(["x", "y", None, "w", "v", "u"], dtype="str"),
            "date": pd.to_datetime(["2020-01-01", None, "2021-05-06", "2022-01-01"] * 2)[:n],
            "bbox": np.arange(n, dtype=float),
        },
        geometry=[
            shapely.box(5, 5, 6, 6),
            None,
            shapely.Polygon(),
            shapely.box(0, 0, 1, 1),
            shapely.box(100, 100, 101, 101),
            shapely.box(0.5, 0.5, 2, 2),
        ],
        crs="EPSG:4527",
        index=pd.Index([10, 11, 12, 13, 14, 15]),
    )
    file = dask_engine._write(layer, tmp_path / "layer.parquet")
    got = dask_engine._read(file, (0.0, 0.0, 6.0, 6.0))
    assert_geodataframe_equal(got, layer.loc[[10, 13, 15]])
    assert str(got["id"].dtype) == "string" and str(got["name"].dtype) == "str"
    whole = dask_engine._read(
        dask_engine.LayerFile(file.path, file.columns, file.dtypes, float("inf")), None
    )
    assert_geodataframe_equal(whole, layer)
    nothing = dask_engine._read(file, None)
    assert len(nothing) == 0 and dict(nothing.dtypes) == dict(layer.dtypes)


def test_partitions_cover_every_patch_once(demo_inputs):
    patches, _ = demo_inputs
    patches = patches.copy()
    patches.loc[patches.index[:7], "township"] = None
    n = len(patches)
    for partition in dask_engine.PARTITIONS:
        chunks = dask_engine._partition(patches, 25, partition)
        assert np.array_equal(np.sort(np.concatenate(chunks)), np.arange(n))
        assert max(len(c) for c in chunks) <= 25
    chunks = dask_engine._partition(patches, 25, "township")
    codes = patches["township"].astype("string")
    for rows in chunks:  # one township per task; patches without a township together
        assert codes.iloc[rows].nunique(dropna=False) == 1
    units = codes.nunique()
    assert len(chunks) >= units + 1


def test_partition_and_chunk_size_are_checked(demo_inputs):
    patches, _ = demo_inputs
    kw = {"crs": "EPSG:4527", "tolerance_m": 0.1, "params": {}}
    with pytest.raises(ValueError, match="'tiles', 'township'"):
        dask_engine.facts_on_dask(patches, {}, partition="county", **kw)
    with pytest.raises(ValueError, match="chunk_size"):
        dask_engine.facts_on_dask(patches, {}, chunk_size=0, **kw)
    with pytest.raises(InputError, match="township"):
        dask_engine._partition(patches.drop(columns="township"), 100, "township")


def test_missing_distributed_names_the_extra(tmp_path, monkeypatch, demo_inputs):
    patches, layers = demo_inputs
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed → ImportError
    with pytest.raises(InputError, match=r"pip install 'landcheck\[dask\]'"):
        dask_engine.facts_on_dask(
            patches,
            layers,
            crs="EPSG:4527",
            tolerance_m=0.1,
            params={},
            shared_dir=tmp_path / "run",
        )
    assert not (tmp_path / "run").exists()  # nothing written before the check


def test_importing_the_engine_does_not_import_distributed():
    code = (
        "import sys, landcheck.backends.dask; "
        "bad = [m for m in ('distributed', 'dask') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_engine_options_are_checked():
    cfg = SAMPLES / "county.toml"
    with pytest.raises(ValueError, match="engine must be"):
        screen(None, cfg, engine="spark")
    with pytest.raises(TypeError, match="engine='dask' only"):
        screen(None, cfg, scheduler="local:2")
