"""``landcheck check``: check families on features other than patches."""

from __future__ import annotations

import click

from landcheck.cli.helpers import EXIT_ILLEGAL, cli_errors
from landcheck.cli.options import (
    as_of_opt,
    layers_opt,
    output_opt,
    overwrite_opt,
    parse_sets,
    progress,
    refuse_existing,
    rules_opt,
    set_opt,
    xlsx_opt,
)
from landcheck.cli.screen import refuse_run_inputs, refuse_same_outputs, summary_line


@click.command("check")
@click.argument("subject")
@layers_opt
@rules_opt
@set_opt
@as_of_opt
@output_opt
@xlsx_opt
@overwrite_opt
@click.option("--fail-on-illegal", is_flag=True, help="Exit 3 when illegal features are found.")
@click.pass_context
def check_cmd(ctx, subject, layers, rules, sets, as_of, output, xlsx, overwrite, fail_on_illegal):
    """Judge features of one role: projects, temporary_land, temporary_footprints,
    development_plans.

    \b
    Examples:
      landcheck check projects --layers data/samples/county.toml -o out/projects.gpkg
      landcheck check temporary_footprints --layers county.toml --as-of 2023-09-30 -o tf.gpkg
    """
    from landcheck.checks import SUBJECTS, load_builtin_checks
    from landcheck.checks.run import check

    load_builtin_checks()
    if subject not in SUBJECTS:
        raise click.BadParameter(f"unknown subject {subject!r}; use one of: "
                                 f"{', '.join(sorted(SUBJECTS))}", param_hint="SUBJECT")
    refuse_same_outputs(output, xlsx)
    refuse_existing([output, xlsx], overwrite)
    say = progress(ctx)
    with cli_errors(ctx):
        from landcheck.layers import LayerSet

        refuse_run_inputs(output, xlsx, None, LayerSet.from_config(layers))
        result = check(subject, layers, rules, overrides=parse_sets(sets), reference_date=as_of,
                       progress=say)
        result.write(output, xlsx, overwrite=overwrite)  # published together
    click.echo(summary_line(result))
    if fail_on_illegal and (result.verdicts["verdict"] == "illegal").any():
        ctx.exit(EXIT_ILLEGAL)
