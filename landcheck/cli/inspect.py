"""``landcheck inspect``: what landcheck sees in a config's layers or in one file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from landcheck.cli.helpers import EXIT_ERROR, cli_errors, cli_text
from landcheck.cli.options import parse_sets, rules_opt, set_opt


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
@rules_opt
@set_opt
@click.pass_context
def inspect_cmd(ctx, source: Path, layer, encoding, crs, zone, central_meridian, id_field, as_json,
                rules, sets):
    """Show, per layer, what landcheck reads: driver, features, CRS and how it
    was decided, encoding, bounds, invalid/empty geometries, duplicate ids, and
    every field with its type and sample values. For a layer config, also the
    values of each mapped field that no vocabulary knows (after the config's
    `values` tables), with their counts, and then, as a pre-flight check, the
    problems a `screen` run with --rules would hit: layers its rules read that
    the config lacks, values, dates and codes it cannot use, wrong geometry
    types, layers that do not meet the patches. Exit 1 when a layer cannot be
    read or a run would stop.

    SOURCE is a layer config (.toml) or a single layer file.

    \b
    Examples:
      landcheck inspect data/samples/county.toml
      landcheck inspect yjjbnt.shp --zone 39 --id-field BSM
    """
    from landcheck.inspection import inspect_file, inspect_layerset, preflight
    from landcheck.layers import LayerSet

    problems = None
    with cli_errors(ctx):
        if source.suffix.lower() == ".toml":
            layerset = LayerSet.from_config(source)
            reports = inspect_layerset(layerset)
            problems = preflight(layerset, rules, overrides=parse_sets(sets))
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
    layers = [r.to_dict() for r in reports]
    if as_json:
        out = layers if problems is None else {
            "layers": layers, "problems": [dataclasses.asdict(p) for p in problems]}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for r in reports:
            click.echo("\n".join(cli_text(line, "inspect") for line in r.lines()))
        if problems is not None:
            errors = sum(p.level == "error" for p in problems)
            click.echo(f"\n一次核查会遇到的问题 problems a run with --rules {rules} would hit: "
                       f"{errors} error(s), {len(problems) - errors} warning(s)"
                       + ("" if problems else " — none"))
            for p in problems:
                click.echo("  " + cli_text(p.line(), "screen"))  # config keys, not options
    failed = [r for r in reports if not r.ok]
    if failed:
        click.echo(
            f"landcheck: error: {len(failed)} of {len(reports)} layer(s) could not be read",
            err=True,
        )
    stops = [p for p in problems or () if p.level == "error"]
    if stops and not failed:
        click.echo(f"landcheck: error: a run would stop: {stops[0].message}", err=True)
    if failed or stops:
        ctx.exit(EXIT_ERROR)
