"""Verification cards (``landcheck report cards``): text in the PDFs, the embedded font, a
drawn map, the hand-checkable single card, and refusals."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib")
pypdf = pytest.importorskip("pypdf")

from landcheck.errors import InputError, MissingDependencyError, OutputExistsError  # noqa: E402
from landcheck.report.cards import read_result, write_cards  # noqa: E402
from landcheck.report.fonts import cjk_font  # noqa: E402
from landcheck.testing import SAMPLES, layer, rect  # noqa: E402

try:
    cjk_font()
    NO_FONT = None
except MissingDependencyError as exc:
    NO_FONT = str(exc)

needs_font = pytest.mark.skipif(NO_FONT is not None, reason=f"no CJK font: {NO_FONT}")
CONFIG = SAMPLES / "county.toml"


@pytest.fixture(scope="module")
def demo_gpkg(demo_result, tmp_path_factory):
    path = tmp_path_factory.mktemp("cards") / "out.gpkg"
    demo_result.to_gpkg(path)
    return path


@pytest.fixture(scope="module")
def illegal_cards(demo_gpkg, tmp_path_factory):
    out = tmp_path_factory.mktemp("cards") / "cards"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files = write_cards(demo_gpkg, out, layers=CONFIG, only="illegal", workers=2)
    return files


def _text(pdf) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)


def _fonts(pdf) -> list[tuple[str, bool]]:
    """(base font name, has an embedded TrueType file) of each font on the first page."""
    out = []
    page = pypdf.PdfReader(pdf).pages[0]
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        descendants = font.get("/DescendantFonts")
        desc = (descendants[0].get_object() if descendants else font)["/FontDescriptor"]
        out.append((str(font["/BaseFont"]), "/FontFile2" in desc.get_object()))
    return out


@needs_font
@pytest.mark.slow
def test_a_card_for_every_illegal_patch_names_id_category_and_reason(demo_gpkg, illegal_cards):
    verdicts = read_result(demo_gpkg)["verdicts"]
    illegal = verdicts[verdicts["verdict"] == "illegal"]
    pdfs = [p for p in illegal_cards if p.suffix == ".pdf"]
    assert [p.stem for p in pdfs] == illegal["id"].astype(str).tolist()
    for pdf, (_, row) in zip(pdfs, illegal.iterrows(), strict=True):
        text = _text(pdf)
        assert row["id"] in text
        assert row["official_class"] in text and row["official_class_code"] in text
        first_reason = row["reasons_zh"].split("；")[0]
        assert first_reason[:12] in text.replace("\n", "")
        assert "依据" in text and "《" in text  # a citation of the rule pack


@needs_font
@pytest.mark.slow
def test_the_cjk_font_is_embedded_as_truetype(illegal_cards):
    fonts = _fonts(illegal_cards[0])
    assert fonts and all(embedded for _, embedded in fonts)
    family = cjk_font().stem.lower()
    assert any("wenquanyi" in name.lower() or family[:4] in name.lower()
               for name, _ in fonts), fonts


def _single(tmp_path, **kw):
    """One 100 m × 50 m patch on farmland, half of it permanent farmland."""
    import landcheck

    patches = layer(["P1"], [rect(0, 0, 100, 50)], type=["20"],
                    before=pd.to_datetime(["2022-12-31"]), after=pd.to_datetime(["2023-06-30"]))
    layers = {"permanent_farmland": layer(["F1"], [rect(50, -20, 150, 70)]),
              "landuse": layer(["L1"], [rect(-50, -50, 200, 100)], **{"class": ["0101"]})}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = landcheck.screen(patches, layers, reference_date="2023-09-30")
    gpkg = tmp_path / "one.gpkg"
    result.to_gpkg(gpkg)
    return gpkg, write_cards(gpkg, tmp_path / "cards", workers=1, **kw)


@needs_font
def test_single_card_shows_5000_m2_and_7_5_mu(tmp_path):
    _, files = _single(tmp_path, png=True)
    assert [f.name for f in files] == ["P1.pdf", "P1.png"]
    text = _text(files[0]).replace("\n", " ")
    assert "卫片图斑核查卡" in text and "P1" in text
    assert "图斑面积 5000.00 m² / 7.50 亩" in text
    assert "其中永久基本农田 2500.00 m² / 3.75 亩" in text
    assert "比例尺 1:2000" in text  # 150 m × 100 m padded box on a 180 × 90 mm map
    assert "legality.unapproved_construction" in text and "《土地管理法》" in text


@needs_font
def test_the_map_is_drawn(tmp_path):
    from matplotlib.image import imread

    _, files = _single(tmp_path, png=True)
    img = imread(files[1])  # 150 dpi A4: map from 15 to 195 mm, 26 to 116 mm
    px = 150 / 25.4
    region = img[int(28 * px):int(114 * px), int(17 * px):int(193 * px), :3]
    colours = np.unique((region * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 20  # farmland, hatching, the patch, anti-aliased edges


@needs_font
def test_existing_cards_are_refused_without_overwrite(tmp_path):
    gpkg, files = _single(tmp_path)
    before = files[0].stat().st_mtime_ns
    with pytest.raises(OutputExistsError, match="overwrite"):
        write_cards(gpkg, tmp_path / "cards", workers=1)
    assert files[0].stat().st_mtime_ns == before
    again = write_cards(gpkg, tmp_path / "cards", workers=1, overwrite=True)
    assert again == files


@needs_font
def test_output_folder_holding_an_input_is_refused(tmp_path):
    gpkg, _ = _single(tmp_path)
    with pytest.raises(InputError, match="an input"):
        write_cards(gpkg, tmp_path, workers=1)


@needs_font
def test_unknown_ids_and_verdicts_are_refused(tmp_path):
    gpkg, _ = _single(tmp_path)
    with pytest.raises(InputError, match="no patch with id nope"):
        write_cards(gpkg, tmp_path / "x", ids="P1,nope")
    with pytest.raises(InputError, match="not a verdict"):
        write_cards(gpkg, tmp_path / "x", only="bad")


def test_a_missing_font_file_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("LANDCHECK_CJK_FONT", str(tmp_path / "none.ttf"))
    with pytest.raises(MissingDependencyError, match="LANDCHECK_CJK_FONT"):
        cjk_font()


@needs_font
def test_cli_cards_writes_and_reports_progress(tmp_path):
    from click.testing import CliRunner

    from landcheck.cli.main import cli

    gpkg, _ = _single(tmp_path)
    out = tmp_path / "cli"
    result = CliRunner().invoke(cli, ["report", "cards", str(gpkg), "-o", str(out),
                                      "--ids", "P1", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert (out / "P1.pdf").is_file()
    assert "cards: 1/1 P1" in result.output
    again = CliRunner().invoke(cli, ["report", "cards", str(gpkg), "-o", str(out)])
    assert again.exit_code == 1 and "--overwrite" in again.output


# --- summaries with charts ------------------------------------------------------------------

@pytest.fixture(scope="module")
def summary(demo_gpkg, tmp_path_factory):
    from landcheck.report.charts import write_summary

    out = tmp_path_factory.mktemp("summary")
    return write_summary(demo_gpkg, out / "summary.xlsx", png_dir=out / "charts"), out


@needs_font
def test_summary_counts_equal_the_verdicts(demo_gpkg):
    from landcheck.report.charts import summary_tables

    v = pd.DataFrame(read_result(demo_gpkg)["verdicts"].drop(columns="geometry"))
    tables = summary_tables(v)
    assert set(tables) == {"by_township", "by_category", "by_rule", "by_level"}
    count = "图斑数 (patches)"
    cls = v["official_class"] + " " + v["official_class_code"]
    got = tables["by_category"].set_index("核实认定意见 (official class)")[count]
    assert got.sort_index().to_dict() == cls.value_counts().sort_index().to_dict()
    town = (v["township"] + " " + v["township_name"]).value_counts()
    got = tables["by_township"].set_index("乡镇 (township)")[count]
    assert got.sort_index().to_dict() == town.sort_index().to_dict()
    rules = v["rules"].str.split(";").explode().value_counts()
    got = tables["by_rule"].set_index("规则 (rule)")[count]
    assert got.sort_index().to_dict() == rules.sort_index().to_dict()
    assert tables["by_level"][count].sum() == len(v)


@needs_font
def test_summary_charts_are_pngs_with_a_drawing(summary):
    from matplotlib.image import imread

    _, out = summary
    for stem in ("by_township", "by_category", "by_rule", "by_level"):
        img = imread(out / "charts" / f"{stem}.png")[..., :3]
        assert len(np.unique((img * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 10


@needs_font
def test_summary_workbook_opens_and_holds_the_charts(summary):
    import zipfile

    openpyxl = pytest.importorskip("openpyxl")
    path, _ = summary
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == "按乡镇 By township"
    assert all(len(ws._images) == 1 for ws in book)
    assert "xl/media/image1.png" in zipfile.ZipFile(path).namelist()
    first = book.worksheets[1]
    assert first["A5"].value == "核实认定意见 (official class)"
