"""``landcheck report``: outputs made from a screened GeoPackage (map, cards, summaries).

Each subcommand lives in its own module (``report_map``, ``report_cards``, ``report_summary``)
and is added here.
"""

from __future__ import annotations

import click

from landcheck.cli import report_cards, report_map, report_summary


@click.group("report")
def report_group():
    """Reports from a GeoPackage written by `landcheck screen`: an offline map, a
    verification card per patch, summaries with charts."""


for _module in (report_map, report_cards, report_summary):
    for _command in _module.COMMANDS:
        report_group.add_command(_command)
