"""A stage's code fingerprint, from the code itself: the static import closure of its modules.

Starting from the stage's module and its blocks' modules, every ``import`` of a project
module is followed, at any depth of the file (imports inside functions too; not those under
``if TYPE_CHECKING:``, which never run). Nothing is imported: each file is parsed with ``ast``,
so the closure of a stage that uses TensorFlow costs no TensorFlow import. Names a package
re-exports lazily (``mcu/__init__.py``'s ``_EXPORTS``) resolve to their submodules.
Dynamic loads (a block class named in a scenario, a converter in ``formats.CONVERSIONS``) are
not imports: the stage names them as entry modules.

Parsing every file on each graph load would cost more than the no-op rerun itself, so each
file's imports are kept in ``build/.graph-cache.json``, keyed by the file's size, mtime and
inode; a file is parsed again only when its stat changes.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kenning_tasks.layout import RESOURCES_DIR, SHIPPED_DIR, layout

PROJECT = "kenning_tasks"
CACHE_VERSION = 1
# Files parsed by this process, by (path, stat): several graphs in one process parse once.
_PARSED: dict[tuple[str, tuple[int, ...]], list[Any]] = {}


def module_file(module: str) -> Path | None:
    """The source file of a project module (None when there is no such module).

    A module outside the project is found only when named as an entry (a user's own block
    class, given by dotted path): its file counts, its imports are not followed.
    """
    relative = RESOURCES_DIR.joinpath(*module.split("."))
    for candidate in (relative.with_suffix(".py"), relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _outside_file(module: str) -> Path | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    stack = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                stack.extend(child.orelse)  # the else branch does run
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child
            else:
                stack.append(child)


def _lazy_exports(tree: ast.Module) -> dict[str, str]:
    """A package's ``_EXPORTS = {"name": "submodule"}`` (names loaded by ``__getattr__``)."""
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "_EXPORTS"
                and isinstance(node.value, ast.Dict)):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return {}
            return {str(k): str(v) for k, v in value.items()}
    return {}


def parse_imports(path: Path, module: str) -> dict[str, Any]:
    """What a file imports: project modules (absolute names, maybe not modules: resolved
    later), third-party top-level names, and its own lazy re-exports."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    project: set[str] = set()
    third_party: set[str] = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            # ``from a import b``: b may be a submodule or a name in a; resolve() decides.
            names = [origin, *(f"{origin}.{alias.name}" for alias in node.names)]
        for name in names:
            top = name.split(".")[0]
            if top == PROJECT:
                project.add(name)
            elif top and not node_is_relative(node):
                third_party.add(top)
    return {"project": sorted(project), "third_party": sorted(third_party),
            "exports": _lazy_exports(tree)}


def node_is_relative(node: ast.Import | ast.ImportFrom) -> bool:
    return isinstance(node, ast.ImportFrom) and bool(node.level)


class ImportGraph:
    """Parsed imports of the project's files, cached by file stat across processes."""

    def __init__(self, cache_file: Path | None = None) -> None:
        self.cache_file = cache_file
        self._entries: dict[str, list[Any]] = {}
        self._dirty = False
        if cache_file is not None:
            try:
                data = json.loads(cache_file.read_text())
                if data.get("version") == CACHE_VERSION:
                    self._entries = data["files"]
            except (OSError, ValueError, KeyError):
                pass
        self._resolved: dict[str, dict[str, Any]] = {}
        self._closures: dict[tuple[str, ...], dict[str, Path]] = {}
        self._direct: dict[str, list[str]] = {}
        self._fingerprints: dict[tuple[tuple[str, ...], tuple[str, ...]], dict[str, str]] = {}

    def _info(self, module: str) -> dict[str, Any] | None:
        """``{"path", "digest", "project", "third_party", "exports"}`` for a project module."""
        if module in self._resolved:
            return self._resolved[module]
        path = module_file(module)
        if path is None and module.split(".")[0] != PROJECT:
            path = _outside_file(module)
        if path is None:
            self._resolved[module] = None  # type: ignore[assignment]
            return None
        stat = os.stat(path)
        stamp = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
        key = str(path)
        entry = self._entries.get(key)
        if entry is None or entry[0] != stamp:
            entry = _PARSED.get((key, tuple(stamp)))
            if entry is None:
                data = path.read_bytes()
                entry = [stamp, hashlib.sha256(data).hexdigest()[:16],
                         parse_imports(path, module)]
                _PARSED[(key, tuple(stamp))] = entry
            self._entries[key] = entry
            self._dirty = True
        info = {"path": path, "digest": entry[1], **entry[2]}
        self._resolved[module] = info
        return info

    def direct(self, module: str) -> list[str]:
        """The project modules one module imports (parents of a dotted name included, since
        importing ``a.b`` runs ``a/__init__.py``)."""
        if module not in self._direct:
            self._direct[module] = self._find_direct(module)
        return self._direct[module]

    def _find_direct(self, module: str) -> list[str]:
        info = self._info(module)
        if info is None:
            return []
        found: set[str] = set()
        for name in info["project"]:
            if self._info(name) is None:  # ``from pkg import name``: a name in pkg
                package, _, attr = name.rpartition(".")
                exports = (self._info(package) or {}).get("exports") or {}
                if attr in exports:  # loaded by the package's __getattr__
                    name = f"{package}.{exports[attr]}"
                else:
                    continue  # pkg itself is recorded as its own entry
            found.update(m for m in _parents(name) if self._info(m) is not None)
        found.discard(module)
        return sorted(found)

    def closure(self, entries: Iterable[str]) -> dict[str, Path]:
        """Every project module reachable from ``entries`` by import, with its file."""
        key = tuple(sorted(set(entries)))
        if key not in self._closures:
            self._closures[key] = self._walk(key)
        return self._closures[key]

    def _walk(self, entries: tuple[str, ...]) -> dict[str, Path]:
        seen: dict[str, Path] = {}
        todo = list(entries)
        while todo:
            module = todo.pop()
            if module in seen:
                continue
            info = self._info(module)
            if info is None:
                raise ImportError(f"module {module} not found in {RESOURCES_DIR}")
            seen[module] = info["path"]
            todo += [m for m in self.direct(module) if m not in seen]
        return seen

    def third_party(self, modules: Iterable[str]) -> set[str]:
        """Top-level names of what those modules import from outside the project."""
        names: set[str] = set()
        for module in modules:
            info = self._info(module)
            if info is not None:
                names.update(info["third_party"])
        return names

    def fingerprint(self, entries: Iterable[str],
                    extra_files: Iterable[Path] = ()) -> dict[str, str]:
        """``{source path relative to the checkout: short sha256}`` of the closure."""
        key = (tuple(sorted(set(entries))), tuple(str(p) for p in extra_files))
        if key not in self._fingerprints:
            result = {}
            for module, path in self.closure(key[0]).items():
                result[_label(path)] = self._resolved[module]["digest"]
            for path in extra_files:
                result[_label(Path(path))] = _file_digest(Path(path))
            self._fingerprints[key] = dict(sorted(result.items()))
        return dict(self._fingerprints[key])

    def save(self) -> None:
        """Write the cache when something was parsed (atomically; losing a race is harmless)."""
        if self.cache_file is None or not self._dirty:
            return
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.cache_file.with_name(f".{self.cache_file.name}.{os.getpid()}")
            temporary.write_text(json.dumps({"version": CACHE_VERSION, "files": self._entries}))
            os.replace(temporary, self.cache_file)
            self._dirty = False
        except OSError:
            pass


def _label(path: Path) -> str:
    """A file's name in a signature: the same in a checkout, an installed wheel and another
    clone, so run cache entries are shared between them (never an absolute host path when the
    file is the package's, a shipped resource or the project's)."""
    for base in (SHIPPED_DIR, RESOURCES_DIR):  # shipped first: in a wheel it is inside the package
        try:
            return str(path.relative_to(base))
        except ValueError:
            pass
    try:
        return str(path.resolve().relative_to(layout().root))
    except ValueError:
        return str(path)


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def all_modules() -> list[str]:
    """Every module of the package (for the import-cycle check)."""
    root = RESOURCES_DIR / PROJECT
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(RESOURCES_DIR).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names
