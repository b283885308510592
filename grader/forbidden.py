"""The library calls an exercise must not use (grader/catalog.py: ``forbidden``), found in the
source without running it.

:func:`scan` reads the student's file as text and resolves every dotted name through the
file's own imports (``import torch.nn.functional as F`` makes ``F.softmax`` read as
``torch.nn.functional.softmax``); a method call ``X.softmax(...)`` on anything that is not a
module reads as ``Tensor.softmax``. The worker watches the same rules at run time
(grader/worker/watch.py), so that ``getattr(torch, "soft" + "max")`` is caught too.
"""
from __future__ import annotations

import ast

from grader.worker.watch import matches


def _imports(tree: ast.AST) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _dotted(node: ast.AST) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


def scan(source: str, rules) -> dict[str, tuple[int, str]]:
    """rule -> (line, the name as written) for each forbidden call the source names."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    aliases = _imports(tree)
    found: dict[str, tuple[int, str]] = {}
    for node in ast.walk(tree):
        written = None
        if isinstance(node, (ast.Attribute, ast.Name)):
            parts = _dotted(node)
            if parts and parts[0] in aliases:
                written = ".".join(parts)
                resolved = ".".join([aliases[parts[0]], *parts[1:]])
            elif isinstance(node, ast.Attribute):
                written, resolved = f".{node.attr}", f"Tensor.{node.attr}"
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                f"{node.module}.{a.name}" for a in node.names] if node.module else []
            for name in names:
                for rule in matches(name, rules):
                    found.setdefault(rule, (node.lineno, name))
            continue
        if written is None:
            continue
        for rule in matches(resolved, rules):
            found.setdefault(rule, (node.lineno, written))
    return found
