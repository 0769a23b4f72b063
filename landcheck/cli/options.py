"""Options shared by several subcommands."""

from __future__ import annotations

from pathlib import Path

import click

layers_opt = click.option("--layers", "layers", required=True,
                          type=click.Path(exists=True, dir_okay=False, path_type=Path),
                          help="Layer config (TOML) naming the reference layers.")
rules_opt = click.option("--rules", default="city2023", show_default=True,
                         help="Built-in rule pack name or a rule pack TOML file.")
set_opt = click.option("--set", "sets", multiple=True, metavar="FAMILY.PARAM=VALUE",
                       help="Override a rule parameter, e.g. --set legality.sliver_m2=5 "
                            "(repeatable).")
as_of_opt = click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
                         help="Reference date for date-based rules (default: today).")
output_opt = click.option("-o", "--output", required=True,
                          type=click.Path(dir_okay=False, path_type=Path),
                          help="Output GeoPackage (layers verdicts, fragments, metadata).")
xlsx_opt = click.option("--xlsx", type=click.Path(dir_okay=False, path_type=Path),
                        help="Also write an Excel ledger.")
overwrite_opt = click.option("--overwrite", is_flag=True,
                             help="Replace existing outputs (never done without it).")


def parse_sets(sets) -> dict:
    from landcheck.rules import parse_set_option

    out = {}
    for item in sets:
        try:
            key, value = parse_set_option(item)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--set") from None
        out[key] = value
    return out


def refuse_existing(paths, overwrite: bool) -> None:
    """Fail before any work if an output exists and --overwrite was not given; create the
    output folders."""
    for p in paths:
        if p is not None and p.exists() and not overwrite:
            raise click.UsageError(f"{p} exists; pass --overwrite to replace it")
    for p in paths:
        if p is not None:
            p.parent.mkdir(parents=True, exist_ok=True)


def progress(ctx):
    quiet = (ctx.obj or {}).get("quiet", False)
    return (lambda msg: None) if quiet else (lambda msg: click.echo(f"landcheck: {msg}", err=True))
