"""``landcheck inspect``: what landcheck sees in a config's layers or in one file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from landcheck.cli.helpers import EXIT_ERROR, cli_errors, cli_text


@click.command("inspect")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--layer", help="Layer inside a multi-layer file (GeoPackage, FileGDB, KML).")
@click.option("--encoding", help="Text encoding of a shapefile, e.g. GB18030 (default: detect).")
@click.option("--crs", help="CRS of a file without one, e.g. EPSG:4527.")
@click.option("--zone", type=int, help="Gauss-Kruger zone for unprefixed eastings, e.g. 39.")
@click.option(
    "--central-meridian", type=float, help="Central meridian for unprefixed eastings, e.g. 117."
)
@click.option("--id-field", help="Field that must hold unique ids (reports duplicates).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def inspect_cmd(ctx, source: Path, layer, encoding, crs, zone, central_meridian, id_field, as_json):
    """Show, per layer, what landcheck reads: driver, features, CRS and how it
    was decided, encoding, bounds, invalid/empty geometries and duplicate ids.
    For a layer config, also the values of each mapped field that no vocabulary
    knows (after the config's `values` tables), with their counts: a run warns
    about them and sends what depends on them for review.

    SOURCE is a layer config (.toml) or a single layer file.

    \b
    Examples:
      landcheck inspect data/samples/county.toml
      landcheck inspect yjjbnt.shp --zone 39 --id-field BSM
    """
    from landcheck.inspection import inspect_file, inspect_layerset
    from landcheck.layers import LayerSet

    with cli_errors(ctx):
        if source.suffix.lower() == ".toml":
            reports = inspect_layerset(LayerSet.from_config(source))
        else:
            reports = [
                inspect_file(
                    source,
                    layer=layer,
                    encoding=encoding,
                    crs=crs,
                    zone=zone,
                    central_meridian=central_meridian,
                    id_field=id_field,
                )
            ]
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        for r in reports:
            click.echo("\n".join(cli_text(line, "inspect") for line in r.lines()))
    failed = [r for r in reports if not r.ok]
    if failed:
        click.echo(
            f"landcheck: error: {len(failed)} of {len(reports)} layer(s) could not be read",
            err=True,
        )
        ctx.exit(EXIT_ERROR)
