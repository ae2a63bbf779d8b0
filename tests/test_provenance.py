"""Provenance names the code that made a result: "dirty" means uncommitted changes to source, never to what the
stages write (results/, tables/, models/, notebooks/), and no committed result was made by uncommitted code."""

import os
import platform
import re
import subprocess
from pathlib import Path

import pytest
import torch

from lionrepro import provenance


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    for path in ("lionrepro/a.py", "results/r.json", "tables/t.md", "models/m/train.json", "notebooks/n.ipynb"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("0\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "x")
    monkeypatch.setattr(provenance, "REPO_ROOT", tmp_path)
    return tmp_path


def test_outputs_never_make_the_tree_dirty(repo):
    for path in ("results/r.json", "tables/t.md", "models/m/train.json", "notebooks/n.ipynb"):
        (repo / path).write_text("changed\n")
    assert not provenance.git_commit().endswith("+dirty")


def test_a_source_change_does(repo):
    (repo / "lionrepro/a.py").write_text("changed\n")
    assert provenance.git_commit().endswith("+dirty")


def _says_dirty(text: str) -> bool:
    """Our provenance's `+dirty` commit stamp, or pytest-benchmark's `"dirty": true` in its commit_info."""
    return "+dirty" in text or re.search(r'"dirty":\s*true', text) is not None


def test_no_committed_result_says_dirty():
    tracked = subprocess.run(
        ["git", "ls-files", *provenance.OUTPUTS],
        cwd=provenance.REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    dirty = [
        path
        for path in tracked
        if path.endswith((".json", ".md", ".tex", ".csv", ".jsonl", ".html"))
        and _says_dirty((provenance.REPO_ROOT / path).read_text(encoding="utf-8"))
    ]
    assert not dirty, f"made by uncommitted code (re-make them at a clean commit): {dirty}"


def test_the_source_hash_follows_the_package_source():
    assert len(provenance.source_hash()) == 64
    assert provenance.provenance()["source_sha256"] == provenance.source_hash()


def test_a_result_made_elsewhere_is_traced_to_the_commit_whose_source_made_it(repo):
    committed = provenance.source_hash(repo / "lionrepro")
    (repo / "lionrepro/a.py").write_text("1\n")
    uncommitted = provenance.source_hash(repo / "lionrepro")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "y")
    hashes = provenance.commit_source_hashes(5, root=repo)
    assert set(hashes) == {committed, uncommitted} and len(set(hashes.values())) == 2
    (repo / "lionrepro/a.py").write_text("2\n")
    assert provenance.source_hash(repo / "lionrepro") not in hashes  # uncommitted code matches no commit


def test_a_cpu_device_names_its_model_and_cores(monkeypatch):
    """Timings are compared by device: two x86_64 CPUs of these sessions trained at different speeds."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists() and "model name" in cpuinfo.read_text():
        assert provenance.cpu_model() and provenance.cpu_model() in cpuinfo.read_text()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # the CPU's description, on any machine
    monkeypatch.setattr(provenance, "cpu_model", lambda: "Some CPU 9000")
    described = provenance.device_description()
    assert described.startswith("cpu: Some CPU 9000, ") and described.endswith(f", {os.cpu_count()} cores")
    monkeypatch.setattr(provenance, "cpu_model", lambda: None)
    assert provenance.device_description().startswith(f"cpu: {platform.processor() or platform.machine()}, ")
