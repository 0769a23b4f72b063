"""A small streaming writer of Excel workbooks (Office Open XML, ``.xlsx``).

The ledger has one row per patch; a province round has hundreds of thousands. General
writers (openpyxl, xlsxwriter) spend a few microseconds per cell in Python, which is tens of
seconds for such a round. This writer builds each column's cell XML in one pass over the
column (numbers, dates as Excel serial days, escaped text) and streams rows into the zip
member sheet by sheet, so memory holds one block of rows and the time is about a
microsecond per cell.

What it writes: sheets in order, inline strings, numbers, dates, formulas with their cached
values, a fixed set of cell styles (:data:`STYLES`), column widths, frozen panes, an
autofilter, hidden sheets and PNG pictures anchored at a cell. Cells are addressed by row
and column from 0, rows are written in increasing order.
"""

from __future__ import annotations

import datetime as _dt
import re
import zipfile
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

__all__ = ["STYLES", "Sheet", "Workbook", "col_letter", "text_width"]

#: Cell styles by name → index into ``cellXfs`` of the styles part written by
#: :meth:`Workbook.close`.
STYLES = {
    "default": 0, "head": 1, "code": 2, "num2": 3, "date": 4, "title": 5, "total": 6,
    "int": 7, "bold": 8, "total_int": 9, "note": 10, "pct": 11, "count": 12,
}
# (numFmtId, fontId, fillId, borderId, wrap) per style, in the order of STYLES
_XF = [(0, 0, 0, 0), (0, 1, 2, 1), (0, 2, 3, 1), (164, 0, 0, 0), (165, 0, 0, 0),
       (0, 3, 0, 0), (164, 1, 4, 1), (3, 0, 0, 0), (0, 1, 0, 0), (3, 1, 4, 1), (0, 2, 0, 0),
       (164, 0, 0, 0), (166, 1, 4, 1)]
_EPOCH = np.datetime64("1899-12-30", "D")
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_SELECTED, _HIDDEN = 'tabSelected="1" ', ' state="hidden"'


def col_letter(col: int) -> str:
    """Excel column letters of a 0-based column: 0 → A, 26 → AA.

    >>> col_letter(0), col_letter(25), col_letter(26), col_letter(701)
    ('A', 'Z', 'AA', 'ZZ')
    """
    out = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def text_width(text: str) -> int:
    """Display width of ``text`` in Excel's character units (CJK characters count two).

    >>> text_width("abc"), text_width("城关镇")
    (3, 6)
    """
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(text))


def _text(value) -> str:
    return escape(_BAD_XML.sub("", str(value)))


def _cell(ref: str, value, style: int = 0) -> str:
    """One cell's XML from a Python value (None/NaN/NaT: no cell)."""
    s = f' s="{style}"' if style else ""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return f'<c r="{ref}"{s}/>' if style else ""
    if isinstance(value, bool | np.bool_):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | np.integer):
        return f'<c r="{ref}"{s}><v>{int(value)}</v></c>'
    if isinstance(value, float | np.floating):
        return f'<c r="{ref}"{s}><v>{float(value)!r}</v></c>' if np.isfinite(value) else ""
    if isinstance(value, _dt.date | np.datetime64 | pd.Timestamp):
        days = (np.datetime64(pd.Timestamp(value), "D") - _EPOCH).astype(int)
        return f'<c r="{ref}" s="{style or STYLES["date"]}"><v>{days}</v></c>'
    if isinstance(value, Formula):
        cached = "" if value.cached is None else f"<v>{value.cached!r}</v>"
        return f'<c r="{ref}"{s}><f>{_text(value.formula)}</f>{cached}</c>'
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'


class Formula:
    """A formula cell with the value Excel would compute (readers without a calculation
    engine, such as pandas, see the cached value)."""

    def __init__(self, formula: str, cached=None):
        self.formula = formula.removeprefix("=")
        self.cached = cached


def column_cells(values, col: int, first_row: int, kind: str, style: int = 0) -> list[str]:
    """The cell XML of one column for rows ``first_row …``, built in one pass.

    ``kind``: ``"num"`` (floats; NaN gives no cell), ``"date"`` (datetime-like; NaT gives no
    cell), ``"text"`` (anything else; missing and empty give no cell).
    """
    letter = col_letter(col)
    rows = range(first_row + 1, first_row + 1 + len(values))
    s = f' s="{style}"' if style else ""
    if kind == "num":
        arr = np.asarray(values, dtype=float)
        ok = np.isfinite(arr)
        return [f'<c r="{letter}{r}"{s}><v>{v!r}</v></c>' if o else ""
                for r, v, o in zip(rows, arr.tolist(), ok.tolist(), strict=True)]
    if kind == "date":
        stamps = pd.to_datetime(pd.Series(values), errors="coerce")
        days = (stamps.to_numpy().astype("datetime64[D]") - _EPOCH).astype("int64")
        ok = stamps.notna().to_numpy()
        st = f' s="{style or STYLES["date"]}"'
        return [f'<c r="{letter}{r}"{st}><v>{d}</v></c>' if o else ""
                for r, d, o in zip(rows, days.tolist(), ok.tolist(), strict=True)]
    text = pd.Series(values, dtype=object)
    present = text.notna().to_numpy() & (text.astype(str).to_numpy() != "")
    esc = (text.astype(str).str.replace(_BAD_XML, "", regex=True)
           .str.replace("&", "&amp;", regex=False).str.replace("<", "&lt;", regex=False)
           .str.replace(">", "&gt;", regex=False)).tolist()
    head = f'"{s} t="inlineStr"><is><t xml:space="preserve">'
    return [f'<c r="{letter}{r}{head}{v}</t></is></c>' if o else ""
            for r, v, o in zip(rows, esc, present.tolist(), strict=True)]


class Sheet:
    """One worksheet being streamed; made by :meth:`Workbook.sheet`, closed by
    :meth:`close` (or by the next :meth:`Workbook.sheet` / :meth:`Workbook.close`)."""

    def __init__(self, book: Workbook, index: int, name: str, *, widths=None, freeze=None,
                 hidden: bool = False):
        self.book, self.index, self.name, self.hidden = book, index, name, hidden
        self.row = 0
        self.autofilter: tuple[int, int, int, int] | None = None
        self.pictures: list[tuple[int, int, bytes, int, int]] = []
        self._fh = book._zip.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True)
        view = ""
        if freeze:
            rows, cols = freeze
            top = f"{col_letter(cols)}{rows + 1}"
            pane = ("bottomRight" if rows and cols else "bottomLeft" if rows else "topRight")
            split = (f' xSplit="{cols}"' if cols else "") + (f' ySplit="{rows}"' if rows else "")
            view = (f'<pane{split} topLeftCell="{top}" activePane="{pane}" state="frozen"/>'
                    f'<selection pane="{pane}" activeCell="{top}" sqref="{top}"/>')
        cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w:.1f}" customWidth="1"/>'
                       for i, w in enumerate(widths or ()) if w)
        self._put('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                  f"<worksheet {_NS} {_NS_R}><sheetViews><sheetView "
                  f'{_SELECTED if index == 1 else ""}workbookViewId="0">{view}'
                  f'</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
                  + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>")

    def _put(self, text: str) -> None:
        self._fh.write(text.encode("utf-8"))

    def write_row(self, values: Sequence, styles: int | str | Sequence = 0, *,
                  col: int = 0) -> int:
        """Write Python values as the next row, starting at column ``col``; return its
        0-based index. ``styles``: one style (name or index) or one per value."""
        if isinstance(styles, int | str):
            styles = [styles] * len(values)
        r = self.row + 1
        cells = "".join(_cell(f"{col_letter(col + i)}{r}", v, _style(st))
                        for i, (v, st) in enumerate(zip(values, styles, strict=True)))
        self._put(f'<row r="{r}">{cells}</row>')
        self.row += 1
        return r - 1

    def skip(self, rows: int = 1) -> None:
        """Leave ``rows`` empty rows."""
        self.row += rows

    def write_columns(self, columns: Sequence[tuple[Sequence, str, int | str]]) -> None:
        """Write a block of rows from whole columns: ``(values, kind, style)`` each, all of
        one length (see :func:`column_cells` for ``kind``)."""
        if not columns:
            return
        n = len(columns[0][0])
        cells = [column_cells(v, i, self.row, kind, _style(st))
                 for i, (v, kind, st) in enumerate(columns)]
        first = self.row + 1
        self._put("".join(f'<row r="{first + k}">{"".join(parts)}</row>'
                          for k, parts in enumerate(zip(*cells, strict=True))))
        self.row += n

    def picture(self, row: int, col: int, png: bytes, width_px: int, height_px: int) -> None:
        """Anchor a PNG image with its top-left corner at cell (``row``, ``col``)."""
        self.pictures.append((row, col, png, width_px, height_px))

    def close(self) -> None:
        if self._fh is None:
            return
        self._put("</sheetData>")
        if self.autofilter is not None:
            r0, c0, r1, c1 = self.autofilter
            self._put(f'<autoFilter ref="{_ref(r0, c0)}:{_ref(max(r1, r0), c1)}"/>')
        self._put('<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" '
                  'header="0.3" footer="0.3"/><pageSetup orientation="landscape"/>')
        if self.pictures:
            self._put('<drawing r:id="rId1"/>')
        self._put("</worksheet>")
        self._fh.close()
        self._fh = None
        if self.pictures:
            self.book._write_drawing(self)


def _ref(row: int, col: int) -> str:
    return f"{col_letter(col)}{row + 1}"


def _style(style: int | str) -> int:
    return STYLES[style] if isinstance(style, str) else int(style)


class Workbook:
    """A workbook streamed into ``path`` (a new file): sheets one after the other.

    Use as a context manager; :meth:`close` writes the workbook part, the styles and the
    package parts. Sheet names must be unique, at most 31 characters, without ``[]:*?/\\``.
    """

    def __init__(self, path, *, title: str | None = None, level: int = 1):
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED,
                                    compresslevel=level)
        self._sheets: list[Sheet] = []
        self._images = 0
        self._drawings: list[int] = []
        self.title = title
        self.defined: list[str] = []

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.abort()

    def abort(self) -> None:
        """Close the file without finishing it (after an error: the caller discards it);
        the error that led here is the one the caller sees."""
        for sheet in self._sheets:
            if sheet._fh is not None:
                sheet._fh.close()
                sheet._fh = None
        self._zip.close()

    def sheet(self, name: str, *, widths: Iterable[float] | None = None,
              freeze: tuple[int, int] | None = None, hidden: bool = False) -> Sheet:
        """Start the next sheet (closing the one before): ``widths`` per column in character
        units, ``freeze`` = (rows, columns) kept in view."""
        if self._sheets:
            self._sheets[-1].close()
        sheet = Sheet(self, len(self._sheets) + 1, name, widths=list(widths or ()),
                      freeze=freeze, hidden=hidden)
        self._sheets.append(sheet)
        return sheet

    @property
    def sheetnames(self) -> list[str]:
        return [s.name for s in self._sheets]

    def _write_drawing(self, sheet: Sheet) -> None:
        n = len(self._drawings) + 1
        self._drawings.append(n)
        anchors, rels = [], []
        for k, (row, col, png, w, h) in enumerate(sheet.pictures, start=1):
            self._images += 1
            self._zip.writestr(f"xl/media/image{self._images}.png", png)
            rels.append(f'<Relationship Id="rId{k}" Type="{_REL}/image" '
                        f'Target="../media/image{self._images}.png"/>')
            anchors.append(
                f'<xdr:oneCellAnchor><xdr:from><xdr:col>{col}</xdr:col><xdr:colOff>0'
                f'</xdr:colOff><xdr:row>{row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>'
                f'<xdr:ext cx="{w * 9525}" cy="{h * 9525}"/><xdr:pic><xdr:nvPicPr>'
                f'<xdr:cNvPr id="{k + 1}" name="chart {k}"/><xdr:cNvPicPr/></xdr:nvPicPr>'
                f'<xdr:blipFill><a:blip r:embed="rId{k}"/><a:stretch><a:fillRect/></a:stretch>'
                f'</xdr:blipFill><xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{w * 9525}"'
                f' cy="{h * 9525}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
                f"</xdr:spPr></xdr:pic><xdr:clientData/></xdr:oneCellAnchor>")
        self._zip.writestr(
            f"xl/drawings/drawing{n}.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<xdr:wsDr xmlns:xdr='
            '"http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" xmlns:a='
            f'"http://schemas.openxmlformats.org/drawingml/2006/main" {_NS_R}>'
            + "".join(anchors) + "</xdr:wsDr>")
        self._zip.writestr(f"xl/drawings/_rels/drawing{n}.xml.rels", _rels(rels))
        self._zip.writestr(
            f"xl/worksheets/_rels/sheet{sheet.index}.xml.rels",
            _rels([f'<Relationship Id="rId1" Type="{_REL}/drawing" '
                   f'Target="../drawings/drawing{n}.xml"/>']))

    def close(self) -> None:
        """Finish the workbook (at least one sheet is written)."""
        if not self._sheets:
            self.sheet("Sheet1")
        self._sheets[-1].close()
        z = self._zip
        sheets = "".join(
            f'<sheet name="{escape(s.name, {chr(34): "&quot;"})}" sheetId="{s.index}"'
            f'{_HIDDEN if s.hidden else ""} r:id="rId{s.index}"/>'
            for s in self._sheets)
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{s.index - 1}" '
            f'hidden="1">{_quoted(s.name)}!${col_letter(s.autofilter[1])}${s.autofilter[0] + 1}'
            f':${col_letter(s.autofilter[3])}${max(s.autofilter[2], s.autofilter[0]) + 1}'
            "</definedName>" for s in self._sheets if s.autofilter is not None)
        z.writestr("xl/workbook.xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   f"<workbook {_NS} {_NS_R}><bookViews><workbookView/></bookViews>"
                   f"<sheets>{sheets}</sheets>"
                   + (f"<definedNames>{names}</definedNames>" if names else "")
                   + '<calcPr calcId="191029" fullCalcOnLoad="1"/></workbook>')
        rels = [f'<Relationship Id="rId{s.index}" Type="{_REL}/worksheet" '
                f'Target="worksheets/sheet{s.index}.xml"/>' for s in self._sheets]
        n = len(self._sheets)
        rels.append(f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>')
        z.writestr("xl/_rels/workbook.xml.rels", _rels(rels))
        z.writestr("xl/styles.xml", _STYLES_XML)
        z.writestr("_rels/.rels", _rels([
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>',
            f'<Relationship Id="rId2" Type="{_PKG_REL}/metadata/core-properties" '
            'Target="docProps/core.xml"/>']))
        now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        z.writestr("docProps/core.xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
                   'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
                   'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
                   'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/'
                   '2001/XMLSchema-instance">'
                   + (f"<dc:title>{_text(self.title)}</dc:title>" if self.title else "")
                   + "<dc:creator>landcheck</dc:creator>"
                   f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
                   "</cp:coreProperties>")
        over = "".join(
            f'<Override PartName="/xl/worksheets/sheet{s.index}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for s in self._sheets)
        over += "".join(
            f'<Override PartName="/xl/drawings/drawing{d}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.drawing+xml"/>' for d in self._drawings)
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://'
            'schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="png" ContentType="image/png"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
            'package.core-properties+xml"/>' + over + "</Types>")
        z.close()


def _quoted(name: str) -> str:
    return "'" + escape(name).replace("'", "''") + "'"


def _rels(items: list[str]) -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_PKG_REL}">' + "".join(items) + "</Relationships>")


def _styles_xml() -> str:
    fonts = ('<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
             '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
             '<font><i/><sz val="9"/><color rgb="FF666666"/><name val="Calibri"/></font>'
             '<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font>')
    fills = ('<fill><patternFill patternType="none"/></fill>'
             '<fill><patternFill patternType="gray125"/></fill>'
             '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/></patternFill></fill>'
             '<fill><patternFill patternType="solid"><fgColor rgb="FFF2F2F2"/></patternFill></fill>'
             '<fill><patternFill patternType="solid">'
             '<fgColor rgb="FFFFF2CC"/></patternFill></fill>')
    borders = ('<border><left/><right/><top/><bottom/><diagonal/></border>'
               '<border><left/><right/><top/><bottom style="thin"><color rgb="FF999999"/>'
               "</bottom><diagonal/></border>")
    xfs = "".join(
        f'<xf numFmtId="{fmt}" fontId="{font}" fillId="{fill}" borderId="{border}" xfId="0"'
        + (' applyNumberFormat="1"' if fmt else "") + (' applyFont="1"' if font else "")
        + (' applyFill="1"' if fill else "") + "/>" for fmt, font, fill, border in _XF)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<styleSheet {_NS}><numFmts count="3">'
            '<numFmt numFmtId="164" formatCode="#,##0.00"/>'
            '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/>'
            '<numFmt numFmtId="166" formatCode="0&quot; 个图斑&quot;"/></numFmts>'
            f'<fonts count="4">{fonts}</fonts><fills count="5">{fills}</fills>'
            f'<borders count="2">{borders}</borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            f'</cellStyleXfs><cellXfs count="{len(_XF)}">{xfs}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
            "</cellStyles></styleSheet>")


_STYLES_XML = _styles_xml()
