"""The house rules the code must keep, checked on its syntax tree (netbox-style architecture tests).

- Services are the only writers: no ORM write outside an app's ``services`` (module or package),
  migrations, demo data and the few modules named in ``WRITERS`` with the reason they may write.
- An app's ``services`` (and the writers of ``WRITERS``) never import an entry point (``admin``,
  ``api``, ``discord_commands``) nor a ``tasks`` module: entry points and tasks call services,
  never the other way round; a service queues work by task name through ``core.jobs``.

The checks take source text, so a test can show them failing on a small bad example.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("ark", "bot", "core", "economy", "guildsync", "members", "raids", "ratmas")
ENTRY_POINTS = ("admin", "api", "discord_commands", "tasks")

# Methods that write through the ORM. ``update`` is ambiguous (dicts, sets, headers), so it counts
# only on a manager or queryset chain; ``save`` with ``commit=False`` (forms, formsets) writes nothing.
MANAGER_WRITES = {"create", "update", "get_or_create", "update_or_create", "bulk_create", "bulk_update", "delete"}
INSTANCE_WRITES = {"save", "delete"}
QUERYSET_HINTS = {"objects", "filter", "exclude", "all", "select_for_update", "using", "_default_manager",
                  "select_related", "prefetch_related", "order_by"}

# Modules that write although they are not called services, and why.
WRITERS = {
    "bot/outbox.py": "the outbox API that services call to queue Discord messages (bot's service layer)",
    "bot/delivery.py": "records the outcome of each Discord send (the delivery worker's own state)",
    "bot/scheduled_events.py": "records a scheduled event's Discord id on its mirror, in the create's record",
    "core/claims.py": "the claim helpers services call to take a lease (one conditional UPDATE in their transaction)",
    "core/jobs.py": "the job seam services call: its pending-job row is written in their transaction, like the outbox",
    "core/heartbeats.py": "each process's heartbeat (one upsert of its own row), stamped by beat, workers and the bot",
    "core/metrics.py": "counts each Celery task run's outcome and duration (one conditional update of its own row)",
    "core/groups.py": "grants the officer groups their permissions after each migrate, like a migration",
    "ratmas/backup.py": "the JSON import of a Ratmas event, one transaction under the services' rules",
}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


def _chain_names(node: ast.AST) -> set[str]:
    """The attribute and call names along ``a.b().c.d`` (what the write is called on)."""
    names: set[str] = set()
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            if isinstance(node, ast.Name):
                names.add(node.id)
            return names


def _is_write(call: ast.Call) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    receiver = _chain_names(func.value)
    if func.attr in MANAGER_WRITES and receiver & QUERYSET_HINTS:
        return True
    if func.attr in INSTANCE_WRITES and func.attr not in receiver:
        commit = next((k.value for k in call.keywords if k.arg == "commit"), None)
        if isinstance(commit, ast.Constant) and commit.value is False:
            return False
        return func.attr == "save" or not receiver & {"session", "requests", "client", "http"}
    return False


def orm_writes(source: str, path: str = "<source>") -> list[Violation]:
    tree = ast.parse(source)
    return [Violation(path, node.lineno, ast.unparse(node)[:100]) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _is_write(node)]


def entry_point_imports(source: str, path: str = "<source>") -> list[Violation]:
    found = []
    for node in ast.walk(ast.parse(source)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for module in modules:
            parts = module.split(".")
            if len(parts) >= 2 and parts[0] in APPS and parts[1] in ENTRY_POINTS:
                found.append(Violation(path, node.lineno, f"imports {module}"))
                break
    return found


def _is_privacy(rel: Path) -> bool:
    """An app's part of the privacy registry (``<app>/privacy.py``, ``core/privacy/``): the
    erasure of a member's data, service code run inside ``core.privacy.forget_member``'s transaction."""
    return rel.name == "privacy.py" or rel.parts[:2] == ("core", "privacy")


def _may_write(rel: Path) -> bool:
    parts = rel.parts
    return ("migrations" in parts or "services" in parts or rel.name in ("services.py", "demo.py")
            or rel.as_posix() in WRITERS or _is_privacy(rel))


def app_modules() -> list[Path]:
    return sorted(p for app in APPS for p in (ROOT / app).rglob("*.py"))


def check_orm_writes() -> list[Violation]:
    found = []
    for path in app_modules():
        rel = path.relative_to(ROOT)
        if not _may_write(rel):
            found += orm_writes(path.read_text(encoding="utf-8"), rel.as_posix())
    return found


def check_service_imports() -> list[Violation]:
    found = []
    for path in app_modules():
        rel = path.relative_to(ROOT)
        if ("services" in rel.parts or rel.name == "services.py" or _is_privacy(rel)
                or rel.as_posix() in WRITERS):
            found += entry_point_imports(path.read_text(encoding="utf-8"), rel.as_posix())
    return found
