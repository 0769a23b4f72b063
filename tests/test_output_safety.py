"""Output safety: no output is an input, staging is cleaned, publishing never silently
replaces a file another run wrote, a full disk says so, and kill -9 loses nothing."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest
from click.testing import CliRunner

import landcheck.io.write as write
from landcheck.cli.main import cli
from landcheck.errors import InputError, OutputExistsError, WriteError
from landcheck.io import read_layer, write_layer
from landcheck.io.atomic import atomic_file
from landcheck.testing import AS_OF, SAMPLES, layer, rect


@pytest.fixture
def county(tmp_path):
    """A private copy of the demo county (its GBK shapefiles, Chinese field names)."""
    shutil.copytree(SAMPLES / "county", tmp_path / "county")
    shutil.copy(SAMPLES / "county.toml", tmp_path / "county.toml")
    return tmp_path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _frame():
    return layer(["图斑1", "图斑2"], [rect(0, 0, 10, 10), rect(20, 0, 30, 10)],
                 地类名称=["水田", "旱地"])


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_output_equal_to_the_patch_file_is_refused_before_work(county):
    patches = county / "county" / "patches.gpkg"
    before = _digest(patches)
    res = CliRunner().invoke(cli, ["screen", "--layers", str(county / "county.toml"),
                                   "--as-of", AS_OF, "-o", str(patches), "--overwrite"])
    assert res.exit_code == 1, res.output
    assert "-o/--output" in res.output and "the patch file" in res.output
    assert str(patches) in res.output
    assert "reading" not in res.output  # refused before any layer was read
    assert _digest(patches) == before


def test_output_equal_to_a_reference_geopackage_is_refused(county):
    ref = county / "county" / "county.gpkg"
    before = _digest(ref)
    res = CliRunner().invoke(cli, ["screen", "--layers", str(county / "county.toml"),
                                   "--as-of", AS_OF, "--stream", "-o", str(ref), "--overwrite"])
    assert res.exit_code == 1, res.output
    assert "the file of layer" in res.output and "county.gpkg" in res.output
    assert _digest(ref) == before


def test_output_inside_an_input_filegdb_is_refused(county):
    inside = county / "county" / "dltb.gdb" / "verdicts.gpkg"
    res = CliRunner().invoke(cli, ["screen", "--layers", str(county / "county.toml"),
                                   "--as-of", AS_OF, "-o", str(inside)])
    assert res.exit_code == 1, res.output
    assert "landuse" in res.output and "dltb.gdb" in res.output
    assert not inside.exists()


def test_two_outputs_the_same_file_are_refused(tmp_path):
    out = tmp_path / "成果.gpkg"
    out.write_bytes(b"x")
    os.link(out, tmp_path / "同一.gpkg")
    with pytest.raises(InputError, match=r"-o and --xlsx are the same file"):
        write.refuse_inputs_as_outputs({"-o": out, "--xlsx": tmp_path / "同一.gpkg"}, {})
    with pytest.raises(InputError, match=r"-o and --xlsx"):
        write.refuse_inputs_as_outputs({"-o": out, "--xlsx": tmp_path / "." / "成果.gpkg"}, {})
    write.refuse_inputs_as_outputs({"-o": out, "--xlsx": tmp_path / "台账.xlsx"}, {})


def test_cli_xlsx_named_like_the_geopackage_is_a_usage_error(tmp_path):
    out = tmp_path / "out.gpkg"
    res = CliRunner().invoke(cli, ["screen", "--layers", str(SAMPLES / "county.toml"),
                                   "--as-of", AS_OF, "-o", str(out), "--xlsx", str(out)])
    assert res.exit_code == 2, res.output
    assert "--xlsx" in res.output
    assert not out.exists()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_staging_of_a_dead_run_is_removed_by_the_next_run(tmp_path, caplog):
    out = tmp_path / "图斑.gpkg"
    stale = tmp_path / f".{out.name}.{_dead_pid()}.abc123.tmp"
    (stale / "new").mkdir(parents=True)
    (stale / "new" / out.name).write_bytes(b"partial")
    mine = tmp_path / f".{out.name}.{os.getpid()}.keep.tmp"  # a live run's: kept
    mine.mkdir()
    other = tmp_path / f".其他.gpkg.{_dead_pid()}.x.tmp"  # another target's: kept
    other.mkdir()
    with caplog.at_level(logging.INFO, logger="landcheck.io.write"):
        write_layer(_frame(), out)
    assert not stale.exists()
    assert mine.exists() and other.exists()
    assert any(str(stale) in r.getMessage() and r.levelno == logging.INFO
               for r in caplog.records)
    assert list(read_layer(out)["地类名称"]) == ["水田", "旱地"]


def test_staging_is_removed_on_failure(tmp_path, monkeypatch):
    out = tmp_path / "图斑.gpkg"

    def failing(frame, staged, *args):
        staged.write_bytes(b"half")
        raise RuntimeError("boom")

    monkeypatch.setattr(write, "_write_frame", failing)
    with pytest.raises(WriteError, match=r"图斑\.gpkg"):
        write_layer(_frame(), out)
    assert not out.exists() and _leftovers(tmp_path) == []


def test_concurrent_publish_keeps_the_other_runs_file(tmp_path, monkeypatch):
    out = tmp_path / "图斑.gpkg"
    real = write._write_frame

    def racing(frame, staged, *args):
        real(frame, staged, *args)
        out.write_bytes(b"the other run")  # the other run published first

    monkeypatch.setattr(write, "_write_frame", racing)
    with pytest.raises(OutputExistsError, match=r"图斑\.gpkg"):
        write_layer(_frame(), out)
    assert out.read_bytes() == b"the other run"
    assert _leftovers(tmp_path) == []


def test_concurrent_publish_of_a_ledger_keeps_the_other_file(tmp_path):
    out = tmp_path / "台账.xlsx"
    with pytest.raises(OutputExistsError, match=r"台账\.xlsx"):
        with atomic_file(out) as tmp:
            tmp.write_bytes(b"mine")
            out.write_bytes(b"theirs")
    assert out.read_bytes() == b"theirs" and _leftovers(tmp_path) == []
    with atomic_file(out, overwrite=True) as tmp:  # --overwrite replaces as asked
        tmp.write_bytes(b"mine")
    assert out.read_bytes() == b"mine"


def test_disk_full_is_reported_as_such(tmp_path, monkeypatch):
    out = tmp_path / "图斑.gpkg"

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(write, "_write_frame", full)
    with pytest.raises(WriteError, match=r"图斑.gpkg: the disk is full \(.* free"):
        write_layer(_frame(), out)
    assert _leftovers(tmp_path) == []


def test_sqlite_disk_full_is_reported_as_such(tmp_path):
    with pytest.raises(WriteError, match="the disk is full"):
        with atomic_file(tmp_path / "台账.xlsx"):
            raise RuntimeError("database or disk is full")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX only")
def test_kill_minus_9_mid_run_keeps_the_previous_output_and_a_rerun_cleans_up(tmp_path):
    out = tmp_path / "成果.gpkg"
    args = [  # `landcheck screen …`
        sys.executable, "-c", "from landcheck.cli.main import cli; cli()", "screen",
        "--layers", str(SAMPLES / "county.toml"), "--as-of", AS_OF, "--stream", "--chunk-size", "1",
        "-o", str(out), "--overwrite"]
    write_layer(_frame(), out)  # the previous round's output
    before = _digest(out)
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        for line in proc.stderr:
            if "chunk" in line and "chunks" not in line:
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert _digest(out) == before
    assert _leftovers(tmp_path)  # the killed run's staging is there
    rerun = subprocess.run([*args[:-4], "100", "-o", str(out), "--overwrite"],
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert _leftovers(tmp_path) == []
    assert pyogrio.read_info(out, layer="verdicts")["features"] == 309  # the demo's patches
