"""A small, safe expression language for rule conditions.

Rules never touch geometry: a condition is a formula over the columns of a *facts
table* (one row per patch). Text is tokenised and parsed by hand into an immutable
tree, type-checked against the facts schema and the rule's parameters, then
evaluated column-wise with pandas. Nothing in the text is ever handed to Python:
no ``eval``/``exec``/``compile``, no attribute access, no imports, no file access.

Grammar (precedence as in Python, loosest first)::

    expr     := expr "or" expr | expr "and" expr | "not" expr
              | sum [cmp sum]                      # one comparison: no chaining
    cmp      := "<" | "<=" | ">" | ">=" | "==" | "!=" | "in" | "not" "in"
    sum      := sum ("+" | "-") term | term
    term     := term ("*" | "/") unary | unary
    unary    := "-" unary | primary
    primary  := NUMBER | STRING | "true" | "false" | "null"
              | "date" "(" STRING ")"              # date('2023-05-31')
              | NAME "(" [expr ("," expr)*] ")"    # whitelisted functions only
              | "param" "." NAME | "run" "." NAME | NAME
              | "[" [literal ("," literal)* [","]] "]"
              | "(" expr ")"
    NUMBER   := 12 | 1_000 | 0.5 | 1e3             STRING := '...' | "..." (\\' \\" \\\\ only)

Types are ``number``, ``text``, ``date``, ``bool``, ``list[text]`` (list columns,
e.g. the land classes a patch hits) and ``null``; constant lists are
``list[number]``, ``list[text]``, ``list[date]`` or ``list[bool]``.

Null semantics: arithmetic, comparisons, ``in`` and functions other than
``isnull``/``notnull``/``coalesce`` give null when an operand is null; division by
zero gives null; ``and``/``or``/``not`` follow Kleene logic (``null and false`` is
false, ``null or true`` is true). A condition that evaluates to null **does not
fire** — test for missing facts explicitly with ``isnull(x)``.

Examples
--------
>>> import pandas as pd
>>> e = compile_expr("area_m2 > param.min_m2 and isnull(after)",
...                  schema={"area_m2": "number", "after": "date"}, params={"min_m2": 10})
>>> facts = pd.DataFrame({"area_m2": [5.0, 50.0, None], "after": [None, None, None]})
>>> e.fires(facts, params={"min_m2": 10}).tolist()
[False, True, False]
"""

from __future__ import annotations

import difflib
import keyword
import operator
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from landcheck.errors import RuleError

__all__ = [
    "FUNCTIONS", "MAX_LENGTH", "MAX_LIST", "MAX_NESTING", "MAX_TREE_DEPTH", "RUN_CONSTANTS",
    "SCHEMA_TYPES", "Binary", "Call", "Expr", "ExprError", "Function", "ListLit", "Lit", "Name",
    "Node", "Unary", "compile_expr", "parse", "value_type",
]

MAX_LENGTH = 4000  #: characters in one expression
MAX_NESTING = 64  #: nested parentheses / unary operators / calls
MAX_TREE_DEPTH = 128  #: depth of the parsed tree (long operator chains)
MAX_LIST = 1000  #: items in a list literal
SCHEMA_TYPES = ("number", "text", "date", "bool", "list")
#: Constants of a run, usable as ``run.<name>``.
RUN_CONSTANTS = MappingProxyType({"reference_date": "date", "year": "number"})
_SCHEMA_TO_TYPE = {"list": "list[text]"}
_DTYPES = {"number": "Float64", "text": "string", "date": "datetime64[s]", "bool": "boolean"}


class ExprError(RuleError):
    """An expression cannot be parsed or type-checked; says where, with a caret line."""

    def __init__(self, reason: str, expression: str = "", pos: int = 0, where: str = ""):
        self.reason, self.expression, self.pos, self.where = reason, expression, pos, where
        self.line, self.column, caret = _caret(expression, pos)
        at = f"line {self.line}, column {self.column}" if "\n" in expression else (
            f"column {self.column}")
        head = f"{where}, {at}: {reason}" if where else f"{at}: {reason}"
        super().__init__(f"{head}\n{caret}" if expression else head)


class _Fail(Exception):
    def __init__(self, pos: int, reason: str):
        super().__init__(reason)
        self.pos, self.reason = pos, reason


def _caret(text: str, pos: int) -> tuple[int, int, str]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line, col = text[start:len(text) if end < 0 else end], pos - start
    if len(line) > 100:
        lo = max(0, col - 60)
        line, col = line[lo:lo + 100], col - lo
    line = "".join(c if c.isprintable() or c == "\t" else "?" for c in line)
    pad = "".join("\t" if c == "\t" else "  " if unicodedata.east_asian_width(c) in "WF"
                  else " " for c in line[:col])
    return text.count("\n", 0, pos) + 1, pos - start + 1, f"  {line}\n  {pad}^"


# --------------------------------------------------------------------------- tokens

@dataclass(frozen=True)
class _Tok:
    kind: str  # num | str | name | op | end
    text: str
    pos: int
    value: Any = None


_TOKEN_RE = re.compile(
    r"(?P<ws>\s+)|(?P<num>\d+(?:_\d+)*(?:\.\d+(?:_\d+)*)?(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_]\w*)|(?P<quote>['\"])"
    r"|(?P<op><=|>=|==|!=|\*\*|//|&&|\|\||[-+*/<>()\[\],.=!%&|])", re.ASCII)
_BAD_OPS = {"**": "powers are not supported", "//": "use '/'", "%": "not supported",
            "=": "use '==' to compare", "!": "use 'not' or '!='", "&&": "use 'and'",
            "||": "use 'or'", "&": "use 'and'", "|": "use 'or'"}
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _tokenize(text: str) -> list[_Tok]:
    if len(text) > MAX_LENGTH:
        raise _Fail(MAX_LENGTH, f"expression is {len(text)} characters long; the limit is "
                                f"{MAX_LENGTH}")
    bad = _BAD_CHARS.search(text)
    if bad:
        raise _Fail(bad.start(), f"control character U+{ord(bad.group()):04X} not allowed")
    toks, pos = [], 0
    try:
        while pos < len(text):
            tok = _next_token(text, pos)
            if tok.kind != "ws":
                toks.append(tok)
            pos += len(tok.text)
    except _Fail as fail:  # reported when the parser reaches it: errors come left to right
        toks.append(_Tok("error", "", fail.pos, fail.reason))
    toks.append(_Tok("end", "", len(text)))
    return toks


def _next_token(text: str, pos: int) -> _Tok:
    m = _TOKEN_RE.match(text, pos)
    if m is None:
        raise _Fail(pos, _unexpected_char(text[pos]))
    kind, tok_text = m.lastgroup, m.group()
    if kind == "quote":
        tok_text, value = _read_string(text, pos)
        return _Tok("str", tok_text, pos, value)
    if kind == "num":
        return _Tok("num", tok_text, pos, _number(tok_text, pos))
    if kind == "op" and tok_text in _BAD_OPS:
        raise _Fail(pos, f"unexpected token '{tok_text}' ({_BAD_OPS[tok_text]})")
    return _Tok(kind, tok_text, pos)


def _unexpected_char(c: str) -> str:
    hint = unicodedata.normalize("NFKC", c)
    ok = hint != c and hint.isascii() and hint.isprintable()
    hint = f"; did you mean '{hint}'?" if ok else ""
    return f"unexpected character {c!r} (U+{ord(c):04X}{hint})"


def _read_string(text: str, start: int) -> tuple[str, str]:
    quote, out, i = text[start], [], start + 1
    while i < len(text):
        c = text[i]
        if c == quote:
            return text[start:i + 1], "".join(out)
        if c == "\\":
            nxt = text[i + 1:i + 2]
            if nxt not in ("'", '"', "\\"):
                raise _Fail(i, "only \\' \\\" and \\\\ escapes are allowed in text")
            out.append(nxt)
            i += 2
            continue
        out.append(c)
        i += 1
    raise _Fail(start, "text is not closed (missing quote)")


def _number(tok: str, pos: int) -> int | float:
    if len(tok) > 40:
        raise _Fail(pos, "number too long")
    value = int(tok) if tok.replace("_", "").isdigit() else float(tok)
    if isinstance(value, float) and not np.isfinite(value):
        raise _Fail(pos, "number out of range")
    return value


# --------------------------------------------------------------------------- tree

@dataclass(frozen=True, eq=False)
class Node:
    """Base of the expression tree; ``pos`` is the 0-based character offset."""

    pos: int


@dataclass(frozen=True, eq=False)
class Lit(Node):
    value: Any
    type: str


@dataclass(frozen=True, eq=False)
class ListLit(Node):
    items: tuple[Lit, ...]


@dataclass(frozen=True, eq=False)
class Name(Node):
    kind: str  # fact | param | run
    name: str

    @property
    def ref(self) -> str:
        return self.name if self.kind == "fact" else f"{self.kind}.{self.name}"


@dataclass(frozen=True, eq=False)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True, eq=False)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, eq=False)
class Call(Node):
    name: str
    args: tuple[Node, ...]


_CMP = ("<", "<=", ">", ">=", "==", "!=")
_BP = {"or": 1, "and": 2, **dict.fromkeys((*_CMP, "in", "not in"), 4),
       "+": 5, "-": 5, "*": 6, "/": 6}
_NOT_BP, _NEG_BP = 3, 7
_WORDS = {"true": (True, "bool"), "false": (False, "bool"), "null": (None, "null")}
_PY_WORDS = {"True": "true", "False": "false", "None": "null"}
_TOKEN_HINTS = {".": " (only param.<name> and run.<name> use a dot)",
                "[": " (subscripts are not supported)", "(": " (only functions can be called)"}


class _Parser:
    def __init__(self, text: str):
        self.toks, self.i, self.nesting = _tokenize(text), 0, 0

    def peek(self, k: int = 0) -> _Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        if tok.kind == "error":
            raise _Fail(tok.pos, tok.value)
        self.i += tok.kind != "end"
        return tok

    def expect(self, text: str) -> _Tok:
        tok = self.take()
        if tok.text != text or tok.kind not in ("op", "name"):
            raise _Fail(tok.pos, f"expected '{text}', found {_describe(tok)}")
        return tok

    def parse(self) -> Node:
        node = self.expr(0)
        tok = self.peek()
        if tok.kind == "error":
            self.take()
        if tok.kind != "end":
            raise _Fail(tok.pos, f"unexpected token {_describe(tok)}"
                                 f"{_TOKEN_HINTS.get(tok.text, '') if tok.kind == 'op' else ''}")
        return node

    def binary_op(self) -> tuple[str | None, int]:
        tok = self.peek()
        if tok.kind == "name" and tok.text == "not" and self.peek(1).text == "in":
            return "not in", 2
        if tok.kind in ("op", "name") and tok.text in _BP:
            return tok.text, 1
        return None, 0

    def expr(self, min_bp: int) -> Node:
        left, compared = self.prefix(), False
        while True:
            op, width = self.binary_op()
            if op is None or _BP[op] <= min_bp:
                return left
            pos = self.peek().pos
            if _BP[op] == 4:
                if compared:
                    raise _Fail(pos, "comparisons cannot be chained; join them with 'and'")
                compared = True
            self.i += width
            left = Binary(pos, op, left, self.expr(_BP[op]))

    def prefix(self) -> Node:
        tok = self.take()
        self.nesting += 1
        try:
            if self.nesting > MAX_NESTING:
                raise _Fail(tok.pos, f"expression nested too deeply (limit {MAX_NESTING})")
            return self.primary(tok)
        finally:
            self.nesting -= 1

    def primary(self, tok: _Tok) -> Node:
        if tok.kind == "num":
            return Lit(tok.pos, tok.value, "number")
        if tok.kind == "str":
            return Lit(tok.pos, tok.value, "text")
        if tok.kind == "name":
            return self.word(tok)
        if tok.text == "-":
            operand = self.expr(_NEG_BP)
            if isinstance(operand, Lit) and operand.type == "number":
                return Lit(tok.pos, -operand.value, "number")
            return Unary(tok.pos, "-", operand)
        if tok.text == "(":
            node = self.expr(0)
            self.expect(")")
            return node
        if tok.text == "[":
            return self.list_literal(tok)
        raise _Fail(tok.pos, f"unexpected token {_describe(tok)}")

    def word(self, tok: _Tok) -> Node:
        word = tok.text
        if word in _WORDS:
            return Lit(tok.pos, *_WORDS[word])
        if word == "not":
            return Unary(tok.pos, "not", self.expr(_NOT_BP))
        if word in _PY_WORDS:
            raise _Fail(tok.pos, f"unexpected token '{word}' (write {_PY_WORDS[word]})")
        if keyword.iskeyword(word) or word.startswith("__") or word in ("and", "or", "in"):
            raise _Fail(tok.pos, f"unexpected token '{word}'")
        if word in ("param", "run"):
            self.expect(".")
            name = self.take()
            if name.kind != "name":
                raise _Fail(name.pos, f"expected a name after '{word}.'")
            return Name(tok.pos, word, name.text)
        if self.peek().text == "(":
            return self.call(tok)
        return Name(tok.pos, "fact", word)

    def call(self, tok: _Tok) -> Node:
        self.take()
        if tok.text == "date":
            arg = self.take()
            self.expect(")")
            return Lit(tok.pos, _parse_date(arg), "date")
        args: list[Node] = []
        while self.peek().text != ")":
            args.append(self.expr(0))
            if self.peek().text != ",":
                break
            self.take()
        self.expect(")")
        return Call(tok.pos, tok.text, tuple(args))

    def list_literal(self, tok: _Tok) -> Node:
        items: list[Lit] = []
        while self.peek().text != "]":
            item = self.expr(0)
            if not isinstance(item, Lit) or item.type == "null":
                raise _Fail(item.pos, "list items must be literal numbers, text, dates or "
                                      "true/false")
            if len(items) >= MAX_LIST:
                raise _Fail(item.pos, f"list longer than {MAX_LIST} items")
            items.append(item)
            if self.peek().text != ",":
                break
            self.take()
        self.expect("]")
        return ListLit(tok.pos, tuple(items))


def _describe(tok: _Tok) -> str:
    if tok.kind == "end":
        return "end of expression"
    return f"text {tok.text}" if tok.kind == "str" else f"'{tok.text}'"


def _parse_date(tok: _Tok) -> pd.Timestamp:
    if tok.kind != "str":
        raise _Fail(tok.pos, "date() takes a literal like date('2023-05-31')")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", tok.value, re.ASCII):
        raise _Fail(tok.pos, f"not a date {tok.text}: write date('YYYY-MM-DD')")
    try:
        return pd.Timestamp(date.fromisoformat(tok.value))
    except ValueError:
        raise _Fail(tok.pos, f"not a valid date {tok.text}") from None


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Binary):
        return node.left, node.right
    if isinstance(node, Unary):
        return (node.operand,)
    return node.args if isinstance(node, Call) else ()


def _check_depth(root: Node) -> None:
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise _Fail(node.pos, f"expression too deep (more than {MAX_TREE_DEPTH} levels of "
                                  "operators)")
        stack.extend((child, depth + 1) for child in _children(node))


def parse(text: str) -> Node:
    """Parse ``text`` into a tree; every failure is an :class:`ExprError`.

    >>> parse("a + 1 > 2").op
    '>'
    """
    if not isinstance(text, str):
        raise ExprError(f"expression must be text, not {type(text).__name__}")
    if not text.strip():
        raise ExprError("expression is empty")
    try:
        tree = _Parser(text).parse()
        _check_depth(tree)
    except _Fail as fail:
        raise ExprError(fail.reason, text, fail.pos) from None
    return tree


# --------------------------------------------------------------------------- functions

@dataclass(frozen=True)
class Function:
    """A whitelisted function: argument names and types, return type, implementation.

    Argument types: a type name, alternatives joined by ``|``, ``any``, or a generic
    letter (``T`` any scalar type, ``O`` number/text/date) shared by all arguments
    using it. A leading ``=`` means the argument must be a literal or a parameter.
    """

    name: str
    args: tuple[tuple[str, str], ...]
    ret: str
    impl: Callable[..., pd.Series]
    doc: str

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(f'{a}: {t}' for a, t in self.args)}) -> {self.ret}"


_GENERIC = {"T": ("number", "text", "date", "bool"), "O": ("number", "text", "date")}
_NULL_OK = ("isnull", "notnull", "coalesce")
MAX_DAYS = 3_660_000  # about 10,000 years; larger offsets give null


def _finite_ints(n: pd.Series, limit: float) -> tuple[np.ndarray, np.ndarray]:
    x = n.to_numpy(dtype="float64", na_value=np.nan)
    ok = np.isfinite(x) & (np.abs(x) <= limit)
    return np.where(ok, np.trunc(x), 0).astype("int64"), ok


def _days(d: pd.Series) -> np.ndarray:
    return d.to_numpy(dtype="datetime64[D]")


def _dates(arr: np.ndarray, like: pd.Series, ok: Any = True) -> pd.Series:
    arr = np.where(ok, arr, np.datetime64("NaT"))
    return pd.Series(arr.astype("datetime64[s]"), index=like.index)


def _add_days(d: pd.Series, n: pd.Series) -> pd.Series:
    k, ok = _finite_ints(n, MAX_DAYS)
    return _dates(_days(d) + k.astype("timedelta64[D]"), d, ok)


def _add_months(d: pd.Series, n: pd.Series, factor: int = 1) -> pd.Series:
    k, ok = _finite_ints(n, MAX_DAYS / 30 / factor)
    days = _days(d)
    first = days.astype("datetime64[M]")
    target = first + (k * factor).astype("timedelta64[M]")
    start = target.astype("datetime64[D]")
    length = (target + 1).astype("datetime64[D]") - start
    offset = np.minimum(days - first.astype("datetime64[D]"), length - np.timedelta64(1, "D"))
    return _dates(start + offset, d, ok & ~np.isnat(days))


def _period_end(unit: str) -> Callable[[pd.Series], pd.Series]:
    def impl(d: pd.Series) -> pd.Series:
        nxt = (_days(d).astype(f"datetime64[{unit}]") + 1).astype("datetime64[D]")
        return _dates(nxt - np.timedelta64(1, "D"), d)
    return impl


def _items(v: Any) -> tuple[str, ...] | None:
    if isinstance(v, str):
        return (v,)
    if isinstance(v, list | tuple | set | frozenset | np.ndarray | pd.api.extensions.ExtensionArray
                  ):
        return tuple(str(x) for x in v if not (np.ndim(x) == 0 and pd.isna(x)))
    return None


def _map_list(s: pd.Series, fn: Callable[[tuple[str, ...]], bool]) -> pd.Series:
    def one(v: Any) -> bool | None:
        items = _items(v)
        return None if items is None else fn(items)
    return s.map(one).astype("boolean")


def _prefixes(p: Any) -> tuple[str, ...]:
    return (p,) if isinstance(p, str) else tuple(p)


def _pick(take_first: Callable[[Any, Any], Any]) -> Callable[..., pd.Series]:
    def impl(a: pd.Series, b: pd.Series) -> pd.Series:
        first = take_first(a, b).astype("boolean").fillna(False).astype(bool)
        return a.where(first, b).mask(a.isna() | b.isna())
    return impl


def _contains(s: pd.Series, parts: tuple[str, ...]) -> pd.Series:
    out = pd.Series(False, index=s.index, dtype="boolean")
    for part in parts:
        out = out | s.str.contains(part, regex=False).astype("boolean")
    return out.mask(s.isna())


def _between(x: pd.Series, low: pd.Series, high: pd.Series) -> pd.Series:
    inside = _compare(">=", x, low) & _compare("<=", x, high)
    return inside.mask(x.isna() | low.isna() | high.isna())


_FUNC_TABLE: list[tuple[str, Callable[..., pd.Series], str]] = [
    ("isnull(x: any) -> bool", lambda x: x.isna().astype("boolean"), "true where x is null"),
    ("notnull(x: any) -> bool", lambda x: x.notna().astype("boolean"), "true where x is not null"),
    ("coalesce(x: T, y: T) -> T", lambda x, y: x.where(x.notna(), y), "x, or y where x is null"),
    ("abs(x: number) -> number", lambda x: x.abs(), "absolute value"),
    ("min(a: O, b: O) -> O", _pick(operator.le), "smaller of a and b"),
    ("max(a: O, b: O) -> O", _pick(operator.ge), "larger of a and b"),
    ("round(x: number, n: =number) -> number",
     lambda x, n: x.round(int(min(max(n, -15), 15))), "x rounded to n decimals"),
    ("between(x: O, low: O, high: O) -> bool", _between, "low <= x <= high"),
    ("startswith(text: text, prefix: =text|list[text]) -> bool",
     lambda s, p: s.str.startswith(_prefixes(p)).astype("boolean"),
     "text starts with the prefix or with one of the prefixes"),
    ("contains(text: text, part: =text|list[text]) -> bool",
     lambda s, p: _contains(s, _prefixes(p)),
     "text contains the part or one of the parts (plain text, no patterns)"),
    ("any_class(classes: list[text], codes: =text|list[text]) -> bool",
     lambda s, p: _map_list(s, lambda items: any(i.startswith(_prefixes(p)) for i in items)),
     "some element of the list column starts with one of the codes"),
    ("has(items: list[text], item: =text) -> bool",
     lambda s, x: _map_list(s, lambda items: x in items), "the list column contains item"),
    ("year(d: date) -> number", lambda d: d.dt.year.astype("Float64"), "calendar year"),
    ("month(d: date) -> number", lambda d: d.dt.month.astype("Float64"), "month 1-12"),
    ("day(d: date) -> number", lambda d: d.dt.day.astype("Float64"), "day of month"),
    ("days_between(d1: date, d2: date) -> number",
     lambda a, b: (b - a).dt.days.astype("Float64"), "d2 - d1 in days"),
    ("add_days(d: date, n: number) -> date", _add_days, "d plus n days"),
    ("add_months(d: date, n: number) -> date", _add_months,
     "d plus n months (day clipped to the month's end)"),
    ("add_years(d: date, n: number) -> date", lambda d, n: _add_months(d, n, 12),
     "d plus n years (29 February becomes 28 February)"),
    ("month_end(d: date) -> date", _period_end("M"), "last day of d's month"),
    ("year_end(d: date) -> date", _period_end("Y"), "31 December of d's year"),
]


def _function(sig: str, impl: Callable[..., pd.Series], doc: str) -> Function:
    m = re.fullmatch(r"(\w+)\((.*)\) -> (\S+)", sig)
    assert m, sig
    args = tuple(tuple(a.split(": ")) for a in m.group(2).split(", ")) if m.group(2) else ()
    return Function(m.group(1), args, m.group(3), impl, doc)


#: The whitelist: name -> :class:`Function`. Adding a function is one entry above.
FUNCTIONS: Mapping[str, Function] = MappingProxyType(
    {f.name: f for f in (_function(*row) for row in _FUNC_TABLE)})


# --------------------------------------------------------------------------- types

def value_type(value: Any) -> str | None:
    """The expression type of a parameter value (``None`` if it has none).

    >>> value_type(1.5), value_type(["0101"]), value_type(date(2023, 1, 1))
    ('number', 'list[text]', 'date')
    """
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float) and np.isfinite(value):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, date) and not isinstance(value, datetime):
        return "date"
    if isinstance(value, list | tuple):
        kinds = {value_type(v) for v in value}
        if not kinds:
            return "list[null]"
        if len(kinds) == 1 and next(iter(kinds)) in _DTYPES:
            return f"list[{kinds.pop()}]"
    return None


def _fits(actual: str, expected: str) -> bool:
    return actual == expected or actual == "null" or (
        actual == "list[null]" and expected.startswith("list["))


def suggest(word: str, choices: Any, prefix: str = "") -> str:
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(prefix + c) for c in close)}?)" if close else ""


_ORDERED = ("number", "text", "date")


class _Checker:
    def __init__(self, schema: Mapping[str, str], params: Mapping[str, Any]):
        self.schema = {k: _SCHEMA_TO_TYPE.get(v, v) for k, v in schema.items()}
        self.params = {k: value_type(v) for k, v in params.items()}
        self.types: dict[Node, str] = {}

    def check(self, node: Node) -> str:
        kind = type(node).__name__.lower()
        self.types[node] = t = getattr(self, f"_{kind}")(node)
        return t

    def _lit(self, node: Lit) -> str:
        return node.type

    def _listlit(self, node: ListLit) -> str:
        kinds = [self.check(item) for item in node.items]
        for item, t in zip(node.items, kinds, strict=True):
            if t != kinds[0]:
                raise _Fail(item.pos, f"list items must all be {kinds[0]}; this one is {t}")
        return f"list[{kinds[0]}]" if kinds else "list[null]"

    def _name(self, node: Name) -> str:
        if node.kind == "run":
            if node.name not in RUN_CONSTANTS:
                raise _Fail(node.pos, f"unknown run constant 'run.{node.name}' (known: "
                                      f"{', '.join('run.' + k for k in RUN_CONSTANTS)})")
            return RUN_CONSTANTS[node.name]
        if node.kind == "param":
            if node.name not in self.params:
                hint = suggest(node.name, self.params, "param.") or (
                    f" (this rule has: {', '.join('param.' + p for p in sorted(self.params))})"
                    if self.params else " (this rule has no parameters)")
                raise _Fail(node.pos, f"unknown parameter 'param.{node.name}'{hint}")
            if self.params[node.name] is None:
                raise _Fail(node.pos, f"parameter 'param.{node.name}' has an unusable value")
            return self.params[node.name]
        if node.name not in self.schema:
            hint = (f" (did you mean 'param.{node.name}'?)" if node.name in self.params
                    else suggest(node.name, self.schema))
            raise _Fail(node.pos, f"unknown fact '{node.name}'{hint}")
        return self.schema[node.name]

    def _unary(self, node: Unary) -> str:
        t, want = self.check(node.operand), "number" if node.op == "-" else "bool"
        if not _fits(t, want):
            raise _Fail(node.pos, f"'{node.op}' needs {want}, got {t}")
        return want

    def _binary(self, node: Binary) -> str:
        lt, rt, op = self.check(node.left), self.check(node.right), node.op
        if op in ("and", "or"):
            bad = next((t for t in (lt, rt) if not _fits(t, "bool")), None)
            if bad:
                raise _Fail(node.pos, f"'{op}' needs true/false on both sides, got {bad}")
            return "bool"
        if op in ("in", "not in"):
            return self._membership(node, lt, rt)
        if op in _CMP:
            return self._compare(node, lt, rt)
        if not (_fits(lt, "number") and _fits(rt, "number")):
            hint = " (use add_days, add_years or days_between for dates)" if "date" in (
                lt, rt) else ""
            raise _Fail(node.pos, f"'{op}' needs numbers, got {lt} and {rt}{hint}")
        return "number"

    def _compare(self, node: Binary, lt: str, rt: str) -> str:
        if "null" in (lt, rt):
            raise _Fail(node.pos, "comparing with null is never true; use isnull(x) or "
                                  "notnull(x)")
        allowed = _ORDERED if node.op not in ("==", "!=") else ("number", "text", "date", "bool")
        if lt != rt or lt not in allowed:
            hint = " (write dates as date('YYYY-MM-DD'))" if {lt, rt} == {"date", "text"} else ""
            raise _Fail(node.pos, f"cannot compare {lt} with {rt} using '{node.op}'{hint}")
        return "bool"

    def _membership(self, node: Binary, lt: str, rt: str) -> str:
        if not rt.startswith("list["):
            raise _Fail(node.right.pos, f"right side of '{node.op}' must be a list like "
                                        f"['a', 'b'] or a list parameter, got {rt}")
        if not isinstance(node.right, ListLit | Name) or (
                isinstance(node.right, Name) and node.right.kind == "fact"):
            raise _Fail(node.right.pos, f"'{node.op}' needs a constant list; to test a list "
                                        "column use has(column, value) or any_class(...)")
        if lt != "null" and not _fits(rt, f"list[{lt}]"):
            raise _Fail(node.pos, f"'{node.op}' compares {lt} with a {rt}")
        return "bool"

    def _call(self, node: Call) -> str:
        fn = FUNCTIONS.get(node.name)
        if fn is None:
            hint = suggest(node.name, FUNCTIONS) or f" (functions: {', '.join(FUNCTIONS)})"
            raise _Fail(node.pos, f"unknown function '{node.name}'{hint}")
        if len(node.args) != len(fn.args):
            raise _Fail(node.pos, f"{fn.name}() takes {len(fn.args)} argument"
                                  f"{'s' if len(fn.args) != 1 else ''}, got {len(node.args)}: "
                                  f"{fn.signature}")
        bound: dict[str, str] = {}
        for i, (arg, (_, spec)) in enumerate(zip(node.args, fn.args, strict=True), 1):
            self._argument(fn, i, arg, spec, bound)
        return bound.get(fn.ret, "null") if fn.ret in _GENERIC else fn.ret

    def _argument(self, fn: Function, i: int, arg: Node, spec: str, bound: dict) -> None:
        t = self.check(arg)
        if spec.startswith("="):
            spec = spec[1:]
            if not (isinstance(arg, Lit | ListLit) or (isinstance(arg, Name) and arg.kind ==
                                                       "param")):
                raise _Fail(arg.pos, f"argument {i} of {fn.name}() must be a literal or a "
                                     f"parameter: {fn.signature}")
        if spec in _GENERIC:
            if t == "null":
                return
            if t not in _GENERIC[spec] or bound.setdefault(spec, t) != t:
                want = bound.get(spec) or "|".join(_GENERIC[spec])
                raise _Fail(arg.pos, f"argument {i} of {fn.name}() must be {want}, got {t}")
        elif spec != "any" and not any(_fits(t, s) for s in spec.split("|")):
            raise _Fail(arg.pos, f"argument {i} of {fn.name}() must be {spec}, got {t}: "
                                 f"{fn.signature}")


# --------------------------------------------------------------------------- evaluation

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne, "+": operator.add, "-": operator.sub,
        "*": operator.mul, "/": operator.truediv, "and": operator.and_, "or": operator.or_}


def _compare(op: str, a: pd.Series, b: pd.Series) -> pd.Series:
    out = _OPS[op](a, b).astype("boolean")
    return out.mask(a.isna() | b.isna())


def _coerce(s: pd.Series, kind: str, name: str = "") -> pd.Series:
    """Convert a facts column to the nullable dtype its schema type evaluates in."""
    try:
        if kind == "number":
            out = pd.to_numeric(s, errors="coerce").astype("Float64")
            if (out.isna() & s.notna()).any():
                raise ValueError("values that are not numbers")
            return out
        if kind == "text":
            return s.astype("string")
        if kind == "date":
            if isinstance(s.dtype, pd.DatetimeTZDtype):
                s = s.dt.tz_localize(None)
            d = pd.to_datetime(s, errors="coerce")
            if (d.isna() & s.notna()).any():
                raise ValueError("values that are not dates")
            return _dates(d.to_numpy(dtype="datetime64[D]"), s)
        if kind == "bool":
            return s.astype("boolean")
        return s.astype(object)
    except (ValueError, TypeError) as err:
        raise RuleError(f"facts column '{name}' cannot be read as {kind}: {err}") from None


class _Env:
    def __init__(self, expr: Expr, facts: pd.DataFrame, params: Mapping[str, Any],
                 run: Mapping[str, Any] | None, cache: dict | None):
        self.expr, self.facts, self.params, self.run = expr, facts, params, run or {}
        self.cache = {} if cache is None else cache
        self.index = pd.RangeIndex(len(facts))

    def column(self, name: str) -> pd.Series:
        if name not in self.cache:
            if name not in self.facts.columns:
                raise RuleError(f"the facts table has no column '{name}' needed by "
                                f"{self.expr.text!r}")
            kind = self.expr.columns[name]
            col = _coerce(self.facts[name], kind, name)
            self.cache[name] = col.set_axis(self.index)
        return self.cache[name]

    def full(self, value: Any, kind: str) -> pd.Series:
        if kind.startswith("list["):
            return pd.Series([value] * len(self.index), index=self.index, dtype=object)
        value = pd.NA if value is None else value
        return pd.Series(value, index=self.index, dtype=_DTYPES.get(kind, "boolean"))

    def constant(self, node: Node) -> Any:
        if isinstance(node, ListLit):
            return [item.value for item in node.items]
        if isinstance(node, Name):
            return _param_value(self.value(node))
        return node.value

    def value(self, node: Name) -> Any:
        source = self.params if node.kind == "param" else self.run
        if node.name not in source:
            raise RuleError(f"{node.ref} is used by {self.expr.text!r} but was not given")
        value, kind = source[node.name], self.expr.types[node]
        if node.kind == "param" and not _fits(value_type(value) or "?", kind):
            raise RuleError(f"{node.ref} = {value!r} is not {kind}, as when it was checked")
        return value


def _param_value(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return [_param_value(x) for x in v]
    return pd.Timestamp(v) if isinstance(v, date) else v


def _eval(node: Node, env: _Env, hint: str = "bool") -> pd.Series:
    kind = env.expr.types[node]
    if kind == "null":
        return env.full(None, hint)
    if isinstance(node, Lit | ListLit):
        return env.full(env.constant(node), kind)
    if isinstance(node, Name):
        if node.kind == "fact":
            return env.column(node.name)
        return env.full(env.constant(node), kind)
    if isinstance(node, Unary):
        operand = _eval(node.operand, env, kind)
        return -operand if node.op == "-" else ~operand
    if isinstance(node, Binary):
        return _eval_binary(node, env)
    return _eval_call(node, env, kind)


def _eval_binary(node: Binary, env: _Env) -> pd.Series:
    types, op = env.expr.types, node.op
    if op in ("in", "not in"):
        left = _eval(node.left, env)
        hit = left.isin(env.constant(node.right)).astype("boolean").mask(left.isna())
        return ~hit if op == "not in" else hit
    if "null" in (types[node.left], types[node.right]) and op not in ("and", "or"):
        return env.full(None, types[node])
    left, right = _eval(node.left, env), _eval(node.right, env)
    if op in _CMP:
        return _compare(op, left, right)
    out = _OPS[op](left, right)
    return out.mask((right == 0).fillna(False)) if op == "/" else out


def _eval_call(node: Call, env: _Env, kind: str) -> pd.Series:
    fn = FUNCTIONS[node.name]
    arg_types = [env.expr.types[a] for a in node.args]
    if "null" in arg_types and fn.name not in _NULL_OK:
        return env.full(None, kind)
    args = [env.constant(a) if spec.startswith("=") else _eval(a, env, kind)
            for a, (_, spec) in zip(node.args, fn.args, strict=True)]
    return fn.impl(*args)


@dataclass(frozen=True, eq=False)
class Expr:
    """A parsed and type-checked expression, ready to evaluate on facts tables.

    ``columns`` maps each fact the expression reads to its schema type; ``params``
    and ``run`` name the parameters and run constants it uses.
    """

    text: str
    tree: Node
    type: str
    columns: Mapping[str, str]
    params: frozenset[str]
    run: frozenset[str]
    types: Mapping[Node, str]

    def evaluate(self, facts: pd.DataFrame, *, params: Mapping[str, Any] | None = None,
                 run: Mapping[str, Any] | None = None) -> pd.Series:
        """Values for every row (nullable dtype, null kept), aligned to ``facts.index``."""
        return self._values(facts, params, run, None)

    def fires(self, facts: pd.DataFrame, *, params: Mapping[str, Any] | None = None,
              run: Mapping[str, Any] | None = None) -> pd.Series:
        """The condition as plain ``bool`` per row: null counts as not firing."""
        return self._fires(facts, params, run, None)

    def _values(self, facts: pd.DataFrame, params: Mapping[str, Any] | None,
                run: Mapping[str, Any] | None, cache: dict | None) -> pd.Series:
        if not isinstance(facts, pd.DataFrame):
            raise TypeError(f"facts must be a pandas DataFrame, not {type(facts).__name__}")
        env = _Env(self, facts, params or {}, _run_values(run, self.run), cache)
        out = _eval(self.tree, env, self.type)
        return pd.Series(out.array, index=facts.index, name=None)

    def _fires(self, facts: pd.DataFrame, params: Mapping[str, Any] | None,
               run: Mapping[str, Any] | None, cache: dict | None) -> pd.Series:
        """:meth:`fires` sharing ``cache`` (column -> converted column) between rules."""
        if self.type != "bool":
            raise RuleError(f"{self.text!r} is {self.type}, not a condition")
        return self._values(facts, params, run, cache).fillna(False).astype(bool)


def _run_values(run: Mapping[str, Any] | None, used: frozenset[str]) -> dict[str, Any]:
    run = dict(run or {})
    unknown = set(run) - set(RUN_CONSTANTS)
    if unknown:
        raise RuleError(f"unknown run constants {sorted(unknown)}; known: {list(RUN_CONSTANTS)}")
    if "reference_date" in run:
        ref = run["reference_date"]
        try:
            ref = pd.Timestamp(date.fromisoformat(ref) if isinstance(ref, str) else ref)
        except (ValueError, TypeError):
            raise RuleError(f"run reference_date {ref!r} is not a date") from None
        run["reference_date"] = ref.normalize().as_unit("s")
        run.setdefault("year", ref.year)
    if not isinstance(run.get("year", 0), int) or isinstance(run.get("year"), bool):
        raise RuleError(f"run year {run['year']!r} is not a whole number")
    missing = sorted(used - set(run))
    if missing:
        raise RuleError(f"the expression uses run.{missing[0]}: pass run={{'{missing[0]}': ...}}")
    return run


def compile_expr(text: str, *, schema: Mapping[str, str], params: Mapping[str, Any] | None = None,
                 want: str | None = "bool", where: str = "") -> Expr:
    """Parse and type-check ``text`` against a facts ``schema`` and ``params``.

    ``schema`` maps fact column → ``number|text|date|bool|list``; parameter types are
    inferred from their values. ``want`` is the required result type (``None``: any).
    ``where`` prefixes error messages (e.g. ``"city2023.toml: rule x.y: when"``).

    >>> compile_expr("a > 'x'", schema={"a": "number"})
    Traceback (most recent call last):
    ...
    landcheck.rules.expr.ExprError: column 3: cannot compare number with text using '>'
      a > 'x'
        ^
    """
    bad = {k: v for k, v in schema.items() if v not in SCHEMA_TYPES}
    if bad:
        raise RuleError(f"schema types must be one of {SCHEMA_TYPES}; got {bad}")
    checker = _Checker(schema, params or {})
    try:
        tree = parse(text)
        result = checker.check(tree)
        if want is not None and result != want:
            what = "condition must be true/false" if want == "bool" else f"expected {want}"
            raise _Fail(tree.pos, f"{what}, got {result}")
    except ExprError as err:
        raise ExprError(err.reason, err.expression, err.pos, where) from None
    except _Fail as fail:
        raise ExprError(fail.reason, text, fail.pos, where) from None
    names = [n for n in checker.types if isinstance(n, Name)]
    return Expr(text, tree, result,
                MappingProxyType({n.name: checker.schema[n.name] for n in names
                                  if n.kind == "fact"}),
                frozenset(n.name for n in names if n.kind == "param"),
                frozenset(n.name for n in names if n.kind == "run"),
                MappingProxyType(checker.types))

