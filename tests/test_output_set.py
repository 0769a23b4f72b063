"""The GeoPackage and the ledger of one run: published together, one run id, nothing left.

Also the no-overwrite publish of shapefiles and the input refusal of ScreenResult writers.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import openpyxl
import pyogrio
import pytest
from click.testing import CliRunner

import landcheck.io.write as write
import landcheck.report.ledger as ledger
from landcheck import screen
from landcheck.cli.main import cli
from landcheck.errors import InputError, OutputExistsError, WriteError
from landcheck.io import write_layer
from landcheck.io.write import output_set
from landcheck.testing import AS_OF, SAMPLES, layer, rect

CONFIG = SAMPLES / "county.toml"


@pytest.fixture(scope="module")
def result():
    return screen(None, CONFIG, reference_date=AS_OF)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def gpkg_run_id(path: Path) -> str:
    meta = pyogrio.read_dataframe(path, layer="metadata")
    return json.loads(meta.set_index("key").loc["run_id", "value"])


def xlsx_run_id(path: Path) -> str:
    book = openpyxl.load_workbook(path, read_only=True)
    for row in book["汇总 Summary"].iter_rows(values_only=True):
        if row and row[0] == "运行编号 (run id)":
            return row[1]
    raise AssertionError(f"{path}: no run id row")


def test_write_publishes_both_with_one_run_id(result, tmp_path):
    gpkg, xlsx = tmp_path / "成果.gpkg", tmp_path / "台账.xlsx"
    assert result.write(gpkg, xlsx) == (gpkg, xlsx)
    run_id = result.provenance["run_id"]
    assert len(run_id) == 32
    assert gpkg_run_id(gpkg) == xlsx_run_id(xlsx) == run_id
    assert _leftovers(tmp_path) == []


def test_a_failed_ledger_leaves_both_previous_outputs(result, tmp_path, monkeypatch):
    gpkg, xlsx = tmp_path / "成果.gpkg", tmp_path / "台账.xlsx"
    result.write(gpkg, xlsx)
    before = _digest(gpkg), _digest(xlsx)
    second = screen(None, CONFIG, reference_date=AS_OF)

    def broken(book, cols):
        raise RuntimeError("ledger writer broke")

    monkeypatch.setattr(ledger, "_fields_sheet", broken)
    with pytest.raises(WriteError, match="ledger writer broke"):
        second.write(gpkg, xlsx, overwrite=True)
    assert (_digest(gpkg), _digest(xlsx)) == before  # the GeoPackage was staged, not published
    assert _leftovers(tmp_path) == []


def test_a_failed_second_publish_takes_the_first_back(result, tmp_path, monkeypatch):
    """The ledger's rename fails after the GeoPackage's succeeded: the previous GeoPackage
    comes back (overwrite), or the new one goes (no previous file)."""
    gpkg, xlsx = tmp_path / "成果.gpkg", tmp_path / "台账.xlsx"
    result.write(gpkg, xlsx)
    old_id = gpkg_run_id(gpkg)
    real = write.publish

    def failing(staged, target, *, overwrite):
        if target.suffix == ".xlsx":
            raise OSError(5, "Input/output error")
        real(staged, target, overwrite=overwrite)

    monkeypatch.setattr(write, "publish", failing)
    second = screen(None, CONFIG, reference_date=AS_OF)
    with pytest.raises(WriteError, match="no output of this run was published"):
        second.write(gpkg, xlsx, overwrite=True)
    assert gpkg_run_id(gpkg) == xlsx_run_id(xlsx) == old_id
    fresh_g, fresh_x = tmp_path / "新.gpkg", tmp_path / "新.xlsx"
    with pytest.raises(WriteError):
        second.write(fresh_g, fresh_x)
    assert not fresh_g.exists() and not fresh_x.exists()
    assert _leftovers(tmp_path) == []


def test_an_error_inside_the_set_publishes_nothing(tmp_path):
    a, b = tmp_path / "a.gpkg", tmp_path / "b.geojson"
    frame = layer(["图斑1"], [rect(0, 0, 10, 10)], 地类名称=["水田"])
    with pytest.raises(KeyboardInterrupt), output_set():
        write_layer(frame, a)
        write_layer(frame, b)
        assert not a.exists() and not b.exists()  # staged until the set ends
        raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_target_taken_meanwhile_is_kept_and_the_set_taken_back(tmp_path, monkeypatch):
    a, b = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    frame = layer(["图斑1"], [rect(0, 0, 10, 10)], 地类名称=["水田"])
    with pytest.raises(OutputExistsError), output_set():
        write_layer(frame, a)
        write_layer(frame, b)
        b.write_bytes(b"another run's file")
    assert not a.exists()
    assert b.read_bytes() == b"another run's file"
    assert _leftovers(tmp_path) == []


def test_one_target_twice_in_a_set_is_refused(tmp_path):
    frame = layer(["图斑1"], [rect(0, 0, 10, 10)])
    with pytest.raises(InputError, match="twice"), output_set():
        write_layer(frame, tmp_path / "a.gpkg")
        write_layer(frame, tmp_path / "a.gpkg")
    assert _leftovers(tmp_path) == [] and not (tmp_path / "a.gpkg").exists()


@pytest.mark.parametrize("stray", [".shp", ".dbf"])
def test_a_shapefile_is_published_without_replacing_parts_that_appeared(tmp_path, monkeypatch,
                                                                       stray):
    """Without overwrite each part is linked into place: a .shp (or any part) that another
    run wrote meanwhile is kept, and the parts this run had published are removed again."""
    target = tmp_path / "图斑.shp"
    real = write._check_target

    def late(target_, driver, overwrite):  # the other run writes after this run's check
        real(target_, driver, overwrite)
        target_.with_suffix(stray).write_bytes(b"other")

    monkeypatch.setattr(write, "_check_target", late)
    with pytest.raises(OutputExistsError):
        write_layer(layer(["图斑1"], [rect(0, 0, 10, 10)], DLMC=["水田"]), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"图斑{stray}"]
    assert (tmp_path / f"图斑{stray}").read_bytes() == b"other"


def test_result_writers_refuse_an_input_file(tmp_path):
    county = tmp_path / "county"
    shutil.copytree(SAMPLES / "county", county)
    shutil.copy(CONFIG, tmp_path / "county.toml")
    res = screen(None, tmp_path / "county.toml", reference_date=AS_OF)
    patches = Path(res.provenance["inputs"]["patches"]["path"])
    before = _digest(patches)
    for call in (lambda: res.to_gpkg(patches, overwrite=True),
                 lambda: res.to_xlsx(patches, overwrite=True),
                 lambda: res.write(tmp_path / "ok.gpkg", patches, overwrite=True)):
        with pytest.raises(InputError, match="an input of this run"):
            call()
    assert _digest(patches) == before
    assert not (tmp_path / "ok.gpkg").exists()


def test_cli_screen_writes_one_run_id_into_both(tmp_path):
    gpkg, xlsx = tmp_path / "r.gpkg", tmp_path / "r.xlsx"
    res = CliRunner().invoke(cli, ["screen", "--layers", str(CONFIG), "--as-of", AS_OF,
                                   "-o", str(gpkg), "--xlsx", str(xlsx)])
    assert res.exit_code == 0, res.output
    assert gpkg_run_id(gpkg) == xlsx_run_id(xlsx)


def test_streamed_ledger_failure_publishes_neither(tmp_path, monkeypatch):
    from landcheck import stream

    gpkg, xlsx = tmp_path / "s.gpkg", tmp_path / "s.xlsx"

    def broken(self, path, prov, overwrite):
        raise RuntimeError("summary writer broke")

    monkeypatch.setattr(stream._Sums, "write", broken)
    with pytest.raises(RuntimeError, match="summary writer broke"):
        stream.screen_to_gpkg(None, CONFIG, gpkg, reference_date=AS_OF, xlsx=xlsx,
                              chunk_size=100)
    assert not gpkg.exists() and not xlsx.exists()
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX only")
@pytest.mark.parametrize("mode", [[], ["--stream", "--chunk-size", "20"]],
                         ids=["in-memory", "streamed"])
def test_kill_minus_9_keeps_both_previous_outputs_and_a_rerun_cleans_up(tmp_path, mode):
    gpkg, xlsx = tmp_path / "成果.gpkg", tmp_path / "台账.xlsx"
    args = [sys.executable, "-c", "from landcheck.cli.main import cli; cli()", "screen",
            "--layers", str(CONFIG), "--as-of", AS_OF, *mode, "-o", str(gpkg),
            "--xlsx", str(xlsx), "--overwrite"]
    first = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    before = _digest(gpkg), _digest(xlsx)
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:  # killed once the patches are judged: while (or just before) the outputs are staged
        for line in proc.stderr:
            if line.startswith(("landcheck: done:", "landcheck: chunk 2/")):
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert (_digest(gpkg), _digest(xlsx)) == before
    rerun = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert _leftovers(tmp_path) == []
    assert gpkg_run_id(gpkg) == xlsx_run_id(xlsx) != ""
    assert (_digest(gpkg), _digest(xlsx)) != before
