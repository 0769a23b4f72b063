"""The Excel ledger an analyst works in: layout, types, formats, totals, safety."""

from __future__ import annotations

import datetime as dt
import zipfile

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import box

from landcheck import load_rules
from landcheck.errors import OutputExistsError
from landcheck.report.ledger import round_name_of, write_ledger
from landcheck.report.xlsx import Workbook

MU = 2000 / 3


class _Result:
    def __init__(self, verdicts):
        self.verdicts = verdicts
        self.pack = load_rules("city2023")
        self.roles = None
        self.provenance = {"reference_date": "2023-09-30", "working_crs": "EPSG:4527",
                           "run_at": "2026-01-02T03:04:05+00:00",
                           "inputs": {"patches": {"layer": "patches_2023q3"}}}


def _verdicts(n_a=3, n_b=2):
    n = n_a + n_b
    return gpd.GeoDataFrame({
        "id": [f"P{i}" for i in range(n)],
        "township": ["349901001"] * n_a + ["349901002"] * n_b,
        "township_name": ["城关镇"] * n_a + ["东湖镇"] * n_b,
        "type": ["20"] * n,
        "before": pd.to_datetime(["2023-04-18"] * n),
        "after": pd.to_datetime(["2023-09-26"] * (n - 1) + [None]),
        "level": ["ministry"] * n,
        "verdict": ["illegal", "legal", "other"] + ["needs_review"] * (n - 3),
        "official_class": ["非农违法", "合法", "其他"] + ["存疑"] * (n - 3),
        "official_class_code": ["illegal_nonag", "legal", "other"] + ["doubtful"] * (n - 3),
        "area_m2": [2000.0, 1000.0, 500.0] + [100.0] * (n - 3),
        "legal_m2": [0.0, 1000.0, 0.0] + [0.0] * (n - 3),
        "illegal_m2": [2000.0, 0.0, 0.0] + [0.0] * (n - 3),
        "illegal_pf_m2": [1000.0] + [0.0] * (n - 1),
        "illegal_farmland_m2": [1500.0] + [0.0] * (n - 1),
        "illegal_redline_m2": [0.0] * n,
        "rules": [["legality.unapproved_construction", "deadline.ministry"]] + [[]] * (n - 1),
        "reasons_zh": ["未批先建 <2000> & 占耕地"] + ["合法"] * (n - 1),
        "reasons_en": ["built without approval"] + ["legal"] * (n - 1),
        "due_date": pd.to_datetime(["2023-11-20"] * n),
    }, geometry=[box(i, 0, i + 1, 1) for i in range(n)], crs="EPSG:4527")


@pytest.fixture()
def ledger(tmp_path):
    return write_ledger(_Result(_verdicts()), tmp_path / "台账.xlsx", round_name="示范县2023Q3")


def test_sheets_summary_statistics_one_per_township_and_hidden_fields(ledger):
    wb = openpyxl.load_workbook(ledger)
    assert wb.sheetnames == ["汇总 Summary", "统计 Statistics", "349901001 城关镇",
                             "349901002 东湖镇", "字段 Fields"]
    assert wb["字段 Fields"].sheet_state == "hidden"
    assert [c.value for c in wb["字段 Fields"][2]][:2] == ["id", "监测编号"]
    summary = [c for row in wb["汇总 Summary"].iter_rows(values_only=True) for c in row if c]
    assert "示范县2023Q3 图斑核查台账 汇总" in summary and "city2023 1.2.0" in summary
    assert "城关镇" in summary and "违法图斑数 (illegal_patches)" in summary


def test_township_sheet_header_types_formats_and_totals(ledger):
    ws = openpyxl.load_workbook(ledger)["349901001 城关镇"]
    assert ws["A1"].value == "示范县2023Q3 图斑核查台账 · 349901001 城关镇"
    assert "city2023 1.2.0" in ws["A2"].value and "2023-09-30" in ws["A2"].value
    assert "2026-01-02T03:04:05" in ws["A2"].value
    codes = [c.value for c in ws[3]]
    head = [c.value for c in ws[4]]
    assert codes[:3] == ["id", "township", "township_name"]
    assert head[:3] == ["监测编号", "乡镇代码", "乡镇名称"]
    assert "illegal_redline_mu" in codes and "违法占生态保护红线/亩" in head
    last = ws.cell(4, len(head)).column_letter
    assert ws.freeze_panes == "B5" and ws.auto_filter.ref == f"A4:{last}7"
    first = {c: ws.cell(5, i + 1) for i, c in enumerate(codes)}
    assert first["before"].value == dt.datetime(2023, 4, 18)
    assert first["before"].number_format == "yyyy-mm-dd"
    assert first["area_mu"].value == pytest.approx(round(2000 / MU, 2))
    assert first["area_mu"].number_format == "#,##0.00"
    assert first["area_m2"].value == 2000.0
    assert first["verdict"].value == "违法" and first["level"].value == "部级"
    assert first["rules"].value == "legality.unapproved_construction;deadline.ministry"
    assert first["reasons_zh"].value == "未批先建 <2000> & 占耕地"
    total = {c: ws.cell(8, i + 1).value for i, c in enumerate(codes)}
    assert total["id"] == "合计 (total)"
    letter = ws.cell(4, codes.index("area_mu") + 1).column_letter
    assert total["area_mu"] == f"=SUBTOTAL(109,{letter}5:{letter}7)"
    cached = openpyxl.load_workbook(ledger, data_only=True)["349901001 城关镇"]
    assert cached.cell(8, codes.index("area_mu") + 1).value == pytest.approx(5.25)
    assert cached.cell(8, 2).value == 3


def test_a_missing_date_is_an_empty_cell_and_pandas_reads_the_sheet(ledger):
    df = pd.read_excel(ledger, sheet_name="349901002 东湖镇", header=3)
    assert list(df.columns[:2]) == ["监测编号", "乡镇代码"]
    assert pd.api.types.is_datetime64_any_dtype(df["前时相"])
    assert df["后时相"].iloc[:2].isna().tolist() == [False, True]
    assert df["监测编号"].tolist() == ["P3", "P4", "合计 (total)"]


def test_ledger_refuses_an_existing_file_and_replaces_it_with_overwrite(ledger):
    before = ledger.read_bytes()
    with pytest.raises(OutputExistsError):
        write_ledger(_Result(_verdicts()), ledger)
    assert ledger.read_bytes() == before
    write_ledger(_Result(_verdicts(4, 1)), ledger, overwrite=True)
    assert [p.name for p in ledger.parent.iterdir()] == [ledger.name]
    assert openpyxl.load_workbook(ledger)["349901001 城关镇"].max_row == 9


def test_progress_is_reported_per_sheet(tmp_path):
    lines = []
    write_ledger(_Result(_verdicts()), tmp_path / "a.xlsx", progress=lines.append)
    assert lines[0].startswith("ledger: sheet 1/2") and "patches in" in lines[-1]


def test_round_name_defaults_to_the_patch_layer():
    assert round_name_of({"inputs": {"patches": {"layer": "r3"}}}) == "r3"
    assert round_name_of({"round": "第三季度"}) == "第三季度"
    assert round_name_of({}, "given") == "given"


def test_workbook_writer_escapes_text_and_writes_a_valid_package(tmp_path):
    path = tmp_path / "w.xlsx"
    with Workbook(path) as book:
        sheet = book.sheet("a'b", widths=[10, 10], freeze=(1, 0))
        sheet.write_row(["x & <y>", 1.5, np.int64(2), dt.date(2024, 2, 29), None, True])
        sheet.write_columns([(["\x01ok", None, ""], "text", 0), ([1.0, np.nan, 3.0], "num", 3)])
        sheet.autofilter = (0, 0, 3, 1)
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
    ws = openpyxl.load_workbook(path)["a'b"]
    assert [c.value for c in ws[1]][:4] == ["x & <y>", 1.5, 2, dt.datetime(2024, 2, 29)]
    assert ws["F1"].value is True
    assert ws["A2"].value == "ok" and ws["A3"].value is None and ws["B3"].value is None
