"""Rule packs: loading, validation, overrides, evaluation, provenance, hostile files."""

from __future__ import annotations

import builtins
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landcheck.errors import RuleError
from landcheck.rules import (
    RulePack,
    load_pack,
    loads_pack,
    parse_set_option,
    render_reason,
    select_pack_for_year,
)
from landcheck.rules.pack import MAX_PACK_BYTES, MAX_RULES

PACKS = Path(__file__).parent / "data" / "packs"
SCHEMA = {
    "patch_id": "text", "area_m2": "number", "approved_m2": "number", "approval_date": "date",
    "after": "date", "type_category": "text", "classes_hit": "list",
    "permanent_farmland_m2": "number", "photovoltaic": "bool", "road_width_m": "number",
}
RULE_IDS = ["legality.approved", "legality.built_before_approval", "legality.unapproved",
            "legality.photovoltaic_on_farmland", "legality.rural_road",
            "legality.missing_dates", "farmland.permanent"]


def facts() -> pd.DataFrame:
    """Six patches, each built to fire a known set of rules (see EXPECTED)."""
    d = pd.Timestamp
    return pd.DataFrame({
        "type_category": ["construction", "construction", "construction", "photovoltaic",
                          "rural_road", "orchard"],
        "area_m2": [100.0, 100.0, 50.5, 200.0, 80.0, 30.0],
        "approved_m2": [100.0, 40.0, None, 0.0, None, None],
        "approval_date": [d("2023-03-01"), d("2023-08-01"), None, None, None, None],
        "after": [d("2023-06-30")] * 4 + [None, d("2023-06-30")],
        "classes_hit": [["0501"], ["0101"], [], ["0102", "0301"], ["1006"], None],
        "permanent_farmland_m2": [0.0, 30.0, None, 0.0, 0.0, 12.0],
        "photovoltaic": [False, False, False, True, False, None],
        "road_width_m": [None, None, None, None, 6.0, None],
    }, index=pd.Index(["P1", "P2", "P3", "P4", "P5", "P6"], name="JCBH"))


EXPECTED = {  # patch -> rules that fire
    "P1": {"legality.approved"},
    "P2": {"legality.built_before_approval", "legality.unapproved", "farmland.permanent"},
    "P3": {"legality.unapproved"},
    "P4": {"legality.photovoltaic_on_farmland"},
    "P5": {"legality.rural_road", "legality.missing_dates"},
    "P6": {"farmland.permanent"},
}


def fired(table: pd.DataFrame) -> dict[str, set[str]]:
    return {pid: {c for c in table.columns if table.at[pid, c]} for pid in table.index}


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_pack(PACKS / "testpack.toml", schema=SCHEMA)


# ------------------------------------------------------------------------- loading

def test_load_by_path_and_by_name(pack):
    by_name = load_pack("testpack", schema=SCHEMA, builtin_dir=PACKS)
    by_str = load_pack(str(PACKS / "testpack.toml"), schema=SCHEMA)
    assert pack.name == by_name.name == by_str.name == "testpack"
    assert pack.version == "1.2.0"
    assert (pack.valid_from, pack.valid_to) == (date(2023, 1, 1), date(2024, 12, 31))
    assert pack.title == {"zh": "测试规则包", "en": "Test rule pack"}
    assert pack.cites == ("某市自然资源局2023年工作报告",)
    assert [r.id for r in pack.rules] == RULE_IDS
    assert pack.families == ("legality", "farmland")
    assert pack.rules[0].cites == ("《土地管理法》第四十四条",)
    assert pack.rules[0].area == "approved_m2"
    assert pack.rules[0].verdict == "legal"


def test_params_resolve_rule_then_pack(pack):
    # the rule default 0.0 is overridden by [params.legality]; other families untouched
    assert pack.params["legality.approved"]["sliver_m2"] == 1.0
    assert pack.params["legality.unapproved"]["sliver_m2"] == 1.0
    assert dict(pack.params["farmland.permanent"]) == {
        "min_m2": 0, "prohibited": ["orchard", "pond", "construction"]}


def test_unknown_builtin_name_suggests():
    with pytest.raises(RuleError, match=r"no built-in rule pack 'testpak' .*did you mean "
                                        r"'testpack'"):
        load_pack("testpak", schema=SCHEMA, builtin_dir=PACKS)


@pytest.mark.parametrize("where,message", [
    ("missing.toml", "does not exist"),
    (".", "is not a file"),
])
def test_missing_file(tmp_path, where, message):
    with pytest.raises(RuleError, match=message):
        load_pack(tmp_path / where, schema=SCHEMA)


def test_bad_schema():
    with pytest.raises(RuleError, match="schema types"):
        load_pack(PACKS / "testpack.toml", schema={"area_m2": "float"})


# ------------------------------------------------------------------------- evaluation

def test_evaluate_hand_checked(pack):
    frame = facts()
    before = frame.copy()
    table = pack.evaluate(frame)
    pd.testing.assert_frame_equal(frame, before)  # facts are never mutated
    assert list(table.columns) == RULE_IDS
    assert table.index.equals(frame.index)
    assert (table.dtypes == "bool").all()
    assert fired(table) == EXPECTED


def test_evaluate_select(pack):
    sub = pack.select("farmland")
    assert sub.families == ("farmland",)
    assert list(sub.evaluate(facts()).columns) == ["farmland.permanent"]
    assert pack.select(["legality", "farmland"]).rules == pack.rules
    with pytest.raises(RuleError, match="did you mean 'farmland'"):
        pack.select("farmlnd")


def test_evaluate_missing_column(pack):
    with pytest.raises(RuleError, match=r"lacks columns 'road_width_m' .*legality\.rural_road"):
        pack.evaluate(facts().drop(columns="road_width_m"))


def test_evaluate_empty_facts(pack):
    table = pack.evaluate(facts().iloc[:0])
    assert table.shape == (0, len(RULE_IDS))


def test_reasons_render_placeholders(pack):
    rule = pack.rules[1]
    row = facts().loc["P2"].to_dict()
    assert rule.reason(row) == "先建后批（批准日期2023-08-01晚于后时相2023-06-30）"
    assert rule.reason(row, lang="en") == "Built before approval (2023-08-01 after 2023-06-30)"
    assert pack.rules[2].reason(row) == "未批先建，超出容差1平方米"
    assert pack.rules[0].reason({}) == "已批准用地（批准日期?不晚于后时相）"


def test_render_reason_is_not_str_format():
    # attribute access and format specs are not interpreted
    assert render_reason("{a.__class__}{b:>10}", {"a": 1}) == "??"
    assert render_reason("{{literal}} {n}", {"n": [1, 2]}) == "{literal} 1、2"


def test_describe(pack):
    table = pack.describe()
    assert list(table.columns) == ["id", "family", "verdict", "reason_zh", "reason_en", "when",
                                   "params", "cites"]
    assert table["id"].tolist() == RULE_IDS
    assert table.loc[2, "when"] == ("type_category == 'construction' and area_m2 - "
                                    "coalesce(approved_m2, 0) > param.sliver_m2")
    md = pack.describe(markdown=True)
    assert md.splitlines()[0].startswith("| id | family | verdict |")
    assert len(md.splitlines()) == 2 + len(RULE_IDS)


# ------------------------------------------------------------------------- provenance

def test_sha256_and_to_dict(pack):
    path = PACKS / "testpack.toml"
    assert pack.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert load_pack(path, schema=SCHEMA).sha256 == pack.sha256
    record = pack.to_dict()
    json.dumps(record)  # plain data only
    assert record["name"] == "testpack" and record["version"] == "1.2.0"
    assert record["path"] == str(path.resolve())
    assert record["valid_from"] == "2023-01-01"
    assert record["params"]["legality.approved"] == {"sliver_m2": 1.0}


def test_same_text_same_hash(tmp_path):
    text = (PACKS / "testpack.toml").read_text(encoding="utf-8")
    a = loads_pack(text, schema=SCHEMA)
    copy = tmp_path / "copy.toml"
    copy.write_text(text, encoding="utf-8")
    assert a.sha256 == load_pack(copy, schema=SCHEMA).sha256
    assert a.path is None and a.to_dict()["path"] is None


# ------------------------------------------------------------------------- overrides

@pytest.mark.parametrize("overrides,expected", [
    ({"legality.sliver_m2": 60}, {"legality.approved": 60, "legality.unapproved": 60}),
    ({"legality.approved.sliver_m2": 200}, {"legality.approved": 200,
                                            "legality.unapproved": 1.0}),
    ({"legality.sliver_m2": 60, "legality.approved.sliver_m2": 200},
     {"legality.approved": 200, "legality.unapproved": 60}),
])
def test_overrides(overrides, expected):
    pack = load_pack(PACKS / "testpack.toml", schema=SCHEMA, overrides=overrides)
    assert {rid: pack.params[rid]["sliver_m2"] for rid in expected} == expected
    assert pack.to_dict()["overrides"] == overrides


def test_override_changes_verdicts():
    key, value = parse_set_option("legality.sliver_m2=60")
    pack = load_pack(PACKS / "testpack.toml", schema=SCHEMA, overrides={key: value})
    got = fired(pack.evaluate(facts()))
    # P2's 60 m² remainder and P3's 50.5 m² are now within the tolerance
    assert got["P2"] == {"farmland.permanent"}
    assert got["P3"] == set()
    assert got["P1"] == {"legality.approved"}


def test_override_list_parameter():
    pack = load_pack(PACKS / "testpack.toml", schema=SCHEMA,
                     overrides={"farmland.prohibited": ["pond"]})
    got = fired(pack.evaluate(facts()))
    assert "farmland.permanent" not in got["P2"] | got["P6"]


@pytest.mark.parametrize("overrides,message", [
    ({"legality.silver_m2": 5}, "no parameter 'silver_m2' in legality (did you mean "
                                "'legality.sliver_m2'"),
    ({"legality.approved.cover": 5}, "no parameter 'cover' in legality.approved (did you mean "
                                     "'legality.approved.sliver_m2'?); parameters that exist: "
                                     "legality.approved.sliver_m2"),
    ({"roads.max_width_m": 5}, "no family or rule 'roads'"),
    ({"sliver_m2": 5}, "must be family.param or rule_id.param"),
    ({"legality.sliver_m2": "5"}, "expected number, got '5'"),
    ({"legality.sliver_m2": True}, "expected number, got True"),
    ({"farmland.prohibited": "pond"}, "expected list[text], got 'pond'"),
])
def test_bad_overrides(overrides, message):
    with pytest.raises(RuleError) as info:
        load_pack(PACKS / "testpack.toml", schema=SCHEMA, overrides=overrides)
    assert message in str(info.value)
    if "in legality (" in message:
        assert "farmland.min_m2" in str(info.value)
        assert "legality.max_width_m" in str(info.value)
        assert "legality.rural_road.max_width_m" not in str(info.value)


@pytest.mark.parametrize("option,expected", [
    ("legality.sliver_m2=5", ("legality.sliver_m2", 5)),
    (" legality.sliver_m2 = 5.5 ", ("legality.sliver_m2", 5.5)),
    ("legality.approved.sliver_m2=1e3", ("legality.approved.sliver_m2", 1000.0)),
    ("x.since=2023-05-31", ("x.since", date(2023, 5, 31))),
    ("x.codes=['0101', '0102']", ("x.codes", ["0101", "0102"])),
    ("x.flag=true", ("x.flag", True)),
    ("x.name='quoted'", ("x.name", "quoted")),
    ("x.name=plain words", ("x.name", "plain words")),
    ("x.code=0101", ("x.code", "0101")),  # not a valid TOML number: kept as text
    ("x.v=1\ny = 2", ("x.v", "1\ny = 2")),
])
def test_parse_set_option(option, expected):
    assert parse_set_option(option) == expected


@pytest.mark.parametrize("option", ["novalue", "=5", "Bad Key=1", "legality=1"])
def test_parse_set_option_errors(option):
    with pytest.raises(RuleError, match=r"expected family\.param=value"):
        parse_set_option(option)


# ------------------------------------------------------------------------- validation

def test_broken_pack_lists_every_problem():
    with pytest.raises(RuleError) as info:
        load_pack("broken", schema=SCHEMA, builtin_dir=PACKS)
    err = info.value
    expected = [
        "unknown key 'include'",
        "'version' must look like '1.0.0', got 'one'",
        "'valid_from' 2024-01-01 is after 'valid_to' 2023-01-01",
        "params.legalty: no rule has family 'legalty' (did you mean 'legality'?)",
        "rule legality.approved: verdict 'legel' is not one of",
        "rule legality.approved: duplicate id 'legality.approved'",
        "rule legality.approved: area 'type_category' must be a number fact (it is text)",
        "rule legality.approved: reason_zh: placeholder {aproval_date}: unknown fact "
        "'aproval_date' (did you mean 'approval_date'?)",
        "rule legality.approved: when, column 21: unknown fact 'aproved_m2'",
        "rule farmland.outflow: unknown key 'colour'",
        "rule farmland.outflow: id must start with its family 'legality.'",
        "rule farmland.outflow: when, column 13: comparisons cannot be chained",
        "rule farmland.no_reason: missing key 'reason_zh'",
        "rule farmland.no_reason: missing key 'reason_en'",
        "rule farmland.no_reason: unknown key 'reson_en' (did you mean 'reason_en'",
    ]
    for fragment in expected:
        assert any(fragment in p for p in err.problems), fragment
    assert len(err.problems) == len(expected)
    assert str(err).startswith(f"broken.toml: {len(expected)} problems:\n  - ")
    # an expression problem keeps its caret line, indented under the bullet
    assert "\n      approved_m2 > 0 and aproved_m2 >= param.cover_ratio\n" \
           "                          ^" in str(err)


def test_toml_syntax_error_names_line_and_column():
    with pytest.raises(RuleError, match=r"syntax.toml: TOML syntax error: .*\(at line 4, "
                                        r"column 17\)"):
        load_pack("syntax", schema=SCHEMA, builtin_dir=PACKS)


MINIMAL = """
name = "mini"
version = "0.1"
valid_from = 2023-01-01
title_zh = "小"
title_en = "Mini"
{extra}
[[rules]]
id = "x.one"
family = "x"
verdict = "other"
reason_zh = "一"
reason_en = "one"
when = "{when}"
{rule_extra}
"""


def mini(when="area_m2 > 0", extra="", rule_extra="", **kw) -> RulePack:
    return loads_pack(MINIMAL.format(when=when, extra=extra, rule_extra=rule_extra),
                      schema=SCHEMA, **kw)


def test_minimal_pack():
    pack = mini()
    assert pack.valid_to is None and pack.rules[0].params == {}


@pytest.mark.parametrize("extra,rule_extra,message", [
    ('valid_to = "2024-12-31"', "", "'valid_to' must be a TOML date like 2024-12-31, got "
                                    "'2024-12-31' (write TOML dates without quotes)"),
    ("valid_to = 2024-12-31T10:00:00", "", "'valid_to' must be a TOML date"),
    ("cites = 5", "", "'cites' must be text or a list of texts"),
    ("params = 5", "", "'params' must be tables like [params.legality]"),
    ("[params.x]\nn = 'a'", "params = { n = 1 }",
     "params.x.n: text does not match the default of rule x.one (number)"),
    ("", "params = { n = { deep = 1 } }", "parameter 'n' = {'deep': 1} must be a number"),
    ("", "params = { 'a b' = 1 }", "parameter name 'a b' is not a plain name"),
    ("", "params = { n = [1, 'a'] }", "must be a number, text, date"),
    ("", 'area = "nope"', "area 'nope' must be a number fact"),
    ("", 'reason_en = "x"', "Cannot overwrite a value"),  # duplicate key: TOML error
])
def test_pack_problems(extra, rule_extra, message):
    with pytest.raises(RuleError) as info:
        mini(extra=extra, rule_extra=rule_extra)
    assert message in str(info.value)


@pytest.mark.parametrize("template,message", [
    ("{param.nope}", "placeholder {param.nope}: unknown parameter 'param.nope'"),
    ("{area_m2 + 1}", "placeholder {area_m2 + 1}: only a fact"),
    ("{0.__class__}", "placeholder {0.__class__}: unexpected token '.'"),
    ("{}", "placeholder {}: expression is empty"),
    ("x } y", "unmatched '}'"),
])
def test_bad_placeholders(template, message):
    text = MINIMAL.format(when="area_m2 > 0", extra="", rule_extra="")
    text = text.replace('reason_zh = "一"', f"reason_zh = {json.dumps(template)}")
    with pytest.raises(RuleError) as info:
        loads_pack(text, schema=SCHEMA)
    assert message in str(info.value)


def test_ids_and_families():
    with pytest.raises(RuleError) as info:
        loads_pack(MINIMAL.format(when="true", extra="", rule_extra="")
                   .replace('id = "x.one"', 'id = "X One"')
                   .replace('family = "x"', 'family = "X"'), schema=SCHEMA)
    text = str(info.value)
    assert "id must look like 'family.name'" in text
    assert "family must be a lowercase name" in text


def test_no_rules():
    text = MINIMAL.split("[[rules]]")[0].format(extra="")
    with pytest.raises(RuleError, match="the pack has no rules"):
        loads_pack(text + "rules = []\n", schema=SCHEMA)
    with pytest.raises(RuleError, match="missing key 'rules'"):
        loads_pack(text, schema=SCHEMA)


def test_run_constants_in_a_pack():
    pack = mini(when="days_between(after, run.reference_date) > 365")
    frame = facts()
    with pytest.raises(RuleError, match=r"run\.reference_date"):
        pack.evaluate(frame)
    table = pack.evaluate(frame, run={"reference_date": "2024-07-01"})
    assert table["x.one"].tolist() == [True, True, True, True, False, True]


# ------------------------------------------------------------------------- hostile files

def test_huge_file_refused_quickly(tmp_path):
    path = tmp_path / "huge.toml"
    with path.open("wb") as fh:
        fh.write(b"# padding\n" * 2_000_000)  # 20 MB
    start = time.perf_counter()
    with pytest.raises(RuleError, match="larger than"):
        load_pack(path, schema=SCHEMA)
    assert time.perf_counter() - start < 1.0
    with pytest.raises(RuleError, match="larger than"):
        loads_pack("#" * (MAX_PACK_BYTES + 1), schema=SCHEMA)


def test_too_many_rules():
    rule = MINIMAL.split("\n", 7)[-1]
    text = MINIMAL.format(when="true", extra="", rule_extra="") + "".join(
        rule.format(when="true", rule_extra="").replace('"x.one"', f'"x.r{i}"')
        for i in range(MAX_RULES))
    with pytest.raises(RuleError, match=f"the limit is {MAX_RULES}"):
        loads_pack(text, schema=SCHEMA)


@pytest.mark.parametrize("raw,message", [
    (b"a = " + b"[" * 200_000 + b"]" * 200_000, "larger than|nested too deeply"),
    (b"a = " + b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b"name = \"\xff\xfe\"", "not UTF-8"),
    (b"name = \"a\x00b\"", "TOML syntax error"),
    (b"\x00" * 1000, "TOML syntax error"),
])
def test_hostile_bytes(tmp_path, raw, message):
    path = tmp_path / "evil.toml"
    path.write_bytes(raw)
    with pytest.raises(RuleError, match=message):
        load_pack(path, schema=SCHEMA)


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (PACKS / "testpack.toml").read_bytes())
    assert load_pack(path, schema=SCHEMA).name == "testpack"


EVIL = """
name = "evil"
version = "6.6.6"
valid_from = 2023-01-01
title_zh = "恶意"
title_en = "Evil"
include = "/etc/passwd"

[[rules]]
id = "x.evil"
family = "x"
verdict = "illegal"
reason_zh = "{0.__class__.__init__.__globals__}"
reason_en = "{__import__}"
when = "__import__('os').system('touch PWNED')"

[[rules]]
id = "x.data_only"
family = "x"
verdict = "other"
reason_zh = "文本"
reason_en = "text"
when = "type_category == \\"__import__('os').system('touch PWNED')\\""
"""


def test_evil_pack_is_rejected(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuleError) as info:
        loads_pack(EVIL, schema=SCHEMA)
    assert len(info.value.problems) == 4
    assert "unknown key 'include'" in str(info.value)
    assert not list(tmp_path.iterdir())


class _Audit:
    """Records risky audit events while active (an audit hook cannot be removed)."""

    RISKY = ("open", "exec", "compile", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
             "os.fork", "subprocess.Popen", "socket.connect", "ctypes.dlopen",
             "pickle.find_class", "marshal.loads", "os.remove", "os.rename", "shutil.rmtree")
    events: ClassVar[list] = []
    active = False
    installed = False

    @classmethod
    def hook(cls, event, args):
        if cls.active and event in cls.RISKY:
            cls.events.append((event, args[0] if args else None))

    @classmethod
    def install(cls):
        if not cls.installed:
            sys.addaudithook(cls.hook)
            cls.installed = True


def test_loading_and_evaluating_runs_nothing(tmp_path, monkeypatch):
    path = tmp_path / "pack.toml"
    path.write_text(EVIL.replace("include = \"/etc/passwd\"\n", "").split("[[rules]]", 1)[0]
                    + "[[rules]]" + EVIL.split("[[rules]]")[2], encoding="utf-8")
    frame = facts().assign(type_category="__import__('os').system('touch PWNED')")
    load_pack(path, schema=SCHEMA).evaluate(frame)  # warm up lazy imports

    def forbidden(*args, **kwargs):
        raise AssertionError(f"forbidden call {args!r}")

    for target, name in [(builtins, "eval"), (builtins, "exec"), (builtins, "compile"),
                         (builtins, "open"), (os, "system"),
                         (os, "popen"), (subprocess, "Popen")]:
        monkeypatch.setattr(target, name, forbidden)
    _Audit.install()
    _Audit.events.clear()
    _Audit.active = True
    try:
        pack = load_pack(path, schema=SCHEMA)
        table = pack.evaluate(frame)
    finally:
        _Audit.active = False
    monkeypatch.undo()
    assert table["x.data_only"].all()
    opened = [(e, a) for e, a in _Audit.events if e == "open"]
    assert all(Path(a).resolve() == path.resolve() for _, a in opened), opened
    assert len(opened) == 1
    assert [ev for ev in _Audit.events if ev[0] != "open"] == []


# ------------------------------------------------------------------------- by year

@pytest.fixture(scope="module")
def packs(pack):
    reform = load_pack(PACKS / "reform2025.toml", schema=SCHEMA)
    return pack, reform


@pytest.mark.parametrize("when,expected", [
    (2023, "testpack"), (2024, "testpack"), (2025, "reform2025"), (2040, "reform2025"),
    (date(2024, 12, 31), "testpack"), (date(2025, 1, 1), "reform2025"),
])
def test_select_pack_for_year(packs, when, expected):
    assert select_pack_for_year(when, packs).name == expected


def test_select_pack_no_match_or_split(packs):
    old, reform = packs
    with pytest.raises(RuleError, match=r"no rule pack is valid in 2022; candidates: testpack "
                                        r"1\.2\.0 \(2023-01-01 – 2024-12-31\)"):
        select_pack_for_year(2022, packs)
    mid = dataclasses.replace(reform, valid_from=date(2024, 7, 1))
    with pytest.raises(RuleError, match="2024 is split between rule packs"):
        select_pack_for_year(2024, [old, mid])
    assert select_pack_for_year(date(2024, 3, 1), [old, mid]) is old
    assert select_pack_for_year(date(2024, 7, 1), [old, mid]) is mid
    newer = dataclasses.replace(old, version="1.10.0")
    assert select_pack_for_year(2023, [old, newer]) is newer
    with pytest.raises(TypeError):
        select_pack_for_year("2023", packs)  # type: ignore[arg-type]


def test_rule_evaluate(pack):
    rule = pack.rules[4]
    out = rule.evaluate(facts())
    assert out.name == "legality.rural_road"
    assert out.tolist() == [False, False, False, False, True, False]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_fuzz_pack_text(text):
    try:
        loads_pack(text, schema=SCHEMA)
    except RuleError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.text(max_size=20), st.text(max_size=40))
def test_fuzz_pack_fields(when, verdict, reason):
    text = (MINIMAL.format(when="area_m2 > 0", extra="", rule_extra="")
            .replace('when = "area_m2 > 0"', f"when = {json.dumps(when)}")
            .replace('verdict = "other"', f"verdict = {json.dumps(verdict)}")
            .replace('reason_en = "one"', f"reason_en = {json.dumps(reason)}"))
    try:
        pack = loads_pack(text, schema=SCHEMA)
    except RuleError:
        return
    assert pack.evaluate(facts()).shape == (6, 1)


def test_rules_can_judge_other_subjects():
    """A rule with `subject` is checked against that subject's schema and evaluated alone."""
    from landcheck.rules import loads_pack

    text = """
name = "subjects"
version = "1.0.0"
valid_from = 2023-01-01
title_zh = "主体"
title_en = "subjects"
[[rules]]
id = "legality.big"
family = "legality"
verdict = "illegal"
reason_zh = "大"
reason_en = "big"
when = "area_m2 > 10"
[[rules]]
id = "projects.misplaced"
family = "projects"
subject = "projects"
verdict = "illegal"
reason_zh = "区外{outside_m2}"
reason_en = "outside {outside_m2}"
area = "outside_m2"
when = "outside_m2 > 0"
"""
    schemas = {"patches": {"area_m2": "number"}, "projects": {"outside_m2": "number"}}
    pack = loads_pack(text, schema=schemas)
    assert pack.subjects == ("patches", "projects")
    got = pack.evaluate(pd.DataFrame({"outside_m2": [0.0, 5.0]}), subject="projects")
    assert list(got.columns) == ["projects.misplaced"]
    assert got["projects.misplaced"].tolist() == [False, True]
    assert list(pack.evaluate(pd.DataFrame({"area_m2": [11.0]})).columns) == ["legality.big"]
    with pytest.raises(RuleError, match="unknown fact 'area_m2'"):
        loads_pack(text.replace("outside_m2 > 0", "area_m2 > 0"), schema=schemas)
    with pytest.raises(RuleError, match="subject 'plots' is not one of patches, projects"):
        loads_pack(text.replace('subject = "projects"', 'subject = "plots"'), schema=schemas)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                          st.sampled_from([0.005, 0.015, 12.345, 2.0, -0.0, 1e20, 99.995])),
                min_size=1, max_size=30))
def test_reasons_render_numbers_the_same_whole_column_or_one_by_one(values):
    from landcheck.rules.pack import _text, render_reasons

    frame = pd.DataFrame({"a": pd.Series(values, dtype=float)})
    assert render_reasons("{a}平方米", frame) == [f"{_text(v)}平方米" for v in values]


def test_reasons_in_both_languages_format_each_value_once(monkeypatch):
    from landcheck.rules import pack as pack_module

    frame = pd.DataFrame({"a": [12.345, 3.0], "ids": [["A", "B"], []]})
    calls = []
    real = pack_module.column_texts
    monkeypatch.setattr(pack_module, "column_texts", lambda v: calls.append(v.name) or real(v))
    texts: dict = {}
    zh = pack_module.render_reasons("{a}平方米 {ids}", frame, texts=texts)
    en = pack_module.render_reasons("{a} m² {ids} {a}", frame, texts=texts)
    assert zh == ["12.35平方米 A、B", "3平方米 "] and en == ["12.35 m² A、B 12.35", "3 m²  3"]
    assert calls == ["a", "ids"]
