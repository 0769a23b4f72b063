"""``landcheck ledger``: the case ledger across rounds (init, import, status, show, update,
history)."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from landcheck.cli.helpers import cli_errors
from landcheck.cli.options import verbosity_opts

_LEDGER = click.argument("ledger", type=click.Path(dir_okay=False, path_type=Path))


def _who(ctx, param, value):
    if value:
        return value
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container): say who explicitly
        raise click.BadParameter("cannot tell who you are; pass --who NAME") from None


_who_opt = click.option("--who", callback=_who, help="Who makes the change (default: login).")


def _open(path: Path):
    from landcheck.cases import Ledger

    return Ledger(path)


def _echo_table(df) -> None:
    if df.empty:
        click.echo("(none)")
        return
    click.echo(df.to_string(index=False))


@click.group("ledger")
def ledger_cmd():
    """Cases across rounds (案件台账): a GeoPackage ledger QGIS opens as a layer.

    \b
    Examples:
      landcheck ledger init cases.gpkg
      landcheck ledger import cases.gpkg round_2023q3.gpkg
      landcheck ledger status cases.gpkg --overdue --as-of 2023-12-31
      landcheck ledger update cases.gpkg C000012 --set stage=已提交 --why "举证完成"
      landcheck ledger history cases.gpkg C000012
    """


@ledger_cmd.command("init")
@_LEDGER
@click.option("--crs", help="CRS of the cases layer (default: the first round's).")
@click.pass_context
def init_cmd(ctx, ledger, crs):
    """Create an empty ledger LEDGER (*.gpkg; refused if it exists)."""
    from landcheck.cases import Ledger

    if ledger.suffix.lower() != ".gpkg":
        raise click.BadParameter(f"{ledger} is not a GeoPackage; name it *.gpkg",
                                 param_hint="LEDGER")
    if ledger.exists():
        raise click.UsageError(f"{ledger} exists; a ledger is created once")
    with cli_errors(ctx):
        Ledger.init(ledger, crs=crs).disconnect()
    click.echo(f"created {ledger}")


@ledger_cmd.command("import")
@_LEDGER
@click.argument("rounds", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--round", "round_name", help="Round name (default: the run's patch layer name); "
              "only with one ROUND file.")
@click.option("--attach-overlap", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Overlap ratio (of the smaller area) for a new clue id to join an open case.")
@click.option("--attach-distance", "attach_distance_m", type=click.FloatRange(0), default=50.0,
              show_default=True, help="Largest centroid distance (m) for that.")
@_who_opt
@click.pass_context
def import_cmd(ctx, ledger, rounds, round_name, attach_overlap, attach_distance_m, who):
    """Import screened rounds (GeoPackages `landcheck screen -o` wrote) into LEDGER, each in
    one transaction; a round already there is reported and skipped."""
    if round_name and len(rounds) > 1:
        raise click.UsageError("--round names one round; give one ROUND file with it")
    with cli_errors(ctx):
        led = _open(ledger)
        for path in rounds:
            report = led.import_round(path, round=round_name, who=who,
                                      attach_overlap=attach_overlap,
                                      attach_distance_m=attach_distance_m)
            click.echo(str(report))


@ledger_cmd.command("status")
@_LEDGER
@click.option("--overdue", is_flag=True, help="Only open cases past their due date.")
@click.option("--due-within", metavar="DAYS", help="Only open cases due within DAYS (7 or 7d).")
@click.option("--township", help="Only one township (code or name).")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Date for deadlines (default: "
              "today).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the cases (Chinese headers) to a CSV file (UTF-8 with BOM).")
@click.pass_context
def status_cmd(ctx, ledger, overdue, due_within, township, as_of, csv_path):
    """Counts by status and stage, then the cases (filtered)."""
    with cli_errors(ctx):
        led = _open(ledger)
        filters = {"overdue": overdue, "due_within": due_within, "township": township,
                   "as_of": as_of}
        counts = led.counts(**filters)
        cases = led.status(**filters, headers=True)
    _echo_table(counts.rename(columns={"status_zh": "状态", "stage_zh": "环节",
                                       "cases": "案件数", "unrectified_m2": "未整改/平方米"}))
    click.echo("")
    _echo_table(cases)
    if csv_path is not None:
        cases.to_csv(csv_path, index=False, encoding="utf-8-sig")


@ledger_cmd.command("show")
@_LEDGER
@click.argument("case_id")
@click.pass_context
def show_cmd(ctx, ledger, case_id):
    """One case: its fields, patches by round, child plots, evidence, rectifications and
    history."""
    with cli_errors(ctx):
        info = _open(ledger).show(case_id)
    for key, value in info["case"].items():
        click.echo(f"{key:>16}: {'' if value is None else value}")
    for key, title in (("patches", "图斑 patches"), ("children", "拆分 child plots"),
                       ("evidence", "举证 evidence"), ("rectifications", "整改 rectifications"),
                       ("history", "历史 history")):
        click.echo(f"\n{title}:")
        _echo_table(info[key])


@ledger_cmd.command("update")
@_LEDGER
@click.argument("case_id")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE", required=True,
              help="A field to set (status, stage, note, due_date, township, township_name); "
                   "repeatable. status=closed (销号) is checked like `close`.")
@click.option("--why", help="Why (kept in the history).")
@_who_opt
@click.pass_context
def update_cmd(ctx, ledger, case_id, sets, why, who):
    """Change fields of case CASE_ID; each change is a history row."""
    fields = {}
    for item in sets:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise click.BadParameter(f"{item!r} is not FIELD=VALUE", param_hint="--set")
        fields[key.strip()] = value.strip()
    with cli_errors(ctx):
        changed = _open(ledger).update(case_id, who=who, why=why, **fields)
    click.echo(f"case {case_id}: " + (", ".join(f"{k} → {v}" for k, v in changed.items())
                                      or "nothing changed"))


@ledger_cmd.command("history")
@_LEDGER
@click.argument("case_id", required=False)
@click.pass_context
def history_cmd(ctx, ledger, case_id):
    """The append-only history (of one case, or all)."""
    with cli_errors(ctx):
        df = _open(ledger).history(case_id)
    _echo_table(df)


for _command in (init_cmd, import_cmd, status_cmd, show_cmd, update_cmd, history_cmd):
    verbosity_opts(_command)
