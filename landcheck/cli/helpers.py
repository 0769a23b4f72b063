"""Shared CLI plumbing: turning landcheck errors into messages and exit codes.

Library messages give advice in terms of the Python API (``pass layer=``,
``zone=39``, ``overwrite=True``); :func:`cli_text` rewords that advice in terms of
the options the running subcommand has, or of the layer config's keys where it has
none.
"""

from __future__ import annotations

import contextlib
import re
import sys
import warnings

import click

from landcheck.errors import LandcheckError, LandcheckWarning

#: Exit codes: 0 done, 1 runtime error, 2 usage error (click), 3 illegal patches found (opt-in).
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_ILLEGAL = 0, 1, 2, 3

#: Per subcommand: the reading options it has for its own input file (PATCHES, PROJECT,
#: SOURCE), API keyword → CLI option. Layers named in the config take the config keys.
_FILE_OPTIONS = {
    "inspect": {"layer": "--layer", "encoding": "--encoding", "crs": "--crs", "zone": "--zone",
                "central_meridian": "--central-meridian"},
    "site": {"layer": "--layer", "crs": "--crs"},
    "screen": {"layer": "--patch-layer"},
}


def _advice(key: str, value: str | None, command: str | None) -> str:
    """How to set one reading option: the subcommand's option and/or the config key."""
    option = _FILE_OPTIONS.get(command or "", {}).get(key)
    shown = f" {value}" if value else ""
    config = f"`{key}{' = ' + _toml(value) if value else ''}` in the layer's config table"
    if option is None:
        return f"set {config}"
    if command == "inspect":
        return f"pass {option}{shown}"
    return f"pass {option}{shown} (for the file on the command line) or set {config}"


def _zone_advice(zone: str | None, meridian: str | None, command: str | None) -> str:
    if command == "inspect":
        return (f"pass --zone {zone} or --central-meridian {meridian}" if zone
                else "pass --zone or --central-meridian")
    config = (f"set `zone = {zone}` or `central_meridian = {meridian}` in the layer's config "
              "table" if zone else "set `zone` or `central_meridian` in the layer's config table")
    if command == "site":
        return f"pass --crs (e.g. EPSG:4527) for PROJECT or {config}"
    return config


def _toml(value: str) -> str:
    return value if re.fullmatch(r"[0-9.]+", value) else f'"{value}"'


def cli_text(message: str, command: str | None) -> str:
    """``message`` with Python-keyword advice replaced by the CLI's options or config keys.

    >>> cli_text("a.gpkg: holds 2 layers; pass layer= with one of: A, B", "inspect")
    'a.gpkg: holds 2 layers; pass --layer with one of: A, B'
    >>> print(cli_text("x.shp: pass the zone, e.g. zone=39 or central_meridian=117 (config "
    ...                "key `zone` / `central_meridian`), or add a .prj.", "check"))
    x.shp: set `zone = 39` or `central_meridian = 117` in the layer's config table, or add a .prj.
    """
    text = message
    text = re.sub(
        r"pass the zone, e\.g\. zone=(\d+) or central_meridian=(\d+) "
        r"\(config key `zone` / `central_meridian`\)",
        lambda m: _zone_advice(m[1], m[2], command), text)
    text = re.sub(r"pass zone= or central_meridian=",
                  lambda m: _zone_advice(None, None, command), text)
    text = re.sub(r"pass the right encoding=, e\.g\. '([^']+)' or '([^']+)'",
                  lambda m: f"{_advice('encoding', m[1], command)} (or {m[2]})", text)
    text = re.sub(r"pass encoding='([^']+)'",
                  lambda m: _advice("encoding", m[1], command), text)
    text = re.sub(r"pass encoding=(\.\.\.)?", lambda m: _advice("encoding", None, command), text)
    text = re.sub(r"pass layer= ", lambda m: _advice("layer", None, command) + " ", text)
    text = re.sub(r"pass crs=\.\.\.", lambda m: _advice("crs", None, command), text)
    if command == "screen":
        text = re.sub(r"(patches: .*? has \d+ layers); set `layer` to one of",
                      r"\1; pass --patch-layer (for PATCHES) or set `layer` in [patches] "
                      r"to one of", text)
    text = text.replace("pass overwrite=True (CLI: --overwrite)", "pass --overwrite")
    text = text.replace("write_layers writes GeoPackages only; use a .gpkg path",
                        "-o/--output must be a GeoPackage; name it *.gpkg")
    text = text.replace(" (or pass driver=)", "")
    text = text.replace("give the patch file explicitly",
                        "give PATCHES on the command line or set `path` in [patches]")
    text = re.sub(r"\boverride '([^']+)'", r"--set \1", text)
    return text


@contextlib.contextmanager
def cli_errors(ctx: click.Context):
    """Report failures as one clear message and exit 1; tracebacks only with -vv. Click's
    own usage errors pass through (exit 2)."""
    verbose = (ctx.obj or {}).get("verbose", 0)
    quiet = (ctx.obj or {}).get("quiet", False)
    command = ctx.info_name

    def show_warning(message, category, filename, lineno, file=None, line=None):
        print(f"landcheck: warning: {cli_text(str(message), command)}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if quiet else "default", LandcheckWarning)
        warnings.showwarning = show_warning
        try:
            yield
        except LandcheckError as exc:
            if verbose >= 2:
                raise
            click.echo(f"landcheck: error: {cli_text(str(exc), command)}", err=True)
            ctx.exit(EXIT_ERROR)
        except (OSError, ValueError) as exc:
            if verbose >= 2:
                raise
            click.echo(f"landcheck: error: {type(exc).__name__}: {cli_text(str(exc), command)}",
                       err=True)
            ctx.exit(EXIT_ERROR)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # an unforeseen failure: still one line, traceback with -vv
            if verbose >= 2:
                raise
            click.echo(f"landcheck: error: {type(exc).__name__}: {exc} (an unexpected failure; "
                       "rerun with -vv for the traceback and report it)", err=True)
            ctx.exit(EXIT_ERROR)
