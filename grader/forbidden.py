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
    """Each name the file binds to a module or a name in one: by ``import``, and by assigning
    such a name to another (``m = sys``, ``s = torch.softmax``), followed to the end."""
    aliases = _imported(tree)
    for _ in range(8):  # a chain of assignments, one link per pass
        grown = False
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                resolved = _resolve(node.value, aliases)
                for target in targets:
                    if resolved and isinstance(target, ast.Name) and aliases.get(target.id) != resolved:
                        aliases[target.id], grown = resolved, True
        if not grown:
            break
    return aliases


def _resolve(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The dotted name an expression stands for: ``F.softmax``, or ``getattr(torch, "optim")``
    read as ``torch.optim``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
            and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
        inner = _resolve(node.args[0], aliases)
        return f"{inner}.{node.args[1].value}" if inner else None
    if isinstance(node, ast.Attribute):
        inner = _resolve(node.value, aliases)
        return f"{inner}.{node.attr}" if inner else None
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    return None


def _imported(tree: ast.AST) -> dict[str, str]:
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


UNREADABLE = "a file Python cannot parse"


def _parse(source: str | bytes) -> ast.AST | None:
    """The file as Python reads it: from bytes, a byte-order mark and a coding line are honoured."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def scan(source: str | bytes, rules) -> dict[str, tuple[int, str]]:
    """rule -> (line, the name as written) for each forbidden call the source names. A source
    that does not parse is reported, never passed: a scan that saw nothing proves nothing."""
    tree = _parse(source)
    if tree is None:
        return {UNREADABLE: (0, "it")} if rules else {}
    aliases = _imports(tree)
    found: dict[str, tuple[int, str]] = {}
    for node in ast.walk(tree):
        written = None
        if isinstance(node, (ast.Attribute, ast.Name)):
            parts = _dotted(node)
            if parts and parts[0] in aliases:
                written, resolved = ".".join(parts), _resolve(node, aliases)
            elif isinstance(node, ast.Attribute):
                written, resolved = f".{node.attr}", f"Tensor.{node.attr}"
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                f"{node.module}.{a.name}" for a in node.names] if node.module else []
            for name in names:
                for rule in matches(name, rules):
                    found.setdefault(rule, (node.lineno, name))
            continue
        elif isinstance(node, ast.Call):
            resolved = _resolve(node, aliases)
            if resolved is None:
                continue
            written = ast.unparse(node)
        if written is None:
            continue
        for rule in matches(resolved, rules):
            found.setdefault(rule, (node.lineno, written))
    return found


# --- tampering: what no exercise needs, and what reaches into the grader or the interpreter ---

# Modules (and names in them) that reach the grader's own code, torch's dispatch machinery, or
# the interpreter's frames, objects and imports. The worker runs the checks' probes and watch
# beside the student's code: with these, code can rewrite what they record or switch them off.
TAMPERING_MODULES = {
    "grader": "the grader's own code", "tests": "the checks' own code",
    "importlib": "imports by name", "builtins": "the interpreter's builtins", "gc": "every live object",
    "ctypes": "raw memory", "inspect": "the caller's frames", "sys.modules": "every imported module",
    "sys._getframe": "the caller's frames", "marshal": "code objects", "socket": "the grader's socket",
    "subprocess": "new processes", "multiprocessing": "new processes",
    "torch.overrides": "torch's function hooks", "torch.utils._python_dispatch": "torch's dispatch hooks",
    "threading": "threads (the watch sees one thread)", "_thread": "threads (the watch sees one thread)",
    "concurrent": "threads and processes", "asyncio": "other threads of control", "pickle": "objects rebuilt from bytes",
    "copyreg": "how objects are rebuilt", "operator.attrgetter": "attributes found by name",
    "operator.methodcaller": "methods found by name", "types": "functions and modules made at run time",
    "weakref": "every object of a kind", "sys.settrace": "tracing", "sys.setprofile": "tracing",
}
TAMPERING_BUILTINS = {"__import__": "imports by name", "eval": "code made from strings",
                      "exec": "code made from strings", "compile": "code made from strings",
                      "globals": "a module's namespace", "vars": "an object's namespace",
                      "breakpoint": "the debugger"}
# Dunder attributes code may use; any other (__dict__, __globals__, __self__, __reduce_ex__, ...)
# reaches into an object's or the interpreter's internals.
ALLOWED_DUNDERS = {"__init__", "__name__", "__class__", "__doc__", "__len__", "__call__"}
NAME_FUNCTIONS = ("getattr", "setattr", "delattr", "hasattr")


def scan_tampering(source: str | bytes) -> tuple[int, str, str] | None:
    """(line, what is written, why it is refused) for the first construct of the source that
    reaches into the grader, torch's internals or the interpreter; None when there is none.

    Refused: importing or naming TAMPERING_MODULES (through imports, assignments and
    ``getattr`` with a literal name alike); the builtins of TAMPERING_BUILTINS; dunder
    attributes but ALLOWED_DUNDERS; a private attribute (``x._name``, or a ``case`` pattern
    naming one) of anything but ``self`` or ``cls``; getattr and its kin other than called
    directly with a plain public string. None of it is needed by any exercise, and each is a
    way around the checks."""
    tree = _parse(source)
    if tree is None:
        return (0, "the file", UNREADABLE)
    aliases = _imports(tree)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    found = []
    for node in ast.walk(tree):
        why = _tampering(node, aliases)
        if why is None and isinstance(node, ast.Name) and node.id in NAME_FUNCTIONS and id(node) not in called:
            why = (node.id, "attribute access by name, passed on or renamed")
        if why is not None:
            found.append((getattr(node, "lineno", 0), *why))
    return min(found) if found else None


def _tampering(node: ast.AST, aliases: dict[str, str]) -> tuple[str, str] | None:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [f"{node.module}.{a.name}" for a in node.names] if node.module and not node.level else [".relative"])
        for name in names:
            if name == ".relative":
                return "a relative import", "the modules beside the file"
            reason = _module_reason(name)
            if reason:
                return f"import {name}", reason
        return None
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in TAMPERING_BUILTINS \
            and node.id not in aliases:
        return node.id, TAMPERING_BUILTINS[node.id]
    if isinstance(node, ast.Attribute):
        parts = _dotted(node)
        if parts and parts[0] in aliases:
            reason = _module_reason(_resolve(node, aliases))
            if reason:
                return ".".join(parts), reason
        if node.attr.startswith("__") and node.attr.endswith("__") and node.attr not in ALLOWED_DUNDERS:
            return f".{node.attr}", "an object's internals"
        if node.attr.startswith("_") and not node.attr.startswith("__") and not (
                isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            return f".{node.attr}", "a private attribute of an object that is not this class's own"
    if isinstance(node, ast.MatchClass):
        private = [name for name in node.kwd_attrs if name.startswith("_")]
        if private:
            return f"case ...({private[0]}=...)", "a private attribute"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in NAME_FUNCTIONS \
            and len(node.args) >= 2:
        name = node.args[1]
        resolved = _resolve(node, aliases)
        reason = _module_reason(resolved) if resolved else None
        if reason:
            return ast.unparse(node), reason
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            return f"{node.func.id}(..., <a name computed at run time>)", "attributes found by name"
        if name.value.startswith("_") and not (isinstance(node.args[0], ast.Name) and node.args[0].id in ("self", "cls")):
            return f"{node.func.id}(..., {name.value!r})", "a private attribute"
    return None


def _module_reason(dotted: str) -> str | None:
    for module, reason in TAMPERING_MODULES.items():
        if dotted == module or dotted.startswith(module + "."):
            return reason
    head, _, rest = dotted.partition(".")
    if head == "torch" and any(part.startswith("_") and not part.startswith("__") for part in rest.split(".")):
        return "torch's private internals"
    return None
