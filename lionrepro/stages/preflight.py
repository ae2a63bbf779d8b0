"""What `train` and `experiments` need before they start, checked together and answered in one line: a base
checkpoint (a folder in either Qwen3-ASR layout, or a hub id found in the local Hugging Face cache), the data stage's
manifests, and the GPU the profile trains on. Not a stage: the two stages import it. Checked before anything loads,
so that a user missing three things learns of all three at once, not one per multi-minute attempt (loading a 1.7B
model only to find no manifest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lionrepro.asr.backends.source import ModelSource, resolve
from lionrepro.asr.device import select_device
from lionrepro.asr.recipe_runs import base_option
from lionrepro.corpora.data_record import data_record_path
from lionrepro.errors import UserError
from lionrepro.provenance import read_json


def _base(profile: dict[str, Any], given: str | None) -> tuple[ModelSource | None, str | None]:
    name, option = base_option(profile, given)
    if name is None:
        return None, "no base checkpoint: pass --base ID_OR_DIR or set [pretrain] base in the profile"
    try:
        return resolve(name, option), None
    except UserError as error:
        hint = "; `lionrepro pretrain-base` makes it" if option == "[pretrain] out" else ""
        return None, f"no base checkpoint: {error}{hint}"


def _manifests(profile_option: str, profile: dict[str, Any], splits: tuple[str, ...]) -> str | None:
    """Why the data stage's manifests of `splits` (`balanced`: Algorithm 1's) are not all there, or None."""
    corpora = " --corpora-dir ROOT" if profile.get("data", {}).get("corpus") == "real" else ""
    command = f"run `lionrepro --profile {profile_option} data{corpora}` first"
    path = data_record_path()
    if not path.exists():
        return f"no manifests: {path} not found; {command}"
    record = read_json(path)
    paths = {"balanced": record.get("balanced_manifest"), **record.get("manifests", {})}
    absent = [split for split in splits if not paths.get(split) or not Path(paths[split]).exists()]
    if absent:
        return f"no {', '.join(absent)} manifest in {path}; {command} (with the train and test splits)"
    return None


def _gpu(device: str | None, option: str) -> str | None:
    """Why the device asked for cannot be had (a GPU where torch sees none), or None."""
    try:
        select_device(device)
    except UserError as error:
        if option == "--device":
            return f"no GPU: {error}"
        return (
            f"no GPU: the profile trains on {device} ({option}) and torch sees none here: pass --device cpu to train "
            "on the CPU anyway"
        )
    return None


def check(
    profile_option: str,
    profile: dict[str, Any],
    *,
    base: str | None,
    splits: tuple[str, ...],
    device: str | None,
    manifest: Path | None = None,
) -> ModelSource:
    """The resolved base, or a UserError naming everything missing at once: the base (`base`, or the profile's),
    the data stage's manifests of `splits`, the `manifest` given instead of them, the device (`device`, else the
    profile's `[train] device`)."""
    source, base_problem = _base(profile, base)
    option = "--device" if device else "[train] device"
    problems = [
        base_problem,
        _manifests(profile_option, profile, splits) if splits else None,
        f"no manifest at {manifest}" if manifest is not None and not Path(manifest).is_file() else None,
        _gpu(device or profile.get("train", {}).get("device"), option),
    ]
    found = [problem for problem in problems if problem]
    if found:
        raise UserError("; ".join(found))
    assert source is not None
    return source
