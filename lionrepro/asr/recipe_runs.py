"""The paper's recipe and its ablations, fine-tuned from one base and scored on one test split.

Every run starts from the same base checkpoint with the same training settings (the same number of optimizer steps:
equal budgets) and differs only in what its `[experiments.runs.NAME]` table says: which training rows (`balanced`:
Algorithm 1's manifest; `train`: natural proportions), which languages, and whether the targets carry language tags.
The base is scored too. Each run lives in `<root>/NAME/` (training files and `eval/`); training resumes from its
checkpoints and a finished run is not retrained, so an interrupted command picks up where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lionrepro.asr.backends.source import resolve
from lionrepro.asr.evaluation import RESULTS_FILE, score_checkpoint
from lionrepro.asr.finetuning import RECORD, run_training
from lionrepro.asr.model import load_checkpoint
from lionrepro.asr.training_loop import FINAL_MODEL, NOT_RESULT_AFFECTING, TrainConfig, run_fingerprint
from lionrepro.corpora.lion12.build import NOT_TABLE1_AFFECTING
from lionrepro.corpora.manifest import manifest_fingerprint, read_manifest
from lionrepro.fingerprints import differences
from lionrepro.provenance import read_json, results_dir

BASE = "base"
ROWS = ("balanced", "train")
SUMMARY = "summary.json"


# `[evaluate]` settings that leave every hypothesis as it is (batched decoding equals one at a time:
# tests/test_evaluate.py)
_NOT_SCORE_AFFECTING = ("batch_size",)


def base_option(profile: dict[str, Any], given: str | None = None) -> tuple[str | None, str]:
    """(the base the runs start from, where it was named): `given` (--base), else the profile's `[pretrain] base` (a
    hub id or folder: the paper profile's released Qwen3-ASR), else `model/` under its `[pretrain] out` (the tiny
    profile's own base, made by `lionrepro pretrain-base`); (None, "--base") when the profile names none.
    `lionrepro.asr.backends.source.resolve` turns the name into a folder."""
    if given:
        return given, "--base"
    pretrain = profile.get("pretrain", {})
    if "base" in pretrain:
        return pretrain["base"], "[pretrain] base"
    if "out" in pretrain:
        return str(Path(pretrain["out"]) / FINAL_MODEL), "[pretrain] out"
    return None, "--base"


def weights_sha256(checkpoint: Path) -> str:
    """The sha256 of a checkpoint's weights: of its `model.safetensors` when that is its one weights file (this
    project's checkpoints, and what every record so far names), else the digest over each weights file's name and
    sha256 (a released checkpoint in shards)."""
    source = resolve(str(checkpoint))
    if list(source.weights) == ["model.safetensors"]:
        return source.weights["model.safetensors"]
    return source.weights_sha256


def experiments_dir() -> Path:
    """Where `lionrepro experiments` keeps its runs and its `summary.json` by default."""
    return results_dir() / "experiments"


def experiment_inputs(
    profile: dict[str, Any], data: dict[str, Any] | None, base: Path, train_overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What every number in `summary.json` depends on, besides the code: the profile values that shape the corpus,
    the training (with the command line's overrides of `[train]`, e.g. a study's `--lr`) and the scoring, the
    manifests' content (None when the data stage has not run here) and the base."""
    train = {**profile.get("train", {}), **{k: v for k, v in (train_overrides or {}).items() if v is not None}}
    sections = {
        "data": {k: v for k, v in profile.get("data", {}).items() if k not in NOT_TABLE1_AFFECTING},
        "balance": profile.get("balance", {}),
        "train": {k: v for k, v in train.items() if k not in NOT_RESULT_AFFECTING},
        "evaluate": {k: v for k, v in profile.get("evaluate", {}).items() if k not in _NOT_SCORE_AFFECTING},
        "experiments": profile.get("experiments", {}),
    }
    manifests = None
    if data is not None:
        paths = {
            "train": data["manifests"]["train"],
            "balanced": data["balanced_manifest"],
            "test": data["manifests"]["test"],
        }
        manifests = {name: manifest_fingerprint(Path(path)) for name, path in paths.items()}
    return json.loads(
        json.dumps(
            {
                "profile": {"seed": profile["seed"], **sections},
                "manifests": manifests,
                "base_sha256": weights_sha256(base),
            }
        )
    )


def training_rows(run: dict[str, Any], summary: dict[str, Any]) -> tuple[Path, list[dict]]:
    """The manifest a run names (`rows`), restricted to its `languages` when it lists them."""
    if run["rows"] not in ROWS:
        raise ValueError(f"unknown rows {run['rows']!r}: use one of {ROWS}")
    manifest = Path(summary["balanced_manifest"] if run["rows"] == "balanced" else summary["manifests"]["train"])
    rows = read_manifest(manifest)
    if "languages" in run:
        rows = [row for row in rows if row["language"] in set(run["languages"])]
    return manifest, rows


def finished(out: Path, fingerprint: dict[str, Any]) -> bool:
    """A finished run in `out` made with exactly these inputs (settings, rows, base weights)."""
    record = out / RECORD
    return (
        record.exists()
        and read_json(record)["result"].get("fingerprint") == fingerprint
        and (out / FINAL_MODEL / "model.safetensors").exists()
    )


def planned_run(
    run: dict[str, Any], config: TrainConfig, base: Path, data: dict[str, Any]
) -> tuple[Path, list[dict], Any, Any, dict[str, Any]]:
    """(manifest, rows, model, processor, fingerprint) of the run that `run` and `config` describe, from `base`."""
    manifest, rows = training_rows(run, data)
    model, processor = load_checkpoint(base)
    return manifest, rows, model, processor, run_fingerprint(config, rows, model)


def train_run(
    name: str, run: dict[str, Any], config: TrainConfig, profile: dict, base: Path, out: Path, data: dict[str, Any]
) -> None:
    """Fine-tune `base` as the run's table says, unless `out` holds this very run finished already. A finished run of
    other inputs is never overwritten: it is refused, with what differs."""
    manifest, rows, model, processor, fingerprint = planned_run(run, config, base, data)
    if finished(out, fingerprint):
        print(f"{name}: trained already ({out / RECORD})")
        return
    recorded = read_json(out / RECORD)["result"].get("fingerprint") if (out / RECORD).exists() else fingerprint
    if recorded != fingerprint:  # the same inputs without their weights (a fresh clone) are simply trained again
        what = "; ".join(differences(recorded, fingerprint)) if recorded else "it records no fingerprint"
        raise SystemExit(f"{out} holds a {name} run made with other inputs ({what}): delete {out} to retrain it")
    print(f"{name}: {run['what']} - {len(rows)} rows of {manifest.name}, {config.steps} steps, tags {config.tags}")
    status = run_training(
        config,
        model,
        processor,
        rows,
        out,
        profile,
        stage="experiments",
        experiment=name,
        what=run["what"],
        base=str(base),
        manifest=str(manifest),
        languages=sorted({row["language"] for row in rows}),
    )
    if status != 0:
        raise SystemExit(f"{name}: training failed (status {status})")


def score_run(
    name: str, checkpoint: Path, out: Path, profile: dict, test_manifest: Path, *, device: str | None, progress: bool
) -> dict[str, Any]:
    """Score a checkpoint on the test split, or reuse the scores made with these very inputs: the same weights, the
    same test manifest content and the same decoding settings that shape hypotheses."""
    section = profile.get("evaluate", {})
    inputs = {
        "checkpoint_sha256": weights_sha256(checkpoint),
        "manifest_sha256": manifest_fingerprint(test_manifest),
        "evaluate": json.loads(json.dumps({k: v for k, v in section.items() if k not in _NOT_SCORE_AFFECTING})),
    }
    results_path = out / RESULTS_FILE
    if results_path.exists() and read_json(results_path)["provenance"].get("inputs") == inputs:
        return read_json(results_path)
    results = score_checkpoint(
        checkpoint,
        test_manifest,
        out,
        profile,
        seed=profile["seed"],
        device=device,
        progress=progress,
        stage="experiments",
        experiment=name,
        inputs=inputs,
    )
    average = results["average_12"]  # None unless all 12 test sets were read (a partial copy of the corpora)
    print(
        f"{name}: 12-benchmark average {'n/a' if average is None else f'{average:.2f}'}; "
        + ", ".join(f"{code} {entry['average']:.1f}" for code, entry in results["languages"].items())
        + f"; in the spoken language {100 * results['implicit_lid']['overall']:.1f}%"
    )
    return results


def scores(results: dict[str, Any], out: Path) -> dict[str, Any]:
    return {
        "results": str(out / RESULTS_FILE),
        "average_12": results["average_12"],
        "languages": {code: entry["average"] for code, entry in results["languages"].items()},
        "benchmarks": results["benchmarks"],
        "implicit_lid": results["implicit_lid"],
    }


def run_all(
    runs: dict[str, dict[str, Any]],
    chosen: list[str],
    config_of: Callable[[dict[str, Any]], TrainConfig],
    profile: dict,
    base: Path,
    root: Path,
    data: dict[str, Any],
    *,
    device: str | None,
    progress: bool,
) -> dict[str, dict[str, Any]]:
    """Score the base, train the `chosen` runs (each with `config_of(run)`) and score every finished run: one entry
    per run for the summary. The runs not chosen still enter it when they finished before."""
    test_manifest = Path(data["manifests"]["test"])
    entries: dict[str, dict[str, Any]] = {
        BASE: {"what": "the base checkpoint, not fine-tuned", "checkpoint": str(base)}
    }
    base_eval = root / BASE / "eval"
    base_results = score_run(BASE, base, base_eval, profile, test_manifest, device=device, progress=progress)
    entries[BASE].update(scores(base_results, base_eval))
    for name, run in runs.items():
        out, config = root / name, config_of(run)
        if name in chosen:
            train_run(name, run, config, profile, base, out, data)
        elif not finished(out, planned_run(run, config, base, data)[-1]):
            continue
        results = score_run(
            name, out / FINAL_MODEL, out / "eval", profile, test_manifest, device=device, progress=progress
        )
        record = read_json(out / RECORD)
        entries[name] = {
            **run,
            "checkpoint": str(out / FINAL_MODEL),
            "train_record": str(out / RECORD),
            "train_wall_s": record["result"]["wall_s"],
            "steps": record["result"]["steps"],
            "stopped_by": record["result"]["stopped_by"],
            **scores(results, out / "eval"),
        }
    return entries
