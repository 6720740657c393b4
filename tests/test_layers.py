"""Gatepass's packages import one way: edges, then services, then models, never back.

Each package of ``gatepass/`` (``oauth``, ``tenants``, ...) and each module at its root
(``app``, ``services``, ...) is one node; an import from one node into another is an edge.
Every import counts, at module level, inside a function or under ``if TYPE_CHECKING:``.
An edge that closes a cycle fails, named with the modules that make it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import gatepass

ROOT = Path(gatepass.__file__).parent
Edges = dict[str, dict[str, set[tuple[str, str]]]]  # node -> node -> (importer, imported)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def node_of(module: str) -> str | None:
    """``gatepass.oauth.token`` -> ``oauth``; ``gatepass.app`` -> ``app``; others: None."""
    parts = module.split(".")
    return parts[1] if parts[0] == "gatepass" and len(parts) > 1 else None


def imported(tree: ast.AST, module: str, *, package: bool) -> Iterator[str]:
    """Every module ``tree`` imports, relative imports resolved; ``from a import b`` gives
    ``a.b`` (``b`` may be a module or a name in ``a``: both belong to the same node or ``a``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + package]
                base = ".".join([*anchor, base] if base else anchor)
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph() -> Edges:
    edges: Edges = defaultdict(lambda: defaultdict(set))
    for path in sorted(ROOT.rglob("*.py")):
        module = module_name(path)
        source = node_of(module)
        tree = ast.parse(path.read_text(), str(path))
        for target in imported(tree, module, package=path.name == "__init__.py"):
            name = existing(target)
            dest = node_of(name)
            if source and dest and dest != source:
                edges[source][dest].add((module, name))
    return edges


def existing(target: str) -> str:
    """The module part of ``gatepass.cache.store.CredentialCache``: ``gatepass.cache.store``."""
    parts = target.split(".")
    while len(parts) > 1:
        path = ROOT.parent.joinpath(*parts)
        if path.with_suffix(".py").exists() or path.is_dir():
            break
        parts.pop()
    return ".".join(parts)


def reachable(edges: Edges, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), {}):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def cycle_edges(edges: Edges) -> list[str]:
    """Each edge ``a -> b`` where ``a`` is reachable again from ``b``, with its imports."""
    found = []
    reach = {node: reachable(edges, node) for node in list(edges)}
    for source, targets in sorted(edges.items()):
        for dest, pairs in sorted(targets.items()):
            if source in reach.get(dest, ()):
                imports = ", ".join(f"{a} imports {b}" for a, b in sorted(pairs))
                found.append(f"{source} -> {dest}: {imports}")
    return found


def test_packages_import_one_way() -> None:
    assert cycle_edges(import_graph()) == []


def test_models_import_no_service() -> None:
    """A package's models define tables; they may import other models, never a service."""
    wrong = []
    for path in sorted(ROOT.glob("*/models.py")):
        module = module_name(path)
        for target in imported(ast.parse(path.read_text()), module, package=False):
            if target.startswith("gatepass.") and ".service" in target:
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_a_cycle_is_found_and_named() -> None:
    """The check itself: a two-node cycle is reported with the imports on both sides."""
    edges: Edges = defaultdict(lambda: defaultdict(set))
    edges["tenants"]["permissions"].add(("gatepass.tenants.service", "gatepass.permissions"))
    edges["permissions"]["tenants"].add(("gatepass.permissions.service", "gatepass.tenants"))
    edges["oauth"]["tenants"].add(("gatepass.oauth.asgi", "gatepass.tenants.service"))
    assert cycle_edges(edges) == [
        "permissions -> tenants: gatepass.permissions.service imports gatepass.tenants",
        "tenants -> permissions: gatepass.tenants.service imports gatepass.permissions",
    ]


def test_every_kind_of_import_is_seen() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from gatepass import provisioning\n"
        "from . import models\n"
        "if TYPE_CHECKING:\n"
        "    from gatepass.cache.store import CredentialCache\n"
        "def late():\n"
        "    import gatepass.oauth.errors\n"
    )
    found = set(imported(ast.parse(source), "gatepass.users.service", package=False))
    assert {
        "gatepass.provisioning",
        "gatepass.users.models",
        "gatepass.cache.store.CredentialCache",
        "gatepass.oauth.errors",
    } <= found
