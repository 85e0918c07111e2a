"""Prune a `pip install --target DIR -r requirements.txt` tree to what the function imports.

The `oci` wheel carries ~200 service packages (~500 MB installed). The function's own clients
(Block Storage, Identity, Object Storage, Monitoring, Functions invoke) are built on the SDK's
`BaseClient` (sync/cloud/lean.py), so it imports no generated service. This keeps whatever
services --keep names (none by default), every non-service part of the
SDK (auth, signer, retry, vendored requests...) and any service a kept module imports, and
deletes the rest. Kept modules are scanned with `ast` (imports, relative imports and `oci.X`
attribute uses, repeated until nothing new appears), so names in docstrings and comments
(`oci.core.models...` in oci/util.py) keep nothing. It also deletes packages that `fdk` drags
in for its own test suite (pytest, Cython, setuptools...), which nothing imports at run time,
and the HSM signer's optional dependencies (pkcs11, asn1crypto), which the SDK does without.

    python tools/prune_oci.py DIR [--keep functions] [--dry-run]

Used by the Dockerfile's build stage. The integration tests run against a pruned tree with
`tests/bench/bench_size.py` (see tests/bench/RESULTS.md), which is the proof it still works;
tests/test_prune_oci.py checks that DEFAULT_SERVICES covers every service sync/ imports.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import sys
from pathlib import Path

# Generated services the function imports (grep `from oci` in sync/, not emulator/ or cli/).
DEFAULT_SERVICES: tuple[str, ...] = ()

# Installed only because fdk 0.1.128 lists its test tools as dependencies (and pbr needs
# setuptools); the function never imports them. Names are top-level entries in DIR.
DEV_ONLY = (
    "pytest",
    "_pytest",
    "py.py",
    "pytest_asyncio",
    "pluggy",
    "iniconfig",
    "Cython",
    "cython.py",
    "pyximport",
    "pygments",
    "setuptools",
    "pkg_resources",
    "_distutils_hack",
    "distutils-precedence.pth",
    "wheel",
)
# The SDK's HSM signer's dependencies: `oci.auth.signers` imports the PKCS#11 signer inside a
# try/except that accepts their absence ("Some environments do not have optional PKCS#11
# dependencies installed"); the function signs with API keys or resource principals. Left out,
# `import oci` loads ~2 MB less (tests/bench/bench_pkcs11.py). Removed with or without --keep-dev.
UNUSED_EXTRAS = ("pkcs11", "asn1crypto")
UNUSED_EXTRAS_DISTS = ("python_pkcs11", "asn1crypto")
DEV_ONLY_DISTS = (
    "pytest",
    "pytest_asyncio",
    "pluggy",
    "iniconfig",
    "cython",
    "pygments",
    "setuptools",
    "wheel",
)

_OCI_REF = re.compile(
    r"\b(?:from|import)\s+oci\.([A-Za-z_][A-Za-z0-9_]*)"
    r"|\bfrom\s+oci\s+import\s+([A-Za-z_][A-Za-z0-9_, ()\n]*)"
    r"|\boci\.([A-Za-z_][A-Za-z0-9_]*)\."
)


def dir_size(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def service_packages(oci_dir: Path) -> set[str]:
    """oci sub-packages that are services: each has a models/ package (auth, retry... do not)."""
    return {p.name for p in oci_dir.iterdir() if p.is_dir() and (p / "models").is_dir()}


def _package_of(file: Path, root: Path) -> list[str]:
    """The package a relative import in `file` starts from (`root` holds oci/)."""
    return list(file.relative_to(root).parts[:-1])


def _names_in(tree: ast.AST, package: list[str], skip_relative: bool) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "oci" and len(parts) > 1:
                    names.add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if skip_relative or len(package) < node.level - 1:
                    continue
                base = package[: len(package) - (node.level - 1)]
                module = base + (node.module.split(".") if node.module else [])
            else:
                module = (node.module or "").split(".")
            if module[0] != "oci":
                continue
            if len(module) > 1:
                names.add(module[1])
            else:
                names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "oci":
            names.add(node.attr)
    return names


def referenced(paths: list[Path], root: Path | None = None) -> set[str]:
    """Names `X` of every `oci.X` the code in `paths` imports or uses (relative imports resolved
    against `root`, the directory holding oci/). Text that does not parse is matched with a
    regex instead, which keeps more, never less."""
    names: set[str] = set()
    for path in paths:
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            text = file.read_text(encoding="utf-8", errors="replace")
            try:
                tree = ast.parse(text)
            except (SyntaxError, ValueError):
                names |= _regex_names(text)
                continue
            package = _package_of(file, root) if root is not None else []
            # oci/__init__.py imports every service eagerly only when OCI_PYTHON_SDK_LAZY_IMPORTS_DISABLED
            # is set (the function never sets it); otherwise its __getattr__ loads them on use.
            skip = package == ["oci"]
            names |= _names_in(tree, package, skip_relative=skip)
    return names


def _regex_names(text: str) -> set[str]:
    names: set[str] = set()
    for m in _OCI_REF.finditer(text):
        if m.group(1):
            names.add(m.group(1))
        elif m.group(2):
            names.update(n.strip() for n in re.split(r"[,()\s]+", m.group(2)) if n.strip())
        elif m.group(3):
            names.add(m.group(3))
    return names


def services_to_keep(oci_dir: Path, wanted: list[str]) -> set[str]:
    services = service_packages(oci_dir)
    unknown = [s for s in wanted if s not in services]
    if unknown:
        raise SystemExit(f"not oci service packages: {', '.join(unknown)}")
    keep = set(wanted)
    infra = [p for p in oci_dir.iterdir() if p.name not in services and p.name != "__pycache__"]
    scanned: set[str] = set()
    frontier = [p for p in infra if p.suffix == ".py" or p.is_dir()] + [oci_dir / s for s in keep]
    while frontier:
        found = referenced(frontier, oci_dir.parent) & services
        scanned.update(p.name for p in frontier)
        new = found - keep
        keep |= new
        frontier = [oci_dir / s for s in new if s not in scanned]
    return keep


def prune(target: Path, wanted: list[str], dry_run: bool = False, dev_only: bool = True) -> dict[str, int]:
    oci_dir = target / "oci"
    if not (oci_dir / "__init__.py").is_file():
        raise SystemExit(f"{target} has no oci package: run pip install --target {target} first")
    if oci_dir.is_symlink():  # deleting services through a link would prune the tree it points to
        raise SystemExit(f"{oci_dir} is a symlink: prune a tree of its own (pip install --target)")
    before = dir_size(target)
    keep = services_to_keep(oci_dir, wanted)
    doomed = [oci_dir / s for s in sorted(service_packages(oci_dir) - keep)]
    doomed += [target / name for name in UNUSED_EXTRAS if (target / name).exists()]
    doomed += [d for d in target.glob("*.dist-info") if d.name.split("-")[0].lower() in UNUSED_EXTRAS_DISTS]
    if dev_only:
        doomed += [target / name for name in DEV_ONLY if (target / name).exists()]
        for dist in target.glob("*.dist-info"):
            project = dist.name.split("-")[0].lower()
            if project in DEV_ONLY_DISTS:
                doomed.append(dist)
    # The SDK's stale bytecode for deleted services lives in oci/__pycache__ only for
    # top-level modules, which are all kept; service caches go with their directories.
    for path in doomed:
        if dry_run:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    after = before if dry_run else dir_size(target)
    print(f"kept oci services: {', '.join(sorted(keep))}")
    print(f"removed {len(doomed)} entries; {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
    return {"before": before, "after": after, "removed": len(doomed)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Prune an installed oci SDK to the services used.")
    parser.add_argument("target", type=Path, help="the pip install --target directory")
    parser.add_argument("--keep", default=",".join(DEFAULT_SERVICES), help="oci services to keep")
    parser.add_argument("--keep-dev", action="store_true", help="keep fdk's test-only dependencies")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    wanted = [s.strip() for s in args.keep.split(",") if s.strip()]
    prune(args.target, wanted, dry_run=args.dry_run, dev_only=not args.keep_dev)
    return 0


if __name__ == "__main__":
    sys.exit(main())
