"""Drawing one verification card: an A4 portrait page from a card payload
(:func:`landcheck.report.cards.write_cards` makes the payloads).

Positions are in millimetres from the page's top-left corner; text flows down the page
and stops, saying so, at the bottom margin.
"""

from __future__ import annotations

from pathlib import Path

from landcheck.io.atomic import atomic_file

__all__ = ["PAGE_MM", "draw_card", "init_worker", "text_width", "wrap"]

#: A4 portrait, millimetres.
PAGE_MM = (210.0, 297.0)
_LEFT, _RIGHT, _BOTTOM = 15.0, 195.0, 287.0
_MAP_TOP = 26.0
_PT_MM = 25.4 / 72
_PNG_DPI = 150


def init_worker(font: str) -> None:
    """Set up matplotlib in a drawing process: Agg backend and the CJK font file."""
    from landcheck.report.fonts import use_font

    use_font(font)


def text_width(text: str) -> float:
    """Width of ``text`` in ems (CJK characters 1, others about 0.55).

    >>> text_width("耕地 ab")
    3.65
    """
    return round(sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in text), 6)


def wrap(text: str, width_em: float) -> list[str]:
    """Lines of ``text`` at most ``width_em`` ems wide (breaking anywhere; CJK has no spaces).

    >>> wrap("未批先建2329平方米", 5)
    ['未批先建2', '329平方米']
    """
    lines, line, w = [], "", 0.0
    for ch in text:
        cw = text_width(ch)
        if line and w + cw > width_em:
            lines.append(line)
            line, w = "", 0.0
        line += ch
        w += cw
    if line or not lines:
        lines.append(line)
    return lines


class _Page:
    """A figure with a text cursor ``y`` (mm from the top)."""

    def __init__(self):
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=(PAGE_MM[0] / 25.4, PAGE_MM[1] / 25.4))
        self.y = 10.0
        self.bottom = _BOTTOM
        self.full = False

    def text(self, x: float, y: float, s: str, size: float = 8, **kw) -> None:
        self.fig.text(x / PAGE_MM[0], 1 - y / PAGE_MM[1], s, fontsize=size, va="top", **kw)

    def line(self, size: float) -> bool:
        """Room for one more line of ``size`` points? (Else note the cut, once.)"""
        if self.y + size * _PT_MM * 1.45 > self.bottom - 4:
            if not self.full:
                self.text(_LEFT, self.bottom - 3.5, "……（内容未能全部列出，详见台账 see the "
                          "ledger）", 7, color="0.4")
                self.full = True
            return False
        return True

    def advance(self, size: float) -> None:
        self.y += size * _PT_MM * 1.45

    def heading(self, s: str) -> None:
        from matplotlib.lines import Line2D

        self.y += 2.5
        if not self.line(9.5):
            return
        self.text(_LEFT, self.y, s, 9.5, color="0.1")
        self.advance(9.5)
        yy = 1 - (self.y - 0.6) / PAGE_MM[1]
        self.fig.add_artist(Line2D([_LEFT / PAGE_MM[0], _RIGHT / PAGE_MM[0]], [yy, yy],
                                   lw=0.5, color="0.6"))
        self.y += 0.8

    def rows(self, rows, xs, size: float = 7.5, width_em=None) -> None:
        """Table rows: ``rows`` of cells placed at ``xs`` (mm); the last cell wraps at
        ``width_em`` ems."""
        for cells in rows:
            last = wrap(cells[-1], width_em) if width_em else [cells[-1]]
            for i, part in enumerate(last):
                if not self.line(size):
                    return
                for j, (x, cell) in enumerate(zip(xs, cells, strict=True)):
                    s = part if j == len(cells) - 1 else (cell if i == 0 else "")
                    if s:
                        self.text(x, self.y, s, size)
                self.advance(size)


def draw_card(payload: dict) -> list[Path]:
    """Draw one card and write its files atomically (``payload["targets"]``: the PDF, then
    the PNG if asked for); return them."""
    page = _Page()
    _title(page, payload)
    _map(page, payload)
    _tables(page, payload)
    written = []
    for target in payload["targets"]:
        with atomic_file(target, overwrite=True) as tmp:  # existing ones were refused before
            fmt = target.suffix.lstrip(".").lower()
            page.fig.savefig(tmp, format=fmt, dpi=_PNG_DPI if fmt == "png" else 72,
                             metadata=_metadata(payload, fmt))
        written.append(target)
    return written


def _metadata(payload: dict, fmt: str) -> dict:
    title = f"卫片图斑核查卡 {payload['id']}"
    if fmt == "pdf":
        return {"Title": title, "Subject": payload["round"], "Creator": "landcheck"}
    return {"Title": title, "Software": "landcheck"}


def _title(page: _Page, p: dict) -> None:
    page.text(_LEFT, page.y, f"卫片图斑核查卡  {p['id']}", 15)
    verdict = dict(p["official"]).get("判定结果", "")
    page.text(_RIGHT, page.y + 1, verdict, 11, ha="right", color=p["colour"])
    page.text(_LEFT, page.y + 8.5, f"{p['round']} · 坐标系 {p['crs']} · 比例尺 1:{p['scale']}",
              8.5, color="0.25")


# --- the map ----------------------------------------------------------------------------

def _map(page: _Page, p: dict) -> None:
    from landcheck.report.cards import CONTEXT, MAP_MM

    w, h = MAP_MM
    ax = page.fig.add_axes((_LEFT / PAGE_MM[0], 1 - (_MAP_TOP + h) / PAGE_MM[1],
                            w / PAGE_MM[0], h / PAGE_MM[1]))
    x0, y0, x1, y1 = p["frame"]
    handles = []
    for name, geoms in p["context"].items():
        label, face, edge, style, hatch = CONTEXT[name]
        if geoms:
            handles.append(_polys(ax, geoms, face=face, edge=edge, lw=0.6, ls=style,
                                  hatch=hatch, label=label, z=1))
    by_class: dict[str, list] = {}
    for child in p["children"]:
        by_class.setdefault(child["class"], []).append(child)
    for cls, children in by_class.items():
        rgb = children[0]["rgb"]
        handles.append(_polys(ax, [c["geometry"] for c in children], face=(*rgb, 0.45),
                              edge=rgb, lw=0.5, label=f"子图斑：{cls or '未分类'}", z=3))
    if p["patch"] is not None and not p["patch"].is_empty:
        handles.append(_polys(ax, [p["patch"]], face=(0, 0, 0, 0), edge=(0.85, 0.0, 0.0),
                              lw=1.6, label="卫片图斑", z=4))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("white")
    _north_arrow(ax)
    _scale_bar(ax, x0, y0, x1 - x0, y1 - y0)
    handles = [hd for hd in handles if hd is not None]
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize=6.5, framealpha=0.85,
                  title="图例", title_fontsize=7)
    page.y = _MAP_TOP + h + 1


def _polys(ax, geoms, *, face, edge, lw, label, z, ls="-", hatch=None):
    from matplotlib.collections import PathCollection
    from matplotlib.patches import Patch

    paths = [path for g in geoms if g is not None for path in _paths(g)]
    if not paths:
        return None
    coll = PathCollection(paths, facecolors=[face], edgecolors=[edge], linewidths=lw,
                          linestyles=ls, zorder=z)
    if hatch:
        coll.set_hatch(hatch)
    ax.add_collection(coll)
    return Patch(facecolor=face, edgecolor=edge, linewidth=lw, linestyle=ls, hatch=hatch,
                 label=label)


def _paths(geom):
    """Matplotlib paths of a polygonal geometry (holes as inner rings); other parts are
    skipped."""
    import numpy as np
    import shapely
    from matplotlib.path import Path as MplPath

    out = []
    for part in shapely.get_parts(np.asarray([geom])):
        if shapely.get_type_id(part) == 7:  # a collection from an intersection
            out.extend(_paths(part))
            continue
        if shapely.get_type_id(part) != 3 or part.is_empty:
            continue
        rings = [part.exterior, *part.interiors]
        verts, codes = [], []
        for ring in rings:
            xy = np.asarray(ring.coords)[:, :2]
            verts.append(xy)
            codes.append([MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2)
                         + [MplPath.CLOSEPOLY])
        out.append(MplPath(np.concatenate(verts), np.concatenate(codes)))
    return out


def _north_arrow(ax) -> None:
    ax.annotate("", xy=(0.955, 0.96), xytext=(0.955, 0.86), xycoords="axes fraction",
                arrowprops={"arrowstyle": "simple,head_width=0.9,head_length=1.1",
                            "color": "0.1"}, zorder=6)
    ax.text(0.955, 0.83, "北", transform=ax.transAxes, ha="center", va="top", fontsize=9,
            zorder=6)


def _nice(length: float) -> float:
    """The largest 1, 2 or 5 × 10^k not above ``length``."""
    import math

    k = 10 ** math.floor(math.log10(length))
    return max(m * k for m in (1, 2, 5) if m * k <= length)


def _scale_bar(ax, x0: float, y0: float, width: float, height: float) -> None:
    from matplotlib.patches import Rectangle

    length = _nice(width / 4)
    left, base, tall = x0 + width * 0.04, y0 + height * 0.05, height * 0.012
    for i in range(4):
        ax.add_patch(Rectangle((left + i * length / 4, base), length / 4, tall, zorder=6,
                               facecolor="0.1" if i % 2 == 0 else "white", edgecolor="0.1",
                               linewidth=0.6))
    for x, s in ((left, "0"), (left + length / 2, f"{length / 2:g}"), (left + length,
                                                                    f"{length:g} 米")):
        ax.text(x, base + tall * 1.6, s, ha="center", va="bottom", fontsize=6.5, zorder=6)


# --- the tables ---------------------------------------------------------------------------

def _tables(page: _Page, p: dict) -> None:
    top = page.y
    _provenance(page, p["provenance"])
    page.heading("基本情况 Facts")
    page.rows(p["facts"], (_LEFT, _LEFT + 27), width_em=23)
    left_end = page.y
    page.y = top + 2.5  # the official opinion beside the facts
    page.text(108, page.y, "认定意见 Official category", 9.5, color="0.1")
    page.advance(9.5)
    page.y += 0.8
    page.rows([r for r in p["official"] if r[1]], (108, 133), width_em=23)
    page.y = max(page.y, left_end)
    page.heading("触发规则、理由与依据 Rules, reasons and citations")
    if not p["rules"]:
        page.rows([("（无）",)], (_LEFT,))
    for k, (rid, reason, cites) in enumerate(p["rules"], start=1):
        page.rows([(f"{k}.", rid, f"依据：{cites}")], (_LEFT, _LEFT + 5, _LEFT + 62),
                  width_em=42)
        if reason:
            page.rows([("", "理由", reason)], (_LEFT, _LEFT + 5, _LEFT + 14), width_em=62)
    page.heading(f"拆分子图斑 Child plots（{len(p['children'])}）")
    xs = (_LEFT, _LEFT + 48, _LEFT + 80, _LEFT + 130, _LEFT + 152, _LEFT + 168)
    page.rows([("子图斑编号", "类别", "子类", "面积/平方米", "面积/亩", "占比/%")], xs)
    from landcheck.area import m2_to_mu

    page.rows([(c["id"], c["class"], c["subclass"], f"{c['area_m2']:.2f}",
                f"{float(m2_to_mu(c['area_m2'])):.2f}", f"{c['share_pct']:.1f}")
               for c in p["children"]], xs)


def _provenance(page: _Page, lines: list[str]) -> None:
    """The provenance block at the foot of the page (the flow above stops short of it)."""
    head, inputs = lines[:3], lines[3:]
    rows = [tuple(inputs[i:i + 3]) + ("",) * (3 - len(inputs[i:i + 3]))
            for i in range(0, len(inputs), 3)]
    height = 3.5 + 9.5 * _PT_MM * 1.45 + (len(head) * 6.5 + len(rows) * 5.5) * _PT_MM * 1.45
    top = page.y
    page.y, page.bottom = _BOTTOM - height, _BOTTOM + 4
    page.heading("数据来源 Provenance")
    page.rows([(s,) for s in head], (_LEFT,), size=6.5)
    page.rows(rows, (_LEFT, _LEFT + 60, _LEFT + 120), size=5.5)
    page.bottom, page.y = _BOTTOM - height, top
