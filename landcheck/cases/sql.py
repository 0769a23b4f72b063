"""Every SQL statement of the case ledger, its schema migrations and the SQLite store.

The ledger file is a GeoPackage: the ``cases`` table is a feature table registered in
``gpkg_contents`` / ``gpkg_geometry_columns`` (QGIS and pyogrio open it as a layer) and the
other tables are registered as ``attributes`` tables. Statements use ``?`` placeholders;
:class:`Dialect` is the seam a PostgreSQL back end fills in (placeholders, upsert, the
transaction start); timestamps come from Python so both back ends store the same text.

Nothing is ever deleted: triggers raise on ``DELETE`` from any ledger table and on
``UPDATE`` of the append-only ones (``history``, ``case_patches``, ``child_plots``,
``rounds``, ``evidence``, ``rectifications``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from landcheck.errors import LedgerError

__all__ = ["MIGRATIONS", "QUERIES", "SCHEMA_VERSION", "Dialect", "SQLiteStore", "gpkg_blob", "now",
           "read_gpkg_blob", "update_case_sql"]

GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
GPKG_USER_VERSION = 10400  # GeoPackage 1.4

_APPEND_ONLY = ("history", "case_patches", "child_plots", "rounds", "evidence",
                "rectifications")
_NO_DELETE = ("cases", "settings", "schema_version", *_APPEND_ONLY)

_GPKG_TABLES = [
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
        organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
        description TEXT)""",
    """INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
        ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian'),
        ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic')""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
        description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
        srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name))""",
]

_LEDGER_TABLES = [
    """CREATE TABLE cases (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, geom MULTIPOLYGON,
        case_id TEXT NOT NULL UNIQUE, clue_id TEXT NOT NULL,
        first_round TEXT NOT NULL, last_round TEXT NOT NULL,
        status TEXT NOT NULL, stage TEXT NOT NULL, township TEXT, township_name TEXT,
        verdict TEXT, official_class TEXT, area_m2 REAL, illegal_m2 REAL NOT NULL DEFAULT 0,
        rectified_m2 REAL NOT NULL DEFAULT 0, unrectified_m2 REAL NOT NULL DEFAULT 0,
        due_date DATE, closed_at DATETIME, closed_by TEXT, closed_why TEXT,
        note TEXT, updated_at DATETIME NOT NULL)""",
    "CREATE INDEX cases_clue ON cases(clue_id)",
    "CREATE INDEX cases_status ON cases(status)",
    """CREATE TABLE case_patches (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, case_id TEXT NOT NULL REFERENCES cases(case_id),
        round TEXT NOT NULL, clue_id TEXT NOT NULL, content_hash TEXT NOT NULL,
        match TEXT NOT NULL, overlap_ratio REAL, distance_m REAL, verdict TEXT, reasons TEXT,
        area_m2 REAL, illegal_m2 REAL, row_json TEXT NOT NULL, geom BLOB,
        UNIQUE (round, clue_id))""",
    "CREATE INDEX case_patches_clue ON case_patches(clue_id)",
    """CREATE TABLE child_plots (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, case_id TEXT NOT NULL REFERENCES cases(case_id),
        round TEXT NOT NULL, parent_id TEXT NOT NULL, part_no INTEGER NOT NULL, child_id TEXT,
        part TEXT, verdict TEXT, official_class TEXT, official_subclass TEXT, area_m2 REAL,
        row_json TEXT NOT NULL, UNIQUE (round, parent_id, part_no))""",
    """CREATE TABLE history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, case_id TEXT NOT NULL, at DATETIME NOT NULL,
        who TEXT NOT NULL, field TEXT NOT NULL, old TEXT, new TEXT, why TEXT, round TEXT)""",
    "CREATE INDEX history_case ON history(case_id)",
    """CREATE TABLE rounds (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, source TEXT,
        sha256 TEXT NOT NULL, run_id TEXT, content_digest TEXT NOT NULL,
        imported_at DATETIME NOT NULL, who TEXT NOT NULL, patches INTEGER NOT NULL,
        new_cases INTEGER NOT NULL, by_clue INTEGER NOT NULL, by_overlap INTEGER NOT NULL,
        reopened INTEGER NOT NULL, child_plots INTEGER NOT NULL)""",
    """CREATE TABLE evidence (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, case_id TEXT NOT NULL REFERENCES cases(case_id),
        child_id TEXT, kind TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL,
        doc_no TEXT, share_pct REAL, added_at DATETIME NOT NULL, who TEXT NOT NULL)""",
    """CREATE TABLE rectifications (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, case_id TEXT NOT NULL REFERENCES cases(case_id),
        method TEXT NOT NULL, area_m2 REAL NOT NULL, date DATE, document TEXT,
        added_at DATETIME NOT NULL, who TEXT NOT NULL)""",
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
        VALUES ('cases', 'features', 'cases', '案件 cases across rounds', 0)""",
    """INSERT INTO gpkg_geometry_columns VALUES ('cases', 'geom', 'MULTIPOLYGON', 0, 0, 0)""",
    *(f"""INSERT INTO gpkg_contents (table_name, data_type, identifier, description)
          VALUES ('{t}', 'attributes', '{t}', '')"""
      for t in ("case_patches", "child_plots", "history", "rounds", "evidence",
                "rectifications")),
    *(f"""CREATE TRIGGER {t}_no_delete BEFORE DELETE ON {t}
          BEGIN SELECT RAISE(ABORT, 'landcheck ledger: rows of {t} are never deleted'); END"""
      for t in _NO_DELETE),
    *(f"""CREATE TRIGGER {t}_append_only BEFORE UPDATE ON {t}
          BEGIN SELECT RAISE(ABORT, 'landcheck ledger: {t} is append-only'); END"""
      for t in _APPEND_ONLY),
]

#: Forward migrations: version → the SQL steps that bring a file of version − 1 to it.
#: Version 1 is the whole schema; a later version appends its steps here.
MIGRATIONS: dict[int, list[str]] = {1: _LEDGER_TABLES}
SCHEMA_VERSION = max(MIGRATIONS)


def now() -> str:
    """The current UTC time as GeoPackage DATETIME text (``YYYY-MM-DDTHH:MM:SS.SSSZ``)."""
    t = _dt.datetime.now(_dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Dialect:
    """What differs between SQL back ends: placeholders, upsert and the write transaction."""

    name: str = "sqlite"
    placeholder: str = "?"
    begin_write: str = "BEGIN IMMEDIATE"

    def sql(self, statement: str) -> str:
        """``statement`` with ``?`` placeholders in this dialect's style."""
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def upsert(self, table: str, columns: tuple[str, ...], key: str) -> str:
        cols = ", ".join(columns)
        marks = ", ".join("?" * len(columns))
        sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
        return self.sql(f"INSERT INTO {table} ({cols}) VALUES ({marks}) "
                        f"ON CONFLICT ({key}) DO UPDATE SET {sets}")


def gpkg_blob(geom, srs_id: int) -> bytes | None:
    """A geometry as GeoPackage binary: header (little endian, xy envelope) then WKB."""
    if geom is None:
        return None
    if shapely.is_empty(geom):
        return b"GP\x00\x11" + struct.pack("<i", srs_id) + shapely.to_wkb(geom)
    x0, y0, x1, y1 = shapely.bounds(geom)
    return (b"GP\x00\x03" + struct.pack("<i4d", srs_id, x0, x1, y0, y1)
            + shapely.to_wkb(geom, byte_order=1))


def read_gpkg_blob(blob: bytes | None):
    """The shapely geometry of GeoPackage binary (``None`` for ``None``)."""
    if blob is None:
        return None
    flags = blob[3]
    envelope = (0, 32, 48, 48, 64)[(flags >> 1) & 0b111]
    return shapely.from_wkb(bytes(blob[8 + envelope:]))


def _srs_row(crs) -> tuple:
    from pyproj import CRS

    crs = CRS.from_user_input(crs)
    auth = crs.to_authority()
    if auth and auth[0] == "EPSG":
        srs_id, org, code = int(auth[1]), "EPSG", int(auth[1])
    else:
        srs_id, org, code = 100000, "NONE", 100000
    return (crs.name, srs_id, org, code, crs.to_wkt("WKT1_GDAL"), "")


class SQLiteStore:
    """A ledger GeoPackage opened with the stdlib ``sqlite3``: WAL, a busy timeout, explicit
    transactions (:meth:`write` takes the write lock at its start, so two writers queue
    rather than fail), migrations on open."""

    dialect = Dialect()

    def __init__(self, path, *, create: bool = False, busy_timeout_s: float = 30.0):
        self.path = Path(path)
        if not create and not self.path.exists():
            raise LedgerError(f"{self.path}: no such ledger; create it with `landcheck ledger "
                              "init` (Ledger.init)")
        self.con = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None,
                                   check_same_thread=False)
        self.con.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        self.con.execute("PRAGMA journal_mode = WAL")
        self.con.execute("PRAGMA foreign_keys = ON")
        self._migrate(create)

    def close(self) -> None:
        self.con.close()

    # -- schema -------------------------------------------------------------------------
    def version(self) -> int:
        has = self.con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                               "name = 'schema_version'").fetchone()
        if not has:
            return 0
        row = self.con.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)

    def _migrate(self, create: bool) -> None:
        with self.write():
            found = self.version()
            if found > SCHEMA_VERSION:
                raise LedgerError(
                    f"{self.path}: ledger schema version {found} is newer than this landcheck "
                    f"knows ({SCHEMA_VERSION}); upgrade landcheck to open it")
            if found == 0:
                tables = self.con.execute("SELECT count(*) FROM sqlite_master WHERE type = "
                                          "'table'").fetchone()[0]
                if tables and not create:
                    raise LedgerError(f"{self.path}: not a landcheck ledger (no schema_version "
                                      "table)")
                self.con.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
                self.con.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
                for step in _GPKG_TABLES:
                    self.con.execute(step)
                self.con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, "
                                 "applied_at DATETIME NOT NULL)")
            for version in range(found + 1, SCHEMA_VERSION + 1):
                for step in MIGRATIONS[version]:
                    self.con.execute(step)
                self.con.execute("INSERT INTO schema_version VALUES (?, ?)", (version, now()))

    # -- transactions -------------------------------------------------------------------
    @contextlib.contextmanager
    def write(self):
        """One write transaction: committed when the block ends, rolled back on any error."""
        self.con.execute(self.dialect.begin_write)
        try:
            yield self
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def rows(self, statement: str, params=()) -> list[sqlite3.Row]:
        cur = self.con.execute(self.dialect.sql(statement), params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def run(self, statement: str, params=()) -> None:
        self.con.execute(self.dialect.sql(statement), params)

    def run_many(self, statement: str, rows) -> None:
        self.con.executemany(self.dialect.sql(statement), rows)

    # -- settings and CRS -----------------------------------------------------------------
    def setting(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_setting(self, key: str, value: str) -> None:
        self.con.execute(self.dialect.upsert("settings", ("key", "value"), "key"), (key, value))

    def srs_id(self) -> int:
        return int(self.con.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE "
                                    "table_name = 'cases'").fetchone()[0])

    def set_crs(self, crs) -> int:
        """Register ``crs`` as the cases layer's CRS (inside a write transaction)."""
        row = _srs_row(crs)
        self.con.execute("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
                         row)
        self.con.execute("UPDATE gpkg_geometry_columns SET srs_id = ? WHERE table_name = "
                         "'cases'", (row[1],))
        self.con.execute("UPDATE gpkg_contents SET srs_id = ? WHERE table_name = 'cases'",
                         (row[1],))
        return row[1]

    def crs_wkt(self) -> str | None:
        row = self.con.execute(
            "SELECT s.definition, s.srs_id FROM gpkg_spatial_ref_sys s JOIN "
            "gpkg_geometry_columns g ON g.srs_id = s.srs_id WHERE g.table_name = 'cases'"
        ).fetchone()
        return None if row is None or row[1] <= 0 else row[0]

    def touch_extent(self) -> None:
        """Set the cases layer's extent and last change in ``gpkg_contents``."""
        blobs = [r[0] for r in self.con.execute("SELECT geom FROM cases WHERE geom IS NOT "
                                                "NULL")]
        if not blobs:
            return
        b = shapely.bounds(np.array([read_gpkg_blob(g) for g in blobs], dtype=object))
        self.con.execute(
            "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, "
            "last_change = ? WHERE table_name = 'cases'",
            (float(np.nanmin(b[:, 0])), float(np.nanmin(b[:, 1])), float(np.nanmax(b[:, 2])),
             float(np.nanmax(b[:, 3])), now()))


_CASE_COLS = ("case_id, clue_id, first_round, last_round, status, stage, township, "
              "township_name, verdict, official_class, area_m2, illegal_m2, rectified_m2, "
              "unrectified_m2, due_date, closed_at, closed_by, closed_why, note, updated_at")
_UPDATABLE_COLUMNS = frozenset(("status", "stage", "note", "due_date", "township",
                                "township_name", "closed_at", "closed_by", "closed_why",
                                "rectified_m2", "unrectified_m2"))

#: The ledger's queries by name (``?`` placeholders; :meth:`Dialect.sql` adapts them).
QUERIES = {
    "rounds": "SELECT * FROM rounds ORDER BY fid",
    "known_clues": "SELECT clue_id, min(case_id) AS case_id FROM case_patches "
                   "GROUP BY clue_id",
    "closed_cases": "SELECT case_id FROM cases WHERE status = ?",
    "open_geoms": "SELECT case_id, geom FROM cases WHERE status != ? AND geom IS NOT NULL "
                  "ORDER BY fid",
    "max_fid": "SELECT coalesce(max(fid), 0) AS n FROM cases",
    "all_cases": f"SELECT {_CASE_COLS} FROM cases",
    "case": f"SELECT {_CASE_COLS}, geom FROM cases WHERE case_id = ?",
    "status": f"SELECT {_CASE_COLS} FROM cases ORDER BY fid",
    "insert_case": "INSERT INTO cases (fid, geom, case_id, clue_id, first_round, last_round, "
                   "status, stage, township, township_name, verdict, official_class, area_m2, "
                   "illegal_m2, unrectified_m2, due_date, updated_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "update_case_round": "UPDATE cases SET last_round = ?, status = ?, township = ?, "
                         "township_name = ?, verdict = ?, official_class = ?, area_m2 = ?, "
                         "illegal_m2 = ?, unrectified_m2 = ?, due_date = ?, geom = ?, "
                         "updated_at = ? WHERE case_id = ?",
    "insert_patch": "INSERT INTO case_patches (case_id, round, clue_id, content_hash, match, "
                    "overlap_ratio, distance_m, verdict, reasons, area_m2, illegal_m2, "
                    "row_json, geom) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "insert_child": "INSERT INTO child_plots (case_id, round, parent_id, part_no, child_id, "
                    "part, verdict, official_class, official_subclass, area_m2, row_json) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "insert_history": "INSERT INTO history (case_id, at, who, field, old, new, why, round) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "insert_round": "INSERT INTO rounds (name, source, sha256, run_id, content_digest, "
                    "imported_at, who, patches, new_cases, by_clue, by_overlap, reopened, "
                    "child_plots) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "insert_rectification": "INSERT INTO rectifications (case_id, method, area_m2, date, "
                            "document, added_at, who) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "insert_evidence": "INSERT INTO evidence (case_id, child_id, kind, path, sha256, doc_no, "
                       "share_pct, added_at, who) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "history": "SELECT * FROM history ORDER BY seq",
    "case_history": "SELECT * FROM history WHERE case_id = ? ORDER BY seq",
    "case_patches": "SELECT round, clue_id, match, overlap_ratio, distance_m, verdict, "
                    "area_m2, illegal_m2, reasons, content_hash FROM case_patches "
                    "WHERE case_id = ? ORDER BY fid",
    "case_children": "SELECT round, parent_id, part_no, child_id, part, verdict, official_class, "
                     "official_subclass, area_m2 FROM child_plots WHERE case_id = ? "
                     "ORDER BY fid",
    "case_evidence": "SELECT kind, path, sha256, doc_no, share_pct, child_id, added_at, who "
                     "FROM evidence WHERE case_id = ? ORDER BY fid",
    "case_rectifications": "SELECT method, area_m2, date, document, added_at, who "
                           "FROM rectifications WHERE case_id = ? ORDER BY fid",
    "rectified_total": "SELECT coalesce(sum(area_m2), 0) AS total FROM rectifications",
}


def update_case_sql(fields: tuple[str, ...]) -> str:
    """``UPDATE cases`` of ``fields`` and ``updated_at`` (parameters: the values, the time,
    the case id); only the ledger's settable columns."""
    bad = [f for f in fields if f not in _UPDATABLE_COLUMNS]
    if bad:
        raise LedgerError(f"cases: {', '.join(bad)} cannot be set")
    sets = ", ".join(f"{f} = ?" for f in fields)
    return f"UPDATE cases SET {sets}, updated_at = ? WHERE case_id = ?"
