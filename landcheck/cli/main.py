"""The ``landcheck`` command group. Each subcommand lives in its own module."""

from __future__ import annotations

import logging

import click

from landcheck._version import __version__
from landcheck.cli.check import check_cmd
from landcheck.cli.inspect import inspect_cmd
from landcheck.cli.ledger import ledger_cmd
from landcheck.cli.options import set_log_level, verbosity_opts
from landcheck.cli.report import report_group
from landcheck.cli.rules import rules_cmd
from landcheck.cli.screen import screen_cmd
from landcheck.cli.site import site_cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="landcheck")
@click.option("-v", "--verbose", count=True, help="More log output (-vv: debug, with tracebacks).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """landcheck: screen satellite-patrol change patches against farmland,
    zoning and approval layers (卫片图斑合法性筛查).

    \b
    Examples:
      landcheck inspect data/samples/county.toml
      landcheck screen --layers data/samples/county.toml -o out/verdicts.gpkg --xlsx out/ledger.xlsx
      landcheck check projects --layers data/samples/county.toml -o out/projects.gpkg
      landcheck ledger import cases.gpkg out/verdicts.gpkg
    """
    logging.basicConfig(format="landcheck: %(levelname)s: %(message)s")
    set_log_level(verbose, quiet)
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    ctx.obj["quiet"] = quiet


for _command in (inspect_cmd, screen_cmd, check_cmd, rules_cmd, site_cmd):
    verbosity_opts(_command)


cli.add_command(inspect_cmd)
cli.add_command(screen_cmd)
cli.add_command(check_cmd)
cli.add_command(rules_cmd)
cli.add_command(site_cmd)
cli.add_command(report_group)
cli.add_command(ledger_cmd)
