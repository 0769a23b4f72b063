"""``landcheck report summary``: summary tables with bar charts in an Excel workbook."""

from __future__ import annotations

from pathlib import Path

import click

from landcheck.cli.helpers import cli_errors
from landcheck.cli.options import overwrite_opt, progress, verbosity_opts


def _xlsx(ctx, param, value):
    if value is not None and value.suffix.lower() != ".xlsx":
        raise click.BadParameter(f"{value} is not an Excel workbook; name it *.xlsx")
    return value


@click.command("summary")
@click.argument("gpkg", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              callback=_xlsx,
              help="Summary workbook (*.xlsx): one sheet per table, with its chart.")
@click.option("--png-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write each chart as a PNG into this folder.")
@click.option("--font", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A CJK font file (default: $LANDCHECK_CJK_FONT, else an installed one).")
@overwrite_opt
@verbosity_opts
@click.pass_context
def summary_cmd(ctx, gpkg, output, png_dir, font, overwrite):
    """Patches and 亩 by township, official category, fired rule and issuing level of GPKG
    (written by `landcheck screen`), each with a bar chart.

    \b
    Example:
      landcheck report summary out.gpkg -o summary.xlsx --png-dir charts/
    """
    from landcheck.report.charts import write_summary

    with cli_errors(ctx):
        write_summary(gpkg, output, png_dir=png_dir, overwrite=overwrite, font=font,
                      progress=progress(ctx))


COMMANDS = [summary_cmd]
