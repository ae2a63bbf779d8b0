"""Imports go downward only: a module imports from its own wing or from a floor below it, and no stage imports
another stage. Read from the source (every `import`, nested ones included, and every module named in a string, which
is how `cli` dispatches to the stages), so a lazy import cannot hide an upward one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import lionrepro
from lionrepro.stages.cli import STAGES

PACKAGE = Path(lionrepro.__file__).parent
# Bottom floor first; each wing may import its own modules and those of the floors below it.
FLOORS = ("ground", "paper", "corpora", "asr", "speed", "claims", "report", "stages")
GROUND = ("__init__", "config", "provenance", "languages", "profiles", "errors", "fingerprints")
PAPER = ("paper", "paper_data")
# Modules of the stages wing that are shared code, not stages: `cli` dispatches to the stages, `options` holds the
# arguments several stages share.
STAGE_HELPERS = {"lionrepro.stages.cli", "lionrepro.stages.options", "lionrepro.stages"}
_DOTTED = re.compile(r"lionrepro(\.\w+)+")


def module_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def exists(module: str) -> bool:
    relative = Path(*module.split("."))
    return (PACKAGE.parent / relative).with_suffix(".py").exists() or (PACKAGE.parent / relative).is_dir()


def wing(module: str) -> str:
    """The wing a module of the package belongs to."""
    parts = module.split(".")[1:]
    if not parts or parts[0] in GROUND:
        return "ground"
    if parts[0] in PAPER:
        return "paper"
    if parts[0] in FLOORS:
        return parts[0]
    raise AssertionError(f"{module} belongs to no wing: move it into one (see lionrepro/__init__.py)")


def imports_of(module: str, source: str) -> list[tuple[int, str]]:
    """(line, module) for every package module that `source` imports, statically or by a string naming it."""
    found = []
    package = module if _is_package(module) else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # `from . import x` in lionrepro.asr.y is lionrepro.asr.x
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:  # `from lionrepro import paper` imports the module lionrepro.paper
                candidate = f"{base}.{alias.name}"
                found.append((node.lineno, candidate if exists(candidate) else base))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _DOTTED.fullmatch(node.value):
            if exists(node.value):
                found.append((node.lineno, node.value))
    return [(line, name) for line, name in found if name == "lionrepro" or name.startswith("lionrepro.")]


def _is_package(module: str) -> bool:
    return (PACKAGE.parent / Path(*module.split("."))).is_dir()


def violations(module: str, source: str) -> list[str]:
    """Every upward import in `source` (the module `module`), and every stage that imports another stage."""
    stages = {name for name, _ in STAGES.values()}
    mine = wing(module)
    problems = []
    for line, target in imports_of(module, source):
        theirs = wing(target)
        if FLOORS.index(theirs) > FLOORS.index(mine):
            problems.append(f"{module}:{line} imports {target}: wing {theirs!r} is above {mine!r}")
        elif target in stages and target != module and module not in STAGE_HELPERS:
            problems.append(f"{module}:{line} imports the stage {target}: call the wing's function instead")
    return problems


def package_modules() -> dict[str, str]:
    return {module_of(path): path.read_text(encoding="utf-8") for path in sorted(PACKAGE.rglob("*.py"))}


def test_no_module_imports_upward_and_no_stage_imports_another():
    problems = [problem for module, source in package_modules().items() for problem in violations(module, source)]
    assert not problems, "imports against the floors:\n" + "\n".join(problems)


def test_every_module_is_in_a_wing():
    for module in package_modules():
        wing(module)


def test_the_cli_dispatch_is_read_as_imports():
    """`cli` imports the stages by name; the walk sees each of them, so a stage can never hide in a string."""
    source = (PACKAGE / "stages" / "cli.py").read_text(encoding="utf-8")
    seen = {name for _, name in imports_of("lionrepro.stages.cli", source)}
    assert {name for name, _ in STAGES.values()} <= seen


@pytest.mark.parametrize(
    ("module", "source", "named"),
    [
        ("lionrepro.corpora.fake", "from lionrepro.asr import model\n", "lionrepro.asr.model"),
        ("lionrepro.asr.fake", "def f():\n    from lionrepro.speed.latency import clip_durations\n", "speed.latency"),
        ("lionrepro.claims.fake", "import importlib\nimportlib.import_module('lionrepro.report.table_rendering')\n",
         "lionrepro.report.table_rendering"),
        ("lionrepro.paper", "from lionrepro.corpora import manifest\n", "lionrepro.corpora.manifest"),
        ("lionrepro.config", "from lionrepro import paper\n", "lionrepro.paper"),
        ("lionrepro.report.fake", "from lionrepro.stages import train\n", "lionrepro.stages.train"),
        ("lionrepro.stages.fake", "from lionrepro.stages.train import run\n", "the stage lionrepro.stages.train"),
        ("lionrepro.claims.fake", "from .. import stages\n", "lionrepro.stages"),
    ],
)  # fmt: skip
def test_an_upward_import_is_named(module, source, named):
    problems = violations(module, source)
    assert len(problems) == 1 and named in problems[0], problems


def test_downward_and_same_wing_imports_pass():
    source = "from lionrepro.corpora import manifest\nfrom lionrepro import paper, provenance\nfrom . import scoring\n"
    assert violations("lionrepro.asr.fake", source) == []
    assert violations("lionrepro.stages.fake", "from lionrepro.stages.options import add_training_arguments\n") == []
