"""Provenance for every results file, and the one way results files are written (write, then rename).

Every number in a table or a verdict must be traceable to the code, commit, machine and configuration that made
it; a crash must never leave a half-written results file behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
_PACKAGES = ("torch", "transformers", "numpy", "jiwer", "datasets", "lionrepro")


# Folders that hold what the code makes, never code: changes there do not make the tree "dirty", or a stage's own first
# output would mark everything written after it as made by uncommitted code.
OUTPUTS = ("results", "tables", "models", "notebooks")


def git_commit() -> str:
    """The commit the working tree is at, with `+dirty` when its source (anything outside OUTPUTS) has uncommitted
    changes; `$LIONREPRO_COMMIT` or `unknown` outside git."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *(f":(exclude){o}" for o in OUTPUTS)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("LIONREPRO_COMMIT", "unknown")
    return sha + ("+dirty" if dirty else "")


def source_hash(package: Path | None = None) -> str:
    """sha256 over the package's source and package data (paths and bytes, sorted): the code that made a result,
    whether or not it was committed. `package`: another copy of the package folder (default: this one)."""
    package = package or Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def commit_source_hashes(count: int, root: Path = REPO_ROOT) -> dict[str, str]:
    """`source_hash` of the package at each of the last `count` commits of `root` (hash -> the oldest commit with it):
    which commit's source made a result whose git stamp cannot be trusted (a copy made elsewhere)."""
    commits = subprocess.run(
        ["git", "rev-list", f"--max-count={count}", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    hashes = {}
    for commit in commits:
        archive = subprocess.run(["git", "archive", commit, "lionrepro"], cwd=root, capture_output=True, check=True)
        with tempfile.TemporaryDirectory() as folder:
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(folder, filter="data")
            hashes[source_hash(Path(folder) / "lionrepro")] = commit
    return hashes


def package_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def device_description() -> str:
    """The accelerator if torch sees one, else the CPU (its model, where the system names it) with its core count:
    two CPUs of the same architecture can train at very different speeds, and timings are compared by device."""
    try:
        import torch

        if torch.cuda.is_available():
            return f"cuda: {torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    except ImportError:
        pass
    model = cpu_model()
    architecture = platform.processor() or platform.machine()
    return f"cpu: {f'{model}, ' if model else ''}{architecture}, {os.cpu_count()} cores"


def cpu_model() -> str | None:
    """The CPU's model name from /proc/cpuinfo (Linux), else None."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else None


def provenance(**fields: Any) -> dict[str, Any]:
    """The provenance block: commit, versions, device, host, time, plus the caller's fields (profile, seed, config)."""
    return {
        "commit": git_commit(),
        "source_sha256": source_hash(),
        "versions": package_versions(),
        "device": device_description(),
        "host": platform.node(),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **fields,
    }


def write_text_atomic(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, payload: Any) -> None:
    write_text_atomic(path, json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


RESULTS_VARIABLE = "LIONREPRO_RESULTS"


def results_dir() -> Path:
    """Where run outputs go: $LIONREPRO_RESULTS (the command line sets it from the profile's `results_dir` unless it is
    set already), else `results/` under the current directory (the project root)."""
    return Path(os.environ.get(RESULTS_VARIABLE, "results"))
