"""The house: no import cycles, small modules and functions, a light config, and a README map
of the packages that cannot drift from the tree."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "appliance"
BUILD = ROOT / "models_tflite" / "build"
# the story of a frame: where it comes from, what is learned from it, how it is painted, where it goes
STORY = ["sources", "core", "analysis", "poses", "styles", "models", "effects", "paint", "outputs",
         "device", "schedule", "show", "web", "config", "app", "bench"]
MAP_START, MAP_END = "<!-- where-things-are -->", "<!-- /where-things-are -->"


def module_name(path: Path, base: Path) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(node: ast.AST, package: str) -> list[str]:
    """Every module an import statement names (a `from x import y` may name module x.y)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            up = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join(up + ([base] if base else []))
        return [base] + [f"{base}.{alias.name}" for alias in node.names]
    return []


def import_graph(root: Path) -> dict[str, set[str]]:
    """module -> the package's modules it imports anywhere (deferred, TYPE_CHECKING and all),
    plus the packages whose __init__ such an import runs."""
    modules = {module_name(p, root.parent): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in imported(node, package):
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if not target or target == name:
                    continue
                graph[name].add(target)
                parts = target.split(".")
                for i in range(1, len(parts)):
                    parent = ".".join(parts[:i])
                    if parent in modules and parent != name and not name.startswith(parent + "."):
                        graph[name].add(parent)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_counting_every_import():
    assert cycles(import_graph(PACKAGE)) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path):
    """The check above can fail: a deferred import back into a package is a cycle."""
    pkg = tmp_path / "appliance"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from appliance import b\n")
    (pkg / "b.py").write_text("def f():\n    from appliance.a import x\n")
    assert cycles(import_graph(pkg)) == [["appliance.a", "appliance.b"]]


def test_few_modules_at_the_top():
    top = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert len(top) <= 8, top


def long_functions(root: Path, limit: int = 60) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > limit:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return found


@pytest.mark.parametrize("root", [PACKAGE, BUILD], ids=["appliance", "models_tflite/build"])
def test_small_modules_and_small_functions(root):
    big = [f"{p.relative_to(ROOT)} ({n} lines)" for p in sorted(root.rglob("*.py"))
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500]
    assert big == []
    assert long_functions(root) == []


def loaded_by(code: str) -> set[str]:
    """The modules Python really imported running `code` in a fresh process: what -X importtime
    reports, and what sys.modules holds at exit (importlib.import_module, which the registry
    uses, bypasses importtime), leaving out modules bound lazily but never executed."""
    report = ("import sys, atexit; atexit.register(lambda: print('\\n'.join(n for n, m in "
              "list(sys.modules.items()) if type(m).__name__ != '_LazyModule'), file=sys.stderr))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", report + code], capture_output=True,
                            text=True, env=env, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.strip()}


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in ("cv2", "tflite_runtime", "ai_edge_litert", "tensorflow")}


def test_importing_the_config_loads_neither_opencv_nor_a_model_runtime():
    assert heavy(loaded_by("import appliance.config")) == set()


def test_config_check_loads_neither_opencv_nor_a_model_runtime():
    """The whole `appliance config check` of the example config, every effect's Params included."""
    modules = loaded_by("import sys; from appliance.app.cli import main; "
                        "sys.exit(main(['config', 'check', 'appliance/data/appliance.example.toml']))")
    assert heavy(modules) == set()
    assert "appliance.effects.anonymizer" in modules  # its Params were checked, not skipped


def test_the_import_check_sees_opencv_when_it_is_loaded():
    assert "cv2" in heavy(loaded_by("import appliance.models.pose"))


def package_summary(name: str) -> str:
    """The first line of a package's (or top-level module's) docstring."""
    path = PACKAGE / name / "__init__.py" if (PACKAGE / name).is_dir() else PACKAGE / f"{name}.py"
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def where_things_are() -> str:
    """The README's map, from the tree itself: every package and top-level module, in the order
    a frame travels, with the first line of its docstring."""
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("__"))
    assert sorted(STORY) == packages, "a new package needs its place in STORY (tests/system/test_layout.py)"
    lines = ["| where | what |", "|---|---|"]
    lines += [f"| `appliance/{name}/` | {package_summary(name)} |" for name in STORY]
    lines += [f"| `appliance/{name}.py` | {package_summary(name)} |" for name in modules]
    lines += [f"| `models_tflite/build/` | {ast.get_docstring(ast.parse((BUILD / '__init__.py').read_text())).splitlines()[0]} |",
              "| `tests/` | unit tests, named after the module they test; `tests/system/`: the commands, "
              "the deploy scripts, systemd and the bench, run for real |",
              "| `deploy/`, `systemd/` | the installer, image stage and checks; the service unit |"]
    return "\n".join(lines)


def test_the_readme_map_matches_the_tree():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(re.escape(MAP_START) + r"\n(.*?)\n" + re.escape(MAP_END), readme, re.S)
    assert match, f"README.md needs a {MAP_START} ... {MAP_END} section"
    expected = where_things_are()
    assert match.group(1) == expected, "README map out of date; it should read:\n" + expected
