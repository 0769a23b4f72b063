"""``landcheck report``: outputs made from a screened GeoPackage (map, cards, summaries).

Each subcommand lives in its own module and is added here.
"""

from __future__ import annotations

import click


@click.group("report")
def report_group():
    """Reports from a GeoPackage written by `landcheck screen`: an offline map, a
    verification card per patch, summaries with charts."""


def _add_commands() -> None:
    import importlib

    for name in ("report_map", "report_cards", "report_summary"):
        try:
            module = importlib.import_module(f"landcheck.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"landcheck.cli.{name}":
                raise
            continue
        for command in module.COMMANDS:
            report_group.add_command(command)


_add_commands()
