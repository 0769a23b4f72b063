"""The case ledger (案件台账) across rounds: :class:`Ledger` over one GeoPackage file.

A case is one place on the ground followed through rounds. Importing a screened round
(the GeoPackage ``landcheck screen`` writes) attaches each patch to a case by its clue id
(JCBH), or — for a clue id the ledger has not seen — by overlap with an open case
(:func:`landcheck.cases.identity.overlap_matches`), else opens a new case. Every change of a
case is a row of the append-only ``history``; nothing is ever deleted.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from landcheck.cases import identity
from landcheck.cases.sql import QUERIES as Q
from landcheck.cases.sql import SQLiteStore, gpkg_blob, now, read_gpkg_blob, update_case_sql
from landcheck.cases.workflow import DEFAULT_WORKFLOW, Workflow
from landcheck.errors import LedgerError, OutputExistsError

__all__ = ["CASE_COLUMNS", "UPDATABLE", "ImportReport", "Ledger"]

#: Columns of :meth:`Ledger.status`: (code, header "中文 (English)").
CASE_COLUMNS = (
    ("case_id", "案件编号 (case id)"), ("clue_id", "线索编号 (clue id)"),
    ("first_round", "首次批次 (first round)"), ("last_round", "最近批次 (last round)"),
    ("status", "状态代码 (status code)"), ("status_zh", "案件状态 (status)"),
    ("stage", "环节代码 (stage code)"), ("stage_zh", "审核环节 (review stage)"),
    ("township", "乡镇代码 (township)"), ("township_name", "乡镇名称 (township name)"),
    ("verdict", "判定结果 (verdict)"), ("official_class", "核实认定意见 (official class)"),
    ("area_m2", "图斑面积/平方米 (area, m²)"), ("illegal_m2", "违法面积/平方米 (illegal, m²)"),
    ("rectified_m2", "已整改面积/平方米 (rectified, m²)"),
    ("unrectified_m2", "未整改面积/平方米 (unrectified, m²)"),
    ("due_date", "整改期限 (due date)"), ("days_left", "剩余天数 (days left)"),
    ("overdue", "是否逾期 (overdue)"),
)
#: Fields :meth:`Ledger.update` may set (areas come from rounds and rectifications).
UPDATABLE = ("status", "stage", "note", "due_date", "township", "township_name")
_TRACKED = ("verdict", "official_class", "area_m2", "illegal_m2", "unrectified_m2",
            "due_date", "township", "status")
_EPS_M2 = 1e-6


@dataclass(frozen=True)
class ImportReport:
    """What one :meth:`Ledger.import_round` did (``noop``: the round was already there)."""

    round: str
    noop: bool
    patches: int = 0
    new_cases: int = 0
    by_clue: int = 0
    by_overlap: int = 0
    reopened: int = 0
    child_plots: int = 0
    seconds: float = 0.0
    reason: str = ""

    def __str__(self) -> str:
        if self.noop:
            return f"round {self.round}: already imported ({self.reason}); nothing changed"
        return (f"round {self.round}: {self.patches} patches → {self.new_cases} new cases, "
                f"{self.by_clue} by clue id, {self.by_overlap} attached by overlap, "
                f"{self.reopened} reopened; {self.child_plots} child plots "
                f"({self.seconds:.2f} s)")


def _num(v) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return float(v)


def _text(v) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp | _dt.datetime):
        return v.date().isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v)


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and b is None
        return abs(float(a) - float(b)) <= _EPS_M2
    return a == b


class Ledger:
    """A case ledger file (GeoPackage/SQLite).

    Parameters
    ----------
    path : path of the ledger; it must exist (create it with :meth:`init`).
    busy_timeout_s : how long a writer waits for another one's transaction to end.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> led = Ledger.init(pathlib.Path(tempfile.mkdtemp()) / "cases.gpkg", crs="EPSG:4527")
    >>> led.status().empty, led.counts().empty
    (True, True)
    """

    def __init__(self, path, /, *, busy_timeout_s: float = 30.0):
        self.store = SQLiteStore(path, busy_timeout_s=busy_timeout_s)
        self.path = self.store.path
        text = self.store.setting("workflow")
        self.workflow = Workflow.from_json(text) if text else DEFAULT_WORKFLOW

    @classmethod
    def init(cls, path, /, *, crs=None, workflow: Workflow | None = None,
             busy_timeout_s: float = 30.0) -> Ledger:
        """Create an empty ledger at ``path`` (refused if it exists). ``crs``: the cases
        layer's CRS; without it the first imported round's CRS is used."""
        path = Path(path)
        if path.exists():
            raise OutputExistsError(f"{path} exists; open it with Ledger({str(path)!r})")
        store = SQLiteStore(path, create=True, busy_timeout_s=busy_timeout_s)
        with store.write():
            store.set_setting("workflow", (workflow or DEFAULT_WORKFLOW).to_json())
            if crs is not None:
                store.set_crs(crs)
        store.close()
        return cls(path, busy_timeout_s=busy_timeout_s)

    def disconnect(self) -> None:
        """Close the database connection (:meth:`close` closes a case)."""
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.disconnect()

    # -- import -------------------------------------------------------------------------
    def import_round(self, source, /, *, round: str | None = None, who: str = "landcheck",
                     attach_overlap: float = identity.ATTACH_OVERLAP,
                     attach_distance_m: float = identity.ATTACH_DISTANCE_M,
                     progress=None) -> ImportReport:
        """Import one screened round (a GeoPackage with ``verdicts``, ``fragments`` and
        ``metadata``) in one transaction.

        A clue id the ledger knows → its case (a closed case reopens); an unknown clue id
        that overlaps an open case (``attach_overlap``, ``attach_distance_m``, see
        :func:`~landcheck.cases.identity.overlap_matches`) → that case, as new evidence;
        otherwise a new case. ``round`` defaults to the run's round name (the patch layer's
        name). The same file, run id or content again is a no-op; another content under a
        round name already imported is refused. ``progress(message)`` is called between
        steps inside the transaction.
        """
        import time

        t0 = time.perf_counter()
        say = progress or (lambda msg: None)
        data = _read_round(source)
        name = round or data["round"]
        with self.store.write():
            seen = self._already(name, data)
            if seen:
                return ImportReport(name, True, reason=seen)
            frame = self._to_ledger_crs(data["verdicts"])
            say(f"read {len(frame)} patches of round {name}")
            texts, hashes = identity.patch_records(data["verdicts"], frame.geometry)
            assign = self._assign(frame, name, attach_overlap, attach_distance_m)
            say("matched patches to cases")
            counts = self._apply_round(frame, name, assign, who)
            self._insert_patches(frame, name, assign, texts, hashes)
            say("updated cases")
            children = self._insert_children(data["fragments"], name, assign)
            report = ImportReport(name, False, len(frame), counts["new"], counts["clue"],
                                  counts["overlap"], counts["reopen"], children,
                                  time.perf_counter() - t0)
            self.store.run(Q["insert_round"], (
                name, str(data["source"]), data["sha256"], data["run_id"],
                _digest(hashes), now(), who, report.patches, report.new_cases,
                report.by_clue, report.by_overlap, report.reopened, report.child_plots))
            self.store.touch_extent()
            say("recorded round")
        return report

    def _already(self, name: str, data) -> str:
        for r in self.store.rows(Q["rounds"]):
            if r["sha256"] == data["sha256"]:
                return f"same file as round {r['name']}, sha256 {r['sha256'][:12]}…"
            if data["run_id"] and r["run_id"] == data["run_id"]:
                return f"same run id {r['run_id']} as round {r['name']}"
            if r["name"] == name:
                _, hashes = identity.patch_records(data["verdicts"], data["verdicts"].geometry)
                if r["content_digest"] == _digest(hashes):
                    return f"same content as round {name}"
                raise LedgerError(
                    f"{data['source']}: round {name!r} is already imported from "
                    f"{r['source']} with other content; pass round= (CLI: --round) with "
                    "another name")
        return ""

    def _to_ledger_crs(self, frame):
        if frame.crs is None:
            raise LedgerError("verdicts layer has no CRS; screen the round again")
        wkt = self.store.crs_wkt()
        if wkt is None:
            self.store.set_crs(frame.crs)
            return frame
        from pyproj import CRS

        target = CRS.from_wkt(wkt)
        return frame if CRS.from_user_input(frame.crs) == target else frame.to_crs(target)

    def _assign(self, frame, name, attach_overlap, attach_distance_m) -> pd.DataFrame:
        """Per patch: case id, match kind (clue/overlap/new/reopen), ratio and distance."""
        known = {r["clue_id"]: r["case_id"] for r in self.store.rows(Q["known_clues"])}
        closed = {r["case_id"] for r in self.store.rows(Q["closed_cases"],
                                                        (self.workflow.closed_status,))}
        ids = frame["id"].astype(str).to_numpy()
        case = np.array([known.get(i) for i in ids], dtype=object)
        kind = np.where(pd.isna(case), "new", "clue").astype(object)
        kind[[c in closed for c in case]] = "reopen"
        ratio = np.full(len(ids), np.nan)
        dist = np.full(len(ids), np.nan)
        fresh = np.flatnonzero(kind == "new")
        open_rows = self.store.rows(Q["open_geoms"], (self.workflow.closed_status,))
        if len(fresh) and open_rows:
            geoms = [read_gpkg_blob(r["geom"]) for r in open_rows]
            best, r, d = identity.overlap_matches(
                frame.geometry.to_numpy()[fresh], geoms, attach_overlap=attach_overlap,
                attach_distance_m=attach_distance_m)
            hit = best >= 0
            case[fresh[hit]] = [open_rows[b]["case_id"] for b in best[hit]]
            kind[fresh[hit]] = "overlap"
            ratio[fresh[hit]], dist[fresh[hit]] = r[hit], d[hit]
        fresh = np.flatnonzero(kind == "new")
        start = self.store.rows(Q["max_fid"])[0]["n"] + 1
        case[fresh] = [f"C{start + i:06d}" for i in range(len(fresh))]
        return pd.DataFrame({"id": ids, "case_id": case, "match": kind, "ratio": ratio,
                             "distance": dist})

    def _insert_patches(self, frame, name, assign, texts, hashes) -> None:
        srs = self.store.srs_id()
        geoms = [gpkg_blob(g, srs) for g in frame.geometry]
        reasons = frame.get("reasons_zh", pd.Series([None] * len(frame), index=frame.index))
        rows = [
            (a.case_id, name, a.id, h, a.match, _num(a.ratio), _num(a.distance), _text(v),
             _text(rz), _num(ar), _num(il), t, g)
            for a, h, v, rz, ar, il, t, g in zip(
                assign.itertuples(), hashes, frame["verdict"], reasons, frame["area_m2"],
                frame["illegal_m2"], texts, geoms, strict=True)
        ]
        self.store.run_many(Q["insert_patch"], rows)

    def _apply_round(self, frame, name, assign, who) -> dict:
        """Create or update each case touched by the round, with history rows."""
        counts = {k: int((assign["match"] == k).sum()) for k in ("clue", "overlap", "reopen")}
        counts["new"] = 0
        srs = self.store.srs_id()
        # the case's facts come from its own clue id in this round, else its largest patch
        order = assign.assign(own=(assign["match"] != "overlap").astype(int),
                              area=frame["area_m2"].to_numpy(), pos=np.arange(len(assign)))
        order = order.sort_values(["case_id", "own", "area"], ascending=[True, False, False])
        primary = order.drop_duplicates("case_id")
        existing = {r["case_id"]: r for r in self.store.rows(Q["all_cases"])}
        stamp = now()
        history = []
        for p in primary.itertuples():
            row = frame.iloc[p.pos]
            facts = _case_facts(row, name, blob=gpkg_blob(_multi(row.geometry), srs))
            old = existing.get(p.case_id)
            if old is None:
                counts["new"] += 1
                self._insert_case(p.case_id, str(row["id"]), name, facts, stamp)
                history.append((p.case_id, stamp, who, "case", None, "created",
                                f"clue {row['id']} in round {name}", name))
                continue
            facts["unrectified_m2"] = max((facts["illegal_m2"] or 0.0) - old["rectified_m2"],
                                          0.0)
            if old["status"] == self.workflow.closed_status:
                facts["status"] = self.workflow.open_status
            for f in _TRACKED:
                if f in facts and not _same(old[f], facts[f]):
                    history.append((p.case_id, stamp, who, f, _text(old[f]), _text(facts[f]),
                                    f"round {name}", name))
            self.store.run(Q["update_case_round"], (
                name, facts.get("status", old["status"]), facts["township"],
                facts["township_name"], facts["verdict"], facts["official_class"],
                facts["area_m2"], facts["illegal_m2"], facts["unrectified_m2"],
                facts["due_date"], facts["geom"], stamp, p.case_id))
        for a in assign[assign["match"] == "overlap"].itertuples():
            history.append((a.case_id, stamp, who, "clue_attached", None, a.id,
                            f"overlap {a.ratio:.2f}, centroids {a.distance:.1f} m apart",
                            name))
        self.store.run_many(Q["insert_history"], history)
        return counts

    def _insert_case(self, case_id, clue, name, facts, stamp) -> None:
        wf = self.workflow
        self.store.run(Q["insert_case"], (
            int(case_id[1:]), facts["geom"], case_id, clue, name, name, wf.open_status,
            wf.first_stage, facts["township"], facts["township_name"], facts["verdict"],
            facts["official_class"], facts["area_m2"], facts["illegal_m2"] or 0.0,
            facts["illegal_m2"] or 0.0, facts["due_date"], stamp))

    def _insert_children(self, fragments, name, assign) -> int:
        if fragments is None or not len(fragments):
            return 0
        case_of = dict(zip(assign["id"], assign["case_id"], strict=True))
        parents = fragments["parent_id"].astype(str)
        keep = fragments[parents.isin(case_of).to_numpy()]
        texts, _ = identity.patch_records(keep, keep.geometry)
        part_no = keep.groupby(keep["parent_id"].astype(str)).cumcount() + 1
        rows = [
            (case_of[str(r["parent_id"])], name, str(r["parent_id"]), int(n),
             _text(r.get("child_id")),
             _text(r.get("part")), _text(r.get("verdict")), _text(r.get("official_class")),
             _text(r.get("official_subclass")), _num(r.get("area_m2")), t)
            for r, t, n in zip(keep.drop(columns=keep.geometry.name).to_dict("records"), texts,
                               part_no, strict=True)
        ]
        self.store.run_many(Q["insert_child"], rows)
        return len(rows)

    # -- workflow -----------------------------------------------------------------------
    def update(self, case_id: str, /, *, who: str, why: str | None = None, **fields) -> dict:
        """Set fields of a case (:data:`UPDATABLE`; status and stage as code or Chinese
        name), one history row per changed field (old → new, who, why). Setting the
        closed status goes through :meth:`close`'s checks. Returns the changed fields."""
        unknown = sorted(set(fields) - set(UPDATABLE))
        if unknown:
            raise LedgerError(f"case {case_id}: cannot set {', '.join(unknown)}; settable "
                              f"fields: {', '.join(UPDATABLE)}")
        wf = self.workflow
        where = f"case {case_id}: "
        if "status" in fields:
            fields["status"] = wf.code("statuses", fields["status"], where=where)
        if "stage" in fields:
            fields["stage"] = wf.code("stages", fields["stage"], where=where)
        if fields.get("due_date") is not None:
            fields["due_date"] = _iso_date(fields["due_date"], where)
        with self.store.write():
            old = self._case(case_id)
            changed = {f: v for f, v in fields.items() if not _same(old[f], v)}
            if changed.get("status") == wf.closed_status:
                self._check_close(old, changed.get("stage", old["stage"]))
                stamp = now()
                changed.update(closed_at=stamp, closed_by=who, closed_why=why)
            self._write_fields(case_id, old, changed, who, why)
        return changed

    def close(self, case_id: str, /, *, who: str, why: str) -> dict:
        """Close (销号) a case: refused unless its unrectified area is 0 and its stage is
        the workflow's final stage (审核结束)."""
        return self.update(case_id, who=who, why=why, status=self.workflow.closed_status)

    def _check_close(self, case, stage) -> None:
        wf = self.workflow
        left = case["unrectified_m2"] or 0.0
        if left > _EPS_M2 or stage != wf.final_stage:
            raise LedgerError(
                f"case {case['case_id']}: cannot close (销号): {left:.2f} m² unrectified and "
                f"stage {wf.zh('stages', stage)} ({stage}); closing needs 0 m² unrectified "
                f"and stage {wf.zh('stages', wf.final_stage)} ({wf.final_stage})")

    def _write_fields(self, case_id, old, changed, who, why, round_name=None) -> None:
        if not changed:
            return
        stamp = now()
        self.store.run(update_case_sql(tuple(changed)), (*changed.values(), stamp, case_id))
        self.store.run_many(Q["insert_history"], [
            (case_id, stamp, who, f, _text(old[f]), _text(v), why, round_name)
            for f, v in changed.items()])

    def _case(self, case_id: str) -> dict:
        rows = self.store.rows(Q["case"], (case_id,))
        if not rows:
            raise LedgerError(f"case {case_id!r}: no such case in {self.path}")
        return rows[0]

    def add_rectification(self, case_id: str, /, *, method: str, area_m2: float,
                          date=None, document: str | None = None, who: str) -> float:
        """Record a rectification; returns the case's unrectified area, which is its
        illegal area minus everything rectified, never below 0 (adding area beyond the
        illegal area is an error)."""
        where = f"case {case_id}: "
        method = self.workflow.code("methods", method, where=where)
        area = float(area_m2)
        if not area >= 0 or (method == "not_rectified" and area > 0):
            raise LedgerError(f"{where}rectified area must be ≥ 0 (and 0 for 未整改), got "
                              f"{area_m2!r}")
        with self.store.write():
            old = self._case(case_id)
            total = old["rectified_m2"] + area
            # a later round may have shrunk the illegal area below what was rectified: the
            # record of a method without area (e.g. 未整改) is still taken
            if area > 0 and total > old["illegal_m2"] + _EPS_M2:
                raise LedgerError(
                    f"{where}rectifying {area:.2f} m² more would make {total:.2f} m² "
                    f"rectified of {old['illegal_m2']:.2f} m² illegal ({old['rectified_m2']:.2f}"
                    f" m² already); check the area")
            self.store.run(Q["insert_rectification"], (
                case_id, method, area, _iso_date(date, where) if date else None, document,
                now(), who))
            left = max(old["illegal_m2"] - total, 0.0)
            self._write_fields(case_id, old, {"rectified_m2": total, "unrectified_m2": left},
                               who, f"{self.workflow.zh('methods', method)} {area:.2f} m²")
        return left

    def add_evidence(self, case_id: str, /, *, kind: str, path, doc_no: str | None = None,
                     share: float | None = None, child_id: str | None = None,
                     who: str) -> str:
        """Record an evidence file (举证) of a case or one of its child plots; returns the
        file's SHA-256. ``share``: the share (%) of the plot the document covers."""
        from landcheck.provenance import file_sha256

        where = f"case {case_id}: "
        kind = self.workflow.code("evidence", kind, where=where)
        path = Path(path)
        if not path.is_file():
            raise LedgerError(f"{where}evidence file {path} does not exist")
        if share is not None and not 0 <= float(share) <= 100:
            raise LedgerError(f"{where}share must be a percentage 0–100, got {share!r}")
        digest = file_sha256(path)
        with self.store.write():
            self._case(case_id)
            self.store.run(Q["insert_evidence"], (
                case_id, child_id, kind, str(path), digest, doc_no,
                None if share is None else float(share), now(), who))
            self.store.run(Q["insert_history"], (
                case_id, now(), who, "evidence", None, f"{kind}: {path.name}",
                f"sha256 {digest[:12]}…", None))
        return digest

    # -- queries ------------------------------------------------------------------------
    def status(self, *, overdue: bool = False, due_within=None, township: str | None = None,
               as_of=None, headers: bool = False) -> pd.DataFrame:
        """Cases (one row each, :data:`CASE_COLUMNS`), optionally only open ones overdue at
        ``as_of`` (default today), due within ``due_within`` days (an int, a timedelta or
        text like ``"7d"``), or of one township. ``headers``: Chinese headers."""
        as_of = _iso_date(as_of, "") if as_of else _dt.date.today().isoformat()
        df = pd.DataFrame(self.store.rows(Q["status"]))
        if df.empty:
            df = pd.DataFrame(columns=[c for c, _ in CASE_COLUMNS])
        wf = self.workflow
        df["status_zh"] = [wf.zh("statuses", s) for s in df["status"]]
        df["stage_zh"] = [wf.zh("stages", s) for s in df["stage"]]
        due = pd.to_datetime(df["due_date"], errors="coerce")
        days = (due - pd.Timestamp(as_of)).dt.days
        df["days_left"] = days.astype("Int64")
        is_open = df["status"] != wf.closed_status
        df["overdue"] = (is_open & (days < 0)).astype(bool)
        keep = pd.Series(True, index=df.index)
        if overdue:
            keep &= df["overdue"]
        if due_within is not None:
            keep &= is_open & days.between(0, _days(due_within))
        if township is not None:
            keep &= (df["township"] == township) | (df["township_name"] == township)
        out = df.loc[keep, [c for c, _ in CASE_COLUMNS]].reset_index(drop=True)
        return out.rename(columns=dict(CASE_COLUMNS)) if headers else out

    def counts(self, **filters) -> pd.DataFrame:
        """Case counts and areas by status and stage (of :meth:`status` with ``filters``)."""
        df = self.status(**filters)
        if df.empty:
            return pd.DataFrame(columns=["status", "status_zh", "stage", "stage_zh", "cases",
                                         "unrectified_m2"])
        return (df.groupby(["status", "status_zh", "stage", "stage_zh"], sort=True)
                .agg(cases=("case_id", "size"), unrectified_m2=("unrectified_m2", "sum"))
                .reset_index())

    def cases(self):
        """The ``cases`` layer as a GeoDataFrame (read with pyogrio, as QGIS sees it)."""
        import pyogrio

        return pyogrio.read_dataframe(self.path, layer="cases")

    def show(self, case_id: str, /) -> dict:
        """One case: its row, patches by round, child plots, history, evidence and
        rectifications (each a DataFrame)."""
        case = self._case(case_id)
        case.pop("geom", None)
        out = {"case": case}
        for key in ("patches", "children", "history", "evidence", "rectifications"):
            out[key] = pd.DataFrame(self.store.rows(Q[f"case_{key}"], (case_id,)))
        return out

    def history(self, case_id: str | None = None) -> pd.DataFrame:
        """The history rows (all, or of one case) in the order they were written."""
        if case_id is None:
            return pd.DataFrame(self.store.rows(Q["history"]))
        self._case(case_id)
        return pd.DataFrame(self.store.rows(Q["case_history"], (case_id,)))

    def rounds(self) -> pd.DataFrame:
        return pd.DataFrame(self.store.rows(Q["rounds"]))

    def rectified_m2(self) -> float:
        """Total area of every rectification record."""
        return float(self.store.rows(Q["rectified_total"])[0]["total"])


def _read_round(source) -> dict:
    import pyogrio

    from landcheck.provenance import file_sha256
    from landcheck.report.ledger import round_name_of

    path = Path(source)
    if not path.is_file():
        raise LedgerError(f"{path}: no such round file (a GeoPackage `landcheck screen` wrote)")
    layers = {str(n) for n, _ in pyogrio.list_layers(path)}
    if "verdicts" not in layers:
        raise LedgerError(f"{path}: no `verdicts` layer (layers: {', '.join(sorted(layers))}); "
                          "import the GeoPackage `landcheck screen -o` wrote")
    verdicts = pyogrio.read_dataframe(path, layer="verdicts")
    missing = [c for c in ("id", "verdict", "area_m2", "illegal_m2") if c not in verdicts]
    if missing:
        raise LedgerError(f"{path}: verdicts layer lacks {', '.join(missing)}")
    dup = verdicts["id"][verdicts["id"].duplicated()].unique().tolist()
    if dup or verdicts["id"].isna().any():
        raise LedgerError(f"{path}: clue ids (id) must be unique and present; repeated: "
                          f"{dup[:10]}")
    fragments = (pyogrio.read_dataframe(path, layer="fragments") if "fragments" in layers
                 else None)
    meta = {}
    if "metadata" in layers:
        m = pyogrio.read_dataframe(path, layer="metadata")
        meta = {k: json.loads(v) for k, v in zip(m["key"], m["value"], strict=True)}
    return {"source": path, "verdicts": verdicts, "fragments": fragments,
            "round": round_name_of(meta), "run_id": meta.get("run_id"),
            "sha256": file_sha256(path)}


def _case_facts(row, name, *, blob) -> dict:
    illegal = _num(row.get("illegal_m2")) or 0.0
    return {"township": _text(row.get("township")),
            "township_name": _text(row.get("township_name")),
            "verdict": _text(row.get("verdict")),
            "official_class": _text(row.get("official_class")),
            "area_m2": _num(row.get("area_m2")), "illegal_m2": illegal,
            "unrectified_m2": illegal, "due_date": _text(row.get("due_date")),
            "geom": blob, "last_round": name}


def _multi(geom):
    if geom is not None and shapely.get_type_id(geom) == 3:
        return shapely.multipolygons([geom])
    return geom


def _digest(hashes) -> str:
    return hashlib.sha256("\n".join(sorted(hashes)).encode()).hexdigest()


def _iso_date(value, where: str) -> str:
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    try:
        return _dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise LedgerError(f"{where}{value!r} is not a date; use YYYY-MM-DD") from None


def _days(value) -> int:
    if isinstance(value, _dt.timedelta):
        return value.days
    text = str(value).strip().lower()
    if text.endswith("d"):
        text = text[:-1]
    try:
        return int(text)
    except ValueError:
        raise LedgerError(f"due within {value!r}: give days, e.g. 7 or '7d'") from None

