"""``landcheck rules``: show a rule pack — rules, verdicts, reasons, parameters, citations."""

from __future__ import annotations

import click

from landcheck.cli.helpers import cli_errors
from landcheck.cli.options import parse_sets, set_opt


@click.command("rules")
@click.argument("pack", default="city2023")
@set_opt
@click.option("--markdown", is_flag=True, help="Print a Markdown table with conditions.")
@click.option("--layers", "layers", type=click.Path(dir_okay=False),
              help="Layer config (TOML) whose roles, custom zones included, the pack is checked "
                   "against.")
@click.pass_context
def rules_cmd(ctx, pack, sets, markdown, layers):
    """Check a rule pack and list its rules (PACK: built-in name or TOML file).

    \b
    Examples:
      landcheck rules city2023
      landcheck rules my_pack.toml --set legality.sliver_m2=5 --markdown
      landcheck rules flood_pack.toml --layers county.toml
    """
    from landcheck.screen import load_rules

    with cli_errors(ctx):
        roles = None
        if layers is not None:
            from landcheck.layers import LayerSet

            roles = LayerSet.from_config(layers).role_set
        rp = load_rules(pack, overrides=parse_sets(sets), roles=roles)
    if markdown:
        click.echo(rp.describe(markdown=True))
        return
    click.echo(f"{rp.name} {rp.version} (valid from {rp.valid_from}) — {rp.title.get('zh', '')}")
    for r in rp.rules:
        subject = "" if r.subject == "patches" else f" [{r.subject}]"
        click.echo(f"  {r.id:<40} {r.verdict:<13}{subject} {r.reason_zh}")
