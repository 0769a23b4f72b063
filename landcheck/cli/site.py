"""``landcheck site``: what a planned project overlaps (选址查询)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from landcheck.cli.helpers import cli_errors


@click.command("site")
@click.argument("project", type=click.Path(exists=True, path_type=Path))
@click.option("--layers", "layers", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Layer config (TOML) naming the reference layers.")
@click.option("--layer", help="Layer inside PROJECT (GeoPackage, FileGDB, KML).")
@click.option("--crs", help="CRS of a PROJECT file without one, e.g. EPSG:4527.")
@click.option("--id-field", help="Field of PROJECT naming its features (default: id, else 1, 2 …).")
@click.option("--xlsx", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the tables to an Excel workbook.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --xlsx file.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Summary language (zh: Chinese with English beside).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of the summary.")
@click.pass_context
def site_cmd(ctx, project: Path, layers: Path, layer, crs, id_field, xlsx, overwrite, lang,
             as_json):
    """Site query: everything the planned project in PROJECT overlaps among the
    configured layers — permanent farmland, land use by class, ecological red line,
    town boundary, village zone, forest, geological-hazard zones, buried minerals —
    with areas in m² and 亩, shares and feature ids.

    PROJECT is a polygon layer (several polygons are one site, and each is also
    measured on its own).

    \b
    Examples:
      landcheck site project.gpkg --layers data/samples/county.toml
      landcheck site project.shp --layers county.toml --xlsx site.xlsx --lang en
    """
    from landcheck.io import read_layer
    from landcheck.site import site_query

    if xlsx is not None and xlsx.exists() and not overwrite:
        raise click.UsageError(f"{xlsx} exists; pass --overwrite to replace it")
    with cli_errors(ctx):
        gdf = read_layer(project, layer=layer, crs=crs, id_field=id_field)
        if id_field is not None:
            if id_field not in gdf.columns:
                raise click.BadParameter(f"no field {id_field!r} in {project.name}; fields: "
                                         f"{', '.join(map(str, gdf.columns[:-1]))}",
                                         param_hint="--id-field")
            gdf = gdf.assign(id=gdf[id_field].astype("string"))
        report = site_query(gdf, layers)
        if xlsx is not None:
            report.to_xlsx(xlsx, overwrite=overwrite)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(report.summary_text(lang), nl=False)
    if xlsx is not None:
        click.echo(f"landcheck: wrote {xlsx}", err=True)
