"""The case ledger across rounds: the GeoPackage schema, import identity on the demo county,
workflow, rectification arithmetic, status queries, the CLI, two writers and kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

import landcheck
from landcheck.cases import Ledger, sql
from landcheck.cli.main import cli
from landcheck.errors import LedgerError
from landcheck.testing import layer, rect

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def round1(demo_result, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rounds") / "r1.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        demo_result.to_gpkg(path)
    return path


def _round2(src: Path, dst: Path) -> dict:
    """Round 2 from round 1: 5 clue ids renamed with geometry shifted 2 m (attach), 4 dropped,
    one patch added far away (new), the rest re-issued as they were."""
    v = pyogrio.read_dataframe(src, layer="verdicts")
    f = pyogrio.read_dataframe(src, layer="fragments")
    renamed = {old: f"R2-{old}" for old in v["id"].iloc[10:15]}
    dropped = v["id"].iloc[20:24].tolist()
    v = v[~v["id"].isin(dropped)].copy()
    moved = v["id"].isin(renamed)
    v.loc[moved, "geometry"] = shapely.transform(v.geometry[moved].to_numpy(),
                                                 lambda xy: xy + 2.0)
    v["id"] = v["id"].replace(renamed)
    extra = v.iloc[[0]].copy()
    extra["id"] = "R2-NEW"
    extra["geometry"] = [shapely.affinity.translate(extra.geometry.iloc[0], 50_000, 50_000)]
    v = pd.concat([v, extra], ignore_index=True)
    f = f[~f["parent_id"].isin(dropped)].copy()
    f["parent_id"] = f["parent_id"].replace(renamed)
    meta = pd.DataFrame({"key": ["round", "run_id"],
                         "value": [json.dumps("2023Q4"), json.dumps("run-2")]})
    pyogrio.write_dataframe(v, dst, layer="verdicts")
    pyogrio.write_dataframe(f, dst, layer="fragments", append=True)
    pyogrio.write_dataframe(meta, dst, layer="metadata", append=True)
    return {"renamed": renamed, "dropped": dropped, "n": len(v)}


@pytest.fixture(scope="module")
def two_rounds(round1, tmp_path_factory):
    base = tmp_path_factory.mktemp("ledger")
    info = _round2(round1, base / "r2.gpkg")
    led = Ledger.init(base / "cases.gpkg")
    first = led.import_round(round1, who="tester")
    second = led.import_round(base / "r2.gpkg", who="tester")
    return led, first, second, info, base


def test_ledger_opens_as_a_geopackage_layer(two_rounds):
    led, *_ = two_rounds
    layers = dict(pyogrio.list_layers(led.path))
    assert layers["cases"] == "MultiPolygon"
    assert {"case_patches", "history", "rounds", "child_plots"} <= set(layers)
    cases = pyogrio.read_dataframe(led.path, layer="cases")
    assert cases.crs.to_epsg() == 4527
    assert len(cases) == 310 and cases["case_id"].is_unique
    con = sqlite3.connect(led.path)
    assert con.execute("PRAGMA application_id").fetchone()[0] == sql.GPKG_APPLICATION_ID
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_first_round_makes_one_case_per_patch_with_child_plots(two_rounds, round1):
    led, first, *_ = two_rounds
    v = pyogrio.read_dataframe(round1, layer="verdicts", read_geometry=False)
    frag = pyogrio.read_dataframe(round1, layer="fragments", read_geometry=False)
    assert (first.patches, first.new_cases, first.by_clue) == (309, 309, 0)
    assert first.child_plots == len(frag) == 326
    assert first.round == "patches_2023q3"  # the patch layer's name
    split = v.loc[v["split_status"] == "被拆分", "id"].iloc[0]
    case = led.status().set_index("clue_id").loc[split, "case_id"]
    kids = led.show(case)["children"]
    assert set(kids["parent_id"]) == {split} and len(kids) >= 2


def test_reimport_is_a_noop(two_rounds, round1, tmp_path):
    led, *_ = two_rounds
    before = (len(led.history()), len(led.status()))
    again = led.import_round(round1)
    assert again.noop and "same file" in again.reason
    copy = tmp_path / "copy.gpkg"
    copy.write_bytes(round1.read_bytes())
    assert led.import_round(copy).noop
    assert (len(led.history()), len(led.status())) == before


def test_second_round_keeps_identity(two_rounds):
    led, _, second, info, _ = two_rounds
    assert second.round == "2023Q4"
    assert second.by_overlap == len(info["renamed"]) == 5
    assert second.new_cases == 1 and second.by_clue == info["n"] - 6
    cases = led.status()
    assert len(cases) == 309 + 1  # dropped cases stay, renamed ones attach, one is new
    by_clue = cases.set_index("clue_id")
    for old, new in info["renamed"].items():
        case = by_clue.loc[old, "case_id"]
        patches = led.show(case)["patches"]
        assert list(patches["clue_id"]) == [old, new]
        assert patches["match"].iloc[1] == "overlap" and patches["distance_m"].iloc[1] < 3
        assert by_clue.loc[old, "last_round"] == "2023Q4"
    for gone in info["dropped"]:
        assert by_clue.loc[gone, "last_round"] == "patches_2023q3"
    attached = led.history().query("field == 'clue_attached'")
    assert sorted(attached["new"]) == sorted(info["renamed"].values())


def test_same_round_name_with_other_content_is_refused(two_rounds, tmp_path):
    led, *_ , base = two_rounds
    v = pyogrio.read_dataframe(base / "r2.gpkg", layer="verdicts").iloc[:3]
    meta = pd.DataFrame({"key": ["round"], "value": [json.dumps("2023Q4")]})
    pyogrio.write_dataframe(v, tmp_path / "x.gpkg", layer="verdicts")
    pyogrio.write_dataframe(meta, tmp_path / "x.gpkg", layer="metadata", append=True)
    with pytest.raises(LedgerError, match=r"already imported .* pass round="):
        led.import_round(tmp_path / "x.gpkg")


@pytest.mark.parametrize("statement", [
    "DELETE FROM history", "UPDATE history SET who = 'x'", "DELETE FROM cases",
    "DELETE FROM case_patches", "UPDATE rounds SET who = 'x'",
])
def test_nothing_is_ever_deleted(two_rounds, statement):
    led, *_ = two_rounds
    con = sqlite3.connect(led.path)
    with pytest.raises(sqlite3.DatabaseError, match=r"never deleted|append-only"):
        con.execute(statement)
    con.close()


# -- a tiny ledger whose numbers can be checked by hand ----------------------------------

def write_round(path, ids, geoms, illegal, *, name, due="2024-06-30", township="T1"):
    """A verdicts GeoPackage with the columns the ledger reads; area = the geometry's."""
    g = layer(ids, geoms, verdict=["illegal" if a > 0 else "legal" for a in illegal],
              illegal_m2=[float(a) for a in illegal], township=[township] * len(ids),
              due_date=pd.to_datetime([due] * len(ids)))
    g["area_m2"] = g.area
    meta = pd.DataFrame({"key": ["round"], "value": [json.dumps(name)]})
    pyogrio.write_dataframe(g, path, layer="verdicts")
    pyogrio.write_dataframe(meta, path, layer="metadata", append=True)
    return path


@pytest.fixture
def tiny(tmp_path):
    # A: 10 × 20 m = 200 m², all illegal; B: 10 × 10 = 100 m², 40 m² illegal
    r = write_round(tmp_path / "t1.gpkg", ["A", "B"], [rect(0, 0, 10, 20), rect(100, 0, 110, 10)],
                    [200, 40], name="T1")
    led = Ledger.init(tmp_path / "tiny.gpkg")
    led.import_round(r, who="t")
    return led


def test_rectification_arithmetic(tiny):
    assert tiny.add_rectification("C000001", method="拆除复耕", area_m2=150, date="2024-03-01",
                                  who="t") == 50
    assert tiny.add_rectification("C000001", method="approval", area_m2=50, who="t") == 0
    with pytest.raises(LedgerError, match=r"C000001: .*200\.50 m² rectified of 200\.00"):
        tiny.add_rectification("C000001", method="其他", area_m2=0.5, who="t")
    with pytest.raises(LedgerError, match="not a known rectification method"):
        tiny.add_rectification("C000002", method="bulldoze", area_m2=1, who="t")
    with pytest.raises(LedgerError, match="0 for 未整改"):
        tiny.add_rectification("C000002", method="未整改", area_m2=1, who="t")
    s = tiny.status().set_index("case_id")
    assert s.loc["C000001", "unrectified_m2"] == 0 and s.loc["C000002", "unrectified_m2"] == 40
    assert tiny.rectified_m2() == 200


def test_close_is_refused_until_rectified_and_reviewed(tiny):
    with pytest.raises(LedgerError, match=r"C000002: cannot close .*40\.00 m² unrectified.*"
                                          r"未处理 \(pending\)"):
        tiny.close("C000002", who="t", why="done")
    tiny.add_rectification("C000002", method="补办手续", area_m2=40, who="t")
    with pytest.raises(LedgerError, match=r"0\.00 m² unrectified and stage 已提交"):
        tiny.update("C000002", who="t", stage="已提交")
        tiny.close("C000002", who="t", why="done")
    tiny.update("C000002", who="city", why="审核通过", stage="审核结束")
    tiny.close("C000002", who="province", why="整改到位")
    case = tiny.show("C000002")["case"]
    assert (case["status"], case["closed_by"], case["closed_why"]) == (
        "closed", "province", "整改到位")
    h = tiny.history("C000002")
    assert list(h["field"])[-4:] == ["status", "closed_at", "closed_by", "closed_why"]
    assert h.iloc[-4][["old", "new", "who", "why"]].tolist() == [
        "open", "closed", "province", "整改到位"]


def test_update_writes_history_and_refuses_unknown_fields(tiny):
    changed = tiny.update("C000001", who="ann", why="举证", stage="filled", note="照片已上传")
    assert changed == {"stage": "filled", "note": "照片已上传"}
    assert tiny.update("C000001", who="ann", stage="已填报") == {}  # same stage: no row
    h = tiny.history("C000001")
    last = [[None if pd.isna(x) else x for x in row]
            for row in h.iloc[-2:][["field", "old", "new", "who", "why"]].to_numpy().tolist()]
    assert last == [["stage", "pending", "filled", "ann", "举证"],
                    ["note", None, "照片已上传", "ann", "举证"]]
    with pytest.raises(LedgerError, match="cannot set area_m2"):
        tiny.update("C000001", who="ann", area_m2=0)
    with pytest.raises(LedgerError, match="'C9': no such case"):
        tiny.update("C9", who="ann", note="x")


def test_evidence_stores_the_file_hash(tiny, tmp_path):
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(b"not really a photo")
    digest = tiny.add_evidence("C000001", kind="现场照片", path=photo, who="t")
    ev = tiny.show("C000001")["evidence"]
    assert ev["sha256"].tolist() == [digest] and len(digest) == 64
    with pytest.raises(LedgerError, match="does not exist"):
        tiny.add_evidence("C000001", kind="photo", path=tmp_path / "missing.jpg", who="t")


def test_second_round_changes_areas_with_history_and_reopens(tiny, tmp_path):
    tiny.add_rectification("C000002", method="拆除复耕", area_m2=40, who="t")
    tiny.update("C000002", who="t", stage="reviewed")
    tiny.close("C000002", who="t", why="ok")
    # round 2: A shrinks to 120 m² illegal; B (closed) comes back with 60 m² illegal
    r2 = write_round(tmp_path / "t2.gpkg", ["A", "B"], [rect(0, 0, 10, 20),
                     rect(100, 0, 110, 10)], [120, 60], name="T2")
    report = tiny.import_round(r2, who="t")
    assert (report.by_clue, report.reopened) == (1, 1)
    s = tiny.status().set_index("case_id")
    assert s.loc["C000001", "unrectified_m2"] == 120
    assert s.loc["C000002", "status"] == "open" and s.loc["C000002", "unrectified_m2"] == 20
    h = tiny.history("C000002")
    assert ["status", "closed", "open"] in h[["field", "old", "new"]].to_numpy().tolist()


def test_status_filters(tiny):
    s = tiny.status(overdue=True, as_of="2024-07-01")
    assert len(s) == 2 and s["overdue"].all()
    assert tiny.status(overdue=True, as_of="2024-06-30").empty
    assert len(tiny.status(due_within="7d", as_of="2024-06-25")) == 2
    assert tiny.status(due_within=3, as_of="2024-06-25").empty
    assert tiny.status(township="T9").empty
    zh = tiny.status(headers=True, as_of="2024-06-29")
    assert zh["未整改面积/平方米 (unrectified, m²)"].tolist() == [200, 40]
    assert zh["剩余天数 (days left)"].tolist() == [1, 1]
    c = tiny.counts()
    assert c[["status_zh", "stage_zh", "cases"]].to_numpy().tolist() == [["在办", "未处理", 2]]


def test_overlap_needs_both_ratio_and_distance(tmp_path):
    led = Ledger.init(tmp_path / "l.gpkg")
    led.import_round(write_round(tmp_path / "a.gpkg", ["A"], [rect(0, 0, 100, 100)], [1],
                                 name="a"), who="t")
    # 40 × 100 inside A: ratio 1 of the smaller, centroid 30 m away → attaches
    # 10 × 10 far corner inside A: ratio 1, centroid ~64 m away → a new case
    # 100 × 100 shifted by 60: ratio 0.4 → a new case
    r = led.import_round(write_round(tmp_path / "b.gpkg", ["B", "C", "D"], [
        rect(0, 0, 40, 100), rect(90, 90, 100, 100), rect(60, 0, 160, 100)], [1, 1, 1],
        name="b"), who="t")
    assert (r.by_overlap, r.new_cases) == (1, 2)
    led2 = Ledger.init(tmp_path / "l2.gpkg")
    led2.import_round(tmp_path / "a.gpkg", who="t")
    r = led2.import_round(tmp_path / "b.gpkg", who="t", attach_overlap=0.4,
                          attach_distance_m=100)
    assert (r.by_overlap, r.new_cases) == (3, 0)


def test_schema_versions(tmp_path, monkeypatch):
    path = tmp_path / "old.gpkg"
    Ledger.init(path).disconnect()
    step = "CREATE TABLE field_tasks (fid INTEGER PRIMARY KEY, case_id TEXT)"
    monkeypatch.setitem(sql.MIGRATIONS, 2, [step])
    monkeypatch.setattr(sql, "SCHEMA_VERSION", 2)
    Ledger(path).disconnect()
    con = sqlite3.connect(path)
    assert [r[0] for r in con.execute("SELECT version FROM schema_version")] == [1, 2]
    con.execute("INSERT INTO schema_version VALUES (9, 'later')")
    con.commit()
    con.close()
    with pytest.raises(LedgerError, match="version 9 is newer than this landcheck knows"):
        Ledger(path)


def test_a_failed_import_leaves_the_previous_state(tiny, tmp_path):
    before = (len(tiny.history()), len(tiny.rounds()))
    r2 = write_round(tmp_path / "t2.gpkg", ["A", "Z"], [rect(0, 0, 10, 20),
                     rect(500, 0, 510, 10)], [10, 10], name="T2")

    def fail(msg):
        if msg == "updated cases":
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        tiny.import_round(r2, who="t", progress=fail)
    assert (len(tiny.history()), len(tiny.rounds())) == before
    assert len(tiny.status()) == 2


_KILL_SCRIPT = """
import sys, time
from landcheck.cases import Ledger
def slow(msg):
    if msg == "updated cases":
        print("in transaction", flush=True)
        time.sleep(60)
Ledger(sys.argv[1]).import_round(sys.argv[2], who="k", progress=slow)
"""


def test_kill_9_during_import_leaves_the_previous_state(tiny, tmp_path):
    r2 = write_round(tmp_path / "t2.gpkg", ["A", "Z"], [rect(0, 0, 10, 20),
                     rect(500, 0, 510, 10)], [10, 10], name="T2")
    before = (len(tiny.history()), len(tiny.rounds()), len(tiny.status()))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(tiny.path), str(r2)],
                         stdout=subprocess.PIPE, env=env, text=True)
    assert p.stdout.readline().strip() == "in transaction"
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    fresh = Ledger(tiny.path)
    assert (len(fresh.history()), len(fresh.rounds()), len(fresh.status())) == before
    assert fresh.import_round(r2, who="t").new_cases == 1  # the ledger is writable again


def test_two_writers_lose_no_update(tmp_path):
    path = tmp_path / "w.gpkg"
    led = Ledger.init(path)
    led.import_round(write_round(tmp_path / "a.gpkg", ["A"], [rect(0, 0, 10, 20)], [200],
                                 name="a"), who="t")
    errors = []

    def writer(name):
        try:
            mine = Ledger(path, busy_timeout_s=30)
            for _ in range(20):
                mine.add_rectification("C000001", method="其他", area_m2=1.0, who=name)
                mine.update("C000001", who=name, note=f"{name}")
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("w1", "w2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    case = led.show("C000001")["case"]
    assert case["rectified_m2"] == 40 and case["unrectified_m2"] == 160
    assert len(led.show("C000001")["rectifications"]) == 40


# -- the CLI ------------------------------------------------------------------------------

def test_cli_round_trip(two_rounds, tmp_path):
    _, _, _, _, base = two_rounds
    run = CliRunner().invoke
    ledger = tmp_path / "cli.gpkg"
    assert run(cli, ["ledger", "init", str(ledger)]).exit_code == 0
    assert run(cli, ["ledger", "init", str(ledger)]).exit_code == 2
    res = run(cli, ["ledger", "import", str(ledger), str(base / "r2.gpkg"), "--who", "t"])
    assert res.exit_code == 0 and "306 patches → 306 new cases" in res.output
    res = run(cli, ["ledger", "import", str(ledger), str(base / "r2.gpkg"), "--who", "t"])
    assert "already imported" in res.output
    res = run(cli, ["ledger", "update", str(ledger), "C000001", "--set", "stage=已提交",
                    "--why", "举证完成", "--who", "ann"])
    assert res.exit_code == 0 and "stage → submitted" in res.output
    res = run(cli, ["ledger", "update", str(ledger), "C000001", "--set", "status=销号",
                    "--who", "ann"])
    assert res.exit_code == 1 and "case C000001: cannot close" in res.output
    res = run(cli, ["ledger", "update", str(ledger), "C000001", "--set", "stage"])
    assert res.exit_code == 2
    res = run(cli, ["ledger", "status", str(ledger), "--as-of", "2023-10-01"])
    assert res.exit_code == 0 and "已提交" in res.output and "案件编号 (case id)" in res.output
    res = run(cli, ["ledger", "history", str(ledger), "C000001"])
    assert "举证完成" in res.output
    res = run(cli, ["ledger", "show", str(ledger), "C999999"])
    assert res.exit_code == 1 and "'C999999': no such case" in res.output
    res = run(cli, ["ledger", "status", str(tmp_path / "none.gpkg")])
    assert res.exit_code == 1 and "none.gpkg: no such ledger" in res.output


def test_api_is_exported():
    assert landcheck.Ledger is Ledger
    assert np.isclose(landcheck.cases.ATTACH_OVERLAP, 0.5)
