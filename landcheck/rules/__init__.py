"""Rule packs and the safe expression language their conditions are written in.

Rules never touch geometry: they read a facts table (one row per patch) and
decide per row whether they fire. See :mod:`landcheck.rules.expr` for the
expression language and :mod:`landcheck.rules.pack` for the TOML pack format.
"""

from landcheck.rules.expr import FUNCTIONS, RUN_CONSTANTS, Expr, ExprError, compile_expr, parse
from landcheck.rules.pack import (
    VERDICTS,
    Rule,
    RulePack,
    load_pack,
    loads_pack,
    parse_set_option,
    render_reason,
    select_pack_for_year,
)

__all__ = [
    "FUNCTIONS",
    "RUN_CONSTANTS",
    "VERDICTS",
    "Expr",
    "ExprError",
    "Rule",
    "RulePack",
    "compile_expr",
    "load_pack",
    "loads_pack",
    "parse",
    "parse_set_option",
    "render_reason",
    "select_pack_for_year",
]
