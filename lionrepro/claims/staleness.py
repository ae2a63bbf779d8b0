"""Is a committed result still the result of this checkout's profile and data? The measured claims read results that
take minutes to hours to make, so `make test` never remakes them: it compares the inputs each one recorded with the
inputs the current profile, data and base would give, and fails on a result that no longer matches, naming what
changed and the command that refreshes it. Code that changed since is no reason: `code_changes` says which modules
did, for the report. Committed GPU measurements cannot be remade without a GPU and are not checked here.

The same history tells whether a check is post hoc: defined (by its name) in a commit that the results' commit does
not contain, so that it may have been written knowing them.
"""

from __future__ import annotations

import os
import subprocess
from functools import cache
from typing import Any

from lionrepro.asr.backends.source import resolve
from lionrepro.asr.recipe_runs import SUMMARY, base_option, experiment_inputs, experiments_dir
from lionrepro.corpora.data_record import data_record_path
from lionrepro.errors import UserError
from lionrepro.fingerprints import differences
from lionrepro.provenance import REPO_ROOT, read_json

# The profile a claims run checks the committed results against (`lionrepro --profile X claims` sets it)
PROFILE_VARIABLE = "LIONREPRO_PROFILE"


def command(stage: str) -> str:
    """`lionrepro STAGE` as the user of this claims run would type it: with `--profile X` outside the default."""
    profile = os.environ.get(PROFILE_VARIABLE, "tiny")
    return f"`lionrepro {'' if profile == 'tiny' else f'--profile {profile} '}{stage}`"


def stale_experiments(profile: dict[str, Any]) -> list[str]:
    """Why `<results>/experiments` is stale for `profile` (empty when it is fresh or absent). The manifests are
    compared only when the data stage has run here."""
    path = experiments_dir() / SUMMARY
    if not path.exists():
        return []
    summary = read_json(path)
    refresh = f"run {command('experiments')}"
    recorded = summary.get("inputs")
    if recorded is None:
        return [f"{path.parent} is stale: it records no inputs (made before fingerprints); {refresh}"]
    data = read_json(data_record_path()) if data_record_path().exists() else None
    recorded_base = summary.get("provenance", {}).get("base")  # the base the runs started from (--base included)
    name, option = (recorded_base, "the recorded base") if recorded_base else base_option(profile)
    try:
        base = resolve(name, option).folder if name else None
    except UserError as missing:
        base = None
        name = f"{name} ({missing})"
    if base is None:
        return [f"{path.parent} cannot be checked: no base checkpoint at {name}"]
    current = experiment_inputs(profile, data, base)
    if data is None:
        recorded, current = {**recorded, "manifests": None}, {**current, "manifests": None}
    changed = differences(recorded, current)
    return [f"{path.parent} is stale: {'; '.join(changed)}; {refresh}"] if changed else []


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)


# Where measured checks are defined, under every name their modules have had
MEASURED_SOURCES = (":(glob)lionrepro/**/*measured*.py", ":(glob)lionrepro/**/experiment_claims.py")


@cache
def introduced_in(name: str) -> str | None:
    """The first commit whose measured-check source holds `name` (a check's name), by git's pickaxe; None without
    git. A check is known by its name: a rule that changes takes a new name, so that this sees it."""
    done = _git("log", "-S", name, "--format=%H", "--reverse", "--", *MEASURED_SOURCES)
    commits = done.stdout.split() if done.returncode == 0 else []
    return commits[0] if commits else None


def post_hoc(name: str, results_commit: str) -> str:
    """Why a check named `name` is post hoc for results made at `results_commit` (it entered the repository in a
    commit the results' commit does not contain), or "" when it was there first or git cannot tell."""
    introduced, made = introduced_in(name), results_commit.removesuffix("+dirty")
    if introduced is None or made in ("", "unknown"):
        return ""
    if _git("merge-base", "--is-ancestor", introduced, made).returncode == 0:
        return ""
    return f"defined at commit {introduced[:12]}, after its results (commit {made[:12]})"


@cache
def code_changes(commit: str) -> tuple[str, ...]:
    """The package's modules that changed between the commit a result names and the checkout (empty when none did,
    or when git cannot tell)."""
    done = _git("diff", "--name-only", commit.removesuffix("+dirty"), "--", "lionrepro")
    return tuple(sorted(done.stdout.split())) if done.returncode == 0 else ()


def made_by(provenance: dict[str, Any]) -> str:
    """`made by code X` with the modules changed since, for the report next to a verdict."""
    commit = provenance.get("commit", "unknown")
    changed = code_changes(commit)
    since = f"; changed since in {len(changed)} modules ({', '.join(changed[:6])}{', ...' if len(changed) > 6 else ''})"
    return f"made by code {commit[:12]}" + (since if changed else "; unchanged since")
