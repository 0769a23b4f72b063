"""Rule packs: versioned TOML files of rules over a facts table.

A pack is read, validated and type-checked against the facts schema before any
data is read; every problem in it is reported at once in one :class:`RuleError`.
Reading a pack reads that one file and nothing else (no includes), and nothing
in it is ever executed: conditions use the language of :mod:`landcheck.rules.expr`.

Format::

    name = "city2023"
    version = "1.0.0"
    valid_from = 2023-01-01                # TOML dates, no quotes
    valid_to = 2024-12-31                  # optional
    title_zh = "…"
    title_en = "…"
    cites = ["…"]                          # optional
    area_method = "survey3"                # optional: survey3 (default) | survey2

    [params.legality]                      # optional: per family, override rule defaults
    sliver_m2 = 1.0

    [[rules]]
    id = "legality.approved"               # <family>.<name>, unique
    family = "legality"
    verdict = "legal"                      # illegal | needs_review | legal | other
    reason_zh = "已批准用地（批准日期{approval_date}）"   # {fact} / {param.x} / {run.x}
    reason_en = "Approved land (approval date {approval_date})"
    when = "approved_m2 > param.sliver_m2 and notnull(approval_date)"
    area = "approved_m2"                   # optional: the number fact giving this rule's area
    cites = "…"                            # optional: text or list of texts
    params = { cover_ratio = 0.0 }         # optional: rule defaults
    official_class = "legal"               # optional: the official class it decides
    official_subclass = "cover"            # optional: a sub-type code, or "cover"

    [official]                             # optional: official categories (landcheck.official)
    classes = { legal = "合法", … }          # code = Chinese name
    verdicts = { illegal = "…", needs_review = "…", legal = "legal", other = "…" }
    subclass_names = { approval_doc = "批文" }
    cover = { approvals = "approval_doc" } # covering role (or role.kind) → sub-type
    cover_classes = { approvals = "legal" }
    new_since = 2023-01-01                 # 新增 / 存量 cut-off on the build_date fact
    build_date = "after"
    balance = { outflow = ["farmland.outflow"], exempt = ["farmland.balance_exempt"] }
    [[official.subclasses]]                # first match per class
    class = "…"
    subclass = "…"
    when = "type_category == 'photovoltaic'"

Parameters resolve, later winning: rule defaults, ``[params.<family>]`` of the pack,
user overrides ``family.param`` (every rule of the family having it), then user
overrides ``rule_id.param``.

Parameter values are checked wherever they come from (defaults, pack values, overrides):
a number must be finite and within float range (about ±1.8e308); a parameter whose name
ends in a unit or count suffix — ``_m2``, ``_m``, ``_mu``, ``_days``, ``_years``, ``_pct``,
``_ratio`` (see :data:`NON_NEGATIVE_SUFFIXES`) — must not be negative, nor any number in
its list. Either problem is an error naming the parameter and the value.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from landcheck.area import AREA_METHODS
from landcheck.errors import RuleError, format_ids
from landcheck.official import DEFAULT_SCHEME, OfficialScheme, Subclass
from landcheck.rules.expr import (
    SCHEMA_TYPES,
    Expr,
    ExprError,
    Name,
    compile_expr,
    suggest,
    value_type,
)

__all__ = [
    "MAX_PACK_BYTES", "MAX_RULES", "VERDICTS", "Rule", "RulePack", "load_pack", "loads_pack",
    "parse_set_option", "render_reason", "select_pack_for_year",
]

MAX_PACK_BYTES = 1 << 20  #: a pack file larger than 1 MiB is refused unread
MAX_RULES = 1000  #: rules in one pack
VERDICTS = ("illegal", "needs_review", "legal", "other")
_BUILTIN_DIR = Path(__file__).parent / "packs"
_PACK_KEYS = {"name": True, "version": True, "valid_from": True, "valid_to": False,
              "title_zh": True, "title_en": True, "cites": False, "params": False, "rules": True,
              "area_method": False, "official": False}
_RULE_KEYS = {"id": True, "family": True, "verdict": True, "reason_zh": True, "reason_en": True,
              "when": True, "cites": False, "area": False, "params": False, "subject": False,
              "official_class": False, "official_subclass": False}
_OFFICIAL_KEYS = {"classes": True, "verdicts": True, "subclass_names": False, "subclasses": False,
                  "cover": False, "cover_classes": False, "new_since": False, "build_date": False,
                  "balance": False}
#: What rules judge when they name no ``subject``: the change patches.
DEFAULT_SUBJECT = "patches"
_ID_RE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+", re.ASCII)
_FAMILY_RE = re.compile(r"[a-z][a-z0-9_]*", re.ASCII)
_PARAM_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_VERSION_RE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?(?:[-+][0-9A-Za-z.-]+)?", re.ASCII)
_PLACEHOLDER_RE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


@dataclass(frozen=True)
class Rule:
    """One rule: when its condition fires on a facts row, it gives ``verdict``."""

    id: str
    family: str
    verdict: str
    reason_zh: str
    reason_en: str
    cites: tuple[str, ...]
    condition: Expr
    area: str | None
    params: Mapping[str, Any]
    subject: str = DEFAULT_SUBJECT
    #: the official class code this rule decides where it gives the patch's verdict
    #: (:mod:`landcheck.official`), and the sub-type code (``"cover"``: the documents')
    official_class: str | None = None
    official_subclass: str | None = None

    @property
    def when(self) -> str:
        return self.condition.text

    def evaluate(self, facts: pd.DataFrame, *, run: Mapping[str, Any] | None = None
                 ) -> pd.Series:
        """``bool`` per row of ``facts`` (same index); a null condition does not fire."""
        return self.condition.fires(facts, params=self.params, run=run).rename(self.id)

    def reason(self, values: Mapping[str, Any], *, lang: str = "zh") -> str:
        """The reason text with placeholders filled from one row of facts (and params)."""
        template = {"zh": self.reason_zh, "en": self.reason_en}[lang]
        merged = {f"param.{k}": v for k, v in self.params.items()} | dict(values)
        return render_reason(template, merged)

    def reasons(self, facts: pd.DataFrame, *, run: Mapping[str, Any] | None = None,
                lang: str = "zh", texts: dict | None = None) -> list[str]:
        """:meth:`reason` for every row of ``facts`` at once (same texts, column-wise).

        ``texts``: a dict to keep the columns' texts in, so that rendering the other
        language from the same ``facts`` formats each value once.
        """
        template = {"zh": self.reason_zh, "en": self.reason_en}[lang]
        scalars = {f"param.{k}": v for k, v in self.params.items()}
        scalars |= {f"run.{k}": v for k, v in (run or {}).items()}
        return render_reasons(template, facts, scalars, texts=texts)


@dataclass(frozen=True)
class RulePack:
    """A validated, compiled rule pack. Build one with :func:`load_pack`."""

    name: str
    version: str
    valid_from: date
    valid_to: date | None
    title: Mapping[str, str]
    cites: tuple[str, ...]
    rules: tuple[Rule, ...]
    schema: Mapping[str, str]
    path: Path | None
    sha256: str
    overrides: Mapping[str, Any]
    #: the official area method of the pack's areas (:data:`landcheck.area.AREA_METHODS`)
    area_method: str = "survey3"
    #: the official categories (``[official]``; :data:`landcheck.official.DEFAULT_SCHEME`
    #: where the pack has none)
    official: OfficialScheme = DEFAULT_SCHEME

    @property
    def params(self) -> Mapping[str, Mapping[str, Any]]:
        """Resolved parameters per rule id (defaults, pack values, then overrides)."""
        return MappingProxyType({r.id: r.params for r in self.rules})

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.family for r in self.rules))

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def select(self, families: str | Iterable[str]) -> RulePack:
        """The same pack restricted to rules of ``families``."""
        wanted = [families] if isinstance(families, str) else list(families)
        unknown = [f for f in wanted if f not in self.families]
        if unknown:
            raise RuleError(f"{self.name}: no rule family {format_ids(unknown)}"
                            f"{suggest(unknown[0], self.families)}; families: "
                            f"{', '.join(self.families)}")
        rules = tuple(r for r in self.rules if r.family in wanted)
        return dataclasses.replace(self, rules=rules)

    @property
    def subjects(self) -> tuple[str, ...]:
        """What the rules judge: ``patches`` and, for other check families, features such
        as ``projects`` or ``development_plans``."""
        return tuple(dict.fromkeys(r.subject for r in self.rules))

    def for_subject(self, subject: str = DEFAULT_SUBJECT) -> RulePack:
        """The same pack restricted to the rules that judge ``subject``."""
        return dataclasses.replace(self, rules=tuple(r for r in self.rules if r.subject == subject))

    def evaluate(self, facts: pd.DataFrame, *, run: Mapping[str, Any] | None = None,
                 subject: str = DEFAULT_SUBJECT) -> pd.DataFrame:
        """One ``bool`` column per rule of ``subject``, aligned to ``facts.index``; ``facts``
        is untouched.

        ``run`` gives the run constants (``reference_date``, ``year``) rules may use.
        """
        if subject is not None and any(r.subject != subject for r in self.rules):
            return self.for_subject(subject).evaluate(facts, run=run, subject=None)
        if not isinstance(facts, pd.DataFrame):
            raise TypeError(f"facts must be a pandas DataFrame, not {type(facts).__name__}")
        needed: dict[str, list[str]] = {}
        for rule in self.rules:
            for col in rule.condition.columns:
                if col not in facts.columns:
                    needed.setdefault(col, []).append(rule.id)
        if needed:
            listing = "; ".join(f"'{c}' (rules {format_ids(ids, 3)})" for c, ids in needed.items())
            raise RuleError(f"{self.name}: the facts table lacks columns {listing}")
        cache: dict[str, pd.Series] = {}
        columns = {r.id: r.condition._fires(facts, r.params, run, cache).to_numpy()
                   for r in self.rules}
        return pd.DataFrame(columns, index=facts.index, columns=[r.id for r in self.rules])

    def to_dict(self) -> dict[str, Any]:
        """Provenance record: what pack, which file, which parameters after overrides."""
        return {
            "name": self.name, "version": self.version,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "path": str(self.path) if self.path else None, "sha256": self.sha256,
            "area_method": self.area_method,
            "official": self.official.to_dict(),
            "rules": [r.id for r in self.rules],
            "params": {r.id: {k: _plain(v) for k, v in r.params.items()} for r in self.rules},
            "overrides": {k: _plain(v) for k, v in self.overrides.items()},
        }

    def describe(self, *, markdown: bool = False) -> pd.DataFrame | str:
        """A table of the rules (for docs): id, family, verdict, reasons, when, params, cites."""
        rows = [{"id": r.id, "family": r.family, "verdict": r.verdict,
                 "reason_zh": r.reason_zh, "reason_en": r.reason_en,
                 "when": " ".join(r.when.split()),
                 "params": ", ".join(f"{k}={_plain(v)}" for k, v in r.params.items()),
                 "cites": "; ".join(r.cites)} for r in self.rules]
        frame = pd.DataFrame(rows, columns=["id", "family", "verdict", "reason_zh", "reason_en",
                                            "when", "params", "cites"])
        return _markdown(frame) if markdown else frame


def _plain(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v.isoformat() if isinstance(v, date) else v


def _markdown(frame: pd.DataFrame) -> str:
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + " --- |" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- reading

def load_pack(name_or_path: str | os.PathLike, *, schema: Mapping[str, str],
              overrides: Mapping[str, Any] | None = None,
              builtin_dir: str | os.PathLike | None = None) -> RulePack:
    """Read, validate and compile a rule pack.

    ``name_or_path``: a built-in pack name (no path separator, no suffix), looked up as
    ``landcheck/rules/packs/<name>.toml`` (or in ``builtin_dir``), else a file path.
    ``schema`` maps each fact column to ``number|text|date|bool|list``. ``overrides``
    maps ``family.param`` or ``rule_id.param`` to a value (see :func:`parse_set_option`).
    Every problem found raises one :class:`~landcheck.errors.RuleError` listing them all.
    """
    path, label = _locate(name_or_path, builtin_dir)
    raw = _read_limited(path, label)
    return _from_bytes(raw, schema=schema, overrides=overrides, path=path, label=label)


def loads_pack(text: str, *, schema: Mapping[str, str],
               overrides: Mapping[str, Any] | None = None, source: str = "<string>") -> RulePack:
    """Like :func:`load_pack` for TOML text already in memory."""
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_PACK_BYTES:
        raise RuleError(f"{source}: rule pack larger than {MAX_PACK_BYTES} bytes")
    return _from_bytes(raw, schema=schema, overrides=overrides, path=None, label=source)


def _locate(name_or_path: str | os.PathLike, builtin_dir: Any) -> tuple[Path, str]:
    if not isinstance(name_or_path, str | os.PathLike):
        raise TypeError(f"expected a pack name or path, not {type(name_or_path).__name__}")
    text = os.fspath(name_or_path)
    is_name = isinstance(name_or_path, str) and not any(s in text for s in "/\\" + os.sep) \
        and not Path(text).suffix
    if not is_name:
        return Path(text), text
    folder = Path(builtin_dir) if builtin_dir is not None else _BUILTIN_DIR
    path = folder / f"{text}.toml"
    if not re.fullmatch(r"[A-Za-z0-9_-]+", text) or not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []
        raise RuleError(f"no built-in rule pack {text!r}{suggest(text, known)}; built-in packs: "
                        f"{', '.join(known) or 'none'} (or give a path to a .toml file)")
    return path, path.name


def _read_limited(path: Path, label: str) -> bytes:
    try:
        if not path.is_file():
            what = "is not a file" if path.exists() else "does not exist"
            raise RuleError(f"{label}: rule pack file {what}")
        if path.stat().st_size > MAX_PACK_BYTES:
            raise RuleError(f"{label}: rule pack larger than {MAX_PACK_BYTES} bytes; refused")
        with path.open("rb") as fh:
            raw = fh.read(MAX_PACK_BYTES + 1)
    except OSError as err:
        raise RuleError(f"{label}: cannot read rule pack: {err.strerror or err}") from None
    if len(raw) > MAX_PACK_BYTES:
        raise RuleError(f"{label}: rule pack larger than {MAX_PACK_BYTES} bytes; refused")
    return raw


def _from_bytes(raw: bytes, *, schema: Mapping[str, Any], overrides: Mapping[str, Any] | None,
                path: Path | None, label: str) -> RulePack:
    schema = _subject_schemas(schema)
    for one in schema.values():
        _check_schema(one)
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise RuleError(f"{label}: not UTF-8 text (byte {err.start})") from None
    except tomllib.TOMLDecodeError as err:
        raise RuleError(f"{label}: TOML syntax error: {err}") from None
    except RecursionError:
        raise RuleError(f"{label}: TOML nested too deeply") from None
    build = _Builder(data, schema, dict(overrides or {}))
    pack = build.run()
    if build.problems:
        raise RuleError(_summary(label, build.problems), build.problems)
    return dataclasses.replace(pack, path=path.resolve() if path else None,
                               sha256=hashlib.sha256(raw).hexdigest())


def _subject_schemas(schema: Mapping[str, Any]) -> dict[str, Mapping[str, str]]:
    """A flat schema is the patches' schema; a mapping of mappings gives one per subject."""
    if isinstance(schema, Mapping) and schema and all(isinstance(v, Mapping)
                                                      for v in schema.values()):
        return {str(k): v for k, v in schema.items()}
    return {DEFAULT_SUBJECT: schema}


def _check_schema(schema: Mapping[str, str]) -> None:
    if not isinstance(schema, Mapping):
        raise TypeError(f"schema must be a mapping of column -> type, not {type(schema).__name__}")
    bad = {k: v for k, v in schema.items() if v not in SCHEMA_TYPES}
    if bad:
        raise RuleError(f"schema types must be one of {', '.join(SCHEMA_TYPES)}; got {bad}")


def _summary(label: str, problems: list[str]) -> str:
    if len(problems) == 1:
        return f"{label}: {problems[0]}"
    items = "\n".join("  - " + p.replace("\n", "\n    ") for p in problems)
    return f"{label}: {len(problems)} problems:\n{items}"


# --------------------------------------------------------------------------- validation

class _Builder:
    """Checks a parsed TOML document, collecting every problem before giving up."""

    def __init__(self, data: dict, schemas: Mapping[str, Mapping[str, str]],
                 overrides: dict[str, Any]):
        self.data, self.overrides = data, overrides
        self.schemas = {k: dict(v) for k, v in schemas.items()}
        self.schema = self.schemas.get(DEFAULT_SUBJECT, next(iter(self.schemas.values())))
        self.problems: list[str] = []
        self.seen: set[str] = set()

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def keys(self, table: Mapping, spec: Mapping[str, bool], where: str) -> None:
        for key, required in spec.items():
            if required and key not in table:
                self.fail(f"{where}missing key '{key}'")
        for key in table:
            if key not in spec:
                self.fail(f"{where}unknown key '{key}'{suggest(key, spec)}")

    def get(self, table: Mapping, key: str, kind: type | tuple, where: str, what: str) -> Any:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, kind) or isinstance(value, datetime) or (
                isinstance(value, str) and not value.strip()):
            hint = " (write TOML dates without quotes)" if kind is date and isinstance(
                value, str) else ""
            self.fail(f"{where}'{key}' must be {what}, got {value!r}{hint}")
            return None
        return value

    def run(self) -> RulePack:
        d = self.data
        self.keys(d, _PACK_KEYS, "")
        name = self.get(d, "name", str, "", "text")
        if name and not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            self.fail(f"'name' must be letters, digits, '_', '-' or '.', got {name!r}")
        version = self.get(d, "version", str, "", "text like '1.0.0'")
        if version and not _VERSION_RE.fullmatch(version):
            self.fail(f"'version' must look like '1.0.0', got {version!r}")
        start = self.get(d, "valid_from", date, "", "a TOML date like 2023-01-01")
        end = self.get(d, "valid_to", date, "", "a TOML date like 2024-12-31")
        if start and end and start > end:
            self.fail(f"'valid_from' {start} is after 'valid_to' {end}")
        titles = {lang: self.get(d, f"title_{lang}", str, "", "text") or ""
                  for lang in ("zh", "en")}
        cites = self.cites(d, "")
        method = self.get(d, "area_method", str, "", "text") or "survey3"
        if method not in AREA_METHODS:
            self.fail(f"'area_method' must be one of {', '.join(map(repr, AREA_METHODS))}, "
                      f"got {method!r}")
        rules = self.rules(d.get("rules"), self.family_params(d.get("params", {})))
        self.schema = self.schemas.get(DEFAULT_SUBJECT, self.schema)
        official = self.official(d.get("official"), rules)
        return RulePack(name or "", version or "", start or date.min, end,
                        MappingProxyType(titles), cites, rules, MappingProxyType(self.schema),
                        None, "", MappingProxyType(dict(self.overrides)), method, official)

    def official(self, table: Any, rules: tuple[Rule, ...]) -> OfficialScheme:
        """The ``[official]`` table (see :mod:`landcheck.official`), checked against the
        rules' ``official_class`` / ``official_subclass``."""
        if table is None:
            scheme = DEFAULT_SCHEME
        elif not isinstance(table, dict):
            self.fail("'official' must be a table: [official]")
            return DEFAULT_SCHEME
        else:
            scheme = self.official_table(table)
        classes, subs = scheme.classes, scheme.subclass_names
        for r in rules:
            where = f"rule {r.id}: "
            if r.official_class is not None and r.official_class not in classes:
                self.fail(f"{where}official_class {r.official_class!r} is not one of "
                          f"official.classes{suggest(r.official_class, classes)}")
            if r.official_subclass not in (None, "cover") and r.official_subclass not in subs:
                self.fail(f"{where}official_subclass {r.official_subclass!r} is not in "
                          f"official.subclass_names (or \"cover\")"
                          f"{suggest(r.official_subclass, subs)}")
            if r.official_subclass is not None and r.official_class is None:
                self.fail(f"{where}official_subclass needs an official_class")
        known = {r.id: r for r in rules}
        for rid in (*scheme.outflow_rules, *scheme.exempt_rules):
            if rid not in known:
                self.fail(f"official.balance: no rule {rid!r}{suggest(rid, known)}")
        for rid in scheme.outflow_rules:
            if rid in known and not known[rid].area:
                self.fail(f"official.balance: outflow rule {rid!r} names no area")
        return scheme

    def official_table(self, t: dict) -> OfficialScheme:
        where = "official: "
        self.keys(t, _OFFICIAL_KEYS, where)
        names = {k: self.text_table(t, k, where) for k in
                 ("classes", "verdicts", "subclass_names", "cover", "cover_classes")}
        classes, subs = names["classes"], names["subclass_names"]
        for v in VERDICTS:
            if v not in names["verdicts"]:
                self.fail(f"{where}verdicts needs a class for '{v}'")
        for key in ("verdicts", "cover_classes"):
            for k, code in names[key].items():
                if code not in classes:
                    self.fail(f"{where}{key}.{k} = {code!r} is not one of official.classes"
                              f"{suggest(code, classes)}")
        for k, code in names["cover"].items():
            if code not in subs:
                self.fail(f"{where}cover.{k} = {code!r} is not in official.subclass_names"
                          f"{suggest(code, subs)}")
        entries = []
        raw = t.get("subclasses", [])
        if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
            self.fail(f"{where}subclasses must be an array of tables: [[official.subclasses]]")
            raw = []
        for i, e in enumerate(raw):
            at = f"official.subclasses[{i}]: "
            self.keys(e, {"class": True, "subclass": True, "when": True}, at)
            cls, code, when = (self.get(e, k, str, at, "text") for k in
                               ("class", "subclass", "when"))
            if cls is not None and cls not in classes:
                self.fail(f"{at}class {cls!r} is not one of official.classes"
                          f"{suggest(cls, classes)}")
            if code is not None and code not in subs:
                self.fail(f"{at}subclass {code!r} is not in official.subclass_names"
                          f"{suggest(code, subs)}")
            if cls and code and when:
                try:
                    cond = compile_expr(when, schema=self.schema, params={}, where=f"{at}when")
                except ExprError as err:
                    self.fail(str(err))
                    continue
                entries.append(Subclass(cls, code, cond))
        since = self.get(t, "new_since", date, where, "a TOML date like 2023-01-01")
        build = self.get(t, "build_date", str, where, "text") or "after"
        if self.schema.get(build) != "date":
            self.fail(f"{where}build_date {build!r} must be a date fact (e.g. 'after')")
        balance = t.get("balance", {})
        lists = {}
        for key in ("outflow", "exempt"):
            value = balance.get(key, []) if isinstance(balance, dict) else None
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.fail(f"{where}balance.{key} must be a list of rule ids")
                value = []
            lists[key] = tuple(value)
        return OfficialScheme(MappingProxyType(classes), MappingProxyType(names["verdicts"]),
                              MappingProxyType(subs), tuple(entries),
                              MappingProxyType(names["cover"]),
                              MappingProxyType(names["cover_classes"]), since, build,
                              lists["outflow"], lists["exempt"])

    def text_table(self, t: dict, key: str, where: str) -> dict[str, str]:
        value = t.get(key, {})
        if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and v.strip()
                for k, v in value.items()):
            self.fail(f"{where}{key} must be a table of texts like {{ code = \"名称\" }}")
            return {}
        return dict(value)

    def cites(self, table: Mapping, where: str) -> tuple[str, ...]:
        value = table.get("cites", [])
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{where}'cites' must be text or a list of texts")
            return ()
        return tuple(value)

    def param_table(self, table: Any, where: str) -> dict[str, Any]:
        if not isinstance(table, dict):
            self.fail(f"{where} must be a table of parameters like {{ sliver_m2 = 1.0 }}")
            return {}
        good = {}
        for key, value in table.items():
            if not _PARAM_RE.fullmatch(key):
                self.fail(f"{where}: parameter name {key!r} is not a plain name")
            elif (problem := param_value_problem(key, value)) is not None:
                self.fail(f"{where}: {problem}")
            elif value_type(value) is None:
                self.fail(f"{where}: parameter '{key}' = {value!r} must be a number, text, date, "
                          "true/false or a list of one of these")
            else:
                good[key] = value
        return good

    def family_params(self, params: Any) -> dict[str, dict[str, Any]]:
        if not isinstance(params, dict):
            self.fail("'params' must be tables like [params.legality]")
            return {}
        return {fam: self.param_table(t, f"params.{fam}") for fam, t in params.items()}

    def rules(self, raw: Any, family_params: dict[str, dict[str, Any]]) -> tuple[Rule, ...]:
        if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
            if raw is not None:
                self.fail("'rules' must be an array of tables: [[rules]]")
            return ()
        if not raw:
            self.fail("the pack has no rules")
        if len(raw) > MAX_RULES:
            self.fail(f"the pack has {len(raw)} rules; the limit is {MAX_RULES}")
            return ()
        specs = [s for i, r in enumerate(raw) if (s := self.rule_spec(i, r)) is not None]
        families = {s["family"] for s in specs}
        for fam in family_params:
            if fam not in families:
                self.fail(f"params.{fam}: no rule has family '{fam}'{suggest(fam, families)}")
        for spec in specs:
            self.resolve(spec, family_params.get(spec["family"], {}))
        self.apply_overrides(specs)
        compiled = (self.compile(s) for s in specs)
        return tuple(r for r in compiled if r is not None)

    def rule_spec(self, i: int, r: dict) -> dict[str, Any] | None:
        rid = r.get("id")
        where = f"rule {rid}: " if isinstance(rid, str) and rid else f"rules[{i}]: "
        self.keys(r, _RULE_KEYS, where)
        spec = {k: self.get(r, k, str, where, "text") for k in
                ("id", "family", "verdict", "reason_zh", "reason_en", "when", "area", "subject",
                 "official_class", "official_subclass")}
        spec["subject"] = spec["subject"] or DEFAULT_SUBJECT
        if spec["subject"] not in self.schemas:
            self.fail(f"{where}subject {spec['subject']!r} is not one of "
                      f"{', '.join(self.schemas)}{suggest(spec['subject'], self.schemas)}")
            spec["subject"] = None
        spec.update(where=where, cites=self.cites(r, where),
                    params=self.param_table(r.get("params", {}), f"{where}params"))
        rid, family, verdict = spec["id"], spec["family"], spec["verdict"]
        if rid and not _ID_RE.fullmatch(rid):
            self.fail(f"{where}id must look like 'family.name' (lowercase, digits, '_')")
        elif rid and family and rid.split(".")[0] != family:
            self.fail(f"{where}id must start with its family '{family}.'")
        if family and not _FAMILY_RE.fullmatch(family):
            self.fail(f"{where}family must be a lowercase name, got {family!r}")
        if verdict and verdict not in VERDICTS:
            self.fail(f"{where}verdict {verdict!r} is not one of {', '.join(VERDICTS)}"
                      f"{suggest(verdict, VERDICTS)}")
        if rid in self.seen:
            self.fail(f"{where}duplicate id '{rid}'")
            return None
        self.seen.add(rid)
        required = ("id", "family", "verdict", "reason_zh", "reason_en", "when", "subject")
        return spec if all(spec[k] for k in required) else None

    def resolve(self, spec: dict, pack_values: Mapping[str, Any]) -> None:
        params = dict(spec["params"])
        for key, value in pack_values.items():
            if key in params and not _same_type(params[key], value):
                self.fail(f"params.{spec['family']}.{key}: {value_type(value)} does not match "
                          f"the default of rule {spec['id']} ({value_type(params[key])})")
                continue
            params[key] = value
        spec["params"] = params

    def apply_overrides(self, specs: list[dict]) -> None:
        by_id = {s["id"]: s for s in specs}
        families = {s["family"] for s in specs}
        for key in sorted(self.overrides, key=lambda k: str(k).rpartition(".")[0] in by_id):
            value = self.overrides[key]
            target, _, pname = key.rpartition(".") if isinstance(key, str) else ("", "", "")
            if not target:
                self.fail(f"override {key!r} must be family.param or rule_id.param")
                continue
            if target in by_id:
                hits = [by_id[target]] if pname in by_id[target]["params"] else []
            elif target in families:
                hits = [s for s in specs if s["family"] == target and pname in s["params"]]
            else:
                self.fail(f"override {key!r}: no family or rule {target!r}"
                          f"{suggest(target, [*families, *by_id])}")
                continue
            if not hits:
                scope = [by_id[target]] if target in by_id else specs
                existing = sorted({f"{s['id'] if target in by_id else s['family']}.{p}"
                                   for s in scope for p in s["params"]})
                self.fail(f"override {key!r}: no parameter '{pname}' in {target}"
                          f"{suggest(key, existing)}; parameters that exist: "
                          f"{', '.join(existing) or 'none'}"
                          f"{'' if target in by_id else ' (or <rule id>.<param> for one rule)'}")
            if hits and (problem := param_value_problem(pname, value)) is not None:
                self.fail(f"override {key!r}: {problem}")
                continue
            for spec in hits:
                if not _same_type(spec["params"][pname], value):
                    self.fail(f"override {key!r}: expected {value_type(spec['params'][pname])}, "
                              f"got {value!r}")
                    break
                spec["params"][pname] = value

    def compile(self, spec: dict) -> Rule | None:
        where, params = spec["where"], MappingProxyType(spec["params"])
        self.schema = self.schemas[spec["subject"]]
        area = spec["area"]
        if area is not None and self.schema.get(area) != "number":
            hint = f" (it is {self.schema[area]})" if area in self.schema else suggest(
                area, [k for k, v in self.schema.items() if v == "number"])
            self.fail(f"{where}area '{area}' must be a number fact{hint}")
        for lang in ("zh", "en"):
            self.placeholders(spec[f"reason_{lang}"], spec["params"], f"{where}reason_{lang}")
        try:
            cond = compile_expr(spec["when"], schema=self.schema, params=params,
                                where=f"{where}when")
        except ExprError as err:
            self.fail(str(err))
            return None
        return Rule(spec["id"], spec["family"], spec["verdict"], spec["reason_zh"],
                    spec["reason_en"], spec["cites"], cond, area, params, spec["subject"],
                    spec["official_class"], spec["official_subclass"])

    def placeholders(self, template: str, params: Mapping[str, Any], where: str) -> None:
        for m in _PLACEHOLDER_RE.finditer(template):
            if m.group() in ("{{", "}}"):
                continue
            name = m.group(1)
            if name is None:
                self.fail(f"{where}: unmatched '{m.group()}' (write '{{{{' or '}}}}' for a brace)")
                continue
            try:
                expr = compile_expr(name, schema=self.schema, params=params, want=None)
                if not isinstance(expr.tree, Name):
                    raise ExprError("only a fact, param.<name> or run.<name> may be used")
            except ExprError as err:
                self.fail(f"{where}: placeholder {{{name}}}: {err.reason}")


def _same_type(old: Any, new: Any) -> bool:
    a, b = value_type(old), value_type(new)
    return b is not None and (a == b or ("list[null]" in (a, b) and a[:5] == b[:5] == "list["))


# --------------------------------------------------------------------------- helpers

def render_reason(template: str, values: Mapping[str, Any]) -> str:
    """Fill ``{name}`` placeholders from ``values`` (no format specs, no attribute access).

    >>> render_reason("批准日期{d}，面积{a}平方米 {{x}}", {"d": date(2023, 5, 31), "a": 12.345})
    '批准日期2023-05-31，面积12.35平方米 {x}'
    """
    def fill(m: re.Match) -> str:
        if m.group(1) is None:
            return m.group()[0]
        return _text(values.get(m.group(1)))
    return _PLACEHOLDER_RE.sub(fill, template)


def render_reasons(template: str, columns: pd.DataFrame,
                   scalars: Mapping[str, Any] | None = None, *,
                   texts: dict | None = None) -> list[str]:
    """:func:`render_reason` for every row of ``columns`` at once: each placeholder names a
    column (or a scalar); the texts are the same as row by row. ``texts`` (column name →
    its texts) is filled and reused across calls on the same ``columns``.

    >>> frame = pd.DataFrame({"a": [12.345, float("nan")], "ids": [["A", "B"], []]})
    >>> render_reasons("{a}平方米 {ids} {p} {{x}}", frame, {"p": 5})
    ['12.35平方米 A、B 5 {x}', '?平方米  5 {x}']
    """
    scalars = scalars or {}
    n = len(columns)
    out = np.full(n, "", dtype=object)
    pos = 0
    for m in _PLACEHOLDER_RE.finditer(template):
        out = out + template[pos:m.start()]
        pos = m.end()
        name = m.group(1)
        if name is None:
            out = out + m.group()[0]
        elif name in columns.columns:
            if texts is None or name not in texts:
                text = column_texts(columns[name])
                if texts is not None:
                    texts[name] = text
            else:
                text = texts[name]
            out = out + text
        else:
            out = out + _text(scalars.get(name))
    return (out + template[pos:]).tolist()


def column_texts(values: pd.Series) -> np.ndarray:
    """:func:`_text` of every value (numbers in one pass, dates and text vectorised)."""
    if values.dtype.kind == "f":  # as _text; a comprehension is 2.6× numpy.char's speed
        v = values.to_numpy(dtype=float, na_value=np.nan)
        text = np.array([f"{x:.2f}".rstrip("0").rstrip(".") for x in v.tolist()] + [None],
                        dtype=object)[:-1]
        text[np.isnan(v)] = "?"
        return text
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        return values.astype(object).where(values.notna(), "?").to_numpy(dtype=object)
    if values.dtype.kind == "M":
        return values.dt.strftime("%Y-%m-%d").astype(object).where(values.notna(), "?").to_numpy(
            dtype=object
        )
    return np.array([_text(v) for v in values.tolist()] + [None], dtype=object)[:-1]


def _text(v: Any) -> str:
    if type(v) is str:
        return v
    if isinstance(v, list | tuple):
        if all(type(x) is str for x in v):  # ids, codes: the common case, joined as they are
            return "、".join(v)
        return "、".join(_text(x) for x in v)
    if v is None or (pd.api.types.is_scalar(v) and pd.isna(v)):
        return "?"
    if isinstance(v, date | pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return str(v)


#: Name endings of parameters that measure a size, a span or a share: never negative.
NON_NEGATIVE_SUFFIXES = ("_m2", "_m", "_mu", "_days", "_years", "_pct", "_ratio")


def param_value_problem(name: str, value: Any) -> str | None:
    """Why a parameter value cannot be used, or None (numbers only; bools are not numbers).

    >>> param_value_problem("sliver_m2", 5), param_value_problem("sliver_m2", -1)
    (None, "parameter 'sliver_m2' = -1 must not be negative (its name ends in _m2)")
    >>> param_value_problem("x", 10 ** 400)
    "parameter 'x' = 1000…000 (401 digits) is not a finite number within float range (±1.8e308)"
    """
    values = value if isinstance(value, list | tuple) else [value]
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float):
            continue
        shown = _short_number(v)
        try:
            finite = math.isfinite(float(v))
        except OverflowError:
            finite = False
        if not finite:
            return (f"parameter '{name}' = {shown} is not a finite number within float range "
                    "(±1.8e308)")
        suffix = next((s for s in NON_NEGATIVE_SUFFIXES if name.endswith(s)), None)
        if suffix is not None and v < 0:
            return f"parameter '{name}' = {shown} must not be negative (its name ends in {suffix})"
    return None


def _short_number(v: int | float) -> str:
    text = repr(v)
    if isinstance(v, int) and len(text) > 24:
        digits = len(text.lstrip("-"))
        return f"{text[:4 + text.startswith('-')]}…{text[-3:]} ({digits} digits)"
    return text


def parse_set_option(option: str) -> tuple[str, Any]:
    """Parse a CLI ``--set key=value``; the value is read as TOML, else kept as text.

    >>> parse_set_option("legality.sliver_m2=5"), parse_set_option("x.codes=['01', '02']")
    (('legality.sliver_m2', 5), ('x.codes', ['01', '02']))
    >>> parse_set_option("x.note=no quotes needed")
    ('x.note', 'no quotes needed')
    """
    key, sep, raw = option.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not re.fullmatch(r"[a-z][a-z0-9_]*(\.[A-Za-z0-9_]+)+", key, re.ASCII):
        raise RuleError(f"--set {option!r}: expected family.param=value or rule_id.param=value")
    try:
        doc = tomllib.loads(f"v = {raw}")
    except (tomllib.TOMLDecodeError, RecursionError):
        return key, raw
    return (key, doc["v"]) if list(doc) == ["v"] else (key, raw)


def _version_key(version: str) -> tuple[int, ...]:
    m = _VERSION_RE.fullmatch(version)
    return tuple(int(g or 0) for g in m.groups()) if m else (-1,)


def select_pack_for_year(when: int | date, candidates: Iterable[RulePack]) -> RulePack:
    """The pack in force for a year (or on a date).

    Among packs whose validity overlaps the period, the newest (latest ``valid_from``,
    then highest version) wins; if it does not cover the whole year, the year is split
    between packs and a date must be given instead.
    """
    packs = list(candidates)
    if isinstance(when, datetime):
        when = when.date()
    if isinstance(when, int) and not isinstance(when, bool):
        first, last = date(when, 1, 1), date(when, 12, 31)
    elif isinstance(when, date):
        first = last = when
    else:
        raise TypeError(f"expected a year or a date, not {type(when).__name__}")
    overlap = [p for p in packs
               if p.valid_from <= last and (p.valid_to is None or p.valid_to >= first)]
    listing = ", ".join(f"{p.name} {p.version} ({p.valid_from} – {p.valid_to or '…'})"
                        for p in packs) or "none given"
    if not overlap:
        raise RuleError(f"no rule pack is valid in {when}; candidates: {listing}")
    best = max(overlap, key=lambda p: (p.valid_from, _version_key(p.version)))
    if not (best.covers(first) and best.covers(last)):
        raise RuleError(f"{when} is split between rule packs ({listing}); pass a date instead")
    return best
