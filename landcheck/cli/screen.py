"""``landcheck screen``: the main job — screen a round of patches, write verdicts and a ledger."""

from __future__ import annotations

from pathlib import Path

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


@click.command("screen")
@click.argument("patches", required=False, type=click.Path(exists=True, path_type=Path))
@layers_opt
@rules_opt
@set_opt
@click.option("--family", "families", multiple=True,
              help="Only rules of this family (repeatable), e.g. --family legality.")
@as_of_opt
@click.option("--crs", "working_crs", help="Working CRS (default: the config's `crs`).")
@click.option("--patch-layer", help="Layer inside a multi-layer PATCHES file.")
@click.option("--area-method", type=click.Choice(["survey3", "survey2"]),
              help="Official area method (default: the config's `area_method`, else the rule "
                   "pack's, survey3).")
@click.option("--threads", type=click.IntRange(min=1),
              help="Threads for the overlay (default: the available cores, at most 8).")
@click.option("--chunk-size", type=click.IntRange(min=1),
              help="Patches per spatial chunk (default 20000); memory grows with it.")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local",
              show_default=True, help="Where the overlay runs.")
@click.option("--scheduler", help="dask: local:N, or a scheduler address tcp://HOST:8786.")
@click.option("--shared-dir", type=click.Path(file_okay=False, path_type=Path),
              help="dask: folder all workers can read, for the reference layers.")
@click.option("--partition", type=click.Choice(["tiles", "township"]), default="tiles",
              show_default=True, help="dask: one task per spatial tile or per township.")
@click.option("--stream", is_flag=True,
              help="Province scale: read the patches and write the GeoPackage chunk by chunk "
                   "(flat memory; chunks of --chunk-size, default 50000); --xlsx then holds "
                   "the summary sheet only.")
@output_opt
@xlsx_opt
@overwrite_opt
@click.option("--fail-on-illegal", is_flag=True,
              help="Exit with status 3 when illegal patches are found (for scripts).")
@click.option("--missing-layers", type=click.Choice(["warn", "review"]), default="warn",
              show_default=True,
              help="A layer the rules read that the config lacks: warn (said up front, "
                   "'未核查' in reasons) or review (also: patches a rule on it could make "
                   "worse are needs_review, engine.not_checked).")
@click.pass_context
def screen_cmd(ctx, patches, layers, rules, sets, families, as_of, working_crs, patch_layer,
               area_method, threads, chunk_size, engine, scheduler, shared_dir, partition,
               stream, output, xlsx, overwrite, fail_on_illegal, missing_layers):
    """Screen change patches: one verdict per patch with reasons and split areas.

    PATCHES is the patch file of the round; without it, the [patches] file of the
    layer config is used.

    \b
    Examples:
      landcheck screen --layers data/samples/county.toml -o out/verdicts.gpkg
      landcheck screen round3.gpkg --layers county.toml --set legality.sliver_m2=5 \\
          -o r3.gpkg --xlsx r3.xlsx --as-of 2023-09-30
      landcheck screen province.gpkg --layers province.toml --stream -o province_out.gpkg
    """
    if stream:
        _stream(ctx, patches, layers, rules, sets, families, as_of, working_crs, patch_layer,
                area_method, threads, chunk_size, engine, output, xlsx, overwrite, fail_on_illegal,
                missing_layers)
        return
    from landcheck.layers import LayerSet
    from landcheck.screen import screen

    if engine != "dask" and (scheduler or shared_dir or partition != "tiles"):
        raise click.UsageError("--scheduler, --shared-dir and --partition need --engine dask")
    refuse_same_outputs(output, xlsx)
    refuse_existing([output, xlsx], overwrite)
    say = progress(ctx)
    with cli_errors(ctx):
        layerset = LayerSet.from_config(layers)
        if patch_layer and patches is None:
            raise click.UsageError("--patch-layer needs PATCHES")
        source = layerset.patch_spec(patches, layer=patch_layer) if patches else None
        refuse_run_inputs(output, xlsx, source, layerset)
        result = screen(source, layerset, rules,
                        overrides=parse_sets(sets), families=list(families) or None,
                        working_crs=working_crs, area_method=area_method,
                        reference_date=as_of, threads=threads,
                        chunk_size=chunk_size, engine=engine, scheduler=scheduler,
                        shared_dir=shared_dir, partition=partition, progress=say,
                        missing_layers=missing_layers)
        result.write(output, xlsx, overwrite=overwrite)  # published together
        say(f"wrote {output}")
        if xlsx:
            say(f"wrote {xlsx}")
    click.echo(summary_line(result))
    if fail_on_illegal and (result.verdicts["verdict"] == "illegal").any():
        ctx.exit(EXIT_ILLEGAL)


def _stream(ctx, patches, layers, rules, sets, families, as_of, working_crs, patch_layer,
            area_method, threads, chunk_size, engine, output, xlsx, overwrite, fail_on_illegal,
            missing_layers):
    from landcheck.layers import LayerSet
    from landcheck.stream import screen_to_gpkg

    if engine != "local":
        raise click.UsageError("--stream runs on the local engine; drop --engine dask")
    if patch_layer and patches is None:
        raise click.UsageError("--patch-layer needs PATCHES")
    refuse_same_outputs(output, xlsx)
    refuse_existing([output, xlsx], overwrite)
    say = progress(ctx)
    with cli_errors(ctx):
        layerset = LayerSet.from_config(layers)
        spec = layerset.patch_spec(patches, layer=patch_layer) if patches else None
        refuse_run_inputs(output, xlsx, spec, layerset)
        summary = screen_to_gpkg(spec, layerset, output, rules, overrides=parse_sets(sets),
                                 families=list(families) or None, working_crs=working_crs,
                                 area_method=area_method, reference_date=as_of,
                                 threads=threads, chunk_size=chunk_size,
                                 xlsx=xlsx, overwrite=overwrite, progress=say,
                                 missing_layers=missing_layers)
    parts = ", ".join(f"{k} {summary.counts.get(k, 0)}"
                      for k in ("illegal", "needs_review", "legal", "other"))
    click.echo(f"{summary.patches} features: {parts} ({summary.chunks} chunks, "
               f"{summary.seconds:.1f} s)")
    if fail_on_illegal and summary.counts.get("illegal", 0):
        ctx.exit(EXIT_ILLEGAL)


def refuse_same_outputs(output, xlsx) -> None:
    """-o and --xlsx naming one file is a usage error (exit 2), found before any work."""
    from landcheck.errors import InputError
    from landcheck.io.write import refuse_inputs_as_outputs

    try:
        refuse_inputs_as_outputs({"-o/--output": output, "--xlsx": xlsx}, {})
    except InputError as exc:
        raise click.UsageError(str(exc)) from None


def refuse_run_inputs(output, xlsx, spec, layerset) -> None:
    """An output that is the patch file or a reference layer's file (or inside an input
    FileGDB) is refused before any layer is read (InputError, exit 1)."""
    from landcheck.io.write import refuse_inputs_as_outputs, run_inputs

    if spec is None:
        try:
            spec = layerset.patch_spec(None)
        except Exception:  # no [patches] path: screen() reports it with its own message
            spec = None
    refuse_inputs_as_outputs({"-o/--output": output, "--xlsx": xlsx},
                             run_inputs(spec, layerset))


def summary_line(result) -> str:
    """One line for logs: counts by verdict, and how many could not be judged."""
    v = result.verdicts
    counts = v["verdict"].value_counts()
    parts = ", ".join(f"{k} {int(counts.get(k, 0))}" for k in
                      ("illegal", "needs_review", "legal", "other"))
    unjudged = int(v["geom_problem"].notna().sum()) if "geom_problem" in v else 0
    line = f"{len(v)} features: {parts}"
    if unjudged:
        line += f"; {unjudged} could not be judged (geometry) and are needs_review"
    return line
