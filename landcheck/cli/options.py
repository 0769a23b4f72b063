"""Options shared by several subcommands."""

from __future__ import annotations

import datetime as _dt
import logging
from pathlib import Path

import click


def _suffix_check(suffix: str, what: str):
    def check(ctx, param, value):
        if value is not None and value.suffix.lower() != suffix:
            raise click.BadParameter(f"{value} is not {what}; name it *{suffix}")
        return value
    return check


def _as_of(ctx, param, value):
    """Parse --as-of (YYYY-MM-DD or YYYYMMDD); without it, say on stderr that today is used."""
    if value is None:
        if not (ctx.obj or {}).get("quiet", False):
            click.echo(f"landcheck: warning: --as-of not given: using today's date "
                       f"{_dt.date.today().isoformat()} for deadlines and terms", err=True)
        return None
    try:
        return _dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date ({exc}); use YYYY-MM-DD, "
                                 "e.g. --as-of 2023-09-30") from None


def _verbosity(ctx, param, value):
    """-v/-q on a subcommand add to those given before it (``landcheck screen -v`` =
    ``landcheck -v screen``)."""
    obj = ctx.ensure_object(dict)
    if param.name == "verbose" and value:
        obj["verbose"] = obj.get("verbose", 0) + value
    elif param.name == "quiet" and value:
        obj["quiet"] = True
    set_log_level(obj.get("verbose", 0), obj.get("quiet", False))
    return value


def set_log_level(verbose: int, quiet: bool) -> None:
    level = (
        logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    )
    logging.getLogger().setLevel(level)


def verbosity_opts(f):
    """-v/--verbose and -q/--quiet, accepted after the subcommand as well as before it."""
    f = click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_verbosity,
                     help="Only errors.")(f)
    return click.option("-v", "--verbose", count=True, expose_value=False, callback=_verbosity,
                        help="More log output (-vv: debug, with tracebacks).")(f)

layers_opt = click.option("--layers", "layers", required=True,
                          type=click.Path(exists=True, dir_okay=False, path_type=Path),
                          help="Layer config (TOML) naming the reference layers.")
rules_opt = click.option("--rules", default="city2023", show_default=True,
                         help="Built-in rule pack name or a rule pack TOML file.")
set_opt = click.option("--set", "sets", multiple=True, metavar="FAMILY.PARAM=VALUE",
                       help="Override a rule parameter, e.g. --set legality.sliver_m2=5 "
                            "(repeatable).")
as_of_opt = click.option("--as-of", "as_of", metavar="YYYY-MM-DD", callback=_as_of,
                         help="Reference date for deadlines and terms (default: today, with a "
                              "warning; the provenance records which).")
output_opt = click.option("-o", "--output", required=True,
                          type=click.Path(dir_okay=False, path_type=Path),
                          callback=_suffix_check(".gpkg", "a GeoPackage"),
                          help="Output GeoPackage (layers verdicts, fragments, metadata).")
xlsx_opt = click.option("--xlsx", type=click.Path(dir_okay=False, path_type=Path),
                        callback=_suffix_check(".xlsx", "an Excel workbook"),
                        help="Also write an Excel ledger (*.xlsx).")
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
