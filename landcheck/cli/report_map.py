"""``landcheck report map``: an offline interactive map (one HTML file) of a screening
GeoPackage."""

from __future__ import annotations

from pathlib import Path

import click

from landcheck.cli.helpers import cli_errors
from landcheck.cli.options import overwrite_opt, progress, refuse_existing


def _html_suffix(ctx, param, value):
    if value is not None and value.suffix.lower() not in (".html", ".htm"):
        raise click.BadParameter(f"{value} is not an HTML file; name it *.html")
    return value


@click.command("map")
@click.argument("gpkg", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, callback=_html_suffix,
              type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML file to write (self-contained; opens offline).")
@click.option("--layers", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Layer config (TOML): also draw its permanent farmland, ecological red "
                   "line, town development boundary and approvals near the patches.")
@click.option("--cards", "cards_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the verification cards (<id>.pdf): each popup links to its "
                   "card, relative to the map.")
@overwrite_opt
@click.pass_context
def map_cmd(ctx, gpkg, output, layers, cards_dir, overwrite):
    """Write an offline map of GPKG (written by `landcheck screen`): patches coloured by
    official class, a popup per patch, child plots and reference layers to switch on and
    off. No base map; nothing is loaded from the network.

    \b
    Examples:
      landcheck report map out.gpkg -o round.html
      landcheck report map out.gpkg -o round.html --layers data/samples/county.toml \\
          --cards cards --overwrite
    """
    from landcheck.io.write import refuse_inputs_as_outputs
    from landcheck.report.webmap import write_map

    refuse_existing([output], overwrite)
    say = progress(ctx)
    with cli_errors(ctx):
        refuse_inputs_as_outputs({"-o/--output": output}, {"GPKG": gpkg, "--layers": layers})
        summary = write_map(gpkg, output, overwrite=overwrite, layers=layers,
                            cards_dir=cards_dir)
        overlays = ", ".join(f"{name} {n}" for name, n in summary.overlays.items())
        say(f"wrote {output} ({summary.bytes / 1e6:.1f} MB): {summary.patches} patches, "
            f"{summary.drawn} drawn" + (f"; overlays: {overlays}" if overlays else ""))


COMMANDS = [map_cmd]
