"""``landcheck report cards``: a verification card (A4 PDF, optionally PNG) per patch."""

from __future__ import annotations

from pathlib import Path

import click

from landcheck.cli.helpers import cli_errors
from landcheck.cli.options import overwrite_opt, progress, verbosity_opts

_VERDICTS = ("illegal", "needs_review", "legal", "other")


@click.command("cards")
@click.argument("gpkg", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the cards (<id>.pdf, <id>.png); created if missing.")
@click.option("--layers", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Layer config (TOML) of the run: its farmland, permanent farmland, red "
                   "line, boundaries and approvals are drawn under the patch.")
@click.option("--only", multiple=True, type=click.Choice(_VERDICTS),
              help="Only patches with this verdict (repeatable).")
@click.option("--ids", metavar="ID,ID,…", help="Only these patch ids (comma-separated).")
@click.option("--png", is_flag=True, help="Also write a PNG (150 dpi) of each card.")
@click.option("--workers", type=click.IntRange(min=1), metavar="N",
              help="Processes drawing cards (default: min(4, CPUs)).")
@click.option("--font", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A CJK font file (default: $LANDCHECK_CJK_FONT, else an installed "
                   "WenQuanYi / Noto Sans CJK / Source Han Sans / SimHei / YaHei).")
@overwrite_opt
@verbosity_opts
@click.pass_context
def cards_cmd(ctx, gpkg, out_dir, layers, only, ids, png, workers, font, overwrite):
    """A verification card per patch of GPKG (written by `landcheck screen`): map at a
    round scale with the reference layers and child plots, facts in m² and 亩, official
    category, fired rules with reasons and citations, deadline and provenance.

    \b
    Examples:
      landcheck report cards out.gpkg -o cards/ --layers county.toml --only illegal
      landcheck report cards out.gpkg -o cards/ --ids 3499012023Q3000001 --png
    """
    from landcheck.report.cards import write_cards

    with cli_errors(ctx):
        files = write_cards(gpkg, out_dir, layers=layers, only=list(only) or None, ids=ids,
                            png=png, workers=workers, overwrite=overwrite, font=font,
                            progress=progress(ctx))
        progress(ctx)(f"cards: {len(files)} file(s) in {out_dir}")


COMMANDS = [cards_cmd]
