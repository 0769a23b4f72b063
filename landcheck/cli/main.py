"""The ``landcheck`` command group. Subcommands live in their own modules."""

from __future__ import annotations

import click

from landcheck._version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="landcheck")
def cli() -> None:
    """landcheck: screen satellite-patrol change patches against farmland,
    zoning and approval layers (卫片图斑合法性筛查)."""
