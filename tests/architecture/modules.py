"""The shape of the project's modules, checked on their syntax trees.

- **No import cycle** among the project's modules. The graph has an edge A → B for every
  ``import B`` / ``from B import x`` in A, *wherever it stands*: an import inside a function is
  an edge too (moving an import into a function hides a cycle from Python's import machinery,
  not from the design). ``from pkg import name`` is an edge to ``pkg.name`` when that is a module,
  else to ``pkg``. Importing ``a.b.c`` is not counted as importing the packages ``a`` and ``a.b``
  (every module of a package would otherwise "import" its ``__init__``, which re-exports it).
  Imports under ``if TYPE_CHECKING:`` are left out: they never run, so they cannot tie two
  modules together at import time or at call time; they exist for annotations only.
- **No module over** :data:`MAX_LINES` **lines** outside migrations, tests and generated files,
  except the ones named in :data:`LONG_MODULES` with the reason, so a long file is a decision
  someone reviewed rather than a drift.

The checks take source text (or a mapping of module names to source), so a test can show them
failing on a small bad example.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.architecture.rules import APPS, ROOT, Violation

PACKAGES = (*APPS, "config", "bench")
MAX_LINES = 600

# Modules allowed past MAX_LINES, each with why it is one job that reads best as one file.
# Review: an entry here needs the reason to hold; when a module shrinks below the limit the
# test asks for its entry to go.
LONG_MODULES: dict[str, str] = {
    "ark/models.py": (
        "Ark's tables (alliances, governors, matches, signups, bans, reminders, audit, messages, calendar, draft "
        "constraints, governor records): one declaration per table with its constraints and help texts, no logic; "
        "it crossed 600 lines by the names issue 24 added to __str__. The split point is a models/ package "
        "(matches and signups / records and audit / settings and calendar) in the next tidy-up"),
    "bot/delivery.py": (
        "one job, Discord delivery's three crash-safe steps (claim, send under a renewed lease, record) "
        "whose invariants are argued in the module docstring and depend on each other (the lease gate, the "
        "fencing attempt number, giving rows back on stop); being hardened this round by the delivery engineer: "
        "claim/lease and recording are the split points once that settles"),
    "guildsync/models.py": (
        "guildsync's tables (reference data, ranks, Discord members, characters, players and their links, audit, "
        "sync logs, role plans, Battle.net proofs, Linked Roles connections): one declaration per table with its "
        "constraints and help texts, no logic; split point if it grows: the Discord directory (servers, channels, "
        "roles) into its own module."
    ),
    "guildsync/admin.py": (
        "guildsync's officer admin (characters with the addon upload, composition and run buttons, players, "
        "Discord users, ranks, audit issues, sync logs): issue 24 is reworking these pages now; it becomes a "
        "guildsync/admin/ package by page group, as ark/admin/ did, once that lands (splitting it under them "
        "would conflict with every one of their edits)"),
    "economy/services.py": (
        "economy's services: bytes balances and transfers, squads, moderation cases and automod. Four jobs in "
        "sections; the next split after this round's (ark, raids, ratmas, addon), left whole this round because "
        "others are changing economy's admin and privacy on top of it"),
}


def module_name(rel: Path) -> str:
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_sources(root: Path = ROOT) -> dict[str, Path]:
    """Every importable project module (the apps, ``config`` and ``bench``), tests excluded."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root)
            if ".venv" in rel.parts or "__pycache__" in rel.parts:
                continue
            found[module_name(rel)] = path
    return found


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes that stand under ``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
            if name == "TYPE_CHECKING":
                skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skipped


def imports_of(source: str, module: str, known: Iterable[str], *, is_package: bool = False) -> list[tuple[str, int]]:
    """The project modules ``module`` imports, with the line of each import."""
    known = set(known)
    tree = ast.parse(source)
    skipped = _type_checking_nodes(tree)
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[str, int]] = []

    def add(name: str, line: int) -> None:
        while name and name not in known:  # "a.b.c" where c is a name in a.b
            name = name.rpartition(".")[0]
        if name and name != module:
            found.append((name, line))

    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                target = f"{base}.{alias.name}"
                add(target if target in known else base, node.lineno)
    return found


def import_graph(sources: Mapping[str, str], packages: Iterable[str] = ()) -> dict[str, dict[str, int]]:
    """module → {imported module: line of the first such import}."""
    packages = set(packages)
    graph: dict[str, dict[str, int]] = {}
    for module, source in sources.items():
        edges: dict[str, int] = {}
        for target, line in imports_of(source, module, sources, is_package=module in packages):
            edges.setdefault(target, line)
        graph[module] = edges
    return graph


def cycle_groups(graph: Mapping[str, Mapping[str, int]]) -> list[list[str]]:
    """The strongly connected groups of modules (each module in a group reaches every other one),
    found with Tarjan's algorithm (iterative: the graph has hundreds of modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return sorted(groups)


def cycles(graph: Mapping[str, Mapping[str, int]]) -> list[list[str]]:
    """One closed path ``a → b → … → a`` through each group of :func:`cycle_groups`."""
    return [_path_through(graph, set(group)) for group in cycle_groups(graph)]


def _path_through(graph: Mapping[str, Mapping[str, int]], group: set[str]) -> list[str]:
    """A shortest closed path from the group's first module back to itself, inside the group."""
    start = min(group)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child not in group:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return sorted(group)


def describe(graph: Mapping[str, Mapping[str, int]], path: list[str]) -> str:
    return " → ".join(f"{a} (line {graph[a][b]})" for a, b in zip(path, path[1:], strict=False)) + f" → {path[-1]}"


def check_import_cycles() -> list[str]:
    files = project_sources()
    sources = {name: path.read_text(encoding="utf-8") for name, path in files.items()}
    packages = {name for name, path in files.items() if path.name == "__init__.py"}
    graph = import_graph(sources, packages)
    return [f"{len(group)} modules import each other ({', '.join(group)}), e.g. "
            + describe(graph, _path_through(graph, set(group))) for group in cycle_groups(graph)]


def is_generated(rel: Path, source: str) -> bool:
    return "migrations" in rel.parts or source.lstrip().startswith(("# Generated by", '"""Generated'))


def long_modules(files: Mapping[str, str], limit: int = MAX_LINES,
                 allowed: Mapping[str, str] = LONG_MODULES) -> list[Violation]:
    """``files``: relative path → source. The modules over ``limit`` lines not in ``allowed``."""
    found = []
    for rel, source in sorted(files.items()):
        lines = source.count("\n") + (not source.endswith("\n") and bool(source))
        if lines > limit and rel not in allowed and not is_generated(Path(rel), source):
            found.append(Violation(rel, lines, f"{lines} lines (over {limit}): split it by job, "
                                               "or name it in LONG_MODULES with the reason"))
    return found


def check_module_sizes() -> list[Violation]:
    files = {path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
             for path in project_sources().values()}
    return long_modules(files)
