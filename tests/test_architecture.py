"""The package's shape: modules use each other only through names without a leading
underscore, module-level imports form no cycle, and every fact column is documented."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "landcheck"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path):
    """(imported module, imported names, at module level?) for each ``from … import``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            if base.split(".")[0] == "landcheck":
                yield base, [a.name for a in node.names], id(node) in top
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "landcheck":
                    yield alias.name, [], id(node) in top


def test_no_module_imports_another_modules_private_names():
    found = [
        f"{name} imports {n} from {base}"
        for name, path in _modules().items()
        for base, names, _ in _imports(name, path)
        for n in names
        if n.startswith("_") and not n.startswith("__") and base != name
    ]
    assert not found, found


def test_module_level_imports_have_no_cycle():
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for base, names, at_top in _imports(name, path):
            if not at_top:
                continue
            targets = {f"{base}.{n}" for n in names if f"{base}.{n}" in modules}
            graph[name] |= targets or ({base} if base in modules else set())
    # a package's __init__ importing its own submodules is not a cycle through the package
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == "open":
                cycles.append(" → ".join([*stack[stack.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles


def test_every_fact_column_is_documented():
    from landcheck.facts import fact_docs, fact_schema

    docs = fact_docs()
    missing = [c for c in fact_schema() if not docs.get(c)]
    assert not missing, f"fact columns without documentation: {missing}"
    unknown = sorted(set(docs) - set(fact_schema()))
    assert not unknown, f"documented columns that are not facts: {unknown}"


def test_every_verdict_column_is_documented():
    import warnings

    import landcheck
    from landcheck.facts import fact_docs
    from landcheck.verdicts import VERDICT_DOCS, verdict_docs

    config = PACKAGE.parent / "data" / "samples" / "county.toml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        verdicts = landcheck.screen(None, config, reference_date="2023-09-30").verdicts
    docs = {**fact_docs(), **VERDICT_DOCS}
    import pyogrio  # the patch file's own fields are the bureau's, documented by the bureau

    own = set(pyogrio.read_info(config.parent / "county" / "patches.gpkg")["fields"])
    missing = [c for c in verdicts.columns if c != "geometry" and c not in own
               and not docs.get(c)]
    assert not missing, f"verdict columns without documentation: {missing}"
    assert verdict_docs() == VERDICT_DOCS
