"""Matplotlib and a Chinese (CJK) font for drawn reports: verification cards and charts.

Text in Chinese needs a font with CJK glyphs; without one matplotlib draws empty boxes, so
:func:`cjk_font` refuses rather than falls back. The font is found, in this order, from
the ``font`` argument, the ``LANDCHECK_CJK_FONT`` environment variable (a font file), the
fonts matplotlib knows by name (:data:`PREFERRED`), then the system's font files.
:func:`use_font` switches matplotlib to the Agg backend and that font, with
``pdf.fonttype = 42``: PDFs embed the font as TrueType, so their text can be searched
and copied.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from landcheck.errors import MissingDependencyError

__all__ = ["ENV_VAR", "INSTALL_HINT", "PREFERRED", "cjk_font", "require_matplotlib",
           "use_font"]

#: CJK font families, best first.
PREFERRED = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei",
             "Microsoft YaHei")
#: Environment variable naming a font file to use instead.
ENV_VAR = "LANDCHECK_CJK_FONT"
#: How to install the optional packages of the drawn reports.
INSTALL_HINT = "pip install 'landcheck[reports]'"
_FILE_NAMES = re.compile(r"wqy-?microhei|notosanscjk|sourcehansans|simhei|msyh", re.I)


def require_matplotlib():
    """Import matplotlib with the Agg backend (no display needed), or say how to install it."""
    try:
        import matplotlib
    except ImportError:  # optional dependency
        raise MissingDependencyError(
            f"drawn reports (cards, charts) need matplotlib: {INSTALL_HINT}") from None
    matplotlib.use("Agg")
    return matplotlib


def cjk_font(font=None) -> Path:
    """The file of a font with Chinese glyphs.

    Parameters
    ----------
    font : path, optional
        A font file (``.ttf``, ``.otf``, ``.ttc``); default: ``$LANDCHECK_CJK_FONT``, else
        the first of :data:`PREFERRED` found.

    Raises
    ------
    MissingDependencyError
        when no such font is installed, saying what to install.
    """
    given = font or os.environ.get(ENV_VAR) or None
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            where = "font=" if font else f"${ENV_VAR}"
            raise MissingDependencyError(f"{where} {path}: no such font file")
        return path.resolve()
    require_matplotlib()
    from matplotlib import font_manager

    known = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for name in PREFERRED:
        if name in known:
            return Path(known[name])
    files = sorted(f for f in font_manager.findSystemFonts() if _FILE_NAMES.search(Path(f).name))
    if files:
        return Path(files[0])
    raise MissingDependencyError(
        "no Chinese (CJK) font found for the report text (looked for "
        f"{', '.join(PREFERRED)}); install one, e.g. `apt-get install fonts-wqy-microhei` "
        f"(Debian/Ubuntu) or `dnf install wqy-microhei-fonts`, or set {ENV_VAR} to a font "
        "file (.ttf/.otf/.ttc)")


def use_font(path) -> str:
    """Make matplotlib draw with the font file ``path`` (Agg backend, TrueType in PDFs);
    return the font's family name."""
    matplotlib = require_matplotlib()
    from matplotlib import font_manager

    path = str(path)
    if not any(f.fname == path for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(path)
    name = font_manager.FontProperties(fname=path).get_name()
    matplotlib.rcParams.update({
        "font.family": [name], "pdf.fonttype": 42, "ps.fonttype": 42,
        "axes.unicode_minus": False, "svg.fonttype": "none",
    })
    return name
