"""The import direction the README's Layout section promises, read from the code with ast.

Entry points (cli, function) -> sweep, sources -> cloud -> policy -> requests -> domain (plain data).
The emulator imports nothing of the engine (it keeps its own OCI limits; the unix-socket helper only); only the command line
imports the emulator (the function image leaves sync/emulator out).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SYNC = ROOT / "sync"

# Modules directly in sync/ (logs.py, ...) are plain helpers: anything but the emulator may
# import them, and they import nothing of ours but each other.
HELPERS = {f"sync.{p.stem}" for p in SYNC.glob("*.py") if p.stem not in ("__init__", "__main__")}
# What each package of sync/ may import from the others (its own package is always allowed).
LOW = {"sync"} | HELPERS  # the package itself (its version) and the plain helpers
ALLOWED: dict[str, set[str]] = {
    **{helper: {"sync"} | HELPERS for helper in HELPERS},
    "sync.domain": LOW,
    "sync.requests": LOW | {"sync.domain"},
    "sync.policy": LOW | {"sync.requests", "sync.domain"},
    "sync.cloud": LOW | {"sync.policy", "sync.requests", "sync.domain"},
    "sync.sources": LOW | {"sync.cloud", "sync.policy", "sync.requests", "sync.domain"},
    "sync.sweep": LOW | {"sync.cloud", "sync.policy", "sync.requests", "sync.domain"},
    "sync.function": LOW
    | {"sync.sweep", "sync.sources", "sync.cloud", "sync.policy", "sync.requests", "sync.domain"},
    "sync.cli": LOW
    | {"sync.function", "sync.sweep", "sync.sources", "sync.cloud", "sync.policy", "sync.requests"}
    | {"sync.domain", "sync.emulator"},
    "sync.emulator": {"sync.unixhttp"},
    "sync.__main__": {"sync.cli"},
}


def part_of(module: str) -> str:
    """The ALLOWED key a module belongs to: its package under sync/, or a top-level module."""
    pieces = module.split(".")
    return ".".join(pieces[:2])


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports(path: Path, module: str | None = None) -> set[str]:
    """Every sync module `path` (the module `module`) imports, at the top or inside a function."""
    found: set[str] = set()
    module = module or module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against this module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            if base == "sync":  # `from sync import logs` imports the module sync.logs
                found |= {f"sync.{a.name}" for a in node.names}
    return {m for m in found if m == "sync" or m.startswith("sync.")}


def allowed(source: str, target: str) -> bool:
    own = part_of(source)
    if part_of(target) == own:
        return True
    # "sync" alone is the package's __init__ (its version), not everything under it.
    return any(target == a or (a != "sync" and target.startswith(a + ".")) for a in ALLOWED[own])


def test_every_part_of_sync_has_a_rule() -> None:
    parts = {part_of(module_name(p)) for p in SYNC.rglob("*.py")} - {"sync"}
    assert parts <= set(ALLOWED), (
        f"new part of sync/ without a rule here and a Layout line: {parts - set(ALLOWED)}"
    )


def test_imports_point_one_way() -> None:
    wrong = []
    for path in sorted(SYNC.rglob("*.py")):
        source = module_name(path)
        if source == "sync":
            continue
        wrong += [f"{source} imports {t}" for t in sorted(imports(path)) if not allowed(source, t)]
    assert wrong == []


def test_only_the_command_line_imports_the_emulator() -> None:
    users = {
        module_name(p)
        for p in SYNC.rglob("*.py")
        if not module_name(p).startswith("sync.emulator")
        and any(t.startswith("sync.emulator") for t in imports(p))
    }
    assert users and all(u.startswith("sync.cli.") for u in users), users


def test_the_checker_sees_what_it_must(tmp_path: Path) -> None:
    # The rules must be able to fail: an upward and a lazy import are both caught.
    assert not allowed("sync.policy.planner", "sync.cloud.engine")
    assert not allowed("sync.requests.bodies", "sync.policy")
    assert not allowed("sync.domain.resources", "sync.requests.bodies")
    assert not allowed("sync.policy.decide", "sync.cloud.port")
    assert not allowed("sync.emulator.http", "sync.cloud.engine")
    assert not allowed("sync.function.handler", "sync.emulator")
    assert not allowed("sync.sweep.runner", "sync.sources.select")
    assert allowed("sync.emulator.functions", "sync.unixhttp")
    assert not allowed("sync.emulator.backend", "sync.policy.limits")
    source = tmp_path / "m.py"
    source.write_text(
        "def f():\n    from sync.cloud import engine\n    from sync import logs\n    from . import x\n"
    )
    assert imports(source, "sync.policy.m") == {"sync.cloud", "sync", "sync.logs", "sync.policy"}


def test_readme_layout_names_every_package() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = text[text.index("## Layout") :]
    layout = layout[: layout.index("\n## ", 1)]
    packages = {p.name for p in SYNC.iterdir() if (p / "__init__.py").is_file()}
    listed = set(re.findall(r"`sync/(\w+)/`", layout))
    assert listed == packages
