"""An installed wheel carries its package data (the paper's tables, the profiles, the claims and the corpus registry)
and finds it from its new places in the wings: built from a copy of the source, offline, and imported from where the
wheel was unpacked, never from this checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import lionrepro

ROOT = Path(lionrepro.__file__).resolve().parent.parent
DATA = [
    "lionrepro/paper_data/table1_datasets.csv",
    "lionrepro/paper_data/table2_error_rates.csv",
    "lionrepro/paper_data/table3_latency.csv",
    "lionrepro/paper_data/table4_cost.csv",
    "lionrepro/profiles/tiny.toml",
    "lionrepro/profiles/paper.toml",
    "lionrepro/claims/claims.toml",
    "lionrepro/corpora/corpora.toml",
]
# Run from the unpacked wheel: every kind of package data, read through the code that reads it.
READ_EVERYTHING = """
import lionrepro, sys
from pathlib import Path
assert Path(lionrepro.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve()), lionrepro.__file__
from lionrepro import paper
from lionrepro.config import load_profile
from lionrepro.claims.verdicts import claims
from lionrepro.corpora.registry import registry
assert len(paper.table1()) == 12 and paper.table2() and paper.table3() and paper.table4()
assert load_profile("tiny")["name"] == "tiny" and load_profile("paper")["name"] == "paper"
assert "balanced_counts" in claims()
assert len(registry()) == 12
print("read", lionrepro.__file__)
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "lionrepro", source / "lionrepro", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", dist,
         source],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (built,) = dist.glob("lionrepro-*.whl")
    return built


def test_the_wheel_holds_every_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [path for path in DATA if path not in names]
    assert not missing, f"not in {wheel.name}: {missing}"
    assert "lionrepro/corpora/lion12/synth.py" in names and "lionrepro/stages/cli.py" in names


def test_an_installed_wheel_finds_its_data(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", READ_EVERYTHING, str(site)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert str(site) in done.stdout
