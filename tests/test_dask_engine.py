"""The dask engine runs the same per-chunk function and gives the local engine's verdicts."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from landcheck.screen import screen

distributed = pytest.importorskip("distributed")

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
COLS = ["id", "verdict", "rules", "legal_m2", "illegal_m2", "review_m2", "other_m2", "due_date"]


def test_dask_verdicts_identical_to_local(tmp_path):
    cfg = SAMPLES / "county.toml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local = screen(None, cfg, reference_date="2023-09-30")
        remote = screen(None, cfg, reference_date="2023-09-30", engine="dask",
                        scheduler="local-threads:2", chunk_size=80, shared_dir=tmp_path)
    pd.testing.assert_frame_equal(pd.DataFrame(local.verdicts[COLS]),
                                  pd.DataFrame(remote.verdicts[COLS]))
    pd.testing.assert_frame_equal(local.fragments.drop(columns="geometry"),
                                  remote.fragments.drop(columns="geometry"))
    # the workers read the reference layers from the shared folder
    assert (tmp_path / "landuse.parquet").exists()


def test_engine_options_are_checked():
    cfg = SAMPLES / "county.toml"
    with pytest.raises(ValueError, match="engine must be"):
        screen(None, cfg, engine="spark")
    with pytest.raises(TypeError, match="engine='dask' only"):
        screen(None, cfg, scheduler="local:2")
