"""The claims run fails on committed results that a result-affecting setting of the profile no longer matches, and
passes again once the setting is restored: run as a user would, `pytest replication -m claims`, on the committed
results, with a changed copy of the tiny profile."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import lionrepro

ROOT = Path(lionrepro.__file__).resolve().parent.parent
TINY = ROOT / "lionrepro" / "profiles" / "tiny.toml"


def _claims_run(profile: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "LIONREPRO_PROFILE": str(profile), "HF_HUB_OFFLINE": "1"}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "replication",
        "-m",
        "claims",
        "-k",
        "fresh",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("steps = 1200\n", "steps = 1201\n", "[train] steps 1200 -> 1201"),
        ('[experiments.runs.recipe]\nwhat = "the paper\'s recipe: Algorithm 1\'s balanced rows, no language tags"\n'
         'rows = "balanced"', None, "[experiments.runs.recipe] rows 'balanced' -> 'train'"),
        ("scale = 0.02\n", "scale = 0.03\n", "[data] scale 0.02 -> 0.03"),
    ],
)  # fmt: skip
def test_a_changed_setting_makes_the_claims_run_fail_as_stale(old, new, named, tmp_path):
    text = TINY.read_text(encoding="utf-8")
    assert old in text, old
    changed = tmp_path / "tiny.toml"
    changed.write_text(text.replace(old, new if new is not None else old.replace('"balanced"', '"train"'), 1))
    done = _claims_run(changed)
    assert done.returncode != 0
    assert named in done.stdout and f"`lionrepro --profile {changed} experiments`" in done.stdout, done.stdout[-3000:]


@pytest.mark.slow
def test_the_restored_profile_passes(tmp_path):
    restored = tmp_path / "tiny.toml"
    restored.write_text(TINY.read_text(encoding="utf-8"))
    done = _claims_run(restored)
    assert done.returncode == 0, done.stdout[-3000:]
